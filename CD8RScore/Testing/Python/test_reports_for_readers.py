"""The HTML reports read as a reviewer reads them: the demo's cohort report, a 3-patient cohort's report and a
signature-validation report carry no template placeholder, no results.json key, no p of 0, no open or degenerate CI,
no file name as a caption, no figure whose title is cut at its edge and no figure twice; each figure has a caption
and each report opens with its provenance (software, inputs with SHA-256, command, date)."""
from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from test_fit_signature import write_training_set

from CD8RScoreCohortLib.analysis import run_cohort
from CD8RScoreCohortLib.simulate import SIMULATION_REFERENCE_CUTOFF, simulate_cohort, write_simulated_cohort
from CD8RScoreLib.lesion_table import write_csv
from CD8RScoreLib.signature_fit import fit_signature, write_signature

INK = 0.92
"""A pixel darker than this (0-1, any channel) at a figure's edge is ink: a title or label cut by the border."""


class _Page(HTMLParser):
    """Visible text (less code: commands, paths, hashes), code, table cells, figures (image bytes, caption)."""

    def __init__(self):
        super().__init__()
        self.text, self.code, self.tables, self.figures = [], [], [], []
        self._skip = 0
        self._in_code = False
        self._cell = None
        self._row = None
        self._caption = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("style", "script"):
            self._skip += 1
        elif tag == "code":
            self._in_code = True
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
            self.tables[-1].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img":
            src = attrs.get("src", "")
            self.figures.append({"png": base64.b64decode(src.split(",", 1)[1]) if src.startswith("data:") else b"",
                                 "caption": ""})
        elif tag == "figcaption":
            self._caption = []

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1
        elif tag == "code":
            self._in_code = False
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "figcaption" and self._caption is not None:
            self.figures[-1]["caption"] = "".join(self._caption).strip()
            self._caption = None

    def handle_data(self, data):
        if self._skip:
            return
        if self._in_code:
            self.code.append(data)
            return
        self.text.append(data)
        for sink in (self._cell, self._caption):
            if sink is not None:
                sink.append(data)


def _keys(obj) -> set[str]:
    if isinstance(obj, dict):
        return {k for k in obj if "_" in k} | {k for v in obj.values() for k in _keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in _keys(v)}
    return set()


def reader_faults(html: str, results: "dict | None" = None) -> list[str]:
    """Every fault a reviewer would point at in a report, as short messages (empty: none)."""
    page = _Page()
    page.feed(html)
    text = " ".join(" ".join(page.text).split())
    faults = []
    if "#" in text:
        faults.append(f"template placeholder: ...{text[max(0, text.index('#') - 60):text.index('#') + 20]}...")
    for key in sorted(_keys(results or {})):
        if re.search(rf"(?<![\w./-]){re.escape(key)}(?![\w.-])", text):
            faults.append(f"results.json key shown: {key}")
    for pattern, what in ((r"\bp\s*=?\s*0(\.0+)?(?![\d.e])", "p of 0"), (r"\+ -", "'+ -' in an equation"),
                          (r"(?<![\d.])(\d+(?:\.\d+)?)–\1(?![\d.])", "degenerate CI (lower = upper)"),
                          (r"\d(?:[-–][-–]|–(?:\s|\)|$))", "open dash after a number"), (r"(?<![\w.])-0(?![.\d])", "-0")):
        match = re.search(pattern, text)
        if match:
            faults.append(f"{what}: ...{text[max(0, match.start() - 40):match.end() + 20]}...")
    for table in page.tables:
        header = table[0] if table else []
        p_columns = [i for i, h in enumerate(header) if re.search(r"(^|\s)p(\s|$)", h)]
        for row in table[1:]:
            for i in p_columns:
                if i < len(row) and re.fullmatch(r"0(\.0*)?", row[i]):
                    faults.append(f"p cell of 0 in row {row[0]!r}")
    for figure in page.figures:
        caption = figure["caption"]
        if len(caption.split()) < 12 or re.search(r"\w\.(png|jpe?g|svg|pdf)\b", caption):
            faults.append(f"figure without a caption that says what it shows: {caption!r}")
        image = imread(io.BytesIO(figure["png"]), format="png")[..., :3]
        edges = np.concatenate([image[:, :2].reshape(-1, 3), image[:, -2:].reshape(-1, 3),
                                image[:2].reshape(-1, 3)])
        if (edges < INK).any(axis=1).sum() > 0:
            faults.append(f"ink at the edge of the figure (cut title or label): {caption[:60]!r}")
    pngs = [f["png"] for f in page.figures]
    if len(set(pngs)) < len(pngs) or len({f["caption"] for f in page.figures}) < len(page.figures):
        faults.append("a figure or caption appears twice")
    if not (re.search(r"Provenance.*Software.*SHA-256.*Command.*Date \(UTC\)", text)
            and re.search(r"^[0-9a-f]{64}$", "\n".join(page.code), re.M)):
        faults.append("no provenance block (software, inputs with SHA-256, command, date)")
    return faults


def _cohort_report(folder: Path, lesions, clinical, **kwargs) -> tuple[str, dict]:
    results = run_cohort(lesions, clinical, folder / "out", **kwargs)
    return (folder / "out" / "report.html").read_text(encoding="utf-8"), results


def test_the_demo_cohort_report_reads_as_a_journal_would_accept(tmp_path):
    lesions, clinical = write_simulated_cohort(tmp_path, seed=2022)  # the demo's cohort and settings
    html, results = _cohort_report(tmp_path, lesions, clinical, seed=1, reference_cutoff=SIMULATION_REFERENCE_CUTOFF,
                                   reference_cutoff_source="the simulated cohort's own cut-off")
    assert reader_faults(html, results) == []
    assert html.count("<figcaption>") == len(results["files"]["figures"]) >= 8
    assert "source: the simulated cohort&#x27;s own cut-off" in html
    assert "small: fewer than 10 progressive or 10 other lesions" in html  # e.g. the 8 adrenal lesions > 1 mL


def test_a_three_patient_cohort_report_reads_as_a_journal_would_accept(tmp_path):
    lesion_rows, clinical_rows = simulate_cohort(n_patients=3, seed=5)
    columns = list(dict.fromkeys(k for r in lesion_rows for k in r))
    write_csv(tmp_path / "lesions.csv", lesion_rows, columns)
    write_csv(tmp_path / "clinical.csv", clinical_rows, list(clinical_rows[0]))
    html, results = _cohort_report(tmp_path, tmp_path / "lesions.csv", tmp_path / "clinical.csv", seed=1,
                                   reference_cutoff=SIMULATION_REFERENCE_CUTOFF)
    assert reader_faults(html, results) == []


def test_the_validation_report_reads_as_a_journal_would_accept(tmp_path):
    write_training_set(tmp_path, n=160)
    write_signature(tmp_path / "sig.json", fit_signature(tmp_path / "features.csv", tmp_path / "target.csv",
                                                         name="fit-report"))
    out = tmp_path / "validation"
    result = subprocess.run([sys.executable, "-m", "CD8RScoreLib", "validate-signature", "--signature",
                             tmp_path / "sig.json", "--features", tmp_path / "features.csv", "--target",
                             tmp_path / "target.csv", "--out", out], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    results = json.loads((out / "validation.json").read_text())
    html = (out / "report.html").read_text(encoding="utf-8")
    assert reader_faults(html, results) == []
    assert re.search(r"target = -?\d\.\d{3} x score [+-] \d\.\d{3}", html)


def test_the_checks_catch_each_fault_the_reports_once_had():
    good = ("<p>Provenance Software x Lesion table SHA-256 <code>" + "a" * 64 + "</code> Command c Date (UTC) d</p>")
    for fault in ("core VOI has # voxels", "<td>p 0</td>", "AUC 1, 95 % CI 1–1", "CI 0.0513--",
                  "target = 1.000 x score + -0.000", "entropy > -0 (optimised)",
                  "<table><tr><th>Fisher p</th></tr><tr><td>0</td></tr></table>"):
        assert reader_faults(good + fault), fault
    assert reader_faults(good + "patients_with_lesion_gt_min_volume", {"counts": {
        "patients_with_lesion_gt_min_volume": 3}})
    assert reader_faults(good) == []
