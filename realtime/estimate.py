"""Curve-map estimation for one uint8 frame (the DCE-Net step of the pipeline).

Zero-DCE++ estimates on a small copy of the frame: the uint8 frame is
downscaled with ``cv2.resize(..., INTER_AREA)`` (an area average, which also
averages away sensor noise) to
:func:`lowlight.models.estimation_size`, converted to float ``1 x 3 x h x w``
in [0, 1] and run through ``model.net``. Zero-DCE runs at full resolution and
returns 24 maps. Either way the small copy (``small``) is kept: the temporal
smoother uses it to detect scene cuts and exposure changes.
"""

from __future__ import annotations

from typing import Optional

import cv2
import numpy as np
import torch

from lowlight.cpu import flush_denormals
from lowlight.enhancer import to_tensor
from lowlight.models import estimation_size

# Longest side of the analysis copy when the model itself needs no small copy (Zero-DCE).
ANALYSIS_SIDE = 256


def to_input(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 ``H x W x 3`` RGB -> float32 ``1 x 3 x H x W`` in [0, 1] on ``device``.

    The tensor is in channels-last memory order (the HWC layout of the frame):
    oneDNN's depthwise convolutions run 3-4x faster on it than on NCHW on the
    CPU, with the same results up to float rounding (~2e-7).
    """
    return to_tensor(image).to(device).contiguous(memory_format=torch.channels_last)


def area_resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-average ``image`` (``H x W x C`` uint8) to ``size = (h, w)``; returns ``image`` if unchanged.

    Large reductions go in two ``INTER_AREA`` steps, first by the largest whole
    factor (OpenCV's fast integer path: 1080p -> 240x135 takes ~2 ms instead of
    ~9 ms for a direct 7.5x), then by the remaining factor (< 2). The result is
    still an area average of the frame, with slightly different edge weights.
    """
    h, w = size
    H, W = image.shape[:2]
    if (h, w) == (H, W):
        return image
    k = min(H // h, W // w)
    if k >= 2 and (H % k or W % k or (H // k, W // k) != (h, w)):
        image = cv2.resize(image, (W // k, H // k), interpolation=cv2.INTER_AREA)
        if image.shape[:2] == (h, w):
            return image
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


def probe(image: np.ndarray, side: int = 256) -> np.ndarray:
    """A cheap subsampled copy of ``image`` (every k-th pixel, shorter side >= ``side``) for
    scene-cut detection and brightness statistics on frames whose curves are not estimated."""
    k = max(1, min(image.shape[0], image.shape[1]) // side)
    return image if k == 1 else np.ascontiguousarray(image[::k, ::k])


class CurveEstimator:
    """Run an Enhancer's model on uint8 frames.

    Args:
        model: a :class:`lowlight.models.ZeroDCE` or :class:`~lowlight.models.ZeroDCEPP`
            (``enhancer.model``), in eval mode.
        device: torch device the model lives on.

    Example:
        >>> import numpy as np, lowlight
        >>> est = CurveEstimator(lowlight.Enhancer().model)          # doctest: +SKIP
        >>> small = est.small(np.zeros((480, 640, 3), np.uint8))     # doctest: +SKIP
        >>> small.shape, est.estimate(small, None).shape             # doctest: +SKIP
        ((192, 256, 3), torch.Size([3, 192, 256]))
    """

    def __init__(self, model: torch.nn.Module, device: Optional[torch.device] = None) -> None:
        self.model = model
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.full_resolution = model.name == "zero-dce"
        self.iterations = int(model.iterations)

    def small_size(self, height: int, width: int) -> tuple[int, int]:
        """``(h, w)`` of the small copy for an ``height x width`` frame."""
        if self.full_resolution:
            return estimation_size(height, width, None, ANALYSIS_SIDE)
        return estimation_size(height, width, self.model.scale_factor, self.model.longest_side)

    def small(self, image: np.ndarray) -> np.ndarray:
        """The small copy of ``image``: uint8 ``h x w x 3`` RGB (the estimation input for Zero-DCE++)."""
        return area_resize(image, self.small_size(image.shape[0], image.shape[1]))

    @torch.inference_mode()
    def estimate(self, small: np.ndarray, image: Optional[np.ndarray]) -> torch.Tensor:
        """Alpha maps in [-1, 1], strength not applied.

        Args:
            small: the small copy from :meth:`small` (used by Zero-DCE++).
            image: the full frame (used by Zero-DCE; may be ``None`` for Zero-DCE++).
        Returns:
            float32 ``3 x h x w`` (Zero-DCE++, size of ``small``) or
            ``24 x H x W`` (Zero-DCE), on the model's device.
        """
        with flush_denormals():
            if self.full_resolution:
                return self.model(to_input(image, self.device))[0].contiguous()
            return self.model.net(to_input(small, self.device))[0].contiguous()
