"""Output paths of a command checked against its inputs before anything runs: no input file is ever replaced; and
an output folder replaced whole or not at all.

Two paths are the same file when they name one inode (``os.path.samefile``): the same path, a symbolic link to
it, or a hard link.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import InputError


def _same_file(a: "str | os.PathLike", b: "str | os.PathLike") -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # one of them does not exist (yet): not the same file
        return False


def _input_paths(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(option, path) of every path-like argument of the command but ``--out``."""
    found = []
    for name, value in vars(args).items():
        if name in ("out", "func"):
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, (str, os.PathLike)) and str(item):
                found.append(("--" + name.replace("_", "-"), str(item)))
    return found


def refuse_undecodable_paths(args: argparse.Namespace) -> None:
    """``InputError`` for a path argument holding bytes that are not UTF-8 text (Python keeps them as surrogates):
    SimpleITK and ITK cannot open such a path (they abort the process without a message)."""
    for option, path in _input_paths(args) + [("--out", str(getattr(args, "out", "") or ""))]:
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            raise InputError("the path holds bytes that are not UTF-8 text, which the image libraries cannot "
                             "open; rename the file or folder", shown, option) from None


def refuse_output_over_inputs(args: argparse.Namespace) -> None:
    """``InputError`` when the command's ``--out`` names one of its input files (also through a link)."""
    out = getattr(args, "out", None)
    if not out or not Path(out).exists():
        return
    for option, path in _input_paths(args):
        if _same_file(out, path):
            raise InputError(f"is the same file as the {option} input; the input is never replaced, so give "
                             "another output path", out, "--out")


def check_output_folder(folder: "str | os.PathLike", marker: str, field: str = "--out") -> None:
    """``InputError`` unless ``folder`` is absent, empty, or an earlier output of the command (it holds ``marker``):
    the folder is replaced whole, so it must not hold anything else."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError("is a file; give the folder that receives the results (created if absent)", folder, field)
    if folder.is_dir() and any(folder.iterdir()) and not (folder / marker).is_file():
        raise InputError(f"holds files that are not results of this command (no {marker}); the output folder is "
                         "replaced whole, so give a new or empty folder", folder, field)


@contextmanager
def replaced_whole(folder: "str | os.PathLike") -> Iterator[Path]:
    """A new empty folder beside ``folder`` to write the outputs in. When the block ends normally it takes
    ``folder``'s place (an earlier ``folder`` is removed); when it fails it is removed and ``folder`` is left as
    it was, so the folder never mixes new files with an older report. The swap is two renames: a crash between
    them leaves the earlier folder beside it as ``.<name>.*.old``."""
    folder = Path(os.path.realpath(folder))
    folder.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(stage, 0o777 & ~umask)  # mkdtemp makes 0700; give the folder the usual permissions
        yield stage
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=folder.parent))
            os.replace(folder, old)  # onto an empty folder: POSIX rename replaces it
            os.replace(stage, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(stage, folder)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
