"""Our models and losses against vectors computed with the official code."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REFERENCE, load_input_png
from lowlight import load_model
from lowlight.enhancer import to_array
from lowlight.kernels import apply_curves
from lowlight.train import losses as L

CASES = ["dicm_01", "dicm_12", "lime_01", "lime_10", "odd_lime_06", "real_11_0", "real_450_0"]
# (case, scale_factor) pairs the official Zero-DCE++ vectors exist for (97x131 cannot use S=12).
PP_CASES = [(c, 12) for c in CASES if c != "odd_lime_06"] + [("real_11_0", 1), ("odd_lime_06", 1)]
ATOL = 1e-5
ATOL_FP16_MAPS = 3e-4


def _case(reference, name):
    d = reference / "vectors" / name
    return d, load_input_png(d / "input.png")


@pytest.fixture(scope="module")
def official_zdce(reference):
    return load_model(reference / "weights" / "zero_dce.pth")


@pytest.fixture(scope="module")
def official_zdcepp(reference):
    return load_model(reference / "weights" / "zero_dce_pp.pth")


def test_every_vector_case_is_covered(manifest):
    assert sorted(c["name"] for c in manifest["cases"]) == sorted(CASES)


def test_input_png_matches_manifest_hash(reference, manifest):
    import hashlib

    for case in manifest["cases"]:
        data = (reference / "vectors" / case["name"] / "input.png").read_bytes()
        assert hashlib.sha256(data).hexdigest() == case["input_sha256"]


@pytest.mark.parametrize("name", CASES)
def test_zero_dce_matches_official(reference, official_zdce, name):
    d, x = _case(reference, name)
    with torch.no_grad():
        maps = official_zdce(x)
        out = apply_curves(x, maps)
    assert maps.shape == (1, 24, *x.shape[-2:])
    np.testing.assert_allclose(out.numpy(), np.load(d / "zdce_enhanced.npy"), rtol=0, atol=ATOL)
    if (d / "zdce_alpha.npy").exists():  # stored as the official r = -alpha, float16
        r = np.load(d / "zdce_alpha.npy").astype(np.float32)
        np.testing.assert_allclose(-maps.numpy(), r, rtol=0, atol=ATOL_FP16_MAPS)
    png = np.asarray(Image.open(d / "zdce_enhanced.png").convert("RGB")).astype(int)
    ours = to_array(out, np.uint8).astype(int)
    assert np.abs(ours - png).max() <= 1
    assert (ours == png).mean() > 0.999


@pytest.mark.parametrize("name,scale", PP_CASES)
def test_zero_dce_pp_matches_official(reference, official_zdcepp, name, scale):
    d, x = _case(reference, name)
    official_zdcepp.configure(scale_factor=scale)
    with torch.no_grad():
        maps = official_zdcepp(x)
        out = apply_curves(x, maps)
    lowres = np.load(d / f"zdcepp_s{scale}_alpha_lowres.npy")
    assert maps.shape == lowres.shape
    np.testing.assert_allclose(-maps.numpy(), lowres, rtol=0, atol=ATOL)
    np.testing.assert_allclose(out.numpy(), np.load(d / f"zdcepp_s{scale}_enhanced.npy"), rtol=0, atol=ATOL)


def test_curve_application_with_stored_maps(reference):
    """apply_curves fed the official maps (r = -alpha) reproduces the official images."""
    for name in ("dicm_12", "real_11_0"):
        d, x = _case(reference, name)
        r = torch.from_numpy(np.load(d / "zdce_alpha.npy").astype(np.float32))
        np.testing.assert_allclose(apply_curves(x, -r).numpy(), np.load(d / "zdce_enhanced.npy"), atol=5e-4)
        r = torch.from_numpy(np.load(d / "zdcepp_s12_alpha_lowres.npy"))
        np.testing.assert_allclose(apply_curves(x, -r).numpy(), np.load(d / "zdcepp_s12_enhanced.npy"), atol=1e-5)


def test_zero_dce_iteration_four_output(reference, official_zdce):
    v = reference / "vectors" / "losses"
    x = torch.from_numpy(np.load(v / "input.npy"))
    with torch.no_grad():
        maps = official_zdce(x)
    half = apply_curves(x, maps[:, :12], iterations=4)
    np.testing.assert_allclose(half.numpy(), np.load(v / "zdce_enhanced_iter4.npy"), atol=ATOL)
    np.testing.assert_allclose(-maps.numpy(), np.load(v / "zdce_alpha.npy"), atol=ATOL)


@pytest.fixture(scope="module")
def losses_ref(reference):
    v = reference / "vectors" / "losses"
    return v, json.loads((v / "losses.json").read_text())


@pytest.mark.parametrize("key,model,enh,maps", [
    ("zero_dce", "zero-dce", "zdce_enhanced.npy", "zdce_alpha.npy"),
    ("zero_dce_pp", "zero-dce++", "zdcepp_s1_enhanced.npy", "zdcepp_s1_alpha.npy"),
])
def test_official_losses(losses_ref, key, model, enh, maps):
    v, ref = losses_ref
    x = torch.from_numpy(np.load(v / "input.npy"))
    e = torch.from_numpy(np.load(v / enh))
    a = torch.from_numpy(np.load(v / maps))
    raw = ref[key]["raw"]
    assert float(L.color_constancy(e).mean()) == pytest.approx(raw["L_color_mean"], rel=1e-5)
    assert float(L.spatial_consistency(e, x).mean()) == pytest.approx(raw["L_spa_mean"], rel=1e-5)
    assert float(L.spatial_consistency(x, e).mean()) == pytest.approx(raw["L_spa_mean"], rel=1e-5)
    assert float(L.exposure_control(e, 0.6)) == pytest.approx(raw["L_exp_mean"], rel=1e-5)
    assert float(L.illumination_smoothness(a)) == pytest.approx(raw["L_TV"], rel=1e-5)
    if "L_color_per_image" in raw:
        np.testing.assert_allclose(L.color_constancy(e).flatten().numpy(), raw["L_color_per_image"], rtol=1e-5)
    if "L_spa_map_shape" in raw:
        assert list(L.spatial_consistency(e, x).shape) == raw["L_spa_map_shape"]
    total, terms = L.ZeroReferenceLoss(model)(x, e, a)
    weighted = ref[key]["weighted"]
    assert float(total) == pytest.approx(weighted["total"], rel=1e-5)
    assert terms["tv"] == pytest.approx(weighted["Loss_TV"], rel=1e-5)
    assert terms["exp"] == pytest.approx(weighted["loss_exp"], rel=1e-5)
    assert terms["col"] == pytest.approx(weighted["loss_col"], rel=1e-5)
    assert terms["spa"] == pytest.approx(weighted["loss_spa"], rel=1e-5)


def test_official_losses_odd_size(losses_ref):
    v, ref = losses_ref
    raw = ref["model_free_odd_size"]["raw"]
    org = torch.from_numpy(np.load(v / "odd_input.npy"))
    maps = torch.from_numpy(np.load(v / "odd_maps.npy"))
    enh = torch.sqrt(org)
    spa = L.spatial_consistency(enh, org)
    assert list(spa.shape) == raw["L_spa_map_shape"]
    assert float(spa.mean()) == pytest.approx(raw["L_spa_mean"], rel=1e-5)
    assert float(L.color_constancy(enh).mean()) == pytest.approx(raw["L_color_mean"], rel=1e-5)
    assert float(L.exposure_control(enh, 0.6)) == pytest.approx(raw["L_exp_mean"], rel=1e-5)
    assert float(L.exposure_control(enh, 0.5)) == pytest.approx(raw["L_exp_mean_E_0p5"], rel=1e-5)
    assert float(L.illumination_smoothness(maps)) == pytest.approx(raw["L_TV_maps"], rel=1e-5)
    assert float(L.illumination_smoothness(maps[:, :3])) == pytest.approx(raw["L_TV_maps_first3"], rel=1e-5)


def test_reference_folder_path_is_shared():
    assert REFERENCE.name == "reference"
