"""Neutral in, neutral out: the three channels' curve maps are made equal where the input is grey (issue 11).

Zero-DCE and Zero-DCE++ predict one curve map per colour channel. Where the input is grey (a
monochrome CCTV or infrared camera, a grey wall, fog) any difference between the channels' maps
turns grey into a colour, and a small difference compounds over the curve steps: trained with a
neutrality term (``lowlight.train.losses.neutrality``), the bundled weights still leave a 1-5 % tint on
flat grey, the official checkpoints 9-16 % (``benchmarks/quality_suite.py``). So by default the Estimator ties the maps where the input is grey:

* ``greyness = clamp(1 - chroma / TOLERANCE, 0, 1)`` per map pixel, with ``chroma = (max_c - min_c)
  / (mean_c + 0.02)`` of the network's own input box-filtered over ``POOL x POOL`` px (so sensor
  chroma noise does not count), the same measure the training term uses;
* each iteration's three maps ``a_c`` become ``a_c - greyness * (a_c - mean_c a)``: where the input
  is grey (``greyness = 1``) all three channels get their mean map, so R = G = B stays R = G = B;
  where it has colour (chroma >= ``TOLERANCE``, 6 %) the maps are the network's, untouched.

A colour photo changes only in its near-grey parts, and there only in chroma: the mean map (the
brightness the network asked for) is kept. ``Enhancer(neutral_grey=False)`` turns it off (the
maps exactly as the network predicts them, as the conformance tests compare).

Works on NumPy arrays (OpenCV box filter, no torch) and on torch tensors (on their device).
"""

from __future__ import annotations

import numpy as np

TOLERANCE = 0.06  #: input chroma from which a pixel's maps are left as predicted
POOL = 5  #: box filter of the input before its chroma is measured (px at the maps' resolution)


def _box(x: np.ndarray, pool: int) -> np.ndarray:
    """``x``: ``3 x h x w`` float32 -> the same, box-filtered ``pool x pool``: the mean of the pixels inside
    the image, as torch's ``avg_pool2d(..., count_include_pad=False)`` on the torch path."""
    import cv2

    def box(c):
        return cv2.blur(c, (pool, pool), borderType=cv2.BORDER_CONSTANT)

    count = box(np.ones(x.shape[1:], np.float32))
    return np.stack([box(np.ascontiguousarray(c, np.float32)) / count for c in x])


def greyness(x, tolerance: float = TOLERANCE, pool: int = POOL):
    """How grey each pixel of ``x`` is: ``1 x h x w`` in [0, 1] (1: R = G = B locally, 0: chroma >= ``tolerance``).

    ``x``: the network's input, ``3 x h x w`` float32 in [0, 1], NumPy or torch (same type out); a torch
    batch ``N x 3 x h x w`` gives ``N x 1 x h x w`` (the training term,
    :func:`lowlight.train.losses.neutrality`, measures greyness with this function too).
    """
    if isinstance(x, np.ndarray):
        b = _box(x, pool) if pool > 1 else x
        chroma = (b.max(0, keepdims=True) - b.min(0, keepdims=True)) / (b.mean(0, keepdims=True) + 0.02)
        return np.clip(1.0 - chroma / tolerance, 0.0, 1.0)
    import torch.nn.functional as F

    b = x.float() if x.dim() == 4 else x.float()[None]
    if pool > 1:
        b = F.avg_pool2d(b, pool, stride=1, padding=pool // 2, count_include_pad=False)
    chroma = (b.amax(1, keepdim=True) - b.amin(1, keepdim=True)) / (b.mean(1, keepdim=True) + 0.02)
    g = (1.0 - chroma / tolerance).clamp(0.0, 1.0)
    return g if x.dim() == 4 else g[0]


def tie_grey_maps(maps, x, tolerance: float = TOLERANCE, pool: int = POOL):
    """``maps`` (``3k x h x w`` float32 in [-1, 1], k iterations of RGB maps) with each iteration's three
    channels pulled to their mean by :func:`greyness` of ``x`` (the network's input, ``3 x h x w`` at the
    maps' resolution, [0, 1]). NumPy or torch, as given; a new array, contiguous, same dtype."""
    c, h, w = maps.shape
    if tuple(x.shape[-2:]) != (h, w):
        raise ValueError(f"input {tuple(x.shape)} and maps {tuple(maps.shape)} differ in size")
    g = greyness(x, tolerance, pool)
    a = maps.reshape(c // 3, 3, h, w)
    if isinstance(a, np.ndarray):
        mean = a.mean(1, keepdims=True)
        out = a - g[None].astype(a.dtype) * (a - mean)
        return np.ascontiguousarray(out.reshape(c, h, w), dtype=maps.dtype)
    mean = a.mean(1, keepdim=True)
    return (a - g[None].to(a.dtype) * (a - mean)).reshape(c, h, w).contiguous()
