"""Every Slicer, MRML, segmentation, CTK, Qt and parameter-node-connector name the modules call, with the Slicer
version that introduced it, and the test that the code calls no name missing from the table or newer than the
oldest Slicer the README supports.

The names are derived from the code (``slicer_api_names``: an AST walk of the Slicer-facing Python files and the
.ui files), so a new call cannot slip in unlisted. Each row gives the first of the Slicer tags v4.10.0,
v4.11.20200930, v5.0.0, v5.2.0, v5.4.0, v5.6.0, v5.8.0, v5.10.0, v5.12.0 whose sources declare the name (a
header declaration or vtkGet/vtkSet macro, a Python definition, a Q_PROPERTY or signal; CTK at the commit that tag
builds, from SuperBuild/External_CTK.cmake), and the file it was read in; "4.10" means "4.10.0 or older". Names of
VTK and Qt themselves are read where Slicer calls them (VTK 9.2 and Qt 5.15/5.12 are built by every supported
Slicer). A method is matched by name in any Slicer header, so a row shows that the oldest supported Slicer has a
method of that name; which class is meant is read in the code next to the call.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from slicer_api_names import REPO, scanned_files, used_names

SLICER_PYTHON = {"5.8": (3, 9), "5.10": (3, 12), "5.12": (3, 12)}
"""Python of each Slicer release (SuperBuild/External_python.cmake at v5.8.0, v5.10.0, v5.12.0)."""

API_TABLE: dict[str, tuple[str, str]] = {
    # name: (Slicer version that introduced it, tag:file it was read in)
    '.GetItemByDataNode': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLSubjectHierarchyNode.h'),
    '.GetItemUID': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLSubjectHierarchyNode.h'),
    '.GetScene': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLNode.h'),
    '.GetSegmentIdBySegment': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkSegmentation.h'),
    '.SetSegmentOpacity3D': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLSegmentationDisplayNode.h'),
    '.SetSegmentVisibility2DFill': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLSegmentationDisplayNode.h'),
    '.SetSegmentVisibility2DOutline': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLSegmentationDisplayNode.h'),
    '.addCurrentPathToHistory': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkPathLineEdit.h'),
    'SampleData.SampleDataLogic.registerCustomSampleDataSource(checksums=)':
        ('4.11', 'v4.11.20200930:Modules/Scripted/SampleData/SampleData.py'),
    'slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode':
        ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLSubjectHierarchyNode.h'),
    '.AddAndObservePlotSeriesNodeID': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotChartNode.h'),
    '.AddColumn': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLTableNode.h'),
    '.AddNewNodeByClass': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLScene.h'),
    '.AddNode': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLNode.h'),
    '.ContainsRepresentation': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkSegmentation.h'),
    '.CopyDirections': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkOrientedImageData.h'),
    '.CreateBinaryLabelmapRepresentation': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLSegmentationNode.h'),
    '.CreateDefaultDisplayNodes': ('4.10', 'v4.10.0:Base/Logic/vtkSlicerApplicationLogicRequests.h'),
    '.EndModify': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLNode.h'),
    '.GenerateUniqueName': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLScene.h'),
    '.GetAttribute': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLNode.h'),
    '.GetColor': ('4.10', 'v4.10.0:Base/Logic/vtkSlicerGlyphSource2D.h'),
    '.GetColumn': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    '.GetColumnByName': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLTableNode.cxx'),
    '.GetColumnUnitLabel': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLTableNode.h'),
    '.GetDimensions': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkITKTransformConverter.h'),
    '.GetDirection': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkITKTransformConverter.h'),
    '.GetDisplayNode': ('4.10', 'v4.10.0:Base/Logic/vtkSlicerApplicationLogicRequests.h'),
    '.GetElement': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkITKTransformConverter.h'),
    '.GetExtent': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkITKTransformConverter.h'),
    '.GetFirstNodeByName': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLScene.h'),
    '.GetID': ('4.10', 'v4.10.0:Base/Logic/vtkSlicerApplicationLogicRequests.h'),
    '.GetIJKToRASMatrix': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLVolumeNode.h'),
    '.GetImageData': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLVolumeNode.h'),
    '.GetItemAsObject': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkITKTransformConverter.h'),
    '.GetLabelValue': ('4.11', 'v4.11.20200930:Libs/MRML/Core/vtkMRMLSegmentationNode.h'),
    '.GetName': ('4.10', 'v4.10.0:Base/Logic/vtkSlicerApplicationLogicRequests.h'),
    '.GetNodesByClass': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLScene.h'),
    '.GetNthPlotSeriesNode': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotChartNode.h'),
    '.GetNthSegmentID': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkSegmentation.h'),
    '.GetNumberOfColumns': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLTableNode.h'),
    '.GetNumberOfItems': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkITKTransformConverter.h'),
    '.GetNumberOfPlotSeriesNodes': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotChartNode.h'),
    '.GetNumberOfRows': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLTableNode.h'),
    '.GetNumberOfScalarComponents': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkITKTransformConverter.h'),
    '.GetNumberOfSegments': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkSegmentation.h'),
    '.GetNumberOfTuples': ('4.10', 'v4.10.0:Modules/Scripted/EditorLib/Logic/vtkImageStash.h'),
    '.GetOrigin': ('4.10', 'v4.10.0:Base/CLI/itkPluginUtilities.h'),
    '.GetOutput': ('4.10', 'v4.10.0:Base/CLI/Testing/itkTestMain.h'),
    '.GetParentTransformNode': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLTransformableNode.h'),
    '.GetPointData': ('4.10', 'v4.10.0:Base/Logic/vtkTransformVisualizerGlyph3D.cxx'),
    '.GetScalars': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    '.GetSegment': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkSegmentation.h'),
    '.GetSegmentCenterRAS': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLSegmentationNode.h'),
    '.GetSegmentIdBySegmentName': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkSegmentation.h'),
    '.GetSegmentation': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLSegmentationNode.h'),
    '.GetSelectionNode': ('4.10', 'v4.10.0:Base/Logic/vtkSlicerApplicationLogicRequests.h'),
    '.GetSize': ('4.10', 'v4.10.0:Base/CLI/Testing/itkTestMain.h'),
    '.GetSliceToRAS': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLSliceNode.h'),
    '.GetSpacing': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkITKTransformConverter.h'),
    '.GetTable': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLTableNode.h'),
    '.GetTableNode': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    '.GetTag': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkSegment.h'),
    '.GetValue': ('4.10', 'v4.10.0:Base/Logic/vtkImageFillROI.h'),
    '.InsertNextValue': ('4.10', 'v4.10.0:Libs/MRML/Logic/vtkMRMLAbstractLogic.h'),
    '.IsA': ('4.10', 'v4.10.0:Base/Logic/Testing/vtkSlicerApplicationLogicTest1.cxx'),
    '.IsNodeClassRegistered': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLScene.h'),
    '.PropagateTableSelection': ('4.10', 'v4.10.0:Base/Logic/vtkSlicerApplicationLogicRequests.h'),
    '.RegisterNodeClass': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLScene.h'),
    '.RemoveNode': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLDisplayableNode.h'),
    '.RemoveTag': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkSegment.h'),
    '.SetActiveTableID': ('4.10', 'v4.10.0:Base/Logic/vtkSlicerApplicationLogicRequests.h'),
    '.SetAndObserveColorNodeID': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLDisplayNode.h'),
    '.SetAndObserveImageData': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLVolumeNode.h'),
    '.SetAndObserveTable': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLTableNode.h'),
    '.SetAndObserveTableNodeID': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    '.SetAttribute': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLNode.h'),
    '.SetColor': ('4.10', 'v4.10.0:Base/Logic/vtkSlicerGlyphSource2D.h'),
    '.SetColumnDescription': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLTableNode.h'),
    '.SetColumnTitle': ('5.8', 'v5.8.0:Libs/MRML/Core/vtkMRMLTableNode.h'),
    '.SetColumnUnitLabel': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLTableNode.h'),
    '.SetDescription': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLNode.h'),
    '.SetDimensions': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkITKTransformConverter.h'),
    '.SetDirection': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkITKTransformConverter.h'),
    '.SetElement': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkITKTransformConverter.h'),
    '.SetIJKToRASMatrix': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLVolumeNode.h'),
    '.SetInValue': ('4.10', 'v4.10.0:Base/Logic/vtkImageRectangularSource.h'),
    '.SetInputData': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    '.SetLabelFormat': ('5.0', 'v5.0.0:Modules/Loadable/Colors/MRML/vtkMRMLColorLegendDisplayNode.h'),
    '.SetLegendVisibility': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotChartNode.h'),
    '.SetLineStyle': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    '.SetLineWidth': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLDisplayNode.h'),
    '.SetMarkerSize': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    '.SetMarkerStyle': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    '.SetName': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLNode.h'),
    '.SetNamesInitialised': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLColorNode.h'),
    '.SetNumberOfColors': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLColorTableNode.h'),
    '.SetNumberOfLabels': ('5.0', 'v5.0.0:Modules/Loadable/Colors/MRML/vtkMRMLColorLegendDisplayNode.h'),
    '.SetOrigin': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkITKTransformConverter.h'),
    '.SetOutValue': ('4.10', 'v4.10.0:Base/Logic/vtkImageRectangularSource.h'),
    '.SetOutputScalarTypeToUnsignedChar': ('4.10', 'v4.10.0:Base/Logic/vtkImageRectangularSource.h'),
    '.SetPlotType': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    '.SetReferenceImageGeometryParameterFromVolumeNode': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLSegmentationNode.h'),
    '.SetScalarRange': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLDisplayNode.h'),
    '.SetScalarRangeFlag': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLDisplayNode.h'),
    '.SetScalars': ('4.10', 'v4.10.0:Base/Logic/vtkSlicerGlyphSource2D.cxx'),
    '.SetSpacing': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkITKTransformConverter.h'),
    '.SetTag': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkSegment.h'),
    '.SetTitle': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotChartNode.h'),
    '.SetTitleText': ('5.0', 'v5.0.0:Modules/Loadable/Colors/MRML/vtkMRMLColorLegendDisplayNode.h'),
    '.SetTypeToUser': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLColorNode.h'),
    '.SetUseColorNamesForLabels': ('5.0', 'v5.0.0:Modules/Loadable/Colors/MRML/vtkMRMLColorLegendDisplayNode.h'),
    '.SetUseColumnTitleAsColumnHeader': ('5.8', 'v5.8.0:Libs/MRML/Core/vtkMRMLTableNode.h'),
    '.SetVisibility': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLAbstractViewNode.h'),
    '.SetXAxisTitle': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotChartNode.h'),
    '.SetXColumnName': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    '.SetYAxisRange': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotChartNode.h'),
    '.SetYAxisRangeAuto': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotChartNode.h'),
    '.SetYAxisTitle': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotChartNode.h'),
    '.SetYColumnName': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    '.ShallowCopy': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkOrientedImageData.h'),
    '.ShowChartInLayout': ('4.10', 'v4.10.0:Modules/Loadable/Plots/Logic/vtkSlicerPlotsLogic.h'),
    '.StartModify': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLNode.h'),
    '.ThresholdBetween': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLModelDisplayNode.cxx'),
    '.Update': ('4.10', 'v4.10.0:Base/CLI/Testing/itkTestMain.h'),
    '.acknowledgementText': ('4.10', 'v4.10.0:Base/QTCLI/qSlicerCLIModule.h'),
    '.addAttribute': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLNodeComboBox.h'),
    '.addItem': ('4.10', 'v4.10.0:Base/QTGUI/qSlicerDataDialog.cxx'),
    '.addObserver': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLEventBrokerConnection.h'),
    '.addWidget': ('4.10', 'v4.10.0:Base/Python/slicer/ScriptedLoadableModule.py'),
    '.blockSignals': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLVolumeWidget_p.h'),
    '.cellWidget': ('4.10', 'v4.10.0:Base/QTGUI/qSlicerDataDialog.cxx'),
    '.connect': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLChartView.h'),
    '.connectGui': ('5.4', 'v5.4.0:Base/Python/slicer/parameterNodeWrapper/wrapper.py'),
    '.currentPath': ('4.10', 'v4.10.0:Base/QTCLI/qSlicerCLIModuleUIHelper.cxx'),
    '.delayDisplay': ('4.10', 'v4.10.0:Base/Python/slicer/ScriptedLoadableModule.py'),
    '.disconnectGui': ('5.4', 'v5.4.0:Base/Python/slicer/parameterNodeWrapper/wrapper.py'),
    '.enabled': ('4.10', 'v4.10.0:Base/Logic/vtkTransformVisualizerGlyph3D.h'),
    '.fileForInstance': ('4.10', 'v4.10.0:Modules/Scripted/DICOMLib/DICOMWidgets.py'),
    '.fileValue': ('4.10', 'v4.10.0:Modules/Scripted/DICOMLib/DICOMPlugin.py'),
    '.findData': ('4.10', 'v4.10.0:Libs/MRML/Logic/vtkMRMLApplicationLogic.cxx'),
    '.helpText': ('4.10', 'v4.10.0:Base/QTCLI/qSlicerCLIModule.h'),
    '.isEntered': ('4.10', 'v4.10.0:Base/QTGUI/qSlicerAbstractModuleWidget.h'),
    '.itemData': ('4.10', 'v4.10.0:Base/QTGUI/qSlicerDataDialog.cxx'),
    '.labelText': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    '.mrmlSliceNode': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLSliceControllerWidget.h'),
    '.removeObserver': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLEventBrokerConnection.h'),
    '.removeObservers': ('4.10', 'v4.10.0:Base/Python/slicer/tests/test_slicer_util_VTKObservationMixin.py'),
    '.resizeColumnToContents': ('4.10', 'v4.10.0:Base/QTGUI/qSlicerDataDialog.cxx'),
    '.setCancelButton': ('4.10', 'v4.10.0:Base/QTGUI/qSlicerIOManager.cxx'),
    '.setCellWidget': ('4.10', 'v4.10.0:Base/QTGUI/qSlicerDataDialog.cxx'),
    '.setCurrentIndex': ('4.10', 'v4.10.0:Base/QTGUI/qSlicerDataDialog.cxx'),
    '.setFlags': ('4.10', 'v4.10.0:Base/QTGUI/qSlicerDataDialog.cxx'),
    '.setItem': ('4.10', 'v4.10.0:Base/QTGUI/qSlicerDataDialog.cxx'),
    '.setLayout': ('4.10', 'v4.10.0:Base/QTApp/qSlicerMainWindow.h'),
    '.setMRMLScene': ('4.10', 'v4.10.0:Base/QTCore/qSlicerAbstractCoreModule.h'),
    '.setRowCount': ('4.10', 'v4.10.0:Base/QTGUI/qSlicerDataDialog.cxx'),
    '.setValue': ('4.10', 'v4.10.0:Base/QTCLI/qSlicerCLIModuleUIHelper.h'),
    '.sliceWidget': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLLayoutManager.h'),
    '.toString': ('4.10', 'v4.10.0:Base/QTCLI/qSlicerCLIModuleUIHelper.h'),
    '.toolTip': ('4.10', 'v4.10.0:Base/QTCLI/DesignerPlugins/qSlicerQTCLIAbstractPlugin.h'),
    '.visible': ('4.10', 'v4.10.0:Base/QTApp/qSlicerMainWindow.h'),
    '.wasCanceled': ('4.10', 'v4.10.0:Base/QTGUI/qSlicerIOManager.cxx'),
    'SampleData': ('4.10', 'v4.10.0:Modules/Scripted/SampleData/SampleData.py'),
    'SampleData.SampleDataLogic.registerCustomSampleDataSource':
        ('4.10', 'v4.10.0:Modules/Scripted/SampleData/SampleData.py'),
    'SampleData.SampleDataLogic.registerCustomSampleDataSource(category=)':
        ('4.10', 'v4.10.0:Modules/Scripted/SampleData/SampleData.py'),
    'SampleData.SampleDataLogic.registerCustomSampleDataSource(fileNames=)':
        ('4.10', 'v4.10.0:Modules/Scripted/SampleData/SampleData.py'),
    'SampleData.SampleDataLogic.registerCustomSampleDataSource(loadFileTypes=)':
        ('4.11', 'v4.11.20200930:Modules/Scripted/SampleData/SampleData.py'),
    'SampleData.SampleDataLogic.registerCustomSampleDataSource(nodeNames=)':
        ('4.10', 'v4.10.0:Modules/Scripted/SampleData/SampleData.py'),
    'SampleData.SampleDataLogic.registerCustomSampleDataSource(sampleName=)':
        ('4.10', 'v4.10.0:Modules/Scripted/SampleData/SampleData.py'),
    'SampleData.SampleDataLogic.registerCustomSampleDataSource(thumbnailFileName=)':
        ('4.10', 'v4.10.0:Modules/Scripted/SampleData/SampleData.py'),
    'SampleData.SampleDataLogic.registerCustomSampleDataSource(uris=)':
        ('4.10', 'v4.10.0:Modules/Scripted/SampleData/SampleData.py'),
    'connector:Optional[Path]->ctkPathLineEdit':
        ('5.4', 'CD8RScore.OptionalPathConnector on'
         ' v5.4.0:Base/Python/slicer/parameterNodeWrapper/guiConnectors.py GuiConnector'),
    'connector:bool->QCheckBox': ('5.4', 'v5.4.0:Base/Python/slicer/parameterNodeWrapper/guiConnectors.py'),
    'connector:float->QDoubleSpinBox': ('5.4', 'v5.4.0:Base/Python/slicer/parameterNodeWrapper/guiConnectors.py'),
    'connector:float->ctkDoubleSpinBox': ('5.8', 'v5.8.0:Base/Python/slicer/parameterNodeWrapper/guiConnectors.py'),
    'connector:int->QSpinBox': ('5.4', 'v5.4.0:Base/Python/slicer/parameterNodeWrapper/guiConnectors.py'),
    'connector:str->QLabel': ('5.8', 'v5.8.0:Base/Python/slicer/parameterNodeWrapper/guiConnectors.py'),
    'connector:str->QLineEdit': ('5.4', 'v5.4.0:Base/Python/slicer/parameterNodeWrapper/guiConnectors.py'),
    'connector:vtkMRMLPlotChartNode->qMRMLNodeComboBox':
        ('5.4', 'v5.4.0:Base/Python/slicer/parameterNodeWrapper/guiConnectors.py'),
    'connector:vtkMRMLScalarVolumeNode->qMRMLNodeComboBox':
        ('5.4', 'v5.4.0:Base/Python/slicer/parameterNodeWrapper/guiConnectors.py'),
    'connector:vtkMRMLSegmentationNode->qMRMLNodeComboBox':
        ('5.4', 'v5.4.0:Base/Python/slicer/parameterNodeWrapper/guiConnectors.py'),
    'connector:vtkMRMLTableNode->qMRMLNodeComboBox':
        ('5.4', 'v5.4.0:Base/Python/slicer/parameterNodeWrapper/guiConnectors.py'),
    'ctk': ('4.10', 'ctk (PythonQt-wrapped CTK)'),
    'ctk.ctkPathLineEdit': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkPathLineEdit.h'),
    'qt': ('4.10', 'qt module'),
    'qt.QComboBox':
        ('4.10', 'v4.10.0:Modules/Loadable/Segmentations/EditorEffects/Python/SegmentEditorLogicalEffect.py'),
    'qt.QDesktopServices.openUrl': ('4.10', 'v4.10.0:Base/Python/slicer/ScriptedLoadableModule.py'),
    'qt.QFileDialog.getSaveFileName':
        ('4.10', 'Qt 5 static QFileDialog::getSaveFileName (wrapped by PythonQt like getExistingDirectory in '
                 'v5.8.0:Modules/Scripted/ExtensionWizard/ExtensionWizard.py)'),
    'qt.QSettings': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'qt.QTableWidgetItem': ('4.10', 'v4.10.0:Modules/Scripted/DICOMLib/DICOMWidgets.py'),
    'qt.QUrl.fromLocalFile':
        ('4.10', 'Qt 5 QUrl::fromLocalFile; Slicer v5.8.0 CMakeLists.txt: Qt 5.15 (5.12 on Linux)'),
    'qt.Qt.ApplicationModal':
        ('4.10', 'Qt 5 Qt::WindowModality; Slicer v5.8.0 CMakeLists.txt: Qt 5.15 (5.12 on Linux)'),
    'qt.Qt.ItemIsEnabled':
        ('4.10', 'Qt 5 Qt::ItemFlag; v5.8.0:Modules/Scripted/DICOMLib/DICOMBrowser.py uses qt.Qt.ItemIs*'),
    'signal:clicked(bool)': ('4.10', 'v4.10.0:Modules/Scripted/DICOMPatcher/DICOMPatcher.py'),
    'signal:currentIndexChanged(int)': ('4.10', 'v4.10.0:Modules/Scripted/DICOM/DICOM.py'),
    'signal:currentNodeChanged(vtkMRMLNode*)': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLNodeComboBox.h'),
    'signal:currentPathChanged(QString)': ('4.10', 'v4.10.0:Libs/Widgets/ctkPathLineEdit.h'),
    'signal:nodeActivated(vtkMRMLNode*)': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLNodeComboBox.h'),
    'signal:startupCompleted()': ('4.10', 'v4.10.0:Base/QTGUI/qSlicerApplication.h'),
    'slicer': ('4.10', 'v4.10.0:Base/Python/slicer/__init__.py'),
    'slicer.ScriptedLoadableModule.ScriptedLoadableModule':
        ('4.10', 'v4.10.0:Base/Python/slicer/ScriptedLoadableModule.py'),
    'slicer.ScriptedLoadableModule.ScriptedLoadableModule.__init__':
        ('4.10', 'v4.10.0:Base/Python/slicer/ScriptedLoadableModule.py'),
    'slicer.ScriptedLoadableModule.ScriptedLoadableModuleLogic':
        ('4.10', 'v4.10.0:Base/Python/slicer/ScriptedLoadableModule.py'),
    'slicer.ScriptedLoadableModule.ScriptedLoadableModuleLogic.__init__':
        ('4.10', 'v4.10.0:Base/Python/slicer/ScriptedLoadableModule.py'),
    'slicer.ScriptedLoadableModule.ScriptedLoadableModuleTest':
        ('4.10', 'v4.10.0:Base/Python/slicer/ScriptedLoadableModule.py'),
    'slicer.ScriptedLoadableModule.ScriptedLoadableModuleWidget':
        ('4.10', 'v4.10.0:Base/Python/slicer/ScriptedLoadableModule.py'),
    'slicer.ScriptedLoadableModule.ScriptedLoadableModuleWidget.__init__':
        ('4.10', 'v4.10.0:Base/Python/slicer/ScriptedLoadableModule.py'),
    'slicer.ScriptedLoadableModule.ScriptedLoadableModuleWidget.setup':
        ('4.10', 'v4.10.0:Base/Python/slicer/ScriptedLoadableModule.py'),
    'slicer.app.applicationLogic': ('4.10', 'v4.10.0:Base/QTCore/qSlicerCoreApplication.h'),
    'slicer.app.connect': ('4.10', 'v4.10.0:Modules/Scripted/DICOM/DICOM.py'),
    'slicer.app.layoutManager': ('4.10', 'v4.10.0:Base/QTGUI/qSlicerApplication.h'),
    'slicer.app.processEvents': ('4.10', 'v4.10.0:Modules/Scripted/DICOMLib/DICOMWidgets.py'),
    'slicer.app.temporaryPath': ('4.10', 'v4.10.0:Base/QTCore/qSlicerCoreApplication.h'),
    'slicer.i18n.tr': ('5.4', 'v5.4.0:Base/Python/slicer/i18n.py'),
    'slicer.i18n.translate': ('5.4', 'v5.4.0:Base/Python/slicer/i18n.py'),
    'slicer.modules.plots.logic': ('4.10', 'v4.10.0:Modules/Loadable/Plots/qSlicerPlotsModule.h'),
    'slicer.mrmlScene': ('4.10', 'v4.10.0:Base/Python/slicer/__init__.py'),
    'slicer.mrmlScene.Clear': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLScene.h'),
    'slicer.mrmlScene.EndCloseEvent': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLScene.h'),
    'slicer.mrmlScene.GetFirstNodeByClass': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLScene.h'),
    'slicer.mrmlScene.GetNodeByID': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLScene.h'),
    'slicer.mrmlScene.GetNodesByClass': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLScene.h'),
    'slicer.mrmlScene.StartCloseEvent': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLScene.h'),
    'slicer.parameterNodeWrapper.GuiConnector':
        ('5.4', 'v5.4.0:Base/Python/slicer/parameterNodeWrapper/guiConnectors.py'),
    'slicer.parameterNodeWrapper.WithinRange':
        ('5.4', 'v5.4.0:Base/Python/slicer/parameterNodeWrapper/validators.py'),
    'slicer.parameterNodeWrapper.parameterNodeGuiConnector':
        ('5.4', 'v5.4.0:Base/Python/slicer/parameterNodeWrapper/guiConnectors.py'),
    'slicer.parameterNodeWrapper.parameterNodeWrapper':
        ('5.4', 'v5.4.0:Base/Python/slicer/parameterNodeWrapper/wrapper.py'),
    'slicer.util.VTKObservationMixin': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'slicer.util.VTKObservationMixin.__init__': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'slicer.util.WaitCursor': ('5.0', 'v5.0.0:Base/Python/slicer/util.py'),
    'slicer.util.childWidgetVariables': ('4.11', 'v4.11.20200930:Base/Python/slicer/util.py'),
    'slicer.util.confirmOkCancelDisplay': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'slicer.util.confirmYesNoDisplay': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'slicer.util.createProgressDialog': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'slicer.util.createProgressDialog(autoClose=)': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'slicer.util.createProgressDialog(labelText=)': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'slicer.util.createProgressDialog(maximum=)': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'slicer.util.createProgressDialog(windowModality=)': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'slicer.util.createProgressDialog(windowTitle=)': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'slicer.util.loadUI': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'slicer.util.pip_install': ('4.11', 'v4.11.20200930:Base/Python/slicer/util.py'),
    'slicer.util.showStatusMessage': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'slicer.util.tryWithErrorDisplay': ('5.0', 'v5.0.0:Base/Python/slicer/util.py'),
    'slicer.util.tryWithErrorDisplay(waitCursor=)': ('5.0', 'v5.0.0:Base/Python/slicer/util.py'),
    'slicer.vtkMRMLColorLegendDisplayNode':
        ('5.0', 'v5.0.0:Modules/Loadable/Colors/MRML/vtkMRMLColorLegendDisplayNode.h'),
    'slicer.vtkMRMLDisplayNode.UseManualScalarRange': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLDisplayNode.h'),
    'slicer.vtkMRMLPlotChartNode': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotChartNode.h'),
    'slicer.vtkMRMLPlotSeriesNode.LineStyleDash': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    'slicer.vtkMRMLPlotSeriesNode.LineStyleNone': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    'slicer.vtkMRMLPlotSeriesNode.LineStyleSolid': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    'slicer.vtkMRMLPlotSeriesNode.MarkerStyleCross': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    'slicer.vtkMRMLPlotSeriesNode.MarkerStyleNone': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    'slicer.vtkMRMLPlotSeriesNode.PlotTypeScatter': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLPlotSeriesNode.h'),
    'slicer.vtkMRMLScalarVolumeNode': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLScalarVolumeNode.h'),
    'slicer.vtkMRMLSegmentationNode': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLSegmentationNode.h'),
    'slicer.vtkMRMLSliceNode.CenteredJumpSlice': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLSliceNode.h'),
    'slicer.vtkMRMLSliceNode.JumpAllSlices': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLSliceNode.h'),
    'slicer.vtkMRMLTableNode': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLTableNode.h'),
    'slicer.vtkOrientedImageData': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkOrientedImageData.h'),
    'slicer.vtkOrientedImageDataResample.CalculateEffectiveExtent':
        ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkOrientedImageDataResample.h'),
    'slicer.vtkOrientedImageDataResample.ResampleOrientedImageToReferenceGeometry':
        ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkOrientedImageDataResample.h'),
    'slicer.vtkSegment.GetTerminologyEntryTagName': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkSegment.h'),
    'slicer.vtkSegmentation.SegmentAdded': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkSegmentation.h'),
    'slicer.vtkSegmentation.SegmentModified': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkSegmentation.h'),
    'slicer.vtkSegmentation.SegmentRemoved': ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkSegmentation.h'),
    'slicer.vtkSegmentationConverter.GetSegmentationBinaryLabelmapRepresentationName':
        ('4.10', 'v4.10.0:Libs/vtkSegmentationCore/vtkSegmentationConverter.h'),
    'slicer.vtkSlicerColorLogic.AddDefaultColorLegendDisplayNode':
        ('5.0', 'v5.0.0:Modules/Loadable/Colors/Logic/vtkSlicerColorLogic.h'),
    'slicer.vtkSlicerColorLogic.GetColorLegendDisplayNode':
        ('5.0', 'v5.0.0:Modules/Loadable/Colors/Logic/vtkSlicerColorLogic.h'),
    'slicer.vtkSlicerPlotsLogic.GetLayoutWithPlot':
        ('4.10', 'v4.10.0:Modules/Loadable/Plots/Logic/vtkSlicerPlotsLogic.h'),
    'slicer.vtkSlicerSegmentationsModuleLogic.GetSegmentBinaryLabelmapRepresentation':
        ('4.10', 'v4.10.0:Modules/Loadable/Segmentations/Logic/vtkSlicerSegmentationsModuleLogic.h'),
    'slicer.vtkSlicerSegmentationsModuleLogic.ImportLabelmapToSegmentationNode':
        ('4.10', 'v4.10.0:Modules/Loadable/Segmentations/Logic/vtkSlicerSegmentationsModuleLogic.h'),
    'slicer.vtkSlicerTablesLogic.GetLayoutWithTable':
        ('4.10', 'v4.10.0:Modules/Loadable/Tables/Logic/vtkSlicerTablesLogic.h'),
    'ui:QCheckBox': ('4.10', 'Qt class'),
    'ui:QDoubleSpinBox': ('4.10', 'Qt class'),
    'ui:QLabel': ('4.10', 'Qt class'),
    'ui:QLineEdit': ('4.10', 'Qt class'),
    'ui:QPushButton': ('4.10', 'Qt class'),
    'ui:QSpinBox': ('4.10', 'Qt class'),
    'ui:QTableWidget': ('4.10', 'Qt class'),
    'ui:ctkCollapsibleButton': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkCollapsibleButton.h'),
    'ui:ctkCollapsibleButton.collapsed': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkCollapsibleButton.h'),
    'ui:ctkCollapsibleButton.text':
        ('4.10', 'QAbstractButton property of ctkCollapsibleButton (CTK 82cae57'
         ' Libs/Widgets/ctkCollapsibleButton.h)'),
    'ui:ctkDoubleSpinBox': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkDoubleSpinBox.h'),
    'ui:ctkDoubleSpinBox.decimals': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkDoubleSpinBox.h'),
    'ui:ctkDoubleSpinBox.maximum': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkDoubleSpinBox.h'),
    'ui:ctkDoubleSpinBox.minimum': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkDoubleSpinBox.h'),
    'ui:ctkDoubleSpinBox.singleStep': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkDoubleSpinBox.h'),
    'ui:ctkDoubleSpinBox.suffix': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkDoubleSpinBox.h'),
    'ui:ctkDoubleSpinBox.toolTip': ('4.10', 'Qt QWidget property'),
    'ui:ctkDoubleSpinBox.value': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkDoubleSpinBox.h'),
    'ui:ctkPathLineEdit': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkPathLineEdit.h'),
    'ui:ctkPathLineEdit.filters': ('5.0', 'CTK 4f87cd0 (Slicer v5.0.0):Libs/Widgets/ctkPathLineEdit.h'),
    'ui:ctkPathLineEdit.nameFilters': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkPathLineEdit.h'),
    'ui:ctkPathLineEdit.options': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkPathLineEdit.h'),
    'ui:ctkPathLineEdit.settingKey': ('4.10', 'CTK ead43bc (Slicer v4.10.0):Libs/Widgets/ctkPathLineEdit.h'),
    'ui:ctkPathLineEdit.toolTip': ('4.10', 'Qt QWidget property'),
    'ui:ctkPathLineEdit::Dirs': ('4.10', 'v4.10.0:Libs/Widgets/ctkPathLineEdit.h'),
    'ui:ctkPathLineEdit::Drives': ('4.10', 'v4.10.0:Libs/Widgets/ctkPathLineEdit.h'),
    'ui:ctkPathLineEdit::Files': ('4.10', 'v4.10.0:Libs/Widgets/ctkPathLineEdit.h'),
    'ui:ctkPathLineEdit::NoDot': ('4.10', 'v4.10.0:Libs/Widgets/ctkPathLineEdit.h'),
    'ui:ctkPathLineEdit::NoDotDot': ('4.10', 'v4.10.0:Libs/Widgets/ctkPathLineEdit.h'),
    'ui:ctkPathLineEdit::Readable': ('4.10', 'v4.10.0:Libs/Widgets/ctkPathLineEdit.h'),
    'ui:ctkPathLineEdit::ShowDirsOnly': ('4.10', 'v4.10.0:Libs/Widgets/ctkPathLineEdit.h'),
    'ui:ctkPathLineEdit::Writable': ('4.10', 'v4.10.0:Libs/Widgets/ctkPathLineEdit.h'),
    'ui:qMRMLNodeComboBox': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLNodeComboBox.h'),
    'ui:qMRMLNodeComboBox.addEnabled': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLNodeComboBox.h'),
    'ui:qMRMLNodeComboBox.nodeTypes': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLNodeComboBox.h'),
    'ui:qMRMLNodeComboBox.noneEnabled': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLNodeComboBox.h'),
    'ui:qMRMLNodeComboBox.removeEnabled': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLNodeComboBox.h'),
    'ui:qMRMLNodeComboBox.renameEnabled': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLNodeComboBox.h'),
    'ui:qMRMLNodeComboBox.showChildNodeTypes': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLNodeComboBox.h'),
    'ui:qMRMLNodeComboBox.toolTip': ('4.10', 'Qt QWidget property'),
    'ui:qMRMLWidget': ('4.10', 'v4.10.0:Libs/MRML/Widgets/qMRMLWidget.h'),
    'ui:qMRMLWidget.geometry': ('4.10', 'Qt QWidget property'),
    'vtk': ('4.10', 'vtk module'),
    'vtk.mutable': ('4.10', 'v4.10.0:Modules/Scripted/DataProbe/DataProbeLib/SliceViewAnnotations.py'),
    'vtk.util.numpy_support': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'vtk.util.numpy_support.get_vtk_array_type': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'vtk.util.numpy_support.numpy_to_vtk': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'vtk.util.numpy_support.numpy_to_vtk(array_type=)':
        ('4.10', 'VTK 9.2 numpy_support.numpy_to_vtk(num_array, deep, array_type);'
         ' v5.8.0:Base/Python/slicer/util.py'),
    'vtk.util.numpy_support.numpy_to_vtk(deep=)':
        ('4.10', 'VTK 9.2 numpy_support.numpy_to_vtk(num_array, deep, array_type);'
         ' v5.8.0:Base/Python/slicer/util.py'),
    'vtk.util.numpy_support.vtk_to_numpy': ('4.10', 'v4.10.0:Base/Python/slicer/util.py'),
    'vtk.vtkCommand.ModifiedEvent':
        ('4.10', 'v4.10.0:Applications/SlicerApp/Testing/Python/SlicerSceneObserverTest.py'),
    'vtk.vtkDataArray':
        ('4.10', 'VTK 9.2 (v5.8.0:SuperBuild/External_VTK.cmake); v5.8.0:Libs/MRML/Core/vtkMRMLTableNode.cxx'),
    'vtk.vtkDoubleArray': ('4.10', 'v4.10.0:Modules/Scripted/SegmentStatistics/SegmentStatistics.py'),
    'vtk.vtkImageData': ('4.10', 'v4.10.0:Applications/SlicerApp/Testing/Python/FiducialLayoutSwitchBug1914.py'),
    'vtk.vtkImageThreshold': ('4.10', 'v4.10.0:Applications/SlicerApp/Testing/Python/UtilTest.py'),
    'vtk.vtkMatrix4x4': ('4.10', 'v4.10.0:Applications/SlicerApp/Testing/Python/SlicerTransformInteractionTest1.py'),
    'vtk.vtkStringArray': ('4.10', 'v4.10.0:Libs/MRML/Core/vtkMRMLTableNode.h'),
    'vtk.vtkTable':
        ('4.10', 'VTK 9.2 (v5.8.0:SuperBuild/External_VTK.cmake); v5.8.0:Libs/MRML/Core/vtkMRMLTableNode.h'),
}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def readme_releases() -> list[str]:
    """The Slicer releases the README's Slicer section states ("for **Slicer 5.8, 5.10 and 5.12**")."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## In 3D Slicer", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"\*\*Slicer\s+(\d+\.\d+(?:,\s+\d+\.\d+)*\s+and\s+\d+\.\d+)\*\*", section)
    assert len(found) == 1, f"the README's Slicer section must state the supported releases once, found {found}"
    return re.findall(r"\d+\.\d+", found[0])


def readme_minimum() -> str:
    """The oldest Slicer the README's Slicer section states."""
    return min(readme_releases(), key=_version)


def test_readme_and_cmake_state_the_same_minimum():
    cmake = (REPO / "CMakeLists.txt").read_text(encoding="utf-8")
    assert re.search(r"find_package\(Slicer (\d+\.\d+) REQUIRED\)", cmake).group(1) == readme_minimum()


def test_readme_names_the_releases_that_make_test_slicer_python_checks():
    pins = sorted(p.stem.split("-", 1)[1] for p in (REPO / "CD8RScore/Resources/SlicerPython").glob("slicer-*.txt"))
    assert sorted(readme_releases(), key=_version) == sorted({".".join(v.split(".")[:2]) for v in pins}, key=_version)


def test_every_name_the_modules_call_is_in_the_table():
    used = used_names()
    missing = {name: sorted(files) for name, files in used.items() if name not in API_TABLE}
    assert not missing, ("names called by the modules but not in API_TABLE (read the Slicer sources at the oldest "
                         f"supported tag and add them with their version): {missing}")


def test_no_name_is_newer_than_the_oldest_supported_slicer():
    minimum = _version(readme_minimum())
    too_new = {name: (API_TABLE[name], sorted(files)) for name, files in used_names().items()
               if name in API_TABLE and _version(API_TABLE[name][0]) > minimum}
    assert not too_new, f"names newer than Slicer {readme_minimum()} (README): {too_new}"


def test_the_table_proves_the_minimum():
    """The README's minimum is the newest version among the names used: no older Slicer would do."""
    used = used_names()
    newest = max(_version(API_TABLE[name][0]) for name in used if name in API_TABLE)
    assert newest == _version(readme_minimum())


def _runtime_union_annotations(tree: ast.Module) -> list[int]:
    """Lines where ``X | Y`` is evaluated at run time (annotations without ``from __future__ import annotations``,
    isinstance): Python 3.10 and newer only."""
    future = any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and
                 any(a.name == "annotations" for a in n.names) for n in tree.body)
    lines = []
    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not future:
            annotations = [a.annotation for a in node.args.args + node.args.kwonlyargs if a.annotation]
            annotations += [node.returns] if node.returns else []
        elif isinstance(node, ast.AnnAssign) and not future:
            annotations = [node.annotation]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "isinstance" and len(node.args) == 2:
            annotations = [node.args[1]]
        for annotation in annotations:
            if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr) for n in ast.walk(annotation)):
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", sorted(p.relative_to(REPO).as_posix() for folder in ("CD8RScore", "CD8RScoreCohort")
                                        for p in (REPO / folder).rglob("*.py") if "Testing" not in p.parts))
def test_modules_run_on_the_python_of_the_oldest_supported_slicer(path):
    """Slicer 5.8 runs Python 3.9: what it loads must parse as 3.9 and evaluate no ``X | Y`` type at run time."""
    version = SLICER_PYTHON[readme_minimum()]
    source = (REPO / path).read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=version)
    if version < (3, 10):
        assert not _runtime_union_annotations(tree), (path, _runtime_union_annotations(tree))


def test_the_scan_covers_the_slicer_facing_files():
    names = {p.relative_to(REPO).as_posix() for p in scanned_files()}
    assert {"CD8RScore/CD8RScore.py", "CD8RScoreCohort/CD8RScoreCohort.py", "CD8RScore/CD8RScoreLib/mrml.py",
            "CD8RScore/CD8RScoreLib/scene_scoring.py", "CD8RScoreCohort/CD8RScoreCohortLib/mrml_views.py"} <= names
