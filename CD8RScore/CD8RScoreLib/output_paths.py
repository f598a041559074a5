"""Output paths of a command checked against its inputs before anything runs: no input file is ever replaced.

Two paths are the same file when they name one inode (``os.path.samefile``): the same path, a symbolic link to
it, or a hard link.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

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


def refuse_output_over_inputs(args: argparse.Namespace) -> None:
    """``InputError`` when the command's ``--out`` names one of its input files (also through a link)."""
    out = getattr(args, "out", None)
    if not out or not Path(out).exists():
        return
    for option, path in _input_paths(args):
        if _same_file(out, path):
            raise InputError(f"is the same file as the {option} input; the input is never replaced, so give "
                             "another output path", out, "--out")
