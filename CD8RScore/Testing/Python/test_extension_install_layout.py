"""The files of the extension's two modules keep distinct names once installed.

slicerMacroBuildScriptedModule copies every module's scripts and resources into the one folder of scripted modules,
keeping their paths relative to the module folder (Slicer v5.8.0 CMake/SlicerMacroBuildScriptedModule.cmake, CTK
82cae57 CMake/ctkMacroCompilePythonScript.cmake: copy of <module dir>/<file> to <destination>/<file>): two modules
with a Resources/requirements.txt each make Ninja refuse to generate, and Makefiles keep one of the two files.
"""
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
MODULES = ("CD8RScore", "CD8RScoreCohort")


def installed_files(module: str) -> list[str]:
    """Paths, relative to the scripted-modules folder, of the scripts and resources a module's CMakeLists installs."""
    text = (REPO / module / "CMakeLists.txt").read_text(encoding="utf-8")
    files = []
    for variable in ("MODULE_PYTHON_SCRIPTS", "MODULE_PYTHON_RESOURCES"):
        body = re.search(rf"set\({variable}\s+(.*?)\)", text, re.S).group(1)
        files += [word.replace("${MODULE_NAME}", module) for word in body.split()]
    return files


def test_every_installed_file_name_is_unique_across_the_modules():
    owner: dict[str, str] = {}
    clashes = []
    for module in MODULES:
        for path in installed_files(module):
            key = path.lower()  # Windows and macOS file systems ignore case
            if key in owner:
                clashes.append(f"{path} ({owner[key]} and {module})")
            owner[key] = module
    assert not clashes, "installed by two modules into one folder: " + "; ".join(clashes)


def test_every_resource_of_a_module_folder_is_installed():
    """What the uniqueness test checks is what is installed: every file under Resources/ is in the list."""
    for module in MODULES:
        listed = set(installed_files(module))
        on_disk = {p.relative_to(REPO / module).as_posix() for p in (REPO / module / "Resources").rglob("*")
                   if p.is_file()}
        assert on_disk <= listed, (module, sorted(on_disk - listed))


def test_the_packaged_extension_carries_the_projects_licence_and_readme():
    """EXTENSION_LICENSE_FILE and EXTENSION_README_FILE name the project's files (unset, Slicer packages its own
    License.txt and README.md: Slicer v5.8.0 CMake/UseSlicer.cmake.in); the licence is the BSD-3 of pyproject."""
    text = (REPO / "CMakeLists.txt").read_text(encoding="utf-8")
    for variable, name in (("EXTENSION_LICENSE_FILE", "LICENSE"), ("EXTENSION_README_FILE", "README.md")):
        value = re.search(rf'set\({variable}\s+"([^"]+)"\)', text).group(1)
        path = Path(value.replace("${CMAKE_CURRENT_SOURCE_DIR}", str(REPO)))
        assert path == REPO / name and path.is_file(), (variable, value)
    assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("BSD 3-Clause License")
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = "BSD-3-Clause"' in pyproject and 'license-files = ["LICENSE"]' in pyproject
