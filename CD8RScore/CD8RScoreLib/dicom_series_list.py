"""A series list: the DICOM files of one CT series named in a text file, for a series that shares its folder.

A PACS or CD export often puts several series in one folder (a localizer, the CT, a dose report); a folder then
names no single series, so ``--image`` and a batch manifest's ``image`` may name a ``.txt`` file instead: one
DICOM file per line, relative to the list's own folder (absolute paths are kept), empty lines and lines starting
with ``#`` ignored. ``cd8rscore index`` writes these lists. The files are read as a folder's are (dicom_series): in
slice order whatever the order of the lines, one series, its geometry checked, localizers left out.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from .errors import InputError

SERIES_LIST_SUFFIX = ".txt"
FIELD = "--image"


def is_series_list(path: "str | os.PathLike") -> bool:
    """True for a path that names a series list (by its suffix), whether or not it exists."""
    return Path(path).suffix.lower() == SERIES_LIST_SUFFIX


def write_series_list(path: "str | os.PathLike", files: Sequence["str | os.PathLike"]) -> None:
    """Write ``files`` as a series list at ``path`` (atomically), each relative to the list's folder if inside it."""
    from .lesion_table import atomic_write_text

    folder = Path(path).resolve().parent
    lines = []
    for file in files:
        file = Path(file).resolve()
        lines.append(file.relative_to(folder).as_posix() if file.is_relative_to(folder) else str(file))
    atomic_write_text(path, "# DICOM files of one CT series (cd8rscore index)\n" + "\n".join(lines) + "\n")


def read_series_list(path: "str | os.PathLike") -> list[Path]:
    """The files a series list names, absolute, in the order of its lines; InputError names the line of a missing
    file. (dicom_series.find_ct_series reads their headers, checks they are one series and orders the slices.)"""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the series list: {exc}", path, FIELD) from None
    files = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        file = Path(os.path.normpath(path.parent / os.path.expanduser(line)))
        if not file.is_file():
            raise InputError(f"line {number}: {line} not found; list the files of one CT series", path, FIELD)
        files.append(file)
    if not files:
        raise InputError("the series list names no file", path, FIELD)
    return files
