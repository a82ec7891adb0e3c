"""Network cameras: `lowlight live` survives a stream that drops and comes back.

Two cameras on the loopback address, each stopped mid-run and restarted:

* HTTP/MJPEG: ``ffmpeg ... -f mpjpeg -listen 1 http://127.0.0.1:PORT/feed.mjpg`` (FFmpeg alone, looping a
  clip in real time; FFmpeg cannot serve RTSP to a reader by itself);
* RTSP: GStreamer's RTSP server (``tests/rtsp_server.py``, run with Debian's python3 and python3-gi),
  H.264 over RTP.

The test checks that lowlight keeps running and says "reconnecting", that frames resume within 5 s of
the camera's return, and that the summary reports the gap. Each camera skips, saying why, where its
server program is missing (ffmpeg; python3-gi + gir1.2-gst-rtsp-server-1.0 + gstreamer1.0-plugins-ugly).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from lowlight.realtime.frame import Frame
from lowlight.realtime.media import camera_source
from lowlight.realtime.media.camera_source import CameraSource
from lowlight.realtime.pipeline import Pipeline
from lowlight.realtime.sinks import ListSink

from realtime_clips import brightening_weights, dark_frames, make_clip, wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if not exe:
        pytest.skip("the network-camera test needs the ffmpeg program as a stream server (apt-get install ffmpeg)")
    return exe


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return brightening_weights(tmp_path_factory.mktemp("w") / "bright.pt")


@pytest.fixture(scope="module")
def loop_clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "loop.mp4", dark_frames(60, 160, 120), fps=30, audio=False)


class Camera:
    """An HTTP/MJPEG camera on 127.0.0.1 that can be unplugged and plugged back."""

    def __init__(self, ffmpeg: str, clip: Path) -> None:
        self.ffmpeg, self.clip = ffmpeg, clip
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/feed.mjpg"
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.ffmpeg, "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(self.clip),
             "-c:v", "mjpeg", "-q:v", "5", "-f", "mpjpeg", "-listen", "1", self.url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # wait until it listens, without connecting: "-listen 1" serves exactly one client
        ss = shutil.which("ss")
        deadline = time.monotonic() + 15
        while ss and time.monotonic() < deadline:
            out = subprocess.run([ss, "-ltnH", f"sport = :{self.port}"], capture_output=True, text=True).stdout
            if out.strip():
                return
            time.sleep(0.02)
        time.sleep(1.0)  # no ss: give FFmpeg a second

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


RTSP_SERVER = Path(__file__).resolve().parent / "rtsp_server.py"
GST_PYTHON = "/usr/bin/python3"  # Debian's Python, where python3-gi lives (not the test venv)


class RtspCamera:
    """An RTSP camera on 127.0.0.1 (GStreamer's RTSP server, ``tests/rtsp_server.py``)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"rtsp://127.0.0.1:{self.port}/cam"
        self.proc = None

    @staticmethod
    def available() -> str:
        """``""`` when the RTSP server can run here, else why not."""
        if not os.path.exists(GST_PYTHON):
            return f"{GST_PYTHON} not found"
        probe = subprocess.run([GST_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0'); "
                                "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
                                "assert Gst.ElementFactory.find('x264enc')"], capture_output=True, text=True)
        if probe.returncode != 0:
            return ("the RTSP camera needs GStreamer's RTSP server for Debian's python3 (apt-get install python3-gi "
                    "gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-ugly)")
        return ""

    def start(self) -> None:
        self.proc = subprocess.Popen([GST_PYTHON, str(RTSP_SERVER), str(self.port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", line

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
        self.proc = None


@pytest.fixture
def camera(ffmpeg, loop_clip):
    """The HTTP/MJPEG camera."""
    cam = Camera(ffmpeg, loop_clip)
    cam.start()
    yield cam
    cam.stop()


@pytest.fixture(params=["http-mjpeg", "rtsp"])
def any_camera(request, ffmpeg, loop_clip):
    """Each kind of network camera there is a server for here."""
    if request.param == "rtsp":
        why = RtspCamera.available()
        if why:
            pytest.skip(why)
        cam = RtspCamera()
    else:
        cam = Camera(ffmpeg, loop_clip)
    cam.start()
    yield cam
    cam.stop()


def ctrl_c_works() -> None:
    """In the child: SIGINT back to its default, so Python turns it into Ctrl-C even where the test
    runner was started with SIGINT ignored (a background job)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stats(url: str) -> dict:
    with urllib.request.urlopen(url + "stats.json", timeout=5) as r:
        return json.loads(r.read())


def test_stream_drops_and_returns_lowlight_reconnects_and_reports_the_gap(any_camera, weights):
    camera = any_camera
    cmd = [sys.executable, "-m", "lowlight", "live", "--source", camera.url, "--no-display", "--serve", "127.0.0.1:0",
           "--weights", str(weights)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_works)
    try:
        line = proc.stderr.readline()
        m = re.search(r"serving (http://\S+)", line)
        assert m, line
        url = m.group(1)
        assert wait_until(lambda: stats(url).get("captured", 0) > 30, 60), "no frames from the camera"
        camera.stop()
        t_down = time.monotonic()
        assert wait_until(lambda: stats(url)["status"].startswith("reconnecting"), 10), stats(url)
        before = stats(url)["captured"]
        time.sleep(3.0)  # the process, its server and its figures stay alive through the outage
        during = stats(url)
        assert proc.poll() is None and during["captured"] == before and during["status"].startswith("reconnecting")
        camera.start()
        t_back = time.monotonic()
        resumed = wait_until(lambda: stats(url)["captured"] > before + 5 and stats(url)["status"] == "live", 10, 0.05)
        t_resumed = time.monotonic()
        assert resumed, stats(url)
        assert t_resumed - t_back < 5.0, t_resumed - t_back
        gaps = stats(url)["gaps"]
        assert len(gaps) == 1 and gaps[0] >= t_back - t_down - 0.5, (gaps, t_back - t_down)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # Ctrl-C: the normal end of a live run
        err = proc.communicate(timeout=30)[1]
    assert proc.returncode in (0, 130), err[-600:]  # 130 where Ctrl-C sets the exit status (issue 14)
    assert "1 gap (reconnected)" in err, err[-600:]


def test_without_reconnect_a_dropped_stream_ends_with_one_line(camera, weights):
    cmd = [sys.executable, "-m", "lowlight", "live", "--source", camera.url, "--no-display", "--no-reconnect",
           "--serve", "127.0.0.1:0", "--weights", str(weights)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        m = re.search(r"serving (http://\S+)", line)
        assert m, line
        assert wait_until(lambda: stats(m.group(1)).get("captured", 0) > 10, 60), "no frames from the camera"
        camera.stop()
        err = proc.communicate(timeout=30)[1].strip()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    assert len(err.splitlines()) == 1 and "stopped delivering frames" in err and "--reconnect" in err, err


class FlakyCapture:
    """A ``cv2.VideoCapture`` stand-in: ``frames`` good reads, then failures (a dropped stream)."""

    def __init__(self, frames: int, value: int = 30) -> None:
        self.left, self.value = frames, value

    def read(self):
        if self.left <= 0:
            return False, None
        self.left -= 1
        time.sleep(1 / 60)
        return True, np.full((48, 64, 3), self.value, np.uint8)

    def isOpened(self):  # noqa: N802 - OpenCV's name
        return True

    def get(self, prop):
        return 0.0

    def release(self):
        pass


def test_reconnecting_source_yields_stand_ins_then_resumes(monkeypatch):
    """In-process: stand-in frames (``Frame.gap``) while down are neither processed nor counted;
    real frames resume after the back-off and the gap is recorded."""
    opens = []

    def fake_open(self, timeout=camera_source.OPEN_TIMEOUT_S):
        opens.append(time.monotonic())
        if len(opens) == 1:
            return FlakyCapture(10), np.full((48, 64, 3), 30, np.uint8)
        if len(opens) < 4:
            return None, None  # still down: two failed attempts
        return FlakyCapture(10, 90), np.full((48, 64, 3), 90, np.uint8)

    monkeypatch.setattr(CameraSource, "_open_capture", fake_open)
    monkeypatch.setattr(camera_source, "BACKOFF_S", (0.1, 0.2))
    src = CameraSource("http://127.0.0.1:9/never", max_frames=18)
    assert src.reconnect
    sink = ListSink()
    stats = Pipeline(src, sink, None, mode="live").run()
    real = [f for f in sink.frames if f.gap is None]
    stand_ins = [f for f in sink.frames if f.gap is not None]
    assert stand_ins and all("reconnecting" in f.gap for f in stand_ins)
    assert stats.frames_in == len({f.index for f in real}) + stats.dropped or stats.frames_in == 18
    assert stats.frames_out == len(real)
    assert [f.index for f in real] == sorted(f.index for f in real)
    assert real[-1].image.mean() == 90 and len(opens) == 4
    assert len(src.gaps) == 1 and 0.25 < src.gaps[0][1] < 3.0
    assert "1 gap (reconnected)" in src.gap_summary()
    assert isinstance(sink.frames[0], Frame)


def test_non_video_file_gives_one_line(tmp_path, weights, capsys):
    from lowlight.cli import main

    text = tmp_path / "text.jpg"
    text.write_text("not a picture\n")
    still = tmp_path / "photo.png"
    import cv2

    cv2.imwrite(str(still), np.zeros((8, 8, 3), np.uint8))
    for path, words in ((text, "not a readable video"), (still, "still image")):
        assert main(["live", "--source", str(path), "--no-display", "--weights", str(weights)]) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err and str(path) in err, err
    # and no FFmpeg log line reaches the terminal, even from a subprocess (C-level stderr)
    proc = subprocess.run([sys.executable, "-m", "lowlight", "live", "--source", str(text), "--no-display",
                           "--weights", str(weights)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_unplugged_usb_camera_ends_with_one_line_or_is_reopened_with_reconnect(monkeypatch):
    """A camera that stops delivering frames (unplugged): one clear line by default; with
    ``reconnect=True`` the same device is reopened when it comes back."""
    from lowlight.errors import InputError

    monkeypatch.setattr(camera_source, "STALL_S", 0.2)
    monkeypatch.setattr(camera_source, "BACKOFF_S", (0.05,))
    opens = []

    def fake_open(self, timeout=camera_source.OPEN_TIMEOUT_S):
        opens.append(self.arg)
        if len(opens) == 2:
            return None, None  # still unplugged
        return FlakyCapture(5), np.full((48, 64, 3), 30, np.uint8)

    monkeypatch.setattr(CameraSource, "_open_capture", fake_open)
    src = CameraSource(0)
    assert not src.reconnect  # cameras: off by default
    with pytest.raises(InputError) as info:
        Pipeline(src, ListSink(), None, mode="live").run()
    text = str(info.value)
    assert "\n" not in text and "camera 0" in text and "unplugged" in text and "--reconnect" in text

    opens.clear()
    src = CameraSource(0, max_frames=8, reconnect=True)
    sink = ListSink()
    Pipeline(src, sink, None, mode="live").run()
    assert opens == [0, 0, 0] and len(src.gaps) == 1
    assert len([f for f in sink.frames if f.gap is None]) >= 6
