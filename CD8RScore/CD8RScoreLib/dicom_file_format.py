"""Write a pydicom dataset in the DICOM File Format (preamble, DICM prefix, file meta information) with pydicom 2
or 3: Slicer 5.8 and 5.10 bundle pydicom 2.4.4, Slicer 5.12 and the command line pydicom 3."""
from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, Union

if TYPE_CHECKING:
    from pathlib import Path

    from pydicom import Dataset


def save_in_file_format(dataset: "Dataset", target: "Union[str, Path, BinaryIO]") -> None:
    """``dataset.save_as`` in the File Format: pydicom 3 names it ``enforce_file_format=True``, pydicom 2
    ``write_like_original=False`` (deprecated in 3)."""
    import pydicom

    if int(pydicom.__version__.split(".")[0]) >= 3:
        dataset.save_as(target, enforce_file_format=True)
    else:
        dataset.save_as(target, write_like_original=False)
