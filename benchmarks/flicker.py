"""Flicker with and without temporal smoothing, and how fast the output follows a scene cut.

A static scene (reference photo 11_0, or --scene) is repeated with per-frame
Gaussian noise and +-5 % exposure jitter (a camera hunting exposure), then a
cut to a second scene (photo 450_0, brightened 2x). Each setting runs through
``lowlight.realtime.FrameProcessor``. Flicker = mean absolute frame-to-frame
change (uint8 levels) of

* ``mean``: the frame's mean brightness,
* ``local``: 8x8-block means (regional brightness pumping),
* ``pixel``: single pixels (dominated by sensor noise times the curve's gain).

Cut response = mean absolute difference from per-frame estimation on the cut
frame and the two after it (0 = follows at once).

Usage::

    python benchmarks/flicker.py [--weights W] [--size 640x480] [--frames 30] [--sigma 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from lowlight.realtime.flicker import flicker, jittered

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REFERENCE, default_weights  # noqa: E402


def load(path: Path, size: tuple[int, int]) -> np.ndarray:
    bgr = cv2.imread(str(path))
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    return cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size, interpolation=cv2.INTER_AREA).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", help="checkpoint (default: bundled zero-dce++ weights, else the official ones)")
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--frames", type=int, default=30, help="frames of the static scene")
    ap.add_argument("--sigma", type=float, default=1.0, help="per-frame Gaussian noise (uint8 levels)")
    ap.add_argument("--scene", default=str(REFERENCE / "images" / "real" / "11_0_.png"))
    ap.add_argument("--cut-to", default=str(REFERENCE / "images" / "real" / "450_0_.png"))
    args = ap.parse_args()

    import lowlight
    from lowlight.realtime import FrameProcessor

    weights = args.weights or default_weights()
    enh = lowlight.Enhancer(weights=weights) if weights else lowlight.Enhancer()
    w, h = map(int, args.size.split("x"))
    rng = np.random.default_rng(0)
    static = jittered(load(Path(args.scene), (w, h)), args.frames, rng, args.sigma)
    cut = jittered(load(Path(args.cut_to), (w, h)) * 2.0, 3, rng, args.sigma)
    frames = static + cut
    settings = [("per-frame (--smooth 0)", dict(smooth=0.0)),
                ("--smooth 0.8, maps only (--no-stabilize)", dict(smooth=0.8, stabilize_exposure=False)),
                ("--smooth 0.8", dict(smooth=0.8)),
                ("--smooth 0.9", dict(smooth=0.9)),
                ("--smooth 0.8 --estimate-every 3", dict(smooth=0.8, estimate_every=3))]
    results = {}
    for name, kw in settings:
        proc = FrameProcessor(enh, **kw)
        proc.warmup(h, w)
        t0 = time.perf_counter()
        outs = [proc.process(f) for f in frames]
        ms = 1000 * (time.perf_counter() - t0) / len(frames)
        results[name] = (flicker(outs[: args.frames]), outs, ms)
    ref = results[settings[0][0]][1]
    print(f"weights: {weights or 'bundled'}; {w}x{h}; {args.frames} static frames, noise sigma {args.sigma}, "
          f"+-5% exposure jitter; then a cut")
    print("| setting | mean flicker | local (8x8) flicker | pixel flicker | cut +0 / +1 / +2 (MAE vs per-frame) "
          "| ms/frame |")
    print("|---|---|---|---|---|---|")
    base = results[settings[0][0]][0]
    for name, (fl, outs, ms) in results.items():
        resp = [float(np.abs(outs[args.frames + k].astype(np.float32) - ref[args.frames + k]).mean()) for k in range(3)]
        cells = " | ".join(f"{fl[k]:.3f} ({fl[k] / base[k]:.2f}x)" for k in ("mean", "local", "pixel"))
        print(f"| {name} | {cells} | "
              f"{resp[0]:.2f} / {resp[1]:.2f} / {resp[2]:.2f} | {ms:.1f} |")


if __name__ == "__main__":
    main()
