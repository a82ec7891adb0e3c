"""`lowlight live`: a file played as a camera, recording, errors, and a real window under Xvfb."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

from lowlight.cli import main
from lowlight.realtime.media.display_sink import compose_view

from realtime_clips import brightening_weights, dark_frames, leftovers, lowlight_threads, make_clip, read_video


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return brightening_weights(tmp_path_factory.mktemp("w") / "bright.pt")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "cam.mp4", dark_frames(20, 96, 72), fps=30, audio=False)


def live(*args) -> int:
    return main(["live", *map(str, args)])


def test_file_source_no_display_max_frames_and_record(tmp_path, clip, weights, capsys):
    rec = tmp_path / "rec.mp4"
    assert live("--source", clip, "--no-display", "--max-frames", 12, "--record", rec, "--weights", weights) == 0
    err = capsys.readouterr().err
    assert "captured 12" in err and "fps" in err and "latency" in err
    out = int(err.split(" frames in ")[0].rsplit(" ", 1)[-1])
    dropped = int(err.split("dropped ")[-1].split(",")[0])
    assert out + dropped == 12 and out >= 1
    got = read_video(rec)
    assert len(got["frames"]) == out
    assert np.mean([f.mean() for f in got["frames"]]) > np.mean([f.mean() for f in dark_frames(20, 96, 72)]) + 20
    assert all(b > a for a, b in zip(got["pts"], got["pts"][1:]))
    assert leftovers(tmp_path) == [] and not lowlight_threads()


def test_missing_camera_fails_fast_with_one_line(weights, capsys):
    for source in ("/dev/video99", "9"):
        t0 = time.monotonic()
        assert live("--source", source, "--no-display", "--weights", weights) == 1
        assert time.monotonic() - t0 < 5.0
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and ("camera" in err or "video99" in err), err


def test_missing_file_source(tmp_path, weights, capsys):
    assert live("--source", tmp_path / "nope.mp4", "--no-display", "--weights", weights) == 1
    assert "no such file" in capsys.readouterr().err


def test_window_needs_a_display(clip, weights, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert live("--source", clip, "--weights", weights) == 1
    assert "--no-display" in capsys.readouterr().err


def test_views():
    a, b = np.zeros((4, 6, 3), np.uint8), np.full((4, 6, 3), 200, np.uint8)
    assert compose_view(a, b, "enhanced") is b
    assert compose_view(a, b, "side by side").shape == (4, 12, 3)
    split = compose_view(a, b, "split")
    assert split[:, 0].max() == 0 and split[:, -1].min() == 200


# --- a real window under Xvfb ------------------------------------------------------------------

def read_xwd(data: bytes) -> np.ndarray:
    """Decode a TrueColor ZPixmap XWD screenshot (what ``xwd -root`` writes; 24 or 32 bits per pixel) to RGB."""
    h = np.frombuffer(data[:100], ">u4")
    header_size, width, height = int(h[0]), int(h[4]), int(h[5])
    byte_order, bpp, bpl, ncolors = int(h[7]), int(h[11]), int(h[12]), int(h[19])
    masks = [int(h[14]), int(h[15]), int(h[16])]
    if bpp not in (24, 32):
        raise ValueError(f"unsupported XWD pixel size {bpp}")
    start = header_size + 12 * ncolors
    rows = np.frombuffer(data[start:start + bpl * height], np.uint8).reshape(height, bpl)
    nbytes = bpp // 8
    b = rows[:, : width * nbytes].reshape(height, width, nbytes).astype(np.uint32)
    order = range(nbytes) if byte_order == 0 else reversed(range(nbytes))  # 0 = least significant byte first
    px = np.zeros((height, width), np.uint32)
    for k, i in enumerate(order):
        px |= b[..., i] << (8 * k)
    chans = []
    for m in masks:
        shift = (m & -m).bit_length() - 1
        chans.append(((px & m) >> shift).astype(np.uint8))
    return np.dstack(chans)


PROBE = """
import sys, time, cv2, numpy as np
cv2.namedWindow("probe", cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    cv2.imshow("probe", np.full((120, 160, 3), 200, np.uint8))
    cv2.waitKey(50)
"""
ATTEMPTS = 3  # runs of a window scenario before an unpainted window counts as this host's flake


class Unpainted(Exception):
    """A window of the expected size is mapped and viewable but the screen there stays black: Qt never
    painted into it. Plain ``cv2.imshow`` under Xvfb (no window manager) does this in about 1 run in 5
    when both cores are busy, so it is a Qt/Xvfb flake of the host, not a lowlight bug."""


@pytest.fixture
def xvfb():
    """The environment for a GUI process on a fresh Xvfb, on a display number Xvfb picks itself
    (``-displayfd``: no clash with another X server on this host) that never resets (``-noreset``: by
    default an X server resets when its last client leaves, and a client connecting then fails);
    skips unless a plain OpenCV window gets painted there."""
    exe, xwd, xwininfo = shutil.which("Xvfb"), shutil.which("xwd"), shutil.which("xwininfo")
    if not exe or not xwd or not xwininfo:
        pytest.skip("Xvfb/xwd/xwininfo not installed (apt-get install xvfb x11-apps x11-utils)")
    r, w = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(w), "-screen", "0", "800x600x24", "-nolisten", "tcp",
                             "-noreset"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    number = b""
    deadline = time.monotonic() + 15
    while not number.endswith(b"\n") and time.monotonic() < deadline:
        if select.select([r], [], [], 0.2)[0]:
            chunk = os.read(r, 16)
            if not chunk:
                break
            number += chunk
    os.close(r)
    if not number.strip().isdigit():
        proc.kill()
        proc.wait()
        pytest.skip("Xvfb did not start")
    display = f":{number.decode().strip()}"
    try:
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", QT_LOGGING_RULES="*=false")
        env.pop("WAYLAND_DISPLAY", None)
        why = ""
        for _ in range(ATTEMPTS):
            probe = subprocess.Popen([sys.executable, "-c", PROBE, "20"], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
            try:
                shown = wait_for(display, (120, 160), probe, 15, "probe")
            except Unpainted as exc:
                shown, why = None, str(exc)
            probe.kill()
            err = probe.communicate()[1].decode(errors="replace").strip()
            if shown is not None:
                break
            why = why or f"no window (rc={probe.returncode}): {err[-300:]}"
        else:
            pytest.skip(f"a plain OpenCV window is not painted on Xvfb here, {ATTEMPTS} tries: {why}")
        yield env
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def screenshot(display: str):
    """The lit part of the screen (the window; the root is black), or ``None``."""
    shot = subprocess.run(["xwd", "-root", "-silent", "-display", display], capture_output=True, timeout=10)
    if shot.returncode != 0:
        return None
    img = read_xwd(shot.stdout)
    lit = np.argwhere(img.max(axis=2) > 0)
    if len(lit) == 0:
        return None
    (y0, x0), (y1, x1) = lit.min(axis=0), lit.max(axis=0)
    return img[y0:y1 + 1, x0:x1 + 1]


def mapped_window(display: str, name: str):
    """``(height, width)`` of the viewable window called ``name``, or ``None``."""
    info = subprocess.run(["xwininfo", "-name", name, "-display", display], capture_output=True, text=True,
                          timeout=10).stdout
    fields = dict(line.strip().split(": ", 1) for line in info.splitlines() if ": " in line)
    if fields.get("Map State") != "IsViewable":
        return None
    return int(fields["Height"]), int(fields["Width"])


def wait_for(display: str, shape: tuple, proc, timeout: float = 30.0, name: str = "lowlight live",
             before: Optional[tuple] = None, unpainted_after: float = 6.0):
    """Poll screenshots until the lit area is ``shape`` and return it; ``None`` if ``proc`` ends or
    time runs out. Raises :class:`Unpainted` when, for ``unpainted_after`` seconds, a window called
    ``name`` is mapped at ``shape`` while the screen shows only black or the ``before`` shape (the
    picture before the window was resized)."""
    seen = []
    start = time.monotonic()
    while time.monotonic() < start + timeout and proc.poll() is None:
        img = screenshot(display)
        shape_now = None if img is None else img.shape[:2]
        if not seen or seen[-1] != shape_now:
            seen.append(shape_now)
        if shape_now == shape:
            return img
        if (set(seen) <= {None, before} and time.monotonic() > start + unpainted_after
                and mapped_window(display, name) == shape):
            raise Unpainted(f"window {name!r} is mapped at {shape[1]}x{shape[0]} but for {unpainted_after:g} s "
                            f"the screen showed only {seen}")
        time.sleep(0.2)
    WAITED[:] = seen
    return None


WAITED: list = []  # the lit shapes the last unsuccessful wait_for saw, for failure messages


def window_scenario(clip: Path, weights: Path, env: dict, dark: float) -> None:
    """Run ``lowlight live`` in a window and check the picture, the overlay and the keys v, e and q."""
    display = env["DISPLAY"]
    cmd = [sys.executable, "-m", "lowlight", "live", "--source", str(clip), "--weights", str(weights)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def why() -> str:
        """The run's state and the end of its stderr, for a failure message."""
        if proc.poll() is None:
            proc.terminate()
        try:
            err = proc.communicate(timeout=20)[1].decode(errors="replace")
        except subprocess.TimeoutExpired:
            proc.kill()
            err = proc.communicate()[1].decode(errors="replace")
        return f"rc={proc.returncode}, lit areas seen {WAITED}, stderr: {err[-600:]}"

    try:
        img = wait_for(display, (120, 160), proc)
        assert img is not None, f"no 160x120 window appeared ({why()})"
        assert img[40:].mean() > dark + 25  # below the fps/latency overlay: enhanced
        assert img[:40].max() == 255  # the overlay text is drawn
        xdotool = shutil.which("xdotool")
        if xdotool:
            wid = subprocess.run([xdotool, "search", "--name", "lowlight live"], env=env, capture_output=True,
                                 text=True).stdout.split()[-1]

            def press(key: str) -> None:
                subprocess.run([xdotool, "windowfocus", "--sync", wid, "key", key], env=env, check=True, timeout=10)

            press("v")
            img = wait_for(display, (120, 320), proc, 10, before=(120, 160))
            assert img is not None, f"v did not switch to side by side ({why()})"
            assert img[40:, 160:].mean() > img[40:, :160].mean() + 25  # original left, enhanced right
            press("e")
            img = wait_for(display, (120, 160), proc, 10, before=(120, 320))
            assert img is not None and img[40:].mean() < dark + 10, f"e did not turn enhancement off ({why()})"
            press("q")
            proc.wait(15)
            assert proc.returncode == 0, proc.stderr.read().decode()[-500:]
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(20)
        proc.stderr.close()


def test_window_shows_an_enhanced_picture_and_keys_work(tmp_path, weights, xvfb):
    """A real window: enhanced picture with the overlay; v = side by side, e = enhancement off, q = quit.
    Only an unpainted window (:class:`Unpainted`, the host's flake) is tried again."""
    frames = dark_frames(450, 160, 120)  # 15 s at 30 fps: long enough for the key presses
    clip = make_clip(tmp_path / "win.mp4", frames, fps=30, audio=False)
    dark = float(np.mean([f[40:].mean() for f in frames[:30]]))
    flakes = []
    for _ in range(ATTEMPTS):
        try:
            return window_scenario(clip, weights, xvfb, dark)
        except Unpainted as exc:
            flakes.append(str(exc))
    pytest.skip(f"Qt left the window unpainted in all {ATTEMPTS} runs (Xvfb flake): {flakes[-1]}")
