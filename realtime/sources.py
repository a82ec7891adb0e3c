"""Frame sources: the first stage of the pipeline.

A source is opened in the caller's thread (:meth:`Source.open`, which checks
the input and returns a :class:`StreamInfo`), then iterated in the pipeline's
capture thread (:meth:`Source.frames`), then closed in the caller's thread.
:meth:`Source.stop` may be called from any thread to end :meth:`frames` early.

This module has the in-memory source used by the Python API; files and
cameras live in :mod:`~lowlight.realtime.media.video_source` and
:mod:`~lowlight.realtime.media.camera_source`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Iterator, Optional

import numpy as np

from lowlight.frames import check_frame
from lowlight.realtime.frame import Frame


@dataclass
class StreamInfo:
    """What a sink needs to know about the stream before the first frame.

    ``width``/``height`` may be 0 when unknown until the first frame (cameras).
    Colour fields hold FFmpeg enum values (``AVCOL_*``), 0 or ``None`` = unspecified.
    """

    width: int = 0
    height: int = 0
    rate: Optional[Fraction] = None  #: nominal frames per second
    time_base: Optional[Fraction] = None  #: unit of the frames' ``pts``
    frames: Optional[int] = None  #: expected frame count when the container states it
    sample_aspect_ratio: Optional[Fraction] = None
    color_range: Optional[int] = None
    colorspace: Optional[int] = None
    color_primaries: Optional[int] = None
    color_trc: Optional[int] = None
    name: str = ""
    extra: dict = field(default_factory=dict)
    #: input streams (``av`` streams) whose packets are copied to the output without re-encoding;
    #: their packets reach the sink through :meth:`Sink.write_packet`
    copied: list = field(default_factory=list)


class Source:
    """Base class: override :meth:`open` and :meth:`frames`.

    Attributes:
        live: True for real-time sources (cameras, paced files).
    """

    live = False

    def __init__(self) -> None:
        self._stop = threading.Event()

    def open(self) -> StreamInfo:
        return StreamInfo()

    def frames(self) -> Iterator[Frame]:  # pragma: no cover - abstract
        raise NotImplementedError

    def peek(self) -> Optional[np.ndarray]:
        """The first frame's picture if already read by :meth:`open` (cameras), else ``None``."""
        return None

    def stop(self) -> None:
        """Ask :meth:`frames` to finish soon (thread-safe)."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def close(self) -> None:
        """Release resources; called once, after the capture thread ended."""


class NumpySource(Source):
    """Frames from an iterable of uint8 ``H x W x 3`` RGB arrays.

    Args:
        images: the arrays (a list, a generator...).
        rate: frames per second used for ``pts`` (``pts = index``, ``time_base = 1/rate``).
        pace: if True, yield frames no faster than ``rate`` (simulates a camera).

    Example:
        >>> import numpy as np
        >>> src = NumpySource([np.zeros((2, 2, 3), np.uint8)] * 3)
        >>> [f.pts for f in src.frames()]
        [0, 1, 2]
    """

    def __init__(self, images: Iterable[np.ndarray], rate: float = 30.0, pace: bool = False) -> None:
        super().__init__()
        self.images = images
        self.rate = Fraction(rate).limit_denominator(1001)
        self.pace = pace
        self.live = pace

    def open(self) -> StreamInfo:
        first = self.images[0] if isinstance(self.images, (list, tuple)) and self.images else None
        h, w = (first.shape[:2] if first is not None else (0, 0))
        return StreamInfo(width=int(w), height=int(h), rate=self.rate, time_base=1 / self.rate,
                          frames=len(self.images) if isinstance(self.images, (list, tuple)) else None,
                          name="numpy")

    def frames(self) -> Iterator[Frame]:
        t0 = time.monotonic()
        period = float(1 / self.rate)
        for i, img in enumerate(self.images):
            if self.stopped:
                return
            if self.pace:
                delay = t0 + i * period - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    return
            yield Frame(check_frame(img, f"frame {i}"), i, pts=i, time_base=1 / self.rate, duration=1)
