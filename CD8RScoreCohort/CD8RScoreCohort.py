"""CD8RScore Cohort: the cohort statistics of the melanoma study in Slicer.

The statistics live in the Qt-free package CD8RScoreCohortLib (``analysis.run_cohort``); its MRML part
(``mrml_views``) turns the results into table and plot chart nodes. This module only gathers the inputs, runs
them, and shows the nodes. For research use only, not for clinical decisions.
"""
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Annotated, Optional

import qt
import vtk

import slicer
from slicer import vtkMRMLPlotChartNode, vtkMRMLTableNode
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.parameterNodeWrapper import WithinRange, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)
from slicer.util import VTKObservationMixin

# CD8RScore (a declared dependency) provides the installer, the Optional[Path] connector of the path fields (used
# by connectGui once imported), whether such a field is set, the documentation link, the contributors and the
# self-test's skip
from CD8RScore import (CONTRIBUTORS, OptionalPathConnector, documentationLink,  # noqa: F401
                       ensurePythonRequirements, pathIsSet, skipUnlessInstalled)

RESEARCH_USE_NOTICE = "For research use only, not for clinical decisions."
CITATION = ("Sun R, et al. Radiomics to evaluate interlesion heterogeneity and to predict lesion response and "
            "patient outcomes using a validated signature of CD8 cells in advanced melanoma patients treated "
            "with anti-PD1 immunotherapy. J Immunother Cancer 2022;10:e004867.")
DEFAULT_SEED = 20220101
"""Same as CD8RScoreCohortLib.analysis.DEFAULT_SEED (the self-test checks it)."""
DEFAULT_MIN_VOLUME_ML = 1.0
"""Same as CD8RScoreCohortLib.analysis.DEFAULT_MIN_VOLUME_ML (the self-test checks it)."""
REQUIREMENTS_FILE = "CD8RScoreCohort-requirements.txt"
"""Resources file of the packages the module installs; named after the module, since the resources of every module
are installed into one Resources folder."""


#
# CD8RScoreCohort
#


class CD8RScoreCohort(ScriptedLoadableModule):
    """Module metadata."""

    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("CD8RScore Cohort")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Quantification")]
        self.parent.dependencies = ["CD8RScore"]  # its installer, documentation link and contributors
        self.parent.contributors = [CONTRIBUTORS]
        self.parent.helpText = _(
            "<p><b>{notice}</b></p>"
            "<p>Cohort statistics of the CD8 radiomics score: lesion-level AUC of the baseline score for "
            "progression (DeLong CI), odds ratio at the reference cut-off, patient-level Kaplan-Meier curves, "
            "log-rank tests and Cox hazard ratios of the minimum, maximum and mean lesion score (reference "
            "cut-off, and a cut-off optimised by maximally selected log-rank on a seeded 2/3 training set and "
            "tested on the other third), multivariate Cox models, prediction of progressive disease and a "
            "12/24-month OS nomogram.</p>"
            "<p>Inputs: the lesion table exported by the CD8RScore module (baseline E0 and first evaluation E1 rows) "
            "and a clinical table (CSV, one row per patient). Required: patient_id, os_time (months) and os_event (1 "
            "= death, 0 = censored). Optional: pfs_time and pfs_event, together (months; 1 = progression or death; "
            "without them the PFS analyses are not run), pd_at_e1 (progressive disease at E1, 1/0), "
            "best_overall_response (CR, PR, SD, PD or NE over the whole follow-up) and simulated (1 = simulated "
            "rows). Covariates are the columns with a recognised name (upper or lower case): ldh_uln / ldh_x_uln / "
            "ldh_ratio_uln (LDH > ULN), albumin_g_l / albumin (albumin &lt; 35 g/L), crp_mg_l / crp (CRP >= 10 mg/L), "
            "neutrophils_g_l / neutrophils / neutrophils_10e9_l (neutrophils >= 7 x10^9/L), nlr (NLR > 6), age "
            "(median split), sex (categories); the minimum score, the number of lesions and the organ sites (from "
            "the lesion table) and the RMH and GRIm scores (from these columns) are added. Every other column is "
            "listed as not used (the command line's cohort --covariates names others). The survival analyses of an "
            "endpoint need at least 10 patients with a scored lesion larger than the minimum lesion volume and 5 "
            "events among them; the report lists each analysis not run, with the reason.</p>"
            "<p>Outputs in the chosen folder: results.json, CSV tables, PNG figures and report.html; the summary "
            "tables and the Kaplan-Meier and ROC curves are shown in Slicer's views.</p>"
            "<p>Methods: {citation}</p>").format(notice=RESEARCH_USE_NOTICE, citation=CITATION)
        self.parent.helpText += documentationLink()
        self.parent.acknowledgementText = _(
            "Statistical methods follow the melanoma study: {citation} "
            "The CD8 radiomics signature: Sun R, et al. Lancet Oncol 2018;19:1180-91.").format(citation=CITATION)


#
# CD8RScoreCohortParameterNode
#


@parameterNodeWrapper
class CD8RScoreCohortParameterNode:
    """
    lesionsPath - lesion table (CSV, one row per lesion and timepoint) exported by CD8RScore.
    clinicalPath - clinical table (CSV, docs/clinical-table.md): patient_id, os_time, os_event; optional pfs_time and
        pfs_event, pd_at_e1, best_overall_response, simulated and the covariates of a recognised name.
    outputFolder - folder for results.json, the CSV tables, the PNG figures and report.html.
    seed - seed of the 2/3 training, 1/3 test split of patients.
    useReferenceCutoff - use referenceCutoff instead of the cut-off of the signature named by the rows.
    referenceCutoff - reference cut-off of the score (signature scale).
    minVolumeMl - patient metrics use lesions larger than this (mL).
    banner - signature name and status of the last analysis, and SIMULATED for simulated data.
    chart - plot chart shown in the plot view.
    table - table shown in the table view.
    """

    lesionsPath: Optional[Path]
    clinicalPath: Optional[Path]
    outputFolder: Optional[Path]
    seed: Annotated[int, WithinRange(0, 2147483647)] = DEFAULT_SEED
    useReferenceCutoff: bool = False
    referenceCutoff: Annotated[float, WithinRange(-1000.0, 1000.0)] = 0.0
    minVolumeMl: Annotated[float, WithinRange(0.0, 1000.0)] = DEFAULT_MIN_VOLUME_ML
    banner: str = ""
    chart: vtkMRMLPlotChartNode
    table: vtkMRMLTableNode


#
# CD8RScoreCohortWidget
#


class CD8RScoreCohortWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """The module panel: inputs, run, the banner, chart and table selectors, open report."""

    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None

    def setup(self) -> None:
        """Load the .ui, bind the parameter node, connect the buttons."""
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/CD8RScoreCohort.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)

        self.logic = CD8RScoreCohortLogic()

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)

        self.ui.runButton.connect("clicked(bool)", self.onRunButton)
        self.ui.showResultsButton.connect("clicked(bool)", self.onShowResultsButton)
        self.ui.openReportButton.connect("clicked(bool)", self.onOpenReportButton)
        self.ui.simulatedCohortButton.connect("clicked(bool)", self.onSimulatedCohortButton)
        # the user's choice only (not the parameter node filling the selectors when the module opens)
        self.ui.chartSelector.connect("nodeActivated(vtkMRMLNode*)", self.onChartSelected)
        self.ui.tableSelector.connect("nodeActivated(vtkMRMLNode*)", self.onTableSelected)

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

    def onSceneEndClose(self, caller, event) -> None:
        """Called just after the scene is closed."""
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        """Ensure the parameter node exists and is observed."""
        self.setParameterNode(self.logic.getParameterNode())

    def setParameterNode(self, inputParameterNode: Optional[CD8RScoreCohortParameterNode]) -> None:
        """Set and observe the parameter node; widgets with a SlicerParameterName property follow it."""
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateButtons)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateButtons)
            self._updateButtons()

    def _updateButtons(self, caller=None, event=None) -> None:
        p = self._parameterNode
        ready = bool(p and pathIsSet(p.lesionsPath) and pathIsSet(p.clinicalPath) and pathIsSet(p.outputFolder))
        self.ui.runButton.enabled = ready
        self.ui.runButton.toolTip = (_("Run the cohort analysis into the output folder") if ready
                                     else _("Choose the lesion table, the clinical table and the output folder"))
        self.ui.referenceCutoffSpinBox.enabled = bool(p and p.useReferenceCutoff)
        hasOutput = bool(p and pathIsSet(p.outputFolder))
        self.ui.showResultsButton.enabled = hasOutput and (p.outputFolder / "results.json").is_file()
        self.ui.openReportButton.enabled = hasOutput and (p.outputFolder / "report.html").is_file()
        self.ui.bannerLabel.visible = bool(p and p.banner)

    def _ensureRequirements(self) -> None:
        """Install the packages of Resources/CD8RScoreCohort-requirements.txt that are missing (asks first)."""
        ensurePythonRequirements(Path(self.resourcePath(REQUIREMENTS_FILE)), "CD8RScore Cohort")

    def onRunButton(self) -> None:
        """Run the analysis with a progress dialog, then show its tables and charts."""
        p = self._parameterNode
        with slicer.util.tryWithErrorDisplay(_("The cohort analysis failed."), waitCursor=True):
            self._ensureRequirements()
            # the analysis runs as one call that cannot be interrupted: a busy dialog without a Cancel button,
            # application-modal, with the panel's actions disabled until it ends
            progress = slicer.util.createProgressDialog(
                windowTitle=_("CD8RScore Cohort"), labelText=_("Running the cohort analysis..."), maximum=0,
                windowModality=qt.Qt.ApplicationModal, autoClose=False)
            progress.setCancelButton(None)
            self._setActionsEnabled(False)
            slicer.app.processEvents()
            try:
                results = self.logic.runAnalysis(
                    p.lesionsPath, p.clinicalPath, p.outputFolder, seed=p.seed,
                    referenceCutoff=p.referenceCutoff if p.useReferenceCutoff else None,
                    minVolumeMl=p.minVolumeMl)
                progress.labelText = _("Creating tables and charts...")
                slicer.app.processEvents()
                views = self.logic.showResults(p.outputFolder, results)
            finally:
                progress.close()
                self._setActionsEnabled(True)
            for lineEdit in (self.ui.lesionsPathLineEdit, self.ui.clinicalPathLineEdit,
                             self.ui.outputFolderPathLineEdit):
                lineEdit.addCurrentPathToHistory()  # offered next time (their settingKey)
            self._show(views)

    def _setActionsEnabled(self, enabled: bool) -> None:
        """Enable or disable the inputs and the action buttons (disabled while an analysis runs)."""
        for widget in (self.ui.inputsCollapsibleButton, self.ui.settingsCollapsibleButton,
                       self.ui.resultsCollapsibleButton, self.ui.runButton):
            widget.enabled = enabled
        if enabled:
            self._updateButtons()

    def onShowResultsButton(self) -> None:
        """Show the tables and charts of an analysis already in the output folder."""
        with slicer.util.tryWithErrorDisplay(_("Could not show the results."), waitCursor=True):
            self._ensureRequirements()
            self._show(self.logic.showResults(self._parameterNode.outputFolder))

    def onOpenReportButton(self) -> None:
        """Open report.html in the system's browser."""
        with slicer.util.tryWithErrorDisplay(_("Could not open the report.")):
            path = self._parameterNode.outputFolder / "report.html"
            if not path.is_file():
                raise FileNotFoundError(f"{path} not found: run the analysis first")
            qt.QDesktopServices.openUrl(qt.QUrl.fromLocalFile(str(path)))

    def onSimulatedCohortButton(self) -> None:
        """Write a simulated cohort (labelled SIMULATED everywhere) and select its two tables as inputs."""
        with slicer.util.tryWithErrorDisplay(_("Could not write the simulated cohort.")):
            self._ensureRequirements()
            p = self._parameterNode
            folder = Path(tempfile.mkdtemp(prefix="CD8RScoreCohort-simulated-", dir=slicer.app.temporaryPath))
            lesionsPath, clinicalPath = self.logic.writeSimulatedCohort(folder)
            p.lesionsPath, p.clinicalPath = lesionsPath, clinicalPath
            # the simulated scores follow the melanoma study's distribution: use the simulation's cut-off
            from CD8RScoreCohortLib.simulate import SIMULATION_REFERENCE_CUTOFF

            p.useReferenceCutoff, p.referenceCutoff = True, SIMULATION_REFERENCE_CUTOFF
            if not pathIsSet(p.outputFolder):
                p.outputFolder = folder / "results"

    def _show(self, views) -> None:
        """Banner, selectors, and a layout with a plot view and a table view showing the results."""
        p = self._parameterNode
        p.banner = views.banner
        p.table = views.tables.get("hr") or next(iter(views.tables.values()))
        p.chart = next(iter(views.charts.values()))
        layoutManager = slicer.app.layoutManager()
        # a layout with a plot view and a table view, from the current one (unchanged if it has both)
        layoutManager.setLayout(slicer.vtkSlicerTablesLogic.GetLayoutWithTable(
            slicer.vtkSlicerPlotsLogic.GetLayoutWithPlot(layoutManager.layout)))
        self.onChartSelected(p.chart)
        self.onTableSelected(p.table)
        self._updateButtons()

    def onChartSelected(self, chartNode) -> None:
        """Show the chosen chart in the plot view."""
        if chartNode:
            slicer.modules.plots.logic().ShowChartInLayout(chartNode)

    def onTableSelected(self, tableNode) -> None:
        """Show the chosen table in the table view."""
        if tableNode:
            layoutManager = slicer.app.layoutManager()
            layoutManager.setLayout(slicer.vtkSlicerTablesLogic.GetLayoutWithTable(layoutManager.layout))
            appLogic = slicer.app.applicationLogic()
            appLogic.GetSelectionNode().SetActiveTableID(tableNode.GetID())
            appLogic.PropagateTableSelection()


#
# CD8RScoreCohortLogic
#


class CD8RScoreCohortLogic(ScriptedLoadableModuleLogic):
    """Runs the cohort analysis (CD8RScoreCohortLib) and puts its results into the scene; usable without
    the widget."""

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)

    def getParameterNode(self):
        """The module's parameter node, typed."""
        return CD8RScoreCohortParameterNode(super().getParameterNode())

    def runAnalysis(self, lesionsPath, clinicalPath, outputFolder, seed: int = DEFAULT_SEED,
                    referenceCutoff: Optional[float] = None, minVolumeMl: float = DEFAULT_MIN_VOLUME_ML) -> dict:
        """Run every analysis; writes results.json, report.html, CSV tables and PNG figures into outputFolder.

        referenceCutoff None: the cut-off of the signature named by the lesion rows. Returns the results.
        """
        from CD8RScoreCohortLib.analysis import run_cohort

        for label, path in ((_("lesion table"), lesionsPath), (_("clinical table"), clinicalPath)):
            if not pathIsSet(path) or not Path(path).is_file():
                raise ValueError(_("Choose the {label}: {path} is not a file.").format(label=label, path=path))
        if not pathIsSet(outputFolder):
            raise ValueError(_("Choose an output folder."))
        startTime = time.monotonic()
        results = run_cohort(Path(lesionsPath), Path(clinicalPath), Path(outputFolder), seed=int(seed),
                             reference_cutoff=referenceCutoff, min_volume_ml=float(minVolumeMl))
        logging.info(f"Cohort analysis written to {outputFolder} in {time.monotonic() - startTime:.1f} s")
        return results

    def showResults(self, outputFolder, results: Optional[dict] = None, scene=None):
        """Table nodes of the summary and plot chart nodes of the KM and ROC curves (replacing earlier ones).

        Returns CD8RScoreCohortLib.mrml_views.CohortViews (tables, charts, series, banner).
        """
        from CD8RScoreCohortLib.mrml_views import add_cohort_views

        return add_cohort_views(scene or slicer.mrmlScene, Path(outputFolder), results)

    def writeSimulatedCohort(self, folder, nPatients: int = 136, seed: int = 1) -> tuple:
        """lesions.csv and clinical.csv of a simulated cohort (CD8RScoreCohortLib.simulate) in folder."""
        from CD8RScoreCohortLib.simulate import write_simulated_cohort

        Path(folder).mkdir(parents=True, exist_ok=True)
        return write_simulated_cohort(Path(folder), n_patients=nPatients, seed=seed)


#
# CD8RScoreCohortTest
#


class CD8RScoreCohortTest(ScriptedLoadableModuleTest):
    """The analysis of a small simulated cohort through the logic, and its nodes in the scene."""

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
        self.test_ParameterDefaultsAreTheLibrarys()
        self.setUp()
        self.test_SimulatedCohortTablesAndCharts()

    def test_ParameterDefaultsAreTheLibrarys(self):
        """The panel starts with the analysis' own seed and minimum lesion volume."""
        from CD8RScoreCohortLib import analysis

        self.assertEqual(DEFAULT_SEED, analysis.DEFAULT_SEED)
        self.assertEqual(DEFAULT_MIN_VOLUME_ML, analysis.DEFAULT_MIN_VOLUME_ML)
        parameterNode = CD8RScoreCohortLogic().getParameterNode()
        self.assertEqual(parameterNode.seed, analysis.DEFAULT_SEED)
        self.assertFalse(parameterNode.useReferenceCutoff)

    def test_SimulatedCohortTablesAndCharts(self):
        """60 simulated patients: the tables hold results.json's numbers, the charts their curves."""
        import json

        from CD8RScoreCohortLib.simulate import SIMULATION_REFERENCE_CUTOFF

        self.delayDisplay("Simulating a 60-patient cohort")
        logic = CD8RScoreCohortLogic()
        folder = Path(tempfile.mkdtemp(prefix="CD8RScoreCohortTest-", dir=slicer.app.temporaryPath))
        lesionsPath, clinicalPath = logic.writeSimulatedCohort(folder, nPatients=60, seed=2)
        outputFolder = folder / "out"
        results = logic.runAnalysis(lesionsPath, clinicalPath, outputFolder, seed=7,
                                    referenceCutoff=SIMULATION_REFERENCE_CUTOFF)
        for name in ("results.json", "report.html", "auc_progression.csv", "cox_score_metrics.csv"):
            self.assertTrue(os.path.getsize(outputFolder / name) > 0, name)
        self.assertEqual(json.loads((outputFolder / "results.json").read_text())["patient_level"]["os"]
                         ["min_reference_cutoff"]["hr"], results["patient_level"]["os"]["min_reference_cutoff"]["hr"])

        views = logic.showResults(outputFolder, results)
        self.assertIn("SIMULATED", views.banner)
        self.assertIn("cd8rscore-demonstration (demonstration)", views.banner)

        auc = views.tables["auc"]
        self.assertIsNotNone(slicer.mrmlScene.GetNodeByID(auc.GetID()))
        column = auc.GetTable().GetColumnByName("auc")
        self.assertAlmostEqual(column.GetValue(0), results["lesion_level"]["progression_auc"]["all"]["auc"], places=8)
        hr = views.tables["hr"]
        first = {hr.GetTable().GetColumn(c).GetName(): hr.GetTable().GetColumn(c).GetValue(0)
                 for c in range(hr.GetNumberOfColumns())}
        expected = results["patient_level"][first["endpoint"]][f"{first['metric']}_reference_cutoff"]["hr"]
        self.assertAlmostEqual(first["hr"], expected, places=8)

        for key in ("km_os_min_reference_cutoff", "km_pfs_min_reference_cutoff", "roc_progression"):
            chart = views.charts[key]
            self.assertIsNotNone(slicer.mrmlScene.GetNodeByID(chart.GetID()))
            self.assertEqual(chart.GetNumberOfPlotSeriesNodes(), len(views.series[key]))
            self.assertGreater(chart.GetNumberOfPlotSeriesNodes(), 1)
        kmHigh = views.charts["km_os_min_reference_cutoff"].GetNthPlotSeriesNode(0)
        survival = kmHigh.GetTableNode().GetTable().GetColumnByName("survival")
        self.assertEqual(survival.GetValue(0), 1.0)
        values = [survival.GetValue(i) for i in range(survival.GetNumberOfTuples())]
        self.assertEqual(values, sorted(values, reverse=True))

        # a second display replaces the nodes of the first
        charts = slicer.mrmlScene.GetNodesByClass("vtkMRMLPlotChartNode").GetNumberOfItems()
        logic.showResults(outputFolder)
        self.assertEqual(slicer.mrmlScene.GetNodesByClass("vtkMRMLPlotChartNode").GetNumberOfItems(), charts)
        self.delayDisplay("Test passed")
