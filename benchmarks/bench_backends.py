"""Curve-estimation backends on their own: model at estimation size plus fused apply, per frame.

Usage::

    python benchmarks/bench_backends.py [--resolution 1920x1080] [--backends torch,compile,onnxruntime]
                                        [--repeats 50] [--json FILE]

For one ``H x W`` dark uint8 frame it times, per backend, after warm-up:

* ``resize``: :meth:`lowlight.estimation.Estimator.input_tensor` (area average to the
  estimation size, 256 px longest side, and conversion to float);
* ``model``: the backend on that ``1 x 3 x h x w`` input;
* ``apply``: :func:`lowlight.kernels.enhance_frame` (fused CPU kernel) at full size;
* ``total``: the three in sequence, i.e. what one frame costs when curves are
  estimated for every frame (the issue 5 target: < 25 ms at 1920x1080 on 2 cores).

Medians over ``--repeats`` runs; the eager ``torch`` backend is the baseline
the ratios refer to. Single process, nothing else running in it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info, median_ms  # noqa: E402


def timed(fn, repeats: int) -> tuple[float, object]:
    """``(median ms over repeats after 3 warm-up calls, the last result)``."""
    out = [None]

    def call():
        out[0] = fn()
    return median_ms(call, repeats, warmup=3), out[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", default="1920x1080")
    ap.add_argument("--backends", default="torch,compile,onnxruntime")
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--json")
    args = ap.parse_args()
    from lowlight import Enhancer
    from lowlight.kernels import enhance_frame
    from lowlight.realtime.bench.synthetic import dark_scene

    w, h = (int(v) for v in args.resolution.split("x"))
    frame = np.ascontiguousarray(np.clip(dark_scene(w, h)[:h, :w], 0, 255).astype(np.uint8))
    rows = []
    for name in args.backends.split(","):
        enh = Enhancer(backend=name)
        est, backend = enh.estimator, enh.backend
        t_resize, x = timed(lambda: est.input_tensor(frame), args.repeats)
        t_model, maps = timed(lambda: backend(x), args.repeats)
        t_apply, _ = timed(lambda: enhance_frame(frame, maps[0]), args.repeats)

        def whole():
            return enhance_frame(frame, backend(est.input_tensor(frame))[0])

        t_total, _ = timed(whole, args.repeats)
        rows.append({"backend": backend.name, "estimation_size": list(x.shape[-2:]), "resize_ms": t_resize,
                     "model_ms": t_model, "apply_ms": t_apply, "total_ms": t_total})
        print(f"{backend.name}: resize {t_resize:.2f} ms, model {t_model:.2f} ms, apply {t_apply:.2f} ms, "
              f"total {t_total:.2f} ms", file=sys.stderr)
    base = next((r for r in rows if r["backend"] == "torch"), rows[0])
    print(f"\n{args.resolution}, estimation {rows[0]['estimation_size'][1]}x{rows[0]['estimation_size'][0]}, "
          f"medians of {args.repeats}\n")
    print("| backend | resize ms | model ms | apply ms | total ms | fps | model speed-up vs torch |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['resize_ms']:.2f} | {r['model_ms']:.2f} | {r['apply_ms']:.2f} | "
              f"{r['total_ms']:.2f} | {1000 / r['total_ms']:.0f} | {base['model_ms'] / r['model_ms']:.2f}x |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine_info(), "resolution": args.resolution, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
