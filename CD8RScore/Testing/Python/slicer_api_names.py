"""The Slicer, MRML, segmentation, CTK, Qt and parameter-node-connector names the extension's Slicer-facing code
uses, derived from the code itself (an AST walk of the Python files and the .ui files), for the API-version test.

What counts as a name:
- every dotted name rooted at an imported ``slicer``, ``qt``, ``ctk``, ``vtk`` or ``SampleData`` module, up to
  the first call (``slicer.util.pip_install``, ``slicer.vtkSegment.GetTerminologyEntryTagName``,
  ``qt.Qt.ApplicationModal``);
- every attribute with a capital letter (``.GetSegmentation``, ``.setRowCount``, ``.wasCanceled``): VTK, MRML and
  Qt methods and properties, whose Python names are CamelCase or camelCase, while the project's own are snake_case
  or defined in the scanned files (those are left out), as are attributes of numpy, pandas and SimpleITK;
- every attribute of a panel widget (``self.ui.<widget>.<attribute>``);
- every keyword argument passed to one of the above (``createProgressDialog(windowModality=)``);
- every Qt signal connected by its signature (``signal:nodeActivated(vtkMRMLNode*)``);
- in the .ui files, every widget class and every property set on a ctk or qMRML widget
  (``ui:qMRMLNodeComboBox.showChildNodeTypes``), and every flag value (``ui:ctkPathLineEdit::Writable``);
- every parameter-node binding, as the type and the widget class its connector joins
  (``connector:Optional[Path]->ctkPathLineEdit``).
"""
from __future__ import annotations

import ast
import re
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SLICER_ROOTS = {"slicer", "qt", "ctk", "vtk", "SampleData"}
"""Modules of the Slicer application (and its VTK, CTK and PythonQt) whose names are versioned."""
OTHER_LIBRARIES = {"np", "numpy", "pd", "pandas", "sitk", "SimpleITK", "math", "json", "logging", "time", "os",
                   "tempfile", "importlib", "re", "typing", "dataclasses", "pathlib", "Path", "KaplanMeierFitter",
                   "unittest", "subprocess"}
"""Roots whose attributes are not Slicer's."""
PYTHON_NAMES = set(dir(unittest.TestCase)) | set(dir(str)) | set(dir(list)) | set(dir(dict)) | set(dir(Path))
"""Attribute names of Python's own classes (a self-test's assertEqual, a string's startswith): not Slicer's."""
LISTED_FILES = ["CD8RScore/CD8RScore.py", "CD8RScoreCohort/CD8RScoreCohort.py", "CD8RScore/CD8RScoreLib/mrml.py",
                "CD8RScore/CD8RScoreLib/scene_scoring.py", "CD8RScoreCohort/CD8RScoreCohortLib/mrml_views.py"]
UI_FILES = ["CD8RScore/Resources/UI/CD8RScore.ui", "CD8RScoreCohort/Resources/UI/CD8RScoreCohort.ui"]


def _imports_slicer(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] in SLICER_ROOTS for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] in SLICER_ROOTS:
            return True
    return False


def scanned_files() -> list[Path]:
    """The listed Slicer-facing files, and every other file of the two modules (tests aside) that imports slicer,
    qt, ctk, vtk or SampleData."""
    files = {REPO / name for name in LISTED_FILES}
    for folder in ("CD8RScore", "CD8RScoreCohort"):
        for path in (REPO / folder).rglob("*.py"):
            if "Testing" not in path.parts and _imports_slicer(path):
                files.add(path)
    return sorted(files)


def _chain(node: ast.AST) -> "list[str] | None":
    """["a", "b", "c"] for the expression a.b.c (Names and Attributes only), else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def _own_names(trees: list[ast.Module]) -> set[str]:
    """Functions, classes, methods and attributes the scanned files define themselves."""
    own = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                own.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for sub in ast.walk(target):
                        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) \
                                and sub.value.id == "self":
                            own.add(sub.attr)
                        elif isinstance(sub, ast.Name):
                            own.add(sub.id)
    return own


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted name of what it was imported as, for imports from the Slicer roots."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in SLICER_ROOTS:
                    out[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                        alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] in SLICER_ROOTS:
            for alias in node.names:
                out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out


def python_names(tree: ast.Module, own: set[str]) -> set[str]:
    """The versioned names one parsed Python file uses (see the module docstring)."""
    _mark_parents(tree)
    aliases = _aliases(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] in SLICER_ROOTS:
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.split(".")[0] in SLICER_ROOTS}

    def key_of(expr: ast.AST) -> "str | None":
        chain = _chain(expr)
        if chain and chain[0] in aliases:
            return ".".join([aliases[chain[0]], *chain[1:]])
        if isinstance(expr, ast.Attribute):
            if chain and chain[0] in OTHER_LIBRARIES:
                return None
            inner = _chain(expr.value)
            if inner == ["self", "ui"]:
                return None  # a panel widget's name: the module-files tests check it is in the .ui
            if inner and len(inner) == 3 and inner[:2] == ["self", "ui"]:
                return f".{expr.attr}"  # a property or method of a panel widget
            if expr.attr in PYTHON_NAMES:
                return None
            if expr.attr not in own and not expr.attr.startswith("_") and re.search(r"[A-Z]", expr.attr):
                return f".{expr.attr}"
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            key = key_of(node)
            # the longest chain only: slicer.util.pip_install, not also slicer.util
            if key is not None and not (isinstance(getattr(node, "_parent", None), ast.Attribute)):
                names.add(key)
        elif isinstance(node, ast.Call):
            func_key = key_of(node.func) if isinstance(node.func, ast.Attribute) else \
                (aliases.get(node.func.id) if isinstance(node.func, ast.Name) else None)
            if func_key is not None:
                names |= {f"{func_key}({kw.arg}=)" for kw in node.keywords if kw.arg}
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("connect", "disconnect") and node.args \
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                names.add(f"signal:{node.args[0].value}")
    return names


def _mark_parents(tree: ast.AST) -> None:
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            child._parent = parent  # type: ignore[attr-defined]


def ui_names(path: Path) -> set[str]:
    """Widget classes, properties set on ctk/qMRML widgets and flag values of a .ui file."""
    names = set()
    for widget in ET.parse(path).iter("widget"):
        cls = widget.get("class")
        names.add(f"ui:{cls}")
        for prop in widget.findall("property"):
            if cls.startswith(("ctk", "qMRML", "qSlicer")) and prop.get("name") != "SlicerParameterName":
                names.add(f"ui:{cls}.{prop.get('name')}")
            for flags in prop.iter("set"):
                names |= {f"ui:{flag.strip()}" for flag in (flags.text or "").split("|") if "::" in flag}
    return names


def connector_names() -> set[str]:
    """connector:<parameter type>-><widget class> for every parameter bound to a widget by SlicerParameterName."""
    names = set()
    for module, ui in zip(("CD8RScore/CD8RScore.py", "CD8RScoreCohort/CD8RScoreCohort.py"), UI_FILES):
        tree = ast.parse((REPO / module).read_text(encoding="utf-8"))
        wrapper = next(n for n in tree.body if isinstance(n, ast.ClassDef)
                       and any(getattr(d, "id", None) == "parameterNodeWrapper" for d in n.decorator_list))
        types = {}
        for item in wrapper.body:
            if isinstance(item, ast.AnnAssign):
                annotation = item.annotation
                if isinstance(annotation, ast.Subscript) and getattr(annotation.value, "id", "") == "Annotated":
                    annotation = annotation.slice.elts[0]
                types[item.target.id] = ast.unparse(annotation)
        for widget in ET.parse(REPO / ui).iter("widget"):
            for prop in widget.findall("property"):
                if prop.get("name") == "SlicerParameterName":
                    names.add(f"connector:{types[prop.find('string').text]}->{widget.get('class')}")
    return names


def used_names() -> dict[str, set[str]]:
    """Name -> the files (relative to the repository) that use it."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in scanned_files()}
    own = _own_names(list(trees.values()))
    out: dict[str, set[str]] = {}
    for path, tree in trees.items():
        for name in python_names(tree, own):
            out.setdefault(name, set()).add(path.relative_to(REPO).as_posix())
    for ui in UI_FILES:
        for name in ui_names(REPO / ui):
            out.setdefault(name, set()).add(ui)
    for name in connector_names():
        out.setdefault(name, set()).add("parameter nodes")
    return out
