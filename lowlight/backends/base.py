"""The eager PyTorch backend (the reference the others are tested against); the contract itself is
torch-free, in :mod:`lowlight.backends.contract` (re-exported here)."""

from __future__ import annotations

import torch

from lowlight.backends.contract import CurveBackend  # noqa: F401 - re-exported
from lowlight.cpu import flush_denormals


class NetModule(torch.nn.Module):
    """``model.net`` (DCE-Net without the resize) as a module: what ``torch.compile``,
    ``torch.onnx.export`` and torch-tensorrt take. ``forward(x)``: ``N x 3 x h x w`` -> maps."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.net(x)


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
