"""Export the freely licensed training photos for the bundled weights, plus generated scenes.

``python -m lowlight.train.sample_data OUT_DIR`` writes PNG files (needs
``pip install lowlight[train]``). Photos ship inside scikit-image
(``skimage.data``, no download); licences as stated in their ``skimage.data``
docstrings:

==================  ==========================================================
astronaut           NASA Great Images: public domain
brick               CC0Textures "Bricks25", CC0 (grayscale)
camera              CC0, Lav Varshney (grayscale)
cell                CC0 (grayscale microscopy)
clock               public domain, Stefan van der Walt (grayscale)
coffee              CC0, Rachel Michetti
grass               DeviantArt linolafett "Grass 01", CC0 (grayscale)
gravel              CC0Textures "Gravel04", CC0 (grayscale)
hubble_deep_field   NASA / HubbleSite: public domain
microaneurysms      CC0, Andreas Maier (grayscale)
text                public domain (grayscale)
==================  ==========================================================

``chelsea`` (CC0) and ``rocket`` (public domain), which the first bundled weights
trained on, are held out for ``benchmarks/quality_suite.py``; ``--v1`` exports the
first weights' six photos (astronaut, camera, chelsea, coffee, hubble_deep_field,
rocket) and no generated scenes.

``generated_NN.png`` are procedural scenes (this module, seeded): smooth
illumination gradients, grey and coloured shapes, grey ramps and textures. They
carry no licence restrictions.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

SAMPLES = ("astronaut", "brick", "camera", "cell", "clock", "coffee", "grass", "gravel", "hubble_deep_field",
           "microaneurysms", "text")
HELD_OUT = ("chelsea", "rocket")
# The six photos the first bundled weights were trained on (``--v1``; see lowlight/weights/MODEL_CARD.md).
SAMPLES_V1 = ("astronaut", "camera", "chelsea", "coffee", "hubble_deep_field", "rocket")
GENERATED = 12


def generated_scene(seed: int, size: tuple[int, int] = (384, 512)) -> np.ndarray:
    """A procedural uint8 RGB scene: a lit backdrop, shapes, a grey ramp and fine texture.

    About half the shapes are neutral grey (so neutral content is common), the rest have
    random hues; the backdrop has a smooth illumination fall-off like a lamp-lit room.
    """
    import cv2

    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    fall = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (rng.uniform(0.3, 1.0) * max(h, w)) ** 2))
    tint = rng.uniform(0.85, 1.15, 3) if rng.random() < 0.5 else np.ones(3)
    base = rng.uniform(0.2, 0.8)
    img = (base * (0.3 + 0.7 * fall))[..., None] * tint[None, None, :]
    for _ in range(rng.integers(8, 20)):
        grey = rng.random() < 0.5
        colour = np.full(3, rng.uniform(0.05, 0.95)) if grey else rng.uniform(0.02, 0.95, 3)
        colour = tuple(float(c) for c in colour)
        if rng.random() < 0.5:
            c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.circle(img, c, int(rng.integers(8, max(h, w) // 5)), colour, -1, cv2.LINE_AA)
        else:
            p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            p2 = (p1[0] + int(rng.integers(10, w // 3)), p1[1] + int(rng.integers(10, h // 3)))
            cv2.rectangle(img, p1, p2, colour, -1)
    # a neutral ramp, black to white, somewhere in the scene
    y0 = int(rng.integers(0, h - 40))
    img[y0 : y0 + 32, :] = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    texture = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(0.7, 3.0))
    img = img * (1 + 0.08 * texture[..., None]) * (0.3 + 0.7 * fall[..., None]) / (0.3 + 0.7 * fall.mean())
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def export(out_dir: Path, generated: int = GENERATED, names: tuple[str, ...] = SAMPLES) -> list[Path]:
    """Write each photo in ``names`` to ``out_dir/<name>.png`` and ``generated`` scenes; returns the paths."""
    try:
        import skimage.data
    except ImportError:
        sys.exit("scikit-image is needed: pip install 'lowlight[train]'")
    from lowlight.imageio import write_image

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        img = getattr(skimage.data, name)()
        if img.ndim == 2:
            img = img[:, :, None]
        path = out_dir / f"{name}.png"
        write_image(path, img[..., :3])
        paths.append(path)
    for i in range(generated):
        path = out_dir / f"generated_{i:02d}.png"
        write_image(path, generated_scene(i))
        paths.append(path)
    return paths


if __name__ == "__main__":
    args = sys.argv[1:]
    v1 = "--v1" in args
    args = [a for a in args if a != "--v1"]
    if len(args) != 1:
        sys.exit("usage: python -m lowlight.train.sample_data [--v1] OUT_DIR\n"
                 "  --v1: only the six photos of the first bundled weights, no generated scenes")
    for p in export(Path(args[0]), 0 if v1 else GENERATED, SAMPLES_V1 if v1 else SAMPLES):
        print(p)
