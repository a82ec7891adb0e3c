"""Issue 11's targets for the bundled weights: neutral in, neutral out; well-exposed photos left
(nearly) alone; dark photos brightened. Real numbers from the shipped files, not timings.

The bundled weights (``lowlight/weights/MODEL_CARD.md``, session 7) are trained to restore a darkened
photo's own exposure with smooth maps: on their own they are close to one strong curve per frame, so
the frame-level work is done at inference, where the targets are met by default:

* the exposure ceiling (:mod:`lowlight.exposure_fade`) holds well-exposed frames to +0.04 and leaves
  very dark ones at full strength (the last tests here, and ``tests/test_exposure_fade.py``);
* grey-tied maps (:mod:`lowlight.neutral_maps`) keep grey exactly grey (``tests/test_neutral_maps.py``).

The first tests check the weights themselves (``exposure_fade=False, neutral_grey=False``). What they
miss is listed in ``MISSES`` and marked ``xfail(strict=True)``: channel spreads of 3-6 % on flat grey
and greyscale photos, and +0.3 to +0.4 on a well-exposed scene (weights alone, at strength 1). The
entries document the gap, and turn into failures the day weights that meet a target alone are
bundled, so whoever ships them must drop the entry.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lowlight import Enhancer
from lowlight.train.data import linear_to_srgb, srgb_to_linear
from lowlight.train.sample_data import generated_scene

# (model, check) pairs the bundled weights do not meet yet (strict xfails; drop an entry when it passes).
MISSES = {("zero-dce++", "flat 5"), ("zero-dce++", "flat 20"), ("zero-dce++", "flat 80"),
          ("zero-dce++", "greyscale photo"), ("zero-dce++", "well-exposed"),
          ("zero-dce", "flat 5"), ("zero-dce", "flat 20"), ("zero-dce", "greyscale photo"),
          ("zero-dce", "well-exposed")}
NEUTRAL_TOLERANCE = 0.02  # channel means within 2 % of their mean
WELL_EXPOSED_SHIFT = 0.04
WELL_EXPOSED_CLIP = 0.005


def _spread(img: np.ndarray) -> float:
    m = img.reshape(-1, 3).astype(np.float64).mean(0)
    return float((m.max() - m.min()) / m.mean())


def _grey(img: np.ndarray) -> np.ndarray:
    y = img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.repeat(np.clip(y + 0.5, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def reexposed(img: np.ndarray, exposure: float) -> np.ndarray:
    """``img`` (uint8 RGB) re-exposed by ``exposure`` in linear light (noise-free), 8-bit."""
    x = torch.from_numpy(img.astype(np.float32) / 255)
    return (linear_to_srgb(srgb_to_linear(x) * exposure).numpy() * 255 + 0.5).astype(np.uint8)


MODELS = ["zero-dce++", "zero-dce"]


def _case(model: str, check: str, *values):
    """A pytest param ``(model, *values)``, a strict xfail when ``(model, check)`` is in :data:`MISSES`."""
    marks = [pytest.mark.xfail(strict=True, reason=f"bundled {model} misses the issue-11 target ({check}); "
                                                   "see MODEL_CARD.md")] if (model, check) in MISSES else []
    return pytest.param(model, *values, marks=marks)


def _cases(check: str):
    return [_case(m, check) for m in MODELS]


@pytest.fixture(scope="module")
def enhancers():
    return {m: Enhancer(m, exposure_fade=False, neutral_grey=False) for m in MODELS}


@pytest.fixture(scope="module")
def defaults():
    return {m: Enhancer(m) for m in MODELS}


@pytest.fixture(scope="module")
def unfaded():
    """The defaults but for the exposure fade."""
    return {m: Enhancer(m, exposure_fade=False) for m in MODELS}


@pytest.mark.parametrize("model, level", [_case(m, f"flat {lv}", lv) for lv in (5, 20, 80) for m in MODELS])
def test_flat_grey_stays_grey(enhancers, model, level):
    out = enhancers[model].enhance(np.full((48, 64, 3), level, np.uint8))
    assert out.mean() > level  # it does brighten
    assert _spread(out) <= NEUTRAL_TOLERANCE, out.reshape(-1, 3).mean(0)


@pytest.mark.parametrize("model", _cases("greyscale photo"))
def test_greyscale_photo_stays_grey(enhancers, model):
    img = _grey(reexposed(generated_scene(1001, (96, 128)), 1 / 16))
    out = enhancers[model].enhance(img)
    assert out.mean() > 1.5 * img.mean()
    assert _spread(out) <= NEUTRAL_TOLERANCE, out.reshape(-1, 3).mean(0)


@pytest.mark.parametrize("model", _cases("well-exposed"))
def test_well_exposed_photo_is_left_nearly_alone(enhancers, model):
    img = generated_scene(1000, (96, 128))
    assert 0.3 <= img.mean() / 255 <= 0.6
    out = enhancers[model].enhance(img)
    shift = (out.mean() - img.mean()) / 255
    clipped = float(((out.max(2) >= 255) & (img.max(2) < 255)).mean())
    assert shift <= WELL_EXPOSED_SHIFT and clipped <= WELL_EXPOSED_CLIP, (shift, clipped)


@pytest.mark.parametrize("model", MODELS)
def test_dark_photo_is_brightened(enhancers, model):
    img = reexposed(generated_scene(1003, (96, 128)), 1 / 32)
    out = enhancers[model].enhance(img)
    assert out.mean() >= 2.5 * img.mean()


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("seed", [1000, 1002, 1003])
def test_default_exposure_fade_leaves_well_exposed_photos_alone(enhancers, defaults, model, seed):
    """By default (the fade on) both models meet the well-exposed target, and shift less than the weights
    alone do, on well-exposed scenes the weights were not trained on."""
    img = generated_scene(seed, (96, 128))
    assert 0.3 <= img.mean() / 255 <= 0.6
    out, weights_only = defaults[model].enhance(img), enhancers[model].enhance(img)
    shift = (out.mean() - img.mean()) / 255
    clipped = float(((out.max(2) >= 255) & (img.max(2) < 255)).mean())
    assert shift <= WELL_EXPOSED_SHIFT and clipped <= WELL_EXPOSED_CLIP, (shift, clipped)
    assert out.mean() <= weights_only.mean()


@pytest.mark.parametrize("model", MODELS)
def test_default_exposure_fade_does_not_touch_dark_photos(unfaded, defaults, model):
    """A photo at 1/64 of its exposure: the curves stay under the exposure ceiling, so the default strength
    is the full one."""
    img = reexposed(generated_scene(1003, (96, 128)), 1 / 64)
    np.testing.assert_array_equal(defaults[model].enhance(img), unfaded[model].enhance(img))
