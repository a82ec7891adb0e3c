"""The settings of the per-frame processing, in one object that travels from the CLI to the processor."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Optional, Union

from lowlight.kernels import KERNELS
from lowlight.kernels.denoise_options import resolve_denoise


@dataclass(frozen=True)
class ProcessingOptions:
    """How frames are processed (:class:`~lowlight.realtime.processor.FrameProcessor`).

    Attributes:
        smooth: temporal smoothing ``S`` in [0, 1) of the curve maps (see
            :mod:`lowlight.realtime.smoothing`); 0 = independent curves per frame.
        estimate_every: estimate curves on every k-th frame only, reusing the (smoothed) maps in
            between; a scene cut always triggers a fresh estimate.
        stabilize_exposure: with ``smooth > 0``, cancel frame-to-frame exposure jitter.
        kernel: curve application, ``"fused"`` (default) or ``"reference"`` (plain torch), see
            :func:`lowlight.kernels.enhance_frame`. The curve-estimation backend is the enhancer's.
        cut_threshold: :class:`~lowlight.realtime.smoothing.SceneCutDetector` structure threshold.
        infer_threads: torch threads of the thread that estimates (``None``: torch's default in the
            pipeline's process thread, 1 for the background estimator of live mode).
        denoise: ``"auto"``, ``"off"`` or a strength in [0, 1] (see :class:`lowlight.Enhancer`);
            ``None`` (default): the enhancer's setting (``auto`` unless it was built otherwise).
            Video adds a motion-adaptive temporal filter to the stills' spatial one
            (:mod:`lowlight.kernels.denoise`); it resets at scene cuts and adds no latency.
    """

    smooth: float = 0.0
    estimate_every: int = 1
    stabilize_exposure: bool = True
    kernel: str = "fused"
    cut_threshold: float = 0.25
    infer_threads: Optional[int] = None
    denoise: Optional[Union[str, float]] = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.smooth < 1.0:
            raise ValueError(f"smooth must be in [0, 1), got {self.smooth}")
        if int(self.estimate_every) != self.estimate_every or self.estimate_every < 1:
            raise ValueError(f"estimate_every must be a positive integer, got {self.estimate_every}")
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {self.kernel!r}")
        if self.denoise is not None:
            resolve_denoise(self.denoise)  # raises ValueError naming the value

    @classmethod
    def of(cls, options: Optional["ProcessingOptions"] = None, **settings) -> "ProcessingOptions":
        """``options`` with ``settings`` (field names) replaced; the defaults when ``options`` is ``None``.

        >>> ProcessingOptions.of(smooth=0.8).smooth
        0.8
        """
        unknown = set(settings) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown processing option(s): {', '.join(sorted(unknown))}")
        return replace(options or cls(), **settings)
