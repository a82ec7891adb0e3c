"""``lowlight video``: enhance a video file, copying its audio and subtitles.

Damaged input: frames that decode are enhanced and written; if any frames were
lost (undecodable packets, or fewer frames than the container states, or a
read error), the output is still written but the command prints the count and
exits 1.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

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
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    add_video_options(p)
    add_model_options(p)
    p.set_defaults(func=run)


def add_video_options(parser: argparse.ArgumentParser) -> None:
    """The encoding and real-time processing options of ``lowlight video`` (everything but IN, OUT,
    ``--overwrite`` and the model options); ``lowlight batch`` adds the same ones."""
    parser.add_argument("--codec", choices=CODEC_CHOICES, default="h264",
                        help="video encoder: h264 (libx264, default), h265 (libx265), vp9 (libvpx-vp9), "
                             "av1 (libsvtav1), h264_nvenc (NVIDIA)")
    parser.add_argument("--crf", type=int, metavar="N",
                        help="constant quality, lower is better (default: h264 18, h265 20, vp9/av1 30, nvenc 21)")
    parser.add_argument("--preset", metavar="P",
                        help="encoder speed preset (h264/h265: ultrafast..veryslow, default medium; vp9 cpu-used "
                             "0-8, default 4; av1 0-13, default 8; nvenc p1-p7, default p4)")
    parser.add_argument("--bitrate", metavar="B", help="target bitrate such as 4M or 800k (instead of --crf)")
    parser.add_argument("--no-audio", action="store_true", help="drop audio and subtitle streams")
    parser.add_argument("--threads", type=positive_int, metavar="N",
                        help="encoder threads (default: FFmpeg's choice)")
    add_realtime_options(parser, default_smooth=0.8, default_every=3,
                         every_note="; with --smooth 0.8 the curves change slowly, so reusing them changes "
                                    "the output little and saves two thirds of the network's time")


@dataclass
class TranscodeResult:
    """What :func:`transcode` did to one file.

    Attributes:
        stats: the pipeline's :class:`~lowlight.realtime.stats.PipelineStats`.
        frames: frames written to the output.
        packets_copied: audio/subtitle packets copied without re-encoding.
        lost_frames: frames known to be lost in a damaged input (0 when intact).
        damaged: True if frames were lost or the input ended with a read error (the output holds
            what decoded).
        read_error: the read error that ended a damaged input, or ``None``.
        not_copied: input streams left out of the output (see ``VideoFileSource.not_copied``).
    """

    stats: object
    frames: int
    packets_copied: int
    lost_frames: int
    damaged: bool
    read_error: Optional[str]
    not_copied: list = field(default_factory=list)

    def damage_message(self, src, dst) -> str:
        """One line describing the damage (only meaningful when :attr:`damaged`)."""
        why = f" (read error: {self.read_error})" if self.read_error else ""
        count = f"{self.lost_frames} frame(s) lost" if self.lost_frames else "the input ends early"
        return f"{src}: damaged input: {count}{why}; wrote the {self.frames} frame(s) that decoded to {dst}"


def _open_ends(src: Path, dst: Path, args: argparse.Namespace):
    """The (source, sink) pair for ``src -> dst`` with the encoding options of ``args``; raises the
    user errors (missing input, existing or impossible output, bad --bitrate) before anything runs."""
    from lowlight.realtime.video_sink import VideoFileSink, parse_bitrate
    from lowlight.realtime.video_source import VideoFileSource

    source = VideoFileSource(src, copy_streams=not args.no_audio)
    sink = VideoFileSink(dst, codec=args.codec, crf=args.crf, preset=args.preset,
                         bitrate=parse_bitrate(args.bitrate) if args.bitrate else None,
                         passthrough=source.passthrough, overwrite=args.overwrite, input_path=src,
                         threads=args.threads or 0)
    if not src.exists():
        raise InputError(f"{src}: no such file")
    sink.check_target()
    return source, sink


def transcode(src, dst, args: argparse.Namespace, enhancer,
              on_frame: Optional[Callable[[object, object], None]] = None) -> TranscodeResult:
    """Enhance the video file ``src`` into ``dst`` (written to a temporary file, renamed when complete).

    Args:
        src, dst: input and output paths (``dst``'s extension picks the container).
        args: a namespace with the options of :func:`add_video_options` plus ``overwrite``; any other
            attribute is ignored.
        enhancer: a ready :class:`lowlight.Enhancer` (loaded once, reusable for many files).
        on_frame: ``on_frame(frame, info)`` after each frame is written, in the encoder thread;
            ``info`` is the input's :class:`~lowlight.realtime.sources.StreamInfo` (``info.frames``
            is the frame count the container states, or ``None``).

    Returns:
        a :class:`TranscodeResult`; a damaged input still returns (``damaged`` is True).

    Raises:
        LowlightError: the input cannot be opened or nothing decodes, the output cannot be written,
            or an encoder option is wrong; no output or temporary file is left behind.
    """
    from lowlight.realtime.pipeline import Pipeline

    src, dst = Path(src), Path(dst)
    source, sink = _open_ends(src, dst, args)
    pipeline = Pipeline(source, sink, enhancer, mode="file", smooth=args.smooth, estimate_every=args.estimate_every,
                        stabilize_exposure=not args.no_stabilize, kernel=args.kernel,
                        infer_threads=args.infer_threads)
    if on_frame is not None:
        pipeline.on_frame = lambda frame: on_frame(frame, pipeline.info)
    try:
        stats = pipeline.run()
    except LowlightError:
        if source.decoded == 0 and (source.read_error or source.decode_errors):
            raise InputError(f"{src}: no video frame could be decoded"
                             f"{' (' + source.read_error + ')' if source.read_error else ''}") from None
        raise
    return TranscodeResult(stats=stats, frames=sink.frames_written, packets_copied=sink.packets_copied,
                           lost_frames=source.lost_frames, damaged=source.damaged, read_error=source.read_error,
                           not_copied=list(source.not_copied))


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    src, dst = Path(args.input), Path(args.output)
    _open_ends(src, dst, args)  # user errors first, before the model loads
    enhancer = enhancer_from_args(args)
    bar = tqdm(unit="frame", desc=src.name, file=sys.stderr, disable=not sys.stderr.isatty(),
               dynamic_ncols=True, leave=False)

    def progress(_frame, info) -> None:
        if bar.total is None and info is not None and info.frames:
            bar.total = info.frames
        bar.update(1)

    try:
        result = transcode(src, dst, args, enhancer, on_frame=progress)
    finally:
        bar.close()
    extra = f", {result.packets_copied} audio/subtitle packets copied" if result.packets_copied else ""
    print(f"lowlight video: {src} -> {args.output}: {result.stats.summary()}{extra}", file=sys.stderr)
    if result.not_copied:
        print(f"lowlight video: note: not copied to the output: {', '.join(result.not_copied)}", file=sys.stderr)
    if result.damaged:
        print(f"lowlight video: error: {result.damage_message(src, args.output)}", file=sys.stderr)
        return 1
    return 0
