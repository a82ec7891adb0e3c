"""``lowlight live``: enhance a camera (or a file/stream played in real time) on screen, in a
browser, into a virtual webcam and/or into (segmented) recordings."""

from __future__ import annotations

import argparse
import sys

from lowlight.cli.options import (add_model_options, add_processing_options, load_enhancer, positive_int,
                                  processing_options)

VIRTUAL_FORMATS = ("auto", "RGB", "BGR", "I420", "NV12", "YUYV", "UYVY")


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def register(sub) -> None:
    p = sub.add_parser(
        "live", help="enhance a camera live: window, browser, virtual webcam, recording",
        description="Capture from a camera (or a network stream, or a video file played at its own frame rate), "
                    "enhance each frame and show it in a window, serve it to browsers (--serve), send it to a "
                    "virtual webcam for video calls (--virtual-camera) and/or record it (--record, --segment). "
                    "Latency is kept low: when processing falls behind, stale frames are dropped (counted in the "
                    "summary). Keys in the window: e = enhancement on/off, v = view (enhanced / side by side / "
                    "split), q or Esc = quit. Ctrl-C also ends the run; recordings are kept.")
    p.add_argument("--source", default="0", metavar="SRC",
                   help="camera number (default 0), /dev/videoN, a video file or a stream URL "
                        "(rtsp://, http:// MJPEG, HLS .m3u8)")
    p.add_argument("--reconnect", action=argparse.BooleanOptionalAction, default=None,
                   help="when the stream drops, keep running, show 'reconnecting' and retry with back-off until it "
                        "returns (default: on for URLs; off for cameras, where an unplugged camera ends the run "
                        "with one line)")
    p.add_argument("--no-display", action="store_true", help="do not open a window (e.g. only --serve or --record)")
    out = p.add_argument_group("outputs")
    out.add_argument("--record", metavar="OUT",
                     help="also write the enhanced frames to this video file (H.264); may hold strftime fields, "
                          "e.g. cam-%%Y%%m%%d-%%H%%M%%S.mp4 or %%Y-%%m-%%d/cam-%%H%%M%%S.mp4 (folders are created)")
    out.add_argument("--segment", type=positive_float, metavar="SECONDS",
                     help="with --record: start a new file every SECONDS; each is complete and playable once "
                          "closed, so a crash loses at most the open one (without %% fields in OUT, files are "
                          "numbered OUT-0000, OUT-0001...)")
    out.add_argument("--overwrite", action="store_true", help="replace the --record file if it exists")
    out.add_argument("--serve", metavar="[HOST:]PORT",
                     help="serve a live page to browsers at http://HOST:PORT/ (default host 127.0.0.1; any other "
                          "address needs --token, or a token is generated and printed)")
    out.add_argument("--token", metavar="TOKEN", help="with --serve: the token every request must carry (?token=)")
    out.add_argument("--virtual-camera", nargs="?", const="", default=None, metavar="DEVICE",
                     help="send the enhanced stream to a virtual webcam (pip install 'lowlight[camera]'): a "
                          "v4l2loopback device on Linux (default: the first free one, or e.g. /dev/video10), the OBS "
                          "virtual camera on Windows/macOS")
    out.add_argument("--virtual-camera-format", choices=VIRTUAL_FORMATS, default="auto",
                     help="pixel format of the virtual camera (default auto: the source's, else I420)")
    p.add_argument("--max-frames", type=positive_int, metavar="N", help="stop after N captured frames")
    p.add_argument("--width", type=positive_int, help="requested camera width")
    p.add_argument("--height", type=positive_int, help="requested camera height")
    p.add_argument("--fps", type=float, help="requested camera frame rate")
    add_processing_options(p, default_smooth=0.8, every_note=": curves are estimated in the background as often "
                                                            "as the CPU allows and the newest are applied at once")
    add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lowlight.errors import BackendError, OutputError
    from lowlight.realtime.media.camera_source import CameraSource
    from lowlight.realtime.media.display_sink import DisplaySink, display_available
    from lowlight.realtime.pipeline import Pipeline
    from lowlight.realtime.sinks import CallbackSink, Sink, TeeSink

    if not args.no_display and not display_available():
        raise BackendError("no display to show a window (DISPLAY is not set); use --no-display "
                           "(with --serve, --virtual-camera or --record)")
    if args.segment and not args.record:
        raise OutputError("--segment needs --record PATTERN")
    if args.token and not args.serve:
        raise OutputError("--token goes with --serve")
    if args.virtual_camera is not None:  # a missing device fails now, before a server starts or a model loads
        from lowlight.realtime.media.virtual_camera import check_device

        check_device(args.virtual_camera or None)
    source = CameraSource(args.source, max_frames=args.max_frames, width=args.width, height=args.height,
                          fps=args.fps, reconnect=args.reconnect, copy_audio=bool(args.record))
    sinks: list[Sink] = []
    display = None
    if not args.no_display:
        display = DisplaySink()
        sinks.append(display)
    recorder = None
    if args.record:
        from lowlight.realtime.media.segments import SegmentedRecorder

        recorder = SegmentedRecorder(args.record, segment=args.segment, overwrite=args.overwrite,
                                     input_path=args.source if source.kind == "file" else None)
        recorder.check_target()
        sinks.append(recorder)
    web = None
    if args.serve:
        from lowlight.realtime.media.web_view import WebView, is_loopback, new_token, parse_address

        host, port = parse_address(args.serve)
        token = args.token
        if not token and not is_loopback(host):
            token = new_token()
        web = WebView(host, port, token=token)
        web.start()  # a taken port fails now, before the model loads
        sinks.append(web)
    vcam = None
    if args.virtual_camera is not None:
        from lowlight.realtime.media.virtual_camera import VirtualCameraSink

        fmt = None if args.virtual_camera_format == "auto" else args.virtual_camera_format
        vcam = VirtualCameraSink(args.virtual_camera or None, fmt=fmt)
        sinks.append(vcam)
    # nothing to show or keep: frames are processed and discarded (benchmarking)
    sink = sinks[0] if len(sinks) == 1 else TeeSink(sinks) if sinks else CallbackSink(lambda frame: None)
    try:
        enhancer = load_enhancer(args)
        pipeline = Pipeline(source, sink, enhancer, mode="live", options=processing_options(args),
                            output_in_caller=display is not None)
    except BaseException:
        if web is not None:
            web.stop()
        raise
    if display is not None:
        display.on_toggle = pipeline.processor.toggle
        display.fps = pipeline.stats.recent_fps
    if web is not None:
        from lowlight.realtime.media.web_view import LiveControls

        web.controls = LiveControls(pipeline.processor, pipeline.stats, status=lambda: source.status,
                                    gaps=lambda: list(source.gaps))
        where = " (listening on every address: from another machine use this one's name or address)" \
            if web.host in ("0.0.0.0", "::", "") else ""
        print(f"lowlight live: serving {web.url}{where}", file=sys.stderr, flush=True)
    try:
        stats = pipeline.run()
    finally:
        if web is not None:
            web.stop()
    info = pipeline.info
    size = f"{info.width}x{info.height}@{float(info.rate or 0):.0f}" if info else ""
    extras = []
    if recorder is not None:
        extras.append(f"recorded {recorder.describe()}")
    if web is not None:
        extras.append(f"served {web.encoded} frames")
    if vcam is not None:
        extras.append(f"sent {vcam.sent} frames to virtual camera {vcam.device_name} ({vcam.format})")
    gaps = source.gap_summary()
    if gaps:
        extras.append(gaps)
    rest = "".join(f", {e}" for e in extras)
    print(f"lowlight live: {source.describe()} {size}: {stats.summary()}; captured {stats.frames_in}, "
          f"dropped {stats.dropped}{rest}", file=sys.stderr)
    if pipeline.interrupted_by is not None:  # the outputs are complete; the exit status says how the run ended
        raise pipeline.interrupted_by
    return 0
