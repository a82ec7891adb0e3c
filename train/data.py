"""Training data: a folder of photos, random crops and exposure augmentation.

Zero-reference training needs no targets, only photos at many exposures. The
augmentation makes them: ``y = quantise(clamp(gain * x ** gamma, 0, 1))`` with
``log(gain)`` and ``gamma`` drawn uniformly, so the net sees dark,
under-exposed, well-exposed and over-exposed versions of every crop.
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
from lowlight.imageio import read_image


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
        h, w = x.shape[-2:]
        k = min(1.0, max_side / max(h, w))
        k = max(k, crop / min(h, w))
        if k != 1.0:
            size = (max(crop, round(h * k)), max(crop, round(w * k)))
            x = F.interpolate(x, size=size, mode="bilinear", antialias=k < 1, align_corners=False).clamp_(0, 1)
        images.append(x[0].contiguous())
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


def sample_batch(images: list[torch.Tensor], batch_size: int, crop: int, generator: torch.Generator,
                 augment: ExposureAugment) -> torch.Tensor:
    """Random ``crop x crop`` patches with random horizontal flips, augmented.

    Returns float32 ``batch_size x 3 x crop x crop`` in [0, 1].
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
    return augment(out, generator)
