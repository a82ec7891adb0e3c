"""Fused CPU curve kernel: the compiled ``_fused_cpu`` library, loaded with ctypes.

What it computes
----------------
For an ``H x W x 3`` uint8 RGB frame and float32 alpha maps ``3k x h x w``
(``k = 1``: one RGB map for all iterations; ``k = iterations``: one per
iteration), in one pass per row: strength scaling and clamping of the maps
to [-1, 1] (always, also at strength 1: it keeps the curve in [0, 1]),
bilinear upsampling (``align_corners=True``), ``iterations`` curve steps
``x <- x + a * (x - x*x)`` in float32 and rounding
``floor(clamp(x * 255 + 0.5, 0, 255))`` to uint8. No full-resolution float
intermediate is written; each thread holds two map rows (``k x W x 3``
floats) and reuses them for every frame row between two map rows.

Why a C library (``kernels/_fused_cpu.c``)
-------------------------------------------
* It fuses everything: the uint8 frame is read once and written once and
  the curve steps run in registers at the FMA throughput limit (1080p with
  Zero-DCE++ maps: 3.6 ms on 2 cores, against 66 ms for ``torch.compile``
  of the reference, which still materialises the upsampled maps and the
  float image, and 300+ ms for the eager reference; see
  ``benchmarks/RESULTS.md``). numba would be a new heavy dependency for the
  same loop; a lookup table over (pixel, alpha) would not be exact.
* The inner loop is a plain, contiguous loop over the ``W*3`` bytes of a row
  (maps are pre-interleaved per row), which GCC vectorises at ``-O3``; it is
  compiled twice, for AVX2+FMA and for the baseline x86-64 ISA, and the
  CPU's features pick one at run time (:func:`isa`), so the wheel stays
  portable without ``-march=native``.
* Rows are split over all cores with OpenMP (:func:`lowlight.kernels.threads.get_num_threads`
  threads by default; torch is not needed). ctypes releases the GIL during the call.
* Plain C ABI through ctypes: no CPython API, no ABI coupling to torch.

Fallback
--------
The library is built by ``setup.py`` as an optional extension. When it is
missing (no compiler at install time) or fails to load,
:func:`available` is False, :func:`unavailable_reason` says why, and
:func:`lowlight.kernels.enhance_frame` falls back to the plain-torch float32
reference (:func:`lowlight.kernels.reference.enhance_frame_reference`),
warning once. Results agree to within one uint8 level. Setting the
environment variable ``LOWLIGHT_DISABLE_FUSED_CPU=1`` (read once, at the
first call) forces the fallback, e.g. to compare or to debug.
"""

from __future__ import annotations

import ctypes
from typing import Optional

import numpy as np

from .errors import KernelUnavailable
from .threads import get_num_threads
from .native import DISABLE_ENV, NativeLibrary  # noqa: F401 - DISABLE_ENV is part of this module's API

_ABI_VERSION = 1
_LIB_STEM = "_fused_cpu"

_ssize, _ptr, _int = ctypes.c_ssize_t, ctypes.c_void_p, ctypes.c_int
_LIBRARY = NativeLibrary(_LIB_STEM, _ABI_VERSION, "lowlight_fused_abi_version", "lowlight_enhance_u8",
                         [_ptr, _ssize, _ssize, _ssize, _ptr, _ssize, _ssize, _ssize,
                          _int, _int, _ptr, _int, _int, _int, _int, ctypes.c_float, _int])


library_path = _LIBRARY.path  #: path of the compiled library next to this module, or None when not built
available = _LIBRARY.available  #: whether the compiled library loaded
unavailable_reason = _LIBRARY.unavailable_reason  #: why it did not load (None when it did)
_load = _LIBRARY.load


def isa() -> Optional[str]:
    """Instruction set the compiled kernel runs with here (``"avx2+fma"`` or ``"baseline"``), None if unavailable."""
    lib = _load()
    if lib is None:
        return None
    return "avx2+fma" if lib.lowlight_fused_isa() else "baseline"


def enhance_frame_cpu(
    frame: np.ndarray,
    maps: np.ndarray,
    iterations: int,
    strength: float,
    out: np.ndarray,
    num_threads: Optional[int] = None,
) -> np.ndarray:
    """Run the compiled kernel; arguments are assumed validated by the caller.

    Args:
        frame: uint8 ``H x W x 3`` RGB, any strides (negative too).
        maps: C-contiguous float32 ``3k x h x w``, ``k`` in ``{1, iterations}``,
            values in [-1, 1].
        iterations: number of curve steps (>= 0).
        strength: map multiplier; maps are scaled and clamped to [-1, 1] before
            upsampling.
        out: uint8 ``H x W x 3``, any strides, not overlapping ``frame``.
        num_threads: OpenMP threads; default :func:`lowlight.kernels.threads.get_num_threads`.
    Returns:
        ``out``.
    Raises:
        KernelUnavailable: the library is not built or did not load.
        MemoryError: a thread could not allocate its row buffers.
    """
    lib = _load()
    if lib is None:
        raise KernelUnavailable(f"fused CPU kernel unavailable: {_LIBRARY.reason}")
    height, width = frame.shape[:2]
    channels, h, w = maps.shape
    k = channels // 3
    threads = get_num_threads() if num_threads is None else int(num_threads)
    rc = lib.lowlight_enhance_u8(
        frame.ctypes.data, *frame.strides, out.ctypes.data, *out.strides,
        height, width, maps.ctypes.data, k, h, w, int(iterations), float(strength), max(1, threads))
    if rc == 2:
        raise MemoryError(f"fused CPU kernel: out of memory for a {height} x {width} frame")
    if rc != 0:
        raise ValueError(f"fused CPU kernel rejected its arguments (frame {height} x {width}, maps {maps.shape})")
    return out


def ftz_daz(set_to: Optional[bool] = None) -> Optional[bool]:
    """The calling thread's flush-to-zero + denormals-are-zero state (x86 MXCSR) before the call,
    turning both on (``True``) or off (``False``) when ``set_to`` is given; ``None`` when the library
    is unavailable (or stale, without the function) or the CPU has no such state."""
    lib = _load()
    fn = getattr(lib, "lowlight_ftz_daz", None) if lib is not None else None
    if fn is None:
        return None
    if fn.argtypes is None:
        fn.argtypes, fn.restype = [_int], _int
    before = fn(-1 if set_to is None else int(bool(set_to)))
    return None if before < 0 else bool(before)
