"""Make the bundled sample video ``lowlight/samples/dark_coffee.mp4``.

A 3-second 480x320 H.264 + AAC clip panning slowly over the bundled dark sample photo
(``dark_coffee.png``: scikit-image's CC0 ``coffee`` photo, darkened), with fresh sensor-like noise
in every frame. ``python benchmarks/make_sample_video.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import make_clip  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "lowlight" / "samples"

if __name__ == "__main__":
    photo = cv2.cvtColor(cv2.imread(str(SAMPLES / "dark_coffee.png")), cv2.COLOR_BGR2RGB).astype(np.float32)
    scene = cv2.resize(photo, (528, 352), interpolation=cv2.INTER_AREA)
    print(make_clip(SAMPLES / "dark_coffee.mp4", 480, 320, frames=90, fps=30, crf=26, scene=scene))
