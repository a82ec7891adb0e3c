"""The Triton JIT kernel behind :mod:`lowlight.kernels.fused_triton` (imports triton at module level).

Only :mod:`lowlight.kernels.fused_triton` imports this module, inside the
function that needs it, so ``lowlight.kernels`` imports without triton.

Grid: ``(H, cdiv(W * 3, BLOCK))``. Program ``(y, b)`` handles ``BLOCK``
consecutive bytes of frame row ``y`` (pixel ``e // 3``, channel ``e % 3``):
loads them, interpolates the map(s) bilinearly (``align_corners=True``; the
four taps are strength-scaled and clamped to [-1, 1] before interpolation,
like :func:`lowlight.kernels.reference.apply_curves`), runs ``ITERS`` curve
steps in float32 registers, rounds ``floor(clamp(x*255 + 0.5, 0, 255))``
and stores uint8. Nothing but the output frame is written.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _map_value(map_ptr, base, row0, row1, j0, j1, fx, fy, strength, mask, SCALED: tl.constexpr):
    """Bilinear sample of one map plane at (row0/row1, j0/j1) with weights (fy, fx)."""
    v00 = tl.load(map_ptr + base + row0 + j0, mask=mask, other=0.0)
    v01 = tl.load(map_ptr + base + row0 + j1, mask=mask, other=0.0)
    v10 = tl.load(map_ptr + base + row1 + j0, mask=mask, other=0.0)
    v11 = tl.load(map_ptr + base + row1 + j1, mask=mask, other=0.0)
    if SCALED:
        v00 = v00 * strength
        v01 = v01 * strength
        v10 = v10 * strength
        v11 = v11 * strength
    # Always clamped to [-1, 1] (also at strength 1), like the CPU kernel.
    v00 = tl.minimum(tl.maximum(v00, -1.0), 1.0)
    v01 = tl.minimum(tl.maximum(v01, -1.0), 1.0)
    v10 = tl.minimum(tl.maximum(v10, -1.0), 1.0)
    v11 = tl.minimum(tl.maximum(v11, -1.0), 1.0)
    top = v00 + fx * (v01 - v00)
    bottom = v10 + fx * (v11 - v10)
    return top + fy * (bottom - top)


@triton.jit
def enhance_kernel(
    src_ptr, dst_ptr, map_ptr,
    W, h, w,
    src_sy, src_sx, src_sc,
    dst_sy, dst_sx, dst_sc,
    den_y, den_x,
    strength,
    ITERS: tl.constexpr,
    PER_ITER: tl.constexpr,
    SCALED: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """uint8 ``H x W x 3`` (strided) -> uint8 ``H x W x 3`` (strided); maps contiguous ``3k x h x w`` float32.

    ``den_y = max(H - 1, 1)``, ``den_x = max(W - 1, 1)``: source position of
    frame row ``y`` is ``y * (h - 1) / den_y`` (align_corners=True).
    """
    y = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < W * 3
    px = offs // 3
    c = offs % 3

    src = tl.load(src_ptr + y.to(tl.int64) * src_sy + px * src_sx + c * src_sc, mask=mask, other=0)
    x = src.to(tl.float32) / 255.0

    # Vertical taps: one per program (scalar).
    sy = (y * (h - 1)).to(tl.float32) / den_y
    i0 = tl.minimum(sy.to(tl.int32), h - 1)
    i1 = tl.minimum(i0 + 1, h - 1)
    fy = sy - i0.to(tl.float32)
    row0 = i0.to(tl.int64) * w
    row1 = i1.to(tl.int64) * w
    # Horizontal taps: per element.
    sx = (px * (w - 1)).to(tl.float32) / den_x
    j0 = tl.minimum(sx.to(tl.int32), w - 1)
    j1 = tl.minimum(j0 + 1, w - 1)
    fx = sx - j0.to(tl.float32)

    plane = h * w  # ints equal to 1 may arrive as constexpr: widen via the tensor operand
    if PER_ITER:
        for t in tl.static_range(ITERS):
            a = _map_value(map_ptr, (c + 3 * t).to(tl.int64) * plane, row0, row1, j0, j1, fx, fy, strength, mask, SCALED)
            x = x + a * (x - x * x)
    else:
        a = _map_value(map_ptr, c.to(tl.int64) * plane, row0, row1, j0, j1, fx, fy, strength, mask, SCALED)
        for _ in tl.static_range(ITERS):
            x = x + a * (x - x * x)

    q = tl.minimum(tl.maximum(x * 255.0 + 0.5, 0.0), 255.0)
    q = q.to(tl.int32).to(tl.uint8)  # truncation == floor for q >= 0
    tl.store(dst_ptr + y.to(tl.int64) * dst_sy + px * dst_sx + c * dst_sc, q, mask=mask)
