"""Fused curve kernel for CUDA tensors, written in Triton.

Same contract as :func:`lowlight.kernels.enhance_frame` (which dispatches
here for CUDA frames): a uint8 ``H x W x 3`` RGB frame (any strides) and
float32 maps ``3 x h x w`` or ``3*iterations x h x w`` on the same device;
upsampling (bilinear, ``align_corners=True``), strength, all iterations,
clamping and rounding in one kernel, one read and one write of the frame.
The kernel itself is in :mod:`lowlight.kernels._triton_kernel`; triton is
imported only when a CUDA frame is enhanced.
"""

from __future__ import annotations

from typing import Optional

import torch

from .errors import KernelUnavailable

BLOCK = 1024
NUM_WARPS = 4


def triton_kernel(module: str, name: str):
    """The jitted kernel ``name`` of ``lowlight.kernels.<module>`` (a module that imports triton), or
    :class:`KernelUnavailable` naming the fix when Triton does not import."""
    import importlib

    try:
        return getattr(importlib.import_module(f".{module}", __package__), name)
    except ImportError as exc:
        raise KernelUnavailable(
            f"Triton is not importable ({exc}); install it with `pip install triton` "
            "(CUDA builds of torch on Linux include it)") from exc


def _kernel():
    return triton_kernel("_triton_kernel", "enhance_kernel")


def enhance_frame_triton(
    frame: torch.Tensor,
    maps: torch.Tensor,
    iterations: int,
    strength: float = 1.0,
    out: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """Enhance a CUDA uint8 frame in one Triton kernel launch.

    Args:
        frame: CUDA uint8 ``H x W x 3`` RGB, any strides.
        maps: float ``3 x h x w`` or ``3*iterations x h x w`` (optionally
            ``1 x C x h x w``), alpha in [-1, 1]; converted to contiguous
            float32 on the frame's device.
        iterations: curve steps (a compile-time constant of the kernel; each
            distinct value compiles once).
        strength: map multiplier, ``alpha' = clamp(strength * alpha, -1, 1)``.
        out: optional CUDA uint8 ``H x W x 3`` destination (may be ``frame``).
    Returns:
        ``out``, or a new contiguous uint8 tensor on the frame's device.
    Raises:
        KernelUnavailable: triton is not installed or the frame is not on CUDA.
    """
    if frame.device.type != "cuda":
        raise KernelUnavailable(f"the Triton kernel needs a CUDA tensor, got one on {frame.device}")
    kernel = _kernel()
    if maps.dim() == 4:
        maps = maps[0]
    maps = maps.detach().to(frame.device, torch.float32).contiguous()
    height, width = frame.shape[0], frame.shape[1]
    channels, h, w = maps.shape
    if out is None:
        out = torch.empty((height, width, 3), dtype=torch.uint8, device=frame.device)
    elif (out.untyped_storage().data_ptr() == frame.untyped_storage().data_ptr()
          and (out.stride() != frame.stride() or out.storage_offset() != frame.storage_offset())):
        frame = frame.clone()  # overlapping but not identical views: read from a copy
    grid = (height, (width * 3 + BLOCK - 1) // BLOCK)
    with torch.cuda.device(frame.device):
        kernel[grid](
            frame, out, maps,
            width, h, w,
            *frame.stride(), *out.stride(),
            max(height - 1, 1), max(width - 1, 1),
            float(strength),
            ITERS=int(iterations), PER_ITER=channels != 3, SCALED=float(strength) != 1.0,
            BLOCK=BLOCK, num_warps=NUM_WARPS,
        )
    return out
