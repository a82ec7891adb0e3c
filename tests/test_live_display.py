"""The live window: it fits the screen for 720p and larger sources, and labels its panes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from lowlight.realtime.media.display_sink import (fit_scale, gap_picture, label_panes, screen_size)

from realtime_clips import brightening_weights, dark_frames, make_clip
from test_realtime_live import mapped_window, xvfb  # noqa: F401 - the Xvfb fixture and its helpers


def test_fit_scale():
    assert fit_scale(640, 480, (1920, 1080)) == 1.0
    side_by_side_720p = fit_scale(2560, 720, (1920, 1080))
    assert 2560 * side_by_side_720p <= 0.9 * 1920 + 1 and side_by_side_720p < 1
    s = fit_scale(3840 * 2, 2160, (1366, 768))
    assert 7680 * s <= 1366 and 2160 * s <= 768


def test_screen_size_override(monkeypatch):
    monkeypatch.setenv("LOWLIGHT_SCREEN", "1024x600")
    assert screen_size() == (1024, 600)
    monkeypatch.setenv("LOWLIGHT_SCREEN", "nonsense")
    monkeypatch.delenv("DISPLAY", raising=False)
    w, h = screen_size()
    assert w > 0 and h > 0


def test_panes_are_labelled():
    img = np.zeros((120, 320, 3), np.uint8)
    label_panes(img, "side by side")
    left, right = img[:, :160], img[:, 160:]
    assert left[-25:].max() == 255 and right[-25:].max() == 255 and img[:80].max() == 0
    plain = np.zeros((120, 160, 3), np.uint8)
    label_panes(plain, "enhanced")
    assert plain.max() == 0  # one pane: no labels
    card = gap_picture(np.full((120, 160, 3), 200, np.uint8), plain, "reconnecting (attempt 1), stream lost 2 s ago")
    assert card.shape == (120, 160, 3) and card.max() == 255 and np.median(card) < 100


def test_a_720p_side_by_side_window_fits_the_screen(tmp_path, xvfb):  # noqa: F811 - the fixture
    """On the 800x600 Xvfb screen a 1280x720 source's window, and its side-by-side view (2560 wide),
    are scaled to fit."""
    xdotool = shutil.which("xdotool")
    if not xdotool:
        pytest.skip("xdotool not installed (apt-get install xdotool)")
    weights = brightening_weights(tmp_path / "w.pt")
    clip = make_clip(tmp_path / "hd.mp4", dark_frames(300, 1280, 720), fps=30, audio=False)
    display = xvfb["DISPLAY"]
    proc = subprocess.Popen([sys.executable, "-m", "lowlight", "live", "--source", str(clip), "--weights",
                             str(weights)], env=xvfb, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        size, seen = None, []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            now = mapped_window(display, "lowlight live")  # Qt may map a small window before the first picture
            seen.append(now)
            if now and now[1] >= 300 and abs(now[1] / now[0] - 1280 / 720) < 0.05:
                size = now
                break
            time.sleep(0.2)
        assert size is not None, proc.stderr.read().decode()[-500:] if proc.poll() is not None else seen[-5:]
        h, w = size
        assert w <= 800 and h <= 600, size
        wid = subprocess.run([xdotool, "search", "--name", "lowlight live"], env=xvfb, capture_output=True,
                             text=True).stdout.split()[-1]
        subprocess.run([xdotool, "windowfocus", "--sync", wid, "key", "v"], env=xvfb, check=True, timeout=10)
        wide = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and proc.poll() is None:
            now = mapped_window(display, "lowlight live")
            if now and now[1] / now[0] > 3.0 and now[1] >= 600:  # side by side: twice as wide
                wide = now
                break
            time.sleep(0.2)
        assert wide is not None, f"v did not switch to side by side; window {mapped_window(display, 'lowlight live')}"
        assert wide[1] <= 800 and wide[0] <= 600, wide
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(20)
        proc.stderr.close()
