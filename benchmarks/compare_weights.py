"""Bundled weights vs the official checkpoints on the reference photos (for MODEL_CARD.md).

For every photo in ``shared/reference/images`` and each of the four models
(official / ours x Zero-DCE / Zero-DCE++, all at strength 1, Zero-DCE++ with the
default 256-px estimation size) reports the mean output brightness, the colour
cast and the noise amplification in flat regions; writes a JSON file, a markdown
table and a contact sheet (input / official / ours).

Usage::

    python benchmarks/compare_weights.py [--out lowlight/weights]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import (REFERENCE, colour_cast, flat_mask, noise_amplification, reference_photos,  # noqa: E402
                     stack_rows, tile, to_float)

from lowlight import Enhancer  # noqa: E402

SHEET = ("real/450_1_.png", "real/11_0_.png", "DICM/01.jpg", "DICM/29.jpg", "LIME/10.bmp", "LIME/3.bmp")
GREY_STEPS = (5, 10, 20, 40, 60, 80)  # flat grey levels of the sheet's neutral row


def extra_rows() -> list[tuple[str, np.ndarray]]:
    """The sheet's last rows (issue 11): flat grey steps, a greyscale dark photo, a well-exposed photo.

    Grey steps: 192 x 64 cells at :data:`GREY_STEPS`; greyscale: ``LIME/10.bmp`` with R = G = B (Rec. 601
    luma); well-exposed: scikit-image's ``chelsea`` (CC0, mean 0.45, not a training photo).
    """
    import skimage.data

    rows = [("grey 5..80", np.concatenate([np.full((192, 64, 3), v, np.uint8) for v in GREY_STEPS], axis=1))]
    for name, img in reference_photos():
        if name == "LIME/10.bmp":
            y = img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
            rows.append(("greyscale LIME/10", np.repeat(np.clip(y + 0.5, 0, 255).astype(np.uint8)[..., None], 3, 2)))
    rows.append(("well-exposed chelsea", np.ascontiguousarray(skimage.data.chelsea())))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "lowlight" / "weights"))
    args = ap.parse_args()
    out = Path(args.out)
    w = REFERENCE / "weights"
    models = {
        "official Zero-DCE": Enhancer(weights=w / "zero_dce.pth"),
        "ours Zero-DCE": Enhancer("zero-dce"),
        "official Zero-DCE++": Enhancer(weights=w / "zero_dce_pp.pth"),
        "ours Zero-DCE++": Enhancer("zero-dce++"),
    }
    rows, strips = [], []
    for name, img in reference_photos():
        fin = to_float(img)
        mask = flat_mask(fin)
        row = {"image": name, "input_mean": round(float(fin.mean()), 4)}
        outs = {}
        for label, enh in models.items():
            y = enh.enhance(img)
            outs[label] = y
            fy = to_float(y)
            row[label] = {"mean": round(float(fy.mean()), 4), "cast": round(colour_cast(fy), 4),
                          "noise_amp": round(noise_amplification(fin, fy, mask), 3)}
        rows.append(row)
        print(json.dumps(row), flush=True)
        if name in SHEET:
            strips.append(tile([img, outs["official Zero-DCE++"], outs["ours Zero-DCE++"], outs["official Zero-DCE"],
                                outs["ours Zero-DCE"]],
                               [name, "official DCE++", "ours DCE++", "official DCE", "ours DCE"], height=200))
    for name, img in extra_rows():
        outs = [enh.enhance(img) for enh in models.values()]
        strips.append(tile([img, outs[2], outs[3], outs[0], outs[1]],
                           [name, "official DCE++", "ours DCE++", "official DCE", "ours DCE"], height=200))
    summary = {}
    for label in models:
        summary[label] = {k: round(float(np.median([r[label][k] for r in rows])), 4) for k in ("mean", "cast", "noise_amp")}
    summary["input"] = {"mean": round(float(np.median([r["input_mean"] for r in rows])), 4)}
    print(json.dumps(summary, indent=1))
    (out / "comparison.json").write_text(json.dumps({"rows": rows, "median": summary}, indent=1))
    lines = ["| model | median output mean | median colour cast | median noise amplification |", "|---|---|---|---|"]
    lines += [f"| {k} | {v['mean']} | {v['cast']} | {v['noise_amp']} |" for k, v in summary.items() if k != "input"]
    lines.append(f"| input | {summary['input']['mean']} | | |")
    print("\n".join(lines))
    sheet = stack_rows(strips)
    cv2.imwrite(str(out / "contact_sheet.png"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])


if __name__ == "__main__":
    main()
