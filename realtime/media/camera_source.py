"""Cameras (and files or streams played like a camera) as a live pipeline source, via OpenCV.

:class:`CameraSource` opens ``0``/``1``... (camera index), ``/dev/videoN``, a
video file or a stream URL with ``cv2.VideoCapture``. It is a *live* source:
the pipeline keeps only the newest frame. A file is paced at its own frame rate,
as a camera would deliver it (frames are never read ahead of time, so a slow
pipeline drops frames just like with a camera).

Frames are converted BGR -> RGB here; ``pts`` is milliseconds since the first
frame (``time_base = 1/1000``), so a recording keeps the real capture timing.
A missing or busy camera raises :class:`~lowlight.errors.InputError` within
:data:`OPEN_TIMEOUT_S` seconds; so does a file that is not a video (checked with PyAV first, so
no FFmpeg log line reaches the terminal).

Reconnecting (``reconnect=True``, the default for URLs: RTSP, HTTP/MJPEG, HLS): when the stream
stops delivering frames the source keeps the pipeline running. A helper thread reopens the stream
with growing pauses (:data:`BACKOFF_S`) while :meth:`CameraSource.frames` yields stand-in frames
(``Frame.gap`` = ``"reconnecting ..."``, a few per second) so that windows, browser viewers and
virtual cameras stay alive and say so; once the stream is back, frames resume and the gap is
recorded in :attr:`CameraSource.gaps`. Without it (the default for cameras) a stream or camera
that stops delivering frames ends the run with one line (``stopped delivering frames``).
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
READ_TIMEOUT_S = 3.0  #: a network stream that sends nothing for this long counts as dropped
STALL_S = 2.0  #: a camera that delivers no frame for this long has stopped
BACKOFF_S = (0.25, 0.5, 1.0, 2.0)  #: pauses between reconnection attempts (the last one repeats)
GAP_FRAME_RATE = 10.0  #: stand-in frames per second while reconnecting
AUDIO_LEAD_S = 0.2  #: a file's audio is handed on this far ahead of its video
MS = Fraction(1, 1000)
FOURCCS = {"YUYV": "YUYV", "YUY2": "YUYV", "UYVY": "UYVY", "NV12": "NV12", "I420": "I420", "YU12": "I420"}


def _quiet_opencv() -> None:
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # FFmpeg's own log lines (read at first use)
    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    except AttributeError:  # pragma: no cover - very old OpenCV
        pass


def check_video_file(path: Path) -> None:
    """Raise :class:`InputError` unless ``path`` is a video PyAV can decode a frame of (one line,
    no FFmpeg log output): a text file, a still image or a file without video gets a clear message."""
    import av

    try:
        with av.open(str(path)) as c:
            fmt = c.format.name
            if not c.streams.video:
                raise InputError(f"{path}: has no video stream (not a video file)")
            decoded = next(iter(c.decode(c.streams.video[0])), None)
            if decoded is None:
                raise InputError(f"{path}: not a readable video (no picture in it decodes)")
            if fmt in ("image2", "image2pipe") or fmt.endswith("_pipe"):
                raise InputError(f"{path}: is a still image, not a video; use 'lowlight image' for pictures")
    except InputError:
        raise
    except (av.error.FFmpegError, ValueError, OSError, UnicodeDecodeError) as exc:
        from lowlight.errors import first_line

        raise InputError(f"{path}: not a readable video file ({first_line(exc)})") from None


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
        copy_audio: for a file played in real time, hand its audio packets to the pipeline
            (``StreamInfo.copied``) in step with the video, so a recording keeps the sound.
            Cameras and URLs read through OpenCV carry no audio.
        reconnect: keep running when the stream drops and reopen it (default: True for URLs,
            False for cameras and files); see the module docstring.

    Attributes:
        gaps: ``(start, seconds)`` of every outage survived by reconnecting (``start`` in
            :func:`time.monotonic` seconds; ``seconds`` from the last frame before to the first after).
        status: ``"live"``, ``"reconnecting (attempt N)"`` or ``"ended"`` (for status displays).
        fourcc: the capture's pixel format as OpenCV reports it (``"YUYV"``, ``"MJPG"``...), or ``""``.
    """

    live = True

    def __init__(self, spec: Union[int, str] = 0, max_frames: Optional[int] = None, width: Optional[int] = None,
                 height: Optional[int] = None, fps: Optional[float] = None, pace: bool = True,
                 reconnect: Optional[bool] = None, copy_audio: bool = False) -> None:
        super().__init__()
        self.spec = spec
        self.arg, self.kind = parse_source(spec)
        self.max_frames = max_frames
        self.request = (width, height, fps)
        self.pace = pace and self.kind == "file"
        self.reconnect = (self.kind == "url") if reconnect is None else bool(reconnect) and self.kind != "file"
        self.cap = None
        self.rate = 30.0
        self.size = (0, 0)
        self.fourcc = ""
        self._first: Optional[np.ndarray] = None
        self._first_time = 0.0
        self.read_failures = 0
        self.gaps: list[tuple[float, float]] = []
        self.status = "live"
        self.reconnects = 0
        self.copy_audio = bool(copy_audio) and self.kind == "file" and self.pace
        self.packet_sink = None  # set by the pipeline when StreamInfo.copied is not empty
        self._audio = None  # (container, packet iterator, held packet) of a file's audio

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
            check_video_file(p)
        if self.kind == "camera" and isinstance(self.arg, str) and not os.path.exists(self.arg):
            raise InputError(f"{self.describe()}: no such device")
        cap, img = self._open_capture()
        if cap is None:
            why = img or ("missing or busy" if self.kind == "camera" else "not a readable video")
            raise InputError(f"{self.describe()}: cannot open ({why})")
        self.cap = cap
        self._first_time = time.monotonic()
        self._first = _to_rgb(img)
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.rate = float(fps) if fps and 1.0 <= fps <= 1000.0 else 30.0
        self.fourcc = _fourcc(cap)
        h, w = self._first.shape[:2]
        self.size = (w, h)
        copied = self._open_audio() if self.copy_audio else []
        return StreamInfo(width=w, height=h, rate=Fraction(self.rate).limit_denominator(1001), time_base=MS,
                          name=self.describe(), extra={"fourcc": self.fourcc}, copied=copied)

    def _open_audio(self) -> list:
        """Open the file's audio streams with PyAV for copying; ``[]`` when it has none."""
        import av

        try:
            container = av.open(str(self.arg))
        except (av.error.FFmpegError, OSError, ValueError):
            return []
        streams = [st for st in container.streams if st.type == "audio"]
        if not streams:
            container.close()
            return []
        self._audio = [container, container.demux(*streams), None]
        return streams

    def _send_audio(self, until: Optional[float]) -> None:
        """Hand the pipeline the audio packets up to ``until`` seconds (``None``: all that are left)."""
        if self._audio is None or self.packet_sink is None:
            return
        state = self._audio
        while True:
            packet = state[2]
            if packet is None:
                try:
                    packet = next(state[1])
                except StopIteration:
                    return
                except Exception:  # noqa: BLE001 - a damaged audio tail ends the audio, not the run
                    return
                if packet.size == 0 or packet.pts is None:
                    continue  # flush packets and packets without a time are not copied
            t = float(packet.pts * packet.time_base)
            if until is not None and t > until:
                state[2] = packet  # for a later frame
                return
            state[2] = None
            self.packet_sink(packet)

    def _open_capture(self, timeout: float = OPEN_TIMEOUT_S):
        """``(cap, first BGR image)``, ``(None, reason or None)`` when it cannot open; raises
        :class:`InputError` when the device does not answer within ``timeout`` seconds."""

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
            elif self.kind == "url":
                ms = int(1000 * READ_TIMEOUT_S)
                cap = cv2.VideoCapture(self.arg, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms,
                                                                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])
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

        done, result = _call_with_timeout(opener, timeout)
        if not done:
            raise InputError(f"{self.describe()}: did not respond within {timeout:.0f} s (busy or hung device)")
        return result

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
        last = img
        try:
            while img is not None:
                pts = round((captured - t0) * 1000)
                if self.pace:
                    pts = round(index * period * 1000)
                yield Frame(img, index, pts=pts, time_base=MS, captured=captured)
                last, last_time = img, captured
                self._send_audio(pts / 1000 + AUDIO_LEAD_S)
                index += 1
                if self.stopped or (self.max_frames is not None and index >= self.max_frames):
                    self._send_audio(pts / 1000 + period)  # the sound of the last frame
                    return
                if self.pace:
                    delay = t0 + index * period - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        return
                img, captured = self._read()
                if img is None and self.kind == "file" and not self.stopped:
                    self._send_audio(None)  # end of the file: the rest of the sound
                if img is None and self.reconnect and not self.stopped:
                    yield from self._reconnect(last, index)
                    if self._first is None:
                        return  # stopped while reconnecting
                    img, captured = self._first, self._first_time
                    self._first = None
                    self.gaps.append((last_time, captured - last_time))
        finally:
            self.status = "ended"

    def _reconnect(self, last: np.ndarray, index: int) -> Iterator[Frame]:
        """Reopen the stream in a helper thread, yielding stand-in frames until it is back (the new
        capture's first frame is left in ``_first``) or the source is stopped (``_first`` is None)."""
        if self.cap is not None:
            self.cap.release()
            self.cap = None
        result: dict = {}
        done = threading.Event()

        def attempts() -> None:
            attempt = 0
            while not self.stopped:
                attempt += 1
                self.status = f"reconnecting (attempt {attempt})"
                try:
                    cap, img = self._open_capture()
                except InputError:
                    cap, img = None, None
                if cap is not None:
                    if self.stopped:
                        cap.release()
                        break
                    result["cap"], result["img"], result["time"] = cap, img, time.monotonic()
                    break
                if self._stop.wait(BACKOFF_S[min(attempt, len(BACKOFF_S)) - 1]):
                    break
            done.set()

        helper = threading.Thread(target=attempts, name="lowlight-reconnect", daemon=True)
        helper.start()
        dark = (last // 4).astype(np.uint8)
        started = time.monotonic()
        while not done.wait(1.0 / GAP_FRAME_RATE):
            if self.stopped:
                self._first = None
                return
            yield Frame(dark, index, captured=time.monotonic(),
                        gap=f"{self.status}, stream lost {time.monotonic() - started:.0f} s ago")
        helper.join()
        if "cap" in result:
            self.cap = result["cap"]
            self._first, self._first_time = _to_rgb(result["img"]), result["time"]
            self.reconnects += 1
            self.status = "live"
            if self._first.shape[:2] != last.shape[:2]:
                h, w = last.shape[:2]
                self._first = cv2.resize(self._first, (w, h), interpolation=cv2.INTER_AREA)
        else:
            self._first = None

    def _read(self) -> tuple[Optional[np.ndarray], float]:
        """The next frame (RGB) and its capture time; ``(None, t)`` at the end of a file, when
        stopped, or (with ``reconnect``) when the stream dropped."""
        deadline = time.monotonic() + STALL_S
        while not self.stopped:
            ok, bgr = self.cap.read()
            captured = time.monotonic()
            if ok and bgr is not None:
                img = _to_rgb(bgr)
                if self.size != (0, 0) and img.shape[1::-1] != self.size:
                    img = cv2.resize(img, self.size, interpolation=cv2.INTER_AREA)  # a stream changed size
                return img, captured
            if self.kind == "file":
                return None, captured  # end of file
            self.read_failures += 1
            if self.kind == "url" and self.reconnect:
                return None, captured  # a network stream that fails a read has ended or timed out
            if captured > deadline:
                if self.reconnect:
                    return None, captured
                what = "camera unplugged or hung?" if self.kind == "camera" else "stream ended or dropped"
                raise InputError(f"{self.describe()}: stopped delivering frames ({what}; "
                                 f"--reconnect keeps waiting for it)")
            time.sleep(0.01)
        return None, time.monotonic()

    def gap_summary(self) -> str:
        """``"2 gaps: 3.1 s, 4.0 s (7.1 s in all)"``, or ``""`` when the stream never dropped."""
        if not self.gaps:
            return ""
        each = ", ".join(f"{s:.1f} s" for _, s in self.gaps)
        total = sum(s for _, s in self.gaps)
        return f"{len(self.gaps)} gap{'s' if len(self.gaps) > 1 else ''} (reconnected): {each} ({total:.1f} s in all)"

    def close(self) -> None:
        if self.cap is not None:
            self.cap.release()
            self.cap = None
        if self._audio is not None:
            self._audio[0].close()
            self._audio = None


def _to_rgb(bgr: np.ndarray) -> np.ndarray:
    if bgr.ndim == 2:
        return cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _fourcc(cap) -> str:
    """The capture's pixel format (``"YUYV"``...), ``""`` when OpenCV does not say."""
    try:
        code = int(cap.get(cv2.CAP_PROP_FOURCC))
    except (cv2.error, ValueError, OverflowError):
        return ""
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00 ")
    return text if text.isprintable() else ""
