"""Reading a DICOM CT series: what choosing the series and checking its geometry from the headers costs.

Series: a synthetic CT (CD8RScoreLib.synthetic.make_patient) of ``--size`` voxels in-plane and ``--slices`` slices,
written as int16 slices (dicom_demo_data.write_ct_series) to a temporary folder. Timed in turns (``--repeats``
rounds, median seconds): the header pass alone (dicom_series.find_ct_series: pydicom reads every header, chooses the
series, checks tilt, gaps, duplicates and spacing), the project's whole read (imageio.read_image: header pass plus
SimpleITK/GDCM reading the pixels), and SimpleITK's own discovery and read of the folder (GetGDCMSeriesIDs,
GetGDCMSeriesFileNames, ImageSeriesReader), which is what the project did before the header pass. Also: ms per slice
of the header pass, and the ratio of the project's read to SimpleITK's.

Run: .venv/bin/python benchmarks/bench_dicom_reading.py [--size 512] [--slices 200] [--repeats 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import SimpleITK as sitk

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "CD8RScore"))

from CD8RScoreLib.dicom_demo_data import write_ct_series  # noqa: E402
from CD8RScoreLib.dicom_series import find_ct_series  # noqa: E402
from CD8RScoreLib.imageio import keep_locale, read_image  # noqa: E402
from CD8RScoreLib.synthetic import make_patient  # noqa: E402
from machine import cpu_model  # noqa: E402 (benchmarks/machine.py, beside this script)


def simpleitk_read(folder: Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    with keep_locale():
        series = reader.GetGDCMSeriesIDs(str(folder))
        reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder), series[0]))
        return reader.Execute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="voxels per row and column")
    parser.add_argument("--slices", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    spacing = (0.7, 0.7, 1.5)
    field = (args.size * spacing[0], args.size * spacing[1], args.slices * spacing[2])
    patient = make_patient(n_lesions=1, seed=1, field_mm=field, spacing_mm=spacing)
    print(f"machine: {cpu_model()}; series {patient.image.GetSize()} int16, {args.repeats} rounds in turns")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ct"
        write_ct_series(patient.image, folder, "BENCH")
        times: dict[str, list[float]] = {"header pass": [], "project read": [], "SimpleITK read": []}
        for _ in range(args.repeats):
            for name, work in (("header pass", lambda: find_ct_series(folder)),
                               ("project read", lambda: read_image(folder)),
                               ("SimpleITK read", lambda: simpleitk_read(folder))):
                start = time.perf_counter()
                work()
                times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(values) for name, values in times.items()}
    n = patient.image.GetSize()[2]
    for name, seconds in median.items():
        print(f"{name:15s} {seconds:7.3f} s")
    print(f"header pass: {1000 * median['header pass'] / n:.2f} ms per slice; project read / SimpleITK read = "
          f"{median['project read'] / median['SimpleITK read']:.2f}")


if __name__ == "__main__":
    main()
