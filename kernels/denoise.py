"""Gain-aware denoising fused with curve application (issue 12): the noise model, the setting and
``denoise_enhance_frame``, which picks the kernel by device like :func:`lowlight.kernels.enhance_frame`.

Brightening multiplies the sensor noise by the slope of the curve; an 8-step Zero-DCE curve lifts
the shadows 3-6x, so the output of a dark frame carries ~20 levels of per-pixel noise. The
denoiser removes what the curve amplified and nothing else:

* the noise is measured from the frame itself (:func:`estimate_noise`: a robust MAD estimate of
  high-pass residuals on a subsample of full-resolution rows, per brightness bin, fitted to the
  Poisson-Gaussian model ``var(L) = n0 + n1 * L``); a clean frame measures ~0 and is left alone;
* the local gain of the curve (its slope at each pixel) decides how much: a pixel the curve does
  not amplify (gain <= 1: bright regions, ``strength=0``) is not touched at all;
* stills (and the first frame of a stream, and moving regions) are denoised spatially, an
  edge-preserving 5x5 biweight filter whose range follows the measured noise; the three channels
  share the weights, so chroma noise is reduced exactly as much as luma;
* video adds a motion-adaptive recursive temporal filter: the new frame is blended with the
  filter's state where the difference is within the noise, and taken as it is (spatially
  denoised, 3x3 in this pass) where it moves, so moving objects leave no trail; static pixels take
  the spatial estimate's chroma (colour noise smoothed, luma detail only averaged over time). No frame of
  latency: the output of frame t depends on frames <= t. The state (uint16 ``3 x H x W``, levels
  * 256) is the caller's: :class:`lowlight.realtime.FrameProcessor` keeps it and drops it at cuts.
* the target output noise is ``max(tau, sigma * max(0.5, 1/gain))``: where the curve lifts
  strongly, half the input's own noise; where it lifts little, proportionally less denoising.

The maths, step by step: :mod:`lowlight.kernels.denoise_reference` (the plain-torch reference).
Kernels: compiled C/OpenMP on the CPU (:mod:`lowlight.kernels.denoise_cpu`), Triton on CUDA
(:mod:`lowlight.kernels.denoise_triton`), the reference in float32 as the fallback.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import DEFAULT_ITERATIONS, denoise_cpu
from .denoise_options import AUTO, AUTO_AMOUNT, resolve_denoise  # noqa: F401 - re-exported
from .denoise_params import DenoiseParams
from .errors import KernelUnavailable
from .fused import (KERNELS, Frame, _check, _check_out, _cpu_maps, _device_of, _on_device, _warn_once, host_output,
                    is_tensor)

# NumPy frames, maps and state on the CPU never import torch (the compiled kernel runs through
# ctypes); tensors, CUDA and the plain-torch reference fallback import it.

DEFAULT_PARAMS = DenoiseParams()

# estimate_noise: about this many residuals per call; brightness bins of BIN levels; a bin needs
# MIN_COUNT residuals to count.
_SAMPLES = 200_000
_BIN = 8
_MIN_COUNT = 200
_QUANT_VAR = 1.0 / 12.0  # variance of uint8 rounding, in the residual of a clean frame


@dataclass(frozen=True)
class NoiseModel:
    """Noise level function of the input: ``var(L) = n0 + n1 * L`` (uint8 levels^2, ``L`` in 0..255).

    ``n0`` is the signal-independent (read) part, ``n1 * L`` the shot-noise part, both measured
    from frames by :func:`estimate_noise` (uint8 rounding already subtracted).
    """

    n0: float = 0.0
    n1: float = 0.0

    def sigma(self, level: float) -> float:
        return math.sqrt(max(0.0, self.n0 + self.n1 * level))

    @property
    def clean(self) -> bool:
        """Below half a level of noise everywhere: nothing worth denoising."""
        return self.n0 + 255.0 * self.n1 <= 0.25

    def blend(self, new: "NoiseModel", weight: float) -> "NoiseModel":
        """``(1 - weight) * self + weight * new`` (a running estimate over a stream)."""
        return NoiseModel(self.n0 + weight * (new.n0 - self.n0), self.n1 + weight * (new.n1 - self.n1))


def sampled_rows(height: int, width: int, samples: int = _SAMPLES) -> np.ndarray:
    """The row indices (sorted ``intp``) :func:`noise_bins` reads from a ``height x width`` frame: evenly
    spaced, enough for about ``samples`` residuals of 3 channels, at least 8 (or every row)."""
    rows = int(min(height, max(8, samples // max(1, 3 * (width - 2)))))
    return np.unique(np.linspace(0, height - 1, rows).round().astype(np.intp))


def noise_bins(frame: np.ndarray, samples: int = _SAMPLES):
    """Per-brightness-bin noise of ``frame`` (uint8 ``H x W x 3``): ``(level, var, count)`` arrays.

    Residuals ``r = (2 x_i - x_{i-1} - x_{i+1}) / sqrt(6)`` along evenly spaced full-resolution rows
    (white noise of variance v gives residuals of variance v; smooth image content gives ~0), per
    channel, binned by the local mean of the three samples. Per bin, ``var = (1.4826 * MAD)^2``
    minus the rounding variance (the median of ``|r|``, read from a histogram of the integer
    numerators and interpolated within its bin), which is robust to the edges and texture that
    make a minority of the residuals large.
    """
    H, W = frame.shape[:2]
    if W < 3:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    ys = sampled_rows(H, W, samples)
    x = frame[ys].astype(np.int16)  # rows x W x 3
    a, b, c = x[:, :-2], x[:, 1:-1], x[:, 2:]
    num = np.abs(2 * b - a - c).ravel()  # 0..510
    level_sum = (a + b + c).ravel()  # 0..765
    nbins = 256 // _BIN
    bins = np.minimum(level_sum // (3 * _BIN), nbins - 1)
    hist = np.bincount(bins * 511 + num, minlength=nbins * 511).reshape(nbins, 511)
    count = hist.sum(1)
    level = np.bincount(bins, weights=level_sum, minlength=nbins) / np.maximum(count, 1) / 3.0
    cdf = np.cumsum(hist, 1)
    half = count / 2.0
    j = np.argmax(cdf >= half[:, None], axis=1)  # first integer numerator reaching the half
    below = np.where(j > 0, cdf[np.arange(nbins), np.maximum(j - 1, 0)], 0)
    inside = np.maximum(hist[np.arange(nbins), j], 1)
    med = np.maximum(j - 0.5, 0.0) + (half - below) / inside  # integer k spread over [k - .5, k + .5]
    med = np.where(j == 0, half / inside * 0.5, med)  # k = 0 covers [0, .5] of |numerator|
    sigma = 1.4826 * med / math.sqrt(6.0)
    var = np.maximum(sigma * sigma - _QUANT_VAR, 0.0)
    keep = count >= _MIN_COUNT
    return level[keep], var[keep], count[keep]


def _fit_once(L: np.ndarray, v: np.ndarray, w: np.ndarray) -> NoiseModel:
    if L.size == 1 or np.ptp(L) < 1.0:
        return NoiseModel(float(np.average(v, weights=w)), 0.0)
    A = np.stack([np.ones_like(L), L], 1) * w[:, None]
    n0, n1 = np.linalg.lstsq(A, v * w, rcond=None)[0]
    if n1 < 0.0:
        return NoiseModel(float(np.average(v, weights=w)), 0.0)
    if n0 < 0.0:
        return NoiseModel(0.0, float(np.sum(w * w * v * L) / np.sum(w * w * L * L)))
    return NoiseModel(float(n0), float(n1))


def fit_noise(level: np.ndarray, var: np.ndarray, count: np.ndarray) -> NoiseModel:
    """Weighted least-squares fit of ``var = n0 + n1 * level`` with ``n0, n1 >= 0``, robust to bins
    that hold mostly edges (a bin whose variance is over 2x the fit is dropped, then refitted).

    Bins at the clipping ends (level < 2 or > 250: the noise is cut off there) are left out.
    """
    keep = (level >= 2.0) & (level <= 250.0)
    L, v, w = level[keep], var[keep], np.sqrt(count[keep].astype(np.float64))
    if L.size == 0:
        return NoiseModel()
    model = _fit_once(L, v, w)
    for _ in range(3):
        pred = model.n0 + model.n1 * L
        inlier = v <= 2.0 * pred + 0.25
        if inlier.all() or inlier.sum() < max(1, L.size // 3):
            break
        L, v, w = L[inlier], v[inlier], w[inlier]
        model = _fit_once(L, v, w)
    return model


def estimate_noise(frame: np.ndarray, samples: int = _SAMPLES) -> NoiseModel:
    """The :class:`NoiseModel` of a uint8 ``H x W x 3`` frame, measured from the frame itself.

    Costs ~2 ms at any resolution (``samples`` residuals). A clean frame measures ~0
    (:attr:`NoiseModel.clean`).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> noisy = np.clip(40 + rng.normal(0, 4, (200, 300, 3)), 0, 255).astype(np.uint8)
        >>> round(estimate_noise(noisy).sigma(40))
        4
        >>> estimate_noise(np.full((200, 300, 3), 40, np.uint8)).clean
        True
    """
    if is_tensor(frame):
        frame = frame.detach().cpu().numpy()
    return fit_noise(*noise_bins(frame, samples))


def params_vector(noise: NoiseModel, amount: float, params: DenoiseParams) -> np.ndarray:
    """The ``params`` array of the compiled and Triton kernels."""
    return np.array([noise.n0, noise.n1, amount, params.tau, params.kmin, params.hr, params.t0, params.t1,
                     params.target, params.chroma, params.motion_rho], np.float32)




def _check_state(state, frame: Frame, what: str) -> None:
    if state is None:
        return
    shape = (3, frame.shape[0], frame.shape[1])
    dtype_ok = (str(state.dtype) == "torch.uint16") if is_tensor(state) else state.dtype == np.uint16
    if tuple(state.shape) != shape or not dtype_ok:
        raise ValueError(f"{what} must be uint16 {shape}, got {state.dtype} {tuple(state.shape)}")


def _reference(frame: Frame, maps: Frame, noise: NoiseModel, iterations: int, strength: float, amount: float,
               state, params: DenoiseParams, out, dtype=None):
    import torch

    from .denoise_reference import denoise_enhance_reference

    dtype = torch.float32 if dtype is None else dtype
    is_np = isinstance(frame, np.ndarray)
    f = torch.from_numpy(np.ascontiguousarray(frame)) if is_np else frame
    m = torch.from_numpy(np.asarray(maps, np.float32)) if isinstance(maps, np.ndarray) else maps
    s = torch.from_numpy(np.ascontiguousarray(state)) if isinstance(state, np.ndarray) else state
    y, new_state = denoise_enhance_reference(f, m.to(f.device), noise.n0, noise.n1, iterations, strength, amount,
                                             None if s is None else s.to(f.device), params, dtype)
    if is_np:
        y, new_state = y.numpy(), new_state.numpy()
    if out is None:
        return y, new_state
    if is_np:
        np.copyto(out, y)
    else:
        out.copy_(y)
    return out, new_state


def denoise_enhance_frame(frame: Frame, maps: Frame, noise: NoiseModel, iterations: int = DEFAULT_ITERATIONS,
                          strength: float = 1.0, amount: float = AUTO_AMOUNT, state=None, state_out=None,
                          out: Optional[Frame] = None, kernel: str = "fused",
                          params: DenoiseParams = DEFAULT_PARAMS):
    """Denoise (gain-aware, spatial + temporal) and enhance a uint8 RGB frame in one pass.

    The contract of :func:`lowlight.kernels.enhance_frame` (frame, maps, iterations, strength,
    out, kernel; where it runs is decided the same way) plus:

    Args:
        noise: the input's :class:`NoiseModel` (:func:`estimate_noise`).
        amount: denoising strength in [0, 1] (:func:`resolve_denoise`); 0 returns the plain curve.
        state: the temporal filter's state returned by the previous call on the same stream
            (uint16 ``3 x H x W``, NumPy or a tensor), or ``None`` for a still, the first frame or
            the frame after a scene cut (spatial denoising only).
        state_out: optional buffer for the new state (the same kind as ``state``, not the same
            memory), to save an allocation per frame.
        params: :class:`~lowlight.kernels.denoise_reference.DenoiseParams`.
    Returns:
        ``(out, new_state)``: the enhanced frame (``out`` if given, else a new array/tensor of the
        frame's kind) and the state to pass with the next frame of the stream.
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    _check(frame, maps, iterations, strength)
    if not (math.isfinite(amount) and 0.0 <= amount <= 1.0):
        raise ValueError(f"amount must be in [0, 1], got {amount}")
    if params.radius not in (1, 2) or params.temporal_radius not in (1, 2):
        raise ValueError(f"params.radius and temporal_radius must be 1 or 2, got {params}")
    if not (0.0 <= params.chroma <= 1.0 and params.motion_rho > 0.0):
        raise ValueError(f"params.chroma must be in [0, 1] and motion_rho > 0, got {params}")
    if out is not None:
        _check_out(out, frame)
    _check_state(state, frame, "state")
    iterations, strength, amount = int(iterations), float(strength), float(amount)
    device = _device_of(frame, maps)
    if device is not None:
        return _denoise_on_device(frame, maps, noise, iterations, strength, amount, state, state_out, out, kernel,
                                  params, device)
    if kernel == "reference" or not denoise_cpu.available():
        if kernel != "reference":
            _warn_once("CPU", denoise_cpu.unavailable_reason() or "unknown reason", "denoise")
        if is_tensor(state):
            state = state.cpu()
        return _reference(frame, _cpu_maps(maps), noise, iterations, strength, amount, state, params, out)
    is_torch = is_tensor(frame)
    f = frame.detach().numpy() if is_torch else frame
    s = state.cpu().numpy() if is_tensor(state) else state
    if s is not None and not s.flags.c_contiguous:
        s = np.ascontiguousarray(s)
    H, W = f.shape[:2]
    so = state_out
    if is_tensor(so):
        so = so.numpy() if so.device.type == "cpu" else None
    if (so is None or so.shape != (3, H, W) or so.dtype != np.uint16 or not so.flags.c_contiguous
            or (s is not None and np.may_share_memory(so, s))):
        so = np.empty((3, H, W), np.uint16)
    f, o, result = host_output(f, out, is_torch)
    denoise_cpu.denoise_enhance_cpu(f, _cpu_maps(maps), iterations, strength, params_vector(noise, amount, params),
                                    params.radius_for(s is not None), o, s, so)
    return result, (sys.modules["torch"].from_numpy(so) if is_tensor(state) else so)


def _denoise_on_device(frame, maps, noise, iterations, strength, amount, state, state_out, out, kernel, params,
                       device):
    """CUDA (or another torch device): frame, maps and state on the device; Triton when it can run."""
    import torch

    host = not isinstance(frame, torch.Tensor) or frame.device.type == "cpu"
    src = torch.from_numpy(np.ascontiguousarray(frame)) if isinstance(frame, np.ndarray) else frame
    src = src.to(device, non_blocking=True) if host else src
    m = _on_device(maps, device)
    s = state
    if isinstance(s, np.ndarray):
        s = torch.from_numpy(np.ascontiguousarray(s))
    if s is not None:
        s = s.to(device)
    so = state_out if isinstance(state_out, torch.Tensor) and state_out.device == device else None
    y = new_state = None
    if kernel == "fused" and device.type == "cuda":
        from . import denoise_triton

        try:
            y, new_state = denoise_triton.denoise_enhance_triton(
                src, m, params_vector(noise, amount, params), params.radius_for(s is not None), iterations, strength, s, so,
                None if host else out)
        except KernelUnavailable as exc:
            _warn_once("Triton", str(exc), "denoise")
    if y is None:
        y, new_state = _reference(src, m, noise, iterations, strength, amount, s, params, None if host else out)
    if not host:
        return y, new_state
    if out is None:
        y = y.cpu()
        return (y.numpy() if isinstance(frame, np.ndarray) else y), new_state
    (torch.from_numpy(out) if isinstance(out, np.ndarray) else out).copy_(y)
    return out, new_state
