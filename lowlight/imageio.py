"""Still-image reading and writing at the I/O boundary.

Frames leave this module as NumPy ``H x W x C`` RGB(A) arrays (``C`` = 1, 3 or
4; uint8 or uint16) and are written back the same way. BGR exists only inside
the OpenCV calls here.

* Pillow validates the whole file first (catches truncated and non-image files)
  and reads the EXIF orientation; OpenCV decodes the pixels so that 16-bit
  depth and alpha survive (imported on first use, so importing this module is cheap).
* Writing is atomic (:mod:`lowlight.atomic`): a temporary file beside the target, renamed on success.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from lowlight.atomic import atomic_write_bytes
from lowlight.errors import InputError, OutputError, first_line

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
SIXTEEN_BIT_EXTENSIONS = (".png", ".tif", ".tiff")
ALPHA_EXTENSIONS = (".png", ".tif", ".tiff", ".webp")

# EXIF orientation -> (number of 90-degree counter-clockwise turns, flip left-right first)
_ORIENTATION = {2: (0, True), 3: (2, False), 4: (2, True), 5: (1, True), 6: (3, False), 7: (3, True), 8: (1, False)}


@dataclass
class LoadedImage:
    """A decoded image: ``rgb`` is ``H x W x 3`` (uint8 or uint16) for colour
    images and ``H x W x 3`` with identical channels for grayscale ones;
    ``alpha`` is ``H x W`` of the same dtype or ``None``."""

    rgb: np.ndarray
    alpha: Optional[np.ndarray]
    grayscale: bool
    path: Path


def is_image_path(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def find_images(folder: Path) -> list[Path]:
    """The image files under ``folder`` (recursive; by extension, see :data:`IMAGE_EXTENSIONS`), sorted;
    hidden files (names starting with ``.``, which includes lowlight's temporary files) are skipped."""
    return sorted(p for p in Path(folder).rglob("*")
                  if p.is_file() and is_image_path(p) and not p.name.startswith("."))


def _validate(path: Path) -> int:
    """Fully decode with Pillow to catch broken files; return the EXIF orientation (1 = none)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                orientation = int(im.getexif().get(0x0112, 1) or 1)
                im.load()
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image (or an unsupported format)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        reason = first_line(exc)
        if "truncated" in reason.lower():
            reason = "file is truncated"
        raise InputError(f"{path}: cannot decode image ({reason})") from None
    except Image.DecompressionBombError as exc:
        raise InputError(f"{path}: image is too large ({exc})") from None
    return orientation


def read_image(path: os.PathLike | str) -> LoadedImage:
    """Read an image file; raises :class:`InputError` with a one-line reason."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not an image")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    import cv2

    orientation = _validate(path)
    data = np.fromfile(path, dtype=np.uint8)
    arr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if arr is None or arr.size == 0:
        raise InputError(f"{path}: cannot decode image")
    if arr.dtype not in (np.uint8, np.uint16):
        raise InputError(f"{path}: unsupported sample type {arr.dtype} (only 8- and 16-bit images)")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    channels = arr.shape[2]
    alpha = None
    if channels == 1:
        rgb = np.repeat(arr, 3, axis=2)
    elif channels == 2:
        rgb, alpha = np.repeat(arr[:, :, :1], 3, axis=2), arr[:, :, 1]
    elif channels == 3:
        rgb = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    elif channels == 4:
        rgb, alpha = cv2.cvtColor(arr[:, :, :3], cv2.COLOR_BGR2RGB), arr[:, :, 3]
    else:
        raise InputError(f"{path}: unsupported channel count {channels}")
    if orientation in _ORIENTATION:
        rgb = _orient(rgb, orientation)
        alpha = None if alpha is None else _orient(alpha, orientation)
    return LoadedImage(np.ascontiguousarray(rgb), alpha if alpha is None else np.ascontiguousarray(alpha),
                       channels in (1, 2), path)


def _orient(a: np.ndarray, orientation: int) -> np.ndarray:
    turns, flip = _ORIENTATION[orientation]
    if flip:
        a = a[:, ::-1]
    return np.rot90(a, turns)


def compose(rgb: np.ndarray, alpha: Optional[np.ndarray], grayscale: bool) -> np.ndarray:
    """Rebuild an ``H x W x C`` RGB(A)/gray(A) array from enhanced RGB plus the original alpha.

    Grayscale inputs come back as one channel: the mean of the three enhanced channels.
    """
    if grayscale:
        top = np.iinfo(rgb.dtype).max
        gray = np.clip(np.rint(rgb.astype(np.float32).mean(axis=2)), 0, top).astype(rgb.dtype)
        planes = [gray[:, :, None]]
    else:
        planes = [rgb]
    if alpha is not None:
        planes.append(alpha[:, :, None])
    return np.concatenate(planes, axis=2) if len(planes) > 1 else planes[0]


def write_image(path: os.PathLike | str, image: np.ndarray, quality: int = 95) -> list[str]:
    """Encode ``image`` (``H x W x C``, RGB order, C in 1..4) by the extension of ``path``.

    Returns notes about conversions the format forced (16 -> 8 bit, alpha dropped).
    """
    import cv2

    path = Path(path)
    ext = path.suffix.lower()
    if ext not in IMAGE_EXTENSIONS:
        raise OutputError(f"{path}: unsupported output format '{ext}' (use one of {', '.join(IMAGE_EXTENSIONS)})")
    notes = []
    if image.dtype == np.uint16 and ext not in SIXTEEN_BIT_EXTENSIONS:
        image = (image.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
        notes.append(f"{ext} holds 8 bits per sample: written as 8-bit")
    channels = image.shape[2] if image.ndim == 3 else 1
    if channels in (2, 4) and ext not in ALPHA_EXTENSIONS:
        image = image[:, :, : channels - 1]
        notes.append(f"{ext} has no alpha channel: alpha dropped")
        channels -= 1
    if channels == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif channels == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    elif channels == 2:  # gray + alpha: OpenCV writes it as BGRA
        g, a = image[:, :, 0], image[:, :, 1]
        image = np.dstack([g, g, g, a])
    params = []
    if ext in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    elif ext == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, quality]
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(image), params)
    if not ok:
        raise OutputError(f"{path}: encoder failed for format {ext}")
    try:
        atomic_write_bytes(path, buf.tobytes())
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({first_line(exc)})") from None
    return notes
