"""``enhance_frame``: apply curve maps to a uint8 frame in one fused pass, picking the kernel by device.

* CPU maps (a host frame: NumPy array or CPU tensor) -> the compiled OpenMP kernel
  (:mod:`lowlight.kernels.fused_cpu`);
* CUDA maps or a CUDA frame -> the Triton kernel (:mod:`lowlight.kernels.fused_triton`); a host
  frame is uploaded once and the result downloaded once.
* ``kernel="reference"`` -> the plain-torch float32 path on the same device.

When the chosen kernel cannot run (library not built, Triton not installed)
the call falls back to the plain-torch reference in float32
(:func:`enhance_frame_fallback`) and warns once per backend, naming the
reason and the fix. The fallback agrees with the fused kernels to within one
uint8 level but writes full-resolution float intermediates (~10x slower).
"""

from __future__ import annotations

import math
import sys
import warnings
from typing import TYPE_CHECKING, Optional, Union

import numpy as np

from . import fused_cpu
from .errors import KernelUnavailable
from . import DEFAULT_ITERATIONS, KERNELS

if TYPE_CHECKING:  # pragma: no cover
    import torch

# NumPy frames and maps on the CPU never import torch (the compiled kernel is called through
# ctypes); torch is imported for tensors, CUDA and the plain-torch fallback only.
Frame = Union[np.ndarray, "torch.Tensor"]

_warned: set = set()


def _warn_once(backend: str, reason: str, kernel: str = "fused") -> None:
    """Warn once per (kernel, backend) that a compiled kernel is unavailable and the plain-torch path runs."""
    if (kernel, backend) in _warned:
        return
    _warned.add((kernel, backend))
    warnings.warn(f"lowlight.kernels: {backend} {kernel} kernel unavailable ({reason}); "
                  "using the slower plain-torch path", RuntimeWarning, stacklevel=3)


def is_tensor(a) -> bool:
    """Whether ``a`` is a torch tensor (without importing torch: if torch is not imported, it is not)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(a, torch.Tensor)


def _is_uint8(a: Frame) -> bool:
    if is_tensor(a):
        import torch

        return a.dtype == torch.uint8
    return a.dtype == np.uint8


def _check(frame: Frame, maps: Frame, iterations: int, strength: float) -> None:
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"frame must be H x W x 3 RGB, got shape {tuple(frame.shape)}")
    if not _is_uint8(frame):
        raise TypeError(f"frame must be uint8, got {frame.dtype}")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"frame is empty ({frame.shape[0]} x {frame.shape[1]})")
    if maps.ndim == 4 and maps.shape[0] != 1:
        raise ValueError(f"maps must be 3k x h x w or 1 x 3k x h x w, got shape {tuple(maps.shape)}")
    if maps.ndim not in (3, 4):
        raise ValueError(f"maps must be 3k x h x w or 1 x 3k x h x w, got shape {tuple(maps.shape)}")
    if int(iterations) != iterations or iterations < 0:
        raise ValueError(f"iterations must be a non-negative integer, got {iterations}")
    channels, h, w = maps.shape[-3:]
    if channels not in (3, 3 * iterations):
        raise ValueError(f"maps must have 3 or {3 * iterations} channels for {iterations} iterations, got {channels}")
    if h == 0 or w == 0:
        raise ValueError(f"maps are empty ({h} x {w})")
    if not math.isfinite(strength):
        raise ValueError(f"strength must be finite, got {strength}")


def _check_out(out: Frame, frame: Frame) -> None:
    kind = sys.modules["torch"].Tensor if is_tensor(frame) else np.ndarray
    if not isinstance(out, kind):
        raise TypeError(f"out must be a {kind.__module__}.{kind.__name__} like frame, got {type(out).__name__}")
    if tuple(out.shape) != tuple(frame.shape) or not _is_uint8(out):
        raise ValueError(f"out must be uint8 {tuple(frame.shape)}, got {out.dtype} {tuple(out.shape)}")
    if is_tensor(out) and out.device != frame.device:
        raise ValueError(f"out is on {out.device}, frame on {frame.device}")


def enhance_frame_fallback(frame: Frame, maps: Frame, iterations: int = DEFAULT_ITERATIONS,
                           strength: float = 1.0, out: Optional[Frame] = None) -> Frame:
    """Plain-torch float32 path with the :func:`enhance_frame` contract (no validation).

    Used when no fused kernel can run; any device. Returns ``out`` (filled) or
    a new array/tensor of the frame's kind. Imports torch.
    """
    import torch

    from .reference import enhance_frame_reference

    is_np = isinstance(frame, np.ndarray)
    f = torch.from_numpy(np.ascontiguousarray(frame)) if is_np else frame
    m = torch.from_numpy(np.asarray(maps, np.float32)) if isinstance(maps, np.ndarray) else maps
    y = enhance_frame_reference(f, m, int(iterations), float(strength), dtype=torch.float32)
    if out is None:
        return y.numpy() if is_np else y
    if is_np:
        np.copyto(out, y.numpy())
    else:
        out.copy_(y)
    return out


def _cpu_maps(maps: Frame) -> np.ndarray:
    """Maps as a C-contiguous float32 NumPy ``3k x h x w`` array (copied only if needed)."""
    if is_tensor(maps):
        maps = maps.detach().cpu().float().contiguous().numpy()
    maps = np.ascontiguousarray(maps, dtype=np.float32)
    return maps[0] if maps.ndim == 4 else maps


def _on_device(maps: Frame, device: "torch.device") -> "torch.Tensor":
    import torch

    m = maps if isinstance(maps, torch.Tensor) else torch.from_numpy(np.asarray(maps))
    return m.to(device, torch.float32)


def _device_of(frame: Frame, maps: Frame):
    """Where the work runs: a device frame's device, else the maps' device; ``None`` for the host
    (NumPy frame and maps, or CPU tensors), so the host path needs no torch."""
    if is_tensor(frame) and frame.device.type != "cpu":
        return frame.device
    if is_tensor(maps) and maps.device.type != "cpu":
        return maps.device
    return None


def _enhance_on_device(frame: "torch.Tensor", maps: "torch.Tensor", iterations: int, strength: float,
                       out: Optional["torch.Tensor"], kernel: str) -> "torch.Tensor":
    """A device frame and maps on its device: Triton on CUDA (fused), the reference otherwise."""
    if kernel == "fused" and frame.device.type == "cuda":
        from . import fused_triton

        try:
            return fused_triton.enhance_frame_triton(frame, maps, iterations, strength, out)
        except KernelUnavailable as exc:
            _warn_once("Triton", str(exc))
    return enhance_frame_fallback(frame, maps, iterations, strength, out)


def enhance_frame(frame: Frame, maps: Frame, iterations: int = DEFAULT_ITERATIONS,
                  strength: float = 1.0, out: Optional[Frame] = None, kernel: str = "fused") -> Frame:
    """Enhance a uint8 RGB frame with curve maps in one fused pass, on the device of the maps.

    Upsampling of the maps (bilinear, ``align_corners=True``), strength
    scaling, every curve step, clamping and rounding
    ``floor(clamp(x * 255 + 0.5, 0, 255))`` happen in one pass over the
    frame; no full-resolution float image is written to memory.
    Sign convention and map layouts: :mod:`lowlight.kernels.reference`.

    Where it runs: on a device frame's device; for a host frame (NumPy or CPU tensor), on the
    device of the maps. With CUDA maps a host frame is uploaded once, enhanced by the Triton
    kernel and downloaded once (into ``out`` when given); with CPU maps the compiled OpenMP kernel
    runs on the host.

    Args:
        frame: ``H x W x 3`` uint8 RGB: a NumPy array, or a torch tensor on the
            CPU or a CUDA device; any strides (non-contiguous views are fine).
        maps: float ``3 x h x w`` (one map for all iterations, Zero-DCE++) or
            ``3*iterations x h x w`` (one per iteration, Zero-DCE), optionally
            ``1 x C x h x w``; alpha in [-1, 1] (values outside are clamped
            to it by the fused kernels); any resolution (resampled to
            ``H x W``). A torch tensor (CPU or CUDA) or a NumPy array.
        iterations: curve steps (8 in both papers).
        strength: map multiplier: ``alpha' = clamp(strength * alpha, -1, 1)``
            (0 = identity).
        out: optional ``H x W x 3`` uint8 destination of the frame's kind
            (and device); may be the frame itself (in-place).
        kernel: ``"fused"`` (default: the OpenMP kernel on the CPU, Triton on CUDA) or
            ``"reference"`` (the plain-torch float32 path, :func:`enhance_frame_fallback`, on the
            same device; agrees with the fused kernels to within one level).
    Returns:
        ``out`` if given, else a new contiguous ``H x W x 3`` uint8 array
        (NumPy frame) or tensor (torch frame, on the frame's device).

    Example:
        >>> f = np.full((2, 3, 3), 64, np.uint8)
        >>> enhance_frame(f, np.ones((3, 1, 1), np.float32), iterations=1)[0, 0].tolist()
        [112, 112, 112]
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    _check(frame, maps, iterations, strength)
    if out is not None:
        _check_out(out, frame)
    iterations, strength = int(iterations), float(strength)
    device = _device_of(frame, maps)
    if device is not None:
        import torch

        host = not isinstance(frame, torch.Tensor) or frame.device.type == "cpu"
        m = _on_device(maps, device)
        if not host:
            return _enhance_on_device(frame, m, iterations, strength, out, kernel)
        src = torch.from_numpy(np.ascontiguousarray(frame)) if isinstance(frame, np.ndarray) else frame
        y = _enhance_on_device(src.to(device, non_blocking=True), m, iterations, strength, None, kernel)
        if out is None:
            y = y.cpu()
            return y.numpy() if isinstance(frame, np.ndarray) else y
        (torch.from_numpy(out) if isinstance(out, np.ndarray) else out).copy_(y)
        return out
    if kernel == "reference":
        return enhance_frame_fallback(frame, maps, iterations, strength, out)

    is_torch = is_tensor(frame)
    f = frame.detach().numpy() if is_torch else frame
    m = _cpu_maps(maps)
    if not fused_cpu.available():
        _warn_once("CPU", fused_cpu.unavailable_reason() or "unknown reason")
        return enhance_frame_fallback(frame, m, iterations, strength, out)
    f, o, result = host_output(f, out, is_torch)
    fused_cpu.enhance_frame_cpu(f, m, iterations, strength, o)
    return result


def host_output(f: np.ndarray, out: Optional[Frame], is_torch: bool) -> tuple:
    """``(f, o, result)`` for a compiled host kernel reading NumPy ``f``: ``o`` the NumPy array it writes
    (``out``'s memory, or a new one), ``result`` what to return (``out``, or ``o`` as the frame's kind);
    ``f`` is copied when it shares memory with ``o`` (the kernels use restrict pointers)."""
    if out is None:
        o = np.empty(f.shape, np.uint8)
        return f, o, (sys.modules["torch"].from_numpy(o) if is_torch else o)
    o = out.detach().numpy() if is_torch else out
    if np.may_share_memory(f, o):
        f = f.copy()
    return f, o, out
