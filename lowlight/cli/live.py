"""``lowlight live``: enhance a camera (or a file/stream played in real time) on screen."""

from __future__ import annotations

import argparse
import sys

from lowlight.cli.options import (add_model_options, add_processing_options, load_enhancer, positive_int,
                                  processing_options)


def register(sub) -> None:
    p = sub.add_parser(
        "live", help="enhance a camera live in a window",
        description="Capture from a camera (or play a video file or stream at its own frame rate), enhance each "
                    "frame and show it. Latency is kept low: when processing falls behind, stale frames are "
                    "dropped (counted in the summary). Keys: e = enhancement on/off, v = view (enhanced / side "
                    "by side / split), q or Esc = quit. Ctrl-C also ends the run.")
    p.add_argument("--source", default="0", metavar="SRC",
                   help="camera number (default 0), /dev/videoN, a video file or a stream URL")
    p.add_argument("--no-display", action="store_true", help="do not open a window (e.g. only --record)")
    p.add_argument("--record", metavar="OUT", help="also write the enhanced frames to this video file (H.264)")
    p.add_argument("--overwrite", action="store_true", help="replace the --record file if it exists")
    p.add_argument("--max-frames", type=positive_int, metavar="N", help="stop after N captured frames")
    p.add_argument("--width", type=positive_int, help="requested camera width")
    p.add_argument("--height", type=positive_int, help="requested camera height")
    p.add_argument("--fps", type=float, help="requested camera frame rate")
    add_processing_options(p, default_smooth=0.8, every_note=": curves are estimated in the background as often "
                                                            "as the CPU allows and the newest are applied at once")
    add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lowlight.errors import BackendError
    from lowlight.realtime.media.camera_source import CameraSource
    from lowlight.realtime.media.display_sink import DisplaySink, display_available
    from lowlight.realtime.media.video_sink import VideoFileSink
    from lowlight.realtime.pipeline import Pipeline
    from lowlight.realtime.sinks import CallbackSink, Sink, TeeSink

    if not args.no_display and not display_available():
        raise BackendError("no display to show a window (DISPLAY is not set); use --no-display")
    source = CameraSource(args.source, max_frames=args.max_frames, width=args.width, height=args.height,
                          fps=args.fps)
    sinks: list[Sink] = []
    display = None
    if not args.no_display:
        display = DisplaySink()
        sinks.append(display)
    recorder = None
    if args.record:
        recorder = VideoFileSink(args.record, codec="h264", crf=20, preset="veryfast", overwrite=args.overwrite,
                                 input_path=args.source if source.kind == "file" else None)
        recorder.check_target()
        sinks.append(recorder)
    # no window and no recording: frames are processed and discarded (benchmarking)
    sink = sinks[0] if len(sinks) == 1 else TeeSink(sinks) if sinks else CallbackSink(lambda frame: None)
    enhancer = load_enhancer(args)
    pipeline = Pipeline(source, sink, enhancer, mode="live", options=processing_options(args),
                        output_in_caller=display is not None)
    if display is not None:
        display.on_toggle = pipeline.processor.toggle
        display.fps = pipeline.stats.recent_fps
    stats = pipeline.run()
    info = pipeline.info
    size = f"{info.width}x{info.height}@{float(info.rate or 0):.0f}" if info else ""
    rec = f", recorded {recorder.frames_written} frames to {args.record}" if recorder else ""
    print(f"lowlight live: {source.describe()} {size}: {stats.summary()}; captured {stats.frames_in}, "
          f"dropped {stats.dropped}{rec}", file=sys.stderr)
    if pipeline.interrupted_by is not None:  # the recording is complete; the exit status says how it ended
        raise pipeline.interrupted_by
    return 0
