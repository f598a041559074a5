"""The layering of the packages: the scoring core (CD8RScoreLib) imports neither the cohort statistics
(CD8RScoreCohortLib) nor the demo (CD8RScoreDemo), and no module imports itself back through others.

Read from the source with ``ast``: every ``import``/``from ... import`` anywhere in a module (also inside
functions and ``TYPE_CHECKING`` blocks) is an edge, and so is a string naming a project module (as a dynamic
import by name would use it).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGE_DIRS = {"CD8RScoreLib": ROOT / "CD8RScore" / "CD8RScoreLib",
                "CD8RScoreCohortLib": ROOT / "CD8RScoreCohort" / "CD8RScoreCohortLib",
                "CD8RScoreDemo": ROOT / "CD8RScoreDemo"}
MODULE_NAME = re.compile(r"^(CD8RScoreLib|CD8RScoreCohortLib|CD8RScoreDemo)(\.\w+)*$")


def project_modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the three packages."""
    modules = {}
    for package, folder in PACKAGE_DIRS.items():
        for path in sorted(folder.glob("*.py")):
            modules[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    """Every module name the source of ``module`` imports or names as a string (absolute, dotted)."""
    is_package = path.stem == "__init__"
    package = module if is_package else module.rsplit(".", 1)[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names.add(prefix)
            names.update(f"{prefix}.{alias.name}" for alias in node.names)  # `from . import x` of a submodule
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_NAME.match(node.value):
            names.add(node.value)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (a package's __init__ counts as the package)."""
    modules = project_modules()
    graph = {}
    for module, path in modules.items():
        targets = {name for name in imported_names(module, path) if name in modules}
        graph[module] = targets - {module, module.rsplit(".", 1)[0]}  # a module's own package is loaded anyway
    return graph


def find_cycle(graph: dict[str, set[str]]) -> "list[str] | None":
    """One cycle of the directed graph as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> "list[str] | None":
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_scoring_core_imports_neither_the_cohort_statistics_nor_the_demo():
    graph = import_graph()
    core = [m for m in graph if m.split(".")[0] == "CD8RScoreLib"]
    assert "CD8RScoreLib.cli" in core and "CD8RScoreLib.statistics" in core
    offending = {m: sorted(t for t in graph[m] if not t.startswith("CD8RScoreLib")) for m in core}
    assert {m: t for m, t in offending.items() if t} == {}


def test_the_cohort_statistics_do_not_import_the_demo():
    graph = import_graph()
    assert {m: sorted(t) for m, targets in graph.items() if m.startswith("CD8RScoreCohortLib")
            for t in [{x for x in targets if x.startswith("CD8RScoreDemo")}] if t} == {}


def test_no_module_imports_itself_back_and_the_packages_are_layered():
    graph = import_graph()
    assert find_cycle(graph) is None
    packages = {}
    for module, targets in graph.items():
        packages.setdefault(module.split(".")[0], set()).update(t.split(".")[0] for t in targets)
    packages = {p: t - {p} for p, t in packages.items()}
    assert find_cycle(packages) is None
    assert packages == {"CD8RScoreLib": set(), "CD8RScoreCohortLib": {"CD8RScoreLib"},
                        "CD8RScoreDemo": {"CD8RScoreLib", "CD8RScoreCohortLib"}}


@pytest.mark.parametrize("graph, cycle", [({"a": {"b"}, "b": {"a"}}, ["a", "b", "a"]),
                                          ({"a": {"b"}, "b": {"c"}, "c": set()}, None)])
def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle(graph, cycle):
    assert find_cycle(graph) == cycle


def test_an_import_by_name_counts_as_an_import(tmp_path):
    source = tmp_path / "plugins.py"
    source.write_text("import importlib\n\ndef load():\n    return importlib.import_module("
                      "'CD8RScoreCohortLib.cli_commands')\n")
    assert "CD8RScoreCohortLib.cli_commands" in imported_names("CD8RScoreLib.plugins", source)
