"""Fused CPU denoise + curve kernel: the compiled ``_denoise_cpu`` library, loaded with ctypes.

What it computes is :func:`lowlight.kernels.denoise_reference.denoise_enhance_reference` (read that
module's docstring for the maths), in one pass over the frame: the uint8 frame and the uint16 state
of the temporal filter are read once, the uint8 output and the new state written once, nothing
else full-size is written. Built like :mod:`lowlight.kernels.fused_cpu` (OpenMP rows, AVX2+FMA or
baseline picked at run time, plain C ABI, ctypes releases the GIL). When the library is missing,
:func:`available` is False and :func:`lowlight.kernels.denoise.denoise_enhance_frame` falls back to
the float32 torch reference, warning once. ``LOWLIGHT_DISABLE_FUSED_CPU=1`` disables it too.
"""

from __future__ import annotations

import ctypes
from typing import Optional

import numpy as np

from .errors import KernelUnavailable
from .threads import get_num_threads
from .native import NativeLibrary

_ABI_VERSION = 2
_LIB_STEM = "_denoise_cpu"

_ssize, _ptr, _int = ctypes.c_ssize_t, ctypes.c_void_p, ctypes.c_int
_LIBRARY = NativeLibrary(_LIB_STEM, _ABI_VERSION, "lowlight_denoise_abi_version", "lowlight_denoise_enhance_u8",
                         [_ptr, _ssize, _ssize, _ssize, _ptr, _ssize, _ssize, _ssize, _ptr, _ptr,
                          _int, _int, _ptr, _int, _int, _int, _int, ctypes.c_float, _ptr, _int, _int])


library_path = _LIBRARY.path  #: path of the compiled library next to this module, or None when not built
available = _LIBRARY.available  #: whether the compiled library loaded
unavailable_reason = _LIBRARY.unavailable_reason  #: why it did not load (None when it did)
_load = _LIBRARY.load


def denoise_enhance_cpu(frame: np.ndarray, maps: np.ndarray, iterations: int, strength: float,
                        params: np.ndarray, radius: int, out: np.ndarray, state: Optional[np.ndarray],
                        state_out: Optional[np.ndarray], num_threads: Optional[int] = None) -> np.ndarray:
    """Run the compiled kernel; arguments are assumed validated by the caller.

    Args:
        frame: uint8 ``H x W x 3``, any strides. out: uint8 ``H x W x 3``, any strides, not
            overlapping ``frame``.
        maps: C-contiguous float32 ``3k x h x w``.
        params: float32 ``[n0, n1, amount, tau, kmin, hr, t0, t1, target]``.
        state: ``None`` or C-contiguous uint16 ``3 x H x W``; state_out: ``None`` (only without a
            state) or C-contiguous uint16 ``3 x H x W`` not overlapping ``state``.
    """
    lib = _load()
    if lib is None:
        raise KernelUnavailable(f"fused CPU denoise kernel unavailable: {_LIBRARY.reason}")
    height, width = frame.shape[:2]
    channels, h, w = maps.shape
    threads = get_num_threads() if num_threads is None else int(num_threads)
    params = np.ascontiguousarray(params, dtype=np.float32)
    rc = lib.lowlight_denoise_enhance_u8(
        frame.ctypes.data, *frame.strides, out.ctypes.data, *out.strides,
        None if state is None else state.ctypes.data, None if state_out is None else state_out.ctypes.data,
        height, width, maps.ctypes.data, channels // 3, h, w, int(iterations), float(strength),
        params.ctypes.data, int(radius), max(1, threads))
    if rc == 2:
        raise MemoryError(f"fused CPU denoise kernel: out of memory for a {height} x {width} frame")
    if rc != 0:
        raise ValueError(f"fused CPU denoise kernel rejected its arguments (frame {height} x {width}, "
                         f"maps {maps.shape})")
    return out
