"""Benchmark clips: :mod:`lowlight.realtime.synthetic` panning over the shared reference photo when present."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lowlight.realtime.synthetic import dark_scene as _dark_scene
from lowlight.realtime.synthetic import make_clip as _make_clip

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO.parent / "shared" / "reference" / "images" / "real" / "11_0_.png"


def dark_scene(width: int, height: int) -> np.ndarray:
    """A dark RGB picture a bit larger than ``width x height``: the reference photo, else the bundled sample."""
    return _dark_scene(width, height, PHOTO if PHOTO.exists() else None)


def make_clip(path: Path, width: int, height: int, frames: int, fps: int = 30, audio: bool = True,
              crf: int = 18, scene: np.ndarray | None = None) -> Path:
    """:func:`lowlight.realtime.synthetic.make_clip` over :func:`dark_scene` by default."""
    return _make_clip(path, width, height, frames, fps=fps, audio=audio, crf=crf,
                      scene=dark_scene(width, height) if scene is None else scene)
