"""Fused denoise + curve kernel for CUDA tensors, written in Triton (issue 12).

Same contract as :func:`lowlight.kernels.denoise.denoise_enhance_frame` (which dispatches here for
CUDA frames): one kernel launch reads the uint8 frame (any strides) and the uint16 ``3 x H x W``
state, writes the uint8 output and the new state; the maths is
:mod:`lowlight.kernels.denoise_reference`'s. The kernel is in
:mod:`lowlight.kernels._triton_denoise_kernel`; triton is imported only when a CUDA frame is denoised.
Tested against the float64 reference on CUDA (skipped without a GPU) and, where triton is
installed, in Triton's CPU interpreter (``TRITON_INTERPRET=1``, which also lets this function take
CPU tensors).
"""

from __future__ import annotations

import os
from typing import Optional

import numpy as np
import torch

from .errors import KernelUnavailable
from .fused_triton import triton_kernel

BLOCK = 256
NUM_WARPS = 4


def _kernel():
    return triton_kernel("_triton_denoise_kernel", "denoise_kernel")


def denoise_enhance_triton(frame: torch.Tensor, maps: torch.Tensor, params: np.ndarray, radius: int, iterations: int,
                           strength: float = 1.0, state: Optional[torch.Tensor] = None,
                           state_out: Optional[torch.Tensor] = None, out: Optional[torch.Tensor] = None):
    """Denoise and enhance a CUDA uint8 frame in one launch; returns ``(out, new_state)``.

    Args:
        frame: CUDA uint8 ``H x W x 3`` RGB, any strides.
        maps: float ``3 x h x w`` or ``3k x h x w`` (optionally ``1 x C x h x w``) on the device.
        params: ``[n0, n1, amount, tau, kmin, hr, t0, t1, target, chroma, motion_rho]`` (:func:`lowlight.kernels.denoise.params_vector`).
        radius: spatial window radius (1 or 2).
        state: ``None`` or uint16 ``3 x H x W`` on the device; state_out: optional buffer for the new one.
        out: optional uint8 ``H x W x 3`` destination on the device (may be ``frame``).
    Raises:
        KernelUnavailable: triton is not installed or the frame is not on CUDA.
    """
    interpreting = os.environ.get("TRITON_INTERPRET", "") == "1"
    if frame.device.type != "cuda" and not interpreting:
        raise KernelUnavailable(f"the Triton kernel needs a CUDA tensor, got one on {frame.device}")
    kernel = _kernel()
    if maps.dim() == 4:
        maps = maps[0]
    maps = maps.detach().to(frame.device, torch.float32).contiguous()
    height, width = frame.shape[0], frame.shape[1]
    channels, h, w = maps.shape
    if out is None:
        out = torch.empty((height, width, 3), dtype=torch.uint8, device=frame.device)
    elif out.untyped_storage().data_ptr() == frame.untyped_storage().data_ptr():
        frame = frame.clone()  # neighbours are read after the pixel is written: read from a copy
    if state is not None:
        state = state.to(frame.device).contiguous()
    if (state_out is None or tuple(state_out.shape) != (3, height, width) or state_out.dtype != torch.uint16
            or not state_out.is_contiguous() or state_out.device != frame.device
            or (state is not None and state_out.untyped_storage().data_ptr() == state.untyped_storage().data_ptr())):
        state_out = torch.empty((3, height, width), dtype=torch.uint16, device=frame.device)
    n0, n1, amount, tau, kmin, hr, t0, t1, target, chroma, motion_rho = (float(v) for v in params)
    grid = (height, (width + BLOCK - 1) // BLOCK)
    launch = kernel[grid]
    args = (frame, out, maps, state if state is not None else state_out, state_out,
            height, width, h, w, height * width, *frame.stride(), *out.stride(), max(height - 1, 1), max(width - 1, 1),
            float(strength), n0, n1, amount, tau, kmin, hr * hr, t0, 1.0 / (t1 - t0), target, chroma,
            1.0 / motion_rho)
    consts = dict(ITERS=int(iterations), PER_ITER=channels != 3, SCALED=float(strength) != 1.0, R=int(radius),
                  HAS_STATE=state is not None, BLOCK=BLOCK, num_warps=NUM_WARPS)
    if frame.device.type == "cuda":
        with torch.cuda.device(frame.device):
            launch(*args, **consts)
    else:
        launch(*args, **consts)
    return out, state_out
