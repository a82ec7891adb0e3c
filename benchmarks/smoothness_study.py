"""First- vs second-order illumination smoothness, measured on the reference photos.

Compares two Zero-DCE++ checkpoints trained identically except for
``--smoothness-order``. For each photo, each model's strength is tuned (bisection)
so its output has the same mean brightness as the first-order model at strength 1
("equal exposure"); then we measure

* noise amplification: RMS high-frequency energy of output over input in flat regions;
* curve-map roughness: mean squared first and second differences of the maps.

Usage::

    python benchmarks/smoothness_study.py ORDER1.pt ORDER2.pt [--out benchmarks/figures]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import (flat_mask, map_roughness, noise_amplification, reference_photos, stack_rows,  # noqa: E402
                     tile, to_float)

from lowlight.enhancer import Enhancer, to_tensor  # noqa: E402
from lowlight.kernels import apply_curves  # noqa: E402


def enhance_at(enh: Enhancer, x: torch.Tensor, maps: torch.Tensor, strength: float) -> np.ndarray:
    y = apply_curves(x, maps, 8, strength)
    return y[0].permute(1, 2, 0).clamp(0, 1).numpy()


def strength_for_mean(enh, x, maps, target: float) -> float:
    lo, hi = 0.0, 4.0
    for _ in range(18):
        mid = (lo + hi) / 2
        if enhance_at(enh, x, maps, mid).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("order1")
    ap.add_argument("order2")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "figures"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    models = {"order 1": Enhancer(weights=args.order1), "order 2": Enhancer(weights=args.order2)}
    rows, strips = [], []
    for name, img in reference_photos():
        x = to_tensor(img)
        fin = to_float(img)
        mask = flat_mask(fin)
        with torch.inference_mode():
            maps = {k: e.curve_maps(x) for k, e in models.items()}
        target = enhance_at(models["order 1"], x, maps["order 1"], 1.0).mean()
        row = {"image": name, "target_mean": round(float(target), 4)}
        outs = {}
        for k, e in models.items():
            s = strength_for_mean(e, x, maps[k], target)
            y = enhance_at(e, x, maps[k], s)
            outs[k] = y
            r1, r2 = map_roughness(maps[k])
            row[k] = {"strength": round(s, 4), "mean": round(float(y.mean()), 4),
                      "noise_amp": round(noise_amplification(fin, y, mask), 4),
                      "map_d1": r1, "map_d2": r2}
        rows.append(row)
        print(json.dumps(row), flush=True)
        if name in ("real/450_1_.png", "DICM/01.jpg", "LIME/10.bmp", "real/11_0_.png"):
            u8 = {k: (np.clip(v, 0, 1) * 255 + 0.5).astype(np.uint8) for k, v in outs.items()}
            strips.append(tile([img, u8["order 1"], u8["order 2"]], [name, "order 1", "order 2"]))
            h, w = img.shape[:2]
            crop = (slice(h // 2 - 64, h // 2 + 64), slice(w // 2 - 96, w // 2 + 96))
            strips.append(tile([np.clip(img.astype(np.int32) * 6, 0, 255).astype(np.uint8)[crop],
                                u8["order 1"][crop], u8["order 2"][crop]],
                               ["input x6 (crop)", "order 1 (crop)", "order 2 (crop)"]))
    summary = {}
    for k in models:
        na = np.array([r[k]["noise_amp"] for r in rows])
        d1 = np.array([r[k]["map_d1"] for r in rows])
        d2 = np.array([r[k]["map_d2"] for r in rows])
        summary[k] = {"noise_amp_median": float(np.median(na)), "noise_amp_mean": float(na.mean()),
                      "map_d1_median": float(np.median(d1)), "map_d2_median": float(np.median(d2))}
    wins = sum(r["order 2"]["noise_amp"] < r["order 1"]["noise_amp"] for r in rows)
    summary["order2_lower_noise_on"] = f"{wins}/{len(rows)}"
    print(json.dumps(summary, indent=1))
    (out / "smoothness_study.json").write_text(json.dumps({"rows": rows, "summary": summary}, indent=1))
    sheet = stack_rows(strips)
    cv2.imwrite(str(out / "smoothness_study.jpg"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])


if __name__ == "__main__":
    main()
