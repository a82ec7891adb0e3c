"""`lowlight video` end to end on tiny generated clips: frames, timestamps, audio, safety, damage."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from lowlight.cli import main
from lowlight.realtime import Pipeline
from lowlight.realtime.media.video_sink import VideoFileSink
from lowlight.realtime.media.video_source import VideoFileSource
from lowlight import Enhancer

from realtime_clips import brightening_weights, dark_frames, leftovers, lowlight_threads, make_clip, read_video


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return brightening_weights(tmp_path_factory.mktemp("w") / "bright.pt")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "in.mp4", dark_frames(12), rotation=90)


def best_match(inputs, outputs) -> list[int]:
    """For each output frame, the index of the most correlated input frame (the pattern moves per frame)."""
    def norm(f):
        g = f.astype(np.float64).mean(axis=2)
        g -= g.mean()
        return g / (np.linalg.norm(g) + 1e-9)
    ins = [norm(f) for f in inputs]
    return [int(np.argmax([float((norm(o) * i).sum()) for i in ins])) for o in outputs]


def video(*args) -> int:
    return main(["video", *map(str, args)])


def test_transcode_keeps_frames_order_pts_rotation_and_audio(tmp_path, clip, weights):
    out = tmp_path / "out.mp4"
    assert video(clip, "-o", out, "--weights", weights, "--preset", "ultrafast") == 0
    src, dst = read_video(clip), read_video(out)
    assert len(dst["frames"]) == len(src["frames"]) == 12
    assert [p * dst["time_base"] for p in dst["pts"]] == [p * src["time_base"] for p in src["pts"]]
    assert dst["rotation"] == src["rotation"] == 90
    assert [c for _, c in sorted(dst["codecs"].values())] == ["aac", "h264"]
    assert len(dst["audio"]) == len(src["audio"]) > 0
    assert dst["audio"] == src["audio"]  # copied byte for byte, not re-encoded
    for a, b in zip(src["frames"], dst["frames"]):  # brighter, and frame i still matches frame i
        assert b.mean() > a.mean() + 25
    assert best_match(src["frames"], dst["frames"]) == list(range(12))  # order kept
    assert leftovers(tmp_path) == [] and not lowlight_threads()


def test_variable_frame_rate_timestamps_kept(tmp_path, weights):
    pts = [0, 25, 65, 90, 130, 155, 195, 220, 260, 285]  # alternating 25/40 ms
    clip = make_clip(tmp_path / "vfr.mp4", dark_frames(10), pts=pts, time_base=Fraction(1, 1000), audio=False)
    out = tmp_path / "vfr_out.mkv"
    assert video(clip, "-o", out, "--weights", weights, "--preset", "ultrafast") == 0
    src, dst = read_video(clip), read_video(out)
    src_t = [round(float(p * src["time_base"]), 3) for p in src["pts"]]
    dst_t = [round(float(p * dst["time_base"]), 3) for p in dst["pts"]]
    assert src_t == [p / 1000 for p in pts]
    assert dst_t == src_t


def test_no_audio_drops_audio(tmp_path, clip, weights):
    out = tmp_path / "silent.mp4"
    assert video(clip, "-o", out, "--weights", weights, "--no-audio", "--preset", "ultrafast") == 0
    assert [t for t, _ in read_video(out)["codecs"].values()] == ["video"]


def test_existing_output_refused_and_input_never_overwritten(tmp_path, clip, weights, capsys):
    out = tmp_path / "exists.mp4"
    out.write_bytes(b"keep me")
    assert video(clip, "-o", out, "--weights", weights) == 1
    assert "exists" in capsys.readouterr().err and out.read_bytes() == b"keep me"
    copy = tmp_path / "in.mp4"
    copy.write_bytes(clip.read_bytes())
    before = copy.read_bytes()
    assert video(copy, "-o", copy, "--weights", weights, "--overwrite") == 1
    assert "overwrite its input" in capsys.readouterr().err
    assert copy.read_bytes() == before
    assert video(clip, "-o", out, "--weights", weights, "--overwrite", "--preset", "ultrafast") == 0
    assert len(read_video(out)["frames"]) == 12
    assert leftovers(tmp_path) == []


def test_failure_mid_way_removes_temp_file_and_stops_threads(tmp_path, clip, weights):
    out = tmp_path / "fail.mp4"
    source = VideoFileSource(clip)
    sink = VideoFileSink(out, preset="ultrafast", input_path=clip)
    pipe = Pipeline(source, sink, Enhancer(weights=weights))
    real = pipe.processor.process
    seen = []

    def flaky(image):
        seen.append(1)
        if len(seen) == 6:
            assert leftovers(tmp_path), "the temporary file exists while writing"
            raise RuntimeError("boom")
        return real(image)

    pipe.processor.process = flaky
    with pytest.raises(RuntimeError, match="boom"):
        pipe.run()
    assert not out.exists() and leftovers(tmp_path) == []
    assert not lowlight_threads()


def test_interrupt_removes_temp_file(tmp_path, clip, weights):
    out = tmp_path / "int.mp4"
    source = VideoFileSource(clip)
    sink = VideoFileSink(out, preset="ultrafast")

    def interrupt(frame):
        if frame.index == 3:
            raise KeyboardInterrupt

    pipe = Pipeline(source, sink, Enhancer(weights=weights), on_frame=interrupt)
    with pytest.raises(KeyboardInterrupt):
        pipe.run()
    assert not out.exists() and leftovers(tmp_path) == [] and not lowlight_threads()


def test_truncated_file_reports_lost_frames(tmp_path, weights, capsys):
    clip = make_clip(tmp_path / "full.mp4", dark_frames(30, 160, 120), faststart=True, audio=False)
    data = clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    out = tmp_path / "cut_out.mp4"
    assert video(cut, "-o", out, "--weights", weights, "--preset", "ultrafast") == 1
    err = capsys.readouterr().err
    assert "damaged input" in err and "lost" in err and str(cut) in err
    n = len(read_video(out)["frames"])
    assert 0 < n < 30
    lost = int(err.split("damaged input: ")[1].split(" frame")[0])
    assert lost == 30 - n
    assert leftovers(tmp_path) == []


def test_not_a_video(tmp_path, weights, capsys):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n" * 20)
    assert video(bad, "-o", tmp_path / "o.mp4", "--weights", weights) == 1
    err = capsys.readouterr().err.strip()
    assert str(bad) in err and "cannot open as a video" in err and len(err.splitlines()) == 1
    assert video(tmp_path / "missing.mp4", "-o", tmp_path / "o.mp4", "--weights", weights) == 1
    assert "no such file" in capsys.readouterr().err
    assert leftovers(tmp_path) == []


def test_no_video_stream(tmp_path, weights, capsys):

    audio_only = tmp_path / "sound.m4a"
    with av.open(str(audio_only), "w") as c:
        a = c.add_stream("aac", rate=16000)
        a.layout = "mono"
        f = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        f.sample_rate, f.pts = 16000, 0
        c.mux(a.encode(f))
        c.mux(a.encode(None))
    assert video(audio_only, "-o", tmp_path / "o.mp4", "--weights", weights) == 1
    err = capsys.readouterr().err
    assert "has no video stream" in err and str(audio_only) in err


def audio_of(path: Path) -> tuple[str, float, float]:
    """``(codec, first sample time, seconds of samples)`` of the first audio stream, decoded."""
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        first, samples, rate = None, 0, None
        for frame in c.decode(stream):
            if first is None:
                first = float(frame.pts * frame.time_base)
            samples += frame.samples
            rate = frame.sample_rate
        return stream.codec_context.name, first, samples / rate


@pytest.mark.parametrize("audio_codec", ["aac", "pcm_s16le"])
def test_audio_the_container_cannot_hold_is_reencoded(tmp_path, weights, capsys, audio_codec):
    """WebM holds only Opus/Vorbis audio: AAC or PCM input audio is re-encoded to Opus, in sync and
    complete, and the run says so; the same input into .mkv is copied unchanged."""
    clip = make_clip(tmp_path / "in.mkv", dark_frames(12), fps=12, audio_codec=audio_codec)
    out = tmp_path / "o.webm"
    assert video(clip, "-o", out, "--weights", weights, "--preset", "8") == 0
    err = capsys.readouterr().err
    assert f"({audio_codec}) re-encoded to libopus" in err and "cannot hold" in err, err
    info = read_video(out)
    assert info["codecs"][0] == ("video", "vp9") and info["codecs"][1] == ("audio", "opus")
    assert len(info["frames"]) == 12
    codec, first, seconds = audio_of(out)
    _, src_first, src_seconds = audio_of(clip)
    assert codec == "opus" and abs(first - src_first) < 0.03 and abs(seconds - src_seconds) < 0.05
    assert video(clip, "-o", tmp_path / "o.mkv", "--weights", weights, "--preset", "ultrafast") == 0
    assert read_video(tmp_path / "o.mkv")["codecs"][1] == ("audio", audio_codec)
    assert leftovers(tmp_path) == []


def test_container_that_cannot_hold_the_video_codec(tmp_path, weights, capsys):
    clip = make_clip(tmp_path / "in.mp4", dark_frames(4))
    assert video(clip, "-o", tmp_path / "o.webm", "--codec", "h264", "--weights", weights) == 1
    err = capsys.readouterr().err.strip()
    assert "h264" in err and ".webm" in err and len(err.splitlines()) == 1, err
    assert leftovers(tmp_path) == [] and not (tmp_path / "o.webm").exists()


def test_webm_output_gets_vp9_without_codec(tmp_path, weights):
    """The codec table gives a container its codec when --codec is not named: .webm -> VP9."""
    clip = make_clip(tmp_path / "in.mp4", dark_frames(4), audio=False)
    out = tmp_path / "o.webm"
    assert video(clip, "-o", out, "--weights", weights, "--preset", "8") == 0
    info = read_video(out)
    assert info["codecs"][0] == ("video", "vp9") and len(info["frames"]) == 4


@pytest.mark.parametrize("size,full_range", [((64, 48), True), ((63, 47), False)])
def test_strength_zero_is_identity_and_colour_description_kept(tmp_path, weights, size, full_range):
    """--strength 0 reproduces the input (within coding error): conversions RGB<->YUV agree on the
    colour range and matrix; SAR, colour description and odd sizes are kept."""

    w, h = size
    src = tmp_path / "src.mp4"
    pix_fmt = "yuv444p" if w % 2 or h % 2 else "yuv420p"
    with av.open(str(src), "w") as c:
        v = c.add_stream("libx264", rate=25, options={"preset": "ultrafast", "crf": "8"})
        v.width, v.height, v.pix_fmt = w, h, pix_fmt
        v.codec_context.sample_aspect_ratio = Fraction(4, 3)
        v.codec_context.colorspace = v.codec_context.color_primaries = v.codec_context.color_trc = 1  # BT.709
        v.codec_context.color_range = 2 if full_range else 1
        for i, img in enumerate(dark_frames(5, w, h)):
            img = img.copy()
            img[:, :8], img[:, 8:16] = 0, 255
            f = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(
                format=pix_fmt, dst_colorspace=1, dst_color_range=2 if full_range else 1)
            f.pts = i
            c.mux(v.encode(f))
        c.mux(v.encode(None))
    out = tmp_path / "same.mp4"
    assert video(src, "-o", out, "--weights", weights, "--strength", 0, "--crf", 8, "--preset", "ultrafast") == 0
    with av.open(str(src)) as a, av.open(str(out)) as b:
        ca, cb = a.streams.video[0].codec_context, b.streams.video[0].codec_context
        assert (cb.width, cb.height) == (w, h)
        assert cb.sample_aspect_ratio == Fraction(4, 3)
        assert (cb.color_range, cb.colorspace, cb.color_primaries, cb.color_trc) == \
               (ca.color_range, ca.colorspace, ca.color_primaries, ca.color_trc)
        fa = [f.to_ndarray(format="rgb24") for f in a.decode(video=0)]
        fb = [f.to_ndarray(format="rgb24") for f in b.decode(video=0)]
    assert len(fa) == len(fb) == 5
    assert max(np.abs(x.astype(float) - y).mean() for x, y in zip(fa, fb)) < 2.0


def test_copied_packets_travel_through_a_bounded_pipeline_queue(tmp_path, clip, weights, monkeypatch):
    """Copied audio reaches the sink through the pipeline's own bounded queue (here 2 packets, far fewer
    than the clip has): every packet is copied, none is lost or waits for the end, and the run ends."""
    import time

    from lowlight.realtime import pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "PACKET_QUEUE_SIZE", 2)
    audio_packets = len(read_video(clip)["audio"])
    out = tmp_path / "o.mp4"
    source, sink = VideoFileSource(clip), VideoFileSink(out, preset="ultrafast", input_path=clip)
    t0 = time.perf_counter()
    Pipeline(source, sink, Enhancer(weights=weights)).run()
    assert time.perf_counter() - t0 < 30
    assert audio_packets > 10 and sink.packets_copied == audio_packets
    assert read_video(out)["codecs"][1] == ("audio", "aac") and leftovers(tmp_path) == []


def test_streams_left_out_are_named(tmp_path, weights, capsys):
    """A second video stream is neither enhanced nor copied: the run says so instead of dropping it silently."""

    frames = dark_frames(4)
    src = tmp_path / "two.mkv"
    with av.open(str(src), "w") as c:
        streams = [c.add_stream("libx264", rate=25), c.add_stream("mpeg4", rate=25)]
        for s in streams:
            s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for f in frames:
            for s in streams:
                c.mux(s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        for s in streams:
            c.mux(s.encode())
    assert video(src, "-o", tmp_path / "out.mkv", "--weights", weights) == 0
    err = capsys.readouterr().err
    assert "not copied to the output: #1 video (mpeg4)" in err
    assert len(read_video(tmp_path / "out.mkv")["frames"]) == 4
    assert video(src, "-o", tmp_path / "out2.mkv", "--weights", weights, "--no-audio") == 0
    assert "#1 video (mpeg4)" in capsys.readouterr().err
    assert video(tmp_path / "out.mkv", "-o", tmp_path / "again.mkv", "--weights", weights) == 0
    assert "not copied" not in capsys.readouterr().err

    # a data stream (KLV metadata in MPEG-TS, as drones and body cameras write)
    ts = tmp_path / "klv.ts"
    with av.open(str(ts), "w") as c:
        v, d = c.add_stream("libx264", rate=25), c.add_data_stream(codec_name="klv")
        v.width, v.height, v.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for i, f in enumerate(frames):
            c.mux(v.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
            packet = av.Packet(b"telemetry %d" % i)
            packet.stream, packet.pts, packet.dts, packet.time_base = d, i, i, Fraction(1, 25)
            c.mux(packet)
        c.mux(v.encode())
    assert video(ts, "-o", tmp_path / "klv.mp4", "--weights", weights) == 0
    assert "not copied to the output: #1 data (" in capsys.readouterr().err
    assert len(read_video(tmp_path / "klv.mp4")["frames"]) == 4


def test_temp_file_of_a_killed_run_is_cleaned_up(tmp_path, clip, weights):
    """A SIGKILLed run leaves its hidden .STEM.PID.part.EXT; the next run to the same output removes it,
    but never the temporary file of a process that is still running."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()  # a pid that has just exited
    orphan = tmp_path / f".out.{dead}.part.mp4"
    running = tmp_path / f".out.{os.getppid()}.part.mp4"
    other = tmp_path / f".other.{dead}.part.mp4"
    for p in (orphan, running, other):
        p.write_bytes(b"half a video")
    assert video(clip, "-o", tmp_path / "out.mp4", "--weights", weights, "--preset", "ultrafast") == 0
    assert not orphan.exists() and running.exists() and other.exists()
    assert len(read_video(tmp_path / "out.mp4")["frames"]) == 12
