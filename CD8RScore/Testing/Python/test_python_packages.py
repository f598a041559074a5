"""The modules' one installer decides what to install from the requirements files with packaging: version bounds
count, environment markers count, a requirement line pip would refuse is named with its file and line, and any
importable radiomics meets the pyradiomics requirement (so SlicerRadiomics' copy is never shadowed)."""
from pathlib import Path

import pytest

from CD8RScoreLib.python_packages import radiomics_provenance, read_requirements, unmet_requirements

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
                                  "CD8RScoreCohort/Resources/CD8RScoreCohort-requirements.txt"])
def test_the_modules_requirements_are_met_by_the_test_environment(path):
    """make test installs the package's dependencies, which include every module requirement."""
    assert read_requirements(REPO / path)
    assert unmet_requirements(REPO / path) == []
