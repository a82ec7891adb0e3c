"""High-level enhancement API: NumPy RGB frames in, enhanced frames out.

>>> import numpy as np, lowlight
>>> enh = lowlight.Enhancer("zero-dce++")
>>> out = enh.enhance(np.full((4, 6, 3), 20, np.uint8))
>>> out.shape, out.dtype, bool(out.mean() > 20)
((4, 6, 3), dtype('uint8'), True)
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Optional, Union

from typing import TYPE_CHECKING

import numpy as np

from lowlight.backends import create_backend, device_type, resolve_backend
from lowlight.backends.contract import as_device
from lowlight.cpu import flush_denormals
from lowlight.errors import LowlightError
from lowlight.estimation import Estimator, probe, to_tensor
from lowlight.exposure_fade import ceiling_strength
from lowlight.frames import check_frame
from lowlight.kernels import enhance_frame
from lowlight.kernels.denoise import NoiseModel, denoise_enhance_frame, estimate_noise
from lowlight.kernels.denoise_options import AUTO, resolve_denoise
from lowlight.model_spec import spec_of
from lowlight.weights import load_model

if TYPE_CHECKING:  # pragma: no cover
    import torch

DEFAULT_MODEL = "zero-dce++"
DEFAULT_LONGEST_SIDE = 256


def to_array(x: "torch.Tensor", dtype: np.dtype) -> np.ndarray:
    """float ``1 x 3 x H x W`` in [0, 1] -> ``H x W x 3`` of ``dtype`` (uint8/uint16).

    Rounds half up and clamps, like ``torchvision.utils.save_image``:
    ``floor(clamp(x * max + 0.5, 0, max))``.
    """
    import torch

    top = 255.0 if np.dtype(dtype) == np.uint8 else 65535.0
    y = x[0].permute(1, 2, 0).mul(top).add_(0.5).clamp_(0, top).floor_()
    return y.to(torch.int32).numpy().astype(dtype)


@dataclass(frozen=True)
class EnhancerOptions:
    """What builds an :class:`Enhancer` (the model options of every command), as plain picklable values.

    ``model``/``weights``/``backend``/``threads`` as for :class:`Enhancer`; ``strength``: ``None``
    (default) = 1 with the exposure fade of :mod:`lowlight.exposure_fade`, a number = that strength as
    given, no fade (the user's override); ``estimate_size`` is its ``longest_side``; ``device`` may be
    ``"auto"`` (CUDA when visible);
    ``denoise``: ``"auto"``, ``"off"`` or a strength in [0, 1] (see :class:`Enhancer`).
    """

    model: str = DEFAULT_MODEL
    weights: Optional[str] = None
    strength: Optional[float] = None
    estimate_size: Optional[int] = DEFAULT_LONGEST_SIDE
    scale_factor: Optional[int] = None
    device: str = "auto"
    backend: str = "auto"
    threads: Optional[int] = None
    denoise: Union[str, float] = AUTO


class Enhancer:
    """A loaded model plus its settings, ready to enhance frames.

    Args:
        model: ``"zero-dce"``, ``"zero-dce++"`` (bundled weights) or a checkpoint path.
        device: torch device string; ``"cpu"`` or ``"cuda[:N]"``.
        weights: optional checkpoint path overriding the bundled weights of ``model``.
        strength: curve-map multiplier (0 = unchanged, 1 = as trained).
        exposure_fade: scale ``strength`` by :func:`lowlight.exposure_fade.exposure_fade` of each
            frame's mean luminance, so frames that are already well exposed are left (more) alone
            (default True; dark frames, mean luminance <= 0.15, are not affected).
        neutral_grey: make the three channels' curve maps equal where the input is grey
            (:mod:`lowlight.neutral_maps`), so grey and monochrome content stays exactly neutral
            (default True; False: the maps as the network predicts them).
        longest_side: Zero-DCE++ estimation size (longest side in pixels);
            ``None`` with ``scale_factor=None`` estimates at full resolution.
        scale_factor: official integer Zero-DCE++ downscale (overrides ``longest_side``).
        backend: curve-estimation engine, see :mod:`lowlight.backends` (``auto``, ``torch``,
            ``compile``, ``onnxruntime``, ``tensorrt``); ``auto`` picks the fastest available here.
        threads: CPU threads for backends with their own thread pool (``None``:
            :func:`lowlight.kernels.threads.get_num_threads`).
        denoise: gain-aware denoising of uint8 frames (:mod:`lowlight.kernels.denoise`): ``"auto"``
            (default: as much as the noise measured in the frame and the curve's local gain call
            for; a clean frame, or a region the curve does not amplify, is left alone), ``"off"``,
            or a strength S in [0, 1] that scales the automatic amount (0 = off). Stills get the
            spatial filter; the video processor adds the temporal one.

    On the CPU with the ``onnxruntime`` backend (what ``auto`` picks there) the enhancer needs no
    torch: the bundled models' shipped ONNX graphs (or a checkpoint's cached one) run on NumPy
    frames, the curves are applied by the compiled kernels, and torch is imported only when
    :attr:`model` is first read (or for a 16-bit frame, or to export a checkpoint not yet cached).

    Attributes:
        model: the loaded torch network (its ``net`` is the reference implementation); on the
            torch-free path it is loaded (with torch) on first access.
        spec: the model's :class:`lowlight.model_spec.ModelSpec` (name, iterations, estimation size).
        backend: the :class:`lowlight.backends.CurveBackend` that runs it.
        estimator: the :class:`lowlight.estimation.Estimator` that makes the maps of NumPy frames.
    """

    def __init__(self, model: Union[str, os.PathLike] = DEFAULT_MODEL, device: str = "cpu",
                 weights: Optional[Union[str, os.PathLike]] = None, strength: float = 1.0,
                 longest_side: Optional[int] = DEFAULT_LONGEST_SIDE, scale_factor: Optional[int] = None,
                 backend: str = "auto", threads: Optional[int] = None, denoise: Union[str, float] = AUTO,
                 exposure_fade: bool = True, neutral_grey: bool = True) -> None:
        if not math.isfinite(strength) or strength < 0:
            raise LowlightError(f"--strength must be a finite number >= 0, got {strength}")
        try:
            self.denoise = resolve_denoise(denoise)
        except ValueError as exc:
            raise LowlightError(f"--denoise: {exc}") from None
        if scale_factor is not None:
            longest_side = None
        self._source = weights if weights is not None else model
        self._estimation = {"scale_factor": scale_factor, "longest_side": longest_side}
        self._model = None
        self.strength = float(strength)
        self.exposure_fade = bool(exposure_fade)
        if device_type(device) == "cpu" and resolve_backend(backend, "cpu") == "onnxruntime":
            from lowlight.backends.onnx_runtime import OnnxRuntimeBackend

            self.device = as_device(device)
            self.backend = OnnxRuntimeBackend.from_weights(self._source, threads=threads)
            self.spec = self.backend.spec.configured(scale_factor, longest_side)
            self.estimator = Estimator(self.spec, self.backend, self.device, neutral_grey)
        else:
            import torch

            self._model = load_model(self._source, **self._estimation)
            self.device = torch.device(device)
            self._model.to(self.device)
            self.backend = create_backend(backend, self._model, self.device, threads=threads)
            self.spec = spec_of(self._model)
            self.estimator = Estimator(self._model, self.backend, self.device, neutral_grey)

    @property
    def model(self):
        """The torch network of this enhancer (eval mode, on :attr:`device`); on the torch-free
        path it is loaded here, on first access (imports torch)."""
        if self._model is None:
            self._model = load_model(self._source, **self._estimation).to(str(self.device))
        return self._model

    @classmethod
    def from_options(cls, options: "EnhancerOptions") -> "Enhancer":
        """Build the enhancer that ``options`` describe (``device="auto"`` resolved here)."""
        from lowlight.backends import resolve_device

        return cls(options.model, device=resolve_device(options.device), weights=options.weights,
                   strength=1.0 if options.strength is None else options.strength,
                   longest_side=options.estimate_size, scale_factor=options.scale_factor, backend=options.backend,
                   threads=options.threads, denoise=options.denoise, exposure_fade=options.strength is None)

    @property
    def name(self) -> str:
        return self.spec.name

    def curve_maps(self, x: "torch.Tensor") -> "torch.Tensor":
        """Alpha maps for ``x`` (float ``N x 3 x H x W`` in [0, 1]), resized by the model's own
        (antialiased bilinear) filter; NumPy frames go through :attr:`estimator` instead
        (:meth:`lowlight.estimation.Estimator.maps`, the same copy for every command).

        Returns ``N x 3 x h x w`` (Zero-DCE++, estimation size) or
        ``N x 24 x H x W`` (Zero-DCE), in [-1, 1], strength not applied; tied where the input is grey
        as :meth:`lowlight.estimation.Estimator.maps` ties them (``neutral_grey``).
        """
        import torch

        from lowlight.neutral_maps import tie_grey_maps

        with torch.inference_mode():
            x = self.model.estimation_input(x.to(self.device))
            maps = self.backend(x)  # backends flush subnormals
            if self.estimator.neutral_grey:
                maps = torch.stack([tie_grey_maps(m, xi) for m, xi in zip(maps, x)])
            return maps

    def enhance_tensor(self, x: "torch.Tensor") -> "torch.Tensor":
        """Enhance float ``N x 3 x H x W`` in [0, 1]; returns the same shape in [0, 1] (at :attr:`strength`
        as given: the exposure fade belongs to :meth:`enhance` and the video processor)."""
        import torch

        from lowlight.kernels import apply_curves

        with torch.inference_mode():
            x = x.to(self.device)
            maps = self.curve_maps(x)
            with flush_denormals():
                return apply_curves(x, maps, self.spec.iterations, self.strength)

    def enhance(self, frame: np.ndarray) -> np.ndarray:
        """Enhance one RGB frame.

        Args:
            frame: ``H x W x 3`` RGB, uint8 (or uint16 for 16-bit images).
        Returns:
            The enhanced ``H x W x 3`` frame, same dtype.
        """
        check_frame(frame, dtypes=(np.uint8, np.uint16))
        if frame.dtype == np.uint8:
            copy, small = self.estimator.analysis_copy(frame)  # what the video processor reads, too
            maps = self.estimator.maps(frame, small)
            strength = self.strength_for(copy, maps)
            # Fused path: one pass over the uint8 frame (upsampling, curve steps and rounding fused;
            # see lowlight.kernels.fused), on the device of the maps; with denoising, the spatial
            # (still-image) filter is fused into the same pass (lowlight.kernels.denoise).
            noise = self.noise_model(frame, strength)
            if noise is not None:
                return denoise_enhance_frame(frame, maps, noise, self.spec.iterations, strength, self.denoise)[0]
            return enhance_frame(frame, maps, self.spec.iterations, strength)
        maps = self.estimator.maps(frame)
        strength = self.strength_for(probe(frame), maps)
        import torch  # 16-bit frames: the plain-torch reference in float32

        from lowlight.kernels import apply_curves

        x = to_tensor(frame).to(self.device)
        with torch.inference_mode(), flush_denormals():
            out = apply_curves(x, torch.as_tensor(maps).to(self.device)[None], self.spec.iterations, strength)
        return to_array(out.cpu(), frame.dtype)

    def strength_for(self, copy: np.ndarray, maps) -> float:
        """The strength a frame is enhanced with, given its small copy ``copy`` (``h x w x 3`` uint8/uint16,
        the analysis copy) and its curve maps: :attr:`strength`, capped by the exposure ceiling
        (:func:`lowlight.exposure_fade.ceiling_strength`) when :attr:`exposure_fade` is on."""
        if not self.exposure_fade:
            return self.strength
        return ceiling_strength(self.strength, copy, maps, self.spec.iterations)

    def noise_model(self, frame: np.ndarray, strength: Optional[float] = None) -> Optional[NoiseModel]:
        """The noise measured in ``frame`` (uint8) when it is to be denoised, else ``None`` (denoise off,
        ``strength`` 0: no gain, or a clean frame; ``strength`` defaults to :attr:`strength`). The video
        processor makes the same decision for the first frame of a stream, so a still and a one-frame
        video come out identical."""
        strength = self.strength if strength is None else strength
        if self.denoise <= 0.0 or strength <= 0.0:
            return None
        noise = estimate_noise(frame)
        return None if noise.clean else noise

    def __repr__(self) -> str:
        extra = ""
        if self.spec.name == "zero-dce++":
            extra = f", scale_factor={self.spec.scale_factor}, longest_side={self.spec.longest_side}"
        return (f"Enhancer({self.name!r}, device={str(self.device)!r}, backend={self.backend.name!r}, "
                f"strength={self.strength}, denoise={self.denoise}{extra})")


def enhance_image(frame: np.ndarray, model: str = DEFAULT_MODEL, strength: float = 1.0) -> np.ndarray:
    """One-shot convenience: ``Enhancer(model, strength=strength).enhance(frame)``."""
    return Enhancer(model, strength=strength).enhance(frame)
