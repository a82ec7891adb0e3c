"""Curve application kernels (``lowlight.kernels``).

The sign convention and map layouts are documented once, in
:mod:`lowlight.kernels.reference`. This package imports nothing else of
lowlight's, only NumPy and torch, and torch only for tensors, CUDA and the plain-torch paths: NumPy
frames and maps reach the compiled CPU kernels (ctypes) without importing it.

* :func:`apply_curves`: plain-torch reference on float ``N x 3 x H x W``.
* :func:`enhance_frame`: fused uint8 frame -> uint8 frame (compiled OpenMP
  kernel on the CPU, Triton on CUDA, plain-torch fallback), see
  :mod:`lowlight.kernels.fused`.
* denoising fused with the curves: :mod:`lowlight.kernels.denoise` (``denoise_enhance_frame``,
  ``estimate_noise``; the option values in the torch-free :mod:`lowlight.kernels.denoise_options`).
"""

import importlib

from .errors import KernelUnavailable

KERNELS = ("fused", "reference")  #: the ``kernel=`` choices of :func:`enhance_frame`
DEFAULT_ITERATIONS = 8  #: curve steps in both papers

# torch is imported on first use of a kernel, not by ``import lowlight.kernels``
_LAZY = {"enhance_frame": ".fused", "enhance_frame_fallback": ".fused", "apply_curves": ".reference",
         "enhance_frame_reference": ".reference", "scale_maps": ".reference", "upsample_maps": ".reference"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


__all__ = ["DEFAULT_ITERATIONS", "KERNELS", "KernelUnavailable", "apply_curves", "enhance_frame", "enhance_frame_fallback",
           "enhance_frame_reference", "scale_maps", "upsample_maps"]
