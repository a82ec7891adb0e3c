"""Neutral in, neutral out by default (lowlight.neutral_maps, issue 11): grey and monochrome content
keeps R = G = B through the whole enhancer, for both bundled models and for the official checkpoints,
while the maps of coloured content are the network's own."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lowlight import Enhancer
from lowlight.neutral_maps import TOLERANCE, greyness, tie_grey_maps
from lowlight.train.sample_data import generated_scene

from test_train_bundled import NEUTRAL_TOLERANCE, _grey, _spread, reexposed


def _maps_and_input(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = np.empty((3, 20, 30), np.float32)
    x[:, :, :15] = 0.2  # grey left half
    x[:, :, 15:] = np.array([0.3, 0.15, 0.05], np.float32)[:, None, None]  # orange right half
    maps = rng.uniform(-1, 1, (24, 20, 30)).astype(np.float32)
    return maps, x


def test_grey_pixels_get_the_mean_map_and_coloured_ones_their_own():
    maps, x = _maps_and_input()
    tied = tie_grey_maps(maps, x)
    a, t = maps.reshape(8, 3, 20, 30), tied.reshape(8, 3, 20, 30)
    # grey interior (away from the box filter's reach of the boundary): all three channels = their mean
    np.testing.assert_allclose(t[:, :, :, :12], np.repeat(a[:, :, :, :12].mean(1, keepdims=True), 3, 1), atol=1e-6)
    # coloured interior: untouched
    np.testing.assert_array_equal(t[:, :, :, 18:], a[:, :, :, 18:])
    # the brightness the network asked for (the mean map) is kept everywhere
    np.testing.assert_allclose(t.mean(1), a.mean(1), atol=1e-6)
    assert tied.dtype == np.float32 and tied.flags.c_contiguous


def test_numpy_and_torch_tie_the_same_way():
    maps, x = _maps_and_input(1)
    x = x + np.random.default_rng(2).uniform(-0.01, 0.01, x.shape).astype(np.float32)  # partial greyness
    g = greyness(x)
    assert 0 < g.min() < 1 or 0 < g.max() < 1  # some pixels partly grey
    out_t = tie_grey_maps(torch.from_numpy(maps), torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(tie_grey_maps(maps, x), out_t, atol=2e-5)


def test_greyness_is_zero_from_the_tolerance_on():
    x = np.zeros((3, 8, 8), np.float32) + 0.3
    x[0] += 0.5 * TOLERANCE  # chroma 0.03 / 0.33 = 0.09, (max - min) / (mean + 0.02) above the tolerance
    assert float(greyness(x).max()) == 0.0
    assert float(greyness(np.full((3, 8, 8), 0.3, np.float32)).min()) == 1.0


def test_maps_of_another_size_are_refused():
    with pytest.raises(ValueError, match="differ in size"):
        tie_grey_maps(np.zeros((3, 4, 4), np.float32), np.zeros((3, 5, 4), np.float32))


@pytest.fixture(scope="module")
def tied_and_raw():
    return {m: (Enhancer(m), Enhancer(m, neutral_grey=False)) for m in ("zero-dce++", "zero-dce")}


@pytest.mark.parametrize("model", ["zero-dce++", "zero-dce"])
@pytest.mark.parametrize("level", [5, 10, 20, 40, 60, 80])
def test_flat_grey_is_exactly_neutral_by_default(tied_and_raw, model, level):
    out = tied_and_raw[model][0].enhance(np.full((48, 64, 3), level, np.uint8))
    assert out.mean() > level
    m = out.reshape(-1, 3).mean(0)
    assert np.ptp(m) <= 0.5, m  # within rounding of exactly R = G = B


@pytest.mark.parametrize("model", ["zero-dce++", "zero-dce"])
def test_greyscale_photo_is_neutral_by_default_and_the_tie_is_what_makes_it(tied_and_raw, model):
    img = _grey(reexposed(generated_scene(1001, (96, 128)), 1 / 16))
    tied, raw = (e.enhance(img) for e in tied_and_raw[model])
    assert tied.mean() > 1.5 * img.mean()
    assert _spread(tied) <= NEUTRAL_TOLERANCE / 10, tied.reshape(-1, 3).mean(0)
    assert _spread(raw) > _spread(tied)  # the weights alone tint it


def test_weights_alone_miss_the_target_on_flat_grey(tied_and_raw):
    """The tie is not a no-op: both bundled models alone tint some flat grey level beyond the 2 % target."""
    for model in ("zero-dce++", "zero-dce"):
        raw = tied_and_raw[model][1]
        worst = max(_spread(raw.enhance(np.full((48, 64, 3), level, np.uint8))) for level in (5, 10, 20, 40, 60, 80))
        assert worst > NEUTRAL_TOLERANCE, model


def test_colour_photo_keeps_the_networks_colour(tied_and_raw):
    """A dark colour photo: the tie changes near-grey pixels only (this scene has grey shapes and a grey
    ramp, which it makes neutral), so the output's colour balance stays the network's: channel means
    within 2.5 levels of ~85, where the weights alone spread them by 7-10."""
    img = reexposed(generated_scene(1003, (96, 128)), 1 / 16)
    for model in ("zero-dce++", "zero-dce"):
        tied, raw = (e.enhance(img) for e in tied_and_raw[model])
        np.testing.assert_allclose(tied.reshape(-1, 3).mean(0), raw.reshape(-1, 3).mean(0), atol=2.5)


def test_official_checkpoint_is_neutral_through_the_enhancer(reference):
    path = reference / "weights" / "zero_dce_pp.pth"
    if not path.exists():
        pytest.skip(f"{path} not present")
    tied, raw = Enhancer("zero-dce++", weights=path), Enhancer("zero-dce++", weights=path, neutral_grey=False)
    img = np.full((48, 64, 3), 20, np.uint8)
    assert _spread(raw.enhance(img)) > NEUTRAL_TOLERANCE
    assert _spread(tied.enhance(img)) <= 0.005
