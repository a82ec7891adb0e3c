"""The exposure fade (lowlight/exposure_fade.py): the factor itself, and what ``lowlight image`` and
``lowlight video`` do with it by default and with ``--strength`` given (the user's override)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lowlight.cli import main
from lowlight.exposure_fade import FULL_BELOW, OFF_ABOVE, exposure_fade, mean_luma
from lowlight.train.sample_data import generated_scene
from realtime_clips import make_clip, read_video
from test_train_bundled import reexposed


def test_fade_is_one_for_dark_zero_for_bright_and_smooth_between():
    m = np.linspace(0.0, 1.0, 1001)
    f = np.array([exposure_fade(v) for v in m])
    assert (f[m <= FULL_BELOW] == 1.0).all() and (f[m >= OFF_ABOVE] == 0.0).all()
    assert (np.diff(f) <= 0).all() and np.abs(np.diff(f)).max() < 0.01  # monotone, no jumps
    with pytest.raises(ValueError):
        exposure_fade(0.3, full_below=0.5, off_above=0.5)


def test_mean_luma_reads_uint8_and_uint16_alike():
    img = generated_scene(1000, (96, 128))
    assert mean_luma(img) == pytest.approx(float((img @ [0.299, 0.587, 0.114]).mean()) / 255, abs=0.005)
    assert mean_luma(img.astype(np.uint16) * 257) == pytest.approx(mean_luma(img), abs=1e-6)


def _mid_bright() -> np.ndarray:
    """A scene of mean ~0.32: well exposed (the issue counts 0.3-0.6), where the fade is partial."""
    img = reexposed(generated_scene(1002, (96, 128)), 0.5)
    assert FULL_BELOW < mean_luma(img) < OFF_ABOVE and 0.3 <= img.mean() / 255
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
    output's mean follows the input up: where the fade takes the lift away, the input's own gain must
    make up for it (at most 2 levels below the brightest output so far). A fade too steep for the
    weights' mid-tone lift fails this, a trained candidate with more lift dipped 11 levels."""
    from lowlight import Enhancer

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
