"""`lowlight live --virtual-camera`: the virtual webcam sink.

* The conversion from RGB to each device format, checked by decoding it back with OpenCV.
* The sink with a stand-in ``pyvirtualcam`` (size, rate and format follow the source).
* A missing device gives one line that says how to create one (real pyvirtualcam, no device).
* Where a v4l2loopback device exists, frames written to it are read back through OpenCV; elsewhere
  (containers, CI) that test skips and says why.
"""

from __future__ import annotations

import enum
import sys
import threading
import time
from fractions import Fraction

import cv2
import numpy as np
import pytest

from lowlight.errors import BackendError
from lowlight.realtime.frame import Frame
from lowlight.realtime.media.virtual_camera import (FORMATS, VirtualCameraSink, choose_format, convert_frame,
                                                    device_hint, loopback_devices)
from lowlight.realtime.pipeline import Pipeline
from lowlight.realtime.sources import NumpySource, StreamInfo

from realtime_clips import brightening_weights


def smooth_picture(w: int = 64, h: int = 48) -> np.ndarray:
    x = np.linspace(0, 1, w)[None, :]
    y = np.linspace(0, 1, h)[:, None]
    return np.clip(np.dstack([40 + 180 * x + 0 * y, 30 + 150 * y + 0 * x, 200 - 120 * x * y]), 0, 255).astype(np.uint8)


BACK = {"I420": cv2.COLOR_YUV2RGB_I420, "NV12": cv2.COLOR_YUV2RGB_NV12, "YUYV": cv2.COLOR_YUV2RGB_YUYV,
        "UYVY": cv2.COLOR_YUV2RGB_UYVY}


@pytest.mark.parametrize("fmt", FORMATS)
def test_conversion_to_each_device_format_decodes_back(fmt):
    rgb = smooth_picture(64, 48)
    out = convert_frame(rgb, fmt)
    h, w = rgb.shape[:2]
    if fmt == "RGB":
        back = out
    elif fmt == "BGR":
        back = out[..., ::-1]
    elif fmt in ("I420", "NV12"):
        assert out.size == w * h * 3 // 2 and out.dtype == np.uint8
        back = cv2.cvtColor(out.reshape(h * 3 // 2, w), BACK[fmt])
    else:
        assert out.size == w * h * 2 and out.dtype == np.uint8
        back = cv2.cvtColor(out.reshape(h, w, 2), BACK[fmt])
    err = np.abs(back.astype(int) - rgb.astype(int))
    assert err.mean() < 2.0 and err.max() <= 12, (fmt, err.mean(), err.max())


def test_format_follows_the_source():
    assert choose_format("YUYV", 640, 480) == "YUYV"
    assert choose_format("UYVY", 640, 480) == "UYVY"
    assert choose_format("NV12", 640, 480) == "NV12"
    assert choose_format("MJPG", 640, 480) == "I420"  # compressed capture: the usual 4:2:0
    assert choose_format("", 1280, 720) == "I420"  # files, streams
    assert choose_format("YUYV", 641, 480) == "RGB"  # odd sizes cannot be subsampled
    with pytest.raises(ValueError):
        convert_frame(np.zeros((3, 5, 3), np.uint8), "I420")


class FakeCameraModule:
    """A stand-in for ``pyvirtualcam`` recording what the sink does."""

    def __init__(self, fail: str = "") -> None:
        self.PixelFormat = enum.Enum("PixelFormat", {f: f for f in FORMATS})
        self.opened, self.frames, self.closed, self.fail = [], [], 0, fail
        module = self

        class Camera:
            def __init__(self, width, height, fps, fmt, device=None, print_fps=False):
                if module.fail:
                    raise RuntimeError(module.fail)
                module.opened.append({"width": width, "height": height, "fps": fps, "fmt": fmt.name, "device": device})
                self.device = device or "/dev/video7"

            def send(self, frame):
                module.frames.append(frame.copy())

            def close(self):
                module.closed += 1

        self.Camera = Camera


def test_sink_sends_every_frame_at_the_source_size_rate_and_format(monkeypatch):
    fake = FakeCameraModule()
    monkeypatch.setitem(sys.modules, "pyvirtualcam", fake)
    frames = [smooth_picture(64, 48)] * 6
    sink = VirtualCameraSink("/dev/video7")
    Pipeline(NumpySource(frames, rate=24), sink, None, mode="file").run()
    assert fake.opened == [{"width": 64, "height": 48, "fps": 24.0, "fmt": "I420", "device": "/dev/video7"}]
    assert len(fake.frames) == 6 and fake.frames[0].size == 64 * 48 * 3 // 2 and fake.closed == 1
    assert sink.sent == 6 and sink.device_name == "/dev/video7"
    # a YUYV camera feeds a YUYV virtual camera
    fake2 = FakeCameraModule()
    monkeypatch.setitem(sys.modules, "pyvirtualcam", fake2)
    sink = VirtualCameraSink()
    sink.open(StreamInfo(width=64, height=48, rate=Fraction(30), extra={"fourcc": "YUYV"}))
    sink.write(Frame(smooth_picture(64, 48), 0))
    gap = Frame(np.zeros((48, 64, 3), np.uint8), 0, gap="reconnecting (attempt 1)")
    sink.write(gap)  # a reconnecting stand-in still reaches the call, as a darkened picture with the note
    sink.close(True)
    assert fake2.opened[0]["fmt"] == "YUYV" and len(fake2.frames) == 2 and fake2.frames[1].size == 64 * 48 * 2


def test_missing_device_is_one_line_with_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyvirtualcam", FakeCameraModule(fail="'v4l2loopback' backend: no device\nfound"))
    sink = VirtualCameraSink()
    with pytest.raises(BackendError) as info:
        sink.open(StreamInfo(width=64, height=48, rate=Fraction(30)))
    text = str(info.value)
    assert "\n" not in text and device_hint() in text and "--virtual-camera" in text
    if sys.platform.startswith("linux"):
        assert "modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=lowlight" in text


def test_missing_pyvirtualcam_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)  # import fails
    with pytest.raises(BackendError, match=r"lowlight\[camera\]"):
        VirtualCameraSink().open(StreamInfo(width=64, height=48, rate=Fraction(30)))


def test_real_pyvirtualcam_without_a_device_says_how_to_create_one(capsys, tmp_path):
    pytest.importorskip("pyvirtualcam", reason="pyvirtualcam not installed (pip install 'lowlight[camera]')")
    if not sys.platform.startswith("linux"):
        pytest.skip("checks the v4l2loopback message (Linux)")
    if loopback_devices():
        pytest.skip("a v4l2loopback device exists here; the missing-device message cannot be provoked")
    from lowlight.cli import main
    from realtime_clips import dark_frames, make_clip

    clip = make_clip(tmp_path / "c.mp4", dark_frames(10, 64, 48), fps=30, audio=False)
    weights = brightening_weights(tmp_path / "w.pt")
    assert main(["live", "--source", str(clip), "--no-display", "--virtual-camera", "--weights", str(weights)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "modprobe v4l2loopback" in err, err


def test_a_missing_device_fails_before_the_model_loads(capsys, tmp_path):
    """The device check runs first: with weights that do not exist, the error is still the device's."""
    pytest.importorskip("pyvirtualcam", reason="pyvirtualcam not installed (pip install 'lowlight[camera]')")
    if not sys.platform.startswith("linux"):
        pytest.skip("device paths are checked up front on Linux only")
    from lowlight.cli import main

    missing = tmp_path / "video99"
    code = main(["live", "--source", "0", "--no-display", "--virtual-camera", str(missing),
                 "--weights", str(tmp_path / "no-such-weights.pt")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1, err
    assert f"--virtual-camera {missing}: no such device" in err and "modprobe v4l2loopback" in err, err


def test_frames_written_to_a_v4l2loopback_device_read_back_through_opencv():
    devices = loopback_devices()
    if not devices:
        pytest.skip("no v4l2loopback device here (create one with 'sudo modprobe v4l2loopback devices=1 "
                    "exclusive_caps=1 card_label=lowlight'; containers and CI usually cannot load kernel modules)")
    pytest.importorskip("pyvirtualcam", reason="pyvirtualcam not installed (pip install 'lowlight[camera]')")
    device = devices[0]
    picture = smooth_picture(320, 240)
    sink = VirtualCameraSink(device)
    sink.open(StreamInfo(width=320, height=240, rate=Fraction(30)))
    stop = threading.Event()

    def feed():
        i = 0
        while not stop.is_set():
            sink.write(Frame(picture, i))
            i += 1
            time.sleep(1 / 30)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        time.sleep(0.5)
        cap = cv2.VideoCapture(device, cv2.CAP_V4L2)
        assert cap.isOpened(), f"cannot open {device} for reading"
        got = None
        for _ in range(60):
            ok, bgr = cap.read()
            if ok:
                got = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                break
            time.sleep(0.05)
        cap.release()
    finally:
        stop.set()
        writer.join(5)
        sink.close(True)
    assert got is not None, f"no frame read back from {device}"
    assert got.shape == picture.shape
    assert np.abs(got.astype(int) - picture.astype(int)).mean() < 6


def test_virtual_camera_together_with_serve_and_record(monkeypatch, tmp_path, capsys):
    """One run feeds the virtual camera, the browser view and a recording at once."""
    from lowlight.cli import main
    from realtime_clips import dark_frames, make_clip, read_video

    fake = FakeCameraModule()
    monkeypatch.setitem(sys.modules, "pyvirtualcam", fake)
    clip = make_clip(tmp_path / "c.mp4", dark_frames(30, 64, 48), fps=30, audio=False)
    weights = brightening_weights(tmp_path / "w.pt")
    rec = tmp_path / "rec.mp4"
    device = tmp_path / "video7"  # the fake backend's device: a path that exists passes the up-front check
    device.touch()
    assert main(["live", "--source", str(clip), "--no-display", "--virtual-camera", str(device), "--serve",
                 "127.0.0.1:0", "--record", str(rec), "--max-frames", "20", "--weights", str(weights)]) == 0
    err = capsys.readouterr().err
    shown = int(err.split(" frames in ")[0].rsplit(" ", 1)[-1])
    assert len(fake.frames) == shown and fake.opened[0]["fmt"] == "I420" and fake.closed == 1
    assert len(read_video(rec)["frames"]) == shown
    assert "serving http://127.0.0.1:" in err and "sent" in err and f"virtual camera {device} (I420)" in err
