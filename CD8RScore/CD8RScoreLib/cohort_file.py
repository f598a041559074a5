"""The cohort file: one lesion table gathering many patients, appended to one patient at a time.

``cd8rscore cohort-add`` and the module's "Add patient to cohort" button both call :func:`add_rows`.
Each addition takes an inter-process lock beside the cohort file (``.<cohort>.lock``, from the filelock
package; a symbolic link is followed first, so the file and the lock are those of the real path and writers that
name the cohort through different links exclude each other), reads what is there, and writes the whole file again atomically (temporary file, fsync, rename):
a reader or a crash never sees a half-written file, the existing rows are never dropped, and two Slicer
instances or batch scripts adding at once wait for each other instead of losing rows.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .errors import InputError
from .lesion_table import atomic_write_text, read_csv, rows_to_csv_text

KEY_COLUMNS = ("patient_id", "timepoint", "lesion_id")
LOCK_TIMEOUT_S = 120.0


class DuplicateCaseError(InputError):
    """The cohort already holds rows of a (patient_id, timepoint) being added, and replacing was not asked for."""

    def __init__(self, message: str, path: str, cases: list[tuple[str, str]]):
        super().__init__(message, path, "patient_id, timepoint")
        self.cases = cases


@dataclass(frozen=True)
class AddResult:
    """What an addition did: rows added, rows replaced, cases added and rows in the cohort afterwards."""

    added: int
    replaced: int
    cases: tuple[tuple[str, str], ...]
    total: int


def _cases(rows: Sequence[dict]) -> list[tuple[str, str]]:
    """The (patient_id, timepoint) pairs of ``rows`` in order of first appearance."""
    seen: dict[tuple[str, str], None] = {}
    for row in rows:
        seen.setdefault((row.get("patient_id", ""), row.get("timepoint", "")), None)
    return list(seen)


def _check_rows(columns: Sequence[str], rows: Sequence[dict], source: str) -> None:
    """Refuse rows that cannot go into a cohort: no key columns, no rows, empty keys, duplicate lesions."""
    missing = [c for c in KEY_COLUMNS if c not in columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; a lesion table from `cd8rscore score` has them",
                         source, "header")
    if not rows:
        raise InputError("no lesion rows to add", source)
    seen: set[tuple[str, str, str]] = set()
    for number, row in enumerate(rows, start=2):
        for column in ("patient_id", "timepoint"):
            if not (row.get(column) or "").strip():
                raise InputError(f"empty {column}; score with --patient-id and --timepoint", source,
                                 f"row {number}, {column}")
        key = tuple(row.get(c, "") for c in KEY_COLUMNS)
        if key in seen:
            raise InputError(f"lesion {key[2]} of patient {key[0]} at {key[1]} appears twice", source,
                             f"row {number}, lesion_id")
        seen.add(key)


def _check_signature(existing: Sequence[dict], rows: Sequence[dict], cohort: str, source: str) -> None:
    """Refuse scores of another signature than the cohort's: their scores are on different scales."""
    def names(rs: Sequence[dict]) -> set[str]:
        return {r.get("signature_name", "") for r in rs if r.get("signature_name")}

    have, new = names(existing), names(rows)
    if have and new and not new <= have:
        raise InputError(
            f"the cohort holds scores of signature {', '.join(sorted(have))} and these rows were scored with "
            f"{', '.join(sorted(new - have))}; scores of different signatures cannot be analysed together, "
            f"so rescore with the cohort's signature or start another cohort file", source, "signature_name")


def add_rows(cohort_path: "str | os.PathLike", columns: Sequence[str], rows: Sequence[dict],
             replace: bool = False, source: str = "lesion rows") -> AddResult:
    """Append ``rows`` (lesion-table dicts of strings) to the cohort CSV at ``cohort_path``.

    The cohort's columns are its existing ones followed by any new ones from ``columns``. Rows of a
    (patient_id, timepoint) already in the cohort are refused with :class:`DuplicateCaseError` (the file is
    left untouched) unless ``replace`` is true, in which case those old rows are removed and the new added.
    """
    from filelock import FileLock, Timeout

    cohort = Path(os.path.realpath(cohort_path))  # through symbolic links: the shared file, and its lock
    if cohort.is_dir():
        raise InputError("is a folder; give the cohort CSV file (created if absent)", str(cohort_path), "--cohort")
    _check_rows(columns, rows, source)
    cases = _cases(rows)
    cohort.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(cohort.parent / f".{cohort.name}.lock"))  # hidden, beside the cohort; left for reuse
    try:
        lock.acquire(timeout=LOCK_TIMEOUT_S)
    except Timeout:
        raise InputError(f"another program has held the lock {lock.lock_file} for {LOCK_TIMEOUT_S:.0f} s; "
                         "try again when it has finished", str(cohort)) from None
    try:
        old_columns: list[str] = []
        old_rows: list[dict] = []
        if cohort.exists() and cohort.stat().st_size > 0:
            old_columns, old_rows = read_csv(cohort, required=KEY_COLUMNS)
        _check_signature(old_rows, rows, str(cohort), source)
        wanted = set(cases)
        clashing = [case for case in _cases(old_rows) if case in wanted]
        if clashing and not replace:
            listed = ", ".join(f"{p} {t}" for p, t in clashing)
            raise DuplicateCaseError(
                f"already holds patient/timepoint {listed}; nothing was written. Add --replace to replace "
                "those rows", str(cohort), clashing)
        kept = [r for r in old_rows if (r.get("patient_id", ""), r.get("timepoint", "")) not in wanted]
        all_columns = list(old_columns) + [c for c in columns if c not in old_columns]
        atomic_write_text(cohort, rows_to_csv_text(kept + list(rows), all_columns))
        return AddResult(added=len(rows), replaced=len(old_rows) - len(kept), cases=tuple(cases),
                         total=len(kept) + len(rows))
    finally:
        lock.release()


def add_lesion_file(lesions_path: "str | os.PathLike", cohort_path: "str | os.PathLike",
                    replace: bool = False) -> AddResult:
    """Append the rows of a lesion CSV (from ``cd8rscore score``) to the cohort CSV."""
    columns, rows = read_csv(lesions_path, required=KEY_COLUMNS)
    return add_rows(cohort_path, columns, rows, replace=replace, source=str(lesions_path))


def cmd_cohort_add(args) -> int:
    """``cd8rscore cohort-add``: append a lesion table to a cohort file."""
    result = add_lesion_file(args.lesions, args.cohort, replace=args.replace)
    listed = ", ".join(f"{p} {t}" for p, t in result.cases)
    replaced = f", replacing {result.replaced} earlier row(s)" if result.replaced else ""
    print(f"added {result.added} row(s) of {listed} to {args.cohort}{replaced}; the cohort has "
          f"{result.total} row(s)")
    return 0


def register(subparsers) -> None:
    """Add the ``cohort-add`` subcommand."""
    from .cli import example

    p = subparsers.add_parser(
        "cohort-add", help="append a patient's lesion rows to a cohort CSV (atomic, safe with concurrent writers)",
        description="Append a lesion table to a cohort file. An existing (patient_id, timepoint) is refused "
                    "unless --replace is given; the cohort file is rewritten atomically under a lock.",
        epilog=example("cd8rscore cohort-add --lesions demo-output/lesions_E0.csv --cohort my-results/cohort.csv",
                       "cd8rscore cohort-add --lesions demo-output/lesions_E1.csv --cohort my-results/cohort.csv"))
    p.add_argument("--lesions", required=True, help="lesion table CSV written by `cd8rscore score`")
    p.add_argument("--cohort", required=True, help="cohort CSV to append to (created if absent)")
    p.add_argument("--replace", action="store_true",
                   help="replace the cohort's rows of the same patient and timepoint instead of refusing")
    p.set_defaults(func=cmd_cohort_add)
