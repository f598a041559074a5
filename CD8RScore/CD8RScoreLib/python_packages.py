"""Python packages a Slicer module needs: which requirements of its requirements file are not met, and which
pyradiomics a result was computed with (no units).

Requirements are read with ``packaging`` (shipped with Slicer) and compared with the installed distributions
(``importlib.metadata``), version bounds included. Both modules of the extension use this one module.

The pyradiomics rule: any importable ``radiomics`` module meets the pyradiomics requirement, whichever
distribution installed it (SlicerRadiomics' pyradiomics or a pip-installed pyradiomics-bhklab), so a second copy
is never installed to shadow the first; the version and the file of the copy actually imported are recorded in
every result (:func:`radiomics_provenance`).
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

MET_BY_IMPORTABLE_MODULE = {"pyradiomics-bhklab": "radiomics", "pyradiomics": "radiomics"}
"""Requirements met by any importable module of this name (see the pyradiomics rule above)."""


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
