"""``lowlight train``: zero-reference training on a folder of photos."""

from __future__ import annotations

import argparse
from pathlib import Path

from lowlight.cli.options import add_overwrite_option, output_files, positive_int


def _range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO,HI, got {text!r}") from None
    if not 0 < lo <= hi:
        raise argparse.ArgumentTypeError(f"expected 0 < LO <= HI, got {text!r}")
    return lo, hi


def register(sub) -> None:
    from lowlight.train.loop import OFFICIAL_GRAD_CLIP, OFFICIAL_LR, OFFICIAL_WEIGHT_DECAY, TrainConfig

    d = TrainConfig("", "")
    p = sub.add_parser(
        "train", help="train a model on your own photos (no reference images needed)",
        description="Train Zero-DCE / Zero-DCE++ with the zero-reference losses (spatial consistency, exposure "
                    "control, colour constancy, illumination smoothness) on a folder of photos, on CPU. Photos "
                    "are cropped at random and re-exposed at random (gain and gamma) so the net sees under- and "
                    "over-exposed versions. Progress, running losses and checkpoints (OUT.ckpt) as it goes.")
    p.add_argument("images", metavar="IMAGES_DIR", help="folder of training photos (searched recursively)")
    p.add_argument("-o", "--output", required=True, metavar="WEIGHTS", help="where to write the trained weights (.pt)")
    p.add_argument("--model", default=d.model, choices=["zero-dce", "zero-dce++"], help="network (default zero-dce++)")
    p.add_argument("--steps", type=positive_int, default=d.steps, help=f"optimiser steps (default {d.steps})")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size, help=f"crops per step (default {d.batch_size})")
    p.add_argument("--crop", type=positive_int, default=d.crop, help=f"crop side in pixels (default {d.crop})")
    p.add_argument("--lr", type=float, default=OFFICIAL_LR, help=f"Adam learning rate (official {OFFICIAL_LR})")
    p.add_argument("--weight-decay", type=float, default=OFFICIAL_WEIGHT_DECAY,
                   help=f"Adam weight decay (official {OFFICIAL_WEIGHT_DECAY})")
    p.add_argument("--grad-clip", type=float, default=OFFICIAL_GRAD_CLIP,
                   help=f"gradient norm clip (official {OFFICIAL_GRAD_CLIP})")
    p.add_argument("--smoothness-order", type=int, choices=[1, 2], default=1,
                   help="illumination smoothness: 1 = official total variation of the curve maps, "
                        "2 = second-derivative (Hessian) penalty, which charges noise-like spots more than "
                        "smooth illumination gradients (default 1)")
    p.add_argument("--tv-weight", type=float, help="weight of first-order smoothness (official: 200 zero-dce, 1600 zero-dce++)")
    p.add_argument("--tv2-weight", type=float, help="weight of second-order smoothness (default: the first-order weight)")
    p.add_argument("--exposure-level", type=float, default=d.exposure_level, help="target brightness of 16x16 patches, in [0, 1] (default 0.6, the papers' E; "
                        "short CPU runs at 0.6 give over-bright models, the bundled weights were fine-tuned at 0.4)")
    p.add_argument("--gain-range", type=_range, default=d.gain_range, metavar="LO,HI",
                   help=f"exposure augmentation: log-uniform gain range (default {d.gain_range[0]},{d.gain_range[1]})")
    p.add_argument("--gamma-range", type=_range, default=d.gamma_range, metavar="LO,HI",
                   help=f"exposure augmentation: uniform gamma range (default {d.gamma_range[0]},{d.gamma_range[1]})")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed and data repeat a run (default 0)")
    p.add_argument("--checkpoint-every", type=positive_int, default=d.checkpoint_every,
                   help=f"write OUT.ckpt every N steps (default {d.checkpoint_every})")
    p.add_argument("--resume", action="store_true", help="continue from OUT.ckpt")
    p.add_argument("--init", metavar="WEIGHTS", help="start from these weights instead of a random initialisation")
    p.add_argument("--threads", type=positive_int, help="torch CPU threads (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_overwrite_option(p, "weights (not needed with --resume)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from lowlight.train.loop import TrainConfig, train

    cfg = TrainConfig(
        images=args.images, output=args.output, model=args.model, steps=args.steps, batch_size=args.batch_size,
        crop=args.crop, lr=args.lr, weight_decay=args.weight_decay, grad_clip=args.grad_clip,
        smoothness_order=args.smoothness_order, tv_weight=args.tv_weight, tv2_weight=args.tv2_weight,
        exposure_level=args.exposure_level, gain_range=args.gain_range, gamma_range=args.gamma_range,
        seed=args.seed, checkpoint_every=args.checkpoint_every, threads=args.threads, init=args.init)
    with output_files([args.output], args.overwrite or args.resume):
        out = train(cfg, resume=args.resume, progress=not args.quiet)
    last = cfg.history[-1] if cfg.history else {}
    summary = ", ".join(f"{k} {v:.4f}" for k, v in last.items() if k != "step")
    print(f"wrote {Path(out)} after {cfg.steps} steps ({summary})", file=sys.stderr)
    return 0
