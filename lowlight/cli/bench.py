"""``lowlight bench``: fps, per-stage time and latency of the file pipeline per resolution and backend."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from lowlight.backends import BACKENDS
from lowlight.cli.options import (add_crf_option, add_estimate_every_option, add_infer_threads_option,
                                  add_model_options, add_overwrite_option, add_preset_option, add_smooth_option,
                                  enhancer_options, output_files, positive_int, processing_options)
from lowlight.errors import LowlightError


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
    add_preset_option(p, "veryfast", "libx264 preset for every encode (default veryfast)")
    add_crf_option(p, 23, "libx264 CRF for every encode (default 23)")
    add_smooth_option(p, 0.8)
    add_estimate_every_option(p, 1, ": the network on every frame")
    add_infer_threads_option(p)
    p.add_argument("--naive-frames", type=positive_int, default=5, metavar="N",
                   help="frames for the naive full-resolution Zero-DCE baseline (default 5: it is slow)")
    p.add_argument("--no-baselines", action="store_true", help="skip the floor, ffmpeg and naive baselines")
    p.add_argument("--json", metavar="FILE", help="write the full results as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="write a PNG chart (needs matplotlib)")
    add_overwrite_option(p, "--json and --plot files")
    add_model_options(p, backend=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.plot and not args.plot.lower().endswith(".png"):
        raise LowlightError(f"--plot {args.plot}: give a .png file name")
    if args.plot:
        from lowlight.optional import require

        require("matplotlib", "bench", "--plot")
    with output_files([args.json, args.plot], args.overwrite):  # checked before anything is measured
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    import dataclasses

    from lowlight.backends import resolve_device
    from lowlight.realtime.bench.harness import BenchConfig, run_bench
    from lowlight.realtime.bench.report import format_table, write_json, write_plot

    model = enhancer_options(args)
    cfg = BenchConfig(resolutions=args.resolution, backends=args.backend, frames=args.frames, repeats=args.repeats,
                      warmup=max(0, args.warmup), preset=args.preset, crf=args.crf,
                      processing=processing_options(args),
                      model=dataclasses.replace(model, device=resolve_device(model.device)),
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
