"""What produced a report, shown at its top: software versions, input files with their SHA-256, the command line
and the date (UTC). Every HTML report of the project (cohort, signature validation) opens with this block."""
from __future__ import annotations

import datetime
import hashlib
import html
import platform
from importlib import metadata
from pathlib import Path
from typing import Sequence

from . import __version__

REPORTED_PACKAGES = ("numpy", "pandas", "scipy", "lifelines", "matplotlib", "SimpleITK", "pyradiomics-bhklab")


def sha256_of(path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def provenance(paths: dict, command: "str | None") -> dict:
    """JSON-ready record: {"software": {name: version}, "inputs": [{"role", "path", "sha256", "bytes"}],
    "command", "date_utc"}; ``paths`` maps a role ("Lesion table") to its file."""
    software = {"cd8rscore": __version__, "Python": platform.python_version()}
    for package in REPORTED_PACKAGES:
        try:
            software[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    inputs = [{"role": role, "path": str(Path(path).resolve()), "sha256": sha256_of(path),
               "bytes": Path(path).stat().st_size} for role, path in paths.items()]
    date = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    return {"software": software, "inputs": inputs, "command": command, "date_utc": date}


def provenance_html(prov: dict, rows: Sequence[tuple[str, str]] = ()) -> str:
    """The "Provenance" section: software, then ``rows`` (label, plain text: signature, cut-off, settings), the
    input files with their SHA-256, the command line and the date."""
    e = html.escape
    software = ", ".join(f"{k} {v}" for k, v in prov.get("software", {}).items()) or "unknown"
    cells = [("Software", e(software))] + [(e(k), e(v)) for k, v in rows]
    for item in prov.get("inputs", []):
        cells.append((e(item["role"]), f"<code>{e(item['path'])}</code><br/>SHA-256 <code>{e(item['sha256'])}"
                                       f"</code> ({item['bytes']} bytes)"))
    if prov.get("command"):
        cells.append(("Command", f"<code>{e(prov['command'])}</code>"))
    if prov.get("date_utc"):
        cells.append(("Date (UTC)", e(prov["date_utc"])))
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in cells)
    return ("<h2>Provenance</h2><div style='overflow-x:auto'><table class='provenance'>"
            f"{body}</table></div>")
