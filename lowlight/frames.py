"""The one check of a frame handed to the library (Enhancer, pipeline sources, frame processor)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from lowlight.errors import FrameError


def check_frame(image, what: str = "frame", dtypes: Sequence = (np.uint8,)) -> np.ndarray:
    """Return ``image`` if it is a non-empty NumPy ``H x W x 3`` RGB array of one of ``dtypes``.

    Raises:
        FrameError: (a :class:`~lowlight.errors.LowlightError` and a ``ValueError``) naming what is wrong.
    """
    names = " or ".join(np.dtype(d).name for d in dtypes)
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype not in dtypes:
        desc = f"{getattr(image, 'dtype', type(image).__name__)} {getattr(image, 'shape', '')}".strip()
        raise FrameError(f"{what} must be an H x W x 3 {names} RGB array, got {desc}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise FrameError(f"{what} is empty ({image.shape[0]} x {image.shape[1]})")
    return image
