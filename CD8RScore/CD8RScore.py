"""CD8RScore: the CD8 radiomics score of every lesion of a CT, in the viewer.

The science lives in the Qt-free package CD8RScoreLib (VOIs, features, signature, scoring, patient metrics,
lesion response); its MRML adapter (``mrml``) and ``scene_scoring`` put the results into the scene. This module
gathers the inputs, runs them with a progress dialog, and shows the results. For research use only, not for
clinical decisions.
"""
import logging
from pathlib import Path
from typing import Annotated, Optional

import ctk
import qt
import vtk

import slicer
from slicer import vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode, vtkMRMLTableNode
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.parameterNodeWrapper import GuiConnector, WithinRange, parameterNodeGuiConnector, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)
from slicer.util import VTKObservationMixin

RESEARCH_USE_NOTICE = "For research use only, not for clinical decisions."
CITATION = ("Sun R, et al. A radiomics approach to assess tumour-infiltrating CD8 cells and response to anti-PD-1 "
            "or anti-PD-L1 immunotherapy: an imaging biomarker, retrospective multicohort study. "
            "Lancet Oncol 2018;19:1180-91.")
DEFAULT_MIN_VOLUME_ML = 1.0
"""Same as CD8RScoreLib.patient.DEFAULT_MIN_VOLUME_ML (the module-files test checks it)."""
COHORT_FILE_SETTING = "CD8RScore/CohortFile"
"""Application setting holding the cohort CSV chosen once in the module's settings."""
UNKNOWN_SITE = ""
"""Location choice 'not known': the lesion is scored as 'other' and its row says so."""
CONTRIBUTORS = "CD8RScore developers (CD8RScore project)"
REQUIREMENTS_FILE = "CD8RScore-requirements.txt"
"""Resources file of the packages scoring and cohort export install; named after the module, since the resources of
every module are installed into one Resources folder."""
SR_REQUIREMENTS_FILE = "CD8RScore-sr-requirements.txt"
"""Resources file of the packages Export DICOM SR installs (only that action needs them)."""


#
# CD8RScore
#


class CD8RScore(ScriptedLoadableModule):
    """Module metadata."""

    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("CD8RScore")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Quantification")]
        self.parent.dependencies = []
        self.parent.contributors = [CONTRIBUTORS]
        self.parent.helpText = _(
            "<p><b>{notice}</b></p>"
            "<p>CD8 radiomics score of every segmented lesion of a CT: a core VOI and a 2 mm peritumoral ring at "
            "1 mm isotropic, five radiomic features with fixed 10 HU bins from -1000 HU, two location terms and "
            "the scan's kVp, combined by a signature read from a JSON file. The lesion table, a patient summary "
            "(inter-lesion heterogeneity), each lesion coloured by its score with a legend, and the least-"
            "infiltrated lesion (lowest score): the candidate for focal ablative therapy.</p>"
            "<p>With a follow-up CT and segmentation, lesions are matched by segment name and classified with "
            "RECIST 1.1 thresholds on the longest axial diameter. 'Add patient to cohort' appends the lesion rows "
            "to the cohort table analysed by the CD8RScore Cohort module.</p>"
            "<p>The bundled signature is a DEMONSTRATION: its coefficients are not the published CD8-Rscore.</p>"
            "<p>Method: {citation}</p>").format(notice=RESEARCH_USE_NOTICE, citation=CITATION)
        self.parent.helpText += documentationLink()
        self.parent.acknowledgementText = _(
            "Radiomic features are computed with pyradiomics (van Griethuysen et al., Cancer Res 2017). "
            "Signature method: {citation}").format(citation=CITATION)
        slicer.app.connect("startupCompleted()", registerSampleData)


def documentationLink() -> str:
    """Help-text paragraph linking the extension's documentation (its README, beside the module folders).

    Not ScriptedLoadableModule.getDefaultModuleDocumentationLink: that links Slicer's own documentation
    (qSlicerCoreApplication::moduleDocumentationUrl), which has no page for an extension's module.
    """
    readme = Path(__file__).resolve().parent.parent / "README.md"
    if not readme.is_file():  # an installed extension: the README is on the extension's page
        return "<p>" + _("Documentation: the CD8RScore extension's README.") + "</p>"
    url = qt.QUrl.fromLocalFile(str(readme)).toString()
    return "<p>" + _("For more information, see the {start}documentation{end}.").format(
        start=f'<a href="{url}">', end="</a>") + "</p>"


SAMPLE_DATA_CATEGORY = "CD8RScore"
"""Section of the Sample Data module that lists the module's ready cases."""
SAMPLE_DATA_SHA256 = {
    "lung1_crop_image.nrrd": "ac3a572411b7e0478f0d8fe59e119a834a7462ba1b83957b7a6c926ee170e55d",
    "lung1_crop_label.nrrd": "5a3b846097d6a246e24883e9176ad049f73003a4e6fd23b50ffa91e72cf4a0da",
    "lung2_crop_image.nrrd": "35ae863e5b2e8a981341c1ebe962dd15100224266573ce74b1768d872003508a",
    "lung2_crop_label.nrrd": "3809287abee4305b7f84b2834e6f1ad8bfdd9aed1341457bdfaa5b02cef4ec29",
}
"""SHA-256 of each file of Resources/SampleData (the module-files test checks them): Sample Data verifies its cached
copy against it and fetches a changed file again."""


def registerSampleData() -> None:
    """List the two lung CT crops of Resources/SampleData (CT and lesion label map each) in the Sample Data
    module, so a new user can load a ready case (SampleData.SampleDataLogic.registerCustomSampleDataSource)."""
    import SampleData

    folder = Path(__file__).resolve().parent / "Resources" / "SampleData"
    for case in ("lung1", "lung2"):
        files = [f"{case}_crop_image.nrrd", f"{case}_crop_label.nrrd"]
        SampleData.SampleDataLogic.registerCustomSampleDataSource(
            category=SAMPLE_DATA_CATEGORY, sampleName=f"CD8RScore {case}",
            uris=[(folder / name).as_uri() for name in files], fileNames=files,
            checksums=[f"SHA256:{SAMPLE_DATA_SHA256[name]}" for name in files],
            nodeNames=[f"{case} CT", f"{case} lesions"], loadFileTypes=["VolumeFile", "SegmentationFile"],
            thumbnailFileName=str(Path(__file__).resolve().parent / "Resources" / "Icons" / "CD8RScore.png"))


def ensurePythonRequirements(requirementsFile: Path, requester: str) -> None:
    """Install the requirements of a module's requirements file that are not met, after asking the user.

    The one installer of both modules (the cohort module imports it). Requirements are read with ``packaging``
    (CD8RScoreLib.python_packages); an importable radiomics (SlicerRadiomics' or a pip-installed pyradiomics)
    meets the pyradiomics requirement, so no second copy shadows it; the packages Slicer bundles stay as they are
    (python_packages.install_unmet). Raises RuntimeError if the user declines, or with one sentence saying what to
    do if pip fails (pip's output goes to the Python console).
    """
    import subprocess

    from CD8RScoreLib.python_packages import install_failure_message, install_unmet, unmet_requirements

    missing = unmet_requirements(requirementsFile)
    if not missing:
        return
    if not slicer.util.confirmOkCancelDisplay(
            _("{requester} needs these Python packages: {missing}. Install them now?").format(
                requester=requester, missing=", ".join(missing))):
        raise RuntimeError(_("Missing Python packages: {missing}").format(missing=", ".join(missing)))
    try:
        with slicer.util.WaitCursor():
            install_unmet(requirementsFile, slicer.util.pip_install)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(install_failure_message(missing)) from exc


#
# CD8RScoreParameterNode
#


@parameterNodeWrapper
class CD8RScoreParameterNode:
    """
    inputVolume - the baseline CT (HU).
    inputSegmentation - one segment per lesion of the baseline CT.
    followupVolume, followupSegmentation - optional first-evaluation CT and its lesions (same segment names).
    patientId - patient identifier written in every row.
    kvp - peak kilovoltage of the baseline typed by the user (kV); 0 = read from DICOM, else the signature's
        assumed value.
    followupKvp - the same for the follow-up scan (each scan keeps its own source).
    signaturePath - signature JSON; empty = the bundled demonstration signature.
    minVolumeMl - the patient summary considers lesions larger than this (mL).
    banner - which signature produced the scores, and DEMONSTRATION when it is one.
    kvpNote - where kVp came from in the last run.
    candidate - the least-infiltrated lesion of the last run.
    perturbations - number of image perturbations for the robustness of each score (0 = off).
    candidateAgreement - share of perturbations in which the candidate stayed the lowest, in the last run.
    lesionTable, followupTable, patientTable - results of the last run.
    """

    inputVolume: vtkMRMLScalarVolumeNode
    inputSegmentation: vtkMRMLSegmentationNode
    followupVolume: vtkMRMLScalarVolumeNode
    followupSegmentation: vtkMRMLSegmentationNode
    patientId: str = ""
    kvp: Annotated[float, WithinRange(0.0, 200.0)] = 0.0
    followupKvp: Annotated[float, WithinRange(0.0, 200.0)] = 0.0
    signaturePath: Optional[Path]
    minVolumeMl: Annotated[float, WithinRange(0.0, 1000.0)] = DEFAULT_MIN_VOLUME_ML
    banner: str = ""
    kvpNote: str = ""
    candidate: str = ""
    perturbations: Annotated[int, WithinRange(0, 100)] = 0
    candidateAgreement: str = ""
    lesionTable: vtkMRMLTableNode
    followupTable: vtkMRMLTableNode
    patientTable: vtkMRMLTableNode


def skipUnlessInstalled(testCase, requirementsFile: Path) -> None:
    """Skip ``testCase``, naming them, when Python packages of ``requirementsFile`` are not installed (a clean
    Slicer in --testing mode installs nothing)."""
    from CD8RScoreLib.python_packages import unmet_requirements

    missing = unmet_requirements(requirementsFile)
    if missing:
        testCase.skipTest(f"skipped: Python packages not installed: {', '.join(missing)} (the module installs "
                          "them when it first runs, or use slicer.util.pip_install)")


def pathIsSet(path: Optional[Path]) -> bool:
    """A path field holds a path (None when empty; "." in a scene saved by an earlier version)."""
    return path is not None and str(path) not in ("", ".")


@parameterNodeGuiConnector
class OptionalPathConnector(GuiConnector):
    """An ``Optional[Path]`` parameter in a ctkPathLineEdit: an empty field is None, shown empty (Slicer's own
    Path connector binds plain Path only, whose default Path() shows as ".")."""

    @staticmethod
    def canRepresent(widget, datatype) -> bool:
        return type(widget) == ctk.ctkPathLineEdit and datatype == Optional[Path]

    @staticmethod
    def create(widget, datatype):
        return OptionalPathConnector(widget) if OptionalPathConnector.canRepresent(widget, datatype) else None

    def __init__(self, widget) -> None:
        super().__init__()
        self._widget = widget

    def _connect(self) -> None:
        self._widget.currentPathChanged.connect(self.changed)

    def _disconnect(self) -> None:
        self._widget.currentPathChanged.disconnect(self.changed)

    def widget(self):
        return self._widget

    def read(self) -> Optional[Path]:
        text = self._widget.currentPath
        return Path(text) if text and text != "." else None

    def write(self, value: Optional[Path]) -> None:
        self._widget.currentPath = str(value) if pathIsSet(value) else ""


#
# CD8RScoreWidget
#


class CD8RScoreWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """The module panel: inputs, lesion locations, score, results, follow-up and cohort export."""

    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._observedSegmentation = None
        self._locationSegmentIds = None

    def setup(self) -> None:
        """Load the .ui, bind the parameter node, connect the buttons."""
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/CD8RScore.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)

        self.logic = CD8RScoreLogic()

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)

        self.ui.cohortPathLineEdit.currentPath = qt.QSettings().value(COHORT_FILE_SETTING, "")
        self.ui.cohortPathLineEdit.connect("currentPathChanged(QString)", self.onCohortPathChanged)
        self.ui.inputSegmentationSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.onSegmentationChanged)
        self.ui.inputVolumeSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.onVolumeChanged)
        self.ui.scoreButton.connect("clicked(bool)", self.onScoreButton)
        self.ui.centreCandidateButton.connect("clicked(bool)", self.onCentreCandidateButton)
        self.ui.addToCohortButton.connect("clicked(bool)", self.onAddToCohortButton)
        self.ui.exportSrButton.connect("clicked(bool)", self.onExportSrButton)
        from CD8RScoreLib import mrml

        for selector, kind in ((self.ui.lesionTableSelector, "lesions E0"), (self.ui.patientTableSelector, "patient"),
                               (self.ui.followupTableSelector, "lesions E1")):
            selector.addAttribute("vtkMRMLTableNode", mrml.RESULT_TABLE_ATTRIBUTE, kind)  # this module's tables only
            selector.connect("nodeActivated(vtkMRMLNode*)", self.onTableSelected)  # the user's choice only

        self.initializeParameterNode()

    def cleanup(self) -> None:
        """Called when the application closes and the module widget is destroyed."""
        self.removeObservers()

    def enter(self) -> None:
        """Called each time the user opens this module."""
        self.initializeParameterNode()

    def exit(self) -> None:
        """Called each time the user opens a different module."""
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateButtons)

    def onSceneStartClose(self, caller, event) -> None:
        """Called just before the scene is closed."""
        self.setParameterNode(None)
        self.onSegmentationChanged(None)

    def onSceneEndClose(self, caller, event) -> None:
        """Called just after the scene is closed."""
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        """Ensure the parameter node exists, is observed, and has a CT and a segmentation if the scene has them."""
        self.setParameterNode(self.logic.getParameterNode())
        p = self._parameterNode
        if not p.inputVolume:
            from CD8RScoreLib import mrml

            p.inputVolume = mrml.first_ct_volume(slicer.mrmlScene)  # never a label map
        if not p.inputSegmentation:
            p.inputSegmentation = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLSegmentationNode")

    def setParameterNode(self, inputParameterNode: Optional[CD8RScoreParameterNode]) -> None:
        """Set and observe the parameter node; widgets with a SlicerParameterName property follow it."""
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateButtons)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateButtons)
            self._updateButtons()
            self.onSegmentationChanged(self._parameterNode.inputSegmentation)

    def _updateButtons(self, caller=None, event=None) -> None:
        p = self._parameterNode
        ready = bool(p and p.inputVolume and p.inputSegmentation and p.patientId.strip())
        self.ui.scoreButton.enabled = ready
        self.ui.scoreButton.toolTip = (_("Score every lesion of the segmentation") if ready else
                                       _("Select the CT and the lesion segmentation, and type the patient ID"))
        self.ui.centreCandidateButton.enabled = bool(p and p.candidate and p.inputSegmentation)
        self.ui.addToCohortButton.enabled = bool(p and p.lesionTable and self.ui.cohortPathLineEdit.currentPath)
        self.ui.exportSrButton.enabled = bool(p and p.lesionTable)
        self.ui.bannerLabel.visible = bool(p and p.banner)

    def _setActionsEnabled(self, enabled: bool) -> None:
        """Enable or disable the inputs and the action buttons (disabled while a run is in progress)."""
        for widget in (self.ui.inputsCollapsibleButton, self.ui.locationsCollapsibleButton,
                       self.ui.followupCollapsibleButton, self.ui.settingsCollapsibleButton,
                       self.ui.resultsCollapsibleButton, self.ui.scoreButton, self.ui.addToCohortButton,
                       self.ui.centreCandidateButton):
            widget.enabled = enabled
        if enabled:
            self._updateButtons()

    # --- inputs

    def onVolumeChanged(self, volumeNode) -> None:
        """Pre-fill the patient ID from the volume's DICOM data, else from its name."""
        p = self._parameterNode
        if p and volumeNode and not p.patientId.strip():
            p.patientId = self.logic.patientIdFor(volumeNode)

    def onSegmentationChanged(self, segmentationNode) -> None:
        """Observe the segmentation and list its segments with their locations."""
        if self._observedSegmentation is not None:
            for event in (slicer.vtkSegmentation.SegmentAdded, slicer.vtkSegmentation.SegmentRemoved,
                          slicer.vtkSegmentation.SegmentModified):
                self.removeObserver(self._observedSegmentation, event, self._fillLocationTable)
        self._observedSegmentation = segmentationNode
        if segmentationNode is not None:
            for event in (slicer.vtkSegmentation.SegmentAdded, slicer.vtkSegmentation.SegmentRemoved,
                          slicer.vtkSegmentation.SegmentModified):
                self.addObserver(segmentationNode, event, self._fillLocationTable)
        self._fillLocationTable()

    def _fillLocationTable(self, caller=None, event=None) -> None:
        """One row per segment: its name and a location list, pre-filled from its tag, name or terminology.

        The lists are rebuilt only when the segments change; otherwise (e.g. a tag or colour was modified) their
        choices are updated in place, so a list is never deleted while it is being used.
        """
        from CD8RScoreLib import mrml
        from CD8RScoreLib.locations import SITE_CATEGORY

        table = self.ui.locationTableWidget
        segmentationNode = self._observedSegmentation
        segmentIds = mrml.segment_ids(segmentationNode) if segmentationNode else []
        rebuild = segmentIds != self._locationSegmentIds
        self._locationSegmentIds = segmentIds
        if rebuild:
            table.setRowCount(len(segmentIds))
        for row, segmentId in enumerate(segmentIds):
            segment = segmentationNode.GetSegmentation().GetSegment(segmentId)
            nameItem = qt.QTableWidgetItem(segment.GetName())
            nameItem.setFlags(qt.Qt.ItemIsEnabled)
            table.setItem(row, 0, nameItem)
            if rebuild:
                combo = qt.QComboBox()
                combo.addItem(_("(not known: other)"), UNKNOWN_SITE)
                for name in SITE_CATEGORY:
                    combo.addItem(name.replace("_", " "), name)
                combo.connect("currentIndexChanged(int)",
                              lambda index, s=segmentId, c=combo: self._onLocationChosen(s, c.itemData(index)))
                table.setCellWidget(row, 1, combo)
            combo = table.cellWidget(row, 1)
            site, source = mrml.segment_location(segmentationNode, segmentId)
            combo.blockSignals(True)
            combo.setCurrentIndex(max(combo.findData(site or UNKNOWN_SITE), 0))
            combo.blockSignals(False)
            combo.toolTip = {"tag": _("stored on the segment"), "name": _("from the segment name"),
                             "terminology": _("from the segment terminology")}.get(
                source, _("choose the lesion's site"))
        table.resizeColumnToContents(0)

    def _onLocationChosen(self, segmentId: str, site: str) -> None:
        """Store the chosen site on the segment (tag), so it is saved with the segmentation."""
        from CD8RScoreLib import mrml

        with slicer.util.tryWithErrorDisplay(_("Could not store the location.")):
            if site == UNKNOWN_SITE:
                self._observedSegmentation.GetSegmentation().GetSegment(segmentId).RemoveTag(mrml.LOCATION_TAG)
            else:
                mrml.set_segment_location(self._observedSegmentation, segmentId, site)

    def onCohortPathChanged(self, path: str) -> None:
        """Remember the cohort file in the application settings."""
        qt.QSettings().setValue(COHORT_FILE_SETTING, path)
        self._updateButtons()

    # --- actions

    def onScoreButton(self) -> None:
        """Score the lesions with a progress dialog that can cancel, then show the tables and the candidate."""
        p = self._parameterNode
        with slicer.util.tryWithErrorDisplay(_("Scoring failed."), waitCursor=True):
            self.logic.ensureRequirements()
            from CD8RScoreLib.scoring import ScoringCancelled  # needs the packages just ensured

            nLesions = p.inputSegmentation.GetSegmentation().GetNumberOfSegments()
            if p.followupSegmentation:
                nLesions += p.followupSegmentation.GetSegmentation().GetNumberOfSegments()
            # application-modal, and the panel's actions disabled, while scoring runs (as SegmentStatistics does):
            # no second run, no input change and no scene close mid-run; Cancel is checked at every step
            progress = slicer.util.createProgressDialog(
                windowTitle=_("CD8RScore"), labelText=_("Scoring lesions..."), maximum=max(nLesions, 1),
                windowModality=qt.Qt.ApplicationModal, autoClose=False)
            self._setActionsEnabled(False)

            def onProgress(done: int, total: int, label: str) -> None:
                progress.maximum = max(total, 1)
                progress.value = min(done, total)
                progress.labelText = _("Scoring: {label} ({done}/{total} lesions)").format(label=label, done=done,
                                                                                           total=total)
                slicer.app.processEvents()

            def shouldCancel() -> bool:
                slicer.app.processEvents()  # lets the Cancel click arrive between steps
                return progress.wasCanceled

            try:
                result = self.logic.score(p, progress=onProgress, shouldCancel=shouldCancel)
            except ScoringCancelled:
                slicer.util.showStatusMessage(_("Scoring cancelled; nothing was changed."), 5000)
                return
            finally:
                progress.close()
                self._setActionsEnabled(True)
            if pathIsSet(p.signaturePath):
                self.ui.signaturePathLineEdit.addCurrentPathToHistory()  # offered next time (its settingKey)
            self.onTableSelected(result.lesion_table)
            if result.candidate:
                self.logic.centreOnCandidate(p)

    def onCentreCandidateButton(self) -> None:
        """Centre the slice views on the least-infiltrated lesion."""
        with slicer.util.tryWithErrorDisplay(_("Could not centre the views.")):
            self.logic.centreOnCandidate(self._parameterNode)

    def onAddToCohortButton(self) -> None:
        """Append this patient's lesion rows to the cohort file; asks before replacing the patient's rows."""
        path = self.ui.cohortPathLineEdit.currentPath
        with slicer.util.tryWithErrorDisplay(_("Could not add the patient to the cohort.")):
            self.logic.ensureRequirements()  # filelock, also after a saved scene is loaded in a fresh Slicer
            from CD8RScoreLib.cohort_file import DuplicateCaseError

            try:
                added = self.logic.addToCohort(self._parameterNode, path, replace=False)
            except DuplicateCaseError as exc:
                cases = ", ".join(f"{patient} {timepoint}" for patient, timepoint in exc.cases)
                if not slicer.util.confirmYesNoDisplay(
                        _("The cohort {path} already holds {cases}. Replace those rows with this patient's?")
                        .format(path=path, cases=cases)):
                    return
                added = self.logic.addToCohort(self._parameterNode, path, replace=True)
            slicer.util.showStatusMessage(
                _("Added {n} rows to {path} ({total} rows in the cohort).").format(n=added.added, path=path,
                                                                                   total=added.total), 5000)

    def onExportSrButton(self) -> None:
        """Write the lesion table as a DICOM SR (TID 1500) to a file the user chooses."""
        path = qt.QFileDialog.getSaveFileName(None, _("Export DICOM SR"), f"{self._parameterNode.patientId}_SR.dcm",
                                              _("DICOM (*.dcm)"))
        if not path:
            return
        with slicer.util.tryWithErrorDisplay(_("Could not export the DICOM SR."), waitCursor=True):
            written = self.logic.exportDicomSr(self._parameterNode, path)
            slicer.util.showStatusMessage(_("DICOM SR written to {path}").format(path=written), 5000)

    def onTableSelected(self, tableNode) -> None:
        """Show the chosen table in the table view."""
        if tableNode:
            layoutManager = slicer.app.layoutManager()
            # a layout with a table view, from the current one (unchanged if it has one)
            layoutManager.setLayout(slicer.vtkSlicerTablesLogic.GetLayoutWithTable(layoutManager.layout))
            appLogic = slicer.app.applicationLogic()
            appLogic.GetSelectionNode().SetActiveTableID(tableNode.GetID())
            appLogic.PropagateTableSelection()


#
# CD8RScoreLogic
#


class CD8RScoreLogic(ScriptedLoadableModuleLogic):
    """Glue between the parameter node and CD8RScoreLib; usable without the widget."""

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)

    def getParameterNode(self):
        """The module's parameter node, typed."""
        return CD8RScoreParameterNode(super().getParameterNode())

    def ensureRequirements(self, requirementsFile: str = REQUIREMENTS_FILE) -> None:
        """Install the packages of a Resources requirements file (scoring's by default) that are missing, after
        asking the user."""
        ensurePythonRequirements(self.resourcePath(requirementsFile), "CD8RScore")

    def resourcePath(self, relativePath: str) -> Path:
        """A file of this module's Resources folder."""
        return Path(__file__).resolve().parent / "Resources" / relativePath

    def patientIdFor(self, volumeNode) -> str:
        """Patient ID from the volume's DICOM files, else the volume's name."""
        from CD8RScoreLib import mrml

        found = mrml.dicom_acquisition(volumeNode, getattr(slicer, "dicomDatabase", None))
        return found.patient_id or volumeNode.GetName()

    def kvpFor(self, volumeNode, typedKvp: float, signature):
        """KvpInfo of one scan: the value typed for this scan (kV) if > 0, else its DICOM tag (0018,0060), else the
        signature's assumed value; the source is recorded in every row."""
        from CD8RScoreLib.scene_scoring import scan_kvp

        return scan_kvp(volumeNode, typedKvp, signature, getattr(slicer, "dicomDatabase", None))

    def loadSignature(self, path: Optional[Path]):
        """The signature of the file at path, else the bundled demonstration signature."""
        from CD8RScoreLib.signature import default_signature_path, load_signature

        return load_signature(path if pathIsSet(path) else default_signature_path())

    def score(self, p: CD8RScoreParameterNode, progress=None, shouldCancel=None):
        """Score the baseline (and follow-up) lesions of the parameter node's inputs into the scene.

        Fills the parameter node's tables, banner, kVp note and candidate; returns scene_scoring.SceneResult.
        """
        from CD8RScoreLib.scene_scoring import score_patient_in_scene

        if not p.inputVolume or not p.inputSegmentation:
            raise ValueError(_("Select the CT volume and the lesion segmentation."))
        if bool(p.followupVolume) != bool(p.followupSegmentation):
            raise ValueError(_("For a follow-up, select both its CT volume and its segmentation."))
        signature = self.loadSignature(p.signaturePath)
        kvp = self.kvpFor(p.inputVolume, p.kvp, signature)
        followupKvp = self.kvpFor(p.followupVolume, p.followupKvp, signature) if p.followupVolume else None
        previous = self._previousResult(p)
        result = score_patient_in_scene(
            slicer.mrmlScene, p.inputVolume, p.inputSegmentation, signature, p.patientId.strip(), kvp,
            min_volume_ml=p.minVolumeMl, followup_volume_node=p.followupVolume or None,
            followup_segmentation_node=p.followupSegmentation or None, followup_kvp=followupKvp,
            progress=progress, should_cancel=shouldCancel, previous=previous, perturbations=p.perturbations,
            dicom_database=getattr(slicer, "dicomDatabase", None))
        p.lesionTable, p.patientTable = result.lesion_table, result.patient_table
        p.followupTable = result.followup_table
        p.candidate = result.candidate or ""
        p.candidateAgreement = result.candidate_agreement_text
        p.banner = self.bannerText(signature)
        notes = {"user": _("{kv:g} kV as typed"), "dicom": _("{kv:g} kV from DICOM (0018,0060)"),
                 "assumed": _("kVp unknown: {kv:g} kV assumed (type it to override)")}
        p.kvpNote = notes[kvp.source].format(kv=kvp.kvp)
        if followupKvp is not None:
            p.kvpNote += "; " + _("follow-up: {note}").format(note=notes[followupKvp.source].format(kv=followupKvp.kvp))
        logging.info(f"CD8RScore: {len(result.rows_e0)} lesions scored with {signature.label}; "
                     f"least-infiltrated lesion: {result.candidate}")
        return result

    @staticmethod
    def bannerText(signature) -> str:
        """What every displayed score carries: the signature's name and status, in capitals when not published."""
        if signature.status == "demonstration":
            return _("Scores use the DEMONSTRATION signature {name}: its coefficients are not the published "
                     "CD8-Rscore.").format(name=signature.name)
        return _("Scores use the signature {label}.").format(label=signature.label)

    def _previousResult(self, p: CD8RScoreParameterNode):
        """The table nodes of the last run; scoring updates them in place only if they are this module's tables of
        the same patient (scene_scoring), else it makes new ones named after the patient."""
        from types import SimpleNamespace

        if not p.lesionTable:
            return None
        return SimpleNamespace(lesion_table=p.lesionTable, patient_table=p.patientTable or None,
                               followup_table=p.followupTable or None)

    def centreOnCandidate(self, p: CD8RScoreParameterNode) -> tuple:
        """Centre every slice view on the least-infiltrated lesion; returns its centre (RAS, mm)."""
        from CD8RScoreLib import mrml

        if not p.candidate:
            raise ValueError(_("No candidate lesion: score the lesions first."))
        return mrml.centre_views_on_segment(slicer.mrmlScene, p.inputSegmentation, p.candidate)

    def exportDicomSr(self, p: CD8RScoreParameterNode, outPath: str) -> Path:
        """Write the last run's lesion table as a DICOM SR referencing the CT and segmentation loaded from DICOM."""
        from CD8RScoreLib import mrml

        if not p.lesionTable:
            raise ValueError(_("Score the lesions first."))
        self.ensureRequirements(SR_REQUIREMENTS_FILE)
        from CD8RScoreLib.dicom_sr import report_evidence, write_structured_report  # needs the packages just ensured
        database = getattr(slicer, "dicomDatabase", None)
        ctFiles = mrml.dicom_files(p.inputVolume, database)
        segmentationFiles = mrml.dicom_files(p.inputSegmentation, database)
        if not ctFiles:
            raise ValueError(_("The CT was not loaded from the DICOM database: a DICOM SR references it by its "
                               "DICOM identifiers."))
        if len(segmentationFiles) != 1:
            raise ValueError(_("The segmentation was not loaded from a DICOM SEG or RTSTRUCT: a DICOM SR references "
                               "it by its DICOM identifiers. Export it as DICOM SEG first."))
        _columns, rows = mrml.table_node_rows(p.lesionTable)
        return write_structured_report(outPath, rows, self.loadSignature(p.signaturePath),
                                       report_evidence(ctFiles, segmentationFiles[0]))

    def addToCohort(self, p: CD8RScoreParameterNode, cohortPath: str, replace: bool = False):
        """Append the lesion rows (E0, and E1 if scored) of the last run to the cohort CSV.

        Atomic, under a lock, never truncating; raises cohort_file.DuplicateCaseError for a patient/timepoint
        already there unless replace. Returns cohort_file.AddResult.
        """
        from CD8RScoreLib.cohort_file import add_rows
        from CD8RScoreLib.scene_scoring import cohort_export_rows

        if not cohortPath:
            raise ValueError(_("Choose the cohort file in the settings section."))
        if not p.lesionTable:
            raise ValueError(_("Score the lesions first."))
        columns, rows = cohort_export_rows(p.lesionTable, p.followupTable or None)
        return add_rows(cohortPath, columns, rows, replace=replace, source=p.lesionTable.GetName())


#
# CD8RScoreTest
#


class CD8RScoreTest(ScriptedLoadableModuleTest):
    """A synthetic CT with three spherical lesions through the logic: table, colours, candidate, cohort."""

    def setUp(self):
        """Start from an empty scene; skip when packages the test needs are not installed."""
        skipUnlessInstalled(self, Path(__file__).resolve().parent / "Resources" / REQUIREMENTS_FILE)
        slicer.mrmlScene.Clear()

    def runTest(self):
        """Run every test (reports the skip in the GUI's Reload and Test)."""
        import unittest

        try:
            self.setUp()
        except unittest.SkipTest as skipped:
            self.delayDisplay(str(skipped))
            return
        self.test_ThreeLesionsTableAndColours()

    def test_ThreeLesionsTableAndColours(self):
        """Three spherical lesions of known size: one row each, colours along the risk map, candidate, export."""
        import tempfile

        import numpy as np

        from CD8RScoreLib import mrml
        from CD8RScoreLib.lesion_table import lesion_columns
        from CD8RScoreLib.synthetic import make_patient

        self.delayDisplay("Building a synthetic CT with three spherical lesions")
        patient = make_patient(n_lesions=3, seed=3, radius_range_mm=(7.0, 11.0), sites=("liver", "node", "lung"))
        names = {1: "liver 1", 2: "LN 2", 3: "lung 3"}
        volume = mrml.image_to_volume_node(slicer.mrmlScene, patient.image, "Synthetic CT")
        segmentation = mrml.label_image_to_segmentation(slicer.mrmlScene, patient.labels, volume, names)

        logic = CD8RScoreLogic()
        p = logic.getParameterNode()
        p.inputVolume, p.inputSegmentation, p.patientId, p.kvp = volume, segmentation, "SYNTHETIC-3", 120.0
        self.delayDisplay("Scoring")
        result = logic.score(p)

        table = p.lesionTable
        self.assertEqual(table.GetNumberOfRows(), 3)
        columns = [table.GetTable().GetColumn(c).GetName() for c in range(table.GetNumberOfColumns())]
        self.assertEqual(columns, lesion_columns(result.signature.feature_keys))
        self.assertEqual(table.GetColumnUnitLabel("volume_ml"), "mL")
        self.assertIn("DEMONSTRATION", p.banner)
        self.assertIn("as typed", p.kvpNote)

        scored = sorted((r for r in result.rows_e0 if r["computable"]), key=lambda r: r["score"])
        self.assertEqual(len(scored), 3)
        sites = {r["lesion_id"]: r["location"] for r in result.rows_e0}
        self.assertEqual(sites, {"liver 1": "liver", "LN 2": "node", "lung 3": "lung"})
        for row in scored:
            segment = segmentation.GetSegmentation().GetSegment(mrml.segment_id_by_name(segmentation,
                                                                                        row["lesion_id"]))
            self.assertTrue(np.allclose(segment.GetColor(), result.scale.rgb(row["score"])))
        indices = [result.scale.index(r["score"]) for r in scored]
        self.assertEqual(indices, sorted(indices))
        self.assertEqual(p.candidate, scored[0]["lesion_id"])
        self.assertIsNotNone(result.legend)

        centre = logic.centreOnCandidate(p)
        red = slicer.app.layoutManager().sliceWidget("Red").mrmlSliceNode()
        self.assertAlmostEqual(red.GetSliceToRAS().GetElement(2, 3), centre[2], places=3)

        cohort = Path(tempfile.mkdtemp(dir=slicer.app.temporaryPath)) / "cohort.csv"
        self.assertEqual(logic.addToCohort(p, str(cohort)).total, 3)
        from CD8RScoreLib.cohort_file import DuplicateCaseError

        with self.assertRaises(DuplicateCaseError):
            logic.addToCohort(p, str(cohort))
        self.delayDisplay("Test passed")
