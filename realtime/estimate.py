"""Curve-map estimation for one uint8 frame (the DCE-Net step of the pipeline).

The estimation input is made by core (:mod:`lowlight.estimation`), exactly as
for still images: Zero-DCE++ area-averages the uint8 frame to its estimation
size, Zero-DCE uses the full frame, the official ``scale_factor`` uses the
model's bilinear resize. The maps come from the enhancer's backend
(:mod:`lowlight.backends`: eager torch, ``torch.compile``, ONNX Runtime or
TensorRT). The small uint8 copy (``small``) is kept: the temporal smoother uses
it to detect scene cuts and exposure changes.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from lowlight.backends import CurveBackend, TorchBackend
from lowlight.estimation import area_resize, estimation_tensor, uses_official_resize
from lowlight.models import estimation_size

# Longest side of the analysis copy when the model's estimation input is not a small uint8 copy.
ANALYSIS_SIDE = 256


def probe(image: np.ndarray, side: int = 256) -> np.ndarray:
    """A cheap subsampled copy of ``image`` (every k-th pixel, shorter side >= ``side``) for
    scene-cut detection and brightness statistics on frames whose curves are not estimated."""
    k = max(1, min(image.shape[0], image.shape[1]) // side)
    return image if k == 1 else np.ascontiguousarray(image[::k, ::k])


class CurveEstimator:
    """Run an Enhancer's backend on uint8 frames.

    Args:
        model: a :class:`lowlight.models.ZeroDCE` or :class:`~lowlight.models.ZeroDCEPP`
            (``enhancer.model``), in eval mode.
        device: torch device the model lives on (default: the model's).
        backend: the :class:`lowlight.backends.CurveBackend` to run (``enhancer.backend``);
            default eager torch.

    Example:
        >>> import numpy as np, lowlight
        >>> enh = lowlight.Enhancer()                                 # doctest: +SKIP
        >>> est = CurveEstimator(enh.model, backend=enh.backend)      # doctest: +SKIP
        >>> small = est.small(np.zeros((480, 640, 3), np.uint8))      # doctest: +SKIP
        >>> small.shape, est.estimate(small, None).shape              # doctest: +SKIP
        ((192, 256, 3), torch.Size([3, 192, 256]))
    """

    def __init__(self, model: torch.nn.Module, device: Optional[torch.device] = None,
                 backend: Optional[CurveBackend] = None) -> None:
        self.model = model
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.backend = backend if backend is not None else TorchBackend(model, self.device)
        # Zero-DCE and the official scale_factor need the full frame; the small copy is then for analysis only.
        self.full_resolution = model.name != "zero-dce++" or uses_official_resize(model)
        self.iterations = int(model.iterations)

    def small_size(self, height: int, width: int) -> tuple[int, int]:
        """``(h, w)`` of the small copy for an ``height x width`` frame."""
        if self.full_resolution:
            return estimation_size(height, width, None, ANALYSIS_SIDE)
        return estimation_size(height, width, None, self.model.longest_side)

    def small(self, image: np.ndarray) -> np.ndarray:
        """The small copy of ``image``: uint8 ``h x w x 3`` RGB (the estimation input for Zero-DCE++)."""
        return area_resize(image, self.small_size(image.shape[0], image.shape[1]))

    @torch.inference_mode()
    def estimate(self, small: np.ndarray, image: Optional[np.ndarray]) -> torch.Tensor:
        """Alpha maps in [-1, 1], strength not applied.

        Args:
            small: the small copy from :meth:`small` (the input for Zero-DCE++).
            image: the full frame (needed when :attr:`full_resolution`; may be ``None`` otherwise).
        Returns:
            float32 ``3 x h x w`` (Zero-DCE++) or ``24 x H x W`` (Zero-DCE), on the model's device.
        """
        if self.full_resolution:
            x = estimation_tensor(self.model, image)
        else:
            x = estimation_tensor(self.model, small, small=small)
        return self.backend(x.to(self.device))[0].contiguous()
