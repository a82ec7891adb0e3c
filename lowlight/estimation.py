"""The estimation copy of a frame and its curve maps: one :class:`Estimator` for every command.

* Zero-DCE estimates on the full frame.
* Zero-DCE++ with ``longest_side`` (the default, 256 px): the uint8 frame is
  area-averaged with OpenCV (:func:`area_resize`) to
  :func:`lowlight.models.estimation_size` before conversion to float; the area
  average also averages away sensor noise, and only the small copy is ever
  converted to float.
* Zero-DCE++ with the official integer ``scale_factor``: the model's own
  bilinear downscale (:meth:`ZeroDCEPP.estimation_input`), as the official code does.

``lowlight image`` (through :class:`lowlight.Enhancer`), ``lowlight video``,
``lowlight live`` and ``lowlight batch`` (through the realtime frame processor)
all estimate with :meth:`Estimator.maps`, so one frame gets the same curves from
every command. The scene-cut detector reads :meth:`Estimator.analysis_copy`,
which is the estimation copy itself when that is small, so a frame whose curves
are estimated makes one small copy, not two.

With a NumPy backend (the ONNX Runtime graph, :attr:`lowlight.backends.CurveBackend.numpy`) the
whole estimation is NumPy: the input copy, the backend call and the maps returned, so the CPU
path never imports torch; with a torch backend the maps are tensors on its device, as before.

OpenCV is imported on first use, so ``import lowlight`` does not load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import numpy as np

from lowlight.model_spec import estimation_size, spec_of

if TYPE_CHECKING:  # pragma: no cover
    import torch

# Longest side of the analysis copy when the estimation input is not a small copy (Zero-DCE, the
# official scale_factor), and the largest estimation copy the scene-cut detector reads (times 2).
ANALYSIS_SIDE = 256


def area_resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-average ``image`` (``H x W x C``, uint8 or float32) to ``size = (h, w)``; returns ``image`` if unchanged.

    Large reductions first halve the image with ``INTER_AREA`` while the half
    is still at least ``size`` (OpenCV's 2x2 box fast path: 1920x1080 ->
    960x540 takes 0.6 ms, where one direct 7.5x area resize takes 7 ms on these
    cores), then area-resize the rest of the way (< 2x). The result is still an
    area average of the frame, with slightly different edge weights. Sizes
    larger than the image are reached with bilinear interpolation.
    """
    import cv2

    h, w = size
    H, W = image.shape[:2]
    if (h, w) == (H, W):
        return image
    if h > H or w > W:
        return cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
    while H // 2 >= h and W // 2 >= w and (H // 2, W // 2) != (h, w) and not (H % 2 or W % 2):
        image = cv2.resize(image, (W // 2, H // 2), interpolation=cv2.INTER_AREA)
        H, W = image.shape[:2]
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


def probe(image: np.ndarray, side: int = ANALYSIS_SIDE) -> np.ndarray:
    """A cheap subsampled copy of ``image`` (every k-th pixel, shorter side >= ``side``) for
    scene-cut detection and brightness statistics when the estimation copy is large."""
    k = max(1, min(image.shape[0], image.shape[1]) // side)
    return image if k == 1 else np.ascontiguousarray(image[::k, ::k])


def to_nchw(frame: np.ndarray) -> np.ndarray:
    """``H x W x 3`` RGB -> float32 NumPy ``1 x 3 x H x W`` in [0, 1], C-contiguous (as :func:`to_tensor`:
    uint8 divided by 255, uint16 by 65535, float32 taken as already in [0, 1]; the same float32 values)."""
    x = np.ascontiguousarray(np.asarray(frame).transpose(2, 0, 1)[None])
    if x.dtype == np.float32:
        return x
    return np.divide(x, np.float32(255.0 if x.dtype == np.uint8 else 65535.0), dtype=np.float32)


def _bilinear_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source taps ``i0, i1`` and weight ``l`` of ``i1`` for ``align_corners=False`` bilinear resampling."""
    src = np.maximum((np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.intp), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, (src - i0).astype(np.float32)


def bilinear_resize(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """float32 ``N x C x H x W`` -> ``N x C x h x w``: bilinear, ``align_corners=False``, no antialias:
    ``F.interpolate(x, size=size, mode="bilinear")`` in NumPy (what Zero-DCE++'s official
    ``scale_factor`` downscale computes, :meth:`lowlight.models.ZeroDCEPP.estimation_input`, to ~1e-7)."""
    h, w = size
    if (h, w) == x.shape[-2:]:
        return x
    y0, y1, ly = _bilinear_taps(x.shape[-2], h)
    x0, x1, lx = _bilinear_taps(x.shape[-1], w)
    rows = x[..., y0, :] * (1.0 - ly)[:, None] + x[..., y1, :] * ly[:, None]
    return np.ascontiguousarray(rows[..., x0] * (1.0 - lx) + rows[..., x1] * lx, dtype=np.float32)


def to_tensor(frame: np.ndarray) -> "torch.Tensor":
    """``H x W x 3`` RGB -> float32 ``1 x 3 x H x W`` in [0, 1] (CPU). Imports torch.

    uint8 is divided by 255, uint16 by 65535; float32 is taken as already in [0, 1].
    """
    import torch

    t = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1).unsqueeze(0)
    if frame.dtype == np.float32:
        return t.contiguous()
    return t.to(torch.float32).div_(255.0 if frame.dtype == np.uint8 else 65535.0)


class Estimator:
    """Curve maps for NumPy frames: makes the estimation copy and runs a backend on it.

    Args:
        model: a loaded :class:`lowlight.models.ZeroDCE` / :class:`~lowlight.models.ZeroDCEPP`
            in eval mode, or a :class:`lowlight.model_spec.ModelSpec` (with a NumPy backend: no
            torch); its estimation settings decide the copy's size.
        backend: the :class:`lowlight.backends.CurveBackend` to run (default: eager torch).
        device: the backend's device (default: the backend's, else the model's).

    Attributes:
        full_resolution: the network sees the full frame (Zero-DCE, or the official
            ``scale_factor`` resize); the small copy is then for analysis only.
        iterations: curve steps of the model.
        numpy: the backend takes and returns NumPy (maps are then NumPy arrays; no torch).

    Example:
        >>> import numpy as np, lowlight
        >>> est = lowlight.Enhancer().estimator
        >>> frame = np.zeros((480, 640, 3), np.uint8)
        >>> est.small(frame).shape, tuple(est.maps(frame).shape)
        ((192, 256, 3), (3, 192, 256))
    """

    def __init__(self, model, backend=None, device=None, neutral_grey: bool = True) -> None:
        self.model = model
        self.neutral_grey = bool(neutral_grey)
        self.spec = spec_of(model)
        if backend is None:
            from lowlight.backends.base import TorchBackend

            device = device if device is not None else next(model.parameters()).device
            backend = TorchBackend(model, device)
        self.backend = backend
        self.device = backend.device if device is None else device
        self.numpy = bool(getattr(backend, "numpy", False))
        self.full_resolution = self.spec.name != "zero-dce++" or self.spec.scale_factor is not None
        self.iterations = int(self.spec.iterations)

    def small_size(self, height: int, width: int) -> tuple[int, int]:
        """``(h, w)`` of the small copy of an ``height x width`` frame."""
        if self.full_resolution:
            return estimation_size(height, width, None, ANALYSIS_SIDE)
        return estimation_size(height, width, None, self.spec.longest_side)

    def small(self, frame: np.ndarray) -> np.ndarray:
        """The small copy of ``frame`` (``H x W x 3`` uint8, or float32 in [0, 1]): an area average,
        same dtype; the estimation input of Zero-DCE++."""
        return area_resize(frame, self.small_size(frame.shape[0], frame.shape[1]))

    def analysis_copy(self, frame: np.ndarray) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """``(copy, small)``: what the scene-cut detector reads for ``frame`` (uint8), and the small
        copy when that is what it read (hand it to :meth:`maps` so it is not made twice), else ``None``.

        The detector reads the small copy (an area average, 1.2 ms at 1080p) up to
        ``2 * ANALYSIS_SIDE`` px, and a strided :func:`probe` of larger estimation sizes.
        """
        h, w = self.small_size(frame.shape[0], frame.shape[1])
        if max(h, w) > 2 * ANALYSIS_SIDE:
            return probe(frame), None
        small = self.small(frame)
        return small, small

    def _small_input(self, frame: np.ndarray, small: Optional[np.ndarray]) -> np.ndarray:
        if small is None:
            if frame.dtype != np.uint8:  # 16-bit: the same area average, in float
                frame = frame.astype(np.float32) * np.float32(1.0 / 65535.0)
            small = self.small(frame)
        return small

    def input_array(self, frame: np.ndarray, small: Optional[np.ndarray] = None) -> np.ndarray:
        """The backend input for ``frame`` as NumPy float32 ``1 x 3 x h x w`` in [0, 1] (the values of
        :meth:`input_tensor`; the official ``scale_factor`` resize by :func:`bilinear_resize`)."""
        if self.full_resolution:
            x = to_nchw(frame)
            if self.spec.name == "zero-dce++":
                x = bilinear_resize(x, estimation_size(frame.shape[0], frame.shape[1], self.spec.scale_factor, None))
            return x
        return to_nchw(self._small_input(frame, small))

    def input_tensor(self, frame: np.ndarray, small: Optional[np.ndarray] = None) -> "torch.Tensor":
        """The backend input for ``frame`` (``H x W x 3`` uint8 or uint16 RGB): float32 ``1 x 3 x h x w``
        in [0, 1] on the CPU. ``small``: :meth:`small` of ``frame`` if the caller already has it."""
        if self.full_resolution:
            x = to_tensor(frame)
            return self.model.estimation_input(x) if self.model.name == "zero-dce++" else x
        return to_tensor(self._small_input(frame, small))

    def maps(self, frame: np.ndarray, small: Optional[np.ndarray] = None):
        """Alpha maps for ``frame`` (``H x W x 3`` uint8/uint16 RGB), strength not applied.

        Returns float32 ``3 x h x w`` (Zero-DCE++, estimation size) or ``24 x H x W`` (Zero-DCE)
        in [-1, 1], contiguous: a NumPy array with a NumPy backend (:attr:`numpy`), else a tensor
        on :attr:`device`. With :attr:`neutral_grey` (the default) the channels' maps are tied where
        the input is grey (:func:`lowlight.neutral_maps.tie_grey_maps`).
        """
        from lowlight.neutral_maps import tie_grey_maps

        if self.numpy:
            x = self.input_array(frame, small)
            maps = self.backend(x)[0]
            return tie_grey_maps(maps, x[0]) if self.neutral_grey else np.ascontiguousarray(maps)
        import torch

        with torch.inference_mode():
            x = self.input_tensor(frame, small).to(self.device)
            maps = self.backend(x)[0]
            return tie_grey_maps(maps, x[0]) if self.neutral_grey else maps.contiguous()
