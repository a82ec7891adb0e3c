"""The threaded pipeline through its Python API: order, timestamps, errors, stop, live drops."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from lowlight import Enhancer
from lowlight.realtime import CallbackSink, FrameProcessor, ListSink, NumpySource, Pipeline, Sink, StopPipeline

from realtime_clips import brightening_weights, dark_frames, lowlight_threads


@pytest.fixture(scope="module")
def enhancer(tmp_path_factory):
    return Enhancer(weights=brightening_weights(tmp_path_factory.mktemp("w") / "w.pt"))


def test_file_mode_is_lossless_ordered_and_matches_single_threaded(enhancer):
    frames = dark_frames(20)
    sink = ListSink()
    stats = Pipeline(NumpySource(frames), sink, enhancer, smooth=0.5, queue_size=2).run()
    assert [f.index for f in sink.frames] == list(range(20))
    assert [f.pts for f in sink.frames] == list(range(20))
    assert stats.frames_in == stats.frames_out == 20 and stats.dropped == 0
    proc = FrameProcessor(enhancer, smooth=0.5)
    for f, img in zip(sink.frames, frames):
        np.testing.assert_array_equal(f.image, proc.process(img))
        assert f.image.mean() > img.mean() + 20
    d = stats.as_dict()
    assert set(d["stage_ms"]) >= {"decode", "estimate", "smooth", "apply", "encode"}
    assert d["latency_ms"]["p50"] <= d["latency_ms"]["p99"]
    assert sink.closed is True and not lowlight_threads()


def test_pass_through_without_enhancer():
    frames = dark_frames(3)
    sink = ListSink()
    Pipeline(NumpySource(frames), sink).run()
    for f, img in zip(sink.frames, frames):
        assert f.image is img


class Exploding(Sink):
    def __init__(self, at: int) -> None:
        self.at, self.seen, self.closed = at, 0, None

    def write(self, frame) -> None:
        self.seen += 1
        if self.seen == self.at:
            raise ValueError("sink broke")

    def close(self, ok: bool) -> None:
        self.closed = ok


@pytest.mark.parametrize("mode", ["file", "live"])
def test_sink_exception_reaches_caller_and_no_thread_survives(enhancer, mode):
    sink = Exploding(at=3 if mode == "file" else 1)
    source = NumpySource(iter(dark_frames(200)))  # a generator: the source would run far ahead
    with pytest.raises(ValueError, match="sink broke"):
        Pipeline(source, sink, enhancer, mode=mode).run()
    assert sink.closed is False
    assert not lowlight_threads(), threading.enumerate()


def test_source_and_processor_exceptions_reach_caller(enhancer):
    def bad_frames():
        yield from dark_frames(2)
        raise OSError("camera unplugged")

    with pytest.raises(OSError, match="unplugged"):
        Pipeline(NumpySource(bad_frames()), ListSink(), enhancer).run()
    wrong = [np.zeros((4, 4), np.uint8)]
    with pytest.raises(ValueError, match="H x W x 3"):
        Pipeline(NumpySource(wrong), ListSink(), enhancer).run()
    assert not lowlight_threads()


def test_stop_pipeline_from_sink_ends_cleanly(enhancer):
    out = []

    def take(frame):
        out.append(frame.index)
        if len(out) == 4:
            raise StopPipeline

    stats = Pipeline(NumpySource(iter(dark_frames(100))), CallbackSink(take), enhancer).run()
    assert out == [0, 1, 2, 3] and stats.frames_out == 4 and not lowlight_threads()


def test_live_mode_drops_stale_frames_and_counts_them(enhancer):
    def slow(frame):
        time.sleep(0.03)

    source = NumpySource(dark_frames(40), rate=200, pace=True)  # 200 fps into a ~30 fps sink
    sink = CallbackSink(slow)
    seen = []
    stats = Pipeline(source, sink, enhancer, mode="live", on_frame=lambda f: seen.append(f.index)).run()
    assert stats.frames_in == 40
    assert stats.dropped > 0 and stats.frames_out + stats.dropped == 40
    assert seen == sorted(seen) and seen[-1] == 39  # in order, and the newest frame got through
    assert not lowlight_threads()


def test_ctrl_c_in_caller_stops_threads(enhancer):
    import _thread

    def interrupt_soon(frame):
        if frame.index == 2:
            _thread.interrupt_main()  # KeyboardInterrupt in the caller's thread, like Ctrl-C

    sink = ListSink()
    with pytest.raises(KeyboardInterrupt):
        Pipeline(NumpySource(iter(dark_frames(500))), sink, enhancer, on_frame=interrupt_soon).run()
        time.sleep(1)  # pragma: no cover - the interrupt arrives while run() is joining
    assert sink.closed is False and not lowlight_threads()


@pytest.mark.parametrize("size,top", [((1080, 1920), 20), ((97, 131), 20), ((97, 131), 160)])
def test_stills_and_video_get_the_same_curves(size, top):
    """One frame, enhanced by ``lowlight image``'s path and by the video pipeline's processor, is identical;
    also for a mid-bright frame (mean luminance ~0.31), where the exposure ceiling caps the strength."""
    from lowlight.exposure_fade import ceiling_strength
    from lowlight.realtime.processor import FrameProcessor

    frame = (np.random.default_rng(5).random((*size, 3)) * top).astype(np.uint8)
    enh = Enhancer()
    still = enh.enhance(frame)
    proc = FrameProcessor(enh, smooth=0.0, stabilize_exposure=False)
    video = proc.process(frame)
    np.testing.assert_array_equal(still, video)
    copy, small = enh.estimator.analysis_copy(frame)
    capped = ceiling_strength(1.0, copy, enh.estimator.maps(frame, small), enh.spec.iterations)
    assert proc.applied_strength == pytest.approx(capped) and (capped == 1.0) == (top == 20)


@pytest.mark.parametrize("channels,strength", [(3, 1.0), (3, 0.6), (24, 1.0)])
def test_apply_maps_reference_and_fused_kernels(channels, strength):
    """kernel="reference" is apply_curves on the float frame rounded like the kernels; the fused
    kernel agrees with it to one grey level; a leading batch dimension is accepted."""
    from lowlight.kernels import apply_curves
    from lowlight.kernels import enhance_frame as apply_maps

    rng = np.random.default_rng(channels)
    frame = rng.integers(0, 80, (37, 53, 3), dtype=np.uint8)
    size = (9, 13) if channels == 3 else (37, 53)
    maps = torch.from_numpy(rng.uniform(-0.2, 1.0, (channels, *size)).astype(np.float32))
    x = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255.0
    y = apply_curves(x, maps[None], 8, strength)[0].permute(1, 2, 0)
    expected = torch.floor(torch.clamp(y * 255.0 + 0.5, 0, 255)).to(torch.uint8).numpy()
    ref = apply_maps(frame, maps[None], 8, strength, kernel="reference")
    np.testing.assert_array_equal(ref, expected)
    fused = apply_maps(frame, maps, 8, strength, out=np.empty_like(frame))
    assert np.abs(fused.astype(int) - ref).max() <= 1 and fused.mean() > frame.mean()
