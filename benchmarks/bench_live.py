"""Live-mode latency: a 640x480 @ 30 fps file played as a camera through ``lowlight live``'s pipeline.

The file is paced at its frame rate (like a camera); frames are processed and
discarded (``--no-display``). Reports output fps, dropped frames and
capture-to-output latency percentiles. Target: no drops and p99 < 30 ms.

Usage::

    python benchmarks/bench_live.py [--seconds 10] [--size 640x480] [--fps 30] [--weights W]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_weights, make_clip  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--weights")
    ap.add_argument("--settings", default="1:256:1,1:256:2,3:256:1,1:160:1",
                    help="comma list of ESTIMATE_EVERY:ESTIMATE_SIZE:INFER_THREADS to try")
    args = ap.parse_args()

    import torch

    from lowlight.enhancer import Enhancer
    from lowlight.realtime import Pipeline, Sink
    from lowlight.realtime.media.camera_source import CameraSource

    class Discard(Sink):
        def write(self, frame) -> None:
            pass

    weights = args.weights or default_weights()
    w, h = map(int, args.size.split("x"))
    n = int(args.seconds * args.fps)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads); weights {weights or 'bundled'}")
    print(f"source: {w}x{h} @ {args.fps} fps file paced like a camera, {n} frames; --smooth 0.8; no display")
    print("| estimate-every | estimate-size | infer threads | out fps | dropped | latency p50 / p95 / p99 ms | "
          "process ms/frame (smooth+apply) | background estimate ms (count) | target |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "live.mp4", w, h, n, fps=args.fps, audio=False)
        for item in args.settings.split(","):
            every, size, threads = (int(x) for x in item.split(":"))
            enh = Enhancer(weights=weights, longest_side=size) if weights else Enhancer(longest_side=size)
            src = CameraSource(str(clip))
            pipe = Pipeline(src, Discard(), enh, mode="live", smooth=0.8, estimate_every=every,
                            infer_threads=threads)
            stats = pipe.run()
            lat = stats.latency_ms()
            ms = stats.stage_ms()
            ok = stats.dropped == 0 and lat["p99"] < 30
            per_frame = ms.get("smooth", 0) + ms.get("apply", 0) + ms.get("estimate", 0)
            print(f"| {every} | {size} | {threads} | {stats.fps:.1f} | {stats.dropped} | {lat['p50']:.1f} / "
                  f"{lat['p95']:.1f} / {lat['p99']:.1f} | {per_frame:.1f} | {ms.get('estimate_bg', 0):.1f} "
                  f"({pipe.processor.estimates}) | {'met' if ok else 'NOT met'} |")


if __name__ == "__main__":
    main()
