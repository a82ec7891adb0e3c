"""What defines a training run: :class:`TrainConfig` and its defaults, without torch.

Kept apart from the loop (:mod:`lowlight.train.loop`) so that the command line can show
``lowlight train``'s options and defaults without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

DEFAULT_FRAMES_PER_VIDEO = 24  #: frames sampled evenly across each training video

# Official optimiser settings (lowlight_train.py of both repositories).
OFFICIAL_LR = 1e-4
OFFICIAL_WEIGHT_DECAY = 1e-4
OFFICIAL_GRAD_CLIP = 0.1
# Default first-order smoothness weights of ``lowlight train`` (``tv_weight=None``). The official ones
# (200 / 1600, losses.OFFICIAL_WEIGHTS) flatten the maps into one global curve within a CPU-sized
# budget (benchmarks/RESULTS.md); 20 lets Zero-DCE++ learn intensity-dependent curves. Zero-DCE's
# term sums 24 map channels instead of 3, hence 20 / 8. Not tuned: a 2000-step Zero-DCE run at 2.5 gave
# edge halos and green casts (benchmarks/RESULTS.md, issue 11), so Zero-DCE needs a higher value; the bundled
# Zero-DCE's second stage uses 10 (lowlight/weights/MODEL_CARD.md).
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
    # > 0: regional target, the tone curve of the (2k+1)^2 patches around each patch applied as a gain
    exposure_context: int = 0
    exposure_patch: int = 16  # side of the blocks the exposure loss compares (the papers' 16)
    spa_weight: Optional[float] = None
    exp_weight: Optional[float] = None
    col_weight: Optional[float] = None
    neutral_weight: float = 20.0
    # "grey-world" (official) or "by-exposure": grey world on dark crops, colour preservation (chroma_weight)
    # on well-exposed ones (losses.ZeroReferenceLoss)
    colour_loss: str = "grey-world"
    chroma_weight: float = 0.0
    # noise amplification at equal exposure (losses.noise_gain); needs augment="sensor"
    noise_weight: float = 0.0
    # "sensor": SensorAugment (greyscale, white balance, noise); "exposure": the original gain/gamma one
    augment: str = "sensor"
    gain_range: tuple = (0.04, 1.6)
    gamma_range: tuple = (0.8, 2.6)
    grey_prob: float = 0.25
    flat_prob: float = 0.0  # fraction of the greyscale crops that are flat grey (SensorAugment.flat_prob)
    wb_jitter: float = 0.3
    exposure_range: tuple = (0.004, 1.5)
    exposure_gradient: float = 0.0  # stops the exposure varies over a crop (SensorAugment.exposure_gradient)
    noise_prob: float = 0.8
    photon_range: tuple = (300.0, 30000.0)
    read_noise_range: tuple = (2e-4, 3e-3)
    frames_per_video: int = DEFAULT_FRAMES_PER_VIDEO
    seed: int = 0
    checkpoint_every: int = 250
    threads: Optional[int] = None
    init: Optional[str] = None
    history: list = field(default_factory=list)


