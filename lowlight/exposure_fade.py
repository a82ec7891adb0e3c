"""Exposure-adaptive strength: the curves fade out as a frame's own exposure approaches a good one (issue 11).

The bundled weights leave well-exposed *patches* mostly alone, but a frame that is well exposed overall
still gets some lift in its shadows and mid-tones (+0.04 to +0.07 mean brightness on photos of mean
0.38-0.42, with both bundled models). A camera that runs from dusk into daylight, or a video that is
only partly dark, then looks pale in its bright parts. So by default the strength of the curves is
scaled by :func:`exposure_fade` of the frame's mean luminance ``m`` (Rec. 601 luma of the estimation
copy, in [0, 1]; :func:`mean_luma`):

* ``m <= FULL_BELOW`` (0.15): 1, the curves as trained. Dark frames, what lowlight is for, are not
  touched by the fade (21 of the 25 reference photos in ``shared/reference/images`` have ``m`` under
  0.15, the darkest under 0.01);
* ``FULL_BELOW < m < OFF_ABOVE``: a smoothstep from 1 down to 0;
* ``m >= OFF_ABOVE`` (0.45): 0, the frame passes through unchanged.

With the bundled Zero-DCE++ on well-exposed scenes of mean 0.30-0.37 (noise-free, not trained on), the
mean shift is +0.03 at most with the fade against +0.06 to +0.09 without it; a frame darkened to 1/8
of its exposure (mean 0.16) keeps 99 % of its gain.

``--strength S`` on the command line (``EnhancerOptions(strength=S)``) is the user's override: the
fade is then off and ``S`` is used as given. ``Enhancer(exposure_fade=False)`` does the same from
Python. The video processor uses the mean its scene-cut detector already measures on the same copy,
so a still and the first frame of a video get the same factor; the mean of a stream changes slowly,
and so does the factor (no flicker of its own).

NumPy + OpenCV only (no torch).
"""

from __future__ import annotations

import numpy as np

FULL_BELOW = 0.15  #: mean luminance up to which the curves apply in full
OFF_ABOVE = 0.45  #: mean luminance from which the curves are off


def exposure_fade(mean: float, full_below: float = FULL_BELOW, off_above: float = OFF_ABOVE) -> float:
    """Strength factor in [0, 1] for a frame of mean luminance ``mean`` (in [0, 1]).

    >>> exposure_fade(0.1), round(exposure_fade(0.3), 6), exposure_fade(0.6)
    (1.0, 0.5, 0.0)
    """
    if not off_above > full_below:
        raise ValueError(f"off_above ({off_above}) must be above full_below ({full_below})")
    t = (float(mean) - full_below) / (off_above - full_below)
    if t <= 0.0:
        return 1.0
    if t >= 1.0:
        return 0.0
    return 1.0 - t * t * (3.0 - 2.0 * t)


def faded_strength(strength: float, mean: float, fade: bool = True) -> float:
    """The strength a frame of mean luminance ``mean`` is enhanced with: ``strength`` times
    :func:`exposure_fade` of ``mean`` when ``fade`` is on, else ``strength`` as given."""
    return strength * exposure_fade(mean) if fade else strength


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
