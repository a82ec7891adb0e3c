"""``lowlight video``: enhance a video file, copying its audio and subtitles (the library is
:mod:`lowlight.realtime.transcode`).

Damaged input: frames that decode are enhanced and written; if any frames were
lost, the output is still written but the command prints the count and exits 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lowlight.cli.options import add_model_options, add_video_options, load_enhancer, transcode_options


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


def run(args: argparse.Namespace) -> int:
    from lowlight.atomic import new_folders
    from lowlight.realtime.transcode import Transcode

    with new_folders(Path(args.output).parent):
        return _run(args, Transcode(args.input, args.output, transcode_options(args)))  # user errors first


def _run(args: argparse.Namespace, job) -> int:
    from tqdm import tqdm

    enhancer = load_enhancer(args)
    bar = tqdm(unit="frame", desc=getattr(job.src, "name", None) or str(job.src), file=sys.stderr,
               disable=not sys.stderr.isatty(), dynamic_ncols=True, leave=False)

    def progress(_frame, info) -> None:
        if bar.total is None and info is not None and info.frames:
            bar.total = info.frames
        bar.update(1)

    try:
        result = job.run(enhancer, on_frame=progress)
    finally:
        bar.close()
    extra = f", {result.packets_copied} audio/subtitle packets copied" if result.packets_copied else ""
    print(f"lowlight video: {job.src} -> {args.output}: {result.stats.summary()}{extra}", file=sys.stderr)
    for note in result.notes:
        print(f"lowlight video: note: {note}", file=sys.stderr)
    if result.not_copied:
        print(f"lowlight video: note: not copied to the output: {', '.join(result.not_copied)}", file=sys.stderr)
    if result.damaged:
        print(f"lowlight video: error: {result.damage_message(job.src, args.output)}", file=sys.stderr)
        return 1
    return 0
