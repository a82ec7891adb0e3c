"""Curve application kernels (``lowlight.kernels``).

The sign convention and map layouts are documented once, in
:mod:`lowlight.kernels.reference`. This package imports nothing else of
lowlight's, only torch (and NumPy).

* :func:`apply_curves`: plain-torch reference on float ``N x 3 x H x W``.
* :func:`enhance_frame`: fused uint8 frame -> uint8 frame (compiled OpenMP
  kernel on the CPU, Triton on CUDA, plain-torch fallback), see
  :mod:`lowlight.kernels.fused`.
* :func:`denoise_enhance_frame`: the same, with gain-aware spatial / temporal denoising fused into
  the pass (compiled OpenMP kernel, Triton, plain-torch fallback); :func:`estimate_noise` measures
  the :class:`NoiseModel` of a frame. See :mod:`lowlight.kernels.denoise`.
"""

from .errors import KernelUnavailable
from .fused import KERNELS, enhance_frame, enhance_frame_fallback
from .reference import DEFAULT_ITERATIONS, apply_curves, enhance_frame_reference, scale_maps, upsample_maps
from .denoise import NoiseModel, denoise_enhance_frame, estimate_noise, resolve_denoise  # noqa: E402 - after .fused
from .denoise_reference import DenoiseParams, denoise_enhance_reference

__all__ = ["DEFAULT_ITERATIONS", "KERNELS", "DenoiseParams", "KernelUnavailable", "NoiseModel", "apply_curves",
           "denoise_enhance_frame", "denoise_enhance_reference", "enhance_frame", "enhance_frame_fallback",
           "enhance_frame_reference", "estimate_noise", "resolve_denoise", "scale_maps", "upsample_maps"]
