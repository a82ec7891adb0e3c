"""Curve application kernels (``lowlight.kernels``).

The sign convention and map layouts are documented once, in
:mod:`lowlight.kernels.reference`. This package imports nothing else of
lowlight's, only torch (and NumPy).

* :func:`apply_curves`: plain-torch reference on float ``N x 3 x H x W``.
* :func:`enhance_frame`: fused uint8 frame -> uint8 frame (compiled OpenMP
  kernel on the CPU, Triton on CUDA, plain-torch fallback), see
  :mod:`lowlight.kernels.fused`.
"""

from .errors import KernelUnavailable
from .fused import KERNELS, enhance_frame, enhance_frame_fallback
from .reference import DEFAULT_ITERATIONS, apply_curves, enhance_frame_reference, scale_maps, upsample_maps

__all__ = ["DEFAULT_ITERATIONS", "KERNELS", "KernelUnavailable", "apply_curves", "enhance_frame", "enhance_frame_fallback",
           "enhance_frame_reference", "scale_maps", "upsample_maps"]
