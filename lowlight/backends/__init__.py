"""Curve-estimation backends: one contract, several engines.

Every backend is a callable object with the same contract:

    ``backend(x)``: ``x`` float32 ``N x 3 x h x w`` in [0, 1] (frames already at
    estimation size) on ``backend.device`` -> alpha curve maps float32
    ``N x 3 x h x w`` (Zero-DCE++) or ``N x 24 x h x w`` (Zero-DCE) in [-1, 1]
    on the same device. Strength is not applied.

It is ``model.net`` (DCE-Net without the resize) run by a different engine:

========== ============================================ ======================================
name       engine                                       where
========== ============================================ ======================================
torch      eager PyTorch (channels-last on CPU)         any device; the reference
compile    ``torch.compile`` (Inductor)                 any device; slow first call
onnxruntime ONNX Runtime, graph exported once and cached CPU
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
from typing import TYPE_CHECKING, Optional, Union

from lowlight.errors import BackendError
from lowlight.optional import lazy_exports

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from lowlight.backends.base import CurveBackend

# torch is imported when a backend is resolved or built, not by importing this package
__getattr__ = lazy_exports(__name__, {"CurveBackend": ".base", "TorchBackend": ".base"})

BACKENDS = ("auto", "torch", "compile", "onnxruntime", "tensorrt")


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def resolve_backend(name: str, device: Union[str, torch.device] = "cpu") -> str:
    """The concrete backend ``name`` stands for on ``device`` (``auto`` -> a concrete one)."""
    import torch

    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name != "auto":
        return name
    if torch.device(device).type == "cuda":
        return "tensorrt" if _importable("torch_tensorrt") else "torch"
    if torch.device(device).type == "cpu" and _importable("onnxruntime") and _importable("onnx"):
        return "onnxruntime"
    return "torch"


def resolve_device(name: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a CUDA GPU, else ``cpu``; other names are checked and returned."""
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
            ``torch.get_num_threads()``.
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


__all__ = ["BACKENDS", "CurveBackend", "TorchBackend", "create_backend", "resolve_backend", "resolve_device"]
