"""IBSI-conformant radiomic features with pyradiomics (what SlicerRadiomics runs), with absolute discretisation.

3D features: first-order on the VOI's intensities (HU); GLCM and GLRLM per direction over the 13 directions of
3D, features averaged over directions (IBSI "3D, averaged", as LIFEx); GLSZM with 26-connectivity (IBSI "3D");
NGTDM with Chebyshev distance 1 (IBSI "3D").
"""
from __future__ import annotations

import functools
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import numpy as np

from .mask_box import grown_box

if TYPE_CHECKING:
    import SimpleITK as sitk



@contextmanager
def radiomics_errors_only():
    """pyradiomics logs errors only while the block runs; its logger's level is restored after, so a host
    application (Slicer, SlicerRadiomics) keeps its own settings."""
    logger = logging.getLogger("radiomics")
    previous = logger.level  # the host's level, read before pyradiomics' first import sets its own (INFO)
    feature_classes()  # imports pyradiomics before our level is set, so its import cannot undo it
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


@dataclass(frozen=True)
class Discretisation:
    """Absolute (fixed bin size) discretisation: grey level i = floor((x - lower_bound) / bin_width) + 1.

    ``n_bins`` bins cover [lower_bound, lower_bound + n_bins x bin_width). ``out_of_range``: "clip" puts values
    outside into the first/last bin (every VOI voxel kept); "exclude" removes them from the VOI (IBSI
    re-segmentation of the intensity range).
    """

    lower_bound: float
    bin_width: float
    n_bins: int
    out_of_range: str = "clip"

    @property
    def upper_bound(self) -> float:
        return self.lower_bound + self.n_bins * self.bin_width

    def grey_levels(self, values: np.ndarray) -> np.ndarray:
        """Grey levels 1..n_bins of intensities inside the range (clipped to it with "clip")."""
        levels = np.floor((np.asarray(values, dtype=float) - self.lower_bound) / self.bin_width).astype(np.int64) + 1
        return np.clip(levels, 1, self.n_bins)


class _AbsoluteBinning:
    """Mixin replacing pyradiomics' binning by fixed edges lower_bound, lower_bound + w, ...

    pyradiomics' getBinEdges starts the first bin at the ROI's own minimum (floored to the bin width), so its grey
    level 1 is the ROI's lowest bin, not HU -1000: every grey-level-weighted feature (LGRE, HGRE, SRLGE..LRHGE,
    the zone equivalents, joint average, autocorrelation, ...) then depends on the ROI's minimum. LIFEx and the
    CD8 signature use absolute grey levels; neither pyradiomics' resegmentRange nor pre-binned input changes the
    edges, so this is the one place where the edges are fixed. The base class's coefficients keep their meaning:
    'grayLevels' = grey levels present in the ROI, 'Ng' = the highest of them.
    """

    def _applyBinning(self, matrix):  # noqa: N802 (pyradiomics' name)
        discretisation: Discretisation = self.settings["absoluteDiscretisation"]
        levels = np.zeros(matrix.shape, dtype=int)
        inside = discretisation.grey_levels(matrix[self.maskArray])
        levels[self.maskArray] = inside
        # the grey levels present, ascending: np.unique's result, counted instead of sorted
        self.coefficients["grayLevels"] = np.flatnonzero(np.bincount(inside))
        self.coefficients["Ng"] = int(np.max(self.coefficients["grayLevels"]))
        return levels


def _absolute(cls):
    # keep pyradiomics' module so that its loggers (quietened by radiomics_errors_only) stay the ones used
    return type(f"Absolute{cls.__name__}", (_AbsoluteBinning, cls), {"__module__": cls.__module__})


FAMILIES: tuple[str, ...] = ("firstorder", "glcm", "glrlm", "glszm", "ngtdm")


@functools.lru_cache(maxsize=None)
def feature_classes() -> dict[str, type]:
    """pyradiomics' feature classes of FAMILIES, with the fixed bin edges of _AbsoluteBinning.

    pyradiomics is imported here, on first use, so that signatures, tables and the MRML adapter load before it is
    installed (the Slicer module installs it, after asking, when it first scores).
    """
    from radiomics import firstorder, glcm, glrlm, glszm, ngtdm

    classes = (firstorder.RadiomicsFirstOrder, glcm.RadiomicsGLCM, glrlm.RadiomicsGLRLM, glszm.RadiomicsGLSZM,
               ngtdm.RadiomicsNGTDM)
    return {family: _absolute(cls) for family, cls in zip(FAMILIES, classes)}


# pyradiomics settings: no resampling, no re-segmentation, no intensity shift, 3D, distance 1, symmetric GLCM.
PYRADIOMICS_SETTINGS = {
    "force2D": False, "distances": [1], "symmetricalGLCM": True, "voxelArrayShift": 0, "weightingNorm": None,
    "gldm_a": 0, "label": 1, "additionalInfo": False,
}


@dataclass(frozen=True)
class FeatureInfo:
    """A feature of the catalogue: pyradiomics key, IBSI name/id/family/aggregation, LIFEx name ("" if none)."""

    key: str
    ibsi_name: str
    ibsi_id: str
    ibsi_family: str
    ibsi_aggregation: str
    lifex_name: str = ""

    @property
    def family(self) -> str:
        return self.key.split("_", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split("_", 1)[1]

    @property
    def ibsi_column(self) -> str:
        """Column name from the IBSI family and feature name, e.g. "rlm_long_run_high_grey_level_emphasis"."""
        words = re.sub(r"[^a-z0-9]+", "_", self.ibsi_name.lower()).strip("_")
        return f"{IBSI_FAMILY_PREFIX[self.ibsi_family]}_{words}"


_STAT = "Intensity-based statistical features"
_HIST = "Intensity histogram features"
_GLCM = "Grey level co-occurrence based features"
_GLRLM = "Grey level run length based features"
_GLSZM = "Grey level size zone based features"
_NGTDM = "Neighbourhood grey tone difference based features"

# (pyradiomics key, IBSI name, IBSI id, IBSI family, aggregation, LIFEx name).
# Left out on purpose: pyradiomics Kurtosis (= IBSI kurtosis + 3: the catalogue holds IBSI values only),
# StandardDeviation (no IBSI feature), TotalEnergy (volume-scaled), MCC (no IBSI feature), GLCM
# SumSquares is IBSI joint variance, ClusterTendency is IBSI sum variance, DifferenceAverage is IBSI
# difference average (= dissimilarity, LIFEx GLCM_Dissimilarity).
_ROWS = [
    ("firstorder_Minimum", "Minimum intensity", "1GSF", _STAT, "3D", "CONVENTIONAL_HUmin"),
    ("firstorder_Maximum", "Maximum intensity", "84IY", _STAT, "3D", "CONVENTIONAL_HUmax"),
    ("firstorder_Mean", "Mean intensity", "Q4LE", _STAT, "3D", "CONVENTIONAL_HUmean"),
    ("firstorder_Median", "Median intensity", "Y12H", _STAT, "3D", ""),
    ("firstorder_10Percentile", "10th intensity percentile", "QG58", _STAT, "3D", ""),
    ("firstorder_90Percentile", "90th intensity percentile", "8DWT", _STAT, "3D", ""),
    ("firstorder_InterquartileRange", "Intensity interquartile range", "SALO", _STAT, "3D", ""),
    ("firstorder_Range", "Intensity range", "2OJQ", _STAT, "3D", ""),
    ("firstorder_MeanAbsoluteDeviation", "Intensity-based mean absolute deviation", "4FUA", _STAT, "3D", ""),
    ("firstorder_RobustMeanAbsoluteDeviation", "Intensity-based robust mean absolute deviation", "1128", _STAT,
     "3D", ""),
    ("firstorder_Variance", "Intensity variance", "ECT3", _STAT, "3D", ""),
    ("firstorder_Skewness", "Intensity skewness", "KE2A", _STAT, "3D", "CONVENTIONAL_HUSkewness"),
    ("firstorder_Energy", "Intensity-based energy", "N8CA", _STAT, "3D", ""),
    ("firstorder_RootMeanSquared", "Root mean square intensity", "5ZWQ", _STAT, "3D", ""),
    ("firstorder_Entropy", "Discretised intensity entropy", "TLU2", _HIST, "3D", "HISTO_Entropy_log2"),
    ("firstorder_Uniformity", "Discretised intensity uniformity", "BJ5W", _HIST, "3D", "HISTO_Energy"),
    ("glcm_MaximumProbability", "Joint maximum", "GYBY", _GLCM, "3D, averaged", ""),
    ("glcm_JointAverage", "Joint average", "60VM", _GLCM, "3D, averaged", ""),
    ("glcm_SumSquares", "Joint variance", "UR99", _GLCM, "3D, averaged", ""),
    ("glcm_JointEntropy", "Joint entropy", "TU9B", _GLCM, "3D, averaged", "GLCM_Entropy_log2"),
    ("glcm_DifferenceAverage", "Difference average", "TF7R", _GLCM, "3D, averaged", "GLCM_Dissimilarity"),
    ("glcm_DifferenceVariance", "Difference variance", "D3YU", _GLCM, "3D, averaged", ""),
    ("glcm_DifferenceEntropy", "Difference entropy", "NTRS", _GLCM, "3D, averaged", ""),
    ("glcm_SumAverage", "Sum average", "ZGXS", _GLCM, "3D, averaged", ""),
    ("glcm_ClusterTendency", "Sum variance", "OEEB", _GLCM, "3D, averaged", ""),
    ("glcm_SumEntropy", "Sum entropy", "P6QZ", _GLCM, "3D, averaged", ""),
    ("glcm_JointEnergy", "Angular second moment", "8ZQL", _GLCM, "3D, averaged", "GLCM_Energy"),
    ("glcm_Contrast", "Contrast", "ACUI", _GLCM, "3D, averaged", "GLCM_Contrast"),
    ("glcm_Id", "Inverse difference", "IB1Z", _GLCM, "3D, averaged", "GLCM_Homogeneity"),
    ("glcm_Idn", "Normalised inverse difference", "NDRX", _GLCM, "3D, averaged", ""),
    ("glcm_Idm", "Inverse difference moment", "WF0Z", _GLCM, "3D, averaged", ""),
    ("glcm_Idmn", "Normalised inverse difference moment", "1QCO", _GLCM, "3D, averaged", ""),
    ("glcm_InverseVariance", "Inverse variance", "E8JP", _GLCM, "3D, averaged", ""),
    ("glcm_Correlation", "Correlation", "NI2N", _GLCM, "3D, averaged", "GLCM_Correlation"),
    ("glcm_Autocorrelation", "Autocorrelation", "QWB0", _GLCM, "3D, averaged", ""),
    ("glcm_ClusterShade", "Cluster shade", "7NFM", _GLCM, "3D, averaged", ""),
    ("glcm_ClusterProminence", "Cluster prominence", "AE86", _GLCM, "3D, averaged", ""),
    ("glcm_Imc1", "Information correlation 1", "R8DG", _GLCM, "3D, averaged", ""),
    ("glcm_Imc2", "Information correlation 2", "JN9H", _GLCM, "3D, averaged", ""),
    ("glrlm_ShortRunEmphasis", "Short runs emphasis", "22OV", _GLRLM, "3D, averaged", "GLRLM_SRE"),
    ("glrlm_LongRunEmphasis", "Long runs emphasis", "W4KF", _GLRLM, "3D, averaged", "GLRLM_LRE"),
    ("glrlm_LowGrayLevelRunEmphasis", "Low grey level run emphasis", "V3SW", _GLRLM, "3D, averaged", "GLRLM_LGRE"),
    ("glrlm_HighGrayLevelRunEmphasis", "High grey level run emphasis", "G3QZ", _GLRLM, "3D, averaged",
     "GLRLM_HGRE"),
    ("glrlm_ShortRunLowGrayLevelEmphasis", "Short run low grey level emphasis", "HTZT", _GLRLM, "3D, averaged",
     "GLRLM_SRLGE"),
    ("glrlm_ShortRunHighGrayLevelEmphasis", "Short run high grey level emphasis", "GD3A", _GLRLM, "3D, averaged",
     "GLRLM_SRHGE"),
    ("glrlm_LongRunLowGrayLevelEmphasis", "Long run low grey level emphasis", "IVPO", _GLRLM, "3D, averaged",
     "GLRLM_LRLGE"),
    ("glrlm_LongRunHighGrayLevelEmphasis", "Long run high grey level emphasis", "3KUM", _GLRLM, "3D, averaged",
     "GLRLM_LRHGE"),
    ("glrlm_GrayLevelNonUniformity", "Grey level non-uniformity", "R5YN", _GLRLM, "3D, averaged", "GLRLM_GLNU"),
    ("glrlm_GrayLevelNonUniformityNormalized", "Normalised grey level non-uniformity", "OVBL", _GLRLM,
     "3D, averaged", ""),
    ("glrlm_RunLengthNonUniformity", "Run length non-uniformity", "W92Y", _GLRLM, "3D, averaged", "GLRLM_RLNU"),
    ("glrlm_RunLengthNonUniformityNormalized", "Normalised run length non-uniformity", "IC23", _GLRLM,
     "3D, averaged", ""),
    ("glrlm_RunPercentage", "Run percentage", "9ZK5", _GLRLM, "3D, averaged", "GLRLM_RP"),
    ("glrlm_GrayLevelVariance", "Grey level variance", "8CE5", _GLRLM, "3D, averaged", ""),
    ("glrlm_RunVariance", "Run length variance", "SXLW", _GLRLM, "3D, averaged", ""),
    ("glrlm_RunEntropy", "Run entropy", "HJ9O", _GLRLM, "3D, averaged", ""),
    ("glszm_SmallAreaEmphasis", "Small zone emphasis", "P001", _GLSZM, "3D", "GLZLM_SZE"),
    ("glszm_LargeAreaEmphasis", "Large zone emphasis", "48P8", _GLSZM, "3D", "GLZLM_LZE"),
    ("glszm_LowGrayLevelZoneEmphasis", "Low grey level zone emphasis", "XMSY", _GLSZM, "3D", "GLZLM_LGZE"),
    ("glszm_HighGrayLevelZoneEmphasis", "High grey level zone emphasis", "5GN9", _GLSZM, "3D", "GLZLM_HGZE"),
    ("glszm_SmallAreaLowGrayLevelEmphasis", "Small zone low grey level emphasis", "5RAI", _GLSZM, "3D",
     "GLZLM_SZLGE"),
    ("glszm_SmallAreaHighGrayLevelEmphasis", "Small zone high grey level emphasis", "HW1V", _GLSZM, "3D",
     "GLZLM_SZHGE"),
    ("glszm_LargeAreaLowGrayLevelEmphasis", "Large zone low grey level emphasis", "YH51", _GLSZM, "3D",
     "GLZLM_LZLGE"),
    ("glszm_LargeAreaHighGrayLevelEmphasis", "Large zone high grey level emphasis", "J17V", _GLSZM, "3D",
     "GLZLM_LZHGE"),
    ("glszm_GrayLevelNonUniformity", "Grey level non-uniformity", "JNSA", _GLSZM, "3D", "GLZLM_GLNU"),
    ("glszm_GrayLevelNonUniformityNormalized", "Normalised grey level non-uniformity", "Y1RO", _GLSZM, "3D", ""),
    ("glszm_SizeZoneNonUniformity", "Zone size non-uniformity", "4JP3", _GLSZM, "3D", "GLZLM_ZLNU"),
    ("glszm_SizeZoneNonUniformityNormalized", "Normalised zone size non-uniformity", "VB3A", _GLSZM, "3D", ""),
    ("glszm_ZonePercentage", "Zone percentage", "P30P", _GLSZM, "3D", "GLZLM_ZP"),
    ("glszm_GrayLevelVariance", "Grey level variance", "BYLV", _GLSZM, "3D", ""),
    ("glszm_ZoneVariance", "Zone size variance", "3NSA", _GLSZM, "3D", ""),
    ("glszm_ZoneEntropy", "Zone size entropy", "GU8N", _GLSZM, "3D", ""),
    ("ngtdm_Coarseness", "Coarseness", "QCDE", _NGTDM, "3D", "NGLDM_Coarseness"),
    ("ngtdm_Contrast", "Contrast", "65HE", _NGTDM, "3D", "NGLDM_Contrast"),
    ("ngtdm_Busyness", "Busyness", "NQ30", _NGTDM, "3D", "NGLDM_Busyness"),
    ("ngtdm_Complexity", "Complexity", "HDEZ", _NGTDM, "3D", ""),
    ("ngtdm_Strength", "Strength", "1X9X", _NGTDM, "3D", ""),
]

# IBSI's short family names (the prefixes of its feature tags: stat_, ih_, cm_, rlm_, szm_, ngt_).
IBSI_FAMILY_PREFIX: dict[str, str] = {_STAT: "stat", _HIST: "ih", _GLCM: "cm", _GLRLM: "rlm", _GLSZM: "szm",
                                      _NGTDM: "ngt"}

FEATURES: dict[str, FeatureInfo] = {row[0]: FeatureInfo(*row) for row in _ROWS}
BY_IBSI_COLUMN: dict[str, FeatureInfo] = {info.ibsi_column: info for info in FEATURES.values()}
FAMILY_FEATURES: dict[str, list[FeatureInfo]] = {family: [info for info in FEATURES.values() if info.family == family]
                                                 for family in FAMILIES}
assert len(BY_IBSI_COLUMN) == len(FEATURES), "IBSI column names must be unique"


def by_lifex_name(name: str) -> FeatureInfo:
    """The catalogue entry of a LIFEx feature name (e.g. "GLZLM_SZHGE"); KeyError if none."""
    for info in FEATURES.values():
        if info.lifex_name == name:
            return info
    raise KeyError(f"no feature with LIFEx name {name!r}")


def compute_features(image: sitk.Image, mask: sitk.Image, families: Iterable[str],
                     discretisation: Discretisation, keys: "Iterable[str] | None" = None) -> dict[str, float]:
    """Catalogue features of ``families`` in the VOI ``mask`` (uint8 0/1 on ``image``'s grid).

    ``keys`` ("glcm_Contrast", ...) restricts the result to those features (each is computed on its own, so
    its value does not depend on which others are asked for); None gives every catalogue feature of ``families``.

    With ``out_of_range == "exclude"`` voxels outside the discretisation range leave the VOI first (IBSI
    re-segmentation); with "clip" they stay and fall into the end bins. Returns {"<family>_<name>": value}.
    """
    # imported here: the feature catalogue above is read by commands that compute no feature (validate-signature,
    # compare-signatures), and SimpleITK's import costs them 0.1 s CPU
    import SimpleITK as sitk

    mask_array = sitk.GetArrayFromImage(mask).astype(bool)
    if discretisation.out_of_range == "exclude":
        values = sitk.GetArrayViewFromImage(image)
        mask_array &= (values >= discretisation.lower_bound) & (values <= discretisation.upper_bound)
    if not mask_array.any():
        raise ValueError("the VOI is empty")
    # pyradiomics' classes work on the whole array they are given; on the VOI's bounding box the same voxels and
    # neighbours enter every matrix (voxels outside the VOI never do), in less time.
    box = grown_box(mask_array)
    voi = sitk.GetImageFromArray(mask_array[box].astype(np.uint8))
    cropped = sitk.GetImageFromArray(sitk.GetArrayViewFromImage(image)[box])
    for part in (voi, cropped):
        part.SetOrigin(image.TransformIndexToPhysicalPoint([b.start for b in reversed(box)]))
        part.SetSpacing(image.GetSpacing())
        part.SetDirection(image.GetDirection())
    image = cropped
    keys = None if keys is None else set(keys)
    results: dict[str, float] = {}
    with radiomics_errors_only():
        for family in families:
            cls = feature_classes()[family]
            extractor = cls(image, voi, binWidth=discretisation.bin_width, absoluteDiscretisation=discretisation,
                            **PYRADIOMICS_SETTINGS)
            wanted = [info.name for info in FAMILY_FEATURES[family] if keys is None or info.key in keys]
            for name in wanted:
                extractor.enableFeatureByName(name, True)
            for name, value in extractor.execute().items():
                key = f"{family}_{name}"
                if key in FEATURES:
                    results[key] = float(value)
    return results
