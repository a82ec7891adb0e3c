"""The backend contract (:class:`CurveBackend`), without torch: the ONNX Runtime backend runs on it
with NumPy arrays and never imports torch; the torch engines subclass it in :mod:`.base`."""

from __future__ import annotations

import sys
from typing import Any

from lowlight.model_spec import spec_of


def as_device(device: Any):
    """``device`` as a ``torch.device`` when torch is imported (or ``device`` is one), else as given
    (a device string such as ``"cpu"``: the torch-free CPU path)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return device
    return torch.device(device)


class CurveBackend:
    """Base class: ``backend(x)`` maps frames at estimation size to curve maps.

    ``x``: float32 ``N x 3 x h x w`` in [0, 1] on :attr:`device`. Returns float32
    ``N x C x h x w`` alpha maps in [-1, 1] on :attr:`device` (``C`` = 3 for
    Zero-DCE++, 24 for Zero-DCE). Backends with :attr:`numpy` True also take a NumPy array and
    then return one (the torch-free CPU path); a tensor in gives a tensor out.

    Attributes:
        name: backend name (``torch``, ``compile``, ``onnxruntime``, ``tensorrt``).
        device: where inputs and outputs live (a ``torch.device``; the string ``"cpu"`` on the
            torch-free path).
        precision: ``"fp32"`` or ``"fp16"`` (what the engine computes in).
        channels: maps per frame (``C``).
        spec: the model's :class:`~lowlight.model_spec.ModelSpec`.
        numpy: whether NumPy inputs are accepted (and returned).
    """

    name = "base"
    precision = "fp32"
    numpy = False

    def __init__(self, model: Any, device: Any) -> None:
        self.model = model
        self.device = as_device(device)
        self.spec = spec_of(model)
        self.channels = self.spec.channels

    def __call__(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(device={str(self.device)!r}, precision={self.precision!r})"
