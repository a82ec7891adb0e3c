"""Media adapters of the pipeline: where frames come from and where they go.

* :mod:`~lowlight.realtime.media.video_source` / :mod:`~lowlight.realtime.media.video_sink`: video
  files through PyAV (decode with copied audio/subtitle packets; encode and mux atomically);
* :mod:`~lowlight.realtime.media.codecs`: the one table of encoders and containers;
* :mod:`~lowlight.realtime.media.camera_source`: cameras, files played in real time and stream URLs
  (OpenCV), reconnecting when a stream drops;
* :mod:`~lowlight.realtime.media.display_sink`: an OpenCV window;
* :mod:`~lowlight.realtime.media.web_view`: the browser view (MJPEG over HTTP, page in ``web/``);
* :mod:`~lowlight.realtime.media.virtual_camera`: a virtual webcam (pyvirtualcam);
* :mod:`~lowlight.realtime.media.segments`: recordings cut into segments that survive a crash.

The in-memory source and sinks of the Python API are in :mod:`lowlight.realtime.sources` and
:mod:`lowlight.realtime.sinks`. Each module imports its heavy library (PyAV, OpenCV, pyvirtualcam) itself, so
importing this package costs nothing.
"""
