"""CSV cells: one line per row and no live spreadsheet formula (OWASP CSV injection), read back unchanged by the
project's readers (csv_cells, lesion_table.write_csv / read_csv)."""
from __future__ import annotations

import csv

import pytest

from CD8RScoreLib.csv_cells import clean_name, from_cell, to_cell
from CD8RScoreLib.lesion_table import read_csv, write_csv

# OWASP's examples and their neighbours: each must be written as text and read back as it was
FORMULA_LIKE = ['=HYPERLINK("http://example.org/?x","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)",
                "=1", "'=1", "''+x", "-", "+", "@"]
PLAIN = ["P1", "lesion 1", "liver", "-1.25", "+3e-05", "1e+300", "-inf", "nan", "0", "'quoted'", "a=b", "x-1"]


@pytest.mark.parametrize("value", FORMULA_LIKE)
def test_formula_like_text_is_written_as_text_and_read_back_unchanged(value, tmp_path):
    path = tmp_path / "t.csv"
    write_csv(path, [{"patient_id": value, "score": -1.5}], ["patient_id", "score"])
    with open(path, newline="", encoding="utf-8") as handle:
        raw = list(csv.reader(handle))[1]
    assert raw[0] == "'" + value  # a spreadsheet shows it as text
    assert raw[1] == "-1.5"  # numbers are never touched
    assert read_csv(path)[1] == [{"patient_id": value, "score": "-1.5"}]


@pytest.mark.parametrize("value", PLAIN)
def test_numbers_and_plain_text_are_written_as_they_are(value):
    assert to_cell(value) == value
    assert from_cell(value) == value


def test_a_formula_in_a_column_name_is_neutralised_and_read_back():
    assert to_cell("=cmd") == "'=cmd" and from_cell("'=cmd") == "=cmd"


@pytest.mark.parametrize("value, expected", [("P1\r", "P1"), ("\tP1\r\n", "P1"), ("P\n1", "P 1"), ("P\x001", "P 1"),
                                             ("P\x9b1", "P 1"), ("\r", "")])
def test_control_characters_leave_names(value, expected):
    assert clean_name(value) == expected


def test_no_cell_can_split_a_row(tmp_path):
    """A CR or LF inside a value (a reason, a name read from a file) becomes a space: one line per row for any
    reader."""
    path = tmp_path / "t.csv"
    write_csv(path, [{"a": "x\ry", "b": "u\nv"}, {"a": "2", "b": "3"}], ["a", "b"])
    assert path.read_bytes() == b"a,b\nx y,u v\n2,3\n"
