"""Write the Python packages a Slicer release bundles, read from its sources, as a pip constraints file.

Every pin names the Slicer tag and the file it was read from: the ``name==version`` lines of the requirement
blocks of SuperBuild/External_python-*.cmake, SimpleITK from SuperBuild/External_SimpleITK.cmake (built from
Slicer's fork until 5.10, whose tag comment gives the version) when no External_python-SimpleITK.cmake pins it,
and the CPython version from the root CMakeLists.txt (Slicer_REQUIRED_PYTHON_VERSION).

Usage (a clone of https://github.com/Slicer/Slicer):
    python read_slicer_bundled.py --git-dir Slicer/.git --tag v5.8.0 > CD8RScore/Resources/SlicerPython/slicer-5.8.0.txt
"""
import argparse
import re
import subprocess

PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s\\]+)", re.M)
"""A pin of a requirements block, e.g. ``PyJWT[crypto]==2.8.0 --hash=...`` (the extras are dropped)."""
PYTHON = re.compile(r'set\(Slicer_REQUIRED_PYTHON_VERSION "([0-9.]+)"\)')
SIMPLEITK_TAG_COMMENT = re.compile(r'Slicer_\$\{proj\}_GIT_TAG\s+"[0-9a-f]+"\s*#\s*slicer-v([0-9.]+)-')


def show(git_dir: str, tag: str, path: str) -> str:
    """The text of ``path`` at ``tag``."""
    return subprocess.run(["git", "--git-dir", git_dir, "show", f"{tag}:{path}"], check=True, capture_output=True,
                          text=True).stdout


def bundled(git_dir: str, tag: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The release's CPython version and its (name, version, file) pins, first file first."""
    python = PYTHON.search(show(git_dir, tag, "CMakeLists.txt")).group(1)
    files = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "--name-only", tag, "SuperBuild/"], check=True,
                           capture_output=True, text=True).stdout.split()
    pins: dict[str, tuple[str, str, str]] = {}
    for path in sorted(f for f in files if re.fullmatch(r"SuperBuild/External_python-.*\.cmake", f)):
        for name, version in PIN.findall(show(git_dir, tag, path)):
            pins.setdefault(name.lower(), (name, version, path))
    if "simpleitk" not in pins:
        path = "SuperBuild/External_SimpleITK.cmake"
        pins["simpleitk"] = ("SimpleITK", SIMPLEITK_TAG_COMMENT.search(show(git_dir, tag, path)).group(1), path)
    return python, sorted(pins.values(), key=lambda pin: pin[0].lower())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git-dir", required=True, help="the .git folder of a Slicer clone")
    parser.add_argument("--tag", required=True, help="a Slicer release tag, e.g. v5.8.0")
    args = parser.parse_args()
    python, pins = bundled(args.git_dir, args.tag)
    print(f"# Python packages Slicer {args.tag[1:]} bundles, read from its sources at tag {args.tag}\n"
          f"# (CD8RScore/Testing/SlicerPython/read_slicer_bundled.py): pip constraints the modules install under.\n"
          f"# python {python}  # {args.tag} CMakeLists.txt Slicer_REQUIRED_PYTHON_VERSION")
    width = max(len(f"{name}=={version}") for name, version, _path in pins)
    for name, version, path in pins:
        print(f"{name}=={version}".ljust(width) + f"  # {args.tag} {path}")


if __name__ == "__main__":
    main()
