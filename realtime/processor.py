"""The per-frame work of the pipeline: estimate curves, smooth them, apply them.

:class:`FrameProcessor` is single-threaded state (the smoother) and runs in the
pipeline's process thread; it can also be used on its own::

    proc = FrameProcessor(lowlight.Enhancer(), smooth=0.8)
    for rgb in frames:                      # uint8 H x W x 3
        out = proc.process(rgb)             # uint8 H x W x 3, brighter

One loop (:meth:`FrameProcessor.process`) serves both schedules: in the caller's thread (file mode:
estimate now on a cut, on the first frame and every ``estimate_every`` frames) and in the background
(live mode: apply the newest maps at once and hand estimation to
:class:`~lowlight.realtime.async_estimate.BackgroundEstimator`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

from lowlight.exposure_fade import ceiling_strength
from lowlight.frames import check_frame
from lowlight.kernels import enhance_frame
from lowlight.kernels.denoise import NoiseModel, denoise_enhance_frame, estimate_noise
from lowlight.kernels.denoise_options import AUTO_AMOUNT, resolve_denoise
from lowlight.kernels.yuv import PlanarYUV
from lowlight.realtime import planar
from lowlight.realtime.options import ProcessingOptions
from lowlight.realtime.smoothing import SceneCutDetector, TemporalSmoother

if TYPE_CHECKING:  # pragma: no cover - annotations only (maps are NumPy on the CPU path, which never imports torch)
    import torch

# Output gains closer to 1 than this are not applied (saves a full-resolution pass).
_GAIN_TOLERANCE = 0.002
# Denoising: the noise is re-measured every NOISE_EVERY frames and blended into the running
# estimate with this weight (the first frame after a cut is measured at once, alone).
NOISE_EVERY = 8
NOISE_BLEND = 0.3


class FrameProcessor:
    """Estimate -> smooth -> apply for a stream of uint8 RGB frames.

    Args:
        enhancer: a :class:`lowlight.Enhancer` (its ``estimator``, ``strength`` and ``exposure_fade``
            are used).
        options: the :class:`~lowlight.realtime.options.ProcessingOptions` (smoothing, estimation
            schedule, exposure stabiliser, kernel, threads); ``settings`` given by name override
            them (``FrameProcessor(enh, smooth=0.8)``).
        timer: optional ``timer(stage, seconds)`` callback (``PipelineStats.add_time``).
        background: estimate in a background thread and apply the newest maps at once
            (live mode, see :mod:`lowlight.realtime.async_estimate`); call :meth:`close` when done.

    Attributes:
        options: the processing options in force.
        enabled: when False, frames pass through unchanged (live view toggle); so do they at
            ``strength`` 0, with no estimate made (``lowlight video --strength 0``: the pipeline floor).
        strength: the user's curve strength (the live view's slider changes it).
        exposure_fade: cap it by the exposure ceiling (:func:`lowlight.exposure_fade.ceiling_strength`
            of each frame's copy, its mean luminance and the maps it is enhanced with); from the enhancer.
        applied_strength: the strength the last frame was enhanced with.
        estimates: number of curve estimations made so far.
        denoise: the denoising amount in force (0 = off; see :class:`lowlight.Enhancer`): the first
            frame of a stream (and after a cut) is denoised spatially exactly like a still, later
            frames also temporally, with the filter's state kept here.
        noise: the running :class:`~lowlight.kernels.denoise.NoiseModel` (``None`` before a frame).
    """

    def __init__(self, enhancer, options: Optional[ProcessingOptions] = None,
                 timer: Optional[Callable[[str, float], None]] = None, background: bool = False,
                 **settings) -> None:
        self.options = opts = ProcessingOptions.of(options, **settings)
        self.estimator = enhancer.estimator
        self.strength = float(enhancer.strength)
        self.exposure_fade = bool(getattr(enhancer, "exposure_fade", False))
        self.applied_strength = self.strength  # of the last frame: strength capped by the exposure ceiling
        self.smoother = TemporalSmoother(opts.smooth, opts.stabilize_exposure, SceneCutDetector(opts.cut_threshold))
        self.timer = timer
        self.enabled = True
        self.estimates = 0
        self._since = 0  # frames since the last estimate (or, in the background, the last submit)
        self._restart = False
        self.background = bool(background)
        self._worker = None
        self._epoch = 0  # bumped at every reset and cut so stale background results are dropped
        self._frame = 0  # frames processed
        self._updated_at = 0  # frame of the newest estimate in the smoothed maps
        self.denoise = (resolve_denoise(opts.denoise) if opts.denoise is not None
                        else float(getattr(enhancer, "denoise", AUTO_AMOUNT)))
        self.noise: Optional[NoiseModel] = None
        self._noise_age = 0
        self._dn_state = None  # the temporal filter's state (uint16 3 x H x W), None after a reset
        self._dn_spare = None  # the previous state's buffer, reused for the next one

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
        maps = self.estimator.maps(image)
        self._apply(image, maps)
        if self._denoising():  # loads the denoise kernel and sizes its buffers, state untouched
            denoise_enhance_frame(image, maps, NoiseModel(4.0, 0.0), self.estimator.iterations, self.strength,
                                  self.denoise, kernel=self.options.kernel)
        if first is not None and self.background and self.enabled:
            check_frame(first, "first frame")
            _, _, small = self._observe(first)
            self._take(self.estimator.maps(first, small), 1, 0)
            self._background()  # start the worker thread now

    def process(self, image: np.ndarray) -> np.ndarray:
        """Enhance one frame.

        Args:
            image: ``H x W x 3`` uint8 RGB (not modified), or a
                :class:`~lowlight.kernels.yuv.PlanarYUV` 4:2:0 frame (the file fast path).
        Returns:
            A new frame of the same kind (``image`` itself when disabled or at strength 0).
        """
        planes = isinstance(image, PlanarYUV)  # planar 4:2:0 (realtime/planar.py): no full-size RGB frame
        if not planes:
            check_frame(image)
        if not self.enabled:
            return image
        if self.strength <= 0.0:  # identity curves and nothing to denoise: pass the frame on untouched
            self._restart = True  # (no estimate is made; a later strength > 0 starts afresh)
            return image
        if planes and not self._planar_ok():
            return image.replace_from_rgb(self.process(image.to_rgb()))
        if self._restart:
            self._restart = False
            self.smoother.reset()
            self._since = 0
            self._epoch += 1
            self._reset_denoise()
        self._frame += 1
        clock = time.perf_counter
        t0 = clock()
        obs, copy, small = self._observe(image)
        if obs.cut:
            self._epoch += 1  # background results of frames before the cut are stale
            self._reset_denoise()
        self._since += 1
        t_estimate = 0.0
        every = self.options.estimate_every
        if self.smoother.maps is None or (not self.background and (obs.cut or self._since >= every)):
            t1 = clock()
            fresh = self.estimator.maps(image, small)
            t_estimate = clock() - t1
            self._take(fresh, self._since, self._frame)
            self._since = 0
        elif self.background:
            self._exchange(image, small, obs.cut)
        t2 = clock()
        self.applied_strength = (ceiling_strength(self.strength, copy, self.smoother.maps, self.estimator.iterations,
                                                  obs.mean) if self.exposure_fade else self.strength)
        out = self._enhance(image, self.smoother.maps)
        self._stabilize(out)
        if self.timer is not None:
            self.timer("estimate", t_estimate)
            self.timer("smooth", t2 - t0 - t_estimate)
            self.timer("apply", clock() - t2)
        return out

    def _observe(self, image: np.ndarray) -> tuple:
        """Feed the scene-cut detector; returns ``(observation, copy, small)``: ``copy`` what it read (and
        the exposure ceiling reads), ``small`` the estimation copy when that is what it read (see
        :meth:`lowlight.estimation.Estimator.analysis_copy`), else ``None``."""
        if isinstance(image, PlanarYUV):
            copy = small = planar.small_copy(image, self.estimator.small_size(*image.shape))
        else:
            copy, small = self.estimator.analysis_copy(image)
        return self.smoother.observe(copy), copy, small

    def _take(self, maps: torch.Tensor, frames: int, at: int) -> None:
        """Blend an estimate made for frame ``at`` (``frames`` after the previous one) into the maps."""
        self.estimates += 1
        self.smoother.update(maps, max(1, frames))
        self._updated_at = at

    def _exchange(self, image: np.ndarray, small: Optional[np.ndarray], cut: bool) -> None:
        """Background schedule: take the worker's finished estimate (unless stale), and hand it this
        frame on a cut or every ``estimate_every`` frames when it is free."""
        worker = self._background()
        done = worker.take()
        if done is not None and done[1] == self._epoch:
            maps, _, frame = done
            self._take(maps, frame - self._updated_at, frame)
        if (cut or self._since >= self.options.estimate_every) and not (worker.busy and not cut):
            worker.submit(small, image, self._epoch, self._frame, force=cut)
            self._since = 0

    def _apply(self, image: np.ndarray, maps: torch.Tensor) -> np.ndarray:
        return enhance_frame(image, maps, self.estimator.iterations, self.applied_strength, kernel=self.options.kernel)

    def _denoising(self) -> bool:
        return self.denoise > 0.0 and self.applied_strength > 0.0  # strength 0: no gain, nothing to denoise

    def _reset_denoise(self) -> None:
        """Forget the temporal filter and the noise estimate (scene cut, restart)."""
        self.noise = None
        self._dn_state = None

    @staticmethod
    def _noise_of(image) -> NoiseModel:
        """:func:`estimate_noise` of ``image``; of a planar frame, from the RGB rows it samples."""
        return estimate_noise(planar.noise_rows(image) if isinstance(image, PlanarYUV) else image)

    def _measure_noise(self, image: np.ndarray) -> NoiseModel:
        """The running noise estimate: measured on the first frame alone (as a still would be), then
        re-measured every :data:`NOISE_EVERY` frames and blended in."""
        if self.noise is None:
            self.noise = self._noise_of(image)
            self._noise_age = 0
        else:
            self._noise_age += 1
            if self._noise_age >= NOISE_EVERY:
                self.noise = self.noise.blend(self._noise_of(image), NOISE_BLEND)
                self._noise_age = 0
        return self.noise

    def _planar_ok(self) -> bool:
        """Whether a planar frame can be enhanced as it is (:func:`lowlight.realtime.planar.supports`, file mode)."""
        return not self.background and planar.supports(self.estimator, self.options.kernel)

    def _enhance_planar(self, image: PlanarYUV, maps) -> PlanarYUV:
        noise = self._measure_noise(image) if self._denoising() else None
        if noise is None or noise.clean:  # not denoised: the temporal chain restarts at the next one
            self._dn_state = noise = None
        out, state = planar.enhance(image, maps, self.estimator.iterations, self.applied_strength, noise, self.denoise,
                                    self._dn_state, self._dn_spare)
        if noise is not None:
            self._dn_spare, self._dn_state = self._dn_state, state
        return out

    def _enhance(self, image: np.ndarray, maps: torch.Tensor) -> np.ndarray:
        """Denoise (when on and the frame is noisy) and apply the curves, in one fused pass."""
        if isinstance(image, PlanarYUV):
            return self._enhance_planar(image, maps)
        if not self._denoising():  # (the exposure fade at 0, say): the temporal chain restarts at the next one
            self._dn_state = None
            return self._apply(image, maps)
        noise = self._measure_noise(image)
        if noise.clean:
            self._dn_state = None
            return self._apply(image, maps)
        state = self._dn_state
        if state is not None and tuple(state.shape) != (3, image.shape[0], image.shape[1]):
            state = None
        out, self._dn_state = denoise_enhance_frame(
            image, maps, noise, self.estimator.iterations, self.applied_strength, self.denoise, state=state,
            state_out=self._dn_spare, kernel=self.options.kernel)
        self._dn_spare = state
        return out

    def _background(self):
        from lowlight.realtime.async_estimate import BackgroundEstimator

        if self._worker is None:
            timer = (lambda _stage, sec: self.timer("estimate_bg", sec)) if self.timer else None
            self._worker = BackgroundEstimator(self.estimator, self.options.infer_threads or 1, timer)
        return self._worker

    def _stabilize(self, out: np.ndarray) -> None:
        if isinstance(out, PlanarYUV) and self.smoother.stabilize_exposure and self.smoother.smooth > 0.0:
            planar.stabilize(out, self.smoother.output_gain, _GAIN_TOLERANCE)
        elif self.smoother.stabilize_exposure and self.smoother.smooth > 0.0:
            import cv2

            step = max(1, min(out.shape[:2]) // 64)
            gain = self.smoother.output_gain(float(out[::step, ::step].mean()))
            if abs(gain - 1.0) > _GAIN_TOLERANCE:
                cv2.convertScaleAbs(out, dst=out, alpha=gain)
