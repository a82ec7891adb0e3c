"""Helpers for the real-time tests: tiny video clips made with PyAV, and test weights.

Not a test module (no ``test_`` prefix); the ``test_realtime_*`` files import it.
"""

from __future__ import annotations

import os
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Optional, Sequence

import av
import numpy as np
import torch

from lowlight.models import ZeroDCEPP
from lowlight.weights import save_checkpoint


def brightening_weights(path: Path, alpha: float = 0.6) -> Path:
    """A Zero-DCE++ checkpoint whose maps are the constant ``alpha`` (brightens every frame the same way).

    Keeps the I/O tests independent of whichever trained weights are installed.
    """
    model = ZeroDCEPP()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.e_conv7.point_conv.bias.fill_(float(np.arctanh(-alpha)))  # net output -tanh(b) = alpha
    save_checkpoint(path, model)
    return path


def dark_frames(n: int, w: int = 64, h: int = 48, seed: int = 0) -> list[np.ndarray]:
    """``n`` dark uint8 RGB frames, each a little different (a moving gradient) so order is checkable."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, w)[None, :, None]
    y = np.linspace(0, 1, h)[:, None, None]
    frames = []
    for i in range(n):
        base = 8 + 30 * ((x + y + i / max(1, n)) % 1.0) * np.array([1.0, 0.8, 0.6])
        frames.append(np.clip(base + rng.normal(0, 1.0, (h, w, 3)), 0, 255).astype(np.uint8))
    return frames


def make_clip(path: Path, frames: Sequence[np.ndarray], fps: int = 25, audio: bool = True,
              pts: Optional[Sequence[int]] = None, time_base: Optional[Fraction] = None,
              rotation: Optional[int] = None, faststart: bool = False, codec: str = "libx264",
              audio_codec: str = "aac") -> Path:
    """Write ``frames`` (uint8 RGB) as a video with an optional audio track.

    ``pts``/``time_base`` give custom (e.g. variable-rate) timestamps; ``rotation``
    sets a display matrix; ``faststart`` puts the mp4 index first (so a truncated
    file still opens).
    """
    opts = {"movflags": "faststart"} if faststart else {}
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w", options=opts) as c:
        v = c.add_stream(codec, rate=fps, options={"preset": "ultrafast"} if codec == "libx264" else {})
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        tb = time_base or Fraction(1, fps)
        v.codec_context.time_base = tb
        v.time_base = tb
        if rotation is not None:
            v.set_display_rotation(rotation)
        a = None
        if audio:
            a = c.add_stream(audio_codec, rate=16000)
            a.layout = "mono"
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = int(pts[i]) if pts is not None else i
            f.time_base = tb
            c.mux(v.encode(f))
        c.mux(v.encode(None))
        if a is not None:
            seconds = (float(pts[-1] * tb) if pts is not None else len(frames) / fps) + 0.1
            t = 0
            fmt = "s16" if audio_codec.startswith("pcm") else "fltp"
            while t < seconds * 16000:
                wave = 0.2 * np.sin(2 * np.pi * 440 * (t + np.arange(1024)) / 16000)
                arr = (wave * 32767).astype(np.int16)[None] if fmt == "s16" else wave.astype(np.float32)[None]
                af = av.AudioFrame.from_ndarray(arr, format=fmt, layout="mono")
                af.sample_rate, af.pts = 16000, t
                t += 1024
                c.mux(a.encode(af))
            c.mux(a.encode(None))
    return path


def read_video(path: Path) -> dict:
    """Frames (RGB), video pts, rotation, and audio packet sizes of a file."""
    out: dict = {"frames": [], "pts": [], "rotation": None, "audio": [], "codecs": {}}
    with av.open(str(path)) as c:
        out["codecs"] = {s.index: (s.type, s.codec_context.name) for s in c.streams}
        vs = c.streams.video[0]
        out["time_base"] = vs.time_base
        out["sar"] = vs.codec_context.sample_aspect_ratio
        for packet in c.demux():
            if packet.stream.type == "audio" and packet.size:
                out["audio"].append(bytes(packet))
            if packet.stream.type != "video":
                continue
            for f in packet.decode():
                out["frames"].append(f.to_ndarray(format="rgb24"))
                out["pts"].append(f.pts)
                if out["rotation"] is None:
                    out["rotation"] = f.rotation
    return out


def lowlight_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("lowlight-") and t.is_alive()]


def leftovers(folder: Path) -> list[str]:
    """Temporary output files left in ``folder``."""
    return sorted(n for n in os.listdir(folder) if ".part" in n)


def wait_until(predicate, timeout: float, step: float = 0.1):
    """Poll ``predicate()`` every ``step`` s until it returns something truthy or ``timeout`` s pass;
    returns its last value (falsy on a timeout), so callers ``assert wait_until(...), why``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def processes_with(token: str) -> list[int]:
    """PIDs whose environment holds ``LOWLIGHT_TEST_TOKEN=token`` (a test's lowlight processes and their
    workers; empty where /proc is missing)."""
    found = []
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
    except OSError:
        return found
    for pid in pids:
        try:
            if f"LOWLIGHT_TEST_TOKEN={token}".encode() in Path(f"/proc/{pid}/environ").read_bytes():
                found.append(int(pid))
        except OSError:
            pass
    return found
