"""The estimation copy (`lowlight/estimation.py`): an area average of the frame at any frame size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lowlight.estimation import area_resize


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth pattern plus noise, uint8 RGB."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = 60 + 50 * np.sin(xx / 37.0)[..., None] * np.cos(yy / 23.0)[..., None] * np.array([1.0, 0.7, 0.4])
    return np.clip(base + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.uint8)


def direct(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("hw", [(1080, 1920), (720, 1280), (540, 960)])
def test_halving_path_stays_an_area_average(hw):
    """Even sizes halve first (the fast path): close to OpenCV's single area resize, mean kept."""
    img = textured(*hw)
    got, ref = area_resize(img, (144, 256)), direct(img, (144, 256))
    diff = np.abs(got.astype(np.int16) - ref)
    assert got.shape == ref.shape and got.dtype == np.uint8
    assert diff.mean() < 1.5 and abs(float(got.mean()) - float(ref.mean())) < 0.5, (diff.mean(), diff.max())


@pytest.mark.parametrize("hw,size", [((1079, 1919), (144, 256)), ((97, 131), (19, 26))])
def test_odd_sizes_take_the_exact_area_path(hw, size):
    """Odd sizes skip halving (dropping or padding a line shifts the sampling grid): OpenCV's area resize as is."""
    img = textured(*hw)
    np.testing.assert_array_equal(area_resize(img, size), direct(img, size))


def test_area_resize_float_identity_and_upsizing():
    img = textured(67, 90).astype(np.float32) / 255.0
    assert area_resize(img, (67, 90)) is img
    small = area_resize(img, (8, 11))
    assert small.dtype == np.float32 and small.shape == (8, 11, 3)
    np.testing.assert_allclose(small, direct(img, (8, 11)), atol=1e-6)
    assert area_resize(img[:4, :5], (8, 10)).shape == (8, 10, 3)  # smaller than the target: bilinear up
