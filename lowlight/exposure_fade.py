"""Exposure-adaptive strength: the curves are held back as a frame's own exposure approaches a good one (issue 11).

Trained curves lift a frame by what it looks like locally, and a frame that is already well exposed
overall still gets some lift in its shadows and mid-tones (weights trained to restore a darkened
photo's exposure brighten a scene of mean 0.30 by +0.11). A camera that runs from dusk into
daylight, or a video that is only partly dark, then looks pale in its bright parts. So by default
each frame's strength is capped by an **exposure ceiling** on the output's mean luminance (Rec. 601
luma in [0, 1], :func:`mean_luma`), a function of the input's mean ``m`` (:func:`ceiling`):

* ``m >= LEFT_ALONE_FROM`` (0.45): the frame itself (strength 0, it passes unchanged);
* ``WELL_EXPOSED_FROM <= m < LEFT_ALONE_FROM`` (0.30-0.45, well exposed): at most
  ``WELL_EXPOSED_LIFT`` (0.04) brighter at 0.30, falling linearly to 0 at 0.45;
* ``m < WELL_EXPOSED_FROM``: 0.34, the ceiling at 0.30. It cannot be higher: a darker version of
  the same scene must not come out brighter than the scene at 0.30 does, or brightening a scene
  (dusk to day, a light switched on) would make the output darker. So the output mean follows the
  input up for any weights (the ceiling is nondecreasing, and so are the weights' own outputs).

The strength is the user's (1 by default) wherever the curves stay under the ceiling, as they do on
very dark frames (with the bundled weights, frames of mean luminance up to about 0.05-0.07; a frame at
1/16 of a normal exposure, mean 0.10, gets 0.8-0.9); otherwise it is the largest strength that keeps the predicted output mean under the ceiling
(:func:`ceiling_strength`: the curves are applied to a 32-px thumbnail of the frame and its maps at
many strengths at once; 0.1-0.6 ms a frame).

``--strength S`` on the command line (``EnhancerOptions(strength=S)``) is the user's override: the
ceiling is then off and ``S`` is used as given. ``Enhancer(exposure_fade=False)`` does the same from
Python. The video processor reads the copy its scene-cut detector reads, with the (temporally
smoothed) maps it applies, so a still and the first frame of a video get the same strength, and
the strength of a stream changes as slowly as its maps and its mean.

NumPy + OpenCV only (torch maps are pooled on their device, then read as NumPy).
"""

from __future__ import annotations

from typing import Optional

import numpy as np


def luma_thumbnail(small: np.ndarray, side: int = 32) -> np.ndarray:
    """Luminance of ``small`` (uint8 ``h x w x 3`` RGB) area-averaged to at most ``side`` px; float32 in [0, 1]."""
    import cv2

    h, w = small.shape[:2]
    k = min(1.0, side / max(h, w))
    size = (max(1, round(w * k)), max(1, round(h * k)))
    thumb = small if size == (w, h) else cv2.resize(small, size, interpolation=cv2.INTER_AREA)
    t = thumb.astype(np.float32)
    return (0.299 * t[..., 0] + 0.587 * t[..., 1] + 0.114 * t[..., 2]) / 255.0


def mean_luma(copy: np.ndarray) -> float:
    """Mean luminance in [0, 1] of ``copy`` (a frame's small or subsampled copy, ``h x w x 3`` uint8 RGB,
    or uint16, read at its top 8 bits): the mean of :func:`luma_thumbnail`, the value the video
    processor's scene-cut detector reports for the same copy."""
    if copy.dtype == np.uint16:
        copy = (copy >> 8).astype(np.uint8)
    return float(luma_thumbnail(copy).mean())


WELL_EXPOSED_FROM = 0.30  #: mean luminance from which a frame counts as well exposed
WELL_EXPOSED_LIFT = 0.04  #: the most a frame of mean WELL_EXPOSED_FROM may be brightened by (mean luminance)
LEFT_ALONE_FROM = 0.45  #: mean luminance from which a frame is left as it is
THUMB_SIDE = 32  #: longest side of the thumbnail the output mean is predicted on
GRID = 16  #: strengths tried in one batched pass of :func:`ceiling_strength`


def ceiling(mean: float) -> float:
    """The brightest output (mean luminance) allowed for a frame of mean luminance ``mean`` (both in [0, 1]).

    ``mean + WELL_EXPOSED_LIFT`` at ``WELL_EXPOSED_FROM`` falling linearly to ``mean`` at
    ``LEFT_ALONE_FROM`` (well-exposed frames are lifted by at most 0.04, and from 0.45 not at all);
    below ``WELL_EXPOSED_FROM`` the same value as there (0.34): nondecreasing in ``mean``, so a
    brighter version of a scene is never capped below a darker one's output.

    >>> round(ceiling(0.1), 3), round(ceiling(0.3), 3), round(ceiling(0.375), 3), ceiling(0.6)
    (0.34, 0.34, 0.395, 0.6)
    """
    m = float(mean)
    if m >= LEFT_ALONE_FROM:
        return m
    m = max(m, WELL_EXPOSED_FROM)
    return m + WELL_EXPOSED_LIFT * (LEFT_ALONE_FROM - m) / (LEFT_ALONE_FROM - WELL_EXPOSED_FROM)


def _thumb_maps(maps, size: tuple[int, int]) -> np.ndarray:
    """``maps`` (``C x h x w``, NumPy or torch on any device) area-averaged to ``size = (h, w)``: float32 NumPy."""
    import cv2

    if not isinstance(maps, np.ndarray):
        import torch.nn.functional as F

        return F.adaptive_avg_pool2d(maps[None].float(), size)[0].cpu().numpy()
    h, w = size
    return np.stack([cv2.resize(np.ascontiguousarray(m, np.float32), (w, h), interpolation=cv2.INTER_AREA)
                     for m in maps])


def predicted_means(thumb: np.ndarray, maps: np.ndarray, iterations: int, strengths: np.ndarray) -> np.ndarray:
    """Mean luminance of ``thumb`` (float32 ``3 x h x w`` in [0, 1]) after the curves of ``maps`` (``3`` or
    ``3 * iterations`` channels, same ``h x w``, in [-1, 1]) at each of ``strengths`` (``K`` values):
    float64 ``K``, all strengths in one batched pass."""
    k = np.asarray(strengths, np.float32).reshape(-1, 1, 1, 1)
    x = np.broadcast_to(thumb, (k.shape[0], *thumb.shape)).copy()
    per_step = maps.shape[0] != 3
    for i in range(iterations):
        a = np.clip((maps[3 * i: 3 * i + 3] if per_step else maps) * k, -1.0, 1.0)
        x += a * x * (1.0 - x)
    luma = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    return luma.reshape(k.shape[0], -1).mean(1, dtype=np.float64)


def ceiling_strength(strength: float, copy: np.ndarray, maps, iterations: int, mean: Optional[float] = None,
                     rounds: int = 2) -> float:
    """The strength (<= ``strength``) a frame is enhanced with so its output stays under :func:`ceiling`.

    ``copy``: the frame's small copy (``h x w x 3`` uint8 RGB, the analysis copy); ``maps``: its curve
    maps (``3 x h' x w'`` or ``24 x h' x w'``, NumPy or torch); ``mean``: :func:`mean_luma` of
    ``copy`` if known. The output mean is predicted on a ``THUMB_SIDE``-px thumbnail of both (about
    0.1 ms): ``strength`` itself when it stays under the ceiling (every dark frame the curves lift to
    less than 0.34), else the largest strength that does, to ``strength / 17 ** rounds`` (``rounds``
    batched passes over ``GRID`` strengths each; about 0.6 ms with two at 1080p).
    """
    if strength <= 0.0:
        return 0.0
    m = mean_luma(copy) if mean is None else float(mean)
    if m >= LEFT_ALONE_FROM:
        return 0.0
    cap = ceiling(m)
    import cv2

    h, w = copy.shape[:2]
    k = min(1.0, THUMB_SIDE / max(h, w))
    size = (max(1, round(h * k)), max(1, round(w * k)))
    small = copy if size == (h, w) else cv2.resize(copy, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    scale = np.float32(1 / 65535 if copy.dtype == np.uint16 else 1 / 255)
    thumb = np.ascontiguousarray(small.transpose(2, 0, 1), np.float32) * scale
    tm = _thumb_maps(maps, size)
    if predicted_means(thumb, tm, iterations, np.array([strength]))[0] <= cap:
        return float(strength)
    lo, hi = 0.0, float(strength)
    for _ in range(rounds):  # each round: GRID strengths between the last bracket, in one pass
        grid = np.linspace(lo, hi, GRID + 2)[1:-1]
        under = predicted_means(thumb, tm, iterations, grid) <= cap
        i = int(under.sum())  # the means rise with the strength: the first i are under the ceiling
        lo, hi = (grid[i - 1] if i else lo), (grid[i] if i < GRID else hi)
    return float(lo)
