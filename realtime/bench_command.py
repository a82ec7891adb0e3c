"""``lowlight bench``: fps, per-stage time and latency of the file pipeline per resolution and backend."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from lowlight.backends import BACKENDS
from lowlight.errors import LowlightError
from lowlight.model_options import add_model_options, positive_int
from lowlight.realtime.options import smooth_value


def resolution_list(text: str) -> list[tuple[int, int]]:
    """``"640x480,1920x1080"`` -> ``[(640, 480), (1920, 1080)]`` (even sides, as yuv420p needs)."""
    out = []
    for item in text.split(","):
        try:
            w, h = (int(v) for v in item.lower().strip().split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r}: expected WIDTHxHEIGHT such as 1920x1080") from None
        if w < 16 or h < 16 or w % 2 or h % 2:
            raise argparse.ArgumentTypeError(f"{item!r}: sides must be even and at least 16")
        out.append((w, h))
    return out


def backend_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in BACKENDS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"{','.join(bad) or text!r}: choose from {', '.join(BACKENDS)}")
    return list(dict.fromkeys(names))


def register(sub) -> None:
    p = sub.add_parser(
        "bench", help="measure fps, per-stage time and latency per resolution and backend",
        description="Transcode a synthetic dark H.264 clip through the real pipeline for each resolution and "
                    "backend: warm-up runs, then medians over repeats of per-stage time (decode, estimate, smooth, "
                    "apply, encode), end-to-end fps and latency p50/p95/p99. Baselines in the same run: "
                    "decode->encode with no enhancement (the floor), ffmpeg -vf eq=gamma=2.0 (if ffmpeg is on "
                    "PATH) and naive per-frame full-resolution Zero-DCE; results are also given as ratios.")
    p.add_argument("--resolution", type=resolution_list, default=resolution_list("640x480,1280x720,1920x1080"),
                   metavar="WxH[,WxH...]", help="frame sizes (default 640x480,1280x720,1920x1080; add 3840x2160 "
                                                "for 4K)")
    p.add_argument("--backend", type=backend_list, default=["auto"], metavar="NAME[,NAME...]",
                   help=f"curve-estimation backends to compare: {', '.join(BACKENDS)} (default auto)")
    p.add_argument("--frames", type=positive_int, default=60, metavar="N", help="frames per clip (default 60)")
    p.add_argument("--repeats", type=positive_int, default=3, metavar="R",
                   help="timed runs per setting; medians are reported (default 3)")
    p.add_argument("--warmup", type=int, default=1, metavar="W", help="untimed runs first (default 1)")
    p.add_argument("--preset", default="veryfast", help="libx264 preset for every encode (default veryfast)")
    p.add_argument("--crf", type=int, default=23, help="libx264 CRF for every encode (default 23)")
    p.add_argument("--smooth", type=smooth_value, default=0.8, help="temporal smoothing in [0, 1) (default 0.8)")
    p.add_argument("--estimate-every", type=positive_int, default=1, metavar="K",
                   help="estimate curves every K-th frame (default 1: the network on every frame)")
    p.add_argument("--infer-threads", type=positive_int, metavar="N", help="threads for curve estimation")
    p.add_argument("--naive-frames", type=positive_int, default=5, metavar="N",
                   help="frames for the naive full-resolution Zero-DCE baseline (default 5: it is slow)")
    p.add_argument("--no-baselines", action="store_true", help="skip the floor, ffmpeg and naive baselines")
    p.add_argument("--json", metavar="FILE", help="write the full results as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="write a PNG chart (needs matplotlib)")
    add_model_options(p, backend=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lowlight.model_options import resolve_device
    from lowlight.realtime.bench import BenchConfig, run_bench
    from lowlight.realtime.bench_report import format_table, write_json, write_plot

    for target in (args.json, args.plot):
        if target and not Path(target).resolve().parent.is_dir():
            raise LowlightError(f"{target}: output folder does not exist")
    if args.plot and not args.plot.lower().endswith(".png"):
        raise LowlightError(f"--plot {args.plot}: give a .png file name")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise LowlightError("--plot needs matplotlib: pip install 'lowlight[bench]'") from None
    cfg = BenchConfig(resolutions=args.resolution, backends=args.backend, frames=args.frames, repeats=args.repeats,
                      warmup=max(0, args.warmup), preset=args.preset, crf=args.crf, smooth=args.smooth,
                      estimate_every=args.estimate_every, device=resolve_device(args.device), model=args.model,
                      weights=args.weights, strength=args.strength, estimate_size=args.estimate_size,
                      scale_factor=args.scale_factor, infer_threads=args.infer_threads,
                      naive_frames=args.naive_frames, baselines=not args.no_baselines)
    log = (lambda msg: print(f"lowlight bench: {msg}", file=sys.stderr))
    with tempfile.TemporaryDirectory(prefix="lowlight-bench-") as tmp:
        report = run_bench(cfg, Path(tmp), log=log)
    print(format_table(report))
    if args.json:
        write_json(report, Path(args.json))
        log(f"wrote {args.json}")
    if args.plot:
        write_plot(report, Path(args.plot))
        log(f"wrote {args.plot}")
    return 0
