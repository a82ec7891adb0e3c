"""The Triton JIT kernel behind :mod:`lowlight.kernels.denoise_triton` (imports triton at module level).

Grid ``(H, cdiv(W, BLOCK))``: program ``(y, b)`` handles ``BLOCK`` pixels of frame row ``y``, all three
channels: the ``(2R+1)^2`` window of the spatial estimate (replicated borders: clamped indices), the
bilinear maps (taps strength-scaled and clamped before interpolation, like the CPU kernels), the
gain (slope of the curve of the channel-mean alpha at the channel mean of the estimate), the
motion-adaptive blend with the state, the curves, the uint8 output and the uint16 state. The maths
is :mod:`lowlight.kernels.denoise_reference`'s, step by step.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _map_value(map_ptr, base, row0, row1, j0, j1, fx, fy, strength, mask, SCALED: tl.constexpr):
    v00 = tl.load(map_ptr + base + row0 + j0, mask=mask, other=0.0)
    v01 = tl.load(map_ptr + base + row0 + j1, mask=mask, other=0.0)
    v10 = tl.load(map_ptr + base + row1 + j0, mask=mask, other=0.0)
    v11 = tl.load(map_ptr + base + row1 + j1, mask=mask, other=0.0)
    if SCALED:
        v00 = v00 * strength
        v01 = v01 * strength
        v10 = v10 * strength
        v11 = v11 * strength
    v00 = tl.minimum(tl.maximum(v00, -1.0), 1.0)
    v01 = tl.minimum(tl.maximum(v01, -1.0), 1.0)
    v10 = tl.minimum(tl.maximum(v10, -1.0), 1.0)
    v11 = tl.minimum(tl.maximum(v11, -1.0), 1.0)
    top = v00 + fx * (v01 - v00)
    bottom = v10 + fx * (v11 - v10)
    return top + fy * (bottom - top)


@triton.jit
def denoise_kernel(
    src_ptr, dst_ptr, map_ptr, state_ptr, new_state_ptr,
    H, W, h, w, HW,
    src_sy, src_sx, src_sc,
    dst_sy, dst_sx, dst_sc,
    den_y, den_x,
    strength, n0, n1, amount, tau, kmin, hr2, t0, inv_t, target, chroma, inv_mrho,
    ITERS: tl.constexpr,
    PER_ITER: tl.constexpr,
    SCALED: tl.constexpr,
    R: tl.constexpr,
    HAS_STATE: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """uint8 ``H x W x 3`` (strided) + uint16 ``3 x H x W`` state -> uint8 output (strided) + new state
    (``HW = H * W``, the state's plane size)."""
    y = tl.program_id(0)
    px = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = px < W
    third = 1.0 / 3.0
    inv255 = 1.0 / 255.0
    yl = y.to(tl.int64)
    cen = src_ptr + yl * src_sy + px * src_sx
    fR = tl.load(cen, mask=mask, other=0).to(tl.float32)
    fG = tl.load(cen + src_sc, mask=mask, other=0).to(tl.float32)
    fB = tl.load(cen + 2 * src_sc, mask=mask, other=0).to(tl.float32)
    L0 = (fR + fG + fB) * third
    var = tl.maximum(n0 + n1 * L0, 0.0)
    inv_h2 = 1.0 / (hr2 * var * (2.0 / 3.0) + 0.5)
    sw = tl.zeros([BLOCK], tl.float32)
    sw2 = tl.zeros([BLOCK], tl.float32)
    aR = tl.zeros([BLOCK], tl.float32)
    aG = tl.zeros([BLOCK], tl.float32)
    aB = tl.zeros([BLOCK], tl.float32)
    for dy in tl.static_range(2 * R + 1):
        yy = tl.minimum(tl.maximum(y + (dy - R), 0), H - 1).to(tl.int64)
        for dx in tl.static_range(2 * R + 1):
            xx = tl.minimum(tl.maximum(px + (dx - R), 0), W - 1)
            p = src_ptr + yy * src_sy + xx * src_sx
            vR = tl.load(p, mask=mask, other=0).to(tl.float32)
            vG = tl.load(p + src_sc, mask=mask, other=0).to(tl.float32)
            vB = tl.load(p + 2 * src_sc, mask=mask, other=0).to(tl.float32)
            d = (vR + vG + vB) * third - L0
            wt = tl.maximum(1.0 - d * d * inv_h2, 0.0)
            wt = wt * wt
            sw += wt
            sw2 += wt * wt
            aR += wt * vR
            aG += wt * vG
            aB += wt * vB
    isw = 1.0 / sw
    spR = aR * isw
    spG = aG * isw
    spB = aB * isw
    rho = tl.sqrt(sw2) * isw

    # map taps (align_corners=True)
    sy = (y * (h - 1)).to(tl.float32) / den_y
    i0 = tl.minimum(sy.to(tl.int32), h - 1)
    i1 = tl.minimum(i0 + 1, h - 1)
    fy = sy - i0.to(tl.float32)
    row0 = i0.to(tl.int64) * w
    row1 = i1.to(tl.int64) * w
    sx = (px * (w - 1)).to(tl.float32) / den_x
    j0 = tl.minimum(sx.to(tl.int32), w - 1)
    j1 = tl.minimum(j0 + 1, w - 1)
    fx = sx - j0.to(tl.float32)
    plane = h * w

    # local gain
    xm = (spR + spG + spB) * third * inv255
    g = tl.full([BLOCK], 1.0, tl.float32)
    if PER_ITER:
        for t in tl.static_range(ITERS):
            am = (_map_value(map_ptr, (3 * t + 0) * plane, row0, row1, j0, j1, fx, fy, strength, mask, SCALED)
                  + _map_value(map_ptr, (3 * t + 1) * plane, row0, row1, j0, j1, fx, fy, strength, mask, SCALED)
                  + _map_value(map_ptr, (3 * t + 2) * plane, row0, row1, j0, j1, fx, fy, strength, mask, SCALED)) * third
            g = g * (1.0 + am * (1.0 - 2.0 * xm))
            xm = xm + am * (xm - xm * xm)
    else:
        a_r = _map_value(map_ptr, 0 * plane, row0, row1, j0, j1, fx, fy, strength, mask, SCALED)
        a_g = _map_value(map_ptr, 1 * plane, row0, row1, j0, j1, fx, fy, strength, mask, SCALED)
        a_b = _map_value(map_ptr, 2 * plane, row0, row1, j0, j1, fx, fy, strength, mask, SCALED)
        am = (a_r + a_g + a_b) * third
        for _ in tl.static_range(ITERS):
            g = g * (1.0 + am * (1.0 - 2.0 * xm))
            xm = xm + am * (xm - xm * xm)

    sigma = tl.sqrt(var)
    T = tl.maximum(sigma * tl.maximum(1.0 / tl.maximum(g, 1e-6), target), tau)
    gs = tl.maximum(g * sigma, 1e-6)
    om = tl.maximum(1.0 - rho, 1e-3)
    wsp = amount * tl.minimum(tl.maximum((gs - T) / (gs * om), 0.0), 1.0)

    soff = yl * W + px
    if HAS_STATE:
        sR = tl.load(state_ptr + soff, mask=mask, other=0).to(tl.float32) * (1.0 / 256.0)
        sG = tl.load(state_ptr + HW + soff, mask=mask, other=0).to(tl.float32) * (1.0 / 256.0)
        sB = tl.load(state_ptr + 2 * HW + soff, mask=mask, other=0).to(tl.float32) * (1.0 / 256.0)
        Tm = tl.minimum(T, gs)
        kq = tl.maximum(2.0 * Tm * Tm / (gs * gs + Tm * Tm), kmin)
        kst = 1.0 - amount * (1.0 - kq)
        D = (tl.abs(spR - sR) + tl.abs(spG - sG) + tl.abs(spB - sB)) * third
        sm = tl.sqrt(var + 0.5) * tl.maximum(rho * inv_mrho, 1.0)
        m = tl.minimum(tl.maximum((D / sm - t0) * inv_t, 0.0), 1.0)
        k = kst + m * (1.0 - kst)
        dR = spR - fR
        dG = spG - fG
        dB = spB - fB
        dl = (dR + dG + dB) * third
        wl = m * wsp
        wc = tl.maximum(m, chroma) * wsp
        yR = sR + k * (fR + wl * dl + wc * (dR - dl) - sR)
        yG = sG + k * (fG + wl * dl + wc * (dG - dl) - sG)
        yB = sB + k * (fB + wl * dl + wc * (dB - dl) - sB)
    else:
        yR = fR + wsp * (spR - fR)
        yG = fG + wsp * (spG - fG)
        yB = fB + wsp * (spB - fB)
    tl.store(new_state_ptr + soff, tl.minimum(tl.maximum(yR * 256.0 + 0.5, 0.0), 65535.0).to(tl.int32).to(tl.uint16), mask=mask)
    tl.store(new_state_ptr + HW + soff, tl.minimum(tl.maximum(yG * 256.0 + 0.5, 0.0), 65535.0).to(tl.int32).to(tl.uint16), mask=mask)
    tl.store(new_state_ptr + 2 * HW + soff, tl.minimum(tl.maximum(yB * 256.0 + 0.5, 0.0), 65535.0).to(tl.int32).to(tl.uint16), mask=mask)

    # the curves on the result
    xr = yR * inv255
    xg = yG * inv255
    xb = yB * inv255
    if PER_ITER:
        for t in tl.static_range(ITERS):
            ar = _map_value(map_ptr, (3 * t + 0) * plane, row0, row1, j0, j1, fx, fy, strength, mask, SCALED)
            ag = _map_value(map_ptr, (3 * t + 1) * plane, row0, row1, j0, j1, fx, fy, strength, mask, SCALED)
            ab = _map_value(map_ptr, (3 * t + 2) * plane, row0, row1, j0, j1, fx, fy, strength, mask, SCALED)
            xr = xr + ar * (xr - xr * xr)
            xg = xg + ag * (xg - xg * xg)
            xb = xb + ab * (xb - xb * xb)
    else:
        for _ in tl.static_range(ITERS):
            xr = xr + a_r * (xr - xr * xr)
            xg = xg + a_g * (xg - xg * xg)
            xb = xb + a_b * (xb - xb * xb)
    dst = dst_ptr + yl * dst_sy + px * dst_sx
    tl.store(dst, tl.minimum(tl.maximum(xr * 255.0 + 0.5, 0.0), 255.0).to(tl.int32).to(tl.uint8), mask=mask)
    tl.store(dst + dst_sc, tl.minimum(tl.maximum(xg * 255.0 + 0.5, 0.0), 255.0).to(tl.int32).to(tl.uint8), mask=mask)
    tl.store(dst + 2 * dst_sc, tl.minimum(tl.maximum(xb * 255.0 + 0.5, 0.0), 255.0).to(tl.int32).to(tl.uint8), mask=mask)
