"""Indexing rate of ``cd8rscore index``: a generated PACS-like tree of ``--files`` DICOM files, headers only.

Tree: patients with two studies each; a study holds a CT series of ``--slices`` slices, a localizer, a dose report
(X-Ray Radiation Dose SR) and a DICOM SEG of the CT, one folder per series. The headers are real ones: the CT
slices and the localizer carry the header of pydicom's CT_small.dcm (a GE scanner's CT header, 191 elements
before the image pixel module; shipped in the pydicom package), the dose report and the SEG those the demo writes
(the SEG written by highdicom with its per-frame functional groups); only identifiers, dates and slice positions
differ from file to file, and the pixel data is left out ("headers only"). The files are written from byte
templates (identifiers patched in place, same lengths), which takes seconds, not minutes.

Prints: the machine, the load average before and after (the machine may be shared), the seconds to list and
read the tree and the rate in files/s, with the worker processes of ``index`` (one per core) and, with
``--serial``, in one process for comparison (taken by turns in the same run), and the CPU seconds they used (on a
loaded machine the wall time says more about the other processes than about the index). The manifest is checked: one row
per patient and timepoint.

Run: .venv/bin/python benchmarks/bench_index.py [--files 100000] [--slices 247] [--serial] [--keep DIR]
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "CD8RScore"))

import numpy as np  # noqa: E402
import pydicom  # noqa: E402
import SimpleITK as sitk  # noqa: E402
from pydicom.data import get_testdata_file  # noqa: E402

from CD8RScoreLib.dicom_demo_data import DemoLesion, new_study, write_ct_series, write_seg  # noqa: E402
from CD8RScoreLib.dicom_demo_tree import write_dose_report  # noqa: E402
from CD8RScoreLib.dicom_index import build_index  # noqa: E402
from CD8RScoreLib.dicom_tree_headers import list_files, read_all_headers, read_headers  # noqa: E402
from CD8RScoreLib.worker_processes import available_cores  # noqa: E402
from machine import cpu_model  # noqa: E402 (benchmarks/machine.py, beside this script)

# Placeholders written into the templates, replaced file by file by values of the same length.
UID_WIDTH = 40
SLOTS = {"sop": b"1.9" + b"1" * (UID_WIDTH - 3), "study": b"1.9" + b"2" * (UID_WIDTH - 3),
         "series": b"1.9" + b"3" * (UID_WIDTH - 3), "ref": b"1.9" + b"4" * (UID_WIDTH - 3)}
PATIENT_SLOT = b"QXQXQXQXQXQX"  # 12 characters
DATE_SLOT = b"19000102"
Z_SLOT = b"-777.777"  # slice position z, 8 characters


def uid(kind: int, *numbers: int) -> bytes:
    """A UID of exactly UID_WIDTH characters from a kind and up to three numbers."""
    text = "2.25." + str(kind) + "".join(str(10 ** 9 + n) for n in numbers)
    return text.ljust(UID_WIDTH, "0")[:UID_WIDTH].encode()


def _template(ds: pydicom.Dataset) -> bytes:
    """The file bytes of ``ds`` with the placeholders set (no pixel data)."""
    from io import BytesIO

    if "PixelData" in ds:
        del ds.PixelData
    ds.PatientID, ds.StudyDate = PATIENT_SLOT.decode(), DATE_SLOT.decode()
    ds.StudyInstanceUID = SLOTS["study"].decode()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = SLOTS["sop"].decode()
    ds.SeriesInstanceUID = SLOTS["series"].decode()
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def templates(folder: Path) -> dict[str, bytes]:
    """Byte templates of a CT slice, a localizer, a dose report and a SEG (see the module description)."""
    ct = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ct.ImagePositionPatient = [-158.135803, -179.035797, Z_SLOT.decode()]
    ct.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    localizer = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    localizer.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    study = new_study("BENCH", datetime.datetime(2020, 1, 1))
    dose = write_dose_report(study, folder / "dose.dcm", 400.0)
    image = sitk.GetImageFromArray(np.full((3, 16, 16), 40, dtype=np.int16))
    labels = np.zeros((3, 16, 16), dtype=np.uint8)
    labels[1, 4:9, 4:9] = 1
    slices = write_ct_series(image, folder / "ct", "BENCH", study=study)
    seg = write_seg(slices, sitk.GetImageFromArray(labels), [DemoLesion(1, "liver_1", "liver")], folder / "seg.dcm")
    seg = pydicom.dcmread(folder / "seg.dcm")
    seg.ReferencedSeriesSequence[0].SeriesInstanceUID = SLOTS["ref"].decode()
    seg_bytes = _template(seg)
    return {"ct": _template(ct), "localizer": _template(localizer),
            "dose": _template(pydicom.dcmread(folder / "dose.dcm")), "seg": seg_bytes}


def write_tree(root: Path, n_files: int, n_slices: int) -> tuple[int, int]:
    """Write about ``n_files`` files (whole patients); return (files, patients)."""
    with tempfile.TemporaryDirectory() as scratch:
        parts = templates(Path(scratch))
    per_patient = 2 * (n_slices + 3)
    n_patients = max(1, round(n_files / per_patient))
    written = 0
    for p in range(n_patients):
        patient = f"BENCH{p:07d}".encode()
        for s in range(2):
            date = (datetime.date(2020, 1, 1) + datetime.timedelta(days=90 * s + p % 28)).strftime("%Y%m%d").encode()
            study_uid, ct_uid = uid(1, p, s), uid(2, p, s)

            def put(path: Path, template: bytes, sop: bytes, series: bytes, z: bytes = Z_SLOT) -> None:
                data = (template.replace(SLOTS["sop"], sop).replace(SLOTS["study"], study_uid)
                        .replace(SLOTS["series"], series).replace(SLOTS["ref"], ct_uid)
                        .replace(PATIENT_SLOT, patient).replace(DATE_SLOT, date).replace(Z_SLOT, z))
                path.write_bytes(data)

            base = root / patient.decode() / f"ST{s}"
            for name in ("SE1", "SE2", "SE3", "SE4"):
                (base / name).mkdir(parents=True, exist_ok=True)
            put(base / "SE1" / "IM0", parts["localizer"], uid(3, p, s), uid(4, p, s))
            for i in range(n_slices):
                put(base / "SE2" / f"IM{i}", parts["ct"], uid(5, p, s, i), ct_uid, f"{-2.5 * i:8.2f}".encode())
            put(base / "SE3" / "SR0", parts["dose"], uid(6, p, s), uid(7, p, s))
            put(base / "SE4" / "IM0", parts["seg"], uid(8, p, s), uid(9, p, s))
            written += n_slices + 3
    return written, n_patients


def cpu_seconds() -> float:
    """User and system CPU seconds of this process and of its ended children (the index's worker processes)."""
    import resource

    return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--slices", type=int, default=247, help="CT slices per study")
    parser.add_argument("--serial", action="store_true", help="also read the tree in one process")
    parser.add_argument("--keep", type=Path, help="write the tree here and keep it (default: a temporary folder)")
    args = parser.parse_args()
    print(f"machine: {cpu_model()}, {available_cores()} core(s) available, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} (1, 5, 15 min)")
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch) / "tree"
        start = time.perf_counter()
        n_files, n_patients = write_tree(root, args.files, args.slices)
        print(f"tree: {n_files} files, {n_patients} patients x 2 studies, written in "
              f"{time.perf_counter() - start:.1f} s")
        runs = [("worker processes", None)] + ([("one process", False)] if args.serial else [])
        for label, _ in runs:
            cpu_start = cpu_seconds()
            start = time.perf_counter()
            files = list_files(root)
            listed = time.perf_counter() - start
            if label == "one process":
                headers = read_headers(files)
            else:
                headers = read_all_headers(files, show_progress=False)
            read = time.perf_counter() - start
            index = build_index(headers, root)
            paired = time.perf_counter() - start
            cpu = cpu_seconds() - cpu_start
            assert len(index.cases) == 2 * n_patients, f"{len(index.cases)} cases for {n_patients} patients"
            print(f"{label}: listed in {listed:.1f} s, headers read in {read - listed:.1f} s, paired in "
                  f"{paired - read:.1f} s: {paired:.1f} s in all, {len(files) / paired:.0f} files/s; CPU {cpu:.1f} s "
                  f"(this process and its workers), {cpu / len(files) * 1e3:.2f} ms a file")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
