"""Training data: photos (or frames sampled from videos), random crops and augmentation.

Zero-reference training needs no targets, only photos at many exposures. Two
augmentations make them:

* :class:`ExposureAugment` (the original one): ``y = quantise(clamp(gain * x ** gamma, 0, 1))``
  with ``log(gain)`` and ``gamma`` drawn uniformly.
* :class:`SensorAugment` (the default of ``lowlight train``): some crops made
  greyscale (R = G = B), white-balance jitter on the others, then a camera-like
  sensor model: sRGB -> linear light, exposure scaled, Poisson shot noise plus
  Gaussian read noise in linear light, back to sRGB, 8-bit rounding.

All randomness comes from one ``torch.Generator`` (repeatable with a seed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lowlight.errors import InputError
from lowlight.imageio import find_images as scan_images
from lowlight.imageio import is_image_path, read_image
from lowlight.train.config import DEFAULT_FRAMES_PER_VIDEO

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".y4m")


def is_video_path(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def find_videos(folder: Path) -> list[Path]:
    """Video files under ``folder`` (recursive, sorted)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_video_path(p) and not p.name.startswith("."))


def video_frames(path: Path, count: int) -> list[np.ndarray]:
    """``count`` frames sampled evenly across the clip ``path`` (uint8 RGB ``H x W x 3``), decoded with PyAV.

    Decodes the whole clip once (training inputs are short clips) and keeps the
    frames at ``round((i + 0.5) * n / count)``; clips shorter than ``count``
    frames give every frame.
    """
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"{path}: no video stream")
            stream = container.streams.video[0]
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    except av.error.FFmpegError as exc:
        raise InputError(f"{path}: cannot decode video ({exc})") from None
    if not frames:
        raise InputError(f"{path}: video has no frames")
    n = len(frames)
    if n <= count:
        return frames
    picks = sorted({min(n - 1, int((i + 0.5) * n / count)) for i in range(count)})
    return [frames[i] for i in picks]


def _fit(x: torch.Tensor, crop: int, max_side: int) -> torch.Tensor:
    """``1 x 3 x H x W`` -> downscaled (area) to ``max_side`` / upscaled so a ``crop`` fits."""
    h, w = x.shape[-2:]
    k = min(1.0, max_side / max(h, w))
    k = max(k, crop / min(h, w))
    if k != 1.0:
        size = (max(crop, round(h * k)), max(crop, round(w * k)))
        x = F.interpolate(x, size=size, mode="bilinear", antialias=k < 1, align_corners=False).clamp_(0, 1)
    return x[0].contiguous()


def load_training_data(source: Path, crop: int, max_side: int = 768,
                       frames_per_video: int = DEFAULT_FRAMES_PER_VIDEO) -> list[torch.Tensor]:
    """Training images from ``source``: a folder of photos and/or videos, or one video file.

    Photos load as in :func:`load_training_images`; every video contributes
    ``frames_per_video`` frames sampled evenly across the clip.
    Returns float32 ``3 x H x W`` tensors in [0, 1].
    """
    source = Path(source)
    if source.is_file():
        if not is_video_path(source):
            raise InputError(f"{source}: not a folder of training images or a video file "
                             f"({', '.join(VIDEO_SUFFIXES)})")
        videos, photos = [source], []
    else:
        if not source.exists():
            raise InputError(f"{source}: no such folder")
        videos = find_videos(source) if source.is_dir() else []
        has_photos = source.is_dir() and any(p.is_file() and is_image_path(p) for p in source.rglob("*"))
        # No videos: load_training_images gives the usual errors (not a folder, no images found).
        photos = load_training_images(source, crop, max_side) if has_photos or not videos else []
    frames = []
    for v in videos:
        for f in video_frames(v, frames_per_video):
            x = torch.from_numpy(f.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
            frames.append(_fit(x, crop, max_side))
    return photos + frames


def find_images(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursive, sorted)."""
    if not folder.exists():
        raise InputError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of training images")
    files = scan_images(folder)
    if not files:
        raise InputError(f"{folder}: no images found (looked for .jpg .png .bmp .tif .webp)")
    return files


def load_training_images(folder: Path, crop: int, max_side: int = 768) -> list[torch.Tensor]:
    """Load every image as float32 ``3 x H x W`` in [0, 1].

    Images larger than ``max_side`` are downscaled (area); images smaller than
    ``crop`` on either side are upscaled so a crop fits.
    """
    images = []
    for path in find_images(folder):
        loaded = read_image(path)
        top = 255.0 if loaded.rgb.dtype == np.uint8 else 65535.0
        x = torch.from_numpy(loaded.rgb.astype(np.float32) / top).permute(2, 0, 1)[None]
        images.append(_fit(x, crop, max_side))
    return images


@dataclass
class ExposureAugment:
    """Random gain and gamma: ``clamp(gain * x ** gamma, 0, 1)``, quantised to 8 bits.

    ``gain`` is log-uniform in ``gain_range``; ``gamma`` uniform in ``gamma_range``.
    The defaults give mean brightness from about 0.01 (very dark) to
    over-exposed (gain > 1 clips highlights).
    """

    gain_range: tuple[float, float] = (0.04, 1.6)
    gamma_range: tuple[float, float] = (0.8, 2.6)
    quantise: bool = True

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """``x``: ``N x 3 x H x W`` in [0, 1] -> same shape, augmented per image."""
        n = x.shape[0]
        lo, hi = math.log(self.gain_range[0]), math.log(self.gain_range[1])
        gain = torch.exp(lo + (hi - lo) * torch.rand(n, 1, 1, 1, generator=generator))
        g0, g1 = self.gamma_range
        gamma = g0 + (g1 - g0) * torch.rand(n, 1, 1, 1, generator=generator)
        y = (gain * x.clamp(min=0).pow(gamma)).clamp_(0, 1)
        if self.quantise:
            y = torch.round(y * 255) / 255
        return y


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    """IEC 61966-2-1 sRGB decoding, [0, 1] -> linear [0, 1]."""
    return torch.where(x <= 0.04045, x / 12.92, ((x.clamp(min=0) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    """IEC 61966-2-1 sRGB encoding, linear [0, 1] -> [0, 1] (input clamped to [0, 1])."""
    x = x.clamp(0, 1)
    return torch.where(x <= 0.0031308, 12.92 * x, 1.055 * x.clamp(min=0.0031308) ** (1 / 2.4) - 0.055)


def _log_uniform(n: int, lo: float, hi: float, generator: torch.Generator) -> torch.Tensor:
    a, b = math.log(lo), math.log(hi)
    return torch.exp(a + (b - a) * torch.rand(n, generator=generator))


@dataclass
class SensorModel:
    """Camera-like darkening of clean sRGB images (shared by training and ``benchmarks/``).

    ``y = srgb(clamp((Poisson(k * lin(x) * photons) / photons + N(0, read^2)), 0, 1))`` rounded to
    8 bits, where ``k`` is the exposure (scale in linear light), ``photons`` the electrons a
    full-scale pixel would collect *at the darkened exposure* and ``read`` the read-noise
    standard deviation as a fraction of full scale. ``photons=None`` gives no noise.
    """

    quantise: bool = True

    def __call__(self, x: torch.Tensor, exposure: torch.Tensor, photons: torch.Tensor | None,
                 read: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
        """``x``: ``N x 3 x H x W`` sRGB in [0, 1]; ``photons``/``read``: ``N`` values; ``exposure``: ``N``
        values, or ``N x 1 x H x W`` (an exposure that varies over the frame)."""
        n = x.shape[0]
        lin = srgb_to_linear(x) * (exposure.view(n, 1, 1, 1) if exposure.dim() == 1 else exposure)
        if photons is not None:
            p = photons.view(n, 1, 1, 1)
            shot = torch.poisson(lin * p.clamp(max=1e6), generator=generator) / p.clamp(max=1e6)
            lin = torch.where(torch.isfinite(p), shot, lin)  # photons = inf: no shot noise
        if read is not None:
            lin = lin + read.view(n, 1, 1, 1) * torch.randn(lin.shape, generator=generator)
        y = linear_to_srgb(lin)
        if self.quantise:
            y = torch.round(y * 255) / 255
        return y


@dataclass
class SensorAugment:
    """Greyscale crops, white-balance jitter and a sensor noise model (the default augmentation).

    Per crop, in this order:

    * with probability ``grey_prob`` the crop becomes greyscale (Rec. 601 luma in all three
      channels, and the same noise in all three), so the net meets truly neutral content;
    * otherwise (probability ``wb_prob``) the red and blue channels are multiplied in
      linear light by gains log-uniform in ``[1/(1+wb), 1+wb]`` (the green channel is the
      reference), so casts in either direction are seen equally often and the colour loss cannot
      learn one photo collection's average cast;
    * exposure ``k`` log-uniform in ``exposure_range`` (scale in linear light; 1 keeps the photo's
      exposure, 0.01 is about 6.6 stops darker);
    * with probability ``noise_prob``: shot noise with ``photons`` (electrons at full scale after
      the exposure) log-uniform in ``photon_range`` and Gaussian read noise with standard
      deviation log-uniform in ``read_range`` (fraction of full scale), in linear light;
    * with ``exposure_gradient = G > 0`` (default 0) the exposure varies over the crop: on half the
      crops, by ``2 ** (g * t)`` with ``g`` uniform in ``[-G, G]`` stops and ``t`` the position (from -0.5
      to 0.5 on each axis) along a
      random direction (light falling off across a scene, a lit and an unlit side), so a loss that asks
      each block for its own exposure back (the ``"restore"`` target) needs curves that differ over
      the frame; the draws for it are made only when ``G > 0``, so runs without it repeat exactly;
    * with probability ``flat_prob`` (default 0) a greyscale crop is replaced by a flat grey of a
      random level (uniform in [0, 1] before the exposure), so flat neutral frames (fog, walls, a
      covered lens) are seen too; the draws for it are made only when ``flat_prob > 0``, so runs
      without it repeat exactly;
    * back to sRGB, then a mild tone-curve jitter ``y ** gamma`` (``gamma`` uniform in
      ``gamma_range``; cameras' tone curves differ), 8-bit rounding.
    """

    grey_prob: float = 0.25
    wb_prob: float = 0.75
    wb: float = 0.3
    exposure_range: tuple[float, float] = (0.004, 1.5)
    noise_prob: float = 0.8
    photon_range: tuple[float, float] = (300.0, 30000.0)
    read_range: tuple[float, float] = (2e-4, 3e-3)
    gamma_range: tuple[float, float] = (0.85, 1.2)
    quantise: bool = True
    flat_prob: float = 0.0
    exposure_gradient: float = 0.0

    def _exposure_map(self, exposure: torch.Tensor, shape: tuple, generator: torch.Generator) -> torch.Tensor:
        """``N x 1 x H x W`` exposure: ``exposure`` times the gradient of :attr:`exposure_gradient` stops."""
        n, _, h, w = shape
        on = (torch.rand(n, generator=generator) < 0.5).float()
        stops = (2 * torch.rand(n, generator=generator) - 1) * self.exposure_gradient * on
        angle = 2 * math.pi * torch.rand(n, generator=generator)
        yy = torch.linspace(-0.5, 0.5, h).view(1, h, 1)
        xx = torch.linspace(-0.5, 0.5, w).view(1, 1, w)
        t = xx * angle.cos().view(n, 1, 1) + yy * angle.sin().view(n, 1, 1)  # in about [-0.7, 0.7]
        return (exposure.view(n, 1, 1) * torch.exp2(stops.view(n, 1, 1) * t)).unsqueeze(1)

    def __call__(self, x: torch.Tensor, generator: torch.Generator, with_clean: bool = False,
                 with_exposed: bool = False):
        """``x``: ``N x 3 x H x W`` in [0, 1] -> same shape, augmented per image.

        ``with_clean=True`` returns ``(noisy, clean)``: ``clean`` is the same crop through the same
        greyscale / white-balance / exposure / tone draws without sensor noise and without 8-bit
        rounding (float in [0, 1]), for training losses that charge noise amplification. It draws
        nothing more from ``generator``, so ``noisy`` is the same either way.

        ``with_exposed=True`` returns ``(noisy, clean, exposed)``: ``exposed`` is the crop through the
        same greyscale / white-balance / tone draws at its *original* exposure (exposure 1, no noise,
        float in [0, 1]), what the darkened crop looked like before the exposure draw, for the
        ``"restore"`` exposure target (:func:`lowlight.train.losses.restore_exposure`). No extra draws.
        """
        n = x.shape[0]
        grey = torch.rand(n, generator=generator) < self.grey_prob
        wb = torch.rand(n, generator=generator) < self.wb_prob
        gains = _log_uniform(2 * n, 1 / (1 + self.wb), 1 + self.wb, generator).view(n, 2)
        exposure = _log_uniform(n, *self.exposure_range, generator)
        noisy = torch.rand(n, generator=generator) < self.noise_prob
        photons = _log_uniform(n, *self.photon_range, generator)
        read = _log_uniform(n, *self.read_range, generator)
        g0, g1 = self.gamma_range
        gamma = g0 + (g1 - g0) * torch.rand(n, generator=generator)
        lin = srgb_to_linear(x.clamp(0, 1))
        luma = (lin * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        if self.exposure_gradient > 0:
            exposure = self._exposure_map(exposure, tuple(x.shape), generator)
        if self.flat_prob > 0:
            flat = grey & (torch.rand(n, generator=generator) < self.flat_prob)
            level = torch.rand(n, generator=generator).view(n, 1, 1, 1)
            luma = torch.where(flat.view(n, 1, 1, 1), level.expand_as(luma), luma)
        cg = torch.ones(n, 3)
        cg[:, 0], cg[:, 2] = gains[:, 0], gains[:, 1]
        cg = torch.where(wb[:, None], cg, torch.ones_like(cg))
        lin = torch.where(grey.view(n, 1, 1, 1), luma.expand_as(lin), (lin * cg.view(n, 3, 1, 1)).clamp(0, 1))
        # photons = inf is "no shot noise"; read = 0 is "no read noise": keeps one code path (and one RNG use).
        photons = torch.where(noisy, photons, torch.full_like(photons, math.inf))
        read = torch.where(noisy, read, torch.zeros_like(read))
        y = SensorModel(quantise=False)(linear_to_srgb(lin), exposure, photons, read, generator)
        # greyscale crops stay exactly R = G = B (a monochrome source): one channel's noise for all three
        y = torch.where(grey.view(n, 1, 1, 1), y[:, :1].expand_as(y), y)
        y = y.clamp(0, 1).pow(gamma.view(n, 1, 1, 1))
        if self.quantise:
            y = torch.round(y * 255) / 255
        if not (with_clean or with_exposed):
            return y
        clean = SensorModel(quantise=False)(linear_to_srgb(lin), exposure, None, None, generator)
        clean = torch.where(grey.view(n, 1, 1, 1), clean[:, :1].expand_as(clean), clean)
        clean = clean.clamp(0, 1).pow(gamma.view(n, 1, 1, 1))
        if not with_exposed:
            return y, clean
        exposed = linear_to_srgb(lin)
        exposed = torch.where(grey.view(n, 1, 1, 1), exposed[:, :1].expand_as(exposed), exposed)
        return y, clean, exposed.clamp(0, 1).pow(gamma.view(n, 1, 1, 1))


def sample_batch(images: list[torch.Tensor], batch_size: int, crop: int, generator: torch.Generator,
                 augment: ExposureAugment, with_clean: bool = False, with_exposed: bool = False):
    """Random ``crop x crop`` patches with random horizontal flips, augmented.

    Returns float32 ``batch_size x 3 x crop x crop`` in [0, 1]; with ``with_clean`` (needs
    :class:`SensorAugment`) the pair ``(noisy, clean)`` of :meth:`SensorAugment.__call__`, with
    ``with_exposed`` the triple ``(noisy, clean, exposed)``.
    """
    out = torch.empty(batch_size, 3, crop, crop)
    for b in range(batch_size):
        img = images[int(torch.randint(len(images), (1,), generator=generator))]
        h, w = img.shape[-2:]
        top = int(torch.randint(h - crop + 1, (1,), generator=generator))
        left = int(torch.randint(w - crop + 1, (1,), generator=generator))
        patch = img[:, top : top + crop, left : left + crop]
        if bool(torch.rand(1, generator=generator) < 0.5):
            patch = patch.flip(-1)
        out[b] = patch
    if with_exposed:
        return augment(out, generator, with_clean=True, with_exposed=True)
    if with_clean:
        return augment(out, generator, with_clean=True)
    return augment(out, generator)
