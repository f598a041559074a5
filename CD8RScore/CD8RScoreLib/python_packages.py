"""Python packages a Slicer module needs: which requirements of its requirements file are not met, and which
pyradiomics a result was computed with (no units).

Requirements are read with ``packaging`` (shipped with Slicer) and compared with the installed distributions
(``importlib.metadata``), version bounds included. Both modules of the extension use this one module.

The pyradiomics rule: any importable ``radiomics`` module meets the pyradiomics requirement, whichever
distribution installed it (SlicerRadiomics' pyradiomics or a pip-installed pyradiomics-bhklab), so a second copy
is never installed to shadow the first; the version and the file of the copy actually imported are recorded in
every result (:func:`radiomics_provenance`).

The bundled rule: an install never changes a package the running Slicer bundles. The packages each supported
Slicer release bundles are listed, read from its sources, in Resources/SlicerPython/slicer-<version>.txt; every
install passes the installed version of each of them to pip as a constraint (:func:`install_unmet`), so pip picks
the releases that work with them (e.g. a highdicom for pydicom 2 where Slicer bundles pydicom 2) or fails.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Callable

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

MET_BY_IMPORTABLE_MODULE = {"pyradiomics-bhklab": "radiomics", "pyradiomics": "radiomics"}
"""Requirements met by any importable module of this name (see the pyradiomics rule above)."""
SLICER_BUNDLED_FOLDER = Path(__file__).resolve().parent.parent / "Resources" / "SlicerPython"
"""The pip constraints files of the packages each supported Slicer release bundles (slicer-<version>.txt)."""


def read_requirements(path: "str | Path") -> list[Requirement]:
    """The requirements of a pip requirements file (comments and blank lines skipped).

    Raises ValueError naming the file, the line and the fix for a line pip would not accept.
    """
    out = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            out.append(Requirement(text))
        except InvalidRequirement as exc:
            raise ValueError(f"{path}: line {number} {text!r} is not a requirement ({exc}); write it as pip does, "
                             "e.g. 'scipy>=1.10'") from exc
    return out


def is_met(requirement: Requirement) -> bool:
    """The requirement's distribution is installed with a version its specifier allows (or, for pyradiomics,
    a ``radiomics`` module can be imported)."""
    if requirement.marker is not None and not requirement.marker.evaluate():
        return True
    module = MET_BY_IMPORTABLE_MODULE.get(requirement.name.lower())
    if module is not None and importlib.util.find_spec(module) is not None:
        return True
    try:
        installed = importlib.metadata.version(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        return False
    try:
        return requirement.specifier.contains(Version(installed), prereleases=True)
    except InvalidVersion:
        return False


def unmet_requirements(path: "str | Path") -> list[str]:
    """The requirement lines of ``path`` that are not met, as pip arguments (e.g. ``"scipy>=1.10"``)."""
    return [str(requirement) for requirement in read_requirements(path) if not is_met(requirement)]


def radiomics_provenance() -> dict[str, str]:
    """Version and file of the ``radiomics`` module that computes the features ("" when not importable)."""
    spec = importlib.util.find_spec("radiomics")
    if spec is None:
        return {"radiomics_version": "", "radiomics_location": ""}
    import radiomics

    return {"radiomics_version": str(getattr(radiomics, "__version__", "")),
            "radiomics_location": str(Path(radiomics.__file__).resolve().parent)}


def read_pins(path: "str | Path") -> dict[str, str]:
    """The ``name==version`` pins of a constraints file, by canonical name (lower case, ``-`` for ``_`` and ``.``)."""
    pins = {}
    for requirement in read_requirements(path):
        versions = [spec.version for spec in requirement.specifier if spec.operator == "=="]
        if len(versions) != 1:
            raise ValueError(f"{path}: {requirement} is not a pin; write it as name==version")
        pins[canonical_name(requirement.name)] = versions[0]
    return pins


def canonical_name(name: str) -> str:
    """A distribution's name as pip compares it (PEP 503)."""
    return name.lower().replace("_", "-").replace(".", "-")


def bundled_constraints(folder: Path = SLICER_BUNDLED_FOLDER) -> list[str]:
    """``name==version`` of every installed package that a supported Slicer release bundles, at its installed
    version: what an install must leave as it is."""
    names = sorted({name for path in sorted(folder.glob("slicer-*.txt")) for name in read_pins(path)})
    out = []
    for name in names:
        try:
            out.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def install_unmet(requirements_file: "str | Path", pip_install: Callable[[list[str]], None]) -> list[str]:
    """Install the unmet requirements of ``requirements_file`` with ``pip_install`` (pip's ``install`` arguments;
    in Slicer ``slicer.util.pip_install``), under the bundled packages' installed versions as constraints.

    Returns the requirements it installed (none when all are met). Raises what ``pip_install`` raises when pip
    fails, e.g. when a requirement would need a bundled package at another version.
    """
    missing = unmet_requirements(requirements_file)
    if not missing:
        return []
    handle, constraints = tempfile.mkstemp(prefix="cd8rscore-bundled-", suffix=".txt")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write("\n".join(bundled_constraints()) + "\n")
        pip_install([*missing, "--constraint", constraints])
    finally:
        os.unlink(constraints)
    importlib.invalidate_caches()
    return missing


def install_failure_message(missing: list[str]) -> str:
    """One sentence for the panel when pip could not install ``missing`` (pip's own output goes to the log)."""
    if any(Requirement(line).name.lower() in MET_BY_IMPORTABLE_MODULE for line in missing):
        return ("pyradiomics could not be installed, as no ready-built copy exists for this Slicer's Python: install "
                "the SlicerRadiomics extension (Windows, Linux) and restart Slicer, or install a C compiler (Xcode "
                "Command Line Tools on macOS, Microsoft C++ Build Tools on Windows) and try again.")
    return (f"pip could not install {', '.join(missing)} (no network, or no release that works with the packages "
            "this Slicer bundles): the Python console shows pip's output.")
