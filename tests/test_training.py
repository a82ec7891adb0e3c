"""Training: the second-order loss, augmentation, a real (tiny) run, resume, CLI errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from lowlight import load_model
from lowlight.cli import main
from lowlight.train.data import ExposureAugment
from lowlight.train.losses import ZeroReferenceLoss, illumination_smoothness, second_order_smoothness
from lowlight.weights import read_checkpoint


def test_second_order_is_zero_on_ramps_and_charges_spots_more():
    y, x = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    ramp = (0.01 * x + 0.02 * y).expand(1, 3, 32, 32)
    assert float(second_order_smoothness(ramp)) == pytest.approx(0.0, abs=1e-9)
    assert float(illumination_smoothness(ramp)) > 0
    spot = torch.zeros(1, 3, 32, 32)
    spot[..., 16, 16] = 0.3
    bump = 0.3 * torch.exp(-((x - 16) ** 2 + (y - 16) ** 2) / (2 * 6.0**2)).expand(1, 3, 32, 32)
    # Relative to first order, second order charges a one-pixel spot far more than a broad bump
    # of the same height (and a linear ramp not at all).
    ratio = lambda m: float(second_order_smoothness(m)) / float(illumination_smoothness(m))  # noqa: E731
    assert ratio(spot) > 10 * ratio(bump)
    assert float(second_order_smoothness(torch.zeros(1, 3, 2, 2))) == 0.0


def test_loss_selects_smoothness_order():
    x = torch.rand(2, 3, 32, 32) * 0.3
    maps = torch.rand(2, 3, 32, 32) * 0.2
    _, t1 = ZeroReferenceLoss("zero-dce++", 1)(x, x, maps)
    _, t2 = ZeroReferenceLoss("zero-dce++", 2, tv2=5.0)(x, x, maps)
    assert "tv" in t1 and "tv2" not in t1 and "tv2" in t2 and "tv" not in t2
    assert t2["tv2"] == pytest.approx(5.0 * float(second_order_smoothness(maps)), rel=1e-6)
    with pytest.raises(ValueError):
        ZeroReferenceLoss("zero-dce", 3)


def test_exposure_augment_spans_dark_to_bright():
    g = torch.Generator().manual_seed(0)
    x = torch.full((400, 3, 4, 4), 0.5)
    y = ExposureAugment()(x, g)
    means = y.mean(dim=(1, 2, 3))
    assert means.min() < 0.05 and means.max() > 0.7
    assert torch.equal(torch.round(y * 255) / 255, y)  # quantised to 8-bit levels


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(3):
        yy, xx = np.mgrid[0:80, 0:96]
        img = np.stack([(xx * 2 + 40 * i) % 255, yy * 3 % 255, (xx + yy) % 255], -1).astype(np.uint8)
        img = np.clip(img + rng.normal(0, 5, img.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(d / f"p{i}.png"), img)
    return d


def _train(photo_dir, out, *extra):
    return main(["train", str(photo_dir), "-o", str(out), "--steps", "4", "--batch-size", "2", "--crop", "32",
                 "--quiet", "--checkpoint-every", "2", *extra])


@pytest.mark.parametrize("model,order", [("zero-dce++", 1), ("zero-dce", 2)])
def test_train_writes_loadable_weights(tmp_path, photo_dir, model, order):
    out = tmp_path / "w.pt"
    assert _train(photo_dir, out, "--model", model, "--smoothness-order", str(order), "--lr", "1e-3") == 0
    name, _, meta = read_checkpoint(out)
    assert name == model and meta["step"] == 4 and meta["smoothness_order"] == order
    assert meta["history"] and set(meta["history"][-1]) >= {"exp", "col", "spa", "total"}
    m = load_model(out)
    assert m.name == model
    assert (tmp_path / "w.pt.ckpt").exists()


def test_resume_reproduces_an_uninterrupted_run(tmp_path, photo_dir):
    straight, resumed = tmp_path / "a.pt", tmp_path / "b.pt"
    assert _train(photo_dir, straight, "--seed", "7") == 0
    assert main(["train", str(photo_dir), "-o", str(resumed), "--steps", "2", "--batch-size", "2", "--crop", "32",
                 "--quiet", "--checkpoint-every", "2", "--seed", "7"]) == 0
    assert _train(photo_dir, resumed, "--seed", "7", "--resume") == 0
    a, b = read_checkpoint(straight)[1], read_checkpoint(resumed)[1]
    for k in a:
        assert torch.equal(a[k], b[k]), k
    same_seed = tmp_path / "c.pt"
    assert _train(photo_dir, same_seed, "--seed", "7") == 0
    assert all(torch.equal(a[k], read_checkpoint(same_seed)[1][k]) for k in a)


def test_train_bad_inputs(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert _train(tmp_path / "empty", tmp_path / "w.pt") == 1
    assert "no images found" in capsys.readouterr().err
    assert _train(tmp_path / "missing", tmp_path / "w.pt") == 1
    assert "no such folder" in capsys.readouterr().err
    # a missing output folder is created (the rule of every command) and removed again when the run fails
    assert _train(tmp_path / "empty", tmp_path / "nodir" / "w.pt") == 1
    assert "no images found" in capsys.readouterr().err and not (tmp_path / "nodir").exists()
    assert not (tmp_path / "w.pt").exists()


def test_resume_without_checkpoint(tmp_path, photo_dir, capsys):
    assert _train(photo_dir, tmp_path / "w.pt", "--resume") == 1
    assert "no training checkpoint" in capsys.readouterr().err


def test_colour_loss_gradient_is_finite_on_grey_and_clipped_crops():
    """Equal channel means (grey photo, fully clipped crop) must not give NaN gradients."""
    from lowlight.train.losses import color_constancy

    for value in (1.0, 0.0, 0.37):
        x = torch.full((2, 3, 8, 8), value, requires_grad=True)
        color_constancy(x).sum().backward()
        assert torch.isfinite(x.grad).all() and float(color_constancy(x.detach()).sum()) == 0.0
