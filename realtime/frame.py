"""The unit that travels through the real-time pipeline.

A :class:`Frame` is an RGB picture plus the bookkeeping needed to keep order,
timestamps and latency: its index in the stream, its presentation timestamp
(``pts``, in units of ``time_base`` seconds) and the monotonic clock reading
taken when it was captured or decoded (``captured``, seconds from
:func:`time.monotonic`), so latency is measured from capture to output.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Optional

import numpy as np


@dataclass
class Frame:
    """One video frame.

    Attributes:
        image: ``H x W x 3`` uint8 RGB array (the enhanced picture once processed).
        index: 0-based position in the source stream (decode order = display order).
        pts: presentation timestamp in ``time_base`` units, or ``None`` if unknown.
        time_base: seconds per ``pts`` unit (e.g. ``Fraction(1, 12800)``).
        captured: :func:`time.monotonic` seconds when the frame entered the pipeline.
        duration: frame duration in ``time_base`` units, if known.
        rotation: display rotation in degrees (from the container's display matrix), 0 if none.
        original: the unprocessed ``H x W x 3`` uint8 RGB picture, set by the processor
            (used by side-by-side display views); ``None`` before processing.
        gap: set on the stand-in frames a live source yields while its stream is down (a note such
            as ``"reconnecting (attempt 2)"``): they keep windows, viewers and virtual cameras alive,
            are not processed, recorded or counted, and sinks show the note instead of a picture.
    """

    image: np.ndarray
    index: int
    pts: Optional[int] = None
    time_base: Optional[Fraction] = None
    captured: float = field(default_factory=time.monotonic)
    duration: Optional[int] = None
    rotation: int = 0
    original: Optional[np.ndarray] = None
    gap: Optional[str] = None

    @property
    def time(self) -> Optional[float]:
        """Presentation time in seconds, or ``None`` without ``pts``/``time_base``."""
        if self.pts is None or self.time_base is None:
            return None
        return float(self.pts * self.time_base)

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)`` of the picture."""
        return int(self.image.shape[0]), int(self.image.shape[1])

