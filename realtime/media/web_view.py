"""A browser view of the live stream as a pipeline sink (``lowlight live --serve [HOST:]PORT``).

:class:`WebView` serves, with the standard library's :class:`~http.server.ThreadingHTTPServer`:

* ``/`` - the page (``web/index.html``): the live picture with a draggable before/after split,
  switches for enhancement (and for denoising, once the processor has one: the page shows it only
  when ``/stats.json`` reports ``"denoise"`` as true or false, see :class:`LiveControls`), a
  strength slider and live figures (fps, capture-to-output latency, drops, viewers);
* ``/stream.mjpg`` - MJPEG (``multipart/x-mixed-replace``) of the original and the enhanced
  picture side by side in one JPEG (the page draws the two halves split), each part with
  ``X-Frame`` (index) and ``X-Captured`` (:func:`time.monotonic` at capture) headers;
* ``/frame.jpg`` - the newest side-by-side JPEG; ``/stats.json`` - the figures; ``POST /control``
  with JSON ``{"enhance": bool, "strength": float, "denoise": bool}``.

Several viewers never slow the pipeline: :meth:`WebView.write` only stores the newest frame; one
encoder thread turns it into a JPEG when someone is watching (skipping frames it has no time
for); each viewer's thread sends the newest JPEG once its connection has taken the previous one
(the kernel's send queue is kept small and, on Linux, must be acknowledged empty before the next
frame goes out), so a slow viewer gets fewer frames (counted in ``skipped``), never a growing
queue of stale ones.

Access: the server binds ``127.0.0.1`` by default and then only answers requests whose ``Host``
is a loopback name (no DNS rebinding). Any other address needs a token (``token=``; the CLI
prints a generated one when none is given): every request must carry it as ``?token=``, an
``Authorization: Bearer`` header or the ``lowlight_token`` cookie the page sets, or it gets
``403``. ``POST /control`` also needs an ``X-Lowlight: 1`` header, which a cross-site form cannot
send.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import socket
import threading
import time
from collections import deque
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

from lowlight.errors import OutputError
from lowlight.realtime.frame import Frame
from lowlight.realtime.sinks import Sink
from lowlight.realtime.stats import percentile

PAGE = Path(__file__).resolve().parent / "web" / "index.html"
BOUNDARY = "lowlightframe"
JPEG_QUALITY = 80
STRENGTH_RANGE = (0.0, 2.0)
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
SEND_BUFFER = 64 * 1024  #: kernel send buffer of a viewer's connection (bytes): little room for stale frames
ENCODER_NICE = 5  #: how much lower the JPEG encoder and the viewers' threads run than the pipeline
TIOCOUTQ = 0x5411  #: Linux ioctl: bytes in a socket's send queue not yet acknowledged


def unsent_bytes(sock) -> int:
    """Bytes written to ``sock`` that the peer has not acknowledged yet (Linux); 0 where unknown."""
    try:
        import fcntl
        import struct

        return struct.unpack("i", fcntl.ioctl(sock.fileno(), TIOCOUTQ, b"\0\0\0\0"))[0]
    except (ImportError, OSError, ValueError):
        return 0


def parse_address(text: str) -> tuple[str, int]:
    """``"8080"`` -> ``("127.0.0.1", 8080)``; ``"0.0.0.0:8080"``, ``"[::1]:8080"`` -> host, port."""
    text = str(text).strip()
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        raise OutputError(f"--serve {text}: expected [HOST:]PORT, e.g. 8080 or 0.0.0.0:8080") from None
    if not 0 <= number <= 65535:
        raise OutputError(f"--serve {text}: port must be 0-65535")
    return host, number


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or a name) is this machine only."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lower_priority(step: int = ENCODER_NICE) -> None:
    """Make the calling thread yield the CPU to the pipeline's threads (Linux: a thread's own nice
    value; elsewhere nothing): when cores are short, viewers get fewer frames, the pipeline none fewer."""
    try:
        import os

        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + step)
    except (AttributeError, OSError, ValueError):
        pass


def new_token() -> str:
    return secrets.token_urlsafe(12)


class LiveControls:
    """What the page can change and read, as callables (the CLI wires a pipeline to it).

    Args:
        processor: a :class:`~lowlight.realtime.processor.FrameProcessor` (enhancement switch,
            strength), or ``None``.
        stats: the pipeline's :class:`~lowlight.realtime.stats.PipelineStats`, or ``None``.
        status: returns the source's state (``"live"``, ``"reconnecting (attempt 2)"``), or ``None``.
        gaps: returns the list of outages survived, or ``None``.

    The denoise switch: a processor with a ``denoise`` amount (``FrameProcessor.denoise``, 0 = off)
    gets a "denoise" switch on the page; switching it off sets the amount to 0, switching it on
    restores the amount the run started with (``auto``: 1.0). Without the attribute the switch is hidden.
    """

    def __init__(self, processor=None, stats=None, status: Optional[Callable[[], str]] = None,
                 gaps: Optional[Callable[[], list]] = None) -> None:
        self.processor, self.stats, self.status, self.gaps = processor, stats, status, gaps
        amount = float(getattr(processor, "denoise", 0.0) or 0.0)
        self._denoise_amount = amount if amount > 0 else 1.0

    def state(self) -> dict:
        p = self.processor
        return {"enhance": bool(p.enabled) if p is not None else False,
                "strength": float(p.strength) if p is not None else None,
                "denoise": (float(p.denoise) > 0.0 if p is not None and hasattr(p, "denoise") else None)}

    def apply(self, change: dict) -> dict:
        p = self.processor
        if p is None:
            return self.state()
        if "enhance" in change and bool(change["enhance"]) != bool(p.enabled):
            p.toggle()
        if "strength" in change:
            value = float(change["strength"])
            if not np.isfinite(value):
                raise ValueError("strength must be a number")
            p.strength = float(min(max(value, STRENGTH_RANGE[0]), STRENGTH_RANGE[1]))
        if "denoise" in change and hasattr(p, "denoise"):
            p.denoise = self._denoise_amount if change["denoise"] else 0.0
        return self.state()


class _Encoded:
    __slots__ = ("seq", "jpeg", "captured", "index", "encoded", "width")

    def __init__(self, seq: int, jpeg: bytes, captured: float, index: int, width: int) -> None:
        self.seq, self.jpeg, self.captured, self.index, self.width = seq, jpeg, captured, index, width
        self.encoded = time.monotonic()


class WebView(Sink):
    """Serve the live stream to browsers.

    Args:
        host, port: where to listen (``port=0``: any free port, see :attr:`port` after :meth:`start`).
        token: required on every request when given; mandatory for a non-loopback ``host``
            (``None`` there raises :class:`OutputError`: the CLI generates one).
        controls: a :class:`LiveControls` (enhancement switch, strength, figures).
        quality: JPEG quality 1-100.

    Attributes:
        url: the page's address (with the token).
        encoded: JPEGs made; ``skipped_encode``: frames the encoder had no time for.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8080, token: Optional[str] = None,
                 controls: Optional[LiveControls] = None, quality: int = JPEG_QUALITY) -> None:
        if not is_loopback(host) and not token:
            raise OutputError(f"--serve {host}:{port}: a non-loopback address needs --token TOKEN")
        self.host, self.port = host, int(port)
        self.token = token or None
        self.controls = controls or LiveControls()
        self.quality = int(quality)
        self.server: Optional[ThreadingHTTPServer] = None
        self._threads: list[threading.Thread] = []
        self._cond = threading.Condition()
        self._frame: Optional[Frame] = None  # newest frame written by the pipeline
        self._frame_seq = 0
        self._latest: Optional[_Encoded] = None  # newest JPEG
        self._closing = False
        self._watchers = 0  # open streams + waiting snapshot requests
        self._viewers: dict[int, dict] = {}
        self._viewer_ids = 0
        self._sent_latency: deque = deque(maxlen=300)  # capture -> last byte written, seconds
        self._last_image: Optional[np.ndarray] = None
        self.encoded = 0
        self.skipped_encode = 0
        self.written = 0

    # --- server lifetime -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/" + (f"?token={self.token}" if self.token else "")

    def start(self) -> None:
        """Bind and start serving (idempotent); :class:`OutputError` if the address is taken."""
        if self.server is not None:
            return
        view = self

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 32

        if ":" in self.host:
            Server.address_family = socket.AF_INET6

        class Handler(_Handler):
            web = view

        try:
            self.server = Server((self.host, self.port), Handler)
        except OSError as exc:
            raise OutputError(f"--serve {self.host}:{self.port}: cannot listen ({exc.strerror or exc})") from None
        self.port = int(self.server.server_address[1])
        self._closing = False
        for target, name in ((self.server.serve_forever, "lowlight-web-server"),
                             (self._encode_loop, "lowlight-web-encode")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        """Stop serving; ends every viewer's stream (safe to call twice)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        server, self.server = self.server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        for t in self._threads:
            t.join(5)
        self._threads = []

    # --- Sink API ----------------------------------------------------------------------------------
    def open(self, info) -> None:
        self.info = info
        self.start()

    def write(self, frame: Frame) -> None:
        """Store the newest frame (constant time; the encoder thread picks it up)."""
        with self._cond:
            if self._frame is not None and self._watchers:
                self.skipped_encode += 1
            if frame.gap is None:
                self._last_image = frame.image  # for the reconnecting card
            self._frame = frame
            self._frame_seq += 1
            self.written += 1
            self._cond.notify_all()

    def close(self, ok: bool) -> None:
        self.stop()

    # --- encoding ------------------------------------------------------------------------------
    def compose(self, frame: Frame) -> np.ndarray:
        """The side-by-side picture, BGR for OpenCV: original (or the enhanced one, when there is
        none) on the left, enhanced on the right; a reconnecting stand-in shows its note."""
        if frame.gap is not None:
            from lowlight.realtime.media.display_sink import gap_picture

            card = gap_picture(self._last_image, frame.image, frame.gap)
            both = np.concatenate([card, card], axis=1)
        else:
            left = frame.original if frame.original is not None else frame.image
            both = np.concatenate([left, frame.image], axis=1)
        return cv2.cvtColor(both, cv2.COLOR_RGB2BGR)

    def encode(self, frame: Frame) -> bytes:
        ok, buf = cv2.imencode(".jpg", self.compose(frame), [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:  # pragma: no cover - OpenCV always encodes uint8 BGR
            raise OutputError("JPEG encoding failed")
        return buf.tobytes()

    def _encode_loop(self) -> None:
        lower_priority()
        done_seq = 0
        while True:
            with self._cond:
                while not self._closing and (self._frame_seq == done_seq or not self._watchers):
                    self._cond.wait(0.5)
                if self._closing:
                    return
                frame, seq = self._frame, self._frame_seq
                self._frame = None  # the encoder has it: a newer write is not a skip
            done_seq = seq
            if frame is None:
                continue
            try:
                jpeg = self.encode(frame)
            except Exception:  # noqa: BLE001 - a bad frame must not end the server
                continue
            item = _Encoded(self.encoded + 1, jpeg, frame.captured, frame.index, frame.image.shape[1])
            with self._cond:
                self.encoded += 1
                self._latest = item
                self._cond.notify_all()

    def next_jpeg(self, after: int, timeout: float = 1.0) -> Optional[_Encoded]:
        """The newest JPEG newer than sequence number ``after``, waiting up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._closing:
                item = self._latest
                if item is not None and item.seq > after:
                    return item
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
        return None

    def watching(self, delta: int) -> None:
        with self._cond:
            self._watchers += delta
            self._cond.notify_all()

    # --- figures -------------------------------------------------------------------------------
    def figures(self) -> dict:
        c = self.controls
        out: dict = {"state": c.state(), "status": c.status() if c.status else "live"}
        s = c.stats
        if s is not None:
            lat = s.latency_ms()
            out.update(fps=round(s.recent_fps(), 2), captured=s.frames_in, shown=s.frames_out, dropped=s.dropped,
                       latency_ms={k: (round(v, 1) if v == v else None) for k, v in lat.items()})
        gaps = c.gaps() if c.gaps else []
        out["gaps"] = [round(seconds, 2) for _, seconds in gaps]
        with self._cond:
            sent = list(self._sent_latency)
            viewers = [dict(v) for v in self._viewers.values()]
        out["web"] = {"viewers": len(viewers), "encoded": self.encoded, "skipped_encode": self.skipped_encode,
                      "sent_latency_ms": {f"p{q}": (round(1000 * percentile(sent, q), 1) if sent else None)
                                          for q in (50, 95)},
                      "per_viewer": viewers}
        return out


class _Handler(BaseHTTPRequestHandler):
    web: WebView  # set on the subclass made by WebView.start
    protocol_version = "HTTP/1.1"
    server_version = "lowlight"

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the terminal belongs to the summary line

    # --- access --------------------------------------------------------------------------------
    def _allowed(self) -> bool:
        web = self.web
        if web.token is None:
            host = (self.headers.get("Host") or "").strip()
            name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:host.find("]")]
            return is_loopback(name) if name else True
        given = parse_qs(urlsplit(self.path).query).get("token", [""])[0]
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Bearer "):
            given = given or auth[7:].strip()
        if not given:
            for part in (self.headers.get("Cookie") or "").split(";"):
                key, _, value = part.strip().partition("=")
                if key == "lowlight_token":
                    given = value
        return bool(given) and hmac.compare_digest(given.encode(), web.token.encode())

    def _refuse(self) -> None:
        self._send(HTTPStatus.FORBIDDEN, b"lowlight: missing or wrong token (add ?token=...)\n", "text/plain")

    def _send(self, status, body: bytes, ctype: str, extra: Optional[dict] = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # --- routes --------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        if not self._allowed():
            return self._refuse()
        route = urlsplit(self.path).path
        if route in ("/", "/index.html"):
            extra = {}
            if self.web.token:
                extra["Set-Cookie"] = f"lowlight_token={self.web.token}; Path=/; HttpOnly; SameSite=Strict"
            return self._send(HTTPStatus.OK, PAGE.read_bytes(), "text/html; charset=utf-8", extra)
        if route == "/stats.json":
            return self._send(HTTPStatus.OK, json.dumps(self.web.figures()).encode(), "application/json")
        if route == "/frame.jpg":
            return self._snapshot()
        if route == "/stream.mjpg":
            return self._stream()
        return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    do_HEAD = do_GET

    def do_POST(self) -> None:  # noqa: N802
        if not self._allowed():
            return self._refuse()
        if urlsplit(self.path).path != "/control":
            return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
        if self.headers.get("X-Lowlight") != "1":
            return self._send(HTTPStatus.FORBIDDEN, b"lowlight: control requests need X-Lowlight: 1\n", "text/plain")
        try:
            length = min(int(self.headers.get("Content-Length") or 0), 4096)
            change = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(change, dict):
                raise ValueError("expected a JSON object")
            state = self.web.controls.apply(change)
        except (ValueError, TypeError) as exc:
            return self._send(HTTPStatus.BAD_REQUEST, f"lowlight: {exc}\n".encode(), "text/plain")
        return self._send(HTTPStatus.OK, json.dumps(state).encode(), "application/json")

    def _snapshot(self) -> None:
        web = self.web
        web.watching(+1)
        try:
            latest = web._latest
            item = web.next_jpeg(latest.seq if latest is not None else 0, timeout=2.0) or web._latest
        finally:
            web.watching(-1)
        if item is None:
            return self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"no frame yet\n", "text/plain")
        return self._send(HTTPStatus.OK, item.jpeg, "image/jpeg",
                          {"X-Frame": str(item.index), "X-Captured": f"{item.captured:.6f}"})

    def _stream(self) -> None:
        web = self.web
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        with web._cond:
            web._viewer_ids += 1
            vid = web._viewer_ids
            me = web._viewers[vid] = {"id": vid, "sent": 0, "skipped": 0}
        web.watching(+1)
        last = web._latest.seq if web._latest is not None else 0
        first = True
        lower_priority()
        sock = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        except OSError:
            pass
        try:
            while True:
                # the previous frame must have left before the next is picked: the newest wins
                while unsent_bytes(sock) > 0 and not web._closing:
                    time.sleep(0.003)
                item = web.next_jpeg(last, timeout=1.0)
                if item is None:
                    if web._closing:
                        return
                    continue
                if not first and item.seq > last + 1:
                    me["skipped"] += item.seq - last - 1
                first = False
                last = item.seq
                head = (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(item.jpeg)}\r\n"
                        f"X-Frame: {item.index}\r\nX-Captured: {item.captured:.6f}\r\n\r\n").encode()
                self.wfile.write(head + item.jpeg + b"\r\n")
                self.wfile.flush()
                me["sent"] += 1
                with web._cond:
                    web._sent_latency.append(time.monotonic() - item.captured)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError, OSError):
            return
        finally:
            web.watching(-1)
            with web._cond:
                web._viewers.pop(vid, None)
