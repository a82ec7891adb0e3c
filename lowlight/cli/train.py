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


def _probability(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return v


def register(sub) -> None:
    from lowlight.train.config import OFFICIAL_GRAD_CLIP, OFFICIAL_LR, OFFICIAL_WEIGHT_DECAY, TrainConfig

    d = TrainConfig("", "")
    p = sub.add_parser(
        "train", help="train a model on your own photos (no reference images needed)",
        description="Train Zero-DCE / Zero-DCE++ with the zero-reference losses (spatial consistency, exposure "
                    "control, colour constancy, illumination smoothness) on a folder of photos, on CPU. Photos "
                    "are cropped at random and re-exposed at random (gain and gamma) so the net sees under- and "
                    "over-exposed versions. Progress, running losses and checkpoints (OUT.ckpt) as it goes.")
    p.add_argument("images", metavar="IMAGES", help="folder of training photos and/or videos (searched "
                   "recursively), or one video file; videos give --frames-per-video frames each")
    p.add_argument("-o", "--output", required=True, metavar="WEIGHTS", help="where to write the trained weights (.pt)")
    p.add_argument("--model", default=d.model, choices=["zero-dce", "zero-dce++"], help="network (default zero-dce++)")
    p.add_argument("--steps", type=positive_int, default=d.steps, help=f"optimiser steps (default {d.steps})")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size, help=f"crops per step (default {d.batch_size})")
    p.add_argument("--crop", type=positive_int, default=d.crop, help=f"crop side in pixels (default {d.crop})")
    p.add_argument("--lr", type=float, default=d.lr,
                   help=f"Adam learning rate (default {d.lr:g}; official {OFFICIAL_LR:g}, too slow for a CPU-sized budget)")
    p.add_argument("--weight-decay", type=float, default=OFFICIAL_WEIGHT_DECAY,
                   help=f"Adam weight decay (official {OFFICIAL_WEIGHT_DECAY})")
    p.add_argument("--grad-clip", type=float, default=OFFICIAL_GRAD_CLIP,
                   help=f"gradient norm clip (official {OFFICIAL_GRAD_CLIP})")
    p.add_argument("--smoothness-order", type=int, choices=[1, 2], default=1,
                   help="illumination smoothness: 1 = official total variation of the curve maps, "
                        "2 = second-derivative (Hessian) penalty, which charges noise-like spots more than "
                        "smooth illumination gradients (default 1)")
    p.add_argument("--tv-weight", type=float,
                   help="weight of first-order smoothness (default 20 zero-dce++, 2.5 zero-dce, the latter untuned "
                        "and prone to edge halos; official 1600 and 200, which give near-global curves in a "
                        "CPU-sized budget)")
    p.add_argument("--tv2-weight", type=float, help="weight of second-order smoothness (default: the first-order weight)")
    p.add_argument("--exposure-level", type=float, default=d.exposure_level, help="--exposure-target fixed: target brightness of 16x16 patches, in [0, 1] (default 0.6, the papers' E)")
    p.add_argument("--exposure-target", choices=["fixed", "adaptive", "restore"], default=d.exposure_target,
                   help="exposure loss target per 16x16 patch: 'fixed' = --exposure-level everywhere (official); "
                        "'adaptive' = a monotone shadow lift of the patch's own brightness m: knee * (m / knee) ** "
                        "gamma below the knee (at most --exposure-max-gain times m), m itself above it, so "
                        "well-exposed content is left alone and nothing is darkened; 'restore' = the patch's "
                        "brightness before the sensor augmentation darkened it (at most --exposure-max-gain times "
                        f"m, never darker than m) (default {d.exposure_target})")
    p.add_argument("--exposure-knee", type=float, default=d.exposure_knee,
                   help=f"adaptive target: patch brightness from which the target is the patch itself (default {d.exposure_knee})")
    p.add_argument("--exposure-gamma", type=float, default=d.exposure_gamma,
                   help=f"adaptive target: power of the shadow lift below the knee, < 1 brightens (default {d.exposure_gamma})")
    p.add_argument("--exposure-max-gain", type=float, default=d.exposure_max_gain,
                   help="adaptive and restore targets: never ask for more than this many times a patch's input brightness, so "
                        f"black regions stay dark ('inf' = no cap; default {d.exposure_max_gain:g})")
    p.add_argument("--exposure-context", type=int, default=d.exposure_context, metavar="K",
                   help="adaptive target: 0 = per 16x16 patch; K > 0 = regional, the curve of the mean of the "
                        "(2K+1) x (2K+1) patches around each patch applied as a gain (default %(default)s)")
    p.add_argument("--exposure-patch", type=int, default=d.exposure_patch, metavar="P",
                   help="side in pixels of the blocks whose brightness the exposure loss compares (default %(default)s, "
                        "the papers'; smaller asks for the brightness of finer structure)")
    p.add_argument("--spa-weight", type=float, help="spatial consistency weight (official 1)")
    p.add_argument("--exp-weight", type=float, help="exposure weight (official 10)")
    p.add_argument("--col-weight", type=float, help="colour constancy (grey-world) weight (official 5)")
    p.add_argument("--neutral-weight", type=float, default=d.neutral_weight,
                   help="weight of the neutrality loss: channel differences of the curve maps where the input is "
                        f"grey (0 = off, the official loss; default {d.neutral_weight})")
    p.add_argument("--colour-loss", choices=["grey-world", "by-exposure"], default=d.colour_loss,
                   help="'grey-world': the official colour constancy on every crop; 'by-exposure': grey world "
                        "weighted by how dark the crop is, plus keeping the colour balance of well-exposed crops "
                        "(--chroma-weight) (default %(default)s)")
    p.add_argument("--chroma-weight", type=float, default=d.chroma_weight,
                   help="--colour-loss by-exposure: weight of colour-balance preservation (default %(default)s)")
    p.add_argument("--noise-weight", type=float, default=d.noise_weight,
                   help="weight of the noise-amplification term: the noise-to-signal gain of the curves on "
                        "each noisy crop against its clean version (--augment sensor only; "
                        f"default {d.noise_weight:g})")
    p.add_argument("--augment", choices=["sensor", "exposure"], default=d.augment,
                   help="'sensor': greyscale crops, white-balance jitter, exposure in linear light with shot and read "
                        "noise, 8-bit rounding; 'exposure': the original gain/gamma re-exposure "
                        f"(default {d.augment})")
    p.add_argument("--gain-range", type=_range, default=d.gain_range, metavar="LO,HI",
                   help=f"--augment exposure: log-uniform gain range (default {d.gain_range[0]},{d.gain_range[1]})")
    p.add_argument("--gamma-range", type=_range, default=d.gamma_range, metavar="LO,HI",
                   help=f"--augment exposure: uniform gamma range (default {d.gamma_range[0]},{d.gamma_range[1]})")
    p.add_argument("--grey-prob", type=_probability, default=d.grey_prob,
                   help=f"--augment sensor: fraction of crops made greyscale (default {d.grey_prob})")
    p.add_argument("--flat-prob", type=_probability, default=d.flat_prob,
                   help=f"--augment sensor: fraction of the greyscale crops replaced by a flat grey (default {d.flat_prob})")
    p.add_argument("--wb-jitter", type=float, default=d.wb_jitter,
                   help="--augment sensor: red and blue gains log-uniform in [1/(1+J), 1+J] on colour crops "
                        f"(default {d.wb_jitter})")
    p.add_argument("--exposure-range", type=_range, default=d.exposure_range, metavar="LO,HI",
                   help="--augment sensor: log-uniform exposure scale in linear light "
                        f"(default {d.exposure_range[0]},{d.exposure_range[1]})")
    p.add_argument("--exposure-gradient", type=float, default=d.exposure_gradient, metavar="STOPS",
                   help="--augment sensor: on half the crops the exposure varies by up to this many stops across "
                        "the crop, along a random direction, so partly dark frames are seen (default %(default)s)")
    p.add_argument("--noise-prob", type=_probability, default=d.noise_prob,
                   help=f"--augment sensor: fraction of crops with sensor noise (default {d.noise_prob})")
    p.add_argument("--photon-range", type=_range, default=d.photon_range, metavar="LO,HI",
                   help="--augment sensor: shot noise, electrons per full-scale pixel at the darkened exposure, "
                        f"log-uniform (default {d.photon_range[0]:g},{d.photon_range[1]:g})")
    p.add_argument("--read-noise-range", type=_range, default=d.read_noise_range, metavar="LO,HI",
                   help="--augment sensor: read noise standard deviation as a fraction of full scale, log-uniform "
                        f"(default {d.read_noise_range[0]:g},{d.read_noise_range[1]:g})")
    p.add_argument("--frames-per-video", type=positive_int, default=d.frames_per_video,
                   help=f"frames sampled evenly across each training video (default {d.frames_per_video})")
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
        exposure_level=args.exposure_level, exposure_target=args.exposure_target, exposure_knee=args.exposure_knee,
        exposure_gamma=args.exposure_gamma,
        exposure_max_gain=args.exposure_max_gain, exposure_context=args.exposure_context,
        exposure_patch=args.exposure_patch,
        spa_weight=args.spa_weight, exp_weight=args.exp_weight,
        col_weight=args.col_weight,
        neutral_weight=args.neutral_weight, noise_weight=args.noise_weight,
        colour_loss=args.colour_loss, chroma_weight=args.chroma_weight, augment=args.augment, gain_range=args.gain_range,
        gamma_range=args.gamma_range, grey_prob=args.grey_prob, flat_prob=args.flat_prob, wb_jitter=args.wb_jitter,
        exposure_range=args.exposure_range, exposure_gradient=args.exposure_gradient, noise_prob=args.noise_prob,
        photon_range=args.photon_range,
        read_noise_range=args.read_noise_range, frames_per_video=args.frames_per_video,
        seed=args.seed, checkpoint_every=args.checkpoint_every, threads=args.threads, init=args.init)
    with output_files([args.output], args.overwrite or args.resume):
        out = train(cfg, resume=args.resume, progress=not args.quiet)
    last = cfg.history[-1] if cfg.history else {}
    summary = ", ".join(f"{k} {v:.4f}" for k, v in last.items() if k != "step")
    print(f"wrote {Path(out)} after {cfg.steps} steps ({summary})", file=sys.stderr)
    return 0
