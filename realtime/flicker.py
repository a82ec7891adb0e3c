"""Flicker measurement on a sequence of frames (used by the tests and ``benchmarks/flicker.py``)."""

from __future__ import annotations

import numpy as np


def jittered(base: np.ndarray, n: int, rng: np.random.Generator, sigma: float = 1.0,
             jitter: float = 0.05) -> list[np.ndarray]:
    """``n`` uint8 frames of a static scene (``base``: float ``H x W x 3`` in [0, 255]) with per-frame
    Gaussian sensor noise (``sigma`` levels) and a random exposure change of up to ``+-jitter``."""
    return [np.clip(base * (1 + rng.uniform(-jitter, jitter)) + rng.normal(0, sigma, base.shape), 0, 255)
            .astype(np.uint8) for _ in range(n)]


def flicker(frames: list[np.ndarray]) -> dict:
    """Mean absolute frame-to-frame change of the mean brightness (``mean``), of 8x8-block means
    (``local``) and of single pixels (``pixel``), in uint8 levels, for ``H x W x 3`` frames."""
    o = np.asarray(frames, dtype=np.float64)
    n, h, w, _ = o.shape
    blocks = o[:, : h // 8 * 8, : w // 8 * 8].reshape(n, h // 8, 8, w // 8, 8, 3).mean(axis=(2, 4))
    return {"mean": float(np.abs(np.diff(o.mean(axis=(1, 2, 3)))).mean()),
            "local": float(np.abs(np.diff(blocks, axis=0)).mean()),
            "pixel": float(np.abs(np.diff(o, axis=0)).mean())}
