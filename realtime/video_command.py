"""``lowlight video``: enhance a video file, copying its audio and subtitles.

Damaged input: frames that decode are enhanced and written; if any frames were
lost (undecodable packets, or fewer frames than the container states, or a
read error), the output is still written but the command prints the count and
exits 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lowlight.errors import InputError, LowlightError
from lowlight.model_options import add_model_options, enhancer_from_args, positive_int
from lowlight.realtime.options import add_realtime_options

CODEC_CHOICES = ["h264", "h265", "vp9", "av1", "h264_nvenc"]


def register(sub) -> None:
    p = sub.add_parser(
        "video", help="enhance a video file (audio and subtitles copied)",
        description="Enhance every frame of a video file and encode the result. Frame rate, timestamps, "
                    "rotation, pixel aspect ratio and colour description are kept; audio and subtitle streams "
                    "are copied without re-encoding. The output is written to a temporary file beside OUT and "
                    "renamed when complete. Damaged input: what decodes is written, lost frames are counted "
                    "and the command exits 1.")
    p.add_argument("input", metavar="IN", help="input video file")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file; the extension picks the container (.mp4, .mkv, .mov, .webm)")
    p.add_argument("--codec", choices=CODEC_CHOICES, default="h264",
                   help="video encoder: h264 (libx264, default), h265 (libx265), vp9 (libvpx-vp9), "
                        "av1 (libsvtav1), h264_nvenc (NVIDIA)")
    p.add_argument("--crf", type=int, metavar="N",
                   help="constant quality, lower is better (default: h264 18, h265 20, vp9/av1 30, nvenc 21)")
    p.add_argument("--preset", metavar="P",
                   help="encoder speed preset (h264/h265: ultrafast..veryslow, default medium; vp9 cpu-used 0-8, "
                        "default 4; av1 0-13, default 8; nvenc p1-p7, default p4)")
    p.add_argument("--bitrate", metavar="B", help="target bitrate such as 4M or 800k (instead of --crf)")
    p.add_argument("--no-audio", action="store_true", help="drop audio and subtitle streams")
    p.add_argument("--threads", type=positive_int, metavar="N", help="encoder threads (default: FFmpeg's choice)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    add_realtime_options(p, default_smooth=0.8, default_every=3,
                         every_note="; with --smooth 0.8 the curves change slowly, so reusing them changes "
                                    "the output little and saves two thirds of the network's time")
    add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from lowlight.realtime.pipeline import Pipeline
    from lowlight.realtime.video_sink import VideoFileSink, parse_bitrate
    from lowlight.realtime.video_source import VideoFileSource

    src = Path(args.input)
    source = VideoFileSource(src, copy_streams=not args.no_audio)
    sink = VideoFileSink(args.output, codec=args.codec, crf=args.crf, preset=args.preset,
                         bitrate=parse_bitrate(args.bitrate) if args.bitrate else None,
                         passthrough=source.passthrough, overwrite=args.overwrite, input_path=src,
                         threads=args.threads or 0)
    if not src.exists():
        raise InputError(f"{src}: no such file")
    sink.check_target()
    enhancer = enhancer_from_args(args)
    pipeline = Pipeline(source, sink, enhancer, mode="file", smooth=args.smooth, estimate_every=args.estimate_every,
                        stabilize_exposure=not args.no_stabilize, kernel=args.kernel,
                        infer_threads=args.infer_threads)
    bar = tqdm(unit="frame", desc=src.name, file=sys.stderr, disable=not sys.stderr.isatty(),
               dynamic_ncols=True, leave=False)

    def progress(_frame) -> None:
        if bar.total is None and pipeline.info is not None and pipeline.info.frames:
            bar.total = pipeline.info.frames
        bar.update(1)

    pipeline.on_frame = progress
    try:
        stats = pipeline.run()
    except LowlightError:
        if source.decoded == 0 and (source.read_error or source.decode_errors):
            raise InputError(f"{src}: no video frame could be decoded"
                             f"{' (' + source.read_error + ')' if source.read_error else ''}") from None
        raise
    finally:
        bar.close()
    extra = f", {sink.packets_copied} audio/subtitle packets copied" if sink.packets_copied else ""
    print(f"lowlight video: {src} -> {args.output}: {stats.summary()}{extra}", file=sys.stderr)
    if source.damaged:
        lost = source.lost_frames
        why = f" (read error: {source.read_error})" if source.read_error else ""
        count = f"{lost} frame(s) lost" if lost else "the input ends early"
        print(f"lowlight video: error: {src}: damaged input: {count}{why}; wrote the {source.decoded} frame(s) "
              f"that decoded to {args.output}", file=sys.stderr)
        return 1
    return 0
