"""The planar 4:2:0 file path (issue 13) on real files: what the source hands on, the frame processor
on planes against the same frames in RGB, and ``lowlight video`` (planar) against its RGB path."""

from __future__ import annotations

import av
import numpy as np
import pytest

from lowlight.enhancer import Enhancer
from lowlight.kernels import yuv
from lowlight.kernels import yuv_reference as ref
from lowlight.realtime.media.video_source import VideoFileSource
from lowlight.realtime.processor import FrameProcessor
from lowlight.realtime.transcode import FILE_PROCESSING, Transcode, TranscodeOptions
from realtime_clips import brightening_weights, make_clip, read_video

pytestmark = pytest.mark.skipif(not yuv.available(), reason=f"planar YUV kernel not built: {yuv.unavailable_reason()}")


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return brightening_weights(tmp_path_factory.mktemp("w") / "bright.pt")


def noisy_frames(n: int, w: int = 96, h: int = 64, seed: int = 0) -> list[np.ndarray]:
    """Dark, slowly moving colour gradients with sensor-like noise (sigma 4: the denoiser works)."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, w)[None, :, None]
    y = np.linspace(0, 1, h)[:, None, None]
    out = []
    for i in range(n):
        base = 10 + 45 * ((x + 0.5 * y + i / 20) % 1.0) * np.array([1.0, 0.8, 0.6])
        out.append(np.clip(base + rng.normal(0, 4.0, (h, w, 3)), 0, 255).astype(np.uint8))
    return out


def write_clip(path, frames, pix_fmt: str):
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=25, options={"preset": "ultrafast", "crf": "10"})
        v.width, v.height, v.pix_fmt = w, h, pix_fmt
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format=pix_fmt)
            f.pts = i
            c.mux(v.encode(f))
        c.mux(v.encode(None))
    return path


def first_picture(path, planar: bool):
    src = VideoFileSource(path, planar=planar)
    src.open()
    try:
        return next(iter(src.frames())).image, src
    finally:
        src.close()


@pytest.mark.parametrize("pix_fmt,full", [("yuv420p", False), ("yuvj420p", True)])
def test_source_hands_on_the_planes_of_420_input(tmp_path, pix_fmt, full):
    clip = write_clip(tmp_path / "a.mp4", noisy_frames(2), pix_fmt)
    img, src = first_picture(clip, planar=True)
    assert isinstance(img, yuv.PlanarYUV) and src.planar_frames == 1
    assert img.shape == (64, 96) and img.u.shape == (32, 48) and img.full_range == full
    assert img.colorspace == ref.BT601  # unspecified: swscale's default, as on the RGB path
    rgb, _ = first_picture(clip, planar=False)
    d = img.to_rgb().astype(int) - rgb  # PyAV's conversion truncates (test_yuv.py)
    assert isinstance(rgb, np.ndarray) and d.min() >= -1 and d.max() <= 3


def test_source_keeps_rgb_for_other_formats(tmp_path):
    clip = write_clip(tmp_path / "b.mp4", noisy_frames(2), "yuv444p")
    img, src = first_picture(clip, planar=True)
    assert isinstance(img, np.ndarray) and img.shape == (64, 96, 3) and src.planar_frames == 0


def test_processor_on_planes_matches_the_rgb_processor(weights):
    """The same frames as planes and as (exactly converted) RGB: smoothing, estimation copy, noise,
    denoiser and exposure stabiliser agree, so the outputs agree within a level or two."""
    enh = Enhancer(weights=weights)
    on_planes, on_rgb = FrameProcessor(enh, FILE_PROCESSING), FrameProcessor(enh, FILE_PROCESSING)
    for i, frame in enumerate(noisy_frames(7)):
        planes = yuv.PlanarYUV(*ref.rgb_to_yuv420(frame, ref.BT709, False), colorspace=ref.BT709)
        out = on_planes.process(planes)
        want = ref.rgb_to_yuv420(on_rgb.process(planes.to_rgb()), ref.BT709, False)
        assert isinstance(out, yuv.PlanarYUV)
        for name, got, w in zip("yuv", (out.y, out.u, out.v), want):
            d = np.abs(got.astype(int) - w)
            assert d.max() <= 2 and (d <= 1).mean() >= 0.995, f"frame {i} plane {name}: max {d.max()}"
    assert on_planes.estimates == on_rgb.estimates == 3
    assert on_planes.noise is not None and not on_planes.noise.clean and on_planes._dn_state is not None
    assert abs(on_planes.noise.n0 - on_rgb.noise.n0) < 0.05 * on_rgb.noise.n0 + 0.05


def test_strength_zero_passes_frames_through_without_estimating(weights):
    """Strength 0 (the pipeline floor, ``lowlight video --strength 0``): planes and RGB frames come back
    as the very objects given, no curves are estimated; raising the strength again enhances at once."""
    enh = Enhancer(weights=weights, strength=0.0)
    proc = FrameProcessor(enh, FILE_PROCESSING)
    frames = noisy_frames(4)
    planes = [yuv.PlanarYUV(*ref.rgb_to_yuv420(f, ref.BT709, False), colorspace=ref.BT709) for f in frames]
    assert all(proc.process(p) is p for p in planes[:2]) and proc.process(frames[0]) is frames[0]
    assert proc.estimates == 0 and proc.noise is None
    proc.strength = 1.0
    out = proc.process(planes[2])
    assert out is not planes[2] and out.y.mean() > planes[2].y.mean() + 10 and proc.estimates == 1


def test_lowlight_video_planar_path_matches_rgb_path(tmp_path, weights):
    """The whole file path on a real H.264 file with audio: every frame within a few levels of the RGB path
    (which decodes with swscale's truncating converter, ~1 level darker before the curve lifts it)."""
    frames = noisy_frames(12)
    clip = make_clip(tmp_path / "in.mp4", frames)
    enh = Enhancer(weights=weights)
    job = Transcode(clip, tmp_path / "planar.mp4", TranscodeOptions())
    fast = job.run(enh)
    assert job.source.planar_frames == 12  # the default is the planar path
    rgb_job = Transcode(clip, tmp_path / "rgb.mp4", TranscodeOptions(planar=False))
    slow = rgb_job.run(enh)
    assert rgb_job.source.planar_frames == 0
    assert fast.frames == slow.frames == 12 and fast.packets_copied == slow.packets_copied > 0
    a, b = read_video(tmp_path / "planar.mp4"), read_video(tmp_path / "rgb.mp4")
    assert a["pts"] == b["pts"]
    for i, (x, y) in enumerate(zip(a["frames"], b["frames"])):
        d = x.astype(float) - y
        assert abs(d.mean()) < 4.0 and np.abs(d).mean() < 5.0, f"frame {i}: mean {d.mean():.2f}"
    assert np.mean([f.mean() for f in a["frames"]]) > np.mean(frames) + 20  # brightened


def test_odd_sized_420_source_is_cropped_to_even_on_the_planar_path(tmp_path, weights):
    """A 63x47 4:2:0 VP9 source (H.264 cannot be odd-sized in 4:2:0, VP9 can) into the default H.264
    output: planes all the way, encoded as 62x46 (last column and row dropped, as the note says), and
    the same picture as the RGB path within a few levels."""
    frames = noisy_frames(6, w=63, h=47)
    src = tmp_path / "odd.webm"
    with av.open(str(src), "w") as c:
        v = c.add_stream("libvpx-vp9", rate=25, options={"crf": "10", "deadline": "realtime", "cpu-used": "8"})
        v.width, v.height, v.pix_fmt = 63, 47, "yuv420p"
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
            f.pts = i
            c.mux(v.encode(f))
        c.mux(v.encode(None))
    enh = Enhancer(weights=weights)
    job = Transcode(src, tmp_path / "planar.mp4", TranscodeOptions())
    assert job.run(enh).frames == 6 and job.source.planar_frames == 6
    assert any("62x46" in n for n in job.sink.notes)
    rgb_job = Transcode(src, tmp_path / "rgb.mp4", TranscodeOptions(planar=False))
    assert rgb_job.run(enh).frames == 6 and rgb_job.source.planar_frames == 0
    a, b = read_video(tmp_path / "planar.mp4"), read_video(tmp_path / "rgb.mp4")
    assert all(f.shape == (46, 62, 3) for f in a["frames"] + b["frames"]) and len(a["frames"]) == 6
    for i, (x, y) in enumerate(zip(a["frames"], b["frames"])):
        d = x.astype(float) - y
        assert abs(d.mean()) < 4.0 and np.abs(d).mean() < 5.0, f"frame {i}: mean {d.mean():.2f}"


def test_full_resolution_model_takes_the_rgb_path(tmp_path):
    """Zero-DCE estimates on the full frame: the decoder's converter makes it (no NumPy conversion)."""
    clip = make_clip(tmp_path / "in.mp4", noisy_frames(3), audio=False)
    job = Transcode(clip, tmp_path / "out.mp4", TranscodeOptions())
    assert job.run(Enhancer(model="zero-dce")).frames == 3
    assert job.source.planar_frames == 0


def test_default_lowlight_video_takes_the_planar_path_without_torch(tmp_path):
    """The default ``lowlight video`` (4:2:0 in and out) on the bundled sample loads no torch, and the
    library behind it (default Enhancer, Transcode) enhances every frame as planes, also without torch."""
    import json
    import os
    import subprocess
    import sys

    from test_torch_free import HAS_ORT, SAMPLE_VIDEO, run_cli

    if not HAS_ORT:
        pytest.skip("onnxruntime/onnx not installed")
    out = tmp_path / "out.mp4"
    res = run_cli(["video", SAMPLE_VIDEO, "-o", out, "--device", "cpu"], tmp_path / "cache")
    assert res["rc"] == 0 and res["heavy"] == [], res
    assert len(read_video(out)["frames"]) == 90
    code = ("import json, sys; from lowlight import Enhancer; from lowlight.realtime.transcode import Transcode; "
            f"job = Transcode({str(SAMPLE_VIDEO)!r}, {str(tmp_path / 'lib.mp4')!r}); r = job.run(Enhancer(device='cpu')); "
            "print(json.dumps([r.frames, job.source.planar_frames, 'torch' in sys.modules]))")
    env = dict(os.environ, LOWLIGHT_CACHE_DIR=str(tmp_path / "cache"))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == [90, 90, False]
