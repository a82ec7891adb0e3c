"""Transcode speed: ``lowlight video`` vs ``ffmpeg -vf eq=gamma=2.0`` on the same 1080p H.264 clip.

Both re-encode video with libx264 at the same preset and CRF and copy the AAC
audio. The clip (a dark reference photo panning, with noise, and a stereo AAC
track) is generated on the fly. ``ours`` is timed in-process around
``Pipeline.run()`` (open, warm-up, decode, enhance, encode, mux, rename; Python
and torch start-up excluded); ``ours (CLI wall)`` is the whole ``lowlight video``
command including start-up; ffmpeg is its whole command. Medians of repeats.

Needs the ``ffmpeg`` program for the comparison only (lowlight itself does not).

Usage::

    python benchmarks/bench_transcode.py [--frames 150] [--repeats 3] [--preset medium] [--crf 18] [--weights W]
    python benchmarks/bench_transcode.py --command [bench_command.py's options]

``--command``: the whole-command mode, which is :mod:`bench_command` (``lowlight video`` and the ffmpeg
baselines alternately, as processes, at several sizes and presets; see its docstring). It is the
same script behind both names, not a copy.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_weights, make_clip  # noqa: E402


def weights_args(weights):
    return ["--weights", weights] if weights else []


def run_ours(clip: Path, out: Path, args, weights) -> float:
    """Seconds for one in-process transcode."""
    from lowlight.enhancer import Enhancer
    from lowlight.realtime import Pipeline
    from lowlight.realtime.media.video_sink import VideoFileSink
    from lowlight.realtime.media.video_source import VideoFileSource

    enh = Enhancer(weights=weights) if weights else Enhancer()
    if out.exists():
        out.unlink()
    t0 = time.perf_counter()
    source = VideoFileSource(clip)
    sink = VideoFileSink(out, crf=args.crf, preset=args.preset, input_path=clip)
    stats = Pipeline(source, sink, enh, smooth=args.smooth, estimate_every=args.estimate_every,
                     infer_threads=args.infer_threads).run()
    seconds = time.perf_counter() - t0
    run_ours.last = stats
    return seconds


def run_cli(clip: Path, out: Path, args, weights) -> float:
    cmd = [sys.executable, "-m", "lowlight", "video", str(clip), "-o", str(out), "--overwrite", "--preset",
           args.preset, "--crf", str(args.crf), "--smooth", str(args.smooth), "--estimate-every",
           str(args.estimate_every), *weights_args(weights),
           *(["--infer-threads", str(args.infer_threads)] if args.infer_threads else [])]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def run_ffmpeg(clip: Path, out: Path, args) -> float:
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(clip), "-vf", "eq=gamma=2.0",
           "-c:v", "libx264", "-preset", args.preset, "-crf", str(args.crf), "-pix_fmt", "yuv420p",
           "-c:a", "copy", str(out)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    if "--command" in sys.argv[1:]:
        from bench_command import main as command_main

        raise SystemExit(command_main([a for a in sys.argv[1:] if a != "--command"]))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--crf", type=int, default=18)
    ap.add_argument("--smooth", type=float, default=0.8)
    ap.add_argument("--estimate-every", type=int, default=1)
    ap.add_argument("--infer-threads", type=int, help="torch threads of the process stage (default: torch's)")
    ap.add_argument("--weights", help="checkpoint (default: bundled weights, else the official Zero-DCE++)")
    ap.add_argument("--no-cli", action="store_true", help="skip the whole-command timing of lowlight")
    args = ap.parse_args()
    if not shutil.which("ffmpeg"):
        raise SystemExit("ffmpeg not found (apt-get install ffmpeg); it is only needed for this comparison")

    weights = args.weights
    if weights is None:
        weights = default_weights()
    w, h = map(int, args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clip = make_clip(tmp / "clip.mp4", w, h, args.frames, fps=30)
        ours, cli, ff, stats = [], [], [], []
        for _ in range(args.repeats):
            ff.append(run_ffmpeg(clip, tmp / "ff.mp4", args))
            ours.append(run_ours(clip, tmp / "ours.mp4", args, weights))
            stats.append(run_ours.last)
            if not args.no_cli:
                cli.append(run_cli(clip, tmp / "cli.mp4", args, weights))
        n = args.frames
        med = statistics.median
        st = stats[len(stats) // 2]
        import torch

        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
              f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
        print(f"clip: {w}x{h} H.264 + AAC, {n} frames @30 fps; libx264 preset {args.preset} crf {args.crf}; "
              f"smooth {args.smooth}, estimate-every {args.estimate_every}, infer-threads "
              f"{args.infer_threads or 'default'}; weights {weights or 'bundled'}; "
              f"median of {args.repeats}")
        print("| run | seconds | fps | vs ffmpeg |")
        print("|---|---|---|---|")
        ffm = med(ff)
        rows = [("ffmpeg -vf eq=gamma=2.0", ffm), ("lowlight video (pipeline)", med(ours))]
        if cli:
            rows.append(("lowlight video (CLI wall, incl. start-up)", med(cli)))
        for name, sec in rows:
            print(f"| {name} | {sec:.2f} | {n / sec:.1f} | {ffm / sec:.2f}x |")
        print("per-stage ms/frame (median run): "
              + ", ".join(f"{k} {v:.1f}" for k, v in st.stage_ms().items()))
        ratio = ffm / med(ours)
        print(f"target ours >= 0.6x ffmpeg fps: {'met' if ratio >= 0.6 else 'NOT met'} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
