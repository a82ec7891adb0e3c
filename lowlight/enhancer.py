"""High-level enhancement API: NumPy RGB frames in, enhanced frames out.

>>> import numpy as np, lowlight
>>> enh = lowlight.Enhancer("zero-dce++")
>>> out = enh.enhance(np.full((4, 6, 3), 20, np.uint8))
>>> out.shape, out.dtype, bool(out.mean() > 20)
((4, 6, 3), dtype('uint8'), True)
"""

from __future__ import annotations

import os
from typing import Optional, Union

import numpy as np
import torch

from lowlight.backends import create_backend
from lowlight.cpu import flush_denormals
from lowlight.errors import LowlightError
from lowlight.estimation import estimation_tensor, to_tensor
from lowlight.kernels import apply_curves, enhance_frame
from lowlight.models import ZeroDCEPP
from lowlight.weights import load_model

DEFAULT_MODEL = "zero-dce++"
DEFAULT_LONGEST_SIDE = 256


def to_array(x: torch.Tensor, dtype: np.dtype) -> np.ndarray:
    """float ``1 x 3 x H x W`` in [0, 1] -> ``H x W x 3`` of ``dtype`` (uint8/uint16).

    Rounds half up and clamps, like ``torchvision.utils.save_image``:
    ``floor(clamp(x * max + 0.5, 0, max))``.
    """
    top = 255.0 if np.dtype(dtype) == np.uint8 else 65535.0
    y = x[0].permute(1, 2, 0).mul(top).add_(0.5).clamp_(0, top).floor_()
    return y.to(torch.int32).numpy().astype(dtype)


class Enhancer:
    """A loaded model plus its settings, ready to enhance frames.

    Args:
        model: ``"zero-dce"``, ``"zero-dce++"`` (bundled weights) or a checkpoint path.
        device: torch device string; ``"cpu"`` or ``"cuda[:N]"``.
        weights: optional checkpoint path overriding the bundled weights of ``model``.
        strength: curve-map multiplier (0 = unchanged, 1 = as trained).
        longest_side: Zero-DCE++ estimation size (longest side in pixels);
            ``None`` with ``scale_factor=None`` estimates at full resolution.
        scale_factor: official integer Zero-DCE++ downscale (overrides ``longest_side``).
        backend: curve-estimation engine, see :mod:`lowlight.backends` (``auto``, ``torch``,
            ``compile``, ``onnxruntime``, ``tensorrt``); ``auto`` picks the fastest available here.
        threads: CPU threads for backends with their own thread pool (``None``: torch's count).

    Attributes:
        model: the loaded network (its ``net`` is the reference implementation).
        backend: the :class:`lowlight.backends.CurveBackend` that runs it.
    """

    def __init__(self, model: Union[str, os.PathLike] = DEFAULT_MODEL, device: str = "cpu",
                 weights: Optional[Union[str, os.PathLike]] = None, strength: float = 1.0,
                 longest_side: Optional[int] = DEFAULT_LONGEST_SIDE, scale_factor: Optional[int] = None,
                 backend: str = "auto", threads: Optional[int] = None) -> None:
        if strength < 0:
            raise LowlightError(f"--strength must be >= 0, got {strength}")
        if scale_factor is not None:
            longest_side = None
        self.model = load_model(weights if weights is not None else model,
                                scale_factor=scale_factor, longest_side=longest_side)
        self.device = torch.device(device)
        self.model.to(self.device)
        self.strength = float(strength)
        self.backend = create_backend(backend, self.model, self.device, threads=threads)

    @property
    def name(self) -> str:
        return self.model.name

    @torch.inference_mode()
    def curve_maps(self, x: torch.Tensor) -> torch.Tensor:
        """Alpha maps for ``x`` (float ``N x 3 x H x W`` in [0, 1]), resized by the model's own
        (antialiased bilinear) filter; for NumPy frames use :meth:`frame_maps`.

        Returns ``N x 3 x h x w`` (Zero-DCE++, estimation size) or
        ``N x 24 x H x W`` (Zero-DCE), in [-1, 1], strength not applied.
        """
        return self.backend(self.model.estimation_input(x.to(self.device)))  # backends flush subnormals

    @torch.inference_mode()
    def frame_maps(self, frame: np.ndarray) -> torch.Tensor:
        """Alpha maps for one ``H x W x 3`` uint8/uint16 RGB frame, estimated on the copy
        :func:`lowlight.estimation.estimation_tensor` makes (the same for every command).

        Returns float32 ``1 x 3 x h x w`` (Zero-DCE++) or ``1 x 24 x H x W`` (Zero-DCE) in [-1, 1]
        on :attr:`device`, strength not applied.
        """
        return self.backend(estimation_tensor(self.model, frame).to(self.device))

    @torch.inference_mode()
    def enhance_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """Enhance float ``N x 3 x H x W`` in [0, 1]; returns the same shape in [0, 1]."""
        x = x.to(self.device)
        maps = self.curve_maps(x)
        with flush_denormals():
            return apply_curves(x, maps, self.model.iterations, self.strength)

    def enhance(self, frame: np.ndarray) -> np.ndarray:
        """Enhance one RGB frame.

        Args:
            frame: ``H x W x 3`` RGB, uint8 (or uint16 for 16-bit images).
        Returns:
            The enhanced ``H x W x 3`` frame, same dtype.
        """
        if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3:
            shape = getattr(frame, "shape", None)
            raise LowlightError(f"expected an H x W x 3 RGB array, got shape {shape}")
        if frame.dtype not in (np.uint8, np.uint16):
            raise LowlightError(f"expected a uint8 or uint16 frame, got {frame.dtype}")
        if frame.shape[0] == 0 or frame.shape[1] == 0:
            raise LowlightError(f"frame is empty ({frame.shape[0]} x {frame.shape[1]})")
        if frame.dtype == np.uint8:
            # Fused path: maps from the network, then one pass over the uint8
            # frame (upsampling, curve steps and rounding fused; see lowlight.kernels.fused).
            maps = self.frame_maps(frame)
            if self.device.type == "cuda":
                src = torch.from_numpy(np.ascontiguousarray(frame)).to(self.device)
                return enhance_frame(src, maps[0], self.model.iterations, self.strength).cpu().numpy()
            return enhance_frame(frame, maps[0], self.model.iterations, self.strength)
        x = to_tensor(frame).to(self.device)
        maps = self.frame_maps(frame)
        with torch.inference_mode(), flush_denormals():
            out = apply_curves(x, maps, self.model.iterations, self.strength)
        return to_array(out.cpu(), frame.dtype)

    def __repr__(self) -> str:
        extra = ""
        if isinstance(self.model, ZeroDCEPP):
            extra = f", scale_factor={self.model.scale_factor}, longest_side={self.model.longest_side}"
        return (f"Enhancer({self.name!r}, device={str(self.device)!r}, backend={self.backend.name!r}, "
                f"strength={self.strength}{extra})")


def enhance_image(frame: np.ndarray, model: str = DEFAULT_MODEL, strength: float = 1.0) -> np.ndarray:
    """One-shot convenience: ``Enhancer(model, strength=strength).enhance(frame)``."""
    return Enhancer(model, strength=strength).enhance(frame)
