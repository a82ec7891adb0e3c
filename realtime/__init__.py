"""lowlight.realtime: enhance video files and live cameras frame by frame.

Public API::

    from lowlight.realtime import Pipeline, NumpySource, ListSink
    sink = ListSink()
    stats = Pipeline(NumpySource(rgb_frames), sink, lowlight.Enhancer(), smooth=0.8).run()
    sink.images            # enhanced uint8 H x W x 3 RGB arrays, in order
    stats.summary()        # fps, per-stage ms, latency percentiles, drops

    FrameProcessor(enhancer, smooth=0.8).process(rgb)     # one frame at a time, no threads
    TemporalSmoother, SceneCutDetector                     # the smoothing pieces

Layout, one job per module:

* machinery: :mod:`~lowlight.realtime.pipeline` (threads, the abort signal),
  :mod:`~lowlight.realtime.queues`, :mod:`~lowlight.realtime.stats`, :mod:`~lowlight.realtime.frame`,
  :mod:`~lowlight.realtime.sources` / :mod:`~lowlight.realtime.sinks` (interfaces and in-memory ones);
* the per-frame algorithm: :mod:`~lowlight.realtime.processor` (one loop, estimate now or in the
  background via :mod:`~lowlight.realtime.async_estimate`), :mod:`~lowlight.realtime.smoothing`
  (temporal map smoothing, scene cuts, exposure stabiliser), :mod:`~lowlight.realtime.options`
  (:class:`ProcessingOptions`), :mod:`~lowlight.realtime.flicker` (the flicker metric);
* :mod:`~lowlight.realtime.transcode`: ``transcode()``, the library behind ``lowlight video`` and batch;
* :mod:`lowlight.realtime.media`: video files (PyAV), the codec table, cameras and URLs, the window;
* :mod:`lowlight.realtime.bench`: the harness behind ``lowlight bench``.

The estimation copy and the maps come from core (:class:`lowlight.estimation.Estimator`), curve
application from :func:`lowlight.kernels.enhance_frame`; the command line is :mod:`lowlight.cli`.
"""

from lowlight.optional import lazy_exports

# torch, OpenCV and PyAV load when the pipeline is first used, not with the package (so the command
# line, which imports media.codecs and the option objects, starts fast)
__getattr__ = lazy_exports(__name__, {
    "Frame": ".frame", "Pipeline": ".pipeline", "FrameProcessor": ".processor", "ProcessingOptions": ".options",
    "CallbackSink": ".sinks", "ListSink": ".sinks", "Sink": ".sinks", "StopPipeline": ".sinks", "TeeSink": ".sinks",
    "SceneCutDetector": ".smoothing", "TemporalSmoother": ".smoothing", "NumpySource": ".sources",
    "Source": ".sources", "StreamInfo": ".sources", "PipelineStats": ".stats"})

__all__ = ["CallbackSink", "Frame", "FrameProcessor", "ListSink", "NumpySource", "Pipeline", "PipelineStats",
           "ProcessingOptions", "SceneCutDetector", "Sink", "Source", "StopPipeline", "StreamInfo", "TeeSink", "TemporalSmoother"]
