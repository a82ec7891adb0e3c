"""lowlight.realtime: enhance video files and live cameras frame by frame.

Public API::

    from lowlight.realtime import Pipeline, NumpySource, ListSink
    sink = ListSink()
    stats = Pipeline(NumpySource(rgb_frames), sink, lowlight.Enhancer(), smooth=0.8).run()
    sink.images            # enhanced uint8 H x W x 3 RGB arrays, in order
    stats.summary()        # fps, per-stage ms, latency percentiles, drops

    FrameProcessor(enhancer, smooth=0.8).process(rgb)     # one frame at a time, no threads
    TemporalSmoother, SceneCutDetector                     # the smoothing pieces

Video files (PyAV) and cameras/windows (OpenCV) are in
:mod:`~lowlight.realtime.video_source`, :mod:`~lowlight.realtime.video_sink`,
:mod:`~lowlight.realtime.camera_source` and :mod:`~lowlight.realtime.display_sink`;
the commands ``lowlight video`` and ``lowlight live`` wire them up.
"""

from lowlight.realtime.frame import Frame
from lowlight.realtime.pipeline import Pipeline
from lowlight.realtime.processor import FrameProcessor
from lowlight.realtime.sinks import CallbackSink, ListSink, Sink, StopPipeline, TeeSink
from lowlight.realtime.smoothing import SceneCutDetector, TemporalSmoother
from lowlight.realtime.sources import NumpySource, Source, StreamInfo
from lowlight.realtime.stats import PipelineStats

__all__ = ["CallbackSink", "Frame", "FrameProcessor", "ListSink", "NumpySource", "Pipeline", "PipelineStats",
           "SceneCutDetector", "Sink", "Source", "StopPipeline", "StreamInfo", "TeeSink", "TemporalSmoother"]
