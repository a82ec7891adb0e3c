"""The backend contract and the eager PyTorch backend (the reference the others are tested against)."""

from __future__ import annotations

import torch

from lowlight.cpu import flush_denormals


class NetModule(torch.nn.Module):
    """``model.net`` (DCE-Net without the resize) as a module: what ``torch.compile``,
    ``torch.onnx.export`` and torch-tensorrt take. ``forward(x)``: ``N x 3 x h x w`` -> maps."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.net(x)


class CurveBackend:
    """Base class: ``backend(x)`` maps frames at estimation size to curve maps.

    ``x``: float32 ``N x 3 x h x w`` in [0, 1] on :attr:`device`. Returns float32
    ``N x C x h x w`` alpha maps in [-1, 1] on :attr:`device` (``C`` = 3 for
    Zero-DCE++, 24 for Zero-DCE).

    Attributes:
        name: backend name (``torch``, ``compile``, ``onnxruntime``, ``tensorrt``).
        device: where inputs and outputs live.
        precision: ``"fp32"`` or ``"fp16"`` (what the engine computes in).
        channels: maps per frame (``C``).
    """

    name = "base"
    precision = "fp32"

    def __init__(self, model: torch.nn.Module, device: torch.device) -> None:
        self.model = model
        self.device = torch.device(device)
        self.channels = 3 if model.name == "zero-dce++" else 3 * int(model.iterations)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(device={str(self.device)!r}, precision={self.precision!r})"


class TorchBackend(CurveBackend):
    """Eager PyTorch: ``model.net`` in inference mode, with subnormals flushed.

    On the CPU the input is made channels-last (the model's layout after
    :func:`lowlight.load_model`): oneDNN's depthwise convolutions run 2-4x faster
    on it than on NCHW.
    """

    name = "torch"

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        with flush_denormals():
            return self.model.net(x).contiguous()
