"""Export the freely licensed scikit-image sample photos used to train the bundled weights.

``python -m lowlight.train.sample_data OUT_DIR`` writes them as PNG files
(needs ``pip install lowlight[train]``). Licences, as stated in scikit-image's
``skimage.data`` documentation:

==================  =========================================================
astronaut           NASA Great Images (public domain)
camera              CC0, Lav Varshney (grayscale)
chelsea             CC0, Stefan van der Walt
coffee              CC0, Rachel Michetti
hubble_deep_field   NASA / HubbleSite (public domain)
rocket              SpaceX, released into the public domain
==================  =========================================================
"""

from __future__ import annotations

import sys
from pathlib import Path

SAMPLES = ("astronaut", "camera", "chelsea", "coffee", "hubble_deep_field", "rocket")


def export(out_dir: Path) -> list[Path]:
    """Write each sample photo to ``out_dir/<name>.png``; returns the paths."""
    try:
        import skimage.data
    except ImportError:
        sys.exit("scikit-image is needed: pip install 'lowlight[train]'")
    from lowlight.imageio import write_image

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in SAMPLES:
        img = getattr(skimage.data, name)()
        if img.ndim == 2:
            img = img[:, :, None]
        path = out_dir / f"{name}.png"
        write_image(path, img)
        paths.append(path)
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m lowlight.train.sample_data OUT_DIR")
    for p in export(Path(sys.argv[1])):
        print(p)
