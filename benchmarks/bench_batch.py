"""Batch throughput: ``lowlight batch`` with 1 and 2 local workers, and through a local Ray instance.

Builds a folder of small H.264 + AAC clips (a dark reference photo panning, with noise; see
``common.py``) and dark PNG stills, then enhances it with each mode, each run a fresh
``python -m lowlight batch`` command into an empty output folder, as a user would run it.
Two times per run: the whole command ("wall", including Python/torch start-up) and the batch
itself as the command's summary line reports it ("batch": discovery, manifest, worker start-up,
decode, enhance, encode, rename). Ray runs connect with ``--ray auto`` to a Ray instance this
script starts once beforehand (its start-up is reported separately, not in the table); each
command is a new Ray job, so its worker processes start cold like local ones. One discarded
warm-up run per mode, then ``--repeats`` timed runs; medians are reported.

Also measures Ray's own per-task overhead with empty tasks: the round trip of one task at a
time (latency) and the cost per task when many are in flight (throughput).

Usage::

    python benchmarks/bench_batch.py [--clips 8] [--frames 60] [--size 480x270] [--images 8]
                                     [--image-size 1280x720] [--repeats 3] [--no-ray] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import dark_scene, make_clip  # noqa: E402


def build_folder(root: Path, clips: int, frames: int, size: tuple[int, int], images: int,
                 image_size: tuple[int, int]) -> tuple[int, int]:
    """Write the input folder; returns (files, frames in total)."""
    w, h = size
    scene = dark_scene(max(w, image_size[0]), max(h, image_size[1]))
    (root / "clips").mkdir(parents=True)
    (root / "stills").mkdir(parents=True)
    for i in range(clips):
        make_clip(root / "clips" / f"clip{i:02d}.mp4", w, h, frames, fps=30,
                  scene=np.roll(scene, 17 * i, axis=1))
    rng = np.random.default_rng(1)
    iw, ih = image_size
    for i in range(images):
        img = np.roll(scene, 23 * i, axis=0)[:ih, :iw] + rng.normal(0, 2, (ih, iw, 3))
        cv2.imwrite(str(root / "stills" / f"still{i:02d}.png"),
                    cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    return clips + images, clips * frames + images


def run_batch(src: Path, out: Path, extra: list[str]) -> tuple[float, float, list[dict]]:
    """One ``python -m lowlight batch`` into a fresh ``out``; returns (wall seconds, batch seconds from
    the summary line, manifest records)."""
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "lowlight", "batch", str(src), "-o", str(out), *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"lowlight batch failed ({proc.returncode}):\n{proc.stderr}")
    found = re.search(r"lowlight batch: .* in ([0-9.]+) s", proc.stderr)
    if not found:
        raise SystemExit(f"no summary line in:\n{proc.stderr}")
    records = [json.loads(line) for line in (out / "lowlight-batch.jsonl").read_text().splitlines()]
    return wall, float(found.group(1)), records


def ray_overhead(ray, n: int = 200) -> dict:
    """Per-task cost of Ray with empty tasks, in milliseconds."""
    @ray.remote(num_cpus=1)
    def noop(x):
        return x

    ray.get([noop.remote(i) for i in range(20)])  # warm the workers
    t0 = time.perf_counter()
    for i in range(50):
        ray.get(noop.remote(i))
    latency = (time.perf_counter() - t0) / 50
    t0 = time.perf_counter()
    ray.get([noop.remote(i) for i in range(n)])
    per_task = (time.perf_counter() - t0) / n
    return {"round_trip_ms": latency * 1e3, "pipelined_ms_per_task": per_task * 1e3}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--size", default="480x270", help="clip size WxH")
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--image-size", default="1280x720")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", default="1,2", help="local worker counts to compare")
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray runs")
    ap.add_argument("--json", help="also write the numbers to this JSON file")
    ap.add_argument("--weights", help="checkpoint (default: bundled weights)")
    args = ap.parse_args()
    size = tuple(map(int, args.size.split("x")))
    image_size = tuple(map(int, args.image_size.split("x")))
    extra = ["--weights", args.weights] if args.weights else []
    results: dict = {"machine": {"processor": platform.processor() or platform.machine(),
                                 "cpus": os.cpu_count(), "python": platform.python_version()},
                     "setup": vars(args), "modes": []}
    import torch

    results["machine"]["torch"] = torch.__version__
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "in"
        files, frames = build_folder(src, args.clips, args.frames, size, args.images, image_size)
        modes = [(f"local, {n} worker{'s' if int(n) > 1 else ''}", ["--workers", n]) for n in args.workers.split(",")]
        ray = None
        if not args.no_ray:
            try:
                import ray
            except ImportError:
                print("ray not installed (pip install 'lowlight[ray]'): skipping the Ray runs", file=sys.stderr)
            else:
                t0 = time.perf_counter()
                ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
                results["ray_start_s"] = time.perf_counter() - t0
                results["ray_overhead"] = ray_overhead(ray)
                modes.append((f"Ray (`--ray auto`), local instance, {os.cpu_count()} CPUs", ["--ray", "auto"]))
        for name, flags in modes:
            run_batch(src, tmp / "out", flags + extra)  # warm-up, discarded
            walls, batches, work = [], [], []
            for _ in range(args.repeats):
                wall, seconds, records = run_batch(src, tmp / "out", flags + extra)
                walls.append(wall)
                batches.append(seconds)
                work.append(sum(r["seconds"] for r in records))
            med = statistics.median(batches)
            results["modes"].append({"mode": name, "flags": flags, "wall_s": walls, "batch_s": batches,
                                     "median_wall_s": statistics.median(walls), "median_batch_s": med,
                                     "files_per_s": files / med, "frames_per_s": frames / med,
                                     "file_seconds_sum": statistics.median(work)})
            print(f"{name}: batch {', '.join(f'{s:.2f}' for s in batches)} s, wall "
                  f"{', '.join(f'{s:.2f}' for s in walls)} s", file=sys.stderr)
        if ray is not None:
            ray.shutdown()
    base = results["modes"][0]["files_per_s"]
    print(f"machine: {results['machine']['processor']}, {os.cpu_count()} CPUs, torch {torch.__version__}; "
          f"folder: {args.clips} clips {args.size} x {args.frames} frames (H.264 + AAC) and {args.images} "
          f"PNG stills {args.image_size} = {files} files, {frames} frames; median of {args.repeats}")
    print("| mode | batch s | files/s | frames/s | vs 1 worker | wall s (whole command) | sum of per-file s |")
    print("|---|---|---|---|---|---|---|")
    for m in results["modes"]:
        m["scaling"] = m["files_per_s"] / base
        print(f"| {m['mode']} | {m['median_batch_s']:.2f} | {m['files_per_s']:.2f} | {m['frames_per_s']:.1f} | "
              f"{m['scaling']:.2f}x | {m['median_wall_s']:.2f} | {m['file_seconds_sum']:.1f} |")
    if "ray_overhead" in results:
        o = results["ray_overhead"]
        local = next((m for m in results["modes"] if m["flags"] == ["--workers", str(os.cpu_count())]), None)
        ray_mode = results["modes"][-1]
        line = (f"Ray: instance start {results['ray_start_s']:.1f} s (not in the table); empty task "
                f"round trip {o['round_trip_ms']:.2f} ms, {o['pipelined_ms_per_task']:.2f} ms per task in flight")
        if local is not None:
            per_file = (ray_mode["median_batch_s"] - local["median_batch_s"]) / files
            results["ray_minus_local_ms_per_file"] = per_file * 1e3
            line += f"; Ray vs local with the same cores: {per_file * 1e3:+.0f} ms per file"
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
