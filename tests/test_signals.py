"""SIGINT, SIGTERM and SIGHUP during ``video``, ``live --record`` and ``batch``: a clean end, the
conventional exit status (128 + N), no temporary file and no process left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from realtime_clips import brightening_weights, dark_frames, make_clip, processes_with, wait_until

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("sig")
    clip = make_clip(root / "long.mp4", dark_frames(900, 320, 240), audio=True)  # 36 s at 25 fps
    return {"clip": clip, "weights": brightening_weights(root / "w.pt")}


def start(args: list, token: str) -> subprocess.Popen:
    env = {**os.environ, "LOWLIGHT_TEST_TOKEN": token}
    return subprocess.Popen([sys.executable, "-m", "lowlight", *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env)


def parts(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".part" in p.name]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_video(media, tmp_path, sig):
    out = tmp_path / "o.mp4"
    proc = start(["video", media["clip"], "-o", out, "--weights", media["weights"], "--preset", "ultrafast"], "v")
    assert wait_until(lambda: parts(tmp_path), 60, 0.05), "the run did not start"
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + sig, err
    assert f"interrupted ({signal.Signals(sig).name})" in err and "Traceback" not in err
    assert not out.exists() and parts(tmp_path) == [] and not processes_with("v")


def test_live_record_keeps_the_recording(media, tmp_path):
    rec = tmp_path / "rec.mp4"
    proc = start(["live", "--source", media["clip"], "--no-display", "--record", rec, "--weights", media["weights"]],
                 "l")
    assert wait_until(lambda: parts(tmp_path), 60, 0.05), "the run did not start"
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and parts(tmp_path) == [] and not processes_with("l")
    with av.open(str(rec)) as c:  # the recording was finished, not lost
        assert sum(1 for _ in c.decode(video=0)) > 5


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_batch(media, tmp_path, sig):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"c{i}.mp4").write_bytes(media["clip"].read_bytes())
    out = tmp_path / "out"
    proc = start(["batch", folder, "-o", out, "--weights", media["weights"], "--workers", "2",
                  "--preset", "ultrafast"], "b")
    assert wait_until(lambda: out.exists() and parts(out), 60, 0.05), "the run did not start"
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=40)
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err
    assert wait_until(lambda: not processes_with("b"), 15, 0.05), "the run did not end"
    assert parts(out) == [] and not [p for p in out.rglob("*.mp4")]
