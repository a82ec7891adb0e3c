"""Pipeline statistics: throughput, per-stage time, latency and dropped frames.

Stages report with :meth:`PipelineStats.add_time` from their own threads;
everything is guarded by one lock (a few microseconds per frame).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Optional

import numpy as np

# Stage names in pipeline order.
STAGES = ("decode", "estimate", "smooth", "apply", "encode")


def percentile(values, q: float) -> float:
    """``q``-th percentile (0-100) of ``values`` in the same units, NaN when empty."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else float("nan")


class PipelineStats:
    """Counters and timings of one pipeline run.

    Attributes:
        frames_in: frames taken from the source.
        frames_out: frames handed to the sink.
        dropped: frames discarded because a newer one arrived (live mode only).
        stage_seconds: total seconds spent per stage (see :data:`STAGES`).
        stage_frames: frames counted per stage.
        latencies: seconds from capture to sink-done, per output frame.
        started / finished: :func:`time.monotonic` at run start and end.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.frames_in = 0
        self.frames_out = 0
        self.dropped = 0
        self.stage_seconds = {s: 0.0 for s in STAGES}
        self.stage_frames = {s: 0 for s in STAGES}
        self.latencies: list[float] = []
        self._recent: deque = deque(maxlen=120)  # output times for the rolling fps
        self.started: Optional[float] = None
        self.finished: Optional[float] = None
        self.interrupted = False

    # --- recording (thread-safe) -------------------------------------------------
    def start(self) -> None:
        self.started = time.monotonic()

    def stop(self) -> None:
        self.finished = time.monotonic()

    def add_time(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds
            self.stage_frames[stage] = self.stage_frames.get(stage, 0) + 1

    def count_in(self) -> None:
        with self._lock:
            self.frames_in += 1

    def count_dropped(self, n: int = 1) -> None:
        with self._lock:
            self.dropped += n

    def count_out(self, captured: float) -> None:
        now = time.monotonic()
        with self._lock:
            self.frames_out += 1
            self.latencies.append(now - captured)
            self._recent.append(now)

    # --- reading ------------------------------------------------------------------
    @property
    def elapsed(self) -> float:
        """Seconds from start to finish (or to now while running)."""
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    @property
    def fps(self) -> float:
        """Average output frames per second over the run."""
        e = self.elapsed
        return self.frames_out / e if e > 0 else 0.0

    def recent_fps(self) -> float:
        """Output fps over the last ~120 frames (for on-screen display)."""
        with self._lock:
            r = list(self._recent)
        if len(r) < 2 or r[-1] <= r[0]:
            return 0.0
        return (len(r) - 1) / (r[-1] - r[0])

    def stage_ms(self) -> dict[str, float]:
        """Mean milliseconds per frame for each stage that ran."""
        with self._lock:
            return {s: 1000.0 * self.stage_seconds[s] / self.stage_frames[s]
                    for s in self.stage_seconds if self.stage_frames.get(s)}

    def latency_ms(self) -> dict[str, float]:
        """Capture-to-output latency percentiles ``p50``/``p95``/``p99`` in milliseconds."""
        with self._lock:
            lat = list(self.latencies)
        return {f"p{q}": 1000.0 * percentile(lat, q) for q in (50, 95, 99)}

    def as_dict(self) -> dict:
        return {"frames_in": self.frames_in, "frames_out": self.frames_out, "dropped": self.dropped,
                "seconds": self.elapsed, "fps": self.fps, "stage_ms": self.stage_ms(),
                "latency_ms": self.latency_ms()}

    def summary(self) -> str:
        """One line: frames, duration, average fps, per-stage ms, latency, drops."""
        stages = " ".join(f"{k} {v:.1f}" for k, v in self.stage_ms().items())
        lat = self.latency_ms()
        text = (f"{self.frames_out} frames in {self.elapsed:.1f} s ({self.fps:.1f} fps); "
                f"ms/frame: {stages or '-'}; latency ms p50 {lat['p50']:.0f} p95 {lat['p95']:.0f} "
                f"p99 {lat['p99']:.0f}")
        if self.dropped:
            text += f"; dropped {self.dropped}"
        return text
