"""The modules' Python environment as each supported Slicer release ships it: build it, install the modules'
requirements the way the modules do, and run the library tests of the modules' actions in it (`make
test-slicer-python`).

For each CD8RScore/Resources/SlicerPython/slicer-<version>.txt (the packages that release bundles, read from its
sources; each pin names the Slicer tag and file): a virtual environment from the CPython of the same minor version
(the closest patch found under pyenv or on PATH; the output says which), the bundled packages installed as pinned
from wheels, then each action's requirements file installed through CD8RScoreLib.python_packages.install_unmet, the
function the modules call with slicer.util.pip_install, here with ``python -m pip install`` (what pip_install runs).
It fails when

- an install changed a bundled package (every pin is compared with what is installed afterwards);
- a requirement was built from a source distribution that is not pure Python (a compiler was needed) where a wheel
  could serve. The one exception, said in the output: on Python 3.10 and later no pyradiomics has a wheel, and
  pyradiomics-bhklab is built with this machine's compiler, standing in for SlicerRadiomics' copy (a Slicer user
  installs SlicerRadiomics, or a compiler; docs/slicer-install.md);
- a test fails: scoring with perturbations, the cohort analysis, the DICOM SR writer, the installer.

Usage: python run_slicer_python_tests.py [--venvs .venv-slicer] [--release 5.8.0 ...]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(REPO / "CD8RScore"), str(REPO / "CD8RScoreCohort")]  # as Slicer's module paths
from CD8RScoreLib.python_packages import canonical_name, install_unmet, read_pins  # noqa: E402

BUNDLED = REPO / "CD8RScore" / "Resources" / "SlicerPython"
ACTIONS = {  # the requirements file each action of the modules installs, in the order a user meets them
    "scoring and cohort export": REPO / "CD8RScore" / "Resources" / "CD8RScore-requirements.txt",
    "cohort analysis": REPO / "CD8RScoreCohort" / "Resources" / "CD8RScoreCohort-requirements.txt",
    "Export DICOM SR": REPO / "CD8RScore" / "Resources" / "CD8RScore-sr-requirements.txt",
}
COMPILED_STAND_IN = {"pyradiomics-bhklab"}
"""Built from source on Python 3.10+ as a stand-in for SlicerRadiomics' copy (no pyradiomics has a cp310+ wheel)."""
TESTS = [  # the library tests of the code paths the modules' actions reach
    "CD8RScore/Testing/Python/test_perturbation.py",  # scoring with perturbations
    "CD8RScoreCohort/Testing/Python/test_cohort_end_to_end.py",  # the cohort analysis
    "CD8RScore/Testing/Python/test_dicom_sr_of_the_panel.py",  # Export DICOM SR
    "CD8RScore/Testing/Python/test_python_packages.py",  # the installer
]
NOT_MODULE_PATHS = "not cli and not worker and not fresh_interpreters"
"""Tests of the command line (Python 3.10+, tqdm) and of worker processes, which the modules never use: they score
in Slicer's process (scene_scoring passes no executor)."""
PYTHON_LINE = re.compile(r"^# python ([0-9]+)\.([0-9]+)\.([0-9]+)", re.M)


def say(text: str) -> None:
    print(f"[test-slicer-python] {text}", flush=True)


def release_python(constraints: Path) -> tuple:
    """(major, minor, patch) of the CPython the release bundles (the file's ``# python`` line)."""
    return tuple(int(part) for part in PYTHON_LINE.search(constraints.read_text(encoding="utf-8")).groups())


def find_interpreter(major: int, minor: int) -> tuple:
    """The CPython major.minor with the highest patch under pyenv, else python<major>.<minor> on PATH:
    (path, version string). Raises SystemExit naming what to install when there is none."""
    found = []
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for folder in root.glob(f"{major}.{minor}.*"):
        if re.fullmatch(rf"{major}\.{minor}\.[0-9]+", folder.name) and (folder / "bin" / "python").is_file():
            found.append((int(folder.name.split(".")[2]), str(folder / "bin" / "python")))
    if found:
        patch, path = max(found)
        return path, f"{major}.{minor}.{patch}"
    on_path = shutil.which(f"python{major}.{minor}")
    if on_path:
        version = subprocess.run([on_path, "-c", "import platform; print(platform.python_version())"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        return on_path, version
    raise SystemExit(f"no CPython {major}.{minor} on this machine: install it (e.g. `pyenv install {major}.{minor}`) "
                     "to test that Slicer release")


def run(command: list, **kwargs) -> None:
    subprocess.run([str(word) for word in command], check=True, **kwargs)


def build_environment(constraints: Path, venv: Path) -> Path:
    """The virtual environment of one release with its bundled packages as pinned; returns its python. Reused
    when it was built from the same constraints file."""
    major, minor, patch = release_python(constraints)
    interpreter, version = find_interpreter(major, minor)
    say(f"{constraints.name}: Slicer bundles CPython {major}.{minor}.{patch}; this machine has {version} "
        f"({interpreter}): same minor version, closest patch available")
    python = venv / "bin" / "python"
    stamp = venv / ".bundled"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == constraints.read_text(encoding="utf-8"):
        return python
    shutil.rmtree(venv, ignore_errors=True)
    run([interpreter, "-m", "venv", venv])
    run([python, "-m", "pip", "install", "--quiet", f"pip=={read_pins(constraints)['pip']}"])
    # the bundled packages as Slicer ships them (binary wheels: Slicer builds them, a desk never does)
    run([python, "-m", "pip", "install", "--quiet", "--only-binary", ":all:", "-r", constraints])
    # the test runner, under the same constraints (it must not change a bundled package either)
    run([python, "-m", "pip", "install", "--quiet", "-c", constraints, "pytest"])
    stamp.write_text(constraints.read_text(encoding="utf-8"), encoding="utf-8")
    return python


def install_action(requirements: Path, reports: Path) -> None:
    """Inside the release's environment: install one action's requirements as the module does (install_unmet),
    with pip's installation report kept for the compiler check."""
    def pip_install(arguments: list) -> None:  # what slicer.util.pip_install runs, with a report
        report = reports / f"{requirements.stem}-{len(list(reports.glob('*.json')))}.json"
        run([sys.executable, "-m", "pip", "install", "--quiet", "--report", report, *arguments])

    installed = install_unmet(requirements, pip_install)
    say(f"{requirements.name}: installed {', '.join(installed)}" if installed else
        f"{requirements.name}: every requirement already met")


def check_environment(python: Path, constraints: Path, reports: Path) -> list:
    """What is wrong after the installs: changed bundled packages, and compiled source builds."""
    problems = []
    listed = json.loads(subprocess.run([python, "-m", "pip", "list", "--format", "json"], capture_output=True,
                                       text=True, check=True).stdout)
    installed = {canonical_name(item["name"]): item["version"] for item in listed}
    for name, version in read_pins(constraints).items():
        if installed.get(name) != version:
            problems.append(f"bundled {name}=={version} is now {installed.get(name, 'missing')}")
    major, minor, _patch = release_python(constraints)
    for report in sorted(reports.glob("*.json")):
        for item in json.loads(report.read_text(encoding="utf-8"))["install"]:
            url = item["download_info"]["url"]
            name = canonical_name(item["metadata"]["name"])
            if url.endswith(".whl"):
                continue
            if pure_python(python, name):
                say(f"{name}: source distribution, pure Python (built without a compiler)")
            elif name in COMPILED_STAND_IN and (major, minor) >= (3, 10):
                say(f"{name}: BUILT WITH THIS MACHINE'S C COMPILER, standing in for the SlicerRadiomics extension's "
                    f"pyradiomics: no pyradiomics has a CPython {major}.{minor} wheel, so a Slicer user without a "
                    "compiler installs SlicerRadiomics (docs/slicer-install.md)")
            else:
                problems.append(f"{name} was compiled from {url}: a compiler was needed where a wheel should serve")
    return problems


def pure_python(python: Path, name: str) -> bool:
    """The installed distribution's WHEEL file says Root-Is-Purelib: true."""
    code = ("import importlib.metadata, sys; d = importlib.metadata.distribution(sys.argv[1]); "
            "print(d.read_text('WHEEL') or '')")
    wheel = subprocess.run([python, "-c", code, name], capture_output=True, text=True, check=True).stdout
    return "Root-Is-Purelib: true" in wheel


def test_release(constraints: Path, venvs: Path) -> bool:
    """Build, install, check and test one release; True when all passed."""
    started = time.monotonic()
    release = constraints.stem.replace("slicer-", "")
    venv = venvs / f"slicer-{release}"
    python = build_environment(constraints, venv)
    reports = venv / "pip-reports"
    shutil.rmtree(reports, ignore_errors=True)
    reports.mkdir()
    for action, requirements in ACTIONS.items():
        say(f"Slicer {release}, {action}: installing {requirements.name} as the module does")
        try:
            run([python, __file__, "--install", requirements, "--reports", reports])
        except subprocess.CalledProcessError:
            say(f"FAILED: Slicer {release}, {action}: pip could not install {requirements.name} under the "
                "bundled versions")
            return False
    problems = check_environment(python, constraints, reports)
    for problem in problems:
        say(f"FAILED: Slicer {release}: {problem}")
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "CD8RScore"),
                                                               str(REPO / "CD8RScoreCohort")]))
    tests = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", NOT_MODULE_PATHS,
                            *TESTS], cwd=REPO,
                           env=environment)
    passed = not problems and tests.returncode == 0
    say(f"Slicer {release}: {'passed' if passed else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venvs", type=Path, default=REPO / ".venv-slicer", help="folder of the environments")
    parser.add_argument("--release", action="append", help="only this release (e.g. 5.8.0); repeatable")
    parser.add_argument("--install", type=Path, help=argparse.SUPPRESS)  # inside an environment
    parser.add_argument("--reports", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.install:
        install_action(args.install, args.reports)
        return
    releases = sorted(BUNDLED.glob("slicer-*.txt"))
    if args.release:
        releases = [path for path in releases if path.stem.replace("slicer-", "") in args.release]
    results = {path.stem: test_release(path, args.venvs.resolve()) for path in releases}
    say("; ".join(f"{name}: {'passed' if ok else 'FAILED'}" for name, ok in results.items()))
    sys.exit(0 if results and all(results.values()) else 1)


if __name__ == "__main__":
    main()
