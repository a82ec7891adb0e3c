"""The per-frame work of the pipeline: estimate curves, smooth them, apply them.

:class:`FrameProcessor` is single-threaded state (the smoother) and runs in the
pipeline's process thread; it can also be used on its own::

    proc = FrameProcessor(lowlight.Enhancer(), smooth=0.8)
    for rgb in frames:                      # uint8 H x W x 3
        out = proc.process(rgb)             # uint8 H x W x 3, brighter
"""

from __future__ import annotations

import time
from typing import Callable, Optional

import cv2
import numpy as np

from lowlight.realtime.apply import KERNELS, apply_maps
from lowlight.realtime.estimate import ANALYSIS_SIDE, CurveEstimator, probe
from lowlight.realtime.frame import check_image
from lowlight.realtime.smoothing import SceneCutDetector, TemporalSmoother

# Output gains closer to 1 than this are not applied (saves a full-resolution pass).
_GAIN_TOLERANCE = 0.002


class FrameProcessor:
    """Estimate -> smooth -> apply for a stream of uint8 RGB frames.

    Args:
        enhancer: a :class:`lowlight.Enhancer` (its ``model``, ``device`` and ``strength`` are used).
        smooth: temporal smoothing ``S`` in [0, 1) (see :mod:`lowlight.realtime.smoothing`); 0 = per-frame.
        estimate_every: estimate curves on every k-th frame only, reusing the (smoothed)
            maps in between; a scene cut always triggers a fresh estimate.
        stabilize_exposure: with ``smooth > 0``, cancel frame-to-frame exposure jitter.
        kernel: curve application, ``"fused"`` (default) or ``"reference"`` (plain torch), see
            :mod:`lowlight.realtime.apply`. The curve-estimation backend is the enhancer's.
        cut_threshold: :class:`SceneCutDetector` structure threshold.
        timer: optional ``timer(stage, seconds)`` callback (``PipelineStats.add_time``).
        background: estimate in a background thread and apply the newest maps at once
            (live mode, see :mod:`lowlight.realtime.async_estimate`); call :meth:`close` when done.
        infer_threads: torch threads of the background estimator (``None``: 1, leaving the other cores
            to decoding, applying and display).

    Attributes:
        enabled: when False, frames pass through unchanged (live view toggle).
        estimates: number of curve estimations made so far.
    """

    def __init__(self, enhancer, smooth: float = 0.0, estimate_every: int = 1, stabilize_exposure: bool = True,
                 kernel: str = "fused", cut_threshold: float = 0.25,
                 timer: Optional[Callable[[str, float], None]] = None, background: bool = False,
                 infer_threads: Optional[int] = None) -> None:
        if int(estimate_every) != estimate_every or estimate_every < 1:
            raise ValueError(f"estimate_every must be a positive integer, got {estimate_every}")
        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
        self.estimator = CurveEstimator(enhancer.model, getattr(enhancer, "device", None),
                                        getattr(enhancer, "backend", None))
        self.strength = float(enhancer.strength)
        self.estimate_every = int(estimate_every)
        self.kernel = kernel
        self.smoother = TemporalSmoother(smooth, stabilize_exposure, SceneCutDetector(cut_threshold))
        self.timer = timer
        self.enabled = True
        self.estimates = 0
        self._since = 0  # frames since the last estimate
        self._restart = False
        self.background = bool(background)
        self.infer_threads = infer_threads
        self._worker = None
        self._epoch = 0  # bumped at every reset so stale background results are dropped
        self._frame = 0  # frames processed
        self._updated_at = 0  # frame of the newest estimate in the smoothed maps

    def close(self) -> None:
        """Stop the background estimator, if any (safe to call twice)."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def toggle(self) -> bool:
        """Flip :attr:`enabled`; returns the new value. Safe to call from another thread (a window's
        key handler): re-enabling restarts smoothing at the next frame processed."""
        self.enabled = not self.enabled
        if self.enabled:
            self._restart = True
        return self.enabled

    def warmup(self, height: int, width: int, first: Optional[np.ndarray] = None) -> None:
        """Pay first-call set-up costs before the stream starts (not timed).

        Runs estimation and application once on a black ``height x width`` frame,
        leaving the state untouched. With background estimation and the stream's
        ``first`` frame known (a camera's), also estimates curves for it, so the
        first live frames are shown at once instead of waiting for an estimate.
        """
        if height <= 0 or width <= 0:
            return
        image = np.zeros((height, width, 3), np.uint8)
        small = self.estimator.small(image)
        maps = self.estimator.estimate(small, image)
        apply_maps(image, maps, self.estimator.iterations, self.strength, kernel=self.kernel)
        if first is not None and self.background and self.enabled:
            check_image(first, "first frame")
            _, small = self._observe(first)
            self.smoother.update(self.estimator.estimate(self._small(first, small), first), 1)
            self.estimates += 1
            self._background()  # start the worker thread now

    def _process_background(self, image: np.ndarray) -> np.ndarray:
        """Live path: apply the newest maps now; estimation runs in :class:`BackgroundEstimator`."""
        clock = time.perf_counter
        t0 = clock()
        obs, small = self._observe(image)
        t_estimate = 0.0
        if obs.cut:
            self._epoch += 1  # results of frames before the cut are stale
        if self.smoother.maps is None:  # nothing to show yet: estimate here
            t1 = clock()
            fresh = self.estimator.estimate(self._small(image, small), image)
            t_estimate = clock() - t1
            self.estimates += 1
            self.smoother.update(fresh, 1)
            self._updated_at, self._since = self._frame, 0
        else:
            worker = self._background()
            done = worker.take()
            if done is not None and done[1] == self._epoch:
                maps, _, frame = done
                self.estimates += 1
                self.smoother.update(maps, max(1, frame - self._updated_at))
                self._updated_at = frame
            self._since += 1
            if (obs.cut or self._since >= self.estimate_every) and not (worker.busy and not obs.cut):
                worker.submit(self._small(image, small), image, self._epoch, self._frame, force=obs.cut)
                self._since = 0
        t2 = clock()
        out = apply_maps(image, self.smoother.maps, self.estimator.iterations, self.strength, kernel=self.kernel)
        self._stabilize(out)
        self._report(t2 - t0 - t_estimate, t_estimate, clock() - t2)
        return out

    def _observe(self, image: np.ndarray) -> tuple:
        """Feed the scene-cut detector; returns ``(observation, small)``.

        The detector looks at the estimation copy (:meth:`CurveEstimator.small`, an area average,
        1.2 ms at 1080p) when that copy is small, and ``small`` is then handed back so a frame
        whose curves are estimated does not make it twice; with a large estimation size it looks
        at a strided :func:`probe` and ``small`` is ``None``.
        """
        h, w = self.estimator.small_size(image.shape[0], image.shape[1])
        if max(h, w) > 2 * ANALYSIS_SIDE:
            return self.smoother.observe(probe(image)), None
        small = self.estimator.small(image)
        return self.smoother.observe(small), small

    def _small(self, image: np.ndarray, small: Optional[np.ndarray]) -> np.ndarray:
        """The estimation copy of ``image``: ``small`` from :meth:`_observe`, or made now."""
        return small if small is not None else self.estimator.small(image)

    def _background(self):
        from lowlight.realtime.async_estimate import BackgroundEstimator

        if self._worker is None:
            timer = (lambda _stage, sec: self.timer("estimate_bg", sec)) if self.timer else None
            self._worker = BackgroundEstimator(self.estimator, self.infer_threads or 1, timer)
        return self._worker

    def _stabilize(self, out: np.ndarray) -> None:
        if self.smoother.stabilize_exposure and self.smoother.smooth > 0.0:
            step = max(1, min(out.shape[:2]) // 64)
            gain = self.smoother.output_gain(float(out[::step, ::step].mean()))
            if abs(gain - 1.0) > _GAIN_TOLERANCE:
                cv2.convertScaleAbs(out, dst=out, alpha=gain)

    def _report(self, smooth: float, estimate: float, apply: float) -> None:
        if self.timer is not None:
            self.timer("estimate", estimate)
            self.timer("smooth", smooth)
            self.timer("apply", apply)

    def process(self, image: np.ndarray) -> np.ndarray:
        """Enhance one frame.

        Args:
            image: ``H x W x 3`` uint8 RGB (not modified).
        Returns:
            A new ``H x W x 3`` uint8 RGB array (``image`` itself when disabled).
        """
        check_image(image)
        if not self.enabled:
            return image
        if self._restart:
            self._restart = False
            self.smoother.reset()
            self._since = 0
            self._epoch += 1
        self._frame += 1
        if self.background:
            return self._process_background(image)
        clock = time.perf_counter
        t0 = clock()
        obs, small = self._observe(image)
        self._since += 1
        t1 = clock()
        t_smooth, t_estimate = t1 - t0, 0.0
        if obs.cut or self.smoother.maps is None or self._since >= self.estimate_every:
            fresh = self.estimator.estimate(self._small(image, small), image)
            self.estimates += 1
            t2 = clock()
            self.smoother.update(fresh, self._since)
            self._since = 0
            t3 = clock()
            t_estimate, t_smooth = t2 - t1, t_smooth + (t3 - t2)
            t1 = t3
        out = apply_maps(image, self.smoother.maps, self.estimator.iterations, self.strength, kernel=self.kernel)
        self._stabilize(out)
        self._report(t_smooth, t_estimate, clock() - t1)
        return out
