"""The bounding box of a binary mask (an array in z, y, x order), as slices, optionally grown by whole voxels."""
from __future__ import annotations

import numpy as np


def grown_box(mask: np.ndarray, grow: "list[int] | None" = None) -> tuple[slice, ...]:
    """Slices of ``mask``'s bounding box grown by ``grow`` voxels per axis (none by default), within the array at
    its start (a stop past the end is cut by slicing); the whole array if the mask is empty."""
    if not mask.any():
        return (slice(None),) * mask.ndim
    grow = grow or [0] * mask.ndim
    extent = [np.flatnonzero(mask.any(axis=tuple(a for a in range(mask.ndim) if a != axis)))
              for axis in range(mask.ndim)]
    return tuple(slice(max(0, int(e[0]) - g), int(e[-1]) + 1 + g) for e, g in zip(extent, grow))
