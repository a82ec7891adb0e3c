"""Plain-torch reference of the gain-aware denoiser (the slow, obviously-correct path, issue 12).

The fused kernels (:mod:`lowlight.kernels.denoise_cpu`, :mod:`lowlight.kernels.denoise_triton`) are
tested against :func:`denoise_enhance_reference` computed in float64. Everything is written as
whole-frame tensor expressions, one step per line, in the order the kernels compute it.

Inputs and the model of the noise
---------------------------------
* ``frame``: uint8 ``H x W x 3`` RGB, values ``f`` in levels (0..255).
* noise level function (NLF): the variance of the sensor noise of an input pixel whose level is
  ``L`` is ``var(L) = n0 + n1 * L`` (levels^2; Poisson shot noise + Gaussian read noise), measured
  from the frames by :func:`lowlight.kernels.denoise.estimate_noise`. ``L`` is the pixel's mean over
  the three channels, ``sigma = sqrt(var(L))``.
* ``state`` (video): uint16 ``3 x H x W`` planar, the filter's previous output in levels times 256
  (8 fractional bits), or ``None`` (a still, the first frame of a stream, the frame after a cut).

Per pixel (all three channels share the weights, so chroma noise is reduced exactly as much as luma)
----------------------------------------------------------------------------------------------------
1. Spatial, edge-preserving estimate ``sp``: a ``(2r+1)^2`` window (replicated borders); tap ``j``
   with channel mean ``L_j`` weighs ``w_j = max(0, 1 - (L_j - L)^2 / h2)^2`` (Tukey's biweight)
   (``r = params.radius`` without a state, ``params.temporal_radius`` with one)
   with ``h2 = hr^2 * var * 2/3 + 0.5``: taps across an edge stronger than ~``hr`` noise sigmas get
   no weight. ``sp = sum w_j v_j / sum w_j``; ``rho = sqrt(sum w_j^2) / sum w_j`` is the factor by
   which the estimate's noise is smaller than a single pixel's (1 = no averaging happened).
2. Local gain of the curve: the slope ``g`` of the ``iterations``-step curve at the channel mean
   of ``sp``, with the channel mean of the maps (``g <- g * (1 + a * (1 - 2x))`` beside
   ``x <- x + a * (x - x*x)``; one curve instead of three: the channels' curves differ little).
   The output noise without denoising is ``g * sigma``; the target is
   ``T = max(tau, sigma * max(target, 1 / g))``: below the input's own noise where the curve lifts
   a lot (``target * sigma`` from ``g >= 1/target`` on), and nothing where it does not lift
   (``g <= 1``, e.g. bright untouched regions or strength 0, gives ``ratio = T / (g*sigma) >= 1``:
   nothing is done and the output equals the plain curve).
3. Spatial weight ``wsp = amount * clamp((1 - ratio) / max(1 - rho, 1e-3), 0, 1)`` (the kernels
   compute ``(1 - T/gs) / om`` as ``(gs - T) / (gs * om)``, with ``gs = max(g * sigma, 1e-6)``).
4. With a state ``s`` (levels): motion ``m = clamp((D / sm - t0) / (t1 - t0), 0, 1)`` from
   ``D = mean_c |sp_c - s_c|`` and ``sm = sqrt(var + 0.5)``; the static blend weight of the new frame
   ``kst = 1 - amount * (1 - max(kmin, 2q / (1 + q)))`` with ``q = min(ratio, 1)^2`` (a recursive
   filter with weight ``k`` keeps ``sqrt(k / (2 - k))`` of the noise on a static scene, so this
   brings ``g * sigma`` down to ``T``); ``k = kst + m * (1 - kst)`` (moving pixels take the new
   frame: no ghost trail); the new frame's value, spatially denoised where it moves,
   ``p = f + m * wsp * (sp - f)``; the result ``y = s + k * (p - s)``.
   Without a state: ``y = f + wsp * (sp - f)`` (the same formula with ``m = k = 1``).
5. Output: the curve applied to ``y / 255``, rounded ``floor(clamp(x * 255 + 0.5, 0, 255))``; the
   new state: ``floor(clamp(y * 256 + 0.5, 0, 65535))`` as uint16.

Maps: as for :func:`lowlight.kernels.reference.apply_curves`, scaled by ``strength`` and clamped to
[-1, 1] (always, like the fused curve kernels), upsampled bilinearly with ``align_corners=True``.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from .denoise_params import DenoiseParams  # noqa: F401 - the tuning constants live there (no torch)
from .reference import DEFAULT_ITERATIONS, upsample_maps


def curve_maps_full(maps: torch.Tensor, size: tuple, strength: float, dtype: torch.dtype) -> torch.Tensor:
    """``C x h x w`` (or ``1 x C x h x w``) maps -> ``C x H x W`` of ``dtype``: scaled, clamped, upsampled."""
    if maps.dim() == 4:
        maps = maps[0]
    m = maps.to(dtype)
    m = (m * strength).clamp(-1.0, 1.0)
    return upsample_maps(m[None], size)[0]


def curve_with_slope(x: torch.Tensor, a: torch.Tensor, iterations: int):
    """The curve and its slope d(out)/d(in) at ``x`` (``c x H x W`` in [0, 1]) with maps ``a``
    (``c x H x W``, one for all steps, or ``c*k x H x W``, one per step)."""
    g = torch.ones_like(x)
    c = x.shape[0]
    for i in range(iterations):
        ai = a if a.shape[0] == c else a[c * i:c * i + c]
        g = g * (1.0 + ai * (1.0 - 2.0 * x))
        x = x + ai * (x - x * x)
    return x, g


def spatial_reference(f: torch.Tensor, var: torch.Tensor, radius: int, hr: float):
    """Edge-preserving estimate ``sp`` and noise factor ``rho`` of ``f`` (``3 x H x W`` levels), step 1."""
    H, W = f.shape[-2:]
    r = int(radius)
    pad = F.pad(f[None], (r, r, r, r), mode="replicate")[0]
    L0 = f.mean(0)
    h2 = hr * hr * var * (2.0 / 3.0) + 0.5
    sw = torch.zeros_like(L0)
    sw2 = torch.zeros_like(L0)
    acc = torch.zeros_like(f)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            v = pad[:, r + dy:r + dy + H, r + dx:r + dx + W]
            t = (v.mean(0) - L0) ** 2 / h2
            w = (1.0 - t).clamp(min=0.0) ** 2
            sw = sw + w
            sw2 = sw2 + w * w
            acc = acc + w * v
    return acc / sw, torch.sqrt(sw2) / sw


def denoise_enhance_reference(
    frame: torch.Tensor,
    maps: torch.Tensor,
    n0: float,
    n1: float,
    iterations: int = DEFAULT_ITERATIONS,
    strength: float = 1.0,
    amount: float = 1.0,
    state: Optional[torch.Tensor] = None,
    params: DenoiseParams = DenoiseParams(),
    dtype: torch.dtype = torch.float64,
):
    """Denoise and enhance one uint8 frame; see the module docstring for every step.

    Args:
        frame: uint8 ``H x W x 3`` RGB tensor (any strides, any device).
        maps: float ``3 x h x w`` / ``3k x h x w`` (optionally ``1 x C x h x w``), alpha in [-1, 1].
        n0, n1: the noise level function ``var(L) = n0 + n1 * L`` (levels^2).
        iterations, strength: as for :func:`lowlight.kernels.enhance_frame`.
        amount: denoising strength in [0, 1] (0: the plain curve, exactly).
        state: uint16 ``3 x H x W`` (levels * 256) or ``None``.
        params: :class:`DenoiseParams`.
        dtype: float dtype of the computation (float64: the ground truth).
    Returns:
        ``(out, new_state)``: uint8 ``H x W x 3`` and uint16 ``3 x H x W`` tensors on the frame's device.
    """
    H, W = frame.shape[:2]
    f = frame.permute(2, 0, 1).to(dtype)
    a = curve_maps_full(maps.to(frame.device), (H, W), float(strength), dtype)
    L = f.mean(0)
    var = (n0 + n1 * L).clamp(min=0.0)
    sp, rho = spatial_reference(f, var, params.radius_for(state is not None), params.hr)
    a_mean = a.reshape(-1, 3, H, W).mean(1)  # per iteration (one map for all: 1 x H x W)
    _, g = curve_with_slope(sp.mean(0, keepdim=True) / 255.0, a_mean, iterations)
    g = g[0]
    sigma = torch.sqrt(var)
    T = (sigma * torch.clamp(1.0 / g.clamp(min=1e-6), min=params.target)).clamp(min=params.tau)
    gs = (g * sigma).clamp(min=1e-6)
    ratio = T / gs
    wsp = amount * ((1.0 - ratio) / (1.0 - rho).clamp(min=1e-3)).clamp(0.0, 1.0)
    if state is None:
        y = f + wsp * (sp - f)
    else:
        s = state.to(frame.device, dtype) / 256.0
        q = ratio.clamp(max=1.0) ** 2
        kst = 1.0 - amount * (1.0 - torch.clamp(2.0 * q / (1.0 + q), min=params.kmin))
        D = (sp - s).abs().mean(0)
        sm = torch.sqrt(var + 0.5)
        m = ((D / sm - params.t0) / (params.t1 - params.t0)).clamp(0.0, 1.0)
        k = kst + m * (1.0 - kst)
        p = f + (m * wsp) * (sp - f)
        y = s + k * (p - s)
    x, _ = curve_with_slope(y / 255.0, a, iterations)
    out = (x * 255.0 + 0.5).clamp(0.0, 255.0).floor().to(torch.uint8).permute(1, 2, 0).contiguous()
    new_state = (y * 256.0 + 0.5).clamp(0.0, 65535.0).floor().to(torch.int32).to(torch.uint16).contiguous()
    return out, new_state
