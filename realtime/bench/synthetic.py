"""Synthetic dark test clips: a real dark photo panning slowly, with sensor-like noise.

Used by ``lowlight bench`` (so it needs no input file) and by the scripts in
``benchmarks/``. The default scene is the bundled sample photo
(``lowlight/samples/dark_coffee.png``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import cv2
import numpy as np

import lowlight

# Next to the lowlight package, wherever lowlight.realtime itself lives (in a source checkout the
# realtime/ folder is not inside lowlight/).
SAMPLE_PHOTO = Path(lowlight.__file__).resolve().parent / "samples" / "dark_coffee.png"


def dark_scene(width: int, height: int, photo: Optional[Path] = None) -> np.ndarray:
    """A dark float32 RGB picture 10% larger than ``width x height`` (room to pan), values 0-255.

    ``photo``: a dark picture to use (default: the bundled sample); a smooth
    synthetic gradient when it cannot be read.
    """
    W, H = int(width * 1.1), int(height * 1.1)
    path = photo if photo is not None else SAMPLE_PHOTO
    bgr = cv2.imread(str(path)) if Path(path).exists() else None
    if bgr is None:
        x = np.linspace(0, 1, W)[None, :, None]
        y = np.linspace(0, 1, H)[:, None, None]
        return (8 + 40 * x * y * np.array([1.0, 0.8, 0.6])).astype(np.float32)
    return cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (W, H), interpolation=cv2.INTER_CUBIC).astype(np.float32)


def make_clip(path: Path, width: int, height: int, frames: int, fps: int = 30, audio: bool = True,
              crf: int = 18, scene: Optional[np.ndarray] = None) -> Path:
    """Write an H.264 (+ stereo AAC) clip of a dark scene panning slowly, with noise (sigma 2 levels).

    Args:
        path: output file (.mp4/.mkv/.mov).
        width, height: frame size (even numbers for yuv420p).
        frames: number of video frames.
        scene: float32 RGB picture at least ``width x height`` to pan over (default :func:`dark_scene`).
    Returns:
        ``path``.
    """
    import av

    scene = dark_scene(width, height) if scene is None else scene
    rng = np.random.default_rng(0)
    dx, dy = scene.shape[1] - width, scene.shape[0] - height
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=fps, options={"preset": "veryfast", "crf": str(crf)})
        v.width, v.height, v.pix_fmt = width, height, "yuv420p"
        a = None
        if audio:
            a = c.add_stream("aac", rate=48000)
            a.layout = "stereo"
        for i in range(frames):
            t = i / max(1, frames - 1)
            x0, y0 = int(dx * t), int(dy * (1 - t) / 2)
            img = scene[y0:y0 + height, x0:x0 + width] + rng.normal(0, 2, (height, width, 3))
            f = av.VideoFrame.from_ndarray(np.clip(img, 0, 255).astype(np.uint8), format="rgb24")
            f.pts = i
            c.mux(v.encode(f))
        c.mux(v.encode(None))
        if a is not None:
            n, t = int(frames / fps * 48000), 0
            while t < n:
                wave = (0.1 * np.sin(2 * np.pi * 440 * (t + np.arange(1024)) / 48000)).astype(np.float32)
                af = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
                af.sample_rate, af.pts = 48000, t
                t += 1024
                c.mux(a.encode(af))
            c.mux(a.encode(None))
    return path
