"""The zero-reference training loop (CPU-friendly) with checkpoints and resume."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import torch

from lowlight.cpu import flush_denormals
from lowlight.errors import LowlightError, OutputError
from lowlight.kernels import apply_curves
from lowlight.models import MODELS, init_weights
from lowlight.weights import read_checkpoint, save_checkpoint
from lowlight.train.data import (DEFAULT_FRAMES_PER_VIDEO, ExposureAugment, SensorAugment, load_training_data,
                                 sample_batch)
from lowlight.train.losses import ZeroReferenceLoss

# Official optimiser settings (lowlight_train.py of both repositories).
OFFICIAL_LR = 1e-4
OFFICIAL_WEIGHT_DECAY = 1e-4
OFFICIAL_GRAD_CLIP = 0.1
MAX_SKIPPED = 20
# Default first-order smoothness weights of ``lowlight train`` (``tv_weight=None``). The official ones
# (200 / 1600, losses.OFFICIAL_WEIGHTS) flatten the maps into one global curve within a CPU-sized
# budget (benchmarks/RESULTS.md); 20 lets Zero-DCE++ learn intensity-dependent curves. Zero-DCE's
# term sums 24 map channels instead of 3, hence 20 / 8. Not tuned: a 2000-step Zero-DCE run at 2.5 gave
# edge halos and green casts (benchmarks/RESULTS.md, issue 11), so Zero-DCE needs a higher value.
DEFAULT_TV_WEIGHT = {"zero-dce++": 20.0, "zero-dce": 2.5}


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved into the weights' metadata)."""

    images: str
    output: str
    model: str = "zero-dce++"
    steps: int = 2000
    batch_size: int = 8
    crop: int = 128
    lr: float = 1e-3
    weight_decay: float = OFFICIAL_WEIGHT_DECAY
    grad_clip: float = OFFICIAL_GRAD_CLIP
    smoothness_order: int = 1
    tv_weight: Optional[float] = None
    tv2_weight: Optional[float] = None
    exposure_level: float = 0.6
    # "adaptive": per-patch target that leaves well-exposed patches alone (losses.adaptive_exposure_target)
    exposure_target: str = "adaptive"
    exposure_knee: float = 0.4
    exposure_gamma: float = 0.2
    exposure_max_gain: float = 16.0
    spa_weight: Optional[float] = None
    exp_weight: Optional[float] = None
    col_weight: Optional[float] = None
    neutral_weight: float = 20.0
    # "sensor": SensorAugment (greyscale, white balance, noise); "exposure": the original gain/gamma one
    augment: str = "sensor"
    gain_range: tuple = (0.04, 1.6)
    gamma_range: tuple = (0.8, 2.6)
    grey_prob: float = 0.25
    wb_jitter: float = 0.3
    exposure_range: tuple = (0.004, 1.5)
    noise_prob: float = 0.8
    photon_range: tuple = (300.0, 30000.0)
    read_noise_range: tuple = (2e-4, 3e-3)
    frames_per_video: int = DEFAULT_FRAMES_PER_VIDEO
    seed: int = 0
    checkpoint_every: int = 250
    threads: Optional[int] = None
    init: Optional[str] = None
    history: list = field(default_factory=list)


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
                         read_range=tuple(cfg.read_noise_range))


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
                                  exposure_max_gain=cfg.exposure_max_gain,
                                  neutral=cfg.neutral_weight)
    augment = make_augment(cfg)
    step = 0
    ckpt = checkpoint_path(output)
    if resume:
        if not ckpt.exists():
            raise LowlightError(f"{ckpt}: no training checkpoint to resume from")
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
        model.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        step = int(state["step"])
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
                batch = sample_batch(images, cfg.batch_size, cfg.crop, generator, augment)
                batch = batch.contiguous(memory_format=torch.channels_last)
                maps = model(batch)
                enhanced = apply_curves(batch, maps, model.iterations)
                loss, terms = criterion(batch, enhanced, maps)
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


def _meta(cfg: TrainConfig, step: int) -> dict:
    meta = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items()}
    meta["step"] = step
    meta["torch"] = str(torch.__version__)
    return meta


def _save_state(path: Path, model, optimizer, generator, step: int, cfg: TrainConfig) -> None:
    save_checkpoint(path, model, meta=_meta(cfg, step),
                    extra={"optimizer": optimizer.state_dict(), "generator": generator.get_state(), "step": step})
