"""Apply curve maps to a uint8 frame: the fused kernel, or the plain-torch reference.

:func:`apply_maps` is the one place the pipeline turns (frame, maps) into an
enhanced frame. ``kernel="fused"`` uses :func:`lowlight.kernels.enhance_frame`
(fused, no full-resolution float intermediates); ``kernel="reference"`` uses
:func:`lowlight.kernels.enhance_frame_fallback` (float32 torch, rounded like the
kernels: ``floor(clamp(x * 255 + 0.5, 0, 255))``).
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from lowlight import kernels

KERNELS = ("fused", "reference")


def apply_maps_cuda(frame: np.ndarray, maps: torch.Tensor, iterations: int, strength: float,
                    out: Optional[np.ndarray] = None) -> np.ndarray:
    """GPU path: the frame goes up once, the fused Triton kernel applies ``maps`` (already on
    the GPU, where the backend left them) and the result comes down once into ``out``."""
    src = torch.from_numpy(np.ascontiguousarray(frame)).to(maps.device, non_blocking=True)
    y = kernels.enhance_frame(src, maps, iterations=iterations, strength=strength)
    if out is None:
        return y.cpu().numpy()
    torch.from_numpy(out).copy_(y)
    return out


def apply_maps(frame: np.ndarray, maps: torch.Tensor, iterations: int = 8, strength: float = 1.0,
               out: Optional[np.ndarray] = None, kernel: str = "fused") -> np.ndarray:
    """Enhance ``frame`` with ``maps``.

    Args:
        frame: ``H x W x 3`` uint8 RGB.
        maps: float32 ``3 x h x w`` (low-res, upsampled bilinearly with
            ``align_corners=True``) or ``3*iterations x H x W``; a leading batch
            dimension of 1 is accepted. Alpha convention, values in [-1, 1].
        iterations: curve steps.
        strength: map multiplier (0 = identity).
        out: optional ``H x W x 3`` uint8 destination.
        kernel: ``"fused"`` (fused kernel) or ``"reference"`` (plain torch).
    Returns:
        ``H x W x 3`` uint8 RGB (``out`` when given).
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    m = maps[0] if maps.dim() == 4 else maps
    if kernel == "reference":
        return kernels.enhance_frame_fallback(frame, m.to("cpu", torch.float32), iterations, strength, out)
    if m.device.type == "cuda":
        return apply_maps_cuda(frame, m, iterations, strength, out)
    return kernels.enhance_frame(frame, m, iterations=iterations, strength=strength, out=out)
