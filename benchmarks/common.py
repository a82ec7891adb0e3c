"""What the benchmark scripts share: paths, the reference data, default weights, timing, machine
info and the test clips. Each script does ``sys.path.insert(0, <this folder>)`` and imports from here.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from lowlight.realtime.bench.harness import machine_info  # noqa: F401 - re-exported for the scripts
from lowlight.realtime.bench.synthetic import dark_scene as _dark_scene
from lowlight.realtime.bench.synthetic import make_clip as _make_clip

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"  # official checkpoints and photos (CC BY-NC), when present
PHOTO = REFERENCE / "images" / "real" / "11_0_.png"


def default_weights(model: str = "zero-dce++") -> Optional[str]:
    """``None`` (the bundled weights) when they are installed, else the official checkpoint's path."""
    from lowlight.weights import BUNDLED

    if BUNDLED[model].exists():
        return None
    return str(REFERENCE / "weights" / ("zero_dce_pp.pth" if model == "zero-dce++" else "zero_dce.pth"))


def median_ms(fn: Callable[[], object], repeats: int, sync: Optional[Callable[[], None]] = None,
              warmup: int = 1) -> float:
    """Median milliseconds of ``fn()`` over ``repeats`` timed calls after ``warmup`` untimed ones
    (``sync``: called after each, e.g. ``torch.cuda.synchronize``)."""
    for _ in range(warmup):
        fn()
        if sync:
            sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def dark_scene(width: int, height: int) -> np.ndarray:
    """A dark RGB picture a bit larger than ``width x height``: the reference photo, else the bundled sample."""
    return _dark_scene(width, height, PHOTO if PHOTO.exists() else None)


def make_clip(path: Path, width: int, height: int, frames: int, fps: int = 30, audio: bool = True,
              crf: int = 18, scene: np.ndarray | None = None) -> Path:
    """:func:`lowlight.realtime.bench.synthetic.make_clip` over :func:`dark_scene` by default."""
    return _make_clip(path, width, height, frames, fps=fps, audio=audio, crf=crf,
                      scene=dark_scene(width, height) if scene is None else scene)
