"""Network camera reconnect time: how fast ``lowlight live`` notices a dropped stream and resumes.

The camera is FFmpeg serving HTTP/MJPEG on 127.0.0.1 (``-f mpjpeg -listen 1``), looping a
640x480 clip at 30 fps, or (``--camera rtsp``) GStreamer's RTSP server (``tests/rtsp_server.py``,
160x120 H.264 over RTP; needs Debian's python3-gi and gir1.2-gst-rtsp-server-1.0). The stream is read by ``CameraSource`` (reconnect on, the default for URLs)
through the live pipeline without enhancement (the pipeline stages are the same; the enhancer
does not take part in reconnecting). Each cycle kills the server, waits ``--down`` seconds,
restarts it and measures:

* detect: kill -> first "reconnecting" stand-in frame at the sink;
* resume: server listening again -> first real frame at the sink (target: < 5 s);
* reported gap: what ``CameraSource.gaps`` says, against the real outage.

Usage::

    python benchmarks/bench_live_reconnect.py [--cycles 3] [--down 2] [--camera mjpeg|rtsp]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import make_clip  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(ffmpeg: str, clip: Path, url: str) -> subprocess.Popen:
    return subprocess.Popen([ffmpeg, "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(clip),
                             "-c:v", "mjpeg", "-q:v", "5", "-f", "mpjpeg", "-listen", "1", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


RTSP_SERVER = Path(__file__).resolve().parents[1] / "tests" / "rtsp_server.py"


def serve_rtsp(port: int) -> tuple[subprocess.Popen, float]:
    """Start the RTSP camera; ``(process, time it listens)``."""
    proc = subprocess.Popen(["/usr/bin/python3", str(RTSP_SERVER), str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError("the RTSP server did not start (python3-gi, gir1.2-gst-rtsp-server-1.0?)")
    return proc, time.monotonic()


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 10) -> float:
    """Seconds until ``port`` accepts, polled without connecting (a connection would be the one client)."""
    t0 = time.monotonic()
    while time.monotonic() < t0 + timeout:
        out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout \
            if shutil.which("ss") else ""
        if out.strip():
            return time.monotonic()
        if not shutil.which("ss"):
            time.sleep(0.3)  # no ss: assume FFmpeg listens within 0.3 s
            return time.monotonic()
        time.sleep(0.01)
    raise RuntimeError("ffmpeg did not start listening")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--down", type=float, default=2.0, help="seconds the camera stays off per cycle")
    ap.add_argument("--camera", choices=("mjpeg", "rtsp"), default="mjpeg")
    args = ap.parse_args()
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        sys.exit("needs the ffmpeg program")

    from lowlight.realtime import Pipeline
    from lowlight.realtime.media.camera_source import BACKOFF_S, CameraSource
    from lowlight.realtime.sinks import CallbackSink

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; back-off {BACKOFF_S} s; "
          f"outage {args.down:g} s per cycle; camera: {args.camera}")
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "cam.mp4", 640, 480, 90, fps=30, audio=False)
        port = free_port()
        if args.camera == "rtsp":
            url = f"rtsp://127.0.0.1:{port}/cam"

            def start():
                return serve_rtsp(port)
        else:
            url = f"http://127.0.0.1:{port}/feed.mjpg"

            def start():
                proc = serve(ffmpeg, clip, url)
                return proc, wait_listening(port, proc)
        server, _ = start()
        events: list = []  # (time, real?) of every frame at the sink
        lock = threading.Lock()

        def sink(frame) -> None:
            with lock:
                events.append((time.monotonic(), frame.gap is None))

        src = CameraSource(url)
        pipe = Pipeline(src, CallbackSink(sink), None, mode="live")
        runner = threading.Thread(target=pipe.run, daemon=True)
        runner.start()
        time.sleep(3.0)
        print("| cycle | detect s (kill -> 'reconnecting') | resume s (camera back -> first frame) | "
              "real outage s | reported gap s |")
        print("|---|---|---|---|---|")
        rows = []
        for cycle in range(1, args.cycles + 1):
            server.kill()
            server.wait()
            t_kill = time.monotonic()
            time.sleep(args.down)
            server, t_back = start()
            deadline = time.monotonic() + 15
            resumed = None
            while time.monotonic() < deadline and resumed is None:
                with lock:
                    resumed = next((t for t, real in events if real and t > t_back), None)
                time.sleep(0.01)
            with lock:
                gap_seen = next((t for t, real in events if not real and t > t_kill), None)
            reported = src.gaps[-1][1] if len(src.gaps) >= cycle else float("nan")
            detect = (gap_seen - t_kill) if gap_seen else float("nan")
            resume = (resumed - t_back) if resumed else float("nan")
            rows.append(resume)
            print(f"| {cycle} | {detect:.2f} | {resume:.2f} | {(resumed or t_back) - t_kill:.2f} | {reported:.2f} |",
                  flush=True)
            time.sleep(2.0)
        pipe.stop()
        runner.join(15)
        server.kill()
        server.wait()
        ok = all(r < 5.0 for r in rows)
        print(f"resume within 5 s: {'met' if ok else 'NOT met'} (worst {max(rows):.2f} s); {src.gap_summary()}")


if __name__ == "__main__":
    main()
