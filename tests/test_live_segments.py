"""Recordings that survive: `lowlight live --record PATTERN --segment SECONDS`.

Segments add up to exactly the frames recorded (none lost or doubled at a boundary), each decodes
fully with PyAV, copied audio goes along, names follow the pattern, and a SIGKILL leaves every
closed segment intact (only the open one, still under its temporary name, is lost).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from lowlight.cli import main
from lowlight.errors import OutputError
from lowlight.realtime.media.segments import SegmentedRecorder, segment_name
from lowlight.realtime.media.video_source import VideoFileSource
from lowlight.realtime.pipeline import Pipeline
from lowlight.realtime.sources import NumpySource

from realtime_clips import brightening_weights, dark_frames, leftovers, make_clip, read_video


def levels(n: int, w: int = 64, h: int = 48) -> list[np.ndarray]:
    """Flat frames whose grey level tells their index (4 levels apart: survives H.264)."""
    return [np.full((h, w, 3), 16 + 4 * (i % 56), np.uint8) for i in range(n)]


def decoded_levels(path: Path) -> list[int]:
    got = read_video(path)["frames"]
    return [int(round((f.mean() - 16) / 4)) for f in got]


def test_segment_names(tmp_path):
    t = time.mktime((2026, 12, 1, 18, 5, 9, 0, 0, -1))
    assert segment_name(str(tmp_path / "cam-%Y%m%d-%H%M%S.mp4"), 3, t, False).name == "cam-20261201-180509.mp4"
    assert segment_name(str(tmp_path / "out.mp4"), 3, t, True).name == "out-0003.mp4"
    assert segment_name(str(tmp_path / "out.mp4"), 0, t, False).name == "out.mp4"
    with pytest.raises(OutputError):
        SegmentedRecorder(tmp_path / "x.mp4", segment=0)
    with pytest.raises(OutputError, match="extension"):
        SegmentedRecorder(str(tmp_path / "noext"), segment=1).check_target()


def test_segments_sum_to_every_frame_in_order(tmp_path):
    n = 100  # at 25 fps, 4 s: 1 s segments -> 4 files of 25 frames
    rec = SegmentedRecorder(tmp_path / "seg.mp4", segment=1.0)
    stats = Pipeline(NumpySource(levels(n), rate=25), rec, None, mode="file").run()
    assert stats.frames_out == n
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["seg-0000.mp4", "seg-0001.mp4", "seg-0002.mp4", "seg-0003.mp4"], names
    assert rec.frame_counts == [25, 25, 25, 25] and rec.frames_written == n
    seen = []
    for p in rec.closed:
        got = read_video(p)
        assert got["pts"][0] == 0 and all(b > a for a, b in zip(got["pts"], got["pts"][1:]))  # each starts at 0
        seen += decoded_levels(p)
    assert seen == [i % 56 for i in range(n)]  # every frame once, in order: nothing lost or doubled
    assert leftovers(tmp_path) == []
    assert "100 frames in 4 segments" in rec.describe()


def test_segments_with_strftime_names_and_a_clock(tmp_path):
    clock = iter(range(1_700_000_000, 1_700_000_100, 7))
    rec = SegmentedRecorder(str(tmp_path / "cam-%H%M%S.mkv"), segment=0.5, clock=lambda: float(next(clock)))
    rec.check_target()
    Pipeline(NumpySource(levels(30), rate=30), rec, None, mode="file").run()
    assert len(rec.closed) == 2 and all(p.suffix == ".mkv" and p.name.startswith("cam-") for p in rec.closed)
    assert len(set(rec.closed)) == 2 and sum(rec.frame_counts) == 30


def test_segments_keep_the_source_audio(tmp_path):
    clip = make_clip(tmp_path / "in.mp4", dark_frames(50, 64, 48), fps=25, audio=True)
    total_audio = len(read_video(clip)["audio"])
    rec = SegmentedRecorder(tmp_path / "out.mkv", segment=0.8)
    Pipeline(VideoFileSource(clip), rec, None, mode="file").run()
    assert len(rec.closed) >= 2
    audio = 0
    for p in rec.closed:
        got = read_video(p)
        kinds = {kind for kind, _ in got["codecs"].values()}
        assert kinds == {"video", "audio"}, got["codecs"]
        assert got["audio"], p
        audio += len(got["audio"])
    assert sum(rec.frame_counts) == 50
    assert audio >= total_audio - 2  # every packet lands in one segment (the last may trail the video)


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return brightening_weights(tmp_path_factory.mktemp("w") / "bright.pt")


def test_cli_segments_add_up_to_the_frames_recorded(tmp_path, weights, capsys):
    clip = make_clip(tmp_path / "cam.mp4", dark_frames(75, 96, 72), fps=30, audio=False)
    out = tmp_path / "rec" / "part.mp4"
    out.parent.mkdir()
    assert main(["live", "--source", str(clip), "--no-display", "--record", str(out), "--segment", "1",
                 "--weights", str(weights)]) == 0
    err = capsys.readouterr().err
    shown = int(err.split(" frames in ")[0].rsplit(" ", 1)[-1])
    files = sorted(out.parent.iterdir())
    assert len(files) >= 2 and all(".part" not in f.name for f in files), files
    assert sum(len(read_video(f)["frames"]) for f in files) == shown
    assert f"recorded {shown} frames in {len(files)} segments" in err


def test_sigkill_leaves_every_closed_segment_intact(tmp_path, weights):
    clip = make_clip(tmp_path / "long.mp4", dark_frames(600, 96, 72), fps=30, audio=False)  # 20 s
    folder = tmp_path / "rec"
    folder.mkdir()
    cmd = [sys.executable, "-m", "lowlight", "live", "--source", str(clip), "--no-display", "--record",
           str(folder / "cam.mp4"), "--segment", "1", "--weights", str(weights)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            done = [p for p in folder.iterdir() if not p.name.startswith(".")]
            if len(done) >= 3:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read().decode()[-500:]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    closed = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    partial = [p for p in folder.iterdir() if p.name.startswith(".")]
    assert len(closed) >= 3 and len(partial) <= 1, (closed, partial)
    for p in closed:
        with av.open(str(p)) as c:  # decodes fully, no error, about a second each
            n = sum(1 for _ in c.decode(video=0))
            assert 20 <= n <= 35, (p, n)
            assert c.streams.video[0].time_base is not None and float(c.duration or 0) / 1e6 > 0.5
    assert [p.name for p in closed][:3] == ["cam-0000.mp4", "cam-0001.mp4", "cam-0002.mp4"]


def test_cli_live_recording_keeps_a_files_audio_in_every_segment(tmp_path, weights, capsys):
    """A file played as a camera: its sound goes into the recording, segment by segment."""
    clip = make_clip(tmp_path / "talk.mp4", dark_frames(60, 96, 72), fps=30, audio=True)
    source_audio = len(read_video(clip)["audio"])
    out = tmp_path / "rec" / "talk.mp4"
    out.parent.mkdir()
    assert main(["live", "--source", str(clip), "--no-display", "--record", str(out), "--segment", "1",
                 "--weights", str(weights)]) == 0
    capsys.readouterr()
    files = sorted(out.parent.iterdir())
    assert len(files) == 2, files
    audio = 0
    for f in files:
        got = read_video(f)
        assert {kind for kind, _ in got["codecs"].values()} == {"video", "audio"}, got["codecs"]
        assert got["audio"], f
        audio += len(got["audio"])
    assert audio >= source_audio - 3, (audio, source_audio)


def test_strftime_folders_are_created_and_removed_again_when_nothing_was_recorded(tmp_path):
    t = time.mktime((2026, 12, 1, 18, 5, 9, 0, 0, -1))
    pattern = str(tmp_path / "cams" / "%Y-%m-%d" / "door-%H%M%S.mp4")
    rec = SegmentedRecorder(pattern, segment=1.0, clock=lambda: t)
    rec.check_target()
    assert (tmp_path / "cams" / "2026-12-01").is_dir()
    rec.open(None)
    rec.close(False)  # the run failed before the first frame
    assert not (tmp_path / "cams").exists()
    rec = SegmentedRecorder(pattern, segment=1.0, clock=lambda: t)
    rec.check_target()
    Pipeline(NumpySource(levels(30), rate=25), rec, None, mode="file").run()
    assert [p.relative_to(tmp_path).as_posix() for p in rec.closed] == [
        "cams/2026-12-01/door-180509.mp4", "cams/2026-12-01/door-180509-1.mp4"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        SegmentedRecorder(str(tmp_path / "file" / "sub" / "a.mp4")).check_target()
