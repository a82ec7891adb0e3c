"""A virtual webcam as a pipeline sink (``lowlight live --virtual-camera [DEVICE]``).

:class:`VirtualCameraSink` sends the enhanced frames to a virtual camera through pyvirtualcam
(``pip install 'lowlight[camera]'``, imported when the sink opens): a v4l2loopback device on
Linux, the OBS virtual camera on Windows and macOS. Video-call programs then pick "lowlight" (or
"OBS Virtual Camera") as their camera.

Size and rate follow the source (``StreamInfo``); so does the pixel format where the device can
take it: a camera that captures YUYV feeds a YUYV virtual camera, and other sources (MJPEG
cameras, files, streams) feed I420, the 4:2:0 format most consumers expect. The conversion from
the pipeline's RGB is done here (:func:`convert_frame`: BT.601 limited range, like the cameras),
so the backend passes the bytes on unchanged. While a network source reconnects the camera keeps
receiving a darkened picture that says so, so the call does not lose its camera.

Creating a device (Linux, once per boot)::

    sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=lowlight
"""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path
from typing import Optional

import cv2
import numpy as np

from lowlight.errors import BackendError
from lowlight.realtime.frame import Frame
from lowlight.realtime.sinks import Sink
from lowlight.realtime.sources import StreamInfo

#: the pixel formats :func:`convert_frame` makes (names of ``pyvirtualcam.PixelFormat``)
FORMATS = ("RGB", "BGR", "I420", "NV12", "YUYV", "UYVY")
#: a source's capture format (OpenCV FOURCC) -> the virtual camera's
FROM_SOURCE = {"YUYV": "YUYV", "YUY2": "YUYV", "UYVY": "UYVY", "NV12": "NV12", "I420": "I420", "YU12": "I420"}
LINUX_HINT = ("create one with 'sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=lowlight' "
              "(Debian/Ubuntu package v4l2loopback-dkms)")
OTHER_HINT = "install OBS Studio (26 or later), which brings the OBS Virtual Camera, and start it once"


def device_hint() -> str:
    """How to create a virtual camera on this system (one clause, for error messages)."""
    return LINUX_HINT if sys.platform.startswith("linux") else OTHER_HINT


def loopback_devices() -> list[str]:
    """The v4l2loopback devices of this (Linux) machine, ``/dev/videoN`` sorted; ``[]`` elsewhere.

    A device counts when its sysfs name or driver says loopback (v4l2loopback's default
    ``Dummy video device`` label, or a ``card_label`` naming lowlight)."""
    found = []
    for dev in sorted(glob.glob("/dev/video*")):
        node = Path("/sys/class/video4linux") / os.path.basename(dev)
        driver, label = node / "device" / "driver", node / "name"
        try:
            text = (label.read_text() if label.exists() else "") + (os.readlink(driver) if driver.is_symlink() else "")
        except OSError:
            continue
        if any(word in text.lower() for word in ("loopback", "lowlight", "dummy")):
            found.append(dev)
    return found


def check_device(device: Optional[str] = None) -> None:
    """Fail now, before a model loads, when ``--virtual-camera [DEVICE]`` cannot work here.

    Raises :class:`BackendError` (one line, with the fix) when pyvirtualcam is missing, or on
    Linux when ``device`` does not exist or no v4l2loopback device exists at all. Other systems'
    virtual cameras (OBS) can only be found by opening them, which :meth:`VirtualCameraSink.open` does.
    """
    from lowlight.optional import require

    require("pyvirtualcam", "camera", "--virtual-camera")
    if not sys.platform.startswith("linux"):
        return
    if device:
        if not os.path.exists(device):
            raise BackendError(f"--virtual-camera {device}: no such device; {LINUX_HINT}, then pass its "
                               "/dev/videoN (or no device to take the first free one)")
    elif not loopback_devices():
        raise BackendError(f"--virtual-camera: no v4l2loopback device on this machine; {LINUX_HINT}")


def choose_format(fourcc: str, width: int, height: int) -> str:
    """The virtual camera's pixel format for a source captured as ``fourcc`` (``""`` if unknown):
    the same YUV layout where there is one, else I420; RGB for odd sizes (no chroma subsampling)."""
    if width % 2 or height % 2:
        return "RGB"
    return FROM_SOURCE.get((fourcc or "").upper(), "I420")


# BT.601, limited range ("studio swing"), as cameras and cv2.COLOR_RGB2YUV_I420 use
_YUV = np.array([[65.481, 128.553, 24.966],
                 [-37.797, -74.203, 112.0],
                 [112.0, -93.786, -18.214]], np.float32) / 255.0
_YUV_OFFSET = np.array([16.0, 128.0, 128.0], np.float32)


def rgb_to_yuv422(rgb: np.ndarray, order: str = "YUYV") -> np.ndarray:
    """Packed 4:2:2 (``YUYV`` = Y0 U Y1 V, ``UYVY`` = U Y0 V Y1) of an even-width uint8 RGB frame,
    as a flat uint8 array of ``2 * H * W`` bytes (chroma is the mean of each horizontal pair)."""
    h, w = rgb.shape[:2]
    yuv = rgb.reshape(-1, 3).astype(np.float32) @ _YUV.T + _YUV_OFFSET
    yuv = yuv.reshape(h, w // 2, 2, 3)
    y = yuv[..., 0]  # (h, w/2, 2)
    uv = yuv[..., 1:].mean(axis=2)  # (h, w/2, 2): U, V per pair
    out = np.empty((h, w // 2, 4), np.float32)
    if order == "YUYV":
        out[..., 0], out[..., 1], out[..., 2], out[..., 3] = y[..., 0], uv[..., 0], y[..., 1], uv[..., 1]
    elif order == "UYVY":
        out[..., 0], out[..., 1], out[..., 2], out[..., 3] = uv[..., 0], y[..., 0], uv[..., 1], y[..., 1]
    else:
        raise ValueError(f"order must be YUYV or UYVY, got {order!r}")
    return np.clip(out + 0.5, 0, 255).astype(np.uint8).reshape(-1)


def convert_frame(rgb: np.ndarray, fmt: str) -> np.ndarray:
    """``rgb`` (uint8 ``H x W x 3``) in the virtual camera format ``fmt`` (one of :data:`FORMATS`),
    shaped as pyvirtualcam expects: ``H x W x 3`` for RGB/BGR, a flat array for the YUV layouts
    (I420: Y plane, U, V; NV12: Y plane, interleaved UV; YUYV/UYVY: packed 4:2:2)."""
    if fmt == "RGB":
        return np.ascontiguousarray(rgb)
    if fmt == "BGR":
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    h, w = rgb.shape[:2]
    if w % 2 or h % 2:
        raise ValueError(f"{fmt} needs an even width and height, got {w}x{h}")
    if fmt in ("I420", "NV12"):
        i420 = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420)  # (h * 3/2, w)
        if fmt == "I420":
            return i420.reshape(-1)
        y = i420[:h].reshape(-1)
        u = i420[h:h + h // 4].reshape(-1)
        v = i420[h + h // 4:].reshape(-1)
        uv = np.empty(u.size * 2, np.uint8)
        uv[0::2], uv[1::2] = u, v
        return np.concatenate([y, uv])
    if fmt in ("YUYV", "UYVY"):
        return rgb_to_yuv422(rgb, fmt)
    raise ValueError(f"unknown virtual camera format {fmt!r} (one of {', '.join(FORMATS)})")


def open_camera(width: int, height: int, fps: float, fmt: str, device: Optional[str] = None):
    """A ``pyvirtualcam.Camera``; :class:`BackendError` (one line, with the fix) when pyvirtualcam
    is missing or no virtual camera device can be opened."""
    from lowlight.optional import require

    pyvirtualcam = require("pyvirtualcam", "camera", "--virtual-camera")
    try:
        return pyvirtualcam.Camera(width=width, height=height, fps=fps, fmt=pyvirtualcam.PixelFormat[fmt],
                                   device=device or None, print_fps=False)
    except Exception as exc:  # noqa: BLE001 - pyvirtualcam raises RuntimeError/ValueError per backend
        why = " ".join(str(exc).split()) or type(exc).__name__
        where = f" {device}" if device else ""
        raise BackendError(f"--virtual-camera{where}: no usable virtual camera ({why[:200]}); {device_hint()}") from None


class VirtualCameraSink(Sink):
    """Send frames to a virtual webcam.

    Args:
        device: the device (``/dev/video10``; on Windows/macOS ``OBS Virtual Camera``); ``None``:
            the first free one.
        fmt: pixel format, one of :data:`FORMATS`; ``None``: follow the source (:func:`choose_format`).
        fps: frames per second announced to the device; ``None``: the source's rate.

    Attributes:
        sent: frames sent; ``format``, ``size``, ``fps``: what the device was opened with.
        device_name: the device in use (as pyvirtualcam reports it).
    """

    def __init__(self, device: Optional[str] = None, fmt: Optional[str] = None, fps: Optional[float] = None) -> None:
        if fmt is not None and fmt not in FORMATS:
            raise BackendError(f"virtual camera format {fmt!r}: use one of {', '.join(FORMATS)}")
        self.device, self.requested_format, self.requested_fps = device, fmt, fps
        self.camera = None
        self.sent = 0
        self.format = ""
        self.size = (0, 0)
        self.fps = 0.0
        self.device_name = ""
        self._last: Optional[np.ndarray] = None

    def open(self, info: StreamInfo) -> None:
        self.info = info
        w, h = int(info.width), int(info.height)
        if not w or not h:
            raise BackendError("--virtual-camera: the source's frame size is unknown")
        self.size = (w, h)
        self.fps = float(self.requested_fps or info.rate or 30)
        fourcc = (info.extra or {}).get("fourcc", "")
        self.format = self.requested_format or choose_format(fourcc, w, h)
        self.camera = open_camera(w, h, self.fps, self.format, self.device)
        self.device_name = str(getattr(self.camera, "device", "") or self.device or "")

    def write(self, frame: Frame) -> None:
        if frame.gap is not None:
            from lowlight.realtime.media.display_sink import gap_picture

            rgb = gap_picture(self._last, frame.image, frame.gap)
        else:
            rgb = self._last = frame.image
        if rgb.shape[1::-1] != self.size:
            rgb = cv2.resize(rgb, self.size, interpolation=cv2.INTER_AREA)
        self.camera.send(convert_frame(rgb, self.format))
        self.sent += 1

    def close(self, ok: bool) -> None:
        camera, self.camera = self.camera, None
        if camera is not None:
            camera.close()
