"""Render the README's screenshots offscreen from the demo case, through the product's own MRML pipeline.

The demo's synthetic patient (``make demo``: 6 lesions, seed 7) is loaded into an MRML scene with the adapter
(CD8RScoreLib.mrml) and scored by ``scene_scoring.score_patient_in_scene``, exactly as the module does. The
pictures are then drawn with VTK from what that left in the scene: the CT volume node, each segment's binary
labelmap and closed surface in the colour the risk map gave it, the risk colour table node as the legend, and the
lesion table node.

    python Screenshots/render_screenshots.py [--out Screenshots]

Writes axial_risk_colours.png (axial slice through the least-infiltrated lesion), 3d_risk_colours.png (lesion
surfaces) and lesion_table.png. VTK renders offscreen (EGL or OSMesa, whichever the VTK wheel finds); no display
is needed.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk
import vtk
from vtk.util import numpy_support

import slicer
from CD8RScoreLib import mrml
from CD8RScoreLib import number_format as nf
from CD8RScoreLib.risk_colours import NOT_COMPUTABLE_RGB, legend_lines
from CD8RScoreDemo.demo import DEMO_PATIENT
from CD8RScoreLib.scene_scoring import SceneResult, score_patient_in_scene
from CD8RScoreLib.scoring import KvpInfo
from CD8RScoreLib.signature import default_signature_path, load_signature
from CD8RScoreLib.synthetic import make_patient

SIZE = (900, 760)
CT_WINDOW_HU, CT_LEVEL_HU = 400.0, 40.0  # soft-tissue window
FILL_OPACITY = 0.5  # segment fill over the CT, as Slicer's default 2D fill
CAPTION = "Demonstration signature - not the published CD8-Rscore. Synthetic CT."
BACKGROUND = (0.08, 0.08, 0.1)


TOO_SMALL_LABEL = 7
TOO_SMALL_NAME = "node 7"
"""A lesion of a few voxels added to the demo case, beside the least-infiltrated one, to show how a lesion that
cannot be scored is drawn (dark grey outline, no fill)."""


def _add_too_small_lesion(patient) -> sitk.Image:
    """The patient's label map with a 6 x 6 x 1-voxel lesion (about 46 1-mm voxels) 35 mm from
    the lowest-labelled lung lesion (the demo's least-infiltrated one), in its slice: too few voxels for the
    signature's core (64), so it is not computable."""
    labels = sitk.GetArrayFromImage(patient.labels)
    lung = min((lesion for lesion in patient.lesions if lesion.site == "lung"), key=lambda lesion: lesion.label)
    centre = patient.labels.TransformPhysicalPointToIndex(lung.centre_mm)
    x, y, z = centre[0], centre[1] + int(round(35.0 / patient.labels.GetSpacing()[1])), centre[2]
    labels[z, y - 3:y + 3, x - 3:x + 3] = TOO_SMALL_LABEL
    out = sitk.GetImageFromArray(labels)
    out.CopyInformation(patient.labels)
    return out


def demo_scene() -> tuple[object, object, object, SceneResult]:
    """The demo's baseline patient in a new scene, scored; segments named by site and label as a reader would,
    with one lesion too small to score added (TOO_SMALL_NAME)."""
    patient = make_patient(n_lesions=6, seed=7)  # the demo's patient (CD8RScoreDemo.demo.write_synthetic_case)
    names = {lesion.label: f"{lesion.site} {lesion.label}" for lesion in patient.lesions}
    names[TOO_SMALL_LABEL] = TOO_SMALL_NAME
    patient.labels = _add_too_small_lesion(patient)
    scene = slicer.vtkMRMLScene()
    # the Segmentations logic registers the converters (binary labelmap -> closed surface) the 3D view needs
    segmentations_logic = slicer.vtkSlicerSegmentationsModuleLogic()
    segmentations_logic.SetMRMLScene(scene)
    volume = mrml.image_to_volume_node(scene, patient.image, "Synthetic CT")
    segmentation = mrml.label_image_to_segmentation(scene, patient.labels, volume, names)
    result = score_patient_in_scene(scene, volume, segmentation, load_signature(default_signature_path()),
                                    DEMO_PATIENT, KvpInfo(120.0, "user"))
    return scene, volume, segmentation, result


def _render_window(width: int, height: int) -> tuple[vtk.vtkRenderWindow, vtk.vtkRenderer]:
    window = vtk.vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetSize(width, height)
    window.SetMultiSamples(0)
    renderer = vtk.vtkRenderer()
    renderer.SetBackground(*BACKGROUND)
    window.AddRenderer(renderer)
    return window, renderer


def _write_png(window: vtk.vtkRenderWindow, path: Path) -> None:
    window.Render()
    grab = vtk.vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.ReadFrontBufferOff()
    grab.Update()
    writer = vtk.vtkPNGWriter()
    writer.SetFileName(str(path))
    writer.SetInputConnection(grab.GetOutputPort())
    writer.Write()


def _text(renderer, text: str, x: float, y: float, z: float = 0.0, size: int = 16, colour=(1, 1, 1),
          bold: bool = False, world: bool = False, justify: str = "left") -> vtk.vtkTextActor:
    """A 2D text drawn over the scene at (x, y[, z]): world coordinates (mm) or normalised viewport ones."""
    actor = vtk.vtkTextActor()
    actor.SetInput(text)
    prop = actor.GetTextProperty()
    prop.SetFontSize(size)
    prop.SetColor(*colour)
    prop.SetBold(bold)
    prop.SetShadow(True)
    prop.SetJustification({"left": 0, "centre": 1, "right": 2}[justify])
    coordinate = actor.GetPositionCoordinate()
    if world:
        coordinate.SetCoordinateSystemToWorld()
    else:
        coordinate.SetCoordinateSystemToNormalizedViewport()
    coordinate.SetValue(x, y, z)
    renderer.AddViewProp(actor)
    return actor


def _scores(result: SceneResult) -> list[float]:
    return [float(r["score"]) for r in result.rows_e0 if r["computable"]]


def _legend(renderer, result: SceneResult) -> vtk.vtkScalarBarActor:
    """The risk colour table node as a colour bar, with the signature's reference cut-off annotated, and under it
    the direction of the map and the not-computable style (legend_lines)."""
    lines = legend_lines(result.scale.cutoff, _scores(result), result.signature.status)
    lut = vtk.vtkLookupTable()
    lut.DeepCopy(result.scale.colour_node.GetLookupTable())
    lut.SetTableRange(result.scale.low, result.scale.high)
    lut.SetAnnotation(result.scale.cutoff, lines[1])
    bar = vtk.vtkScalarBarActor()
    bar.SetLookupTable(lut)
    bar.SetTitle(lines[0].replace(" (", "\n("))
    bar.SetLabelFormat("%.2f")
    bar.SetNumberOfLabels(5)
    bar.SetDrawAnnotations(True)
    bar.SetAnnotationTextScaling(False)
    bar.SetMaximumNumberOfColors(256)
    bar.UnconstrainedFontSizeOn()
    for prop, size in ((bar.GetTitleTextProperty(), 15), (bar.GetLabelTextProperty(), 13),
                       (bar.GetAnnotationTextProperty(), 13)):
        prop.SetFontSize(size)
        prop.SetColor(1, 1, 1)
        prop.SetShadow(True)
        prop.SetItalic(False)
    bar.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
    bar.GetPositionCoordinate().SetValue(0.80, 0.22)
    bar.SetWidth(0.17)
    bar.SetHeight(0.64)
    renderer.AddViewProp(bar)
    _text(renderer, "low score =\nfew CD8 cells =\nhigh risk", 0.80, 0.125, size=13)
    _text(renderer, "dark grey outline,\nno fill:\nnot computable", 0.80, 0.03, size=13)
    return bar


def _image_from_array(array_yx: np.ndarray, spacing: tuple[float, float]) -> vtk.vtkImageData:
    """A one-slice vtkImageData (x right, y down the rows) of a 2D array, or of an (y, x, 4) RGBA array."""
    components = array_yx.shape[2] if array_yx.ndim == 3 else 1
    ny, nx = array_yx.shape[:2]
    image = vtk.vtkImageData()
    image.SetDimensions(nx, ny, 1)
    image.SetSpacing(spacing[0], spacing[1], 1.0)
    flat = np.ascontiguousarray(array_yx.reshape(nx * ny, components) if components > 1 else array_yx.ravel())
    scalars = numpy_support.numpy_to_vtk(flat, deep=True, array_type=numpy_support.get_vtk_array_type(flat.dtype))
    image.GetPointData().SetScalars(scalars)
    return image


def _masks_on_ct(segmentation, volume) -> tuple[sitk.Image, dict[str, np.ndarray]]:
    """The CT and each segment's binary labelmap on the CT grid (z, y, x), both read back from the scene."""
    ct = mrml.volume_to_image(volume)
    masks = {}
    for lesion in mrml.lesion_inputs(segmentation, volume):
        if lesion.mask is not None:
            full = sitk.Resample(lesion.mask, ct, sitk.Transform(), sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
            masks[lesion.segment_name] = sitk.GetArrayFromImage(full).astype(bool)
    return ct, masks


def _segment_rgb(segmentation, name: str) -> tuple[float, float, float]:
    return tuple(segmentation.GetSegmentation().GetSegment(mrml.segment_id_by_name(segmentation, name)).GetColor())


def render_axial(scene, volume, segmentation, result: SceneResult, path: Path) -> None:
    """Axial slice through the least-infiltrated lesion: CT, risk-coloured segments, names, legend, caption."""
    ct, masks = _masks_on_ct(segmentation, volume)
    candidate = result.candidate
    k = int(round(np.mean(np.nonzero(masks[candidate])[0])))
    spacing = ct.GetSpacing()
    hu = sitk.GetArrayViewFromImage(ct)[k]
    grey = np.clip((hu - (CT_LEVEL_HU - CT_WINDOW_HU / 2)) / CT_WINDOW_HU, 0.0, 1.0)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    outline = np.zeros(hu.shape, bool)
    scores = {row["lesion_id"]: row for row in result.rows_e0}
    shown = []
    decimals = nf.cutoff_decimals(result.scale.cutoff, _scores(result))
    for name, mask in masks.items():
        inside = mask[k]
        if not inside.any():
            continue
        shown.append(name)
        colour = np.array(_segment_rgb(segmentation, name))
        edge = inside & ~_eroded(inside)
        if not scores[name]["computable"]:  # different in kind: a thick outline, no fill (as in the scene)
            edge = inside & ~_eroded(_eroded(inside)) if inside.sum() > 16 else inside
            rgb[edge] = colour
            outline |= edge
            continue
        rgb[inside] = (1 - FILL_OPACITY) * rgb[inside] + FILL_OPACITY * colour
        rgb[edge] = colour
        outline |= edge
    pixels = np.round(rgb[::-1] * 255).astype(np.uint8)  # rows from anterior (top) to posterior (bottom)
    image = _image_from_array(pixels, (spacing[0], spacing[1]))
    window, renderer = _render_window(*SIZE)
    actor = vtk.vtkImageActor()
    actor.GetMapper().SetInputData(image)
    actor.InterpolateOff()
    renderer.AddActor(actor)
    renderer.SetViewport(0.0, 0.0, 1.0, 1.0)
    ny, nx = hu.shape
    camera = renderer.GetActiveCamera()
    camera.ParallelProjectionOn()
    centre_x, centre_y = (nx - 1) * spacing[0] / 2, (ny - 1) * spacing[1] / 2
    camera.SetFocalPoint(centre_x + 0.12 * nx * spacing[0], centre_y, 0)
    camera.SetPosition(centre_x + 0.12 * nx * spacing[0], centre_y, 500)
    camera.SetViewUp(0, 1, 0)
    camera.SetParallelScale(ny * spacing[1] / 2 * 1.12)
    for name in shown:
        rows, cols = np.nonzero(masks[name][k])
        x = (cols.max() + 3) * spacing[0]
        y = (ny - 1 - rows.mean()) * spacing[1]
        row = scores[name]
        label = f"{name}: {nf.fixed(row['score'], decimals)}" if row["computable"] else f"{name}: not computable"
        _text(renderer, label, x, y, size=15, bold=name == candidate, world=True)
    rows, cols = np.nonzero(masks[candidate][k])
    tip = ((cols.min() - 1) * spacing[0], (ny - 1 - rows.mean()) * spacing[1])
    arrow = vtk.vtkLeaderActor2D()
    arrow.GetPositionCoordinate().SetCoordinateSystemToWorld()
    arrow.GetPositionCoordinate().SetValue(tip[0] - 30.0, tip[1] + 22.0, 0)
    arrow.GetPosition2Coordinate().SetCoordinateSystemToWorld()
    arrow.GetPosition2Coordinate().SetValue(*tip, 0)
    arrow.SetArrowStyleToFilled()
    arrow.SetArrowPlacementToPoint2()
    arrow.SetArrowLength(0.03)
    arrow.SetArrowWidth(0.012)
    arrow.GetProperty().SetColor(1, 1, 1)
    arrow.GetProperty().SetLineWidth(2)
    renderer.AddViewProp(arrow)
    _text(renderer, "least infiltrated:\nablation candidate", tip[0] - 30.0, tip[1] + 24.0, size=15, bold=True,
          world=True, justify="centre")
    _legend(renderer, result)
    _text(renderer, f"{DEMO_PATIENT} baseline CT, axial slice {k}  (W {CT_WINDOW_HU:g} / L {CT_LEVEL_HU:g} HU)",
          0.02, 0.955, size=16)
    _text(renderer, CAPTION, 0.02, 0.02, size=15, colour=(1.0, 0.85, 0.4))
    _text(renderer, "R", 0.02, 0.5, size=16)
    _text(renderer, "L", 0.77, 0.5, size=16, justify="right")
    _write_png(window, path)


def _eroded(mask: np.ndarray) -> np.ndarray:
    """The mask less its 4-connected boundary pixels."""
    out = mask.copy()
    out[1:, :] &= mask[:-1, :]
    out[:-1, :] &= mask[1:, :]
    out[:, 1:] &= mask[:, :-1]
    out[:, :-1] &= mask[:, 1:]
    return out


def render_3d(scene, volume, segmentation, result: SceneResult, path: Path) -> None:
    """Every lesion's closed surface in its risk colour, with names, the legend and the caption."""
    segmentation.CreateClosedSurfaceRepresentation()
    window, renderer = _render_window(*SIZE)
    scores = {row["lesion_id"]: row for row in result.rows_e0}
    decimals = nf.cutoff_decimals(result.scale.cutoff, _scores(result))
    for segment_id in mrml.segment_ids(segmentation):
        segment = segmentation.GetSegmentation().GetSegment(segment_id)
        surface = vtk.vtkPolyData()
        segmentation.GetClosedSurfaceRepresentation(segment_id, surface)
        if surface.GetNumberOfPoints() == 0:
            continue
        mapper = vtk.vtkPolyDataMapper()
        mapper.SetInputData(surface)
        mapper.ScalarVisibilityOff()
        actor = vtk.vtkActor()
        actor.SetMapper(mapper)
        actor.GetProperty().SetColor(*segment.GetColor())
        actor.GetProperty().SetSpecular(0.2)
        actor.GetProperty().SetOpacity(segmentation.GetDisplayNode().GetSegmentOpacity3D(segment_id))
        renderer.AddActor(actor)
        bounds = surface.GetBounds()
        row = scores[segment.GetName()]
        label = (f"{segment.GetName()}: {nf.fixed(row['score'], decimals)}" if row["computable"]
                 else f"{segment.GetName()}: not computable")
        if segment.GetName() == result.candidate:
            label += "  <- ablation candidate"
        _text(renderer, label, bounds[1] + 2.0, (bounds[2] + bounds[3]) / 2, (bounds[4] + bounds[5]) / 2,
              size=15, bold=segment.GetName() == result.candidate, world=True)
    # the scanned field as a thin box, for scale and orientation
    outline = vtk.vtkOutlineFilter()
    box = vtk.vtkImageData()
    box.SetDimensions(2, 2, 2)
    bounds = [0.0] * 6
    volume.GetRASBounds(bounds)
    box.SetOrigin(bounds[0], bounds[2], bounds[4])
    box.SetSpacing(bounds[1] - bounds[0], bounds[3] - bounds[2], bounds[5] - bounds[4])
    outline.SetInputData(box)
    outline_mapper = vtk.vtkPolyDataMapper()
    outline_mapper.SetInputConnection(outline.GetOutputPort())
    outline_actor = vtk.vtkActor()
    outline_actor.SetMapper(outline_mapper)
    outline_actor.GetProperty().SetColor(0.6, 0.6, 0.6)
    renderer.AddActor(outline_actor)
    renderer.SetViewport(0.0, 0.0, 0.78, 1.0)
    overlay = vtk.vtkRenderer()  # legend and captions over the whole window, the lesions left of the legend
    overlay.SetLayer(1)
    overlay.InteractiveOff()
    window.SetNumberOfLayers(2)
    window.AddRenderer(overlay)
    legend_background = vtk.vtkRenderer()
    legend_background.SetViewport(0.78, 0.0, 1.0, 1.0)
    legend_background.SetBackground(*BACKGROUND)
    window.AddRenderer(legend_background)
    camera = renderer.GetActiveCamera()
    camera.SetViewUp(0, 0, 1)
    camera.SetPosition(0.5, -1, 1.1)  # from the front, right and above
    camera.SetFocalPoint(0, 0, 0)
    renderer.ResetCamera()
    camera.Zoom(1.1)
    _legend(overlay, result)
    _text(overlay, f"{DEMO_PATIENT} baseline lesions, seen from front right, above", 0.02, 0.955, size=16)
    _text(overlay, CAPTION, 0.02, 0.02, size=15, colour=(1.0, 0.85, 0.4))
    _write_png(window, path)


def render_table(result: SceneResult, segmentation, path: Path) -> None:
    """The lesion table node as an image: key columns, score cells in their risk colour, the candidate in bold."""
    decimals = nf.cutoff_decimals(result.scale.cutoff, _scores(result))  # no score reads as the cut-off
    columns = [("lesion_id", "Lesion", "{}"), ("location", "Location", "{}"), ("volume_ml", "Volume (mL)", "{:.1f}"),
               ("longest_axial_diameter_mm", "Diameter (mm)", "{:.1f}"), ("score", "Score", f"{{:.{decimals}f}}"),
               ("score_class", "Class", "{}"), ("reason", "Note", "{}")]
    _, rows = mrml.table_node_rows(result.lesion_table)
    width, row_height = 1100, 34
    height = row_height * (len(rows) + 4)
    window, renderer = _render_window(width, height)
    renderer.SetBackground(0.97, 0.97, 0.97)
    x_positions = [0.02, 0.16, 0.29, 0.41, 0.53, 0.65, 0.79]

    def y_of(line: int) -> float:
        return 1.0 - (line + 1.6) * row_height / height

    _text(renderer, f"{DEMO_PATIENT}: lesion table (scores from the {result.signature.status.upper()} signature "
          f"{result.signature.name}; reference cut-off "
          f"{nf.cutoff_text(result.scale.cutoff, _scores(result))})", 0.02, 1.0 - 1.0 * row_height / height, size=16,
          colour=(0.1, 0.1, 0.1), bold=True)
    for x, (_, title, _) in zip(x_positions, columns):
        actor = _text(renderer, title, x, y_of(1), size=15, colour=(0.1, 0.1, 0.1), bold=True)
        actor.GetTextProperty().SetShadow(False)
    for line, row in enumerate(rows, start=2):
        is_candidate = row["lesion_id"] == result.candidate
        score = float(row["score"]) if row["score"] else None
        swatch = result.scale.rgb(score) if score is not None else NOT_COMPUTABLE_RGB
        box = (x_positions[4] - 0.01, y_of(line) - 0.25 * row_height / height, 0.10, row_height / height * 0.9)
        if score is None:  # not computable: an empty grey frame, as the outline in the views
            _rectangle(renderer, *box, swatch, filled=False)
        else:
            _rectangle(renderer, *box, swatch)
        for x, (key, _, fmt) in zip(x_positions, columns):
            value = row[key]
            if key in ("volume_ml", "longest_axial_diameter_mm", "score") and value:
                value = fmt.format(float(value))
            if key == "reason" and is_candidate:
                value = "least infiltrated: candidate"
            if key == "score_class" and not row["score"]:
                value = "not computable"
            if key == "reason" and len(value) > 30:
                value = value[:29] + "..."
            light = key == "score" and score is not None and sum(swatch) < 1.5
            actor = _text(renderer, value or "", x, y_of(line), size=15,
                          colour=(1, 1, 1) if light else (0.1, 0.1, 0.1), bold=is_candidate)
            actor.GetTextProperty().SetShadow(False)
    caption = _text(renderer, CAPTION, 0.02, 0.25 * row_height / height, size=14, colour=(0.55, 0.3, 0.0))
    caption.GetTextProperty().SetShadow(False)
    _write_png(window, path)


def _rectangle(renderer, x: float, y: float, w: float, h: float, rgb, filled: bool = True) -> None:
    """A filled (or outlined, 3 px) rectangle in normalised viewport coordinates."""
    points = vtk.vtkPoints()
    for px, py in ((x, y), (x + w, y), (x + w, y + h), (x, y + h)):
        points.InsertNextPoint(px, py, 0)
    polygon = vtk.vtkCellArray()
    data = vtk.vtkPolyData()
    data.SetPoints(points)
    if filled:
        polygon.InsertNextCell(4, [0, 1, 2, 3])
        data.SetPolys(polygon)
    else:
        polygon.InsertNextCell(5, [0, 1, 2, 3, 0])
        data.SetLines(polygon)
    coordinate = vtk.vtkCoordinate()
    coordinate.SetCoordinateSystemToNormalizedViewport()
    mapper = vtk.vtkPolyDataMapper2D()
    mapper.SetInputData(data)
    mapper.SetTransformCoordinate(coordinate)
    actor = vtk.vtkActor2D()
    actor.SetMapper(mapper)
    actor.GetProperty().SetColor(*rgb)
    actor.GetProperty().SetLineWidth(3)
    renderer.AddViewProp(actor)


def main(argv: "list[str] | None" = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent), help="folder for the PNGs")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    scene, volume, segmentation, result = demo_scene()
    written = [out / "axial_risk_colours.png", out / "3d_risk_colours.png", out / "lesion_table.png"]
    render_axial(scene, volume, segmentation, result, written[0])
    render_3d(scene, volume, segmentation, result, written[1])
    render_table(result, segmentation, written[2])
    for path in written:
        print(path)
    print(f"{len(written)} screenshots in {time.monotonic() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
