"""Frame sinks: the last stage of the pipeline.

A sink is opened in the caller's thread with the source's
:class:`~lowlight.realtime.sources.StreamInfo`, written to from the pipeline's
output thread (:meth:`Sink.write`, one :class:`Frame` at a time, in order) and
closed in the caller's thread with ``ok=True`` after a complete run or
``ok=False`` after an error or interruption (a file sink then deletes its
partial output). Raising :class:`StopPipeline` from ``write`` ends the run
cleanly (a window's quit key). Packets of the streams the source copies
(``StreamInfo.copied``) arrive through :meth:`Sink.write_packet`, in demux order,
from the same thread.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

from lowlight.realtime.frame import Frame
from lowlight.realtime.sources import StreamInfo


class StopPipeline(Exception):
    """Raised by a source or sink to end the pipeline normally (not an error)."""


class Sink:
    """Base class: override :meth:`write` (and :meth:`open`/:meth:`close` as needed)."""

    def open(self, info: StreamInfo) -> None:
        self.info = info

    def write(self, frame: Frame) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def write_packet(self, packet) -> None:
        """An undecoded packet of one of ``info.copied`` (default: dropped)."""

    def thread_exit(self) -> None:
        """Called in the output thread when it ends, after the last ``write`` (GUI clean-up)."""

    def close(self, ok: bool) -> None:
        """Finish (``ok``) or abandon (not ``ok``) the output."""


class ListSink(Sink):
    """Collect the frames in :attr:`frames` (a list of :class:`Frame`, ``image`` = enhanced uint8 RGB).

    Args:
        keep_original: keep ``frame.original`` (the input picture) too; dropped by default to save memory.
    """

    def __init__(self, keep_original: bool = False) -> None:
        self.frames: list[Frame] = []
        self.keep_original = keep_original
        self.closed: Optional[bool] = None

    def write(self, frame: Frame) -> None:
        if not self.keep_original:
            frame.original = None
        self.frames.append(frame)

    @property
    def images(self) -> list:
        """The enhanced ``H x W x 3`` uint8 arrays, in order."""
        return [f.image for f in self.frames]

    def close(self, ok: bool) -> None:
        self.closed = ok


class CallbackSink(Sink):
    """Call ``callback(frame)`` for every frame (in the pipeline's output thread)."""

    def __init__(self, callback: Callable[[Frame], None]) -> None:
        self.callback = callback

    def write(self, frame: Frame) -> None:
        self.callback(frame)


class TeeSink(Sink):
    """Write every frame to several sinks in turn (e.g. a window and a recording)."""

    def __init__(self, sinks: Sequence[Sink]) -> None:
        self.sinks = list(sinks)
        self._opened: list[Sink] = []

    def open(self, info: StreamInfo) -> None:
        for s in self.sinks:
            s.open(info)
            self._opened.append(s)

    def write(self, frame: Frame) -> None:
        for s in self.sinks:
            s.write(frame)

    def write_packet(self, packet) -> None:
        for s in self.sinks:
            s.write_packet(packet)

    def thread_exit(self) -> None:
        for s in self.sinks:
            s.thread_exit()

    def close(self, ok: bool) -> None:
        error = None
        for s in reversed(self._opened):
            try:
                s.close(ok)
            except BaseException as exc:  # close them all, report the first failure
                error = error or exc
        if error is not None:
            raise error
