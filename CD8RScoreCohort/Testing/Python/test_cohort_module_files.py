"""The Slicer module's files agree with each other without the Slicer application: every parameter of the
parameter node has a widget of a matching kind in the .ui (connectGui binds them by SlicerParameterName), every
widget the module uses exists, the CMake lists name every file of the package, defaults equal the library's."""
import ast
import html
import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from CD8RScoreCohortLib import analysis
from CD8RScoreCohortLib.covariates import recognised_names_text
from CD8RScoreCohortLib.inputs import (BOR_COLUMN, CLINICAL_REQUIRED_COLUMNS, PD_COLUMN, PFS_COLUMNS,
                                       SIMULATED_COLUMN)
from CD8RScoreCohortLib.minimums import MIN_EVENTS_PER_TERM, MIN_PATIENTS

MODULE_DIR = Path(__file__).resolve().parents[2]
MODULE_PY = MODULE_DIR / "CD8RScoreCohort.py"
UI = MODULE_DIR / "Resources" / "UI" / "CD8RScoreCohort.ui"
WIDGET_FOR_TYPE = {  # parameter annotation -> widget class its slicer.parameterNodeWrapper connector accepts
    "Path": {"ctkPathLineEdit", "ctkDirectoryButton"},
    "Optional[Path]": {"ctkPathLineEdit"},  # CD8RScore.OptionalPathConnector: empty field = None
    "int": {"QSpinBox", "QSlider"},
    "float": {"ctkDoubleSpinBox", "QDoubleSpinBox", "ctkSliderWidget"},
    "bool": {"QCheckBox", "ctkCheckBox"},
    "str": {"QLabel", "QLineEdit"},
    "vtkMRMLPlotChartNode": {"qMRMLNodeComboBox"},
    "vtkMRMLTableNode": {"qMRMLNodeComboBox"},
}


@pytest.fixture(scope="module")
def module_tree() -> ast.Module:
    return ast.parse(MODULE_PY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ui_widgets() -> dict:
    """Widget name -> (class, SlicerParameterName or None)."""
    out = {}
    for widget in ET.parse(UI).iter("widget"):
        parameter = next((p.find("string").text for p in widget.findall("property")
                          if p.get("name") == "SlicerParameterName"), None)
        out[widget.get("name")] = (widget.get("class"), parameter)
    return out


def parameter_annotations(tree: ast.Module) -> dict[str, str]:
    """Parameter name -> base type name, from the @parameterNodeWrapper class."""
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "CD8RScoreCohortParameterNode")
    assert any(getattr(d, "id", None) == "parameterNodeWrapper" for d in cls.decorator_list)
    out = {}
    for item in cls.body:
        if isinstance(item, ast.AnnAssign):
            annotation = item.annotation
            if isinstance(annotation, ast.Subscript) and getattr(annotation.value, "id", "") == "Annotated":
                annotation = annotation.slice.elts[0]  # Annotated[int, WithinRange(...)]
            out[item.target.id] = ast.unparse(annotation)
    return out


def test_every_parameter_has_one_widget_of_a_matching_kind(module_tree, ui_widgets):
    params = parameter_annotations(module_tree)
    assert {"lesionsPath", "clinicalPath", "outputFolder", "seed", "referenceCutoff", "minVolumeMl"} <= set(params)
    bound = {}
    for name, (cls, parameter) in ui_widgets.items():
        if parameter:
            assert parameter not in bound, f"two widgets bound to {parameter}"
            bound[parameter] = cls
    assert set(bound) == set(params)
    for parameter, type_name in params.items():
        assert bound[parameter] in WIDGET_FOR_TYPE[type_name], (parameter, type_name, bound[parameter])


def test_every_widget_the_module_uses_is_in_the_ui(ui_widgets):
    used = set(re.findall(r"self\.ui\.(\w+)", MODULE_PY.read_text(encoding="utf-8")))
    assert used and used <= set(ui_widgets), used - set(ui_widgets)
    assert {"runButton", "openReportButton", "bannerLabel"} <= used


def test_node_selectors_get_the_scene(ui_widgets):
    root = ET.parse(UI).getroot()
    receivers = {c.findtext("receiver") for c in root.iter("connection")
                 if c.findtext("signal") == "mrmlSceneChanged(vtkMRMLScene*)"}
    selectors = {name for name, (cls, _) in ui_widgets.items() if cls == "qMRMLNodeComboBox"}
    assert selectors and receivers == selectors


def test_defaults_are_the_librarys(module_tree, ui_widgets):
    constants = {t.id: ast.literal_eval(n.value) for n in module_tree.body if isinstance(n, ast.Assign)
                 for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
    assert constants["DEFAULT_SEED"] == analysis.DEFAULT_SEED
    assert constants["DEFAULT_MIN_VOLUME_ML"] == analysis.DEFAULT_MIN_VOLUME_ML
    root = ET.parse(UI).getroot()
    values = {w.get("name"): w.find("property[@name='value']/*") for w in root.iter("widget")}
    assert int(values["seedSpinBox"].text) == analysis.DEFAULT_SEED
    assert float(values["minVolumeSpinBox"].text) == analysis.DEFAULT_MIN_VOLUME_ML


def test_module_metadata_carries_the_notice_and_the_citation(module_tree):
    source = MODULE_PY.read_text(encoding="utf-8")
    assert 'self.parent.title = _("CD8RScore Cohort")' in source
    assert "For research use only, not for clinical decisions." in source
    assert "J Immunother Cancer 2022;10:e004867" in source
    classes = {n.name for n in module_tree.body if isinstance(n, ast.ClassDef)}
    assert {"CD8RScoreCohort", "CD8RScoreCohortParameterNode", "CD8RScoreCohortWidget", "CD8RScoreCohortLogic",
            "CD8RScoreCohortTest"} <= classes


def help_text(tree: ast.Module) -> str:
    """The module's help text as Slicer shows it (the _() literal with its HTML entities read)."""
    call = next(n.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                and ast.unparse(n.targets[0]) == "self.parent.helpText")
    return html.unescape(call.func.value.args[0].value)  # _("...").format(...)


def test_help_and_tooltip_describe_the_clinical_table_as_the_library_reads_it(module_tree):
    """Required columns before "Optional:", the PFS and other optional columns after it; the covariates are the
    recognised names (the library's list, with their rules) and the minimums are the library's."""
    tooltip = next(w.find("property[@name='toolTip']/string").text for w in ET.parse(UI).iter("widget")
                   if w.get("name") == "clinicalPathLineEdit")
    for text in (help_text(module_tree), tooltip):
        required, optional = text.split("Required:")[1].split("Optional:")
        assert all(c in required for c in CLINICAL_REQUIRED_COLUMNS) and "pfs" not in required, required
        assert all(c in optional for c in PFS_COLUMNS + (PD_COLUMN, BOR_COLUMN, SIMULATED_COLUMN)), optional
        assert "recognised name" in optional and "covariate columns" not in text
    text = " ".join(help_text(module_tree).split())
    assert recognised_names_text() in text
    assert f"at least {MIN_PATIENTS} patients with a scored lesion" in text
    assert f"{MIN_EVENTS_PER_TERM} events among them" in text


def cmake_list(text: str, variable: str) -> list[str]:
    body = re.search(rf"set\({variable}\s+(.*?)\)", text, re.S).group(1)
    return [w.replace("${MODULE_NAME}", "CD8RScoreCohort") for w in body.split()]


def test_cmake_lists_every_file_of_the_module():
    text = (MODULE_DIR / "CMakeLists.txt").read_text(encoding="utf-8")
    scripts = cmake_list(text, "MODULE_PYTHON_SCRIPTS")
    package = sorted(p.relative_to(MODULE_DIR).as_posix() for p in (MODULE_DIR / "CD8RScoreCohortLib").glob("*.py"))
    assert sorted(scripts) == sorted(["CD8RScoreCohort.py", *package])
    for resource in cmake_list(text, "MODULE_PYTHON_RESOURCES"):
        assert (MODULE_DIR / resource).is_file(), resource
    assert "slicer_add_python_unittest(SCRIPT ${MODULE_NAME}.py)" in text


def test_icon_is_a_128_pixel_png():
    data = (MODULE_DIR / "Resources" / "Icons" / "CD8RScoreCohort.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (128, 128)


def test_requirements_are_dependencies_of_the_package():
    pyproject = (MODULE_DIR.parent / "pyproject.toml").read_text(encoding="utf-8")
    lines = (MODULE_DIR / "Resources" / "CD8RScoreCohort-requirements.txt").read_text(encoding="utf-8").splitlines()
    requirements = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert requirements
    for requirement in requirements:
        assert f'"{requirement}"' in pyproject, requirement


def test_requirements_are_read_with_packaging_by_the_shared_installer(module_tree):
    """The module installs through CD8RScore.ensurePythonRequirements, which reads the requirements file with
    ``packaging`` (version bounds included) and no table of module names."""
    from CD8RScoreLib.python_packages import read_requirements

    requirements = read_requirements(MODULE_DIR / "Resources" / "CD8RScoreCohort-requirements.txt")
    assert requirements and all(r.specifier for r in requirements)
    calls = {n.func.id for n in ast.walk(module_tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "ensurePythonRequirements" in calls
    assert not [n for n in ast.walk(module_tree) if isinstance(n, ast.Assign)
                and getattr(n.targets[0], "id", None) == "moduleOf"]


def test_the_module_declares_its_dependency_on_cd8rscore(module_tree):
    """It imports the installer, the path connector and the documentation link from CD8RScore, so Slicer must load
    CD8RScore first."""
    dependencies = [ast.literal_eval(node.value) for node in ast.walk(module_tree) if isinstance(node, ast.Assign)
                    and ast.unparse(node.targets[0]) == "self.parent.dependencies"]
    assert dependencies == [["CD8RScore"]]
    imported = {node.module for node in module_tree.body if isinstance(node, ast.ImportFrom)}
    assert "CD8RScore" in imported
