"""The estimation input: the copy of a frame that DCE-Net sees, made the same way for stills and video.

* Zero-DCE estimates on the full frame.
* Zero-DCE++ with ``longest_side`` (the default, 256 px): the uint8 frame is
  area-averaged with OpenCV (:func:`area_resize`) to
  :func:`lowlight.models.estimation_size` before conversion to float; the area
  average also averages away sensor noise, and only the small copy is ever
  converted to float.
* Zero-DCE++ with the official integer ``scale_factor``: the model's own
  bilinear downscale (:meth:`ZeroDCEPP.estimation_input`), as the official code does.

``lowlight image``, ``lowlight video``, ``lowlight live`` and ``lowlight batch``
all go through :func:`estimation_frame` / :func:`estimation_tensor`, so one frame
gets the same curves from every command.
"""

from __future__ import annotations

from typing import Optional

import cv2
import numpy as np
import torch

from lowlight.models import estimation_size


def area_resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-average ``image`` (``H x W x C``, uint8 or float32) to ``size = (h, w)``; returns ``image`` if unchanged.

    Large reductions first halve the image with ``INTER_AREA`` while the half
    is still at least ``size`` (OpenCV's 2x2 box fast path: 1920x1080 ->
    960x540 takes 0.6 ms, where one direct 7.5x area resize takes 7 ms on these
    cores), then area-resize the rest of the way (< 2x). The result is still an
    area average of the frame, with slightly different edge weights. Sizes
    larger than the image are reached with bilinear interpolation.
    """
    h, w = size
    H, W = image.shape[:2]
    if (h, w) == (H, W):
        return image
    if h > H or w > W:
        return cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
    while H // 2 >= h and W // 2 >= w and (H // 2, W // 2) != (h, w) and not (H % 2 or W % 2):
        image = cv2.resize(image, (W // 2, H // 2), interpolation=cv2.INTER_AREA)
        H, W = image.shape[:2]
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


def uses_official_resize(model: torch.nn.Module) -> bool:
    """True when ``model`` downsizes with the official bilinear ``scale_factor`` (float path)."""
    return getattr(model, "scale_factor", None) is not None


def estimation_frame(model: torch.nn.Module, frame: np.ndarray) -> Optional[np.ndarray]:
    """The ``h x w x 3`` estimation copy of ``frame`` (``H x W x 3`` uint8 RGB, or float32 in [0, 1]).

    Returns ``frame`` itself for Zero-DCE (full resolution), and ``None`` when
    the model's official ``scale_factor`` resize applies (it works on floats:
    use :func:`estimation_tensor`).
    """
    if uses_official_resize(model):
        return None
    if model.name != "zero-dce++":
        return frame
    size = estimation_size(frame.shape[0], frame.shape[1], model.scale_factor, model.longest_side)
    return area_resize(frame, size)


def to_tensor(frame: np.ndarray) -> torch.Tensor:
    """``H x W x 3`` RGB -> float32 ``1 x 3 x H x W`` in [0, 1] (CPU).

    uint8 is divided by 255, uint16 by 65535; float32 is taken as already in [0, 1].
    """
    t = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1).unsqueeze(0)
    if frame.dtype == np.float32:
        return t.contiguous()
    return t.to(torch.float32).div_(255.0 if frame.dtype == np.uint8 else 65535.0)


def estimation_tensor(model: torch.nn.Module, frame: np.ndarray, small: Optional[np.ndarray] = None) -> torch.Tensor:
    """Float32 ``1 x 3 x h x w`` in [0, 1] (CPU): the backend input for ``frame``.

    Args:
        model: the loaded model (its estimation settings decide the size).
        frame: ``H x W x 3`` uint8 or uint16 RGB.
        small: the result of :func:`estimation_frame` for ``frame`` if the caller already has it.
    """
    if uses_official_resize(model):
        return model.estimation_input(to_tensor(frame))
    if small is None:
        if frame.dtype != np.uint8:  # 16-bit: the same area average, in float
            frame = frame.astype(np.float32) * np.float32(1.0 / 65535.0)
        small = estimation_frame(model, frame)
    return to_tensor(small)
