"""Recordings that survive: a live recording cut into segments, each a complete file once closed.

:class:`SegmentedRecorder` is the sink behind ``lowlight live --record PATTERN [--segment SECONDS]``.
Each segment is a :class:`~lowlight.realtime.media.video_sink.VideoFileSink`: written under a
hidden temporary name and renamed into place (:mod:`lowlight.atomic`) the moment it is closed, so
a crash, a SIGKILL or a power cut loses at most the segment that was open; every closed segment is
a playable file with its own index and a key frame first.

* ``PATTERN`` is a file name that may hold :func:`time.strftime` fields (``cam-%Y%m%d-%H%M%S.mp4``),
  filled with the local wall-clock time at which the segment starts; fields may name folders too
  (``%Y-%m-%d/cam-%H%M%S.mp4``: one folder a day), which are created as needed (and removed again
  if the run fails before anything was recorded). With ``--segment`` and no ``%`` field, segments
  are numbered: ``out.mp4`` -> ``out-0000.mp4``, ``out-0001.mp4``... Two segments that would get
  the same name are told apart with ``-1``, ``-2``.
* Boundaries are decided on the frames' own timestamps (capture time for cameras): a frame belongs
  to the segment open when it arrives unless its time is at or past the segment's end, in which
  case it is the first frame of the next one. Every frame is written to exactly one segment, in
  order, so the segments' frame counts add up to the frames recorded. Each segment's timestamps
  start at 0.
* Copied audio/subtitle packets (sources that have them: ``StreamInfo.copied``) go to the segment
  their timestamp falls in, rebased like the video; packets that run ahead of the video wait for
  their segment.
* Stand-in frames of a reconnecting source (``Frame.gap``) are not recorded.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable, Optional

from lowlight.errors import OutputError
from lowlight.realtime.frame import Frame
from lowlight.realtime.sinks import Sink
from lowlight.realtime.sources import StreamInfo


def segment_name(pattern: str, index: int, when: float, numbered: bool) -> Path:
    """The file name of segment ``index`` (0-based) starting at wall-clock ``when``."""
    if "%" in pattern:
        return Path(time.strftime(pattern, time.localtime(when)))
    path = Path(pattern)
    if numbered:
        return path.with_name(f"{path.stem}-{index:04d}{path.suffix}")
    return path


class SegmentedRecorder(Sink):
    """Record frames into one file or a series of segment files.

    Args:
        pattern: output name, possibly with strftime fields (see the module docstring).
        segment: seconds per segment; ``None``: one file for the whole run.
        overwrite: replace existing files (otherwise the first name must be free, and later
            segments whose name is taken get a ``-N`` suffix instead of failing mid-run).
        input_path: the input file, which is never overwritten.
        make_sink: ``make_sink(path) -> Sink`` for one segment (default: H.264
            :class:`~lowlight.realtime.media.video_sink.VideoFileSink`, CRF 20, preset veryfast).
        clock: wall-clock function for the names (``time.time``).

    Attributes:
        closed: paths of the finished segments, in order.
        frame_counts: frames in each finished segment.
        frames_written: frames recorded in all (closed and open segment).
    """

    def __init__(self, pattern, segment: Optional[float] = None, overwrite: bool = False, input_path=None,
                 make_sink: Optional[Callable[[Path], Sink]] = None, clock: Callable[[], float] = time.time) -> None:
        self.pattern = str(pattern)
        if segment is not None and not segment > 0:
            raise OutputError(f"--segment {segment}: must be a positive number of seconds")
        self.segment = float(segment) if segment is not None else None
        self.numbered = self.segment is not None and "%" not in self.pattern
        self.overwrite = overwrite
        self.input_path = input_path
        self.make_sink = make_sink or self._video_sink
        self.clock = clock
        self.closed: list[Path] = []
        self.frame_counts: list[int] = []
        self.frames_written = 0
        self.current = None
        self.current_path: Optional[Path] = None
        self._index = 0
        self._count = 0
        self._start_t: Optional[float] = None  # stream time (s) of the open segment's first frame
        self._offset_pts: dict = {}  # per time base: pts subtracted in the open segment
        self._held: list = []  # copied packets for a later segment
        self._created: list[Path] = []  # folders this recorder made, outermost first
        self.info: Optional[StreamInfo] = None

    def _video_sink(self, path: Path) -> Sink:
        from lowlight.realtime.media.video_sink import VideoFileSink

        return VideoFileSink(path, codec="h264", crf=20, preset="veryfast", overwrite=self.overwrite,
                             input_path=self.input_path)

    # --- checks ---------------------------------------------------------------------------------
    def check_target(self) -> None:
        """Raise :class:`OutputError` if the first segment cannot be written (before the run)."""
        first = segment_name(self.pattern, 0, self.clock(), self.numbered)
        if not first.suffix:
            raise OutputError(f"{first}: give the recording a file extension (.mp4, .mkv, .mov) to pick the container")
        self._ensure_folder(first)
        sink = self.make_sink(first)
        check = getattr(sink, "check_target", None)
        if check is not None:
            check()

    # --- Sink API ------------------------------------------------------------------------------
    def open(self, info: StreamInfo) -> None:
        self.info = info  # segments are opened at their first frame

    def _next_path(self) -> Path:
        path = segment_name(self.pattern, self._index, self.clock(), self.numbered)
        if self._index > 0 and not self.overwrite:
            base, n = path, 1
            while path.exists() or path in self.closed:
                path = base.with_name(f"{base.stem}-{n}{base.suffix}")
                n += 1
        return path

    def _ensure_folder(self, path: Path) -> None:
        """Create ``path``'s folder (and its parents) if missing; :class:`OutputError` if it cannot be."""
        folder = path.parent if str(path.parent) else Path(".")
        if folder.is_dir():
            return
        missing = []
        probe = folder
        while not probe.exists() and probe != probe.parent:
            missing.append(probe)
            probe = probe.parent
        if not probe.is_dir():
            raise OutputError(f"{probe}: is not a folder, so {folder} cannot be created for the recording")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{folder}: cannot create the recording's folder ({exc.strerror or exc})") from None
        self._created.extend(reversed(missing))

    def _remove_created_folders(self) -> None:
        """After a failed run that recorded nothing: remove the (empty) folders this recorder made."""
        for folder in reversed(self._created):
            try:
                folder.rmdir()
            except OSError:
                pass
        self._created = []

    def _open_segment(self, frame: Frame) -> None:
        path = self._next_path()
        self._ensure_folder(path)
        sink = self.make_sink(path)
        if self._index > 0:
            check = getattr(sink, "check_target", None)
            if check is not None:
                check()
        sink.open(self.info)
        self.current, self.current_path = sink, path
        self._count = 0
        self._start_t = _seconds(frame)
        self._offset_pts = {}
        if frame.pts is not None and frame.time_base is not None:
            self._offset_pts[frame.time_base] = frame.pts
        held, self._held = self._held, []
        for packet in held:
            self.write_packet(packet)

    def _close_segment(self, ok: bool = True) -> None:
        sink, self.current = self.current, None
        if sink is None:
            return
        sink.close(ok)
        if ok:
            self.closed.append(self.current_path)
            self.frame_counts.append(self._count)
        self._index += 1

    def write(self, frame: Frame) -> None:
        if frame.gap is not None:
            return
        t = _seconds(frame)
        if self.current is not None and self.segment is not None and t - self._start_t >= self.segment:
            self._close_segment(True)
        if self.current is None:
            self._open_segment(frame)
        pts = frame.pts
        if pts is not None and frame.time_base is not None:
            pts = pts - self._offset_pts.setdefault(frame.time_base, pts)
        self.current.write(dataclasses.replace(frame, pts=pts))
        self._count += 1
        self.frames_written += 1

    def write_packet(self, packet) -> None:
        t = None
        if packet.pts is not None and packet.time_base is not None:
            t = float(packet.pts * packet.time_base)
        if self.current is None or (t is not None and self.segment is not None
                                    and t >= self._start_t + self.segment):
            self._held.append(packet)
            return
        if t is not None:
            shift = round(self._start_t / packet.time_base) if self._start_t else 0
            packet.pts = max(0, packet.pts - shift)
            if packet.dts is not None:
                packet.dts = max(0, packet.dts - shift)
        self.current.write_packet(packet)

    def close(self, ok: bool) -> None:
        self._held = []
        try:
            self._close_segment(ok)
        finally:
            if not self.closed:
                self._remove_created_folders()

    # --- reading ------------------------------------------------------------------------------
    def describe(self) -> str:
        """``"N frames to PATH"`` or ``"N frames in K segments (FIRST ... LAST)"``."""
        paths = list(self.closed)
        if len(paths) <= 1:
            where = str(paths[0]) if paths else self.pattern
            return f"{self.frames_written} frames to {where}"
        return f"{self.frames_written} frames in {len(paths)} segments ({paths[0]} ... {paths[-1]})"


def _seconds(frame: Frame) -> float:
    """The frame's stream time in seconds (its pts; the capture clock when it has none)."""
    t = frame.time
    return float(t) if t is not None else float(frame.captured)


__all__ = ["SegmentedRecorder", "segment_name"]
