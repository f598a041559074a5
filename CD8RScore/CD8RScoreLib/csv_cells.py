"""How text goes into and comes out of the project's CSV cells: one line per row, and never a live formula.

- Names and identifiers (patient ids, segment names, lesion ids, locations) are cleaned where they enter
  (:func:`clean_name`): control characters (a CR from a script saved with Windows line endings, a tab, NUL) become
  a space and the ends are trimmed, so "P1\\r" is the patient "P1".
- Every cell written (:func:`to_cell`) has its control characters replaced by a space, so that no CR or LF can
  split a row, whatever reader (a spreadsheet, ``grep``, a line-based script) opens the file.
- A cell that a spreadsheet would run as a formula (OWASP "CSV injection": text starting with ``=``, ``+``, ``-``,
  ``@``, tab or CR, e.g. ``=HYPERLINK(...)`` or ``+cmd|...``) is written with a leading apostrophe, which spreadsheets
  show as text; numbers such as ``-1.25`` or ``+3e-05`` are left as they are. The project's own readers
  (:func:`from_cell`, used by lesion_table.read_csv) take the apostrophe off again, so a value reads back unchanged;
  a value that already starts with apostrophes before such a character gains one more, so that the round trip is
  exact.
"""
from __future__ import annotations

import re

# C0 and C1 control characters and DEL (Unicode category Cc).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection), after any apostrophes.
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"^'+[=+\-@\t\r]")
# A plain number (what format_value writes for floats, also inf and nan): never a formula.
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?|inf|nan)$", re.IGNORECASE)


def clean_name(text: str) -> str:
    """A name or identifier with its control characters replaced by spaces and its ends trimmed."""
    return _CONTROL.sub(" ", text).strip()


def to_cell(text: str) -> str:
    """The CSV text of a cell's value: one line, and a leading apostrophe where a spreadsheet would see a formula."""
    text = _CONTROL.sub(" ", text)
    if _FORMULA.match(text) and not _NUMBER.match(text):
        return "'" + text
    return text


def from_cell(text: str) -> str:
    """The value of a cell written by :func:`to_cell` (the formula guard's apostrophe taken off)."""
    return text[1:] if _ESCAPED.match(text) else text
