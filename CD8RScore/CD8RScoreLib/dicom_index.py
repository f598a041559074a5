"""Indexing a DICOM folder tree (``cd8rscore index``): the batch manifest of a PACS export, from the headers alone.

Every file under the root is opened once and only its header is read (no pixel data), in one worker process per core
(dicom_tree_headers). A CT series is paired with a DICOM SEG or RTSTRUCT by the series that segmentation references
(the SEG's Referenced Series Sequence, the RTSTRUCT's RT Referenced Series), never by folder or file name. Per
patient (Patient ID), the studies that hold a segmented CT are ordered by Study Date and Time: E0 is the earliest,
E1 the next. The manifest (one row per patient and timepoint) is what ``cd8rscore batch`` reads; its ``image`` is
the CT series' folder when the folder holds that series alone, else a series list (dicom_series_list) written beside
the manifest. Every file that no row uses is listed in a second CSV with its reason, and so is every choice the
index made between candidates (the rules are in docs/dicom-index.md); nothing is chosen silently.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .dicom_tree_headers import (CT_IMAGE_STORAGE, SEGMENTATION_STORAGE, SEGMENTATIONS, XRAY_RADIATION_DOSE_SR, Header,
                                 list_files, read_all_headers)
from .errors import InputError

MANIFEST_COLUMNS = ("patient_id", "timepoint", "image", "segmentation", "kvp", "study_date", "ct_series_uid",
                    "header_kvp")
UNUSED_COLUMNS = ("file", "patient_id", "study_date", "series_uid", "reason", "detail")
SERIES_LISTS_SUFFIX = "_series"  # folder of the series lists: <manifest stem>_series/ beside the manifest
UNUSED_SUFFIX = "_unused.csv"  # <manifest stem>_unused.csv beside the manifest


@dataclass
class CaseRow:
    """One manifest row: a segmented CT series of one patient at one timepoint."""

    patient_id: str
    timepoint: str
    ct_files: list[str]
    segmentation: str
    study_date: str
    ct_series_uid: str
    header_kvp: str


@dataclass
class Index:
    """The result of indexing: the manifest's rows and the unused files and notes (rows of the second CSV)."""

    cases: list[CaseRow] = field(default_factory=list)
    unused: list[dict] = field(default_factory=list)
    files: int = 0


# ---------------------------------------------------------------------------------------------- pairing

def _study_key(header: Header) -> tuple:
    """Order of studies in time: dated ones by date and time, undated ones last; the UID breaks ties."""
    return (header.study_date == "", header.study_date, header.study_time, header.study_uid)


def _series_label(headers: Sequence[Header]) -> str:
    first = headers[0]
    number = f"series {first.series_number}" if first.series_number is not None else "series"
    description = f" '{first.series_description}'" if first.series_description else ""
    return f"{number}{description} ({len(headers)} file(s))"


def build_index(headers: Sequence[Header], root: Path) -> Index:
    """Pair CTs with their segmentations, order each patient's studies and account for every other file."""
    index = Index(files=len(headers))

    def rel(path: str) -> str:
        return Path(os.path.relpath(path, root)).as_posix()

    def unused(header: "Header | None", reason: str, detail: str, patient: str = "", date: str = "") -> None:
        index.unused.append({
            "file": rel(header.path) if header else "", "patient_id": header.patient_id if header else patient,
            "study_date": header.study_date if header else date, "series_uid": header.series_uid if header else "",
            "reason": reason, "detail": detail})

    ct_series: dict[str, list[Header]] = defaultdict(list)
    other_series: dict[str, list[Header]] = defaultdict(list)
    segmentations: list[Header] = []
    seen_instances: dict[str, Header] = {}
    for header in sorted(headers, key=lambda h: h.path):
        if header.error:
            unused(header, "not_dicom" if header.error.startswith("not a DICOM") else "unreadable", header.error)
        elif header.dicomdir:
            unused(header, "dicomdir", "DICOMDIR: the directory of the export; the files it lists are read "
                                       "themselves")
        elif header.sop_instance and header.sop_instance in seen_instances:
            unused(header, "duplicate", f"same SOP Instance UID as {rel(seen_instances[header.sop_instance].path)}")
        else:
            if header.sop_instance:
                seen_instances[header.sop_instance] = header
            if not header.patient_id:
                unused(header, "no_patient_id", "no Patient ID (0010,0020): cannot tell whose it is")
            elif header.sop_class == CT_IMAGE_STORAGE and "LOCALIZER" in header.image_type:
                unused(header, "localizer", f"localizer (scout) image, {_series_label([header])}")
                other_series[header.series_uid].append(header)
            elif header.sop_class == CT_IMAGE_STORAGE and header.has_position:
                ct_series[header.series_uid].append(header)
            elif header.sop_class == CT_IMAGE_STORAGE:
                unused(header, "no_position", "CT image without Image Position and Orientation (Patient): not a "
                                              "slice of a volume")
                other_series[header.series_uid].append(header)
            elif header.sop_class in SEGMENTATIONS:
                segmentations.append(header)
            elif header.sop_class == XRAY_RADIATION_DOSE_SR or "DOSE" in header.series_description.upper():
                unused(header, "dose_report", f"dose report ({_sop_name(header.sop_class)}, "
                                              f"'{header.series_description}')")
            else:
                unused(header, "other_object", f"{_sop_name(header.sop_class)}, modality "
                                               f"{header.modality or '(none)'}: not a CT slice, SEG or RTSTRUCT")
                other_series[header.series_uid].append(header)

    # each segmentation on the one CT series it references
    by_series: dict[str, list[Header]] = defaultdict(list)
    for seg in segmentations:
        kind = SEGMENTATIONS[seg.sop_class]
        present = [uid for uid in seg.referenced_series if uid in ct_series]
        if not present:
            elsewhere = [uid for uid in seg.referenced_series if uid in other_series]
            if elsewhere:
                unused(seg, "segmentation_not_on_ct", f"{kind} of {_series_label(other_series[elsewhere[0]])}, "
                                                      "which is not a CT series")
            else:
                unused(seg, "segmentation_series_absent",
                       f"{kind} of series {', '.join(seg.referenced_series) or '(none referenced)'}, which is not "
                       "in the tree; export that CT series with it")
        elif len(present) > 1:
            unused(seg, "segmentation_of_several_series",
                   f"{kind} references {len(present)} CT series ({', '.join(present)}); cannot tell which one to "
                   "score: give it in the manifest by hand")
        elif ct_series[present[0]][0].patient_id != seg.patient_id:
            unused(seg, "patient_mismatch", f"{kind} of Patient ID {seg.patient_id!r} references a CT series of "
                                            f"Patient ID {ct_series[present[0]][0].patient_id!r}")
        else:
            by_series[present[0]].append(seg)

    # one segmentation per CT series: the newest, then a SEG before an RTSTRUCT, then by file name
    chosen: dict[str, Header] = {}
    for uid, segs in by_series.items():
        segs.sort(key=lambda s: (s.sop_class != SEGMENTATION_STORAGE, s.path))
        segs.sort(key=lambda s: (s.content_datetime != "", s.content_datetime), reverse=True)  # ties keep that order
        chosen[uid] = segs[0]
        for other in segs[1:]:
            why = ("it is the newest" if other.content_datetime != segs[0].content_datetime
                   else "same date and time: a SEG before an RTSTRUCT, then by file name")
            unused(other, "second_segmentation",
                   f"{SEGMENTATIONS[other.sop_class]} made {other.content_datetime or '(no date)'} of "
                   f"{_series_label(ct_series[uid])}, which has {len(segs)} segmentations; taken: {rel(segs[0].path)} "
                   f"({SEGMENTATIONS[segs[0].sop_class]} made {segs[0].content_datetime or '(no date)'}): {why}; "
                   "edit the manifest's segmentation to use this one")

    for uid, series in sorted(ct_series.items()):
        if uid not in chosen:
            for header in series:
                unused(header, "series_without_segmentation",
                       f"CT {_series_label(series)} has no SEG or RTSTRUCT in the tree")

    # per patient: studies with a segmented CT, in time order; one CT series per study
    studies: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for uid in chosen:
        first = ct_series[uid][0]
        studies[first.patient_id][first.study_uid].append(uid)
    for patient in sorted(studies):
        ordered = sorted(studies[patient].items(), key=lambda item: _study_key(ct_series[item[1][0]][0]))
        for number, (study_uid, series_uids) in enumerate(ordered):
            series_uids.sort(key=lambda uid: (ct_series[uid][0].series_number is None,
                                              ct_series[uid][0].series_number or 0, uid))
            taken = series_uids[0]
            first = ct_series[taken][0]
            for other in series_uids[1:]:
                reason_detail = (f"another segmented CT series of the study of {first.study_date or '(no date)'}; "
                                 f"taken: {_series_label(ct_series[taken])} (lowest series number); edit the "
                                 "manifest to use this one")
                for header in ct_series[other] + [chosen[other]]:
                    unused(header, "second_segmented_series", reason_detail)
            if number >= 2:
                for header in ct_series[taken] + [chosen[taken]]:
                    unused(header, "later_study", f"study {number + 1} of the patient (E0 and E1 are the two "
                                                  "earliest studies with a segmented CT)")
                continue
            timepoint = ("E0", "E1")[number]
            kvps = sorted({h.kvp for h in ct_series[taken]} - {""})
            index.cases.append(CaseRow(patient, timepoint, sorted(h.path for h in ct_series[taken]),
                                       chosen[taken].path, first.study_date, taken, "\\".join(kvps)))
            if not first.study_date:
                unused(None, "no_study_date", f"{timepoint} study {study_uid} has no Study Date: the order of the "
                                              "patient's studies is not known; check E0 and E1", patient)
            if not kvps:
                unused(None, "no_kvp", f"{timepoint} CT {_series_label(ct_series[taken])} has no kVp (0018,0060): "
                                       "batch assumes the signature's value; type it in the manifest's kvp column",
                       patient, first.study_date)
            elif len(kvps) > 1:
                unused(None, "kvp_varies", f"{timepoint} CT {_series_label(ct_series[taken])} has slices at "
                                           f"{', '.join(kvps)} kV: type the one to use in the manifest's kvp "
                                           "column", patient, first.study_date)
        if len(ordered) == 1:
            unused(None, "single_study", "only one study with a segmented CT: E0 only, no E1 row", patient,
                   ct_series[ordered[0][1][0]][0].study_date)
        elif _study_key(ct_series[ordered[0][1][0]][0])[:3] == _study_key(ct_series[ordered[1][1][0]][0])[:3]:
            unused(None, "same_study_time", "E0 and E1 studies have the same Study Date and Time: ordered by "
                                            "Study Instance UID; check E0 and E1", patient,
                   ct_series[ordered[0][1][0]][0].study_date)
    index.unused.sort(key=lambda row: (row["file"] == "", row["file"], row["patient_id"], row["reason"]))
    return index


def _sop_name(sop_class: str) -> str:
    from pydicom.uid import UID

    name = UID(sop_class).name if sop_class else ""
    return name if name and name != sop_class else f"SOP class {sop_class or '(none)'}"


# ---------------------------------------------------------------------------------------------- writing

def _manifest_path(path: str, folder: Path) -> str:
    """A path as the manifest gives it: relative to the manifest's folder when inside it, else absolute."""
    path_obj = Path(path).resolve()
    return path_obj.relative_to(folder).as_posix() if path_obj.is_relative_to(folder) else str(path_obj)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60].lstrip(".") or "patient"


def companions(out: Path) -> tuple[Path, Path]:
    """The unused-files CSV and the folder of series lists that go with the manifest ``out``."""
    return out.parent / f"{out.stem}{UNUSED_SUFFIX}", out.parent / f"{out.stem}{SERIES_LISTS_SUFFIX}"


def write_index(index: Index, all_files: Sequence[str], out: Path) -> tuple[Path, Path]:
    """Write the series lists, the unused-files CSV and then the manifest, each atomically; return the two CSVs.

    ``all_files``: every file of the tree, sorted (list_files). A CT is given as its folder when every file under
    that folder, subfolders included, is one of its slices (a folder is read whole, dicom_series), else as a list.
    """
    from bisect import bisect_left

    from .dicom_series_list import SERIES_LIST_SUFFIX, write_series_list
    from .lesion_table import write_csv

    out = Path(out)
    folder = out.resolve().parent
    unused_path, lists = companions(out)
    rows = []
    for case in index.cases:
        series_folder = os.path.dirname(case.ct_files[0])
        prefix = series_folder + os.sep  # the files under it are one run of the sorted list
        under = bisect_left(all_files, prefix + "\U0010ffff") - bisect_left(all_files, prefix)
        if under == len(case.ct_files) and all(os.path.dirname(f) == series_folder for f in case.ct_files):
            image = _manifest_path(series_folder, folder)
        else:
            name = f"{_safe_name(case.patient_id)}_{case.timepoint}_{case.ct_series_uid[-12:]}{SERIES_LIST_SUFFIX}"
            write_series_list(lists / name, case.ct_files)
            image = _manifest_path(str(lists / name), folder)
        rows.append({"patient_id": case.patient_id, "timepoint": case.timepoint, "image": image,
                     "segmentation": _manifest_path(case.segmentation, folder), "kvp": "",
                     "study_date": case.study_date, "ct_series_uid": case.ct_series_uid,
                     "header_kvp": case.header_kvp})
    write_csv(unused_path, index.unused, UNUSED_COLUMNS)
    if rows:
        write_csv(out, rows, MANIFEST_COLUMNS)
    return out, unused_path


def run_index(root: "str | os.PathLike", out: "str | os.PathLike", replace: bool = False,
              show_progress: "bool | None" = None, log: Callable[[str], None] = lambda line: None) -> Index:
    """Index the tree under ``root`` and write the manifest ``out`` and its unused-files CSV beside it."""
    root, out = Path(root).resolve(), Path(out)
    if not root.is_dir():
        raise InputError("not a folder; give the root folder of the DICOM export", root, "--dicom-root")
    if out.exists() and not replace:
        raise InputError("exists (it may hold your edits); give --replace to write it again, or another --out",
                         out, "--out")
    start = time.perf_counter()
    unused_path, lists = (str(path.resolve()) for path in companions(out))
    own = {str(out.resolve()), unused_path}  # a manifest written inside the tree is not part of it
    files = [f for f in list_files(root) if f not in own and not f.startswith(lists + os.sep)]
    headers = read_all_headers(files, show_progress)
    seconds = time.perf_counter() - start
    index = build_index(headers, root)
    manifest, unused_path = write_index(index, files, out)
    patients = len({case.patient_id for case in index.cases})
    counts = Counter(row["reason"] for row in index.unused)
    log(f"{len(files)} file(s) read in {seconds:.1f} s ({len(files) / max(seconds, 1e-9):.0f} files/s); "
        f"{len(index.cases)} case(s) of {patients} patient(s) -> {manifest if index.cases else '(none)'}; "
        f"{sum(1 for row in index.unused if row['file'])} file(s) unused and "
        f"{sum(1 for row in index.unused if not row['file'])} note(s) -> {unused_path}")
    if counts:
        log("by reason: " + ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items())))
    if not index.cases:
        raise InputError(f"no CT series with its SEG or RTSTRUCT in this tree; {unused_path} says why for each "
                         "file", root, "--dicom-root")
    return index


def cmd_index(args: argparse.Namespace) -> int:
    run_index(args.dicom_root, args.out, args.replace, log=lambda line: print(f"cd8rscore index: {line}",
                                                                              file=sys.stderr))
    return 0


def register(subparsers) -> None:
    """Add the ``index`` subcommand."""
    from .cli import example

    p = subparsers.add_parser(
        "index", help="write the batch manifest of a DICOM folder tree (a PACS or CD export) from its headers",
        description="Pair every CT series with its DICOM SEG or RTSTRUCT by the referenced series UID, order each "
                    "patient's studies into E0 and E1, and write the manifest `batch` reads; every file not used "
                    "is listed with its reason in <out stem>_unused.csv.",
        epilog=example("cd8rscore index --dicom-root demo-output/dicom_tree --out my-results/tree/manifest.csv",
                       note="Then `cd8rscore batch --manifest my-results/tree/manifest.csv --out "
                            "my-results/tree/lesions.csv` scores it (docs/dicom-index.md)."))
    p.add_argument("--dicom-root", required=True, help="root folder of the DICOM files (a DICOMDIR in it is fine)")
    p.add_argument("--out", required=True, help="manifest CSV to write (series lists go to <out stem>_series/)")
    p.add_argument("--replace", action="store_true", help="replace an existing manifest (it may hold your edits)")
    p.set_defaults(func=cmd_index)
