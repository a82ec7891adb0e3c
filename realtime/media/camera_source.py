"""Cameras (and files or streams played like a camera) as a live pipeline source, via OpenCV.

:class:`CameraSource` opens ``0``/``1``... (camera index), ``/dev/videoN``, a
video file or a stream URL with ``cv2.VideoCapture``. It is a *live* source:
the pipeline keeps only the newest frame. A file is paced at its own frame rate,
as a camera would deliver it (frames are never read ahead of time, so a slow
pipeline drops frames just like with a camera).

Frames are converted BGR -> RGB here; ``pts`` is milliseconds since the first
frame (``time_base = 1/1000``), so a recording keeps the real capture timing.
A missing or busy camera raises :class:`~lowlight.errors.InputError` within
:data:`OPEN_TIMEOUT_S` seconds.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Optional, Union

import cv2
import numpy as np

from lowlight.errors import InputError
from lowlight.realtime.frame import Frame
from lowlight.realtime.sources import Source, StreamInfo

OPEN_TIMEOUT_S = 5.0
MS = Fraction(1, 1000)


def _quiet_opencv() -> None:
    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    except AttributeError:  # pragma: no cover - very old OpenCV
        pass


def parse_source(spec: Union[int, str]) -> tuple[Union[int, str], str]:
    """``(argument for cv2.VideoCapture, kind)``; kind is ``camera``, ``file`` or ``url``."""
    if isinstance(spec, int):
        return spec, "camera"
    text = str(spec).strip()
    if text.isdigit():
        return int(text), "camera"
    if text.startswith("/dev/video"):
        return text, "camera"
    if "://" in text:
        return text, "url"
    return text, "file"


def _call_with_timeout(fn, timeout: float):
    """Run ``fn()`` in a helper thread; ``(finished, result_or_exception)``."""
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001
            box["error"] = exc

    t = threading.Thread(target=target, name="lowlight-camera-open", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        return False, None
    if "error" in box:
        raise box["error"]
    return True, box.get("value")


class CameraSource(Source):
    """Live frames from ``cv2.VideoCapture``.

    Args:
        spec: camera index (``0``), device path (``/dev/video0``), file path or URL.
        max_frames: stop after this many frames (``None``: until the stream ends or stop()).
        width, height, fps: requested camera mode (cameras only; ignored if unsupported).
        pace: pace files at their frame rate (default True; False reads as fast as possible).
    """

    live = True

    def __init__(self, spec: Union[int, str] = 0, max_frames: Optional[int] = None, width: Optional[int] = None,
                 height: Optional[int] = None, fps: Optional[float] = None, pace: bool = True) -> None:
        super().__init__()
        self.spec = spec
        self.arg, self.kind = parse_source(spec)
        self.max_frames = max_frames
        self.request = (width, height, fps)
        self.pace = pace and self.kind == "file"
        self.cap = None
        self.rate = 30.0
        self._first: Optional[np.ndarray] = None
        self._first_time = 0.0
        self.read_failures = 0

    def describe(self) -> str:
        return f"camera {self.spec}" if self.kind == "camera" else str(self.spec)

    def open(self) -> StreamInfo:
        _quiet_opencv()
        if self.kind == "file":
            p = Path(self.arg)
            if not p.exists():
                raise InputError(f"{p}: no such file (for a camera give its number, e.g. --source 0)")
            if p.is_dir():
                raise InputError(f"{p}: is a folder, expected a video file or camera")
        if self.kind == "camera" and isinstance(self.arg, str) and not os.path.exists(self.arg):
            raise InputError(f"{self.describe()}: no such device")

        def opener():
            if self.kind == "camera":
                cap = (cv2.VideoCapture(self.arg, cv2.CAP_V4L2) if sys.platform.startswith("linux")
                       else cv2.VideoCapture(self.arg))
                w, h, fps = self.request
                if w:
                    cap.set(cv2.CAP_PROP_FRAME_WIDTH, w)
                if h:
                    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, h)
                if fps:
                    cap.set(cv2.CAP_PROP_FPS, fps)
            else:
                cap = cv2.VideoCapture(self.arg)
            if not cap.isOpened():
                cap.release()
                return None, None
            ok, img = cap.read()
            if not ok or img is None:
                cap.release()
                return None, "opened but delivered no frame"
            return cap, img

        done, result = _call_with_timeout(opener, OPEN_TIMEOUT_S)
        if not done:
            raise InputError(f"{self.describe()}: did not respond within {OPEN_TIMEOUT_S:.0f} s (busy or hung device)")
        cap, img = result
        if cap is None:
            why = img or ("missing or busy" if self.kind == "camera" else "not a readable video")
            raise InputError(f"{self.describe()}: cannot open ({why})")
        self.cap = cap
        self._first_time = time.monotonic()
        self._first = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.rate = float(fps) if fps and 1.0 <= fps <= 1000.0 else 30.0
        h, w = self._first.shape[:2]
        return StreamInfo(width=w, height=h, rate=Fraction(self.rate).limit_denominator(1001), time_base=MS,
                          name=self.describe())

    def peek(self) -> Optional[np.ndarray]:
        return self._first

    def frames(self) -> Iterator[Frame]:
        period = 1.0 / self.rate
        index = 0
        img, captured = self._first, self._first_time
        self._first = None
        now = time.monotonic()
        if self.pace:
            captured = now  # a file "captures" its first frame when playback starts
        elif now - captured > 2 * period:
            img, captured = self._read()  # the frame read by open() is stale by now: take a fresh one
        t0 = captured
        while img is not None:
            pts = round((captured - t0) * 1000)
            if self.pace:
                pts = round(index * period * 1000)
            yield Frame(img, index, pts=pts, time_base=MS, captured=captured)
            index += 1
            if self.stopped or (self.max_frames is not None and index >= self.max_frames):
                return
            if self.pace:
                delay = t0 + index * period - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    return
            img, captured = self._read()

    def _read(self) -> tuple[Optional[np.ndarray], float]:
        deadline = time.monotonic() + 2.0
        while not self.stopped:
            ok, bgr = self.cap.read()
            captured = time.monotonic()
            if ok and bgr is not None:
                if bgr.ndim == 2:
                    return cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB), captured
                return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), captured
            if self.kind == "file":
                return None, captured  # end of file
            self.read_failures += 1
            if captured > deadline:
                raise InputError(f"{self.describe()}: stopped delivering frames")
            time.sleep(0.01)
        return None, time.monotonic()

    def close(self) -> None:
        if self.cap is not None:
            self.cap.release()
            self.cap = None
