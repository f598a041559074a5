"""The modules' one installer decides what to install from the requirements files with packaging: version bounds
count, environment markers count, a requirement line pip would refuse is named with its file and line, and any
importable radiomics meets the pyradiomics requirement (so SlicerRadiomics' copy is never shadowed)."""
from pathlib import Path

import pytest

from CD8RScoreLib.python_packages import (SLICER_BUNDLED_FOLDER, install_failure_message, install_unmet,
                                          radiomics_provenance, read_pins, read_requirements, unmet_requirements)

REPO = Path(__file__).resolve().parents[3]


def test_version_bounds_markers_and_missing_packages(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("# comment\n"
                    "scipy>=1.0\n"
                    "scipy>=999  # installed, but too old for this bound\n"
                    "cd8rscore-no-such-package>=1\n"
                    'pandas>=999; python_version < "3"\n'  # marker false on this Python: nothing to do
                    "\n", encoding="utf-8")
    assert unmet_requirements(path) == ["scipy>=999", "cd8rscore-no-such-package>=1"]


def test_any_importable_radiomics_meets_the_pyradiomics_requirement(tmp_path):
    """A pyradiomics of another distribution (here: any version bound) is used rather than installing a second
    copy; which one was used is recorded in the results."""
    path = tmp_path / "requirements.txt"
    path.write_text("pyradiomics-bhklab>=999\npyradiomics>=999\n", encoding="utf-8")
    assert unmet_requirements(path) == []
    import radiomics

    provenance = radiomics_provenance()
    assert provenance["radiomics_version"] == radiomics.__version__
    assert Path(provenance["radiomics_location"]) == Path(radiomics.__file__).resolve().parent


def test_a_bad_line_is_named_with_its_file_and_line(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("scipy>=1.10\nscipy >= = 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"requirements.txt: line 2 'scipy >= = 2' is not a requirement"):
        read_requirements(path)


@pytest.mark.parametrize("path", ["CD8RScore/Resources/CD8RScore-requirements.txt",
                                  "CD8RScore/Resources/CD8RScore-sr-requirements.txt",
                                  "CD8RScoreCohort/Resources/CD8RScoreCohort-requirements.txt"])
def test_the_modules_requirements_are_met_by_the_test_environment(path):
    """make test installs the package's dependencies, which include every module requirement."""
    assert read_requirements(REPO / path)
    assert unmet_requirements(REPO / path) == []


def test_an_install_passes_the_bundled_packages_at_their_installed_versions_as_constraints(tmp_path):
    """What the modules hand to slicer.util.pip_install: the unmet lines only, and every installed package a
    supported Slicer bundles pinned where it is, so pip cannot change it."""
    import importlib.metadata

    path = tmp_path / "requirements.txt"
    path.write_text("scipy>=1.0\ncd8rscore-no-such-package>=1\n", encoding="utf-8")
    calls = []

    def pip_install(arguments):
        constraints = arguments[arguments.index("--constraint") + 1]
        calls.append((arguments, Path(constraints).read_text(encoding="utf-8").split()))

    assert install_unmet(path, pip_install) == ["cd8rscore-no-such-package>=1"]
    (arguments, constraints), = calls
    assert arguments[:2] == ["cd8rscore-no-such-package>=1", "--constraint"]
    assert not Path(arguments[2]).exists()  # a temporary file, removed after the install
    assert f"numpy=={importlib.metadata.version('numpy')}" in constraints
    assert f"scipy=={importlib.metadata.version('scipy')}" in constraints
    bundled = set().union(*(read_pins(p) for p in SLICER_BUNDLED_FOLDER.glob("slicer-*.txt")))
    assert {line.split("==")[0] for line in constraints} <= bundled  # nothing but bundled packages is held
    calls.clear()
    path.write_text("scipy>=1.0\n", encoding="utf-8")
    assert install_unmet(path, pip_install) == [] and calls == []  # all met: pip is not run


def test_every_supported_slicer_release_pins_the_packages_the_modules_build_on():
    """The releases the README names, each file's pins read from that release's sources."""
    releases = {p.stem: read_pins(p) for p in SLICER_BUNDLED_FOLDER.glob("slicer-*.txt")}
    assert set(releases) == {"slicer-5.8.0", "slicer-5.10.0", "slicer-5.12.3"}
    for pins in releases.values():
        assert {"numpy", "scipy", "simpleitk", "packaging", "pydicom", "pip"} <= set(pins)
    assert releases["slicer-5.8.0"]["pydicom"] == "2.4.4" and releases["slicer-5.12.3"]["highdicom"] == "0.27.0"


def test_a_failed_pyradiomics_install_says_in_one_sentence_what_to_install():
    message = install_failure_message(['pyradiomics-bhklab>=3.1.4; python_version >= "3.10"', "filelock>=3.12"])
    assert "SlicerRadiomics" in message and "compiler" in message and message.count(". ") == 0
    assert "pip's output" in install_failure_message(["highdicom>=0.22"])
