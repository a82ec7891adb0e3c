"""The zero-reference training loop (CPU-friendly) with checkpoints and resume."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from lowlight.cpu import flush_denormals
from lowlight.errors import LowlightError, OutputError, WeightsError, first_line
from lowlight.kernels import apply_curves
from lowlight.models import MODELS, init_weights
from lowlight.weights import read_checkpoint, read_checkpoint_file, save_checkpoint
from lowlight.train.config import (DEFAULT_TV_WEIGHT, OFFICIAL_GRAD_CLIP, OFFICIAL_LR,  # noqa: F401 - re-exported
                                   OFFICIAL_WEIGHT_DECAY, TrainConfig)
from lowlight.train.data import ExposureAugment, SensorAugment, load_training_data, sample_batch
from lowlight.train.losses import ZeroReferenceLoss

MAX_SKIPPED = 20  # steps in a row with a non-finite loss before the run stops


def tv_weight(cfg: TrainConfig) -> float:
    """The first-order smoothness weight ``cfg`` asks for (:data:`DEFAULT_TV_WEIGHT` when unset)."""
    return DEFAULT_TV_WEIGHT[cfg.model] if cfg.tv_weight is None else cfg.tv_weight


def make_augment(cfg: TrainConfig):
    """The augmentation ``cfg`` asks for (:class:`SensorAugment` or :class:`ExposureAugment`)."""
    if cfg.augment == "exposure":
        return ExposureAugment(tuple(cfg.gain_range), tuple(cfg.gamma_range))
    if cfg.augment != "sensor":
        raise LowlightError(f"unknown augmentation {cfg.augment!r}: choose 'sensor' or 'exposure'")
    return SensorAugment(grey_prob=cfg.grey_prob, wb=cfg.wb_jitter, exposure_range=tuple(cfg.exposure_range),
                         noise_prob=cfg.noise_prob, photon_range=tuple(cfg.photon_range),
                         read_range=tuple(cfg.read_noise_range), flat_prob=cfg.flat_prob,
                         exposure_gradient=cfg.exposure_gradient)


def checkpoint_path(output: Path) -> Path:
    """Training-state checkpoint kept beside the output weights."""
    return output.with_name(output.name + ".ckpt")


def _progress(total: int, initial: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, disable=not enabled, unit="step", dynamic_ncols=True,
                file=sys.stderr, desc="train")


def train(cfg: TrainConfig, resume: bool = False, progress: bool = True) -> Path:
    """Train ``cfg.model`` on ``cfg.images`` and write lowlight-format weights to ``cfg.output``.

    Every ``checkpoint_every`` steps the full training state (model, optimiser,
    RNG, step, loss history) is written atomically to ``<output>.ckpt``;
    ``resume=True`` continues from it bit-for-bit. Returns the output path.
    """
    output = Path(cfg.output)
    if output.parent and not output.parent.exists():
        raise OutputError(f"{output.parent}: output folder does not exist")
    if not os.access(output.parent or ".", os.W_OK):
        raise OutputError(f"{output.parent}: output folder is not writable")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    images = load_training_data(Path(cfg.images), cfg.crop, frames_per_video=cfg.frames_per_video)
    generator = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    model = init_weights(MODELS[cfg.model](), generator)
    if cfg.init:
        name, state, _ = read_checkpoint(cfg.init)
        if name != cfg.model:
            raise LowlightError(f"{cfg.init}: is a {name} checkpoint, cannot initialise {cfg.model}")
        model.load_state_dict(state)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    criterion = ZeroReferenceLoss(cfg.model, cfg.smoothness_order, spa=cfg.spa_weight, exp=cfg.exp_weight,
                                  col=cfg.col_weight, tv=tv_weight(cfg), tv2=cfg.tv2_weight,
                                  exposure_level=cfg.exposure_level, exposure_target=cfg.exposure_target,
                                  exposure_knee=cfg.exposure_knee, exposure_gamma=cfg.exposure_gamma,
                                  exposure_max_gain=cfg.exposure_max_gain, exposure_context=cfg.exposure_context,
                                  exposure_patch=cfg.exposure_patch,
                                  neutral=cfg.neutral_weight, noise=cfg.noise_weight,
                                  colour=cfg.colour_loss, chroma=cfg.chroma_weight)
    augment = make_augment(cfg)
    with_clean = bool(cfg.noise_weight)
    with_exposed = cfg.exposure_target == "restore"
    if with_clean and cfg.augment != "sensor":
        raise LowlightError("--noise-weight needs --augment sensor (the only augmentation with sensor noise)")
    if with_exposed and cfg.augment != "sensor":
        raise LowlightError("--exposure-target restore needs --augment sensor (it knows each crop's exposure)")
    step = 0
    ckpt = checkpoint_path(output)
    if resume:
        state = read_training_state(ckpt, cfg.model)
        try:
            model.load_state_dict(state["state_dict"])
            optimizer.load_state_dict(state["optimizer"])
            generator.set_state(state["generator"])
            step = int(state["step"])
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise WeightsError(f"{ckpt}: training checkpoint does not match this run ({first_line(exc)}); "
                               "start without --resume or give the run's own options") from None
        cfg.history = list(state["meta"].get("history", []))
    # channels_last: depthwise convs (Zero-DCE++) run ~3x faster on CPU, forward and backward.
    model = model.to(memory_format=torch.channels_last).train()
    running: dict[str, float] = {}
    skipped = 0
    bar = _progress(cfg.steps, step, progress)
    started = time.monotonic()
    try:
        with flush_denormals():
            while step < cfg.steps:
                clean = enhanced_clean = exposed = None
                if with_exposed:
                    batch, clean, exposed = sample_batch(images, cfg.batch_size, cfg.crop, generator, augment,
                                                         with_exposed=True)
                elif with_clean:
                    batch, clean = sample_batch(images, cfg.batch_size, cfg.crop, generator, augment, with_clean=True)
                else:
                    batch = sample_batch(images, cfg.batch_size, cfg.crop, generator, augment)
                batch = batch.contiguous(memory_format=torch.channels_last)
                maps = model(batch)
                enhanced = apply_curves(batch, maps, model.iterations)
                if with_clean:  # the clean crop through the curves estimated from the noisy one
                    enhanced_clean = apply_curves(clean.contiguous(memory_format=torch.channels_last), maps,
                                                  model.iterations)
                loss, terms = criterion(batch, enhanced, maps, clean, enhanced_clean, exposed)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                step += 1
                if torch.isfinite(loss) and torch.isfinite(norm):
                    optimizer.step()
                    terms["total"] = float(loss.detach())
                    for k, v in terms.items():
                        running[k] = v if k not in running else 0.95 * running[k] + 0.05 * v
                else:  # skip the update: one bad batch must not poison the weights
                    skipped += 1
                    if skipped > MAX_SKIPPED:
                        raise LowlightError(f"training diverged: {skipped} steps with non-finite loss or "
                                            f"gradients (last at step {step}); try a lower --lr")
                bar.update(1)
                bar.set_postfix({k: f"{v:.4f}" for k, v in running.items()}, refresh=False)
                if step % 50 == 0 or step == cfg.steps:
                    cfg.history.append({"step": step, **{k: round(v, 6) for k, v in running.items()}})
                if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                    _save_state(ckpt, model, optimizer, generator, step, cfg)
    finally:
        bar.close()
    model = model.to(memory_format=torch.contiguous_format).eval()
    meta = _meta(cfg, step)
    meta["train_seconds"] = round(time.monotonic() - started, 1)
    meta["loss_weights"] = dict(criterion.weights)
    save_checkpoint(output, model, meta=meta)
    return output


def read_training_state(path: Path, model: str) -> dict:
    """The training state in ``path`` (written by :func:`_save_state`) for a ``model`` run.

    Raises:
        WeightsError: missing, unreadable, unsafe (code-running pickles are refused, as for weights),
            not a training checkpoint, or of another model; one line each.
    """
    if not path.exists():
        raise LowlightError(f"{path}: no training checkpoint to resume from")
    state, (name, _, _) = read_checkpoint_file(path)  # safe load (weights_only), format checks, one-line errors
    if name != model:
        raise WeightsError(f"{path}: is a {name} training checkpoint; this run trains {model} (use --model {name})")
    missing = [k for k in ("optimizer", "generator", "step") if k not in state]
    if missing:
        raise WeightsError(f"{path}: holds weights but no training state ({', '.join(missing)} missing); "
                           "use it with --init instead of --resume")
    return state


def _meta(cfg: TrainConfig, step: int) -> dict:
    meta = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items()}
    meta["step"] = step
    meta["torch"] = str(torch.__version__)
    return meta


def _save_state(path: Path, model, optimizer, generator, step: int, cfg: TrainConfig) -> None:
    save_checkpoint(path, model, meta=_meta(cfg, step),
                    extra={"optimizer": optimizer.state_dict(), "generator": generator.get_state(), "step": step})
