"""Training augmentation, the new loss terms and video training input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lowlight.cli import main
from lowlight.train.data import (SensorAugment, SensorModel, linear_to_srgb, load_training_data, srgb_to_linear,
                                 video_frames)
from lowlight.kernels import apply_curves
from lowlight.train.losses import (ZeroReferenceLoss, adaptive_exposure_target, colour_preservation, neutrality,
                                   noise_gain, restore_exposure)
from lowlight.weights import read_checkpoint


def test_srgb_round_trip():
    x = torch.linspace(0, 1, 1001)
    assert torch.allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=1e-6)
    assert float(srgb_to_linear(torch.tensor(0.5))) == pytest.approx(0.2140, abs=1e-4)


def test_sensor_model_noise_statistics():
    """Shot noise variance = signal / photons, read noise adds sigma^2, in linear light."""
    g = torch.Generator().manual_seed(0)
    x = torch.full((1, 3, 200, 200), float(linear_to_srgb(torch.tensor(0.5))))
    sm = SensorModel(quantise=False)
    y = sm(x, torch.tensor([0.1]), torch.tensor([1000.0]), torch.tensor([0.002]), g)
    lin = srgb_to_linear(y)
    assert float(lin.mean()) == pytest.approx(0.05, rel=0.02)
    assert float(lin.var()) == pytest.approx(0.05 / 1000 + 0.002**2, rel=0.05)
    clean = sm(x, torch.tensor([0.1]), None, None, g)
    assert float(srgb_to_linear(clean).std()) < 1e-6


def test_sensor_augment_is_seeded_quantised_and_has_grey_crops():
    x = torch.rand(64, 3, 16, 16)
    a = SensorAugment(grey_prob=0.5)
    y1 = a(x, torch.Generator().manual_seed(3))
    y2 = a(x, torch.Generator().manual_seed(3))
    assert torch.equal(y1, y2)
    assert torch.equal(torch.round(y1 * 255) / 255, y1)
    grey = (y1.amax(1) == y1.amin(1)).flatten(1).all(1)
    assert 16 <= int(grey.sum()) <= 48  # about half, exactly R = G = B
    means = y1.mean(dim=(1, 2, 3))
    assert means.min() < 0.05 and means.max() > 0.3


def test_adaptive_exposure_target_lifts_shadows_monotonically_and_leaves_bright():
    m = torch.tensor([0.0, 0.005, 0.05, 0.2, 0.4, 0.5, 0.9])
    x = m.view(1, 1, 1, -1).repeat_interleave(16, -1).repeat_interleave(16, -2).expand(1, 3, 16, 16 * len(m))
    t = adaptive_exposure_target(x, knee=0.4, gamma=0.5, max_gain=8.0).flatten()
    assert float(t[0]) == 0.0 and float(t[1]) == pytest.approx(0.04, rel=1e-4)  # black stays black (gain cap)
    assert float(t[2]) == pytest.approx(0.4 * (0.05 / 0.4) ** 0.5, rel=1e-4)
    assert float(t[3]) == pytest.approx(0.4 * 0.5**0.5, rel=1e-4)
    assert torch.allclose(t[4:], m[4:], atol=1e-6)  # at and above the knee: unchanged
    assert torch.all(t[1:] > t[:-1]) and torch.all(t >= m - 1e-5)  # monotone, never darker
    t_nocap = adaptive_exposure_target(x, knee=0.4, gamma=0.5).flatten()
    assert float(t_nocap[1]) == pytest.approx(0.4 * (0.005 / 0.4) ** 0.5, rel=1e-4)


def test_regional_exposure_target_applies_the_region_gain():
    flat = torch.full((1, 3, 64, 64), 0.05)
    local = adaptive_exposure_target(flat, 0.4, 0.2, 16)
    assert torch.allclose(adaptive_exposure_target(flat, 0.4, 0.2, 16, context=2), local)  # flat: same as per patch
    well = torch.full((1, 3, 64, 64), 0.5)
    assert torch.equal(adaptive_exposure_target(well, 0.4, 0.2, 16, context=2), F.avg_pool2d(well[:, :1], 16))
    # a bright spot (one patch at 0.3) inside a dark region is lifted by the region's gain, not by its own
    spot = flat.clone()
    spot[..., 16:32, 16:32] = 0.3
    t = adaptive_exposure_target(spot, 0.4, 0.2, 16, context=1)
    assert float(t[0, 0, 1, 1]) > float(adaptive_exposure_target(spot, 0.4, 0.2, 16)[0, 0, 1, 1]) + 0.1
    assert float(t.max()) <= 0.95


def test_neutrality_penalises_unequal_maps_on_grey_only():
    grey_in = torch.full((1, 3, 8, 8), 0.2)
    colour_in = grey_in * torch.tensor([1.5, 1.0, 0.5]).view(1, 3, 1, 1)
    equal = torch.full((1, 3, 8, 8), 0.3)
    unequal = equal * torch.tensor([1.0, 1.2, 1.4]).view(1, 3, 1, 1)
    assert float(neutrality(grey_in, equal)) == 0.0
    assert float(neutrality(grey_in, unequal)) > 0
    assert float(neutrality(colour_in, unequal)) == 0.0
    # Zero-DCE's 24 maps (8 iterations x RGB) and low-resolution Zero-DCE++ maps
    assert float(neutrality(grey_in, unequal.repeat(1, 8, 1, 1))) == pytest.approx(float(neutrality(grey_in, unequal)))
    assert float(neutrality(torch.full((1, 3, 32, 32), 0.2), unequal)) > 0


def test_loss_terms_for_new_options():
    x = torch.rand(2, 3, 32, 32) * 0.3
    maps = torch.rand(2, 3, 32, 32) * 0.2
    _, t = ZeroReferenceLoss("zero-dce++", exposure_target="adaptive", exposure_knee=0.4, neutral=3.0)(x, x, maps)
    assert set(t) == {"spa", "exp", "col", "tv", "neutral"}
    _, t = ZeroReferenceLoss("zero-dce++")(x, x, maps)
    assert "neutral" not in t
    with pytest.raises(ValueError):
        ZeroReferenceLoss(exposure_target="nope")


def test_sensor_augment_clean_twin_shares_every_draw():
    """with_clean: the noisy crop is the one a plain call gives, the clean twin differs only by the noise."""
    x = torch.rand(32, 3, 24, 24)
    a = SensorAugment(grey_prob=0.3)
    plain = a(x, torch.Generator().manual_seed(4))
    g = torch.Generator().manual_seed(4)
    noisy, clean = a(x, g, with_clean=True)
    assert torch.equal(noisy, plain)
    assert torch.equal(g.get_state(), (lambda h: (a(x, h), h.get_state())[1])(torch.Generator().manual_seed(4)))
    grey = (noisy[:, 0] == noisy[:, 1]).flatten(1).all(1) & (noisy[:, 1] == noisy[:, 2]).flatten(1).all(1)
    assert grey.any() and bool(((clean[grey, 0] == clean[grey, 1]) & (clean[grey, 1] == clean[grey, 2])).all())
    # no sensor noise: the twin is the noisy crop before 8-bit rounding
    q_noisy, q_clean = SensorAugment(noise_prob=0.0)(x, torch.Generator().manual_seed(1), with_clean=True)
    assert float((q_noisy - q_clean).abs().max()) <= 0.5 / 255 + 1e-6
    n_noisy, n_clean = SensorAugment(noise_prob=1.0, exposure_range=(0.01, 0.01))(x, torch.Generator().manual_seed(1),
                                                                                  with_clean=True)
    assert float((n_noisy - n_clean).abs().mean()) > 2 / 255  # the noise is there, and only in the noisy one


def test_sensor_augment_flat_grey_crops():
    x = torch.rand(64, 3, 16, 16)
    plain = SensorAugment(grey_prob=0.5)(x, torch.Generator().manual_seed(2))
    assert torch.equal(plain, SensorAugment(grey_prob=0.5, flat_prob=0.0)(x, torch.Generator().manual_seed(2)))
    _, clean = SensorAugment(grey_prob=0.5, flat_prob=1.0)(x, torch.Generator().manual_seed(2), with_clean=True)
    flat = clean.flatten(1).std(1) < 1e-6
    grey = (clean[:, 0] == clean[:, 2]).flatten(1).all(1)
    assert flat.sum() > 16 and bool((grey | ~flat).all()) and bool(flat[grey].all())


def test_noise_gain_is_one_for_a_plain_gain_and_charges_shadow_lift():
    g = torch.Generator().manual_seed(0)
    ramp = torch.linspace(0.01, 0.3, 64).view(1, 1, 1, 64).expand(2, 3, 64, 64)
    clean = ramp.contiguous()
    noisy = (clean + 0.01 * torch.randn(clean.shape, generator=g)).clamp(0, 1)
    assert float(noise_gain(noisy, clean, 3 * noisy, 3 * clean)) == pytest.approx(1.0, rel=0.02)  # eps in the means
    # a curve with more gain in the shadows (where the relative noise is largest) raises the ratio
    maps = torch.linspace(1.0, 0.0, 64).view(1, 1, 1, 64).expand(2, 3, 64, 64).contiguous()
    lifted = float(noise_gain(noisy, clean, apply_curves(noisy, maps, 8), apply_curves(clean, maps, 8)))
    assert lifted > 1.2
    x = torch.rand(2, 3, 32, 32) * 0.3
    loss = ZeroReferenceLoss("zero-dce++", noise=0.5)
    _, t = loss(x, x, torch.zeros(2, 3, 32, 32), x, x)
    assert t["noise"] == 0.0
    with pytest.raises(ValueError):
        loss(x, x, torch.zeros(2, 3, 32, 32))


def test_colour_by_exposure_keeps_well_exposed_balance_and_greys_dark_crops():
    warm = torch.rand(2, 3, 32, 32) * torch.tensor([1.2, 1.0, 0.7]).view(1, 3, 1, 1) * 0.6
    assert float(colour_preservation(1.5 * warm, warm).max()) < 1e-4  # brighter, same balance
    greyed = warm.mean(1, keepdim=True).expand_as(warm)
    assert float(colour_preservation(greyed, warm).min()) > 0.05
    loss = ZeroReferenceLoss(colour="by-exposure", chroma=10.0)
    maps = torch.zeros(2, 3, 32, 32)
    _, bright = loss(warm, greyed, maps)  # well-exposed (mean ~0.3): no grey-world, balance kept
    assert bright["col"] == 0.0 and bright["chroma"] > 0.5
    dark = warm * 0.1
    _, t = loss(dark, dark * 3, maps)  # dark crop: grey world charges the cast
    assert t["col"] > 0.0 and t["chroma"] < 0.01
    with pytest.raises(ValueError):
        ZeroReferenceLoss(colour="nope")


def _write_video(path, n=30, size=(48, 64)):
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264" if "libx264" in av.codecs_available else "mpeg4", rate=10)
        s.width, s.height, s.pix_fmt = size[1], size[0], "yuv420p"
        for i in range(n):
            img = np.full((size[0], size[1], 3), 8 * i, np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


def test_video_frames_are_sampled_evenly(tmp_path):
    v = tmp_path / "clip.mp4"
    _write_video(v)
    frames = video_frames(v, 5)
    assert len(frames) == 5 and frames[0].shape == (48, 64, 3)
    means = [f.mean() / 8 for f in frames]
    assert means == pytest.approx([3, 9, 15, 21, 27], abs=1.0)
    assert len(video_frames(v, 100)) == 30


def test_train_on_a_video_file_and_a_folder_of_videos(tmp_path):
    d = tmp_path / "clips"
    d.mkdir()
    _write_video(d / "a.mp4")
    _write_video(d / "b.mp4", n=12)
    assert len(load_training_data(d, crop=32, frames_per_video=4)) == 8
    for src in (d / "a.mp4", d):
        out = tmp_path / "w.pt"
        assert main(["train", str(src), "-o", str(out), "--steps", "2", "--batch-size", "2", "--crop", "32",
                     "--quiet", "--frames-per-video", "3", "--overwrite"]) == 0
        meta = read_checkpoint(out)[2]
        assert meta["augment"] == "sensor" and meta["exposure_target"] == "adaptive" and meta["frames_per_video"] == 3


@pytest.mark.parametrize("flags, check, needs", [
    (["--noise-weight", "0.1"],
     lambda m: m["noise_weight"] == 0.1 and m["loss_weights"]["noise"] == 0.1 and "noise" in m["history"][-1],
     "--noise-weight needs --augment sensor"),
    (["--exposure-target", "restore", "--exposure-patch", "8"],
     lambda m: m["exposure_target"] == "restore" and m["exposure_patch"] == 8 and "exp" in m["history"][-1],
     "--exposure-target restore needs --augment sensor"),
])
def test_train_options_that_need_the_sensor_augmentation(tmp_path, capsys, flags, check, needs):
    """A short run with the option records it and its loss term; with --augment exposure it is refused."""
    d = tmp_path / "clips"
    d.mkdir()
    _write_video(d / "a.mp4", n=6)
    out = tmp_path / "w.pt"
    assert main(["train", str(d), "-o", str(out), "--steps", "2", "--batch-size", "2", "--crop", "32", "--quiet",
                 *flags]) == 0
    assert check(read_checkpoint(out)[2])
    assert main(["train", str(d), "-o", str(out), "--steps", "1", "--quiet", *flags,
                 "--augment", "exposure", "--overwrite"]) == 1
    assert needs in capsys.readouterr().err


def test_sensor_augment_exposed_twin_is_the_crop_before_the_exposure_draw():
    """with_exposed: the same noisy and clean crops as before (no extra draws), plus the crop at its own
    exposure: in linear light the clean (darkened) twin is the exposed one times the drawn exposure."""
    x = torch.rand(16, 3, 24, 24) * 0.9
    a = SensorAugment(grey_prob=0.3, gamma_range=(1.0, 1.0), exposure_range=(0.05, 0.05))
    noisy, clean = a(x, torch.Generator().manual_seed(2), with_clean=True)
    g = torch.Generator().manual_seed(2)
    noisy2, clean2, exposed = a(x, g, with_clean=True, with_exposed=True)
    assert torch.equal(noisy, noisy2) and torch.equal(clean, clean2)
    torch.testing.assert_close(srgb_to_linear(clean), 0.05 * srgb_to_linear(exposed), atol=1e-5, rtol=1e-4)
    grey = (noisy[:, 0] == noisy[:, 1]).flatten(1).all(1)
    assert grey.any() and bool((exposed[grey, 0] == exposed[grey, 2]).all())  # greyscale stays R = G = B
    _, c1, e1 = SensorAugment(exposure_range=(1.0, 1.0), noise_prob=0.0)(x, torch.Generator().manual_seed(3),
                                                                          with_exposed=True)
    torch.testing.assert_close(c1, e1)  # at its own exposure the crop is its own target


def test_exposure_gradient_varies_the_exposure_over_half_the_crops():
    """exposure_gradient: the exposure (clean twin over exposed twin, in linear light) changes across
    about half the crops, by up to the given stops; without it, it is one value per crop."""
    x = torch.rand(64, 3, 32, 32) * 0.8 + 0.1
    kw = dict(noise_prob=0.0, exposure_range=(0.1, 0.1), gamma_range=(1.0, 1.0), grey_prob=0.0)

    def spread(aug):
        _, clean, exposed = aug(x, torch.Generator().manual_seed(5), with_exposed=True)
        k = srgb_to_linear(clean).mean(1) / srgb_to_linear(exposed).mean(1)
        return torch.log2(k.amax((1, 2)) / k.amin((1, 2)))  # stops across each crop

    flat, varied = spread(SensorAugment(**kw)), spread(SensorAugment(exposure_gradient=4.0, **kw))
    assert float(flat.max()) < 0.01
    frac = float((varied > 0.1).float().mean())
    assert 0.25 < frac < 0.75 and float(varied.max()) <= 4.0 * 2 ** 0.5 + 0.01


def test_restore_exposure_asks_for_the_original_brightness_never_darker_and_capped():
    exposed = torch.full((1, 3, 32, 32), 0.5)
    dark = torch.full((1, 3, 32, 32), 0.1)
    assert float(restore_exposure(exposed, dark, exposed)) == 0.0  # restored exactly: no loss
    assert float(restore_exposure(dark, dark, exposed)) > 0.5  # left dark: charged (log brightness)
    # a crop drawn brighter than its own exposure is asked to stay as it is, not to be darkened
    assert float(restore_exposure(dark, dark, torch.full_like(dark, 0.05))) == 0.0
    # the cap: at most max_gain times the input block
    assert float(restore_exposure(2 * dark, dark, exposed, max_gain=2.0)) == 0.0
    assert float(restore_exposure(exposed, dark, exposed, max_gain=2.0)) > 0.0


def test_train_rejects_a_non_video_file(tmp_path, capsys):
    f = tmp_path / "notes.txt"
    f.write_text("x")
    assert main(["train", str(f), "-o", str(tmp_path / "w.pt"), "--steps", "1", "--quiet"]) == 1
    assert "not a folder of training images or a video file" in capsys.readouterr().err
