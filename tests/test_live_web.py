"""`lowlight live --serve`: the browser view.

* in-process: access rules (loopback Host check, token on every route, control header), the
  newest-frame-wins delivery to a slow viewer, the page's figures and controls;
* end to end: ``lowlight live --serve 0.0.0.0:0`` in a subprocess, a request without the printed
  token is refused, and headless Chromium (Debian's ``chromium`` + ``chromium-driver``, driven by
  selenium) shows an enhanced picture whose split and enhancement switch change what is shown.
  Skips, with the reason, where Chromium, its driver or selenium is missing.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from lowlight.errors import OutputError
from lowlight.realtime.frame import Frame
from lowlight.realtime.media.web_view import BOUNDARY, LiveControls, WebView, is_loopback, parse_address

from realtime_clips import brightening_weights, dark_frames, make_clip, wait_until

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1000,800"]


def get(url: str, headers: dict = None, data: bytes = None, timeout: float = 10):
    """``(status, body)`` of a request (errors included)."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def frame(i: int, value: int = 20, w: int = 64, h: int = 48) -> Frame:
    img = np.full((h, w, 3), value, np.uint8)
    f = Frame(img, i, pts=i, captured=time.monotonic())
    f.original = np.full((h, w, 3), 5, np.uint8)
    return f


class FakeProcessor:
    def __init__(self) -> None:
        self.enabled, self.strength = True, 1.0

    def toggle(self) -> bool:
        self.enabled = not self.enabled
        return self.enabled


@pytest.fixture
def view():
    views = []

    def make(*args, **kw):
        v = WebView(*args, **kw)
        v.start()
        views.append(v)
        return v

    yield make
    for v in views:
        v.stop()


# --- in-process --------------------------------------------------------------------------------

def test_addresses():
    assert parse_address("8080") == ("127.0.0.1", 8080)
    assert parse_address("0.0.0.0:81") == ("0.0.0.0", 81)
    assert parse_address("[::1]:9000") == ("::1", 9000)
    with pytest.raises(OutputError):
        parse_address("host:port")
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and is_loopback("127.3.4.5")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1") and not is_loopback("example.com")
    with pytest.raises(OutputError, match="--token"):
        WebView("0.0.0.0", 0)


def test_loopback_bind_checks_the_host_header(view):
    v = view("127.0.0.1", 0)
    v.write(frame(0))
    base = f"http://127.0.0.1:{v.port}"
    assert get(base + "/")[0] == 200
    assert b"lowlight live" in get(base + "/")[1]
    assert get(base + "/stats.json", {"Host": "attacker.example:80"})[0] == 403  # DNS rebinding
    assert get(f"http://localhost:{v.port}/stats.json")[0] == 200


def test_token_is_required_on_every_route_of_a_non_loopback_bind(view):
    processor = FakeProcessor()
    v = view("0.0.0.0", 0, token="s3cret", controls=LiveControls(processor))
    v.write(frame(0))
    base = f"http://127.0.0.1:{v.port}"
    for route in ("/", "/stats.json", "/frame.jpg", "/stream.mjpg"):
        status, body = get(base + route)
        assert status == 403 and b"token" in body, route
        assert get(base + route + "?token=wrong")[0] == 403, route
    assert get(base + "/stats.json?token=s3cret")[0] == 200
    assert get(base + "/stats.json", {"Authorization": "Bearer s3cret"})[0] == 200
    assert get(base + "/stats.json", {"Cookie": "a=b; lowlight_token=s3cret"})[0] == 200
    status, body = get(base + "/frame.jpg?token=s3cret")
    assert status == 200 and body[:2] == b"\xff\xd8"
    # control: token and the X-Lowlight header (not sendable by a cross-site form)
    change = json.dumps({"enhance": False, "strength": 0.4}).encode()
    assert get(base + "/control", data=change)[0] == 403
    assert get(base + "/control?token=s3cret", data=change)[0] == 403
    status, body = get(base + "/control?token=s3cret", {"X-Lowlight": "1"}, data=change)
    assert status == 200 and json.loads(body) == {"enhance": False, "strength": 0.4, "denoise": None}
    assert processor.enabled is False and processor.strength == 0.4
    assert get(base + "/control?token=s3cret", {"X-Lowlight": "1"}, data=b"[1]")[0] == 400


def read_part(stream) -> tuple[dict, bytes]:
    """One part of a multipart MJPEG response: headers, JPEG bytes."""
    line = stream.readline()
    while line in (b"\r\n", b"\n"):
        line = stream.readline()
    assert line.strip() == f"--{BOUNDARY}".encode(), line
    headers = {}
    while True:
        line = stream.readline().strip()
        if not line:
            break
        k, _, v = line.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    return headers, stream.read(int(headers["content-length"]))


def test_a_slow_viewer_gets_fewer_frames_and_never_slows_the_writer(view):
    """One viewer reads every frame, one reads every 0.25 s: the slow one skips (no queue), the fast
    one keeps up, and ``write`` (the pipeline's side) stays constant-time."""
    v = view("127.0.0.1", 0)
    url = f"http://127.0.0.1:{v.port}/stream.mjpg"
    fast = urllib.request.urlopen(url, timeout=10)
    slow_sock = socket.create_connection(("127.0.0.1", v.port))
    slow_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow_sock.sendall(f"GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1:{v.port}\r\n\r\n".encode())
    slow = slow_sock.makefile("rb")
    assert slow.readline().startswith(b"HTTP/1.1 200")
    while slow.readline().strip():
        pass
    got_fast, got_slow, writes = [], [], []
    stop = threading.Event()

    def read_fast():
        while not stop.is_set():
            try:
                h, jpeg = read_part(fast)
            except (AssertionError, OSError, ValueError, KeyError):
                return  # the server closed the stream at the end
            got_fast.append(int(h["x-frame"]))

    def read_slow():
        while not stop.is_set():
            try:
                h, jpeg = read_part(slow)
            except (AssertionError, OSError, ValueError, KeyError):
                return
            got_slow.append(int(h["x-frame"]))
            time.sleep(0.25)

    readers = [threading.Thread(target=read_fast, daemon=True), threading.Thread(target=read_slow, daemon=True)]
    for t in readers:
        t.start()
    time.sleep(0.3)
    n = 90
    for i in range(n):  # 3 s at 30 fps
        f = frame(i, 20 + i % 200, 320, 240)
        t0 = time.perf_counter()
        v.write(f)
        writes.append(time.perf_counter() - t0)
        time.sleep(1 / 30)
    time.sleep(0.5)
    stop.set()
    figures = v.figures()["web"]
    v.stop()
    fast.close()
    slow_sock.close()
    assert np.median(writes) < 0.001 and max(writes) < 0.05, (np.median(writes), max(writes))  # shared cores
    assert len(got_fast) >= 0.8 * n, (len(got_fast), v.encoded)
    assert got_fast == sorted(got_fast)
    assert 3 <= len(got_slow) <= 20, got_slow  # ~ every 0.25 s: the newest frame, never a backlog
    # and it is recent: within the last second (a queue would still be at the first ~12 frames); the last
    # 0.5 s was too tight on 2 loaded cores (1 run in 5 ended at frame 70)
    assert got_slow == sorted(got_slow) and got_slow[-1] >= n - 30, got_slow
    assert figures["viewers"] == 2
    slow_entry = max(figures["per_viewer"], key=lambda e: e["skipped"])
    assert slow_entry["skipped"] > 40


def test_page_figures_and_reconnecting_card(view):
    class Stats:
        frames_in, frames_out, dropped = 10, 9, 1

        def latency_ms(self):
            return {"p50": 12.0, "p95": 30.0, "p99": 40.0}

        def recent_fps(self):
            return 29.5

    v = view("127.0.0.1", 0, controls=LiveControls(FakeProcessor(), Stats(), status=lambda: "reconnecting (attempt 2)",
                                                 gaps=lambda: [(0.0, 3.25)]))
    figures = json.loads(get(f"http://127.0.0.1:{v.port}/stats.json")[1])
    assert figures["status"] == "reconnecting (attempt 2)" and figures["gaps"] == [3.25]
    assert figures["fps"] == 29.5 and figures["dropped"] == 1 and figures["latency_ms"]["p95"] == 30.0
    assert figures["state"] == {"enhance": True, "strength": 1.0, "denoise": None}  # no denoiser yet: hidden
    f = frame(0, 200, 320, 240)
    v.write(f)
    gap = Frame(np.zeros((240, 320, 3), np.uint8), 1, captured=time.monotonic(), gap="reconnecting (attempt 2)")
    card = cv2.cvtColor(v.compose(gap), cv2.COLOR_BGR2RGB)
    assert card.shape == (240, 640, 3)
    assert card.max() == 255 and 40 < np.median(card) < 120  # the last picture, darkened, with the note


# --- end to end: the CLI and headless Chromium --------------------------------------------------

def chromium_paths():
    """``(chromium, chromedriver)``, or skip with the reason."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("headless Chromium test needs Debian's chromium and chromium-driver (apt-get install chromium "
                    "chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("headless Chromium test needs selenium (pip install selenium)")
    return browser, driver


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return brightening_weights(tmp_path_factory.mktemp("w") / "bright.pt")


def start_live(args, env=None):
    """Start ``lowlight live`` and return ``(process, url)`` from its "serving" line."""
    cmd = [sys.executable, "-m", "lowlight", "live", *map(str, args)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=ctrl_c_works)
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"serving (http://\S+)", line)
        if m:
            return proc, m.group(1), lines
    proc.kill()
    raise AssertionError(f"lowlight live did not start serving: {''.join(lines)[-800:]}")


def ctrl_c_works() -> None:
    """In the child: SIGINT back to its default, so Python turns it into Ctrl-C even where the test
    runner was started with SIGINT ignored (a background job)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def finish(proc, lines) -> str:
    """Ctrl-C (SIGINT: the normal end of a live run) and the rest of stderr."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        rest = proc.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        rest = proc.communicate()[1]
    return "".join(lines) + rest


def shot(element) -> np.ndarray:
    """What the browser shows of ``element``, RGB."""
    png = np.frombuffer(element.screenshot_as_png, np.uint8)
    return cv2.cvtColor(cv2.imdecode(png, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def test_browser_shows_enhanced_picture_split_and_switch_work(tmp_path, weights):
    browser, driver_path = chromium_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    frames = dark_frames(900, 320, 240)  # 30 s at 30 fps: room for Chromium's start on a busy machine
    clip = make_clip(tmp_path / "cam.mp4", frames, fps=30, audio=False)
    dark = float(np.mean([f.mean() for f in frames[:60]]))
    proc, url, lines = start_live(["--source", clip, "--no-display", "--serve", "0.0.0.0:0", "--weights", weights])
    driver = None
    try:
        assert "token=" in url, url  # a non-loopback bind without --token prints a generated one
        bare = url.split("?")[0]
        for route in ("", "stats.json", "stream.mjpg", "frame.jpg"):
            assert get(bare + route)[0] == 403, route  # refused without the token
        assert get(url)[0] == 200

        opts = webdriver.ChromeOptions()
        opts.binary_location = browser
        for flag in CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]:
            opts.add_argument(flag)
        driver = webdriver.Chrome(service=Service(driver_path), options=opts)
        driver.set_page_load_timeout(30)
        driver.get(url)
        drawn = wait_until(lambda: driver.execute_script("return window.lowlight && window.lowlight.drawn") or 0, 30, 0.2)
        assert drawn > 0, f"the page drew no frame; {finish(proc, lines)[-600:]}"
        canvas = driver.find_element(By.ID, "view")
        time.sleep(1.0)  # a few frames in: the smoother has settled

        img = shot(canvas)
        h, w = img.shape[:2]
        assert (w, h) == (320, 240), img.shape
        rows = slice(h // 5, 3 * h // 5)  # clear of the labels at the bottom
        left, right = img[rows, 10:w // 2 - 10].mean(), img[rows, w // 2 + 10:w - 10].mean()
        assert right > dark + 25, (right, dark)  # the enhanced half is brighter than the input
        assert abs(left - dark) < 12, (left, dark)  # the original half is the input
        cv2.imwrite(str(tmp_path / "split.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))

        # drag the split to 10 % from the left: most of the picture is now enhanced
        ActionChains(driver).move_to_element_with_offset(canvas, 0, 0).click_and_hold() \
            .move_to_element_with_offset(canvas, -w // 2 + w // 10, 0).release().perform()
        assert wait_until(lambda: driver.execute_script("return window.lowlight.split") < 0.2, 5, 0.2)
        time.sleep(0.3)
        img = shot(canvas)
        assert img[rows, w // 5:w // 2 - 10].mean() > dark + 25  # was original, now enhanced

        # the enhancement switch: off -> the whole picture is the dark input
        driver.find_element(By.ID, "enhance").click()
        assert wait_until(lambda: driver.execute_script("return window.lowlight.enhance") is False, 10, 0.2)
        time.sleep(1.0)
        img = shot(canvas)
        assert img[rows, w // 5:w - 10].mean() < dark + 10, (img[rows].mean(), dark)
        figures = driver.execute_script("return window.lowlight.stats")
        assert figures["state"]["enhance"] is False and figures["web"]["viewers"] >= 1
        assert "fps" in driver.find_element(By.ID, "figures").text
        # the denoise switch: shown (the processor denoises, --denoise auto), on; off -> the state says so
        box = driver.find_element(By.ID, "denoise-box")
        assert box.is_displayed() and driver.find_element(By.ID, "denoise").is_selected()
        driver.find_element(By.ID, "denoise").click()
        assert wait_until(lambda: (driver.execute_script("return window.lowlight.stats") or {})
                          .get("state", {}).get("denoise") is False, 10, 0.2)
    finally:
        if driver is not None:
            driver.quit()
        out = finish(proc, lines)
    assert proc.returncode in (0, 130), out[-800:]  # 130 where Ctrl-C sets the exit status (issue 14)
    assert "served" in out and "captured" in out, out[-800:]
