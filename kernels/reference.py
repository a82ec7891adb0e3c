"""Plain-torch reference for curve application (the slow, obviously-correct path).

Sign convention (used everywhere in lowlight)
---------------------------------------------
A curve map holds the paper's ``alpha`` in [-1, 1]; one curve step is::

    LE(x) = x + alpha * x * (1 - x)

Positive ``alpha`` brightens, negative darkens, 0 and 1 are fixed points and
the output stays in [0, 1] for ``|alpha| <= 1``. The official Zero-DCE code
writes the step as ``x + r * (x**2 - x)``, so its raw network output is
``r = -alpha``; :mod:`lowlight.models` negates it once, at the network head.

Strength ``s`` scales the maps: ``alpha' = clamp(s * alpha, -1, 1)``. ``s = 0``
is the identity, ``s = 1`` the model as trained.

Map layouts
-----------
* ``N x 3 x h x w``: one RGB map reused for every iteration (Zero-DCE++).
* ``N x 3k x h x w``: ``k`` iterations, channels ``3i, 3i+1, 3i+2`` are the
  R, G, B maps of iteration ``i + 1`` (Zero-DCE: k = 8, 24 channels).

Maps of a lower resolution than the image are upsampled bilinearly with
``align_corners=True`` (what the official Zero-DCE++ does).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import DEFAULT_ITERATIONS  # noqa: E402,F401 - defined once, in the package


def scale_maps(maps: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Scale curve maps by ``strength`` and clamp them to [-1, 1].

    Args:
        maps: float tensor ``N x C x h x w``, values in [-1, 1].
        strength: non-negative multiplier; 1.0 returns ``maps`` unchanged.
    Returns:
        A tensor of the same shape and dtype.
    """
    if strength == 1.0:
        return maps
    return (maps * strength).clamp_(-1.0, 1.0)


def upsample_maps(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinearly upsample maps to ``size = (H, W)`` with ``align_corners=True``.

    Returns ``maps`` itself when it already has that size.
    """
    if tuple(maps.shape[-2:]) == tuple(size):
        return maps
    return F.interpolate(maps, size=size, mode="bilinear", align_corners=True)


def apply_curves(
    image: torch.Tensor,
    maps: torch.Tensor,
    iterations: int = DEFAULT_ITERATIONS,
    strength: float = 1.0,
) -> torch.Tensor:
    """Apply the iterated light-enhancement curve to an image.

    Args:
        image: float tensor ``N x 3 x H x W`` in [0, 1].
        maps: float tensor ``N x 3 x h x w`` (one map for all iterations) or
            ``N x 3*iterations x h x w`` (one map per iteration), alpha
            convention, values in [-1, 1]; ``h x w`` may be smaller than
            ``H x W`` (upsampled here).
        iterations: number of curve steps (8 in both papers).
        strength: map multiplier, see :func:`scale_maps`.
    Returns:
        Float tensor ``N x 3 x H x W`` in [0, 1] (not clamped: the curve keeps
        values in range by itself).

    Example:
        >>> x = torch.full((1, 3, 2, 2), 0.25)
        >>> a = torch.full((1, 3, 1, 1), 1.0)
        >>> apply_curves(x, a, iterations=1)[0, 0, 0, 0].item()
        0.4375
    """
    if image.dim() != 4 or image.shape[1] != 3:
        raise ValueError(f"image must be N x 3 x H x W, got {tuple(image.shape)}")
    channels = maps.shape[1]
    if channels not in (3, 3 * iterations):
        raise ValueError(
            f"maps must have 3 or {3 * iterations} channels for {iterations} iterations, got {channels}"
        )
    maps = upsample_maps(scale_maps(maps, strength), tuple(image.shape[-2:]))
    x = image
    for i in range(iterations):
        a = maps if channels == 3 else maps[:, 3 * i : 3 * i + 3]
        x = x + a * (x - x * x)
    return x


def enhance_frame_reference(
    frame: torch.Tensor,
    maps: torch.Tensor,
    iterations: int = DEFAULT_ITERATIONS,
    strength: float = 1.0,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Reference for :func:`lowlight.kernels.enhance_frame`: uint8 frame in, uint8 frame out.

    Converts to ``dtype`` (float64 by default, the ground truth the fused
    kernels are tested against; float32 is the plain-torch fallback), runs
    :func:`apply_curves` and rounds like the fused kernels:
    ``floor(clamp(x * 255 + 0.5, 0, 255))``. Writes full-resolution float
    intermediates; slow, obviously correct.

    Args:
        frame: uint8 tensor ``H x W x 3`` RGB (any strides, any device).
        maps: float tensor ``3 x h x w`` or ``3k x h x w`` (optionally with a
            leading batch dimension of 1), alpha convention, values in [-1, 1].
        iterations: number of curve steps.
        strength: map multiplier, see :func:`scale_maps`.
        dtype: float dtype of the computation.
    Returns:
        A new contiguous uint8 tensor ``H x W x 3`` on ``frame``'s device.

    Example:
        >>> f = torch.full((1, 1, 3), 64, dtype=torch.uint8)
        >>> enhance_frame_reference(f, torch.ones(3, 1, 1), iterations=1)[0, 0].tolist()
        [112, 112, 112]
    """
    if maps.dim() == 4 and maps.shape[0] == 1:
        maps = maps[0]
    x = frame.permute(2, 0, 1).unsqueeze(0).to(dtype).div_(255.0)
    m = maps.unsqueeze(0).to(device=frame.device, dtype=dtype)
    y = apply_curves(x, m, iterations, strength)
    y = y[0].permute(1, 2, 0).mul(255.0).add_(0.5).clamp_(0.0, 255.0).floor_()
    return y.to(torch.uint8).contiguous()
