"""Image-quality measurements shared by the study and model-card scripts.

All images are float32 ``H x W x 3`` RGB in [0, 1] (NumPy) unless stated.
"""

from __future__ import annotations


import cv2
import numpy as np
import torch

from common import REFERENCE  # noqa: E402,F401 - the scripts import it from here too

PHOTO_DIRS = ("real", "DICM", "LIME")


def reference_photos(max_side: int = 1100) -> list[tuple[str, np.ndarray]]:
    """The benchmark photos in ``shared/reference/images`` as uint8 RGB, larger ones halved
    (INTER_AREA) until the longest side is at most ``max_side``."""
    photos = []
    for folder in PHOTO_DIRS:
        for path in sorted((REFERENCE / "images" / folder).iterdir()):
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            while max(bgr.shape[:2]) > max_side:
                bgr = cv2.resize(bgr, (bgr.shape[1] // 2, bgr.shape[0] // 2), interpolation=cv2.INTER_AREA)
            photos.append((f"{folder}/{path.name}", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    return photos


def luminance(img: np.ndarray) -> np.ndarray:
    return img @ np.array([0.299, 0.587, 0.114], np.float32)


def flat_mask(img_in: np.ndarray, fraction: float = 0.3) -> np.ndarray:
    """Pixels in the flattest ``fraction`` of the input, judged by the gradient magnitude of
    its blurred luminance (so sensor noise itself does not decide flatness)."""
    y = cv2.GaussianBlur(luminance(img_in), (0, 0), 3.0)
    gx, gy = cv2.Sobel(y, cv2.CV_32F, 1, 0), cv2.Sobel(y, cv2.CV_32F, 0, 1)
    mag = np.hypot(gx, gy)
    return mag <= np.quantile(mag, fraction)


def high_freq(img: np.ndarray) -> np.ndarray:
    """Luminance minus its Gaussian blur (sigma 1.5): the fine detail and noise."""
    y = luminance(img)
    return y - cv2.GaussianBlur(y, (0, 0), 1.5)


def noise_amplification(img_in: np.ndarray, img_out: np.ndarray, mask: np.ndarray | None = None) -> float:
    """RMS high-frequency energy of output over input in flat regions (1 = unchanged)."""
    mask = flat_mask(img_in) if mask is None else mask
    hin, hout = high_freq(img_in)[mask], high_freq(img_out)[mask]
    return float(np.sqrt((hout**2).mean() / max((hin**2).mean(), 1e-12)))


def colour_cast(img: np.ndarray) -> float:
    """Spread of the channel means relative to their average (0 = neutral grey world)."""
    m = img.reshape(-1, 3).mean(0)
    return float((m.max() - m.min()) / max(m.mean(), 1e-6))


def map_roughness(maps: torch.Tensor) -> tuple[float, float]:
    """(mean squared first difference, mean squared second difference) of curve maps ``N x C x h x w``."""
    m = maps.double()
    d1 = torch.cat([(m[..., 1:, :] - m[..., :-1, :]).flatten(), (m[..., :, 1:] - m[..., :, :-1]).flatten()])
    d2 = torch.cat([(m[..., 2:, :] - 2 * m[..., 1:-1, :] + m[..., :-2, :]).flatten(),
                    (m[..., :, 2:] - 2 * m[..., :, 1:-1] + m[..., :, :-2]).flatten()])
    return float((d1**2).mean()), float((d2**2).mean())


def to_float(img_u8: np.ndarray) -> np.ndarray:
    return img_u8.astype(np.float32) / 255.0


def tile(images: list[np.ndarray], labels: list[str], height: int = 240) -> np.ndarray:
    """Side-by-side uint8 RGB strip of ``images`` scaled to ``height`` with a label on each."""
    cells = []
    for img, label in zip(images, labels):
        w = max(1, round(img.shape[1] * height / img.shape[0]))
        cell = cv2.resize(img, (w, height), interpolation=cv2.INTER_AREA).copy()
        cv2.rectangle(cell, (0, 0), (8 + 9 * len(label), 22), (0, 0, 0), -1)
        cv2.putText(cell, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        cells.append(cell)
    return np.concatenate(cells, axis=1)


def stack_rows(rows: list[np.ndarray]) -> np.ndarray:
    width = max(r.shape[1] for r in rows)
    return np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows], axis=0)
