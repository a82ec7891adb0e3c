"""The exposure fade (lowlight/exposure_fade.py): the exposure ceiling and the strength it leaves, and
what ``lowlight image`` and ``lowlight video`` do with it by default and with ``--strength`` given (the
user's override)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lowlight.cli import main
from lowlight import Enhancer
from lowlight.exposure_fade import (LEFT_ALONE_FROM, WELL_EXPOSED_FROM, WELL_EXPOSED_LIFT, ceiling, ceiling_strength,
                                    mean_luma)
from lowlight.train.sample_data import generated_scene
from realtime_clips import make_clip, read_video
from test_train_bundled import reexposed


def test_ceiling_is_nondecreasing_and_leaves_well_exposed_frames_alone():
    m = np.linspace(0.0, 1.0, 1001)
    c = np.array([ceiling(v) for v in m])
    assert (np.diff(c) >= 0).all()  # a brighter frame is never capped lower
    well = m >= WELL_EXPOSED_FROM
    assert (c[well] - m[well] <= WELL_EXPOSED_LIFT + 1e-12).all() and (c >= m).all()
    assert (c[m >= LEFT_ALONE_FROM] == m[m >= LEFT_ALONE_FROM]).all()
    assert c[0] == pytest.approx(WELL_EXPOSED_FROM + WELL_EXPOSED_LIFT)


def _luma_mean(img: np.ndarray) -> float:
    return float((img.astype(np.float64) @ [0.299, 0.587, 0.114]).mean()) / 255


@pytest.mark.parametrize("model", ["zero-dce++", "zero-dce"])
def test_ceiling_strength_keeps_dark_frames_and_caps_bright_ones(model):
    """A dark frame keeps the full strength; a mid-bright one gets the largest strength whose real output
    (full resolution, denoised) stays at the ceiling, within the thumbnail prediction's error."""
    enh = Enhancer(model, exposure_fade=False, denoise="off")
    for e, full in ((1 / 64, True), (0.5, False), (0.7, False)):
        img = reexposed(generated_scene(1002, (96, 128)), e)
        copy, small = enh.estimator.analysis_copy(img)
        maps = enh.estimator.maps(img, small)
        s = ceiling_strength(1.0, copy, maps, enh.spec.iterations)
        assert (s == 1.0) == full, (e, s)
        enh.strength = s
        out = _luma_mean(enh.enhance(img))
        assert out <= ceiling(mean_luma(copy)) + 0.005, (e, s, out)
        if not full:  # the largest such strength: a little more would cross the ceiling
            enh.strength = min(1.0, s + 0.05)
            assert _luma_mean(enh.enhance(img)) > ceiling(mean_luma(copy)) - 0.005
    enh.strength = 1.0
    assert ceiling_strength(0.0, copy, maps, enh.spec.iterations) == 0.0
    bright = generated_scene(1003, (96, 128)) // 2 + 128
    assert ceiling_strength(1.0, bright, enh.estimator.maps(bright), enh.spec.iterations) == 0.0


def test_mean_luma_reads_uint8_and_uint16_alike():
    img = generated_scene(1000, (96, 128))
    assert mean_luma(img) == pytest.approx(float((img @ [0.299, 0.587, 0.114]).mean()) / 255, abs=0.005)
    assert mean_luma(img.astype(np.uint16) * 257) == pytest.approx(mean_luma(img), abs=1e-6)


def _mid_bright() -> np.ndarray:
    """A scene of mean ~0.32: well exposed (the issue counts 0.3-0.6), where the ceiling caps the strength."""
    img = reexposed(generated_scene(1002, (96, 128)), 0.5)
    assert WELL_EXPOSED_FROM <= mean_luma(img) < LEFT_ALONE_FROM and 0.3 <= img.mean() / 255
    return img


def _image(tmp_path, img, name, *args) -> np.ndarray:
    src = tmp_path / f"{name}.png"
    cv2.imwrite(str(src), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    assert main(["image", str(src), "-o", str(tmp_path / name), *args]) == 0
    return cv2.cvtColor(cv2.imread(str(tmp_path / name / f"{name}.png")), cv2.COLOR_BGR2RGB)


def test_image_default_fades_and_explicit_strength_overrides(tmp_path):
    img = _mid_bright()
    faded, full = _image(tmp_path, img, "a"), _image(tmp_path, img, "b", "--strength", "1")
    assert img.mean() < faded.mean() < full.mean()
    assert (faded.mean() - img.mean()) / 255 <= 0.04  # the well-exposed target, by default
    dark = (img // 6).astype(np.uint8)
    np.testing.assert_array_equal(_image(tmp_path, dark, "c"), _image(tmp_path, dark, "d", "--strength", "1"))


def test_video_of_a_brightening_scene_fades_smoothly(tmp_path):
    """A clip that brightens from night (mean ~0.05) to day (~0.45) over 4 s: the default output follows
    the input up with no step, is lifted at night and about unchanged by day; ``--strength 1`` lifts
    the day frames too. (``--no-stabilize``: the exposure stabiliser, on by default, holds a brightening
    this fast back by design, since it cannot tell it from exposure jitter.)"""
    scene = generated_scene(1000, (96, 128))
    frames = [reexposed(scene, e) for e in np.geomspace(0.01, 0.9, 100)]
    clip = make_clip(tmp_path / "in.mp4", frames, audio=False)
    outs = {}
    for name, args in (("auto", []), ("one", ["--strength", "1"])):
        out = tmp_path / f"{name}.mp4"
        assert main(["video", str(clip), "-o", str(out), "--crf", "12", "--no-stabilize", *args]) == 0
        outs[name] = np.array([f.mean() for f in read_video(out)["frames"]])
    src = np.array([f.mean() for f in frames])
    auto, one = outs["auto"], outs["one"]
    assert auto[0] > src[0] + 20 and abs(auto[-1] - src[-1]) < 6 and one[-1] > auto[-1] + 5
    assert (np.diff(auto) > -3).all()  # no visible step down while the scene brightens


@pytest.mark.parametrize("model", ["zero-dce++", "zero-dce"])
def test_brighter_input_never_comes_out_darker(model):
    """Over an exposure sweep from night to day (60 steps, x0.01 to x0.9 in linear light), the default
    output's mean follows the input up: where the ceiling takes the lift away, the input's own gain must
    make up for it (at most 2 levels below the brightest output so far). The smoothstep fade this
    replaced failed this with weights that lift mid-tones more (14 levels with the bundled ones).
    """
    enh = Enhancer(model)
    for seed in (1000, 1003):
        scene = generated_scene(seed, (96, 128))
        outs = np.array([enh.enhance(reexposed(scene, e)).mean() for e in np.geomspace(0.01, 0.9, 60)])
        assert (np.maximum.accumulate(outs) - outs).max() <= 2.0, (seed, np.round(outs, 1))


@pytest.mark.parametrize("planes", [False, True])
def test_a_frame_faded_to_nothing_breaks_the_temporal_denoise_chain(planes):
    """Noisy dark frames build the temporal filter's state; as the scene brightens (gradually: no scene
    cut) the fade reaches 0 and the frame is not denoised, which drops the state, so when the scene
    darkens again the filter does not blend in a frame from before the bright spell."""
    from lowlight import Enhancer
    from lowlight.kernels import yuv
    from lowlight.kernels import yuv_reference as ref
    from lowlight.realtime.processor import FrameProcessor
    from lowlight.realtime.transcode import FILE_PROCESSING

    if planes and not yuv.available():
        pytest.skip(f"planar YUV kernel not built: {yuv.unavailable_reason()}")
    rng = np.random.default_rng(3)
    scene = generated_scene(1000, (64, 96))
    ramp = np.geomspace(0.03, 0.9, 16)
    exposures = [0.03, *ramp, *ramp[::-1][1:4]]
    noisy = [np.clip(reexposed(scene, e) + rng.normal(0, 3, scene.shape), 0, 255).astype(np.uint8) for e in exposures]
    frames = [yuv.PlanarYUV(*ref.rgb_to_yuv420(f, ref.BT601, False)) if planes else f for f in noisy]
    proc = FrameProcessor(Enhancer(), FILE_PROCESSING)
    states, strengths = [], []
    for f in frames:
        proc.process(f)
        states.append(proc._dn_state is not None)
        strengths.append(proc.applied_strength)
    assert proc.smoother.cuts == 1  # only the first frame: the ramp is gradual
    bright = strengths.index(0.0)
    assert states[1] and not states[bright]  # a chain while dark, none at the bright frame
