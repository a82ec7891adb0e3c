"""YUV <-> RGB, slow and obviously correct (NumPy float64): the colour matrices and the reference the
planar kernel (:mod:`lowlight.kernels.yuv`, ``kernels/_yuv_cpu.c``) is tested against.

Conventions (those of swscale, which PyAV's ``frame.to_ndarray(format="rgb24")`` and
``VideoFrame.from_ndarray(...).reformat(format="yuv420p")`` use):

* ``Kr, Kb`` of BT.601, BT.709 or BT.2020 (non-constant luminance); ``Kg = 1 - Kr - Kb``.
* limited range: ``Y`` in 16..235 for 0..1, chroma 16..240 around 128; full range: ``Y`` 0..255,
  chroma ``128 +- 127.5``.
* 4:2:0 -> RGB: a chroma sample covers a 2x2 block and is replicated over it (swscale's same-size
  conversion does this, no interpolation); RGB -> 4:2:0: the chroma of a 2x2 block is computed from
  the block's mean RGB (a last odd column/row: the mean of the pixels it has).
* every output value is rounded half up and clamped to 0..255 (uint8).

Planes are 2-D uint8 arrays: ``y`` is ``H x W``, ``u`` and ``v`` are ``ceil(H/2) x ceil(W/2)``.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

# FFmpeg AVColorSpace values -> (Kr, Kb). 0 (unspecified) and 2 (unknown) are BT.601, swscale's default.
BT601, BT709, BT2020 = 5, 1, 9
_K = {BT601: (0.299, 0.114), BT709: (0.2126, 0.0722), BT2020: (0.2627, 0.0593)}
_ALIASES = {0: BT601, 2: BT601, 5: BT601, 6: BT601, 1: BT709, 9: BT2020}  # 6: SMPTE 170M (= BT.601)


def matrix_of(colorspace: Optional[int]) -> Optional[int]:
    """The matrix (:data:`BT601`, :data:`BT709`, :data:`BT2020`) of an FFmpeg ``AVColorSpace`` value,
    or ``None`` for those this module does not handle (FCC, SMPTE 240M, YCgCo, BT.2020 constant
    luminance, ICtCp...)."""
    return _ALIASES.get(int(colorspace or 0))


def conversion(colorspace: int, full_range: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(M, in_off, N, out_off)`` in levels: ``rgb = M @ (yuv - in_off)`` and ``yuv = N @ rgb + out_off``
    (``N`` is the inverse of ``M``), float64."""
    kr, kb = _K[matrix_of(colorspace)]
    kg = 1.0 - kr - kb
    ys, cs = (1.0, 255.0 / 255.0) if full_range else (255.0 / 219.0, 255.0 / 224.0)
    M = np.array([[ys, 0.0, cs * 2 * (1 - kr)],
                  [ys, -cs * 2 * (1 - kb) * kb / kg, -cs * 2 * (1 - kr) * kr / kg],
                  [ys, cs * 2 * (1 - kb), 0.0]])
    off = np.array([0.0 if full_range else 16.0, 128.0, 128.0])
    return M, off, np.linalg.inv(M), off


def _round_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(x + 0.5), 0, 255).astype(np.uint8)


def yuv_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray, colorspace: int, full_range: bool) -> np.ndarray:
    """Pixels with their own chroma (``y``, ``u``, ``v`` all ``H x W``) -> uint8 ``H x W x 3`` RGB."""
    M, off, _, _ = conversion(colorspace, full_range)
    yuv = np.stack([y, u, v], -1).astype(np.float64) - off
    return _round_u8(yuv @ M.T)


def upsample_chroma(c: np.ndarray, height: int, width: int) -> np.ndarray:
    """A 4:2:0 chroma plane replicated over its 2x2 blocks, cut to ``height x width``."""
    return np.repeat(np.repeat(c, 2, 0), 2, 1)[:height, :width]


def yuv420_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray, colorspace: int, full_range: bool) -> np.ndarray:
    """4:2:0 planes -> uint8 ``H x W x 3`` RGB."""
    H, W = y.shape
    return yuv_to_rgb(y, upsample_chroma(u, H, W), upsample_chroma(v, H, W), colorspace, full_range)


def rgb_to_yuv420(rgb: np.ndarray, colorspace: int, full_range: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8 ``H x W x 3`` RGB -> 4:2:0 planes ``(y, u, v)``."""
    _, _, N, off = conversion(colorspace, full_range)
    H, W = rgb.shape[:2]
    f = rgb.astype(np.float64)
    y = _round_u8(f @ N[0] + off[0])
    # mean RGB of each 2x2 block (partial blocks at an odd edge average the pixels they have)
    hp, wp = (H + 1) // 2, (W + 1) // 2
    pad = np.zeros((2 * hp, 2 * wp, 3))
    cnt = np.zeros((2 * hp, 2 * wp, 1))
    pad[:H, :W], cnt[:H, :W] = f, 1.0
    s = pad.reshape(hp, 2, wp, 2, 3).sum((1, 3))
    n = cnt.reshape(hp, 2, wp, 2, 1).sum((1, 3))
    mean = s / n
    return y, _round_u8(mean @ N[1] + off[1]), _round_u8(mean @ N[2] + off[2])
