"""Rerunnable quality benchmark for enhancement weights (issue 11).

Cases (all seeded, nothing downloaded):

* **darkened**: clean, freely licensed photos that the bundled weights do *not* train on
  (scikit-image's ``chelsea``, ``rocket``, ``coins``, ``motorcycle_left``, see
  ``lowlight/train/sample_data.py``), darkened with the training sensor model
  (:class:`lowlight.train.data.SensorModel`: linear light, exposure 1/8, 1/32, 1/128, shot noise
  with 2000 electrons at full scale, read noise 0.001, 8-bit) and once more without noise.
  Reported: PSNR and SSIM of the output vs the clean photo; PSNR after scaling the output so its
  mean matches the clean mean (brightness-independent); **noise amplification at equal
  exposure**: ``(rms(E(noisy) - E(clean_dark)) / mean E(clean_dark)) /
  (rms(noisy - clean_dark) / mean clean_dark)``, i.e. how much more the method amplifies noise
  than it amplifies the signal (1 = a plain gain; a curve that lifts shadows more than mid-tones
  is above 1).
* **mixed**: the same photos with their left and right halves darkened to different exposures
  (1/64 and 1/4, 1/16 and 1/2, 1/2 and 1/32; same sensor model, seeded): frames that are only partly
  dark, where one global curve cannot serve both halves. Reported: PSNR against the clean photo
  ("mixed PSNR"). The darkened set above is darkened uniformly, which favours curves that are the
  same over the whole frame; this case charges that.
* **neutral**: flat grey frames (levels 5, 10, 20, 40, 60, 80) and greyscale photos
  (greyscale versions of the darkened set, of ``moon`` and of the reference photos):
  channel spread ``(max - min) / mean`` of the output's channel means (target <= 0.02), with the
  enhancer's defaults (maps tied where the input is grey, :mod:`lowlight.neutral_maps`) and, in the
  "(weights)" columns, with the maps as the network predicts them.
* **well-exposed**: clean photos with mean 0.3-0.6 (the held-out photos and four generated
  scenes with seeds not used for training): output mean minus input mean and the fraction of
  pixels newly clipped (some channel at 255 in the output, none in the input).
* **reference** (when ``shared/reference/images`` exists): the 16 DICM + LIME photos: mean
  gain (output mean / input mean, averaged over photos), colour cast and high-frequency noise
  amplification in flat regions (``benchmarks/quality.py``).

Methods: the bundled weights, the official checkpoints when present (comparison only, never
shipped), extra weights given with ``--weights LABEL=PATH``, and the ffmpeg-style
``eq=gamma=2`` baseline ``y = x ** (1/2)``. Inference goes through ``lowlight.Enhancer`` with its
defaults (Zero-DCE++ estimates at its default 256-px longest side; ``denoise="auto"``, so every network
is denoised the same way; the gamma baseline is a plain LUT). Scores taken before ``--denoise auto``
existed (issue 12) are not comparable with later ones.

Usage::

    python benchmarks/quality_suite.py [--weights ours=run.pt ...] [--only ours,gamma2]
        [--json out.json] [--save-images DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import REFERENCE, colour_cast, flat_mask, noise_amplification  # noqa: E402

from lowlight import Enhancer  # noqa: E402
from lowlight.train.data import SensorModel  # noqa: E402
from lowlight.train.sample_data import generated_scene  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED = 11
EXPOSURES = (1 / 8, 1 / 32, 1 / 128)
MIXED_EXPOSURES = ((1 / 64, 1 / 4), (1 / 16, 1 / 2), (1 / 2, 1 / 32))  # (left half, right half)
PHOTONS = 2000.0
READ_NOISE = 1e-3
GREY_LEVELS = (5, 10, 20, 40, 60, 80)
HELD_OUT_SCENES = (1000, 1001, 1002, 1003)
MAX_SIDE = 512


def _fit(img: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    h, w = img.shape[:2]
    k = max_side / max(h, w)
    if k < 1:
        img = cv2.resize(img, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
    return img


def _rgb(img: np.ndarray) -> np.ndarray:
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]


def clean_photos() -> dict[str, np.ndarray]:
    """Held-out scikit-image photos as uint8 RGB (longest side <= 512)."""
    import skimage.data
    import skimage.io

    out = {n: _rgb(getattr(skimage.data, n)()) for n in ("chelsea", "rocket", "coins")}
    out["motorcycle_left"] = _rgb(skimage.io.imread(os.path.join(skimage.data.data_dir, "motorcycle_left.png")))
    return {k: _fit(np.ascontiguousarray(v)) for k, v in out.items()}


def grey(img: np.ndarray) -> np.ndarray:
    y = img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return _rgb(np.clip(y + 0.5, 0, 255).astype(np.uint8))


def darken(img: np.ndarray, exposure: float, noise: bool, seed: int) -> np.ndarray:
    x = torch.from_numpy(img.astype(np.float32) / 255).permute(2, 0, 1)[None]
    g = torch.Generator().manual_seed(seed)
    t = torch.tensor([float(exposure)])
    y = SensorModel()(x, t, torch.tensor([PHOTONS]) if noise else None,
                      torch.tensor([READ_NOISE]) if noise else None, g)
    return (y[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean()) / 255.0**2
    return 99.0 if mse == 0 else 10 * math.log10(1 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a, b, channel_axis=2, data_range=255))


def mean_matched(out: np.ndarray, clean: np.ndarray) -> np.ndarray:
    k = clean.astype(np.float64).mean() / max(out.astype(np.float64).mean(), 1e-6)
    return np.clip(out.astype(np.float64) * k + 0.5, 0, 255).astype(np.uint8)


def channel_spread(img: np.ndarray) -> float:
    m = img.reshape(-1, 3).astype(np.float64).mean(0)
    return float((m.max() - m.min()) / max(m.mean(), 1e-6))


def newly_clipped(inp: np.ndarray, out: np.ndarray) -> float:
    return float(((out.max(2) >= 255) & (inp.max(2) < 255)).mean())


def reference_dark_photos() -> list[tuple[str, np.ndarray]]:
    photos = []
    for folder in ("DICM", "LIME"):
        d = REFERENCE / "images" / folder
        if not d.is_dir():
            continue
        for path in sorted(d.iterdir()):
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr is None:
                continue
            while max(bgr.shape[:2]) > 1100:
                bgr = cv2.resize(bgr, (bgr.shape[1] // 2, bgr.shape[0] // 2), interpolation=cv2.INTER_AREA)
            photos.append((f"{folder}/{path.name}", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    return photos


class Gamma2:
    """ffmpeg ``eq=gamma=2``: ``y = x ** (1/2)`` per channel."""

    name = "gamma2"

    def __init__(self) -> None:
        self.lut = np.clip(255 * (np.arange(256) / 255.0) ** 0.5 + 0.5, 0, 255).astype(np.uint8)

    def enhance(self, img: np.ndarray) -> np.ndarray:
        return self.lut[img]


def methods(extra: list[str], only: set[str] | None) -> dict[str, object]:
    w = ROOT / "lowlight" / "weights"
    found: dict[str, object] = {}
    cands = [("bundled Zero-DCE++", w / "zero_dce_pp.pt"), ("bundled Zero-DCE", w / "zero_dce.pt"),
             ("official Zero-DCE++", REFERENCE / "weights" / "zero_dce_pp.pth"),
             ("official Zero-DCE", REFERENCE / "weights" / "zero_dce.pth")]
    for spec in extra:
        label, _, path = spec.partition("=")
        cands.append((label, Path(path)))
    for label, path in cands:
        if only and label not in only:
            continue
        if path.exists():
            found[label] = Enhancer(weights=path, threads=1)
    if not only or "gamma2" in only:
        found["gamma2"] = Gamma2()
    return found


def evaluate(enh, save: Path | None = None, label: str = "") -> dict:
    """All measurements for one method; returns a dict of summaries and per-case rows."""
    res: dict = {"darkened": [], "mixed": [], "neutral_flat": [], "neutral_photos": [], "well_exposed": [],
                 "reference": []}
    photos = clean_photos()
    # darkened set
    for i, (name, clean) in enumerate(photos.items()):
        for j, k in enumerate(EXPOSURES):
            seed = SEED + 100 * i + j
            noisy, dark0 = darken(clean, k, True, seed), darken(clean, k, False, seed)
            out, out0 = enh.enhance(noisy), enh.enhance(dark0)
            d_in = noisy.astype(np.float64) - dark0
            d_out = out.astype(np.float64) - out0
            amp = (np.sqrt((d_out**2).mean()) / max(out0.mean(), 1e-6)) / (np.sqrt((d_in**2).mean()) / max(dark0.mean(), 1e-6))
            res["darkened"].append({"photo": name, "exposure": k, "input_mean": round(float(noisy.mean()) / 255, 4),
                                    "output_mean": round(float(out.mean()) / 255, 4),
                                    "psnr": round(psnr(out, clean), 3), "ssim": round(ssim(out, clean), 4),
                                    "psnr_mean_matched": round(psnr(mean_matched(out, clean), clean), 3),
                                    "noise_amp_equal_exposure": round(float(amp), 4)})
            if save is not None and name in ("chelsea", "motorcycle_left") and j == 1:
                _save(save / f"{_slug(label)}_{name}_dark32.png", out)
                _save(save / f"input_{name}_dark32.png", noisy)
    # partly dark frames: the left and right halves at different exposures
    for i, (name, clean) in enumerate(photos.items()):
        half = clean.shape[1] // 2
        for j, (left, right) in enumerate(MIXED_EXPOSURES):
            seed = SEED + 1000 + 100 * i + 10 * j
            img = np.concatenate([darken(clean, left, True, seed)[:, :half],
                                  darken(clean, right, True, seed + 1)[:, half:]], axis=1)
            out = enh.enhance(img)
            res["mixed"].append({"photo": name, "exposures": [left, right], "psnr": round(psnr(out, clean), 3),
                                 "output_means": [round(float(out[:, :half].mean()) / 255, 4),
                                                  round(float(out[:, half:].mean()) / 255, 4)]})
    # neutrality: with the enhancer's defaults (maps tied where the input is grey, lowlight.neutral_maps)
    # and, as "spread_weights", with the maps exactly as the network predicts them
    estimator = getattr(enh, "estimator", None)

    def raw(img: np.ndarray) -> np.ndarray:
        if estimator is None:
            return enh.enhance(img)
        estimator.neutral_grey = False
        try:
            return enh.enhance(img)
        finally:
            estimator.neutral_grey = True

    for level in GREY_LEVELS:
        flat = np.full((96, 128, 3), level, np.uint8)
        out = enh.enhance(flat)
        m = out.reshape(-1, 3).mean(0)
        res["neutral_flat"].append({"level": level, "output": [round(float(v), 2) for v in m],
                                    "spread": round(channel_spread(out), 4),
                                    "spread_weights": round(channel_spread(raw(flat)), 4)})
    import skimage.data

    greys = {f"{n}_dark32": grey(darken(p, 1 / 32, True, SEED + 7)) for n, p in photos.items()}
    greys["moon"] = grey(_fit(skimage.data.moon()[..., None].repeat(3, 2)))
    for name, img in reference_dark_photos()[::3]:
        greys[f"grey {name}"] = grey(_fit(img))
    for name, img in greys.items():
        out = enh.enhance(img)
        res["neutral_photos"].append({"photo": name, "output_mean": round(float(out.mean()) / 255, 4),
                                      "spread": round(channel_spread(out), 4),
                                      "spread_weights": round(channel_spread(raw(img)), 4)})
        if save is not None and name == "chelsea_dark32":
            _save(save / f"{_slug(label)}_grey_chelsea_dark32.png", out)
    # well-exposed
    wells = {n: p for n, p in photos.items() if 0.3 <= p.mean() / 255 <= 0.6}
    wells["moon"] = grey(_fit(skimage.data.moon()[..., None].repeat(3, 2)))
    for s in HELD_OUT_SCENES:
        img = generated_scene(s)
        if 0.3 <= img.mean() / 255 <= 0.6:
            wells[f"scene{s}"] = img
    for name, img in wells.items():
        out = enh.enhance(img)
        res["well_exposed"].append({"photo": name, "input_mean": round(float(img.mean()) / 255, 4),
                                    "mean_shift": round(float(out.mean() - img.mean()) / 255, 4),
                                    "newly_clipped": round(newly_clipped(img, out), 5)})
        if save is not None and name == "chelsea":
            _save(save / f"{_slug(label)}_chelsea_clean.png", out)
    # reference dark photos
    for name, img in reference_dark_photos():
        out = enh.enhance(img)
        fin, fout = img.astype(np.float32) / 255, out.astype(np.float32) / 255
        res["reference"].append({"photo": name, "input_mean": round(float(fin.mean()), 4),
                                 "gain": round(float(fout.mean() / max(fin.mean(), 1e-6)), 4),
                                 "cast": round(colour_cast(fout), 4),
                                 "noise_amp": round(noise_amplification(fin, fout, flat_mask(fin)), 3)})
        if save is not None and name in ("DICM/01.jpg", "LIME/10.bmp", "DICM/29.jpg"):
            _save(save / f"{_slug(label)}_{name.replace('/', '_')}.png", out)
    res["summary"] = summarise(res)
    return res


def summarise(res: dict) -> dict:
    def mean(rows, key):
        return round(float(np.mean([r[key] for r in rows])), 4) if rows else None

    def mx(rows, key):
        return round(float(np.max([r[key] for r in rows])), 4) if rows else None

    return {
        "psnr": mean(res["darkened"], "psnr"), "ssim": mean(res["darkened"], "ssim"),
        "psnr_mean_matched": mean(res["darkened"], "psnr_mean_matched"),
        "noise_amp_eq": mean(res["darkened"], "noise_amp_equal_exposure"),
        "mixed_psnr": mean(res["mixed"], "psnr"),
        "flat_grey_spread_max": mx(res["neutral_flat"], "spread"),
        "grey_photo_spread_max": mx(res["neutral_photos"], "spread"),
        "flat_grey_spread_weights": mx(res["neutral_flat"], "spread_weights"),
        "grey_photo_spread_weights": mx(res["neutral_photos"], "spread_weights"),
        "well_mean_shift": mean(res["well_exposed"], "mean_shift"),
        "well_mean_shift_max": mx(res["well_exposed"], "mean_shift"),
        "well_new_clip": mean(res["well_exposed"], "newly_clipped"),
        "ref_gain": mean(res["reference"], "gain"),
        "ref_cast_median": round(float(np.median([r["cast"] for r in res["reference"]])), 4) if res["reference"] else None,
        "ref_noise_amp_median": round(float(np.median([r["noise_amp"] for r in res["reference"]])), 3) if res["reference"] else None,
    }


def _slug(label: str) -> str:
    label = label.replace("++", "pp")
    return "".join(c if c.isalnum() else "_" for c in label).strip("_").lower()


def _save(path: Path, img: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))


COLUMNS = [("psnr", "PSNR"), ("ssim", "SSIM"), ("psnr_mean_matched", "PSNR mm"), ("noise_amp_eq", "noise@eq"),
           ("mixed_psnr", "mixed PSNR"),
           ("flat_grey_spread_max", "grey flat"), ("grey_photo_spread_max", "grey photo"),
           ("flat_grey_spread_weights", "grey flat (weights)"), ("grey_photo_spread_weights", "grey photo (weights)"),
           ("well_mean_shift", "well dmean"), ("well_new_clip", "well clip"), ("ref_gain", "ref gain"),
           ("ref_cast_median", "ref cast"), ("ref_noise_amp_median", "ref noise")]


def table(results: dict[str, dict]) -> str:
    lines = ["| method | " + " | ".join(h for _, h in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for label, res in results.items():
        s = res["summary"]
        lines.append(f"| {label} | " + " | ".join("" if s[k] is None else f"{s[k]:g}" for k, _ in COLUMNS) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", action="append", default=[], metavar="LABEL=PATH", help="extra weights to evaluate")
    ap.add_argument("--only", help="comma-separated labels to run (default: all found)")
    ap.add_argument("--json", default="quality_suite.json", help="where to write the results (default ./quality_suite.json)")
    ap.add_argument("--save-images", metavar="DIR", help="also save a few enhanced PNGs there")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    only = set(args.only.split(",")) if args.only else None
    results = {}
    for label, enh in methods(args.weights, only).items():
        t = time.monotonic()
        results[label] = evaluate(enh, Path(args.save_images) if args.save_images else None, label)
        print(f"{label}: {json.dumps(results[label]['summary'])} ({time.monotonic() - t:.0f} s)", file=sys.stderr, flush=True)
    Path(args.json).write_text(json.dumps({"config": {"exposures": EXPOSURES, "photons": PHOTONS,
                                                      "read_noise": READ_NOISE, "seed": SEED},
                                           "results": results}, indent=1))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
