"""Browser view: capture-to-viewer latency and pipeline fps with ``lowlight live --serve``.

A dark clip is played like a camera (``CameraSource``, paced at 30 fps) through the live pipeline
into :class:`~lowlight.realtime.media.web_view.WebView`. Each viewer is a separate process (like a
browser) that reads ``/stream.mjpg`` and decodes every JPEG it receives with OpenCV; its latency is
``time.monotonic()`` after decoding minus the part's ``X-Captured`` header (the capture time, same
clock: one machine). Drops count frames the pipeline discarded plus frames a viewer never got.
The same clip without the server gives the "server off" fps.

Targets (issue 15): 4 viewers at 640x480 keep 30 fps with 0 drops and p95 < 150 ms.

Usage::

    python benchmarks/bench_live_web.py [--seconds 12] [--sizes 640x480,1280x720] [--viewers 1,4]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_weights, make_clip  # noqa: E402


def viewer(url: str, seconds: float, warmup: float, out) -> None:
    """Read the MJPEG stream for ``seconds`` (after ``warmup``), decode each JPEG, report latencies."""
    import urllib.request

    import cv2
    import numpy as np

    lat, frames, indices, times = [], 0, [], []
    with urllib.request.urlopen(url, timeout=60) as r:
        start = None
        while start is None or time.monotonic() < start + warmup + seconds:
            line = r.readline()
            if not line:
                break
            if not line.startswith(b"--"):
                continue
            headers = {}
            while True:
                h = r.readline().strip()
                if not h:
                    break
                k, _, v = h.decode().partition(":")
                headers[k.strip().lower()] = v.strip()
            jpeg = r.read(int(headers["content-length"]))
            img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            now = time.monotonic()
            start = now if start is None else start  # the clock starts at the first frame
            if img is None or now < start + warmup:
                continue
            frames += 1
            times.append(now)
            indices.append(int(headers["x-frame"]))
            lat.append(now - float(headers["x-captured"]))
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    out.put({"frames": frames, "latency": lat, "first": indices[0] if indices else None,
             "last": indices[-1] if indices else None, "fps": (len(times) - 1) / span if span else 0.0})


def run(clip: Path, weights, n_viewers: int, seconds: float, serve: bool) -> dict:
    from lowlight.enhancer import Enhancer
    from lowlight.realtime import Pipeline
    from lowlight.realtime.media.camera_source import CameraSource
    from lowlight.realtime.media.web_view import LiveControls, WebView
    from lowlight.realtime.sinks import CallbackSink
    from lowlight.realtime.stats import percentile

    enh = Enhancer(weights=weights) if weights else Enhancer()
    src = CameraSource(str(clip))
    web = WebView("127.0.0.1", 0) if serve else None
    sink = web if serve else CallbackSink(lambda f: None)
    pipe = Pipeline(src, sink, enh, mode="live", smooth=0.8)
    procs, results = [], []
    if web is not None:
        web.controls = LiveControls(pipe.processor, pipe.stats)
        web.start()
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        warmup = 1.5  # the viewers start before the pipeline's first frame and ignore the first 1.5 s
        procs = [ctx.Process(target=viewer, args=(f"http://127.0.0.1:{web.port}/stream.mjpg", seconds - 2.5, warmup,
                                                  queue), daemon=True) for _ in range(n_viewers)]
        for p in procs:
            p.start()
        deadline = time.monotonic() + 60
        while len(web._viewers) < n_viewers and time.monotonic() < deadline:
            time.sleep(0.05)  # every viewer connected before the first frame
    stats = pipe.run()
    for p in procs:
        results.append(queue.get(timeout=60))
        p.join(10)
    row = {"fps": stats.fps, "dropped": stats.dropped, "frames": stats.frames_out, "captured": stats.frames_in}
    if results:
        lat = [x for r in results for x in r["latency"]]
        row["p50"] = 1000 * percentile(lat, 50)
        row["p95"] = 1000 * percentile(lat, 95)
        span = [(r["last"] - r["first"] + 1) if r["first"] is not None else 0 for r in results]
        row["viewer_fps"] = min(r["fps"] for r in results)
        row["viewer_missed"] = sum(s - r["frames"] for s, r in zip(span, results))
        row["encoded"] = web.encoded
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=12)
    ap.add_argument("--sizes", default="640x480,1280x720")
    ap.add_argument("--viewers", default="1,4")
    ap.add_argument("--weights")
    args = ap.parse_args()

    import torch

    weights = args.weights or default_weights()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}; "
          f"weights {weights or 'bundled'}; {args.seconds:g} s per row, 30 fps source, --smooth 0.8")
    print("| size | server | viewers | pipeline fps | pipeline drops | viewer fps (slowest) | frames a viewer missed "
          "| capture-to-viewer p50 / p95 ms | target |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            w, h = map(int, size.split("x"))
            clip = make_clip(Path(tmp) / f"{size}.mp4", w, h, int(args.seconds * 30), fps=30, audio=False)
            off = run(clip, weights, 0, args.seconds, serve=False)
            print(f"| {size} | off | - | {off['fps']:.1f} | {off['dropped']} | - | - | - | - |", flush=True)
            for n in (int(v) for v in args.viewers.split(",")):
                r = run(clip, weights, n, args.seconds, serve=True)
                target = "-"
                if size == "640x480" and n == 4:
                    ok = r["viewer_fps"] >= 29 and r["dropped"] == 0 and r["viewer_missed"] == 0 and r["p95"] < 150
                    target = "met" if ok else "NOT met"
                print(f"| {size} | on | {n} | {r['fps']:.1f} | {r['dropped']} | {r['viewer_fps']:.1f} | "
                      f"{r['viewer_missed']} | {r['p50']:.0f} / {r['p95']:.0f} | {target} |", flush=True)


if __name__ == "__main__":
    main()
