"""The ``cd8rscore`` command line (DESIGN §5). Exit 0 on success, 2 on bad input (one line on stderr naming the
file, row/field and what is wrong), 130 when interrupted (nothing half-written: outputs are written atomically).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from . import RESEARCH_USE_NOTICE, __version__
from .errors import InputError

if TYPE_CHECKING:
    from concurrent.futures import Executor

    import SimpleITK as sitk

    from .imageio import AcquisitionInfo
    from .scoring import KvpInfo
    from .signature import Signature


def _progress_bar(total_hint: str):
    """A tqdm progress callback ``(done, total, name)`` on stderr, and the bar to close."""
    from tqdm import tqdm

    bar = tqdm(total=0, unit="lesion", desc=total_hint, file=sys.stderr, leave=False,
               disable=None)  # disable=None: no bar when stderr is not a terminal

    def update(done: int, total: int, name: str) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.set_postfix_str(name, refresh=True)

    return update, bar


def read_locations(path: "str | Path") -> dict[str, str]:
    """Locations CSV (columns ``lesion``, ``location``) -> {lesion: fine site}; unknown sites are refused."""
    from .csv_cells import clean_name
    from .lesion_table import read_csv
    from .locations import known_site_words, normalise_site

    _, rows = read_csv(path, required=("lesion", "location"))
    sites: dict[str, str] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        lesion = clean_name(row.get("lesion") or "")
        if not lesion:
            raise InputError("empty lesion", path, f"row {number}, column 'lesion'")
        site = normalise_site(row.get("location") or "")
        if site is None:
            raise InputError(f"unknown location {row.get('location')!r}; use one of: "
                             f"{', '.join(known_site_words())}", path, f"row {number}, column 'location'")
        if lesion in sites:
            raise InputError(f"lesion {lesion!r} is listed twice", path, f"row {number}, column 'lesion'")
        sites[lesion] = site
    return sites


def build_lesion_inputs(masks, sites: "dict[str, str] | None"):
    """LesionInputs from segmentation masks and the locations table; lesions named only in the table are kept
    (mask None) so that they appear in the output with their reason."""
    from .csv_cells import clean_name
    from .locations import guess_site
    from .scoring import LesionInput

    lesions = []
    masks = [dataclasses.replace(seg, lesion_id=clean_name(seg.lesion_id), segment_name=clean_name(seg.segment_name))
             for seg in masks]
    for seg in masks:
        site = None
        given = False
        if sites is not None:
            site = sites.get(seg.lesion_id) or sites.get(seg.segment_name)
            given = site is not None
        if site is None:
            site = guess_site(seg.tags.get("CD8RScore.location", "")) or guess_site(seg.segment_name)
            given = given or site is not None
        lesions.append(LesionInput(seg.lesion_id, seg.segment_name, seg.mask, site or "other", given, seg.warnings))
    if sites is not None:
        known = {seg.lesion_id for seg in masks} | {seg.segment_name for seg in masks}
        for lesion_id, site in sites.items():
            if lesion_id not in known:
                name = f"label {lesion_id}" if lesion_id.isdigit() else lesion_id
                lesions.append(LesionInput(lesion_id, name, None, site, True))
    return lesions


@dataclass
class CaseInputs:
    """One CT read and checked: the image (HU), its acquisition facts, its lesions, kVp and the patient id."""

    image: "sitk.Image"
    acquisition: "AcquisitionInfo"
    lesions: list
    kvp: "KvpInfo"
    patient_id: str


def load_case(image_path: "str | Path", segmentation_path: "str | Path", locations_path: "str | Path | None",
              kvp_kv: "float | None", signature: "Signature", patient_id: "str | None" = None) -> CaseInputs:
    """Read a CT, its segmentation and locations, and resolve kVp: what ``score`` and ``extract`` start from.

    ``kvp_kv`` (kV) overrides the DICOM tag; ``patient_id`` defaults to the DICOM PatientID, then the image name.
    """
    from .csv_cells import clean_name
    from .imageio import read_image, read_segmentation
    from .scoring import resolve_kvp

    image, acquisition = read_image(image_path)
    masks = read_segmentation(segmentation_path, image)
    sites = read_locations(locations_path) if locations_path else None
    lesions = build_lesion_inputs(masks, sites)
    if kvp_kv is not None and not 40 <= kvp_kv <= 160:
        raise InputError(f"{kvp_kv:g} kV is not a CT tube voltage (40-160)", None, "--kvp")
    kvp = resolve_kvp(signature, acquisition.kvp, kvp_kv)
    patient_id = clean_name(patient_id or acquisition.patient_id or Path(image_path).name.split(".")[0])
    if not patient_id:
        raise InputError("the patient id is empty once its control characters are removed; give --patient-id",
                         image_path, "--patient-id")
    return CaseInputs(image, acquisition, lesions, kvp, patient_id)


def score_case(image_path: "str | Path", segmentation_path: "str | Path", locations_path: "str | Path | None",
               kvp_kv: "float | None", signature: "Signature", patient_id: "str | None" = None, timepoint: str = "E0",
               progress: "Callable[[int, int, str], None] | None" = None, perturbations: Sequence = (),
               executor: "Executor | None" = None, min_volume_ml: "float | None" = None) -> list[dict]:
    """Lesion-table rows of one CT (one row per lesion, DESIGN §5): the work of ``score`` and of each batch case.

    ``perturbations`` (perturbation.draw_perturbations): each scored lesion also gets the robustness columns, scored
    in ``executor``'s worker processes if given (scoring.score_lesions). ``min_volume_ml`` (default 1 mL): the
    least-infiltrated lesion is the lowest score among the computable lesions larger than this."""
    from .patient import DEFAULT_MIN_VOLUME_ML
    from .scoring import score_lesions

    case = load_case(image_path, segmentation_path, locations_path, kvp_kv, signature, patient_id)
    return score_lesions(case.image, case.lesions, signature, case.kvp, case.patient_id, timepoint,
                         case.acquisition, progress, perturbations=perturbations, executor=executor,
                         min_volume_ml=DEFAULT_MIN_VOLUME_ML if min_volume_ml is None else min_volume_ml)


def check_seed(seed: int) -> None:
    """A random seed is a non-negative integer (numpy's generators refuse others)."""
    if seed < 0:
        raise InputError(f"{seed} is negative; give a seed of 0 or more", None, "--seed")


def cmd_score(args: argparse.Namespace) -> int:
    from .lesion_table import lesion_columns, write_csv
    from .perturbation import WORKER_MODULES, draw_perturbations, unstable_lesions_note
    from .scoring import score_lesions
    from .scoring_summary import summary_lines
    from .signature import load_signature
    from .worker_processes import worker_pool

    signature = load_signature(args.signature)
    check_seed(args.seed)
    if args.perturbations < 0:
        raise InputError(f"{args.perturbations} perturbations; give 0 or more", None, "--perturbations")
    draws = draw_perturbations(args.perturbations, args.seed)
    # perturbations run in one worker process per core, started before the CT is read
    with worker_pool(WORKER_MODULES) if draws else nullcontext() as executor:
        case = load_case(args.image, args.segmentation, args.locations, args.kvp, signature, args.patient_id)
        evidence = None
        if args.sr:  # checked before scoring: says at once why no SR can be written; the SR names the slices read
            from .dicom_sr import report_evidence
            evidence = report_evidence(case.acquisition.series or args.image, args.segmentation)
        update, bar = _progress_bar("scoring")
        try:
            rows = score_lesions(case.image, case.lesions, signature, case.kvp, case.patient_id, args.timepoint,
                                 case.acquisition, update, perturbations=draws, executor=executor,
                                 min_volume_ml=args.min_volume_ml)
        finally:
            bar.close()
    write_csv(args.out, rows, lesion_columns(signature.feature_keys))
    if args.sr:
        from .dicom_sr import write_structured_report
        write_structured_report(args.sr, rows, signature, evidence)
    print("\n".join(summary_lines(rows, signature, args.min_volume_ml)))
    if args.perturbations:
        print(f"Robustness: {unstable_lesions_note(rows)}")
    print(f"Wrote the lesion table {args.out}" + (f" and the DICOM SR {args.sr}" if args.sr else "")
          + f". {RESEARCH_USE_NOTICE}")
    return 0


def cmd_patient(args: argparse.Namespace) -> int:
    from .lesion_table import check_number_columns, read_csv, write_csv
    from .patient import PATIENT_COLUMNS, check_scores, least_infiltrated_rule, patient_summaries

    _, rows = read_csv(args.lesions, required=("patient_id", "timepoint", "lesion_id", "volume_ml", "score",
                                               "computable", "signature_name", "signature_status"))
    if not rows:
        raise InputError("no lesion rows", args.lesions)
    check_number_columns(rows, ("volume_ml", "score"), args.lesions)
    check_scores(rows, args.lesions)
    summaries = patient_summaries(rows, args.min_volume_ml)
    write_csv(args.out, summaries, PATIENT_COLUMNS)
    for s in summaries:
        least = (f"least-infiltrated lesion {s['least_infiltrated_lesion_id']} {s['least_infiltrated_segment_name']!r}"
                 f" (score {s['least_infiltrated_score']:.3f}, {s['least_infiltrated_class']})"
                 if s["least_infiltrated_lesion_id"] is not None else "no least-infiltrated lesion")
        print(f"{s['patient_id']} {s['timepoint']}: {s['n_lesions_considered']} of {s['n_lesions']} lesion(s) "
              f"considered (computable, > {args.min_volume_ml:g} mL); {least}, the "
              f"{least_infiltrated_rule(args.min_volume_ml)}")
    print(f"Wrote the patient summary ({len(summaries)} row(s): metrics and least-infiltrated lesion) {args.out}")
    return 0


def cmd_response(args: argparse.Namespace) -> int:
    from .lesion_table import check_number_columns, read_csv, write_csv
    from .response import RESPONSE_COLUMNS, check_same_patient, lesion_response, match_summary

    required = ("patient_id", "lesion_id", "longest_axial_diameter_mm")
    _, baseline = read_csv(args.baseline, required=required)
    _, followup = read_csv(args.followup, required=required)
    for path, rows in ((args.baseline, baseline), (args.followup, followup)):
        check_number_columns(rows, ("longest_axial_diameter_mm", "volume_ml"), path)
    check_same_patient(baseline, followup, args.baseline, args.followup)
    rows = lesion_response(baseline, followup)
    write_csv(args.out, rows, RESPONSE_COLUMNS)
    print(match_summary(rows) + f" -> {args.out}", file=sys.stderr)
    return 0


TIMEPOINT_HELP = ("E0 = the baseline CT (before treatment), E1 = the first evaluation CT (follow-up); `response` and "
                  "`cohort` match a lesion across the two by its lesion id")


class HelpFormatter(argparse.HelpFormatter):
    """``--help`` that teaches: every option's default shown, descriptions wrapped, and the example commands of an
    epilog (its lines indented by two spaces) kept as written so that they can be copied."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("%(default)" not in text and action.option_strings and not action.required
                and not any(action.default is nothing for nothing in (None, False, argparse.SUPPRESS))):
            text += " (default: %(default)s)"
        return text

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = []
        for paragraph in text.split("\n\n"):
            if paragraph.startswith("  "):
                paragraphs.append("\n".join(indent + line for line in paragraph.splitlines()))
            else:
                paragraphs.append(super()._fill_text(paragraph, width, indent))
        return "\n\n".join(paragraphs)


class Parser(argparse.ArgumentParser):
    """The parser of ``cd8rscore`` and of each subcommand (``add_subparsers`` makes its subparsers of this class)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def example(*commands: str, note: str = "") -> str:
    """An epilog of example commands on the demo's files (``make demo`` writes them; outputs go to my-results/),
    then ``note``."""
    lines = "\n".join(f"  {command}" for command in commands)
    return (f"Example (after `make demo`, with the environment active; the output goes to my-results/):\n\n{lines}"
            + (f"\n\n{note}" if note else ""))


def add_case_options(p: argparse.ArgumentParser) -> None:
    """The options naming one CT's inputs (what load_case reads), shared by ``score`` and ``extract``."""
    p.add_argument("--image", required=True,
                   help="CT: NRRD/NIfTI/MHA file, DICOM folder (a series, or a CD export with one CT series) or one "
                        "DICOM file of the series (HU)")
    p.add_argument("--segmentation", required=True,
                   help="label map (one integer per lesion), Slicer .seg.nrrd, DICOM SEG or RTSTRUCT")
    p.add_argument("--locations", help="CSV with columns lesion (label value or segment name) and location (node, "
                                       "lung, liver, subcutaneous, adrenal, ...); default: the site read from each "
                                       "segment's name, else 'other' with a warning on the row")
    p.add_argument("--kvp", type=float, help="peak kilovoltage of the scan (kV); overrides the DICOM tag 0018,0060; "
                                             "default: the DICOM tag, else the signature's assumed value with a "
                                             "warning on every row")


SAMPLE_CT = "CD8RScore/Resources/SampleData/lung1_crop"


def build_parser(command: "str | None" = None) -> argparse.ArgumentParser:
    """The parser of every subcommand; given the ``command`` to run, only the modules that command needs."""
    parser = Parser(
        prog="cd8rscore", description=f"CD8 radiomics score of CT lesions. {RESEARCH_USE_NOTICE}",
        epilog="Each command explains itself with an example: cd8rscore COMMAND --help. Start with `make demo` "
               "and the Quick start of README.md.")
    parser.add_argument("--version", action="version", version=f"cd8rscore {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "score", help="score every lesion of one CT and name the least-infiltrated lesion",
        description="Score every lesion of one CT with a signature: builds each lesion's core and 2 mm ring at 1 mm, "
                    "computes the signature's radiomic features and the CD8 radiomics score, and writes one row per "
                    "lesion (lesion table). Prints one line per lesion (volume, score, class, the warnings that "
                    "qualify the number) and the least-infiltrated lesion, the candidate for focal ablative "
                    "therapy. A lesion that cannot be scored stays in the table with its reason.",
        epilog=example(f"cd8rscore score --image {SAMPLE_CT}_image.nrrd --segmentation {SAMPLE_CT}_label.nrrd "
                       "--kvp 120 --out my-results/lung1.csv",
                       "cd8rscore score --image demo-output/dicom/CT --segmentation demo-output/dicom/lesions_SEG.dcm "
                       "--out my-results/dicom.csv --sr my-results/dicom_report.dcm"))
    add_case_options(p)
    p.add_argument("--signature", help="signature JSON file; default: the shipped demonstration signature (its "
                                       "numbers are not the published CD8-Rscore)")
    p.add_argument("--patient-id", help="patient identifier; default: the DICOM PatientID, else the image file name")
    p.add_argument("--timepoint", default="E0", choices=("E0", "E1"), help=TIMEPOINT_HELP)
    p.add_argument("--min-volume-ml", type=float, default=1.0, metavar="ML",
                   help="the least-infiltrated lesion is the lowest score among the computable lesions larger than "
                        "this (mL)")
    p.add_argument("--perturbations", type=int, default=0, metavar="N",
                   help="robustness: score each lesion under N image perturbations (grid translation, rotation, "
                        "noise, contour) and add score_perturbation_sd, score_perturbation_mean_shift and "
                        "score_class_agreement; they run in one worker process per core")
    p.add_argument("--seed", type=int, default=0, help="seed of the perturbations (same N and seed, same numbers)")
    p.add_argument("--out", required=True, help="lesion table CSV to write")
    p.add_argument("--sr", help="also write the lesion table as a DICOM SR (TID 1500) to this .dcm file; needs the "
                               "CT as a DICOM series folder and a DICOM SEG or RTSTRUCT segmentation")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser(
        "patient", help="patient-level heterogeneity metrics and least-infiltrated lesion",
        description="From a lesion table, one row per patient and timepoint: the number of lesions, the minimum, "
                    "maximum, mean, SD, skewness, kurtosis and entropy of the scores of the computable lesions "
                    "larger than --min-volume-ml, and the least-infiltrated lesion (lowest score among them).",
        epilog=example("cd8rscore patient --lesions demo-output/lesions_E0.csv --out my-results/patients_E0.csv"))
    p.add_argument("--lesions", required=True, help="lesion table CSV written by `cd8rscore score` (or `batch`)")
    p.add_argument("--min-volume-ml", type=float, default=1.0, metavar="ML",
                   help="lesions considered: computable and larger than this (mL)")
    p.add_argument("--out", required=True, help="patient summary CSV to write")
    p.set_defaults(func=cmd_patient)

    p = sub.add_parser(
        "response", help="lesion-wise RECIST 1.1 response between E0 and E1",
        description="Match the lesions of a baseline (E0) and a follow-up (E1) lesion table by lesion id and give "
                    "each its change of longest axial diameter and response: complete response when gone, "
                    "response at -30 % or less, progression at +20 % or more, else stable.",
        epilog=example("cd8rscore response --baseline demo-output/lesions_E0.csv "
                       "--followup demo-output/lesions_E1.csv --out my-results/response.csv"))
    p.add_argument("--baseline", required=True, help="lesion table CSV of the baseline CT (scored with --timepoint E0)")
    p.add_argument("--followup", required=True,
                   help="lesion table CSV of the follow-up CT (scored with --timepoint E1), same patient")
    p.add_argument("--out", required=True, help="lesion response CSV to write")
    p.set_defaults(func=cmd_response)

    if command not in sub.choices:  # the commands above need no plugin module (and score starts faster)
        for module in _plugin_modules(command):
            module.register(sub)
    return parser


def _plugin_modules(command: "str | None" = None):
    """Subcommands that live in their own modules (each has ``register(subparsers)``): the module of ``command``,
    or all of them for any other word. Named by the entry-point group ``cd8rscore.commands`` of pyproject.toml (one
    entry per command): the cohort statistics and the demo, which sit above the core, add their commands without
    the core importing them, and a command imports only its own module."""
    from importlib.metadata import entry_points

    entries = list(entry_points(group="cd8rscore.commands"))
    chosen = [entry for entry in entries if entry.name == command] or entries
    modules = []
    for entry in chosen:  # a module that registers several commands is loaded and registered once
        module = entry.load()
        if module not in modules:
            modules.append(module)
    return modules


def main(argv: "Sequence[object] | None" = None) -> int:
    """Run one subcommand; ``argv`` items may be paths or numbers (converted with str)."""
    words = [str(a) for a in argv] if argv is not None else sys.argv[1:]
    parser = build_parser(words[0] if words and not words[0].startswith("-") else None)
    args = parser.parse_args(words)
    # Figures are drawn off-screen (matplotlib Figure and Agg canvas, never pyplot), so the session's backend does
    # not matter; an MPLBACKEND that names no backend would make ``import matplotlib`` fail, so it is ignored here.
    os.environ.pop("MPLBACKEND", None)
    try:
        from .output_paths import refuse_output_over_inputs, refuse_undecodable_paths

        refuse_undecodable_paths(args)
        refuse_output_over_inputs(args)
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"cd8rscore {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # unwritable folder, read-only file system, full disk: outputs are written atomically
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"cd8rscore {args.command}: error: {where}{exc.strerror or exc}; check the path, its permissions and "
              "the free space (no existing file was changed)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cd8rscore {args.command}: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
