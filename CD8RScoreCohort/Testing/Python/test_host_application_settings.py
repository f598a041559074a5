"""The packages leave the host application's settings alone (in Slicer, one Python process serves every module):
drawing the report's figures does not choose a matplotlib backend for the process, and computing features does
not change the pyradiomics logger's level."""
import subprocess
import sys


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_figures_keep_the_backend_the_host_chose(tmp_path):
    """The host picked the pdf backend; the cohort figures (KM with numbers at risk, nomogram path) are still
    written as PNG, and the backend is still pdf afterwards."""
    out = _run(f"""
import matplotlib
matplotlib.use("pdf")
import numpy as np
from CD8RScoreCohortLib import plots
plots.km_plot(np.array([1., 2., 3., 4., 5., 6.]), np.array([1, 0, 1, 1, 0, 1]),
              np.array([True, True, True, False, False, False]), "KM", {str(tmp_path / 'km.png')!r})
plots.roc_plot([("all", np.array([0., .5, 1.]), np.array([0., .8, 1.]), 0.7, False)], {str(tmp_path / 'roc.png')!r}, "ROC")
print(matplotlib.get_backend())
""")
    assert out == "pdf"
    for name in ("km.png", "roc.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_feature_computation_restores_the_pyradiomics_log_level():
    out = _run("""
import logging
import numpy as np, SimpleITK as sitk
logging.getLogger("radiomics").setLevel(logging.DEBUG)
from CD8RScoreLib.features import Discretisation, compute_features
image = sitk.GetImageFromArray(np.arange(125, dtype=np.float32).reshape(5, 5, 5) % 7)
mask = sitk.GetImageFromArray(np.ones((5, 5, 5), np.uint8))
values = compute_features(image, mask, ["glcm"], Discretisation(lower_bound=0.0, bin_width=1.0, n_bins=8))
print(len(values) > 0, logging.getLogger("radiomics").level == logging.DEBUG)
""")
    assert out == "True True"
