"""Threads of ``lowlight video``'s stages (issue 13): decoder, encoder, curve estimation and the kernel.

Usage::

    python benchmarks/bench_threads.py [--size 1920x1080] [--seconds 5] [--rounds 3] [--preset veryfast]

One clip (:func:`common.make_clip`: a dark photo panning, with noise, H.264 + AAC) is transcoded
in-process with :class:`lowlight.realtime.transcode.Transcode` (the library behind ``lowlight video``,
default settings, the planar path) under each configuration below, the configurations taking turns
``rounds`` times (so drift in the machine's load hits them alike). Reported per configuration: median
seconds, fps, and the CPU the process used over the run (user + system seconds / wall seconds, in
cores: 2.0 = both cores busy all the time), with the load average at the start of each round.

Configurations (one knob at a time from the defaults; ``auto`` = FFmpeg's / the library's choice):
decoder threads (``TranscodeOptions.decode_threads``), encoder threads (``EncodeOptions.threads``,
``lowlight video --threads``), ONNX Runtime threads of the estimator (``Enhancer(threads=)``,
``--infer-threads``) and the kernel's OpenMP threads (``OMP_NUM_THREADS``, read per call by
:func:`lowlight.kernels.yuv.default_threads`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info, make_clip  # noqa: E402

# name -> (decode threads, encode threads, estimator threads, kernel threads); 0 / None = the default
CONFIGS = {
    "defaults": (0, 0, None, None),
    "decode 1": (1, 0, None, None),
    "decode 2": (2, 0, None, None),
    "encode 1": (0, 1, None, None),
    "encode 2": (0, 2, None, None),
    "encode 4": (0, 4, None, None),
    "estimate 1": (0, 0, 1, None),
    "kernel 1": (0, 0, None, 1),
}


def run_once(clip: Path, out: Path, config: tuple, preset: str, enhancers: dict) -> tuple[float, float]:
    """``(wall seconds, cores used)`` of one transcode."""
    from lowlight.realtime.transcode import EncodeOptions, Transcode, TranscodeOptions

    dec, enc, est, kern = config
    if kern is None:
        os.environ.pop("OMP_NUM_THREADS", None)
    else:
        os.environ["OMP_NUM_THREADS"] = str(kern)
    if out.exists():
        out.unlink()
    opts = TranscodeOptions(encode=EncodeOptions(preset=preset, crf=23, threads=enc), decode_threads=dec)
    c0, t0 = os.times(), time.perf_counter()
    Transcode(clip, out, opts).run(enhancers[est])
    wall = time.perf_counter() - t0
    c1 = os.times()
    return wall, (c1.user - c0.user + c1.system - c0.system) / wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--preset", default="veryfast")
    ap.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated names of CONFIGS")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    from lowlight.enhancer import Enhancer

    names = args.configs.split(",")
    enhancers = {t: Enhancer(threads=t) for t in {CONFIGS[n][2] for n in names}}
    w, h = (int(v) for v in args.size.split("x"))
    frames = int(args.seconds * 30)
    runs: dict = {n: [] for n in names}
    loads = []
    with tempfile.TemporaryDirectory(prefix="bench-threads-") as tmp:
        tmp = Path(tmp)
        clip = make_clip(tmp / "clip.mp4", w, h, frames, fps=30, audio=True)
        run_once(clip, tmp / "warm.mp4", CONFIGS["defaults"], args.preset, enhancers)  # warm caches
        for _ in range(args.rounds):
            loads.append(os.getloadavg()[0])
            for n in names:
                runs[n].append(run_once(clip, tmp / "out.mp4", CONFIGS[n], args.preset, enhancers))
    report = {"machine": machine_info(), "size": args.size, "frames": frames, "preset": args.preset,
              "loads": loads, "rows": []}
    print(f"{args.size}, {frames} frames, libx264 {args.preset} crf 23, {args.rounds} rounds; "
          f"load average at each round's start: {', '.join(f'{x:.1f}' for x in loads)}")
    print("| configuration | median s | fps | cores used |")
    print("|---|---|---|---|")
    for n in names:
        sec = statistics.median(r[0] for r in runs[n])
        cores = statistics.median(r[1] for r in runs[n])
        report["rows"].append({"config": n, "threads": CONFIGS[n], "seconds": sec, "cores": cores, "runs": runs[n]})
        print(f"| {n} | {sec:.2f} | {frames / sec:.1f} | {cores:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
