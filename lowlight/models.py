"""DCE-Net models: Zero-DCE (Guo et al., CVPR 2020) and Zero-DCE++ (Li et al., TPAMI 2021).

Both networks return **curve maps** in the paper's alpha convention (positive
brightens; see :mod:`lowlight.kernels.reference`), not the enhanced image.
Apply them with :func:`lowlight.kernels.apply_curves`. The layer names match
the official checkpoints, so their state dicts load unchanged.

Inputs are float32 ``N x 3 x H x W`` in [0, 1].
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from lowlight.kernels import DEFAULT_ITERATIONS, apply_curves
from lowlight.model_spec import check_estimation, estimation_size  # noqa: F401 - estimation_size re-exported

_FEATURES = 32


class _DCENet(nn.Module):
    """The shared 7-layer DCE-Net body with symmetric skip concatenations.

    ``conv(cin, cout)`` builds one layer; the head's tanh output ``r`` is
    negated to give alpha = -r.
    """

    def _build(self, conv, out_channels: int) -> None:
        f = _FEATURES
        self.e_conv1 = conv(3, f)
        self.e_conv2 = conv(f, f)
        self.e_conv3 = conv(f, f)
        self.e_conv4 = conv(f, f)
        self.e_conv5 = conv(2 * f, f)
        self.e_conv6 = conv(2 * f, f)
        self.e_conv7 = conv(2 * f, out_channels)

    def net(self, x: torch.Tensor) -> torch.Tensor:
        """Run the network body on ``x`` (``N x 3 x h x w`` in [0, 1]).

        Returns alpha maps ``N x C x h x w`` in [-1, 1] at the input's resolution.
        """
        x1 = F.relu(self.e_conv1(x))
        x2 = F.relu(self.e_conv2(x1))
        x3 = F.relu(self.e_conv3(x2))
        x4 = F.relu(self.e_conv4(x3))
        x5 = F.relu(self.e_conv5(torch.cat([x3, x4], 1)))
        x6 = F.relu(self.e_conv6(torch.cat([x2, x5], 1)))
        return -torch.tanh(self.e_conv7(torch.cat([x1, x6], 1)))

    def enhance(self, x: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
        """Estimate maps for ``x`` and apply them; returns ``N x 3 x H x W`` in [0, 1]."""
        return apply_curves(x, self(x), self.iterations, strength)


class ZeroDCE(_DCENet):
    """Zero-DCE: full-resolution estimation of 24 maps (8 iterations x RGB).

    ``forward(x)``: ``N x 3 x H x W`` in [0, 1] -> alpha maps ``N x 24 x H x W``
    in [-1, 1]; channels ``3i..3i+2`` are iteration ``i + 1``.
    79,416 parameters.
    """

    name = "zero-dce"
    iterations = DEFAULT_ITERATIONS

    def __init__(self) -> None:
        super().__init__()
        self._build(lambda cin, cout: nn.Conv2d(cin, cout, 3, 1, 1, bias=True), 3 * self.iterations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def estimation_input(self, x: torch.Tensor) -> torch.Tensor:
        """Zero-DCE estimates at full resolution: returns ``x`` unchanged."""
        return x


class DepthwiseSeparableConv(nn.Module):
    """3x3 depthwise conv (groups = in_ch) followed by a 1x1 pointwise conv, both biased.

    Named ``CSDN_Tem`` in the official code; keys ``depth_conv``/``point_conv``.
    """

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.depth_conv = nn.Conv2d(in_ch, in_ch, 3, 1, 1, groups=in_ch)
        self.point_conv = nn.Conv2d(in_ch, out_ch, 1, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.point_conv(self.depth_conv(x))


class ZeroDCEPP(_DCENet):
    """Zero-DCE++: depthwise-separable DCE-Net run on a downscaled frame.

    Predicts one RGB alpha map that is reused for all 8 iterations.
    ``forward(x)``: ``N x 3 x H x W`` in [0, 1] -> low-resolution alpha maps
    ``N x 3 x h x w`` in [-1, 1]; :func:`lowlight.kernels.apply_curves`
    upsamples them (bilinear, ``align_corners=True``). 10,561 parameters.

    Estimation size (see :func:`estimation_size`):

    * ``scale_factor=S`` (official; S=12 in the paper's test script). When S
      divides H and W the frame is downsampled exactly as the official model does,
      ``F.interpolate(x, scale_factor=1/S, mode="bilinear")`` (no antialias), so
      results match the official code. Any other size is resampled to
      ``round(H/S) x round(W/S)`` with the same bilinear filter, so every frame
      size works (the official code raises).
    * ``longest_side=L``: the frame is resized so its longest side is L with
      antialiased bilinear filtering (an area-like average, which also averages
      away sensor noise), so estimation cost stays constant as frames grow.
    * both ``None`` (the default): estimate at full resolution (training setting).
    """

    name = "zero-dce++"
    iterations = DEFAULT_ITERATIONS

    def __init__(self, scale_factor: Optional[int] = None, longest_side: Optional[int] = None) -> None:
        super().__init__()
        self._build(DepthwiseSeparableConv, 3)
        self.configure(scale_factor=scale_factor, longest_side=longest_side)

    def configure(self, scale_factor: Optional[int] = None, longest_side: Optional[int] = None) -> "ZeroDCEPP":
        """Set the estimation size policy (see class docstring); returns self."""
        self.scale_factor, self.longest_side = check_estimation(scale_factor, longest_side)
        return self

    def estimation_input(self, x: torch.Tensor) -> torch.Tensor:
        """Downscale ``x`` (``N x 3 x H x W``) to the estimation size; float, [0, 1]."""
        height, width = x.shape[-2:]
        size = estimation_size(height, width, self.scale_factor, self.longest_side)
        if size == (height, width):
            return x
        s = self.scale_factor
        if s is not None and height % s == 0 and width % s == 0:
            return F.interpolate(x, scale_factor=1 / s, mode="bilinear")
        if s is not None:
            return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.estimation_input(x))


MODELS = {ZeroDCE.name: ZeroDCE, ZeroDCEPP.name: ZeroDCEPP}


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (weights and biases; trainable or frozen)."""
    return sum(p.numel() for p in model.parameters())


def init_weights(model: nn.Module, generator: Optional[torch.Generator] = None) -> nn.Module:
    """Official initialisation: conv weights ~ N(0, 0.02), biases left at torch's default."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            with torch.no_grad():
                m.weight.normal_(0.0, 0.02, generator=generator)
                bound = 1 / math.sqrt(m.weight[0].numel())
                m.bias.uniform_(-bound, bound, generator=generator)
    return model
