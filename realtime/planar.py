"""The frame processor's steps for planar 4:2:0 frames (the file fast path, issue 13).

:class:`~lowlight.realtime.processor.FrameProcessor` hands a :class:`lowlight.kernels.yuv.PlanarYUV`
here; each function is the planar twin of one RGB step, reading only what it needs from the planes:

* :func:`small_copy`: the estimation copy, area-averaged from the planes (Y, and the half-size
  chroma planes, each to the small size) and converted to RGB at that size;
* :func:`noise_rows`: the RGB rows :func:`lowlight.kernels.denoise.estimate_noise` samples (it reads
  about 35 evenly spaced full-resolution rows), so the noise model equals the RGB path's;
* :func:`enhance`: curves and denoiser in one pass of :func:`lowlight.kernels.yuv.enhance_yuv420`;
* :func:`stabilize`: the exposure stabiliser's mean from a strided subsample and its gain applied as
  a lookup table on the planes (a gain on RGB is a gain on ``Y - black`` and ``C - 128``).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from lowlight.kernels import yuv
from lowlight.kernels.denoise import NoiseModel, params_vector, sampled_rows
from lowlight.kernels.denoise_params import DenoiseParams


def supports(estimator, kernel: str) -> bool:
    """Whether frames for ``estimator`` and ``kernel`` can be enhanced as planes: Zero-DCE++ at its small
    size (full-resolution estimators need the RGB frame), the fused kernel, maps on the CPU, the planar
    kernel built. Otherwise the RGB path is the faster one (swscale converts; NumPy would here)."""
    return (not estimator.full_resolution and kernel == "fused" and yuv.available()
            and str(getattr(estimator, "device", "cpu")).startswith("cpu"))


def _rgb_at(frame: yuv.PlanarYUV, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """uint8 RGB of the pixels at ``rows x cols`` (index arrays) of ``frame``."""
    y = frame.y[np.ix_(rows, cols)]
    c = np.ix_(rows // 2, cols // 2)
    return yuv.yuv_to_rgb(y, frame.u[c], frame.v[c], frame.colorspace, frame.full_range)


def small_copy(frame: yuv.PlanarYUV, size: tuple[int, int]) -> np.ndarray:
    """uint8 ``h x w x 3`` RGB estimation copy of ``frame`` (``size = (h, w)``), from area averages."""
    from lowlight.estimation import area_resize

    planes = [area_resize(p, size) for p in (frame.y, frame.u, frame.v)]
    return yuv.yuv_to_rgb(*planes, frame.colorspace, frame.full_range)


def noise_rows(frame: yuv.PlanarYUV) -> np.ndarray:
    """uint8 RGB of the rows :func:`~lowlight.kernels.denoise.noise_bins` samples from a frame this size
    (:func:`~lowlight.kernels.denoise.sampled_rows`; ``estimate_noise`` of the result equals
    ``estimate_noise`` of the whole RGB frame)."""
    H, W = frame.shape
    ys = sampled_rows(H, W)
    c = ys // 2
    u = np.repeat(frame.u[c], 2, axis=1)[:, :W]
    v = np.repeat(frame.v[c], 2, axis=1)[:, :W]
    return yuv.yuv_to_rgb(frame.y[ys], u, v, frame.colorspace, frame.full_range)


def enhance(frame: yuv.PlanarYUV, maps, iterations: int, strength: float, noise: Optional[NoiseModel] = None,
            amount: float = 0.0, state: Optional[np.ndarray] = None, spare: Optional[np.ndarray] = None,
            params: DenoiseParams = DenoiseParams()) -> tuple[yuv.PlanarYUV, Optional[np.ndarray]]:
    """Curves, and with ``noise`` the denoiser (``amount``, the temporal ``state`` of the previous frame
    or ``None``; ``spare``: a buffer for the new state), in one pass. Returns ``(out, new_state)``
    (``new_state`` is ``None`` without ``noise``)."""
    m = np.ascontiguousarray(np.asarray(maps, dtype=np.float32))
    if noise is None:
        return yuv.enhance_yuv420(frame, m, iterations, strength), None
    H, W = frame.shape
    if state is not None and state.shape != (3, H, W):
        state = None
    if spare is None or spare.shape != (3, H, W) or (state is not None and np.may_share_memory(spare, state)):
        spare = np.empty((3, H, W), np.uint16)
    out = yuv.enhance_yuv420(frame, m, iterations, strength, params_vector(noise, amount, params),
                             params.radius_for(state is not None), state, spare)
    return out, spare


def stabilize(frame: yuv.PlanarYUV, output_gain, tolerance: float) -> None:
    """The exposure stabiliser on an enhanced frame, in place: ``output_gain(mean)`` of the RGB mean of
    every ``min(H, W) // 64``-th pixel (as on the RGB path), applied when it is over ``tolerance`` from 1."""
    H, W = frame.shape
    step = max(1, min(H, W) // 64)
    gain = output_gain(float(_rgb_at(frame, np.arange(0, H, step), np.arange(0, W, step)).mean()))
    if abs(gain - 1.0) <= tolerance:
        return
    import cv2

    levels = np.arange(256, dtype=np.float64)
    black = 0.0 if frame.full_range else 16.0
    luts = [np.clip(np.floor(o + gain * (levels - o) + 0.5), 0, 255).astype(np.uint8) for o in (black, 128.0)]
    for plane, lut in ((frame.y, luts[0]), (frame.u, luts[1]), (frame.v, luts[1])):
        cv2.LUT(plane, lut, dst=plane)
