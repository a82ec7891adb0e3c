"""Temporal smoothing of curve maps, with scene-cut reset and exposure stabilisation.

Per-frame curve estimation makes video flicker when the maps jump from frame to
frame. :class:`TemporalSmoother` keeps an exponential moving average (EMA) of
the low-resolution maps::

    m_t = S * m_{t-1} + (1 - S) * new_t          (S = ``smooth`` in [0, 1))

and resets it (``m_t = new_t``) when :class:`SceneCutDetector` sees a cut, so
the output follows a new scene at once. The output for frame ``t`` uses maps up
to ``t``: no frame of latency is added.

Map smoothing alone does not remove flicker that is in the *input* (a camera's
auto-exposure hunting): with steady maps a 5 % brighter input gives a brighter
output, while per-frame estimation partly compensates. So the smoother also
stabilises exposure: it keeps an EMA ``T_t`` of the enhanced frame's mean
brightness ``y_t`` and returns an output gain ``G_t = T_t / y_t`` (clamped to
``[1/max_gain, max_gain]``) that the processor multiplies into the enhanced
frame. The gain acts on the output, not the input, because a 5 % gain on a
dark uint8 input (values around 10) is mostly lost to rounding, which the curve
then amplifies. A scene cut resets ``T_t``; ``stabilize_exposure=False`` turns
this off.

Everything here works on a small or subsampled copy of the frame (``h x w x 3``
uint8, a few hundred pixels wide) and the low-resolution maps, so it costs
well under a millisecond per frame for Zero-DCE++. The maps may be NumPy arrays (the CPU path,
no torch) or torch tensors (any device): the EMA is written with operators both support.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from lowlight.exposure_fade import luma_thumbnail  # the luminance thumbnail the exposure fade reads too

_EPS = 1.0 / 255.0


class SceneCutDetector:
    """Detect scene cuts cheaply from a small (or subsampled) copy of each frame.

    Two tests on a ``side``-pixel luminance thumbnail compared with the previous
    frame's:

    * structure: the mean absolute difference of the two thumbnails, each
      divided by its own mean (so a global exposure change scores 0), above
      ``threshold``;
    * brightness: the ratio of the two means above ``brightness_ratio`` (lights
      switched on or off).

    Args:
        threshold: structure score for a cut (0.25: a different scene scores
            0.3-1.2, sensor noise and small motion well under 0.1).
        brightness_ratio: mean-luminance ratio counted as a cut.
        side: thumbnail size (longest side, pixels).
    """

    def __init__(self, threshold: float = 0.25, brightness_ratio: float = 1.5, side: int = 32) -> None:
        self.threshold = float(threshold)
        self.brightness_ratio = float(brightness_ratio)
        self.side = int(side)
        self._prev: Optional[np.ndarray] = None
        self.last_score = 0.0

    def reset(self) -> None:
        self._prev = None

    def update(self, small: np.ndarray) -> tuple[bool, float]:
        """Feed the next frame's small copy; returns ``(is_cut, mean_luma)``.

        The first frame (or the first after :meth:`reset`) counts as a cut.
        ``mean_luma`` is the thumbnail's mean luminance in [0, 1].
        """
        thumb = luma_thumbnail(small, self.side)
        mean = float(thumb.mean())
        prev, self._prev = self._prev, thumb
        if prev is None or prev.shape != thumb.shape:
            self.last_score = float("inf")
            return True, mean
        pmean = float(prev.mean())
        a, b = max(mean, _EPS), max(pmean, _EPS)
        self.last_score = float(np.abs(thumb / a - prev / b).mean())
        cut = self.last_score > self.threshold or max(a, b) / min(a, b) > self.brightness_ratio
        return cut, mean


@dataclass
class Observation:
    """What :meth:`TemporalSmoother.observe` learned about a frame."""

    cut: bool  #: a scene cut (or the first frame): maps must be re-estimated now
    mean: float  #: mean luminance of the frame's small copy, in [0, 1]


class TemporalSmoother:
    """EMA of curve maps with scene-cut reset, plus exposure stabilisation.

    Args:
        smooth: ``S`` in [0, 1), the weight of the past (0 disables smoothing
            and stabilisation; 0.8-0.9 suits 25-60 fps video).
        stabilize_exposure: compute the output gain described in the module docstring.
        detector: a :class:`SceneCutDetector` (default settings if ``None``).
        max_gain: bound of the output gain (and its inverse).

    Use per frame: ``obs = s.observe(small)``; if a new estimate is made,
    ``s.update(maps, frames_since_last)``; apply ``s.maps``; then multiply the
    enhanced frame by ``s.output_gain(its_mean)``.

    Example:
        >>> import numpy as np
        >>> s = TemporalSmoother(0.5)
        >>> f = np.full((4, 4, 3), 40, np.uint8)
        >>> s.observe(f).cut, s.update(np.zeros((3, 2, 2), np.float32))[0, 0, 0].item()
        (True, 0.0)
        >>> s.observe(f).cut, s.update(np.ones((3, 2, 2), np.float32))[0, 0, 0].item()
        (False, 0.5)
    """

    def __init__(self, smooth: float = 0.0, stabilize_exposure: bool = True,
                 detector: Optional[SceneCutDetector] = None, max_gain: float = 1.25) -> None:
        if not 0.0 <= smooth < 1.0:
            raise ValueError(f"smooth must be in [0, 1), got {smooth}")
        self.smooth = float(smooth)
        self.stabilize_exposure = bool(stabilize_exposure)
        self.detector = detector or SceneCutDetector()
        self.max_gain = float(max_gain)
        self.maps = None  # NumPy array or torch tensor, float ``C x h x w``
        self._target: Optional[float] = None  # EMA of the output brightness
        self._pending_reset = True
        self.cuts = 0

    def reset(self) -> None:
        """Forget the past (the next frame starts fresh, like after a scene cut)."""
        self.maps = None
        self._target = None
        self._pending_reset = True
        self.detector.reset()

    def observe(self, small: np.ndarray) -> Observation:
        """Look at the next frame's small copy (uint8 ``h x w x 3``); call once per frame, before :meth:`update`."""
        cut, mean = self.detector.update(small)
        if cut:
            self._pending_reset = True
            self._target = None
            self.cuts += 1
        return Observation(cut, mean)

    def update(self, maps, frames: int = 1):
        """Blend a new estimate into the running maps and return them.

        Args:
            maps: float ``C x h x w`` alpha maps of the current frame (a NumPy array or a tensor;
                the running maps are of the same kind).
            frames: frames since the previous estimate (``--estimate-every``);
                the past's weight becomes ``S ** frames`` so the time constant
                in frames does not depend on how often curves are estimated.
        Returns:
            The smoothed maps (an array or tensor owned by the smoother; do not modify it).
        """
        if (self._pending_reset or self.maps is None or type(self.maps) is not type(maps)
                or self.maps.shape != maps.shape or self.smooth == 0.0):
            if self.smooth > 0.0:
                maps = maps.copy() if isinstance(maps, np.ndarray) else maps.detach().clone()
            self.maps = maps
            self._pending_reset = False
            return self.maps
        past = self.smooth ** max(1, int(frames))
        self.maps *= past
        self.maps += maps * (1.0 - past)
        return self.maps

    def output_gain(self, mean: float) -> float:
        """Exposure-stabilising gain for an enhanced frame of mean brightness ``mean`` (any unit, > 0).

        Call once per frame after the curves were applied. Returns 1.0 when
        stabilisation is off, when ``smooth`` is 0 and for the first frame after a cut.
        """
        s = self.smooth
        if not self.stabilize_exposure or s == 0.0:
            return 1.0
        mean = max(float(mean), 1e-6)
        if self._target is None:
            self._target = mean
            return 1.0
        self._target = s * self._target + (1.0 - s) * mean
        return min(self.max_gain, max(1.0 / self.max_gain, self._target / mean))
