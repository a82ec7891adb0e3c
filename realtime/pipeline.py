"""The threaded real-time pipeline: source -> process -> sink.

Three threads joined by bounded queues::

    capture/decode thread --q--> process thread (estimate, smooth, apply) --q--> encode/display thread
          capture thread --------- copied audio/subtitle packets (bounded q) ----------> output thread

* ``mode="file"``: lossless. Queues block when full (back-pressure), so every
  frame from the source reaches the sink, in order, with its timestamps.
* ``mode="live"``: bounded latency. Each queue holds one frame and a newer
  frame replaces an unread one (counted in ``stats.dropped``).

Packets of the streams a source copies (``StreamInfo.copied``: audio, subtitles) travel from the
capture thread to the output thread through a bounded queue of their own, stopped by the same
abort signal; the output stage writes them to the sink (:meth:`Sink.write_packet`) between frames
and while it waits for one, so a file whose audio runs ahead of its video cannot stall the run.

Any thread's exception stops all three and is re-raised by :meth:`Pipeline.run`
in the caller's thread; Ctrl-C (KeyboardInterrupt in the caller) stops them too.
``run`` returns only after every thread has ended, then closes the source and
the sink (``sink.close(ok)``: ``ok`` is False after an error, and after Ctrl-C
in file mode, so a file sink deletes its partial output; in live mode Ctrl-C is
the normal way to finish and the recording is kept).

Example:
    >>> import numpy as np, lowlight
    >>> from lowlight.realtime import Pipeline, NumpySource, ListSink
    >>> frames = [np.full((48, 64, 3), 20, np.uint8)] * 5
    >>> sink = ListSink()
    >>> stats = Pipeline(NumpySource(frames), sink, lowlight.Enhancer(), smooth=0.8).run()  # doctest: +SKIP
    >>> len(sink.frames), stats.frames_out                                                 # doctest: +SKIP
    (5, 5)
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

from lowlight.realtime.frame import Frame
from lowlight.realtime.options import ProcessingOptions
from lowlight.realtime.processor import FrameProcessor
from lowlight.realtime.queues import EMPTY, END, BlockingQueue, LatestQueue, Stopped
from lowlight.realtime.sinks import Sink, StopPipeline
from lowlight.realtime.sources import Source, StreamInfo
from lowlight.realtime.stats import PipelineStats

MODES = ("file", "live")
JOIN_TIMEOUT_S = 10.0  # how long run() waits for a thread stuck in a blocking call after a stop
PACKET_QUEUE_SIZE = 512  # copied packets in flight (a few seconds of audio)
PACKET_POLL_S = 0.02  # how often a waiting output stage writes copied packets


class Pipeline:
    """Run ``source`` through the enhancer into ``sink``.

    Args:
        source: a :class:`~lowlight.realtime.sources.Source`.
        sink: a :class:`~lowlight.realtime.sinks.Sink`.
        enhancer: a :class:`lowlight.Enhancer`; ``None`` passes frames through unchanged
            (unless ``processor`` is given).
        mode: ``"file"`` (lossless, back-pressure) or ``"live"`` (newest frame wins).
        options: the :class:`~lowlight.realtime.options.ProcessingOptions` of the frame processor
            (smoothing, estimation schedule, stabiliser, kernel, ``infer_threads``: torch intra-op
            threads of the process stage, per thread with torch's OpenMP backend, so the caller's
            setting is untouched); ``settings`` given by name override them
            (``Pipeline(src, sink, enh, smooth=0.8)``).
        queue_size: capacity of each file-mode queue.
        on_frame: ``on_frame(frame)`` called in the output thread after each frame is written.
        processor: a ready :class:`~lowlight.realtime.processor.FrameProcessor` (overrides
            ``enhancer`` and the smoothing options).
        output_in_caller: run the output stage (the sink) in the thread that calls :meth:`run`
            instead of a third thread: GUI toolkits want windows on the main thread.
        background_estimate: estimate curves in a background thread and apply the newest maps
            at once (default: True in live mode, False in file mode, where output must not
            depend on timing); see :mod:`lowlight.realtime.async_estimate`.

    Attributes:
        stats: :class:`~lowlight.realtime.stats.PipelineStats` of the run (live while running).
        processor: the frame processor, or ``None`` for pass-through.
        completed: True once the source ended and every frame reached the sink.
        interrupted_by: the ``KeyboardInterrupt`` (Ctrl-C, or :class:`lowlight.signals.Interrupted`
            for SIGTERM/SIGHUP) that ended the run, or ``None``.
    """

    def __init__(self, source: Source, sink: Sink, enhancer=None, mode: str = "file",
                 options: Optional[ProcessingOptions] = None, queue_size: int = 4,
                 on_frame: Optional[Callable[[Frame], None]] = None, processor: Optional[FrameProcessor] = None,
                 output_in_caller: bool = False, background_estimate: Optional[bool] = None, **settings) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.source, self.sink, self.mode = source, sink, mode
        self.stats = PipelineStats()
        if background_estimate is None:
            background_estimate = mode == "live"
        options = ProcessingOptions.of(processor.options if processor is not None else options, **settings)
        if processor is None and enhancer is not None:
            processor = FrameProcessor(enhancer, options, background=background_estimate)
        if processor is not None and processor.timer is None:
            processor.timer = self.stats.add_time
        self.processor = processor
        self.queue_size = int(queue_size)
        self.on_frame = on_frame
        self.output_in_caller = bool(output_in_caller)
        self.infer_threads = options.infer_threads
        self.info: Optional[StreamInfo] = None
        self.completed = False
        self._abort = threading.Event()  # makes every queue operation raise Stopped
        self._stop_requested = threading.Event()
        self._lock = threading.Lock()
        self._error: Optional[BaseException] = None
        self._threads: list[threading.Thread] = []
        self._ran = False
        self.interrupted_by: Optional[BaseException] = None

    # --- control ----------------------------------------------------------------------
    def stop(self) -> None:
        """End the run early, from any thread (a window's quit key, a signal handler)."""
        self._stop_requested.set()
        self._abort.set()
        self.source.stop()

    def _interrupt(self, exc: Optional[BaseException] = None) -> None:
        """Ctrl-C (or a signal, see :mod:`lowlight.signals`) in the caller: stop every stage."""
        if self.interrupted_by is None:
            self.interrupted_by = exc if exc is not None else KeyboardInterrupt()
        self.stats.interrupted = True
        self._stop_requested.set()
        self._abort.set()
        self.source.stop()

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            if self._error is None:
                self._error = exc
        self._abort.set()
        self.source.stop()

    def _guard(self, body: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                body()
            except Stopped:
                pass
            except StopPipeline:
                self.stop()
            except KeyboardInterrupt:
                if threading.current_thread() is threading.main_thread():
                    raise  # Ctrl-C while the caller's thread runs the output stage
                self._fail(KeyboardInterrupt())
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                self._fail(exc)
        return run

    # --- the three stages --------------------------------------------------------------
    def _capture(self, out: BlockingQueue, packets: Optional[BlockingQueue]) -> None:
        timed = not self.source.live
        frames = iter(self.source.frames())
        try:
            while not self._abort.is_set():
                t0 = time.perf_counter()
                frame = next(frames, None)
                if frame is None:
                    break
                if timed:
                    self.stats.add_time("decode", time.perf_counter() - t0)
                if frame.gap is None:  # a stand-in for a dropped stream is not a captured frame
                    self.stats.count_in()
                out.put(frame)
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()  # run the source generator's cleanup in this thread
            if packets is not None:
                packets.close()
        out.close()

    def _process(self, inp: BlockingQueue, out: BlockingQueue) -> None:
        proc = self.processor
        if self.infer_threads:
            from lowlight.kernels.threads import set_num_threads

            set_num_threads(int(self.infer_threads))  # the kernels' (and torch's, if imported) threads
        while True:
            frame = inp.get()
            if frame is END:
                break
            frame.original = frame.image
            if proc is not None and frame.gap is None:
                frame.image = proc.process(frame.image)
            out.put(frame)
        out.close()

    def _copy_packets(self, packets: Optional[BlockingQueue], until_end: bool = False) -> None:
        """Write the copied packets waiting in ``packets`` to the sink (all of them, to the queue's
        end, with ``until_end``)."""
        if packets is None:
            return
        while True:
            packet = packets.get(timeout=None if until_end else 0)
            if packet is END or packet is EMPTY:
                return
            self.sink.write_packet(packet)

    def _output(self, inp: BlockingQueue, packets: Optional[BlockingQueue]) -> None:
        try:
            while True:
                frame = inp.get(timeout=PACKET_POLL_S) if packets is not None else inp.get()
                if frame is EMPTY:
                    self._copy_packets(packets)
                    continue
                if frame is END:
                    self._copy_packets(packets, until_end=True)
                    self.completed = True
                    return
                self._copy_packets(packets)
                t0 = time.perf_counter()
                try:
                    self.sink.write(frame)
                except StopPipeline:  # the frame was consumed (e.g. shown), then the user quit
                    if frame.gap is None:
                        self.stats.count_out(frame.captured)
                    raise
                if frame.gap is None:
                    self.stats.add_time("encode", time.perf_counter() - t0)
                    self.stats.count_out(frame.captured)
                if self.on_frame is not None:
                    self.on_frame(frame)
        finally:
            exit_hook = getattr(self.sink, "thread_exit", None)
            if exit_hook is not None:
                exit_hook()

    # --- running -------------------------------------------------------------------------
    def _queue(self) -> BlockingQueue:
        if self.mode == "live":
            return LatestQueue(self._abort, self.stats.count_dropped)
        return BlockingQueue(self.queue_size, self._abort)

    def _join(self) -> bool:
        """Wait for the threads; returns True if Ctrl-C arrived meanwhile."""
        interrupted = False
        deadline = None
        while True:
            try:  # Ctrl-C can land on any line here, not only in join()
                alive = [t for t in self._threads if t.is_alive()]
                if not alive:
                    return interrupted
                if deadline is not None and time.monotonic() > deadline:
                    names = ", ".join(t.name for t in alive)
                    self._fail(RuntimeError(f"pipeline threads did not stop within {JOIN_TIMEOUT_S:.0f} s: {names}"))
                    return interrupted
                alive[0].join(0.1)
            except KeyboardInterrupt as exc:
                interrupted = True
                self._interrupt(exc)
            if (interrupted or self._abort.is_set()) and deadline is None:
                deadline = time.monotonic() + JOIN_TIMEOUT_S

    def run(self) -> PipelineStats:
        """Run to the end of the source (or until stopped); returns :attr:`stats`.

        Raises the first exception of any stage (after all threads ended and the
        sink was closed with ``ok=False``), or ``KeyboardInterrupt`` after Ctrl-C
        in file mode.
        """
        if self._ran:
            raise RuntimeError("a Pipeline runs once; create a new one")
        self._ran = True
        try:
            self.info = self.source.open()
        except BaseException:
            self.source.close()
            raise
        try:
            self.sink.open(self.info)
        except BaseException:
            self.source.close()
            raise
        if self.processor is not None and self.info.width and self.info.height:
            try:
                peek = getattr(self.source, "peek", None)
                self.processor.warmup(self.info.height, self.info.width, peek() if peek else None)
            except BaseException:
                self.source.close()
                self.sink.close(False)
                raise
        q_in, q_out = self._queue(), self._queue()
        packets = None
        if getattr(self.info, "copied", None):
            packets = BlockingQueue(PACKET_QUEUE_SIZE, self._abort)
            self.source.packet_sink = packets.put
        self._threads = [
            threading.Thread(target=self._guard(lambda: self._capture(q_in, packets)), name="lowlight-capture",
                             daemon=True),
            threading.Thread(target=self._guard(lambda: self._process(q_in, q_out)), name="lowlight-process",
                             daemon=True),
        ]
        output = self._guard(lambda: self._output(q_out, packets))
        if not self.output_in_caller:
            self._threads.append(threading.Thread(target=output, name="lowlight-output", daemon=True))
        interrupted = False
        self.stats.start()  # throughput is measured from the first frame, after opening and warm-up
        try:
            try:  # Ctrl-C while the threads start (a fast first frame) or while the caller runs the output
                for t in self._threads:
                    t.start()
                if self.output_in_caller:
                    output()
            except KeyboardInterrupt as exc:
                self._interrupt(exc)
                interrupted = True
            interrupted = self._join() or interrupted
        finally:
            self.stats.stop()
            errors: list[BaseException] = []
            closers = [self.source.close, lambda: self.sink.close(self._sink_ok(interrupted))]
            if self.processor is not None and hasattr(self.processor, "close"):
                closers.insert(0, self.processor.close)
            for closer in closers:
                try:
                    closer()
                except BaseException as exc:  # noqa: BLE001
                    errors.append(exc)
            if self._error is None and errors:
                self._error = errors[0]
        if self._error is not None:
            raise self._error
        if interrupted and self.mode == "file":
            raise self.interrupted_by or KeyboardInterrupt()
        return self.stats

    def _sink_ok(self, interrupted: bool) -> bool:
        if self._error is not None:
            return False
        if self.completed:
            return True
        return self.mode == "live" and (interrupted or self._stop_requested.is_set())
