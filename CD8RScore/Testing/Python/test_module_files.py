"""The CD8RScore module's files agree with each other and with the core, without the Slicer application: every
parameter of the parameter node has a widget of a matching kind in the .ui, every widget the module uses exists,
the CMake lists name every file, defaults equal the library's, and the core keeps its import rules (no qt or ctk
anywhere, ``slicer`` only in the MRML adapter)."""
import ast
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from CD8RScoreLib import patient

MODULE_DIR = Path(__file__).resolve().parents[2]
MODULE_PY = MODULE_DIR / "CD8RScore.py"
UI = MODULE_DIR / "Resources" / "UI" / "CD8RScore.ui"
LIB = MODULE_DIR / "CD8RScoreLib"
WIDGET_FOR_TYPE = {  # parameter annotation -> widget classes slicer.parameterNodeWrapper can bind it to
    "Path": {"ctkPathLineEdit", "ctkDirectoryButton"},
    "Optional[Path]": {"ctkPathLineEdit"},  # CD8RScore.OptionalPathConnector: empty field = None
    "float": {"ctkDoubleSpinBox", "QDoubleSpinBox", "ctkSliderWidget"},  # Slicer's float connector
    "int": {"QSpinBox", "QSlider"},  # Slicer's int connector
    "str": {"QLabel", "QLineEdit"},
    "vtkMRMLScalarVolumeNode": {"qMRMLNodeComboBox"},
    "vtkMRMLSegmentationNode": {"qMRMLNodeComboBox"},
    "vtkMRMLTableNode": {"qMRMLNodeComboBox"},
}


@pytest.fixture(scope="module")
def module_tree() -> ast.Module:
    return ast.parse(MODULE_PY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ui_widgets() -> dict:
    """Widget name -> (class, SlicerParameterName or None, nodeTypes)."""
    out = {}
    for widget in ET.parse(UI).iter("widget"):
        parameter = next((p.find("string").text for p in widget.findall("property")
                          if p.get("name") == "SlicerParameterName"), None)
        types = [s.text for p in widget.findall("property") if p.get("name") == "nodeTypes" for s in p.iter("string")]
        out[widget.get("name")] = (widget.get("class"), parameter, types)
    return out


def parameter_annotations(tree: ast.Module) -> dict[str, str]:
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "CD8RScoreParameterNode")
    assert any(getattr(d, "id", None) == "parameterNodeWrapper" for d in cls.decorator_list)
    out = {}
    for item in cls.body:
        if isinstance(item, ast.AnnAssign):
            annotation = item.annotation
            if isinstance(annotation, ast.Subscript) and getattr(annotation.value, "id", "") == "Annotated":
                annotation = annotation.slice.elts[0]  # Annotated[float, WithinRange(...)]
            out[item.target.id] = ast.unparse(annotation)
    return out


def test_every_parameter_has_one_widget_of_a_matching_kind(module_tree, ui_widgets):
    params = parameter_annotations(module_tree)
    assert {"inputVolume", "inputSegmentation", "followupVolume", "followupSegmentation", "patientId", "kvp",
            "signaturePath", "minVolumeMl", "banner", "lesionTable", "patientTable"} <= set(params)
    bound = {}
    for name, (cls, parameter, types) in ui_widgets.items():
        if parameter:
            assert parameter not in bound, f"two widgets bound to {parameter}"
            bound[parameter] = (cls, types)
    assert set(bound) == set(params)
    for parameter, type_name in params.items():
        cls, types = bound[parameter]
        assert cls in WIDGET_FOR_TYPE[type_name], (parameter, type_name, cls)
        if cls == "qMRMLNodeComboBox":
            assert types == [type_name], (parameter, types)


def test_every_widget_the_module_uses_is_in_the_ui(ui_widgets):
    used = set(re.findall(r"self\.ui\.(\w+)", MODULE_PY.read_text(encoding="utf-8")))
    assert used <= set(ui_widgets), used - set(ui_widgets)
    assert {"scoreButton", "centreCandidateButton", "addToCohortButton", "locationTableWidget", "bannerLabel",
            "cohortPathLineEdit"} <= used


def test_node_selectors_get_the_scene(ui_widgets):
    root = ET.parse(UI).getroot()
    receivers = {c.findtext("receiver") for c in root.iter("connection")
                 if c.findtext("signal") == "mrmlSceneChanged(vtkMRMLScene*)"}
    selectors = {name for name, (cls, _, _) in ui_widgets.items() if cls == "qMRMLNodeComboBox"}
    assert selectors and receivers == selectors


def test_defaults_are_the_librarys(module_tree):
    constants = {t.id: ast.literal_eval(n.value) for n in module_tree.body if isinstance(n, ast.Assign)
                 for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
    assert constants["DEFAULT_MIN_VOLUME_ML"] == patient.DEFAULT_MIN_VOLUME_ML
    root = ET.parse(UI).getroot()
    values = {w.get("name"): w.find("property[@name='value']/*") for w in root.iter("widget")}
    assert float(values["minVolumeSpinBox"].text) == patient.DEFAULT_MIN_VOLUME_ML


def test_module_metadata_carries_the_notice_and_the_classes(module_tree):
    source = MODULE_PY.read_text(encoding="utf-8")
    assert "For research use only, not for clinical decisions." in source
    assert "Lancet Oncol 2018;19:1180-91" in source
    classes = {n.name for n in module_tree.body if isinstance(n, ast.ClassDef)}
    assert {"CD8RScore", "CD8RScoreParameterNode", "CD8RScoreWidget", "CD8RScoreLogic", "CD8RScoreTest"} <= classes
    assert "tryWithErrorDisplay" in source and "createProgressDialog" in source and "wasCanceled" in source


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_core_never_imports_qt_and_only_the_adapter_imports_slicer():
    for path in sorted(LIB.glob("*.py")):
        imported = _imported_modules(path)
        assert not imported & {"qt", "ctk", "PythonQt", "PyQt5", "PySide2", "PySide6"}, path.name
        if path.name != "mrml.py":
            assert "slicer" not in imported, path.name


def cmake_list(text: str, variable: str) -> list[str]:
    body = re.search(rf"set\({variable}\s+(.*?)\)", text, re.S).group(1)
    return [w.replace("${MODULE_NAME}", "CD8RScore") for w in body.split()]


def test_cmake_lists_every_file_of_the_module():
    text = (MODULE_DIR / "CMakeLists.txt").read_text(encoding="utf-8")
    scripts = cmake_list(text, "MODULE_PYTHON_SCRIPTS")
    package = sorted(p.relative_to(MODULE_DIR).as_posix() for p in LIB.glob("*.py"))
    assert sorted(scripts) == sorted(["CD8RScore.py", *package])
    resources = cmake_list(text, "MODULE_PYTHON_RESOURCES")
    for resource in resources:
        assert (MODULE_DIR / resource).is_file(), resource
    for folder in ("Signatures", "SampleData"):
        for path in (MODULE_DIR / "Resources" / folder).iterdir():
            assert path.relative_to(MODULE_DIR).as_posix() in resources, path
    assert "slicer_add_python_unittest(SCRIPT ${MODULE_NAME}.py)" in text
    top = (MODULE_DIR.parent / "CMakeLists.txt").read_text(encoding="utf-8")
    assert "add_subdirectory(CD8RScore)" in top and "add_subdirectory(CD8RScoreCohort)" in top
    assert 'set(EXTENSION_DEPENDS "NA")' in top  # pyradiomics: installed by the module, or SlicerRadiomics' copy


def test_icon_is_a_128_pixel_png():
    data = (MODULE_DIR / "Resources" / "Icons" / "CD8RScore.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (128, 128)


def test_requirements_are_dependencies_of_the_package():
    """The scoring requirements that apply on the package's Python (3.10+) are its dependencies, same bounds; the
    Python 3.9 line (Slicer 5.8) is the pyradiomics that has a wheel there."""
    from CD8RScoreLib.python_packages import read_requirements

    pyproject = (MODULE_DIR.parent / "pyproject.toml").read_text(encoding="utf-8")
    requirements = read_requirements(MODULE_DIR / "Resources" / "CD8RScore-requirements.txt")
    assert {r.name for r in requirements} >= {"pyradiomics", "pyradiomics-bhklab", "filelock"}
    for requirement in requirements:
        if requirement.marker is None or requirement.marker.evaluate({"python_version": "3.10"}):
            assert f'"{requirement.name}{requirement.specifier}"' in pyproject, requirement
        else:
            assert str(requirement) == 'pyradiomics>=3.1.0; python_version < "3.10"'


def test_the_panel_loads_before_the_scoring_packages_are_installed():
    """The module lists segments and reads signatures before it asks to install pyradiomics, scipy, filelock."""
    code = """
import importlib, importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("radiomics", "scipy", "filelock", "numba", "pandas"):
            raise ImportError("not installed: " + name)
sys.meta_path.insert(0, Block())
import CD8RScoreLib.mrml, CD8RScoreLib.locations
from CD8RScoreLib.signature import load_signature
print(load_signature().name)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cd8rscore-demonstration"
    # and the module file imports nothing more at module level (the core inside its methods)
    tree = ast.parse(MODULE_PY.read_text(encoding="utf-8"))
    top = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top |= {node.module.split(".")[0] for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}
    assert top <= {"logging", "pathlib", "typing", "qt", "ctk", "vtk", "slicer"}, top


def test_ui_properties_exist_on_their_widgets():
    """Properties Qt Designer cannot check for ctk widgets: ctkDoubleSpinBox wraps a QDoubleSpinBox and has no
    specialValueText (CTK Libs/Widgets/ctkDoubleSpinBox.h), so the kVp field that shows "from DICOM" at 0 kV must
    be a QDoubleSpinBox."""
    for widget in ET.parse(UI).iter("widget"):
        names = {p.get("name") for p in widget.findall("property")}
        if widget.get("class") == "ctkDoubleSpinBox":
            assert "specialValueText" not in names, widget.get("name")
    kvp = next(w for w in ET.parse(UI).iter("widget") if w.get("name") == "kvpSpinBox")
    assert kvp.get("class") == "QDoubleSpinBox"
    assert kvp.find("property[@name='specialValueText']/string").text == "from DICOM"


def test_requirements_are_read_with_packaging_by_the_shared_installer(module_tree):
    """The module installs through CD8RScore.ensurePythonRequirements, which reads the requirements file with
    ``packaging`` (version bounds included) and no table of module names."""
    from CD8RScoreLib.python_packages import read_requirements

    requirements = read_requirements(MODULE_DIR / "Resources" / "CD8RScore-requirements.txt")
    assert requirements and all(r.specifier for r in requirements)
    calls = {n.func.id for n in ast.walk(module_tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "ensurePythonRequirements" in calls
    assert not [n for n in ast.walk(module_tree) if isinstance(n, ast.Assign)
                and getattr(n.targets[0], "id", None) == "moduleOf"]


def test_the_logic_resolves_each_scans_kvp_from_its_own_field(module_tree):
    """The follow-up's kVp comes from the follow-up field (else its own DICOM), never from the baseline's field."""
    calls = {ast.unparse(node.args[0]): ast.unparse(node.args[1]) for node in ast.walk(module_tree)
             if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "kvpFor"}
    assert calls == {"p.inputVolume": "p.kvp", "p.followupVolume": "p.followupKvp"}


def test_module_conventions_contributors_documentation_and_sample_data(module_tree):
    """Contributors in Slicer's "Name (Organisation)" form, a documentation link in the help, and the sample data
    registered with the Sample Data module from files the module installs."""
    constants = {t.id: n.value.value for n in module_tree.body if isinstance(n, ast.Assign)
                 for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
    assert re.fullmatch(r"[^()]+ \([^()]+\)", constants["CONTRIBUTORS"])
    source = MODULE_PY.read_text(encoding="utf-8")
    assert "self.parent.helpText += documentationLink()" in source
    assert 'slicer.app.connect("startupCompleted()", registerSampleData)' in source
    assert "SampleData.SampleDataLogic.registerCustomSampleDataSource(" in source
    for case in ("lung1", "lung2"):
        for kind in ("image", "label"):
            assert (MODULE_DIR / "Resources" / "SampleData" / f"{case}_crop_{kind}.nrrd").is_file()



def ui_fields_added_to_history(source: str) -> set:
    """Names of ``self.ui.<name>`` path fields whose addCurrentPathToHistory() the module calls, directly or
    through a for loop over them."""
    def is_history_call(node) -> bool:
        return isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "addCurrentPathToHistory"

    def ui_names(node) -> set:
        return {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
                and isinstance(n.value, ast.Attribute) and n.value.attr == "ui"}

    added = set()
    for node in ast.walk(ast.parse(source)):
        if is_history_call(node):
            added |= ui_names(node.func)
        elif isinstance(node, ast.For) and any(is_history_call(n) for b in node.body for n in ast.walk(b)):
            added |= ui_names(node.iter)
    return added


@pytest.mark.parametrize("module", ["CD8RScore", "CD8RScoreCohort"])
def test_every_path_field_with_a_history_adds_its_path_to_it(module):
    """A ctkPathLineEdit with a settingKey keeps a history only of the paths the module adds to it
    (ctkPathLineEdit::addCurrentPathToHistory): the module adds to each such field of its .ui."""
    folder = MODULE_DIR.parent / module
    fields = {w.get("name") for w in ET.parse(folder / "Resources" / "UI" / f"{module}.ui").iter("widget")
              if w.get("class") == "ctkPathLineEdit"
              and any(p.get("name") == "settingKey" for p in w.findall("property"))}
    assert fields
    assert fields <= ui_fields_added_to_history((folder / f"{module}.py").read_text(encoding="utf-8"))


def test_sample_data_is_registered_with_the_checksum_of_each_file():
    """Sample Data keeps a cached copy by file name and fetches it again only when its checksum differs from the
    registered one (Slicer v5.8.0 Modules/Scripted/SampleData/SampleData.py, downloadFileIntoCache)."""
    import hashlib

    tree = ast.parse(MODULE_PY.read_text(encoding="utf-8"))
    registered = next(ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                      and getattr(node.targets[0], "id", "") == "SAMPLE_DATA_SHA256")
    folder = MODULE_DIR / "Resources" / "SampleData"
    assert set(registered) == {p.name for p in folder.glob("*.nrrd")}
    for name, digest in registered.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    assert "checksums=[f\"SHA256:{SAMPLE_DATA_SHA256[name]}\" for name in files]" in MODULE_PY.read_text()
