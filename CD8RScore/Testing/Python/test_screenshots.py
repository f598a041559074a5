"""Screenshots/render_screenshots.py renders the demo case offscreen through the MRML pipeline: the axial view
shows the lesions in their risk colours (the least-infiltrated lesion's colour is on the picture) and a lesion too
small to score as a dark grey outline; the 3D view and the table are real pictures, not blank frames."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

slicer = pytest.importorskip("slicer")
import vtk  # noqa: E402
from vtk.util import numpy_support  # noqa: E402

from CD8RScoreLib.risk_colours import NOT_COMPUTABLE_RGB  # noqa: E402

SCRIPT = Path(__file__).resolve().parents[3] / "Screenshots" / "render_screenshots.py"


def offscreen_rendering_works() -> bool:
    window = vtk.vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetSize(8, 8)
    renderer = vtk.vtkRenderer()
    renderer.SetBackground(1.0, 0.0, 0.0)
    window.AddRenderer(renderer)
    window.Render()
    grab = vtk.vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.Update()
    pixels = numpy_support.vtk_to_numpy(grab.GetOutput().GetPointData().GetScalars())
    return bool(pixels.size) and int(pixels[:, 0].max()) == 255


def read_png(path: Path) -> np.ndarray:
    reader = vtk.vtkPNGReader()
    reader.SetFileName(str(path))
    reader.Update()
    return numpy_support.vtk_to_numpy(reader.GetOutput().GetPointData().GetScalars())[:, :3].astype(int)


@pytest.fixture(scope="module")
def script():
    if not offscreen_rendering_works():
        pytest.skip("no offscreen OpenGL here (VTK found neither EGL nor OSMesa)")
    spec = importlib.util.spec_from_file_location("render_screenshots", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_axial_view_shows_the_candidate_in_its_risk_colour(script, tmp_path):
    assert script.main(["--out", str(tmp_path)]) == 0
    _, _, _, result = script.demo_scene()
    axial = read_png(tmp_path / "axial_risk_colours.png")
    assert len(np.unique(axial, axis=0)) > 100  # a CT slice, not a blank frame
    candidate = next(r for r in result.rows_e0 if r["lesion_id"] == result.candidate)
    colour = np.round(np.array(result.scale.rgb(candidate["score"])) * 255)
    outline = np.abs(axial - colour).max(axis=1) <= 2
    assert outline.sum() >= 20, "the least-infiltrated lesion's outline is not drawn in its risk colour"
    # the lesion too small to score: an outline in the not-computable grey, no fill
    grey = np.round(np.array(NOT_COMPUTABLE_RGB) * 255)
    assert (np.abs(axial - grey).max(axis=1) <= 2).sum() >= 20, "the not-computable lesion's outline is not drawn"
    assert not next(r for r in result.rows_e0 if r["lesion_id"] == script.TOO_SMALL_NAME)["computable"]
    for name in ("3d_risk_colours.png", "lesion_table.png"):
        pixels = read_png(tmp_path / name)
        assert len(np.unique(pixels, axis=0)) > 20, name
    table = read_png(tmp_path / "lesion_table.png")
    assert (np.abs(table - colour).max(axis=1) <= 2).sum() > 500  # the candidate's score cell
