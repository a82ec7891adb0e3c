"""Planar YUV 4:2:0 frames and the kernel that enhances them without an RGB frame (issue 13).

:class:`PlanarYUV` is the file fast path's frame: the decoder's Y, U, V planes with the colour
matrix and range. :func:`enhance_yuv420` runs ``kernels/_yuv_cpu.c``: one pass that reads the planes,
converts each row to RGB in registers (:mod:`lowlight.kernels.yuv_reference` states the conversion),
applies the curves and, with ``params``, the gain-aware denoiser of :mod:`lowlight.kernels.denoise`
(the same per-pixel code as the RGB kernel), and writes planar YUV 4:2:0.

NumPy + ctypes only: this module does not import torch. ``LOWLIGHT_DISABLE_YUV=1`` (read at each
:func:`available` call) turns the planar path off, so ``lowlight video`` decodes to RGB as before
(to compare the two paths); ``LOWLIGHT_DISABLE_FUSED_CPU=1`` turns off every compiled kernel.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from . import yuv_reference as ref
from .errors import KernelUnavailable
from .native import NativeLibrary
from .threads import get_num_threads

_ABI_VERSION = 2
_ssize, _ptr, _int = ctypes.c_ssize_t, ctypes.c_void_p, ctypes.c_int
_LIBRARY = NativeLibrary("_yuv_cpu", _ABI_VERSION, "lowlight_yuv_abi_version", "lowlight_yuv420_enhance",
                         [_ptr, _ssize, _ptr, _ssize, _ptr, _ssize, _ptr, _ssize, _ptr, _ssize, _ptr, _ssize,
                          _int, _int, _ptr, _ptr, _ptr, _ptr, _int, _int, _int, _int, ctypes.c_float, _ptr, _int,
                          _int])

DISABLE_ENV = "LOWLIGHT_DISABLE_YUV"


def available() -> bool:
    """Whether the compiled library loaded and the planar path is not disabled (:data:`DISABLE_ENV`)."""
    return os.environ.get(DISABLE_ENV, "") in ("", "0") and _LIBRARY.available()


unavailable_reason = _LIBRARY.unavailable_reason  #: why it did not load (None when it did)

_IDENTITY = np.zeros((3, 1, 1), np.float32)


def default_threads() -> int:
    """OpenMP threads of the kernel: ``OMP_NUM_THREADS`` when set, else
    :func:`lowlight.kernels.threads.get_num_threads` (the count the RGB kernels use)."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return get_num_threads()


@dataclass
class PlanarYUV:
    """A 4:2:0 frame as three uint8 planes.

    Attributes:
        y: ``H x W``; u, v: ``ceil(H/2) x ceil(W/2)``; 2-D uint8 arrays whose columns are contiguous
            (rows may have any stride, e.g. views of a decoder's padded buffers).
        colorspace: :data:`~lowlight.kernels.yuv_reference.BT601`, ``BT709`` or ``BT2020``.
        full_range: True for full ("JPEG") range, False for limited (16..235).
        owner: whatever owns the planes' memory (a decoded ``av.VideoFrame``), kept alive with them.
    """

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    colorspace: int = ref.BT601
    full_range: bool = False
    owner: Any = None

    def __post_init__(self) -> None:
        H, W = self.y.shape
        for name, p in (("y", self.y), ("u", self.u), ("v", self.v)):
            if p.dtype != np.uint8 or p.ndim != 2 or (p.shape[1] > 1 and p.strides[1] != 1):
                raise ValueError(f"plane {name} must be a 2-D uint8 array with contiguous columns")
        if self.u.shape != ((H + 1) // 2, (W + 1) // 2) or self.v.shape != self.u.shape:
            raise ValueError(f"4:2:0 chroma of a {W}x{H} frame must be {(H + 1) // 2}x{(W + 1) // 2}, "
                             f"got {self.u.shape} and {self.v.shape}")
        if ref.matrix_of(self.colorspace) is None:
            raise ValueError(f"colorspace {self.colorspace} is not BT.601, BT.709 or BT.2020")

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)``."""
        return int(self.y.shape[0]), int(self.y.shape[1])

    def empty_like(self) -> "PlanarYUV":
        """New contiguous planes of the same size, matrix and range (uninitialised)."""
        H, W = self.shape
        hc, wc = (H + 1) // 2, (W + 1) // 2
        return PlanarYUV(np.empty((H, W), np.uint8), np.empty((hc, wc), np.uint8), np.empty((hc, wc), np.uint8),
                         self.colorspace, self.full_range)

    def to_rgb(self) -> np.ndarray:
        """uint8 ``H x W x 3`` RGB (the conversion of :func:`~lowlight.kernels.yuv_reference.yuv420_to_rgb`)."""
        return ref.yuv420_to_rgb(self.y, self.u, self.v, self.colorspace, self.full_range)

    def replace_from_rgb(self, rgb: np.ndarray) -> "PlanarYUV":
        """A new frame of this matrix and range holding ``rgb`` (uint8 ``H x W x 3``)."""
        y, u, v = ref.rgb_to_yuv420(rgb, self.colorspace, self.full_range)
        return PlanarYUV(y, u, v, self.colorspace, self.full_range)


def conversion_vector(colorspace: int, full_range: bool) -> np.ndarray:
    """The ``conv`` array of the kernel: ``M`` (row-major), ``in_off``, ``N``, ``out_off`` as float32."""
    M, off_in, N, off_out = ref.conversion(colorspace, full_range)
    return np.concatenate([M.ravel(), off_in, N.ravel(), off_out]).astype(np.float32)


def yuv_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray, colorspace: int, full_range: bool) -> np.ndarray:
    """:func:`~lowlight.kernels.yuv_reference.yuv_to_rgb` (pixels with their own chroma, ``H x W`` each
    -> uint8 ``H x W x 3``) in float32 NumPy, 10x faster, for small copies and sampled rows; equal to
    the reference but for float32 rounding at exact .5 levels."""
    c = conversion_vector(colorspace, full_range)
    yy = y.astype(np.float32) - c[9]
    uu = u.astype(np.float32) - c[10]
    vv = v.astype(np.float32) - c[11]
    out = np.empty(y.shape + (3,), np.uint8)
    for ch in range(3):
        m = c[3 * ch:3 * ch + 3]
        acc = yy * m[0]
        if m[1]:
            acc += uu * m[1]
        if m[2]:
            acc += vv * m[2]
        acc += np.float32(0.5)
        np.clip(acc, 0, 255, out=acc)
        np.floor(acc, out=acc)
        out[..., ch] = acc
    return out


def enhance_yuv420(src: PlanarYUV, maps: np.ndarray, iterations: int, strength: float = 1.0,
                   params: Optional[np.ndarray] = None, radius: int = 2, state: Optional[np.ndarray] = None,
                   state_out: Optional[np.ndarray] = None, out: Optional[PlanarYUV] = None,
                   num_threads: Optional[int] = None) -> PlanarYUV:
    """Curves (and, with ``params``, the denoiser) on a 4:2:0 frame, 4:2:0 out, in one pass.

    Args:
        src: the input planes.
        maps: float32 ``3k x h x w`` curve maps in [-1, 1] (``k`` = 1 or ``iterations``; NumPy).
        iterations: curve steps (0 with zero maps: a plain YUV -> RGB -> YUV round trip).
        strength: map multiplier (scaled and clamped to [-1, 1] before upsampling).
        params: ``None`` (curves only) or :func:`lowlight.kernels.denoise.params_vector`'s float32
            array; then ``radius`` (1 or 2), ``state`` (``None`` or C-contiguous uint16 ``3 x H x W``
            RGB, levels * 256) and ``state_out`` (C-contiguous uint16 ``3 x H x W``, required with a
            state; ``None`` without one: not written) are those of
            :func:`lowlight.kernels.denoise.denoise_enhance_frame`.
        out: planes to write (same size, not overlapping ``src``); default new ones. Its matrix and
            range are ``src``'s.
        num_threads: OpenMP threads (default :func:`default_threads`).
    Returns:
        ``out``.
    Raises:
        KernelUnavailable: the compiled library is missing.
    """
    lib = _LIBRARY.load()
    if lib is None:
        raise KernelUnavailable(f"planar YUV kernel unavailable: {_LIBRARY.reason}")
    H, W = src.shape
    maps = np.ascontiguousarray(maps, dtype=np.float32)
    if maps.ndim != 3 or maps.shape[0] % 3 or maps.shape[0] // 3 not in (1, max(1, int(iterations))):
        raise ValueError(f"maps must be float32 3k x h x w with k = 1 or {iterations}, got {maps.shape}")
    if out is None:
        out = src.empty_like()
    elif out.shape != (H, W):
        raise ValueError(f"out is {out.shape}, the frame {(H, W)}")
    for s in (state, state_out):
        if s is not None and (s.dtype != np.uint16 or s.shape != (3, H, W) or not s.flags.c_contiguous):
            raise ValueError(f"the denoiser's state must be C-contiguous uint16 (3, {H}, {W})")
    if params is not None:
        params = np.ascontiguousarray(params, dtype=np.float32)
        if state is not None and state_out is None:
            raise ValueError("state_out is required with a state")
    conv = conversion_vector(src.colorspace, src.full_range)
    channels, h, w = maps.shape
    threads = default_threads() if num_threads is None else max(1, int(num_threads))
    planes = (src.y, src.u, src.v, out.y, out.u, out.v)
    rc = lib.lowlight_yuv420_enhance(
        *[a for p in planes for a in (p.ctypes.data, p.strides[0])], H, W, conv.ctypes.data,
        None if state is None else state.ctypes.data, None if state_out is None else state_out.ctypes.data,
        maps.ctypes.data, channels // 3, h, w, int(iterations), float(strength),
        None if params is None else params.ctypes.data, int(radius), threads)
    if rc == 2:
        raise MemoryError(f"planar YUV kernel: out of memory for a {W}x{H} frame")
    if rc != 0:
        raise ValueError(f"planar YUV kernel rejected its arguments (frame {W}x{H}, maps {maps.shape})")
    return out


def roundtrip_yuv420(src: PlanarYUV, num_threads: Optional[int] = None) -> PlanarYUV:
    """``src`` through the kernel with identity curves (YUV -> RGB -> YUV in registers; for tests)."""
    return enhance_yuv420(src, _IDENTITY, 0, num_threads=num_threads)
