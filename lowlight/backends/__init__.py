"""Curve-estimation backends: one contract, several engines.

Every backend is a callable object with the same contract:

    ``backend(x)``: ``x`` float32 ``N x 3 x h x w`` in [0, 1] (frames already at
    estimation size) on ``backend.device`` -> alpha curve maps float32
    ``N x 3 x h x w`` (Zero-DCE++) or ``N x 24 x h x w`` (Zero-DCE) in [-1, 1]
    on the same device. Strength is not applied. Backends whose ``numpy`` attribute is True
    (ONNX Runtime) also take a NumPy array and return one: the CPU path runs without torch.

It is ``model.net`` (DCE-Net without the resize) run by a different engine:

========== ============================================ ======================================
name       engine                                       where
========== ============================================ ======================================
torch      eager PyTorch (channels-last on CPU)         any device; the reference
compile    ``torch.compile`` (Inductor)                 any device; slow first call
onnxruntime ONNX Runtime on NumPy, no torch: the bundled   CPU
           models' graphs ship in the package; a
           checkpoint's is exported once and cached
tensorrt   TensorRT via torch-tensorrt, fp16, engine    CUDA (``pip install 'lowlight[tensorrt]'``)
           cached on disk
========== ============================================ ======================================

``auto`` resolves to ``tensorrt`` on CUDA when torch-tensorrt imports, else
``torch`` on CUDA; on the CPU to ``onnxruntime`` when it imports (3-5x faster
than eager torch for this depthwise-separable net on 2 cores; see
``benchmarks/RESULTS.md``), else ``torch``. Heavy engines are imported inside
the backend that needs them.

Example:
    >>> import torch, lowlight
    >>> from lowlight.backends import create_backend
    >>> model = lowlight.load_model("zero-dce++")
    >>> backend = create_backend("torch", model)
    >>> backend(torch.rand(1, 3, 36, 64)).shape
    torch.Size([1, 3, 36, 64])
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import TYPE_CHECKING, Optional, Union

from lowlight.errors import BackendError
from lowlight.optional import lazy_exports

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from lowlight.backends.base import CurveBackend

# torch is imported when a backend is resolved or built, not by importing this package
__getattr__ = lazy_exports(__name__, {"CurveBackend": ".contract", "TorchBackend": ".base"})

BACKENDS = ("auto", "torch", "compile", "onnxruntime", "tensorrt")


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def device_type(device: Union[str, "torch.device"]) -> str:
    """``"cpu"``, ``"cuda"``, ... of a device or device string, without importing torch."""
    return str(getattr(device, "type", device)).split(":")[0].strip().lower()


def resolve_backend(name: str, device: Union[str, "torch.device"] = "cpu") -> str:
    """The concrete backend ``name`` stands for on ``device`` (``auto`` -> a concrete one). Imports nothing heavy."""
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name != "auto":
        return name
    kind = device_type(device)
    if kind == "cuda":
        return "tensorrt" if _importable("torch_tensorrt") else "torch"
    if kind == "cpu" and _importable("onnxruntime"):
        return "onnxruntime"
    return "torch"


# Files that exist where a GPU driver torch could use is installed (NVIDIA, AMD ROCm, WSL).
_GPU_DRIVER_FILES = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")


def cuda_possible() -> bool:
    """False when torch cannot see a CUDA GPU here, decided without importing torch: torch not
    installed, or Linux without any GPU driver device; True means "ask torch"."""
    if not _importable("torch"):
        return False
    if sys.platform.startswith("linux") and not any(os.path.exists(p) for p in _GPU_DRIVER_FILES):
        return False
    return True


def resolve_device(name: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a CUDA GPU, else ``cpu``; other names are checked and returned.

    ``auto`` and ``cpu`` do not import torch where no GPU driver is installed (:func:`cuda_possible`),
    so the CPU path starts without it.
    """
    if name == "auto" and not cuda_possible():
        return "cpu"
    if name == "cpu":
        return name
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise BackendError(f"--device {name}: not a torch device (use auto, cpu or cuda[:N])") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BackendError(f"--device {name}: no CUDA GPU is visible to torch {torch.__version__}; use --device cpu")
    return name


def create_backend(name: str, model: torch.nn.Module, device: Optional[Union[str, torch.device]] = None,
                   threads: Optional[int] = None) -> CurveBackend:
    """Build backend ``name`` (one of :data:`BACKENDS`) for ``model`` on ``device``.

    Args:
        name: backend name; ``auto`` picks as described in the module docstring.
        model: a loaded :class:`~lowlight.models.ZeroDCE` / :class:`~lowlight.models.ZeroDCEPP`
            in eval mode (it is moved to ``device``).
        device: torch device (default: the model's).
        threads: CPU threads for engines with their own pool (ONNX Runtime); ``None`` =
            :func:`lowlight.kernels.threads.get_num_threads`.
    Raises:
        BackendError: the backend cannot run here (names what is missing and how to install it).
    """
    import torch

    from lowlight.backends.base import TorchBackend

    device = torch.device(device) if device is not None else next(model.parameters()).device
    concrete = resolve_backend(name, device)
    model = model.to(device).eval()
    if concrete == "torch":
        return TorchBackend(model, device)
    if concrete == "compile":
        from lowlight.backends.compiled import CompiledBackend

        return CompiledBackend(model, device)
    if concrete == "onnxruntime":
        from lowlight.backends.onnx_runtime import OnnxRuntimeBackend

        return OnnxRuntimeBackend(model, device, threads=threads)
    from lowlight.backends.tensorrt import TensorRTBackend

    return TensorRTBackend(model, device)


__all__ = ["BACKENDS", "CurveBackend", "TorchBackend", "create_backend", "cuda_possible", "device_type",
           "resolve_backend", "resolve_device"]
