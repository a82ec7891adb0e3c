"""Whole commands, as a user runs them: ``lowlight video`` against ffmpeg on the same clip (issue 13).

Usage::

    python benchmarks/bench_command.py [--sizes 1280x720,1920x1080,3840x2160] [--presets veryfast,medium]
                                       [--seconds 10] [--pairs 3] [--paths yuv,rgb] [--json FILE]
    python benchmarks/bench_transcode.py --command ...   (the same: bench_transcode's whole-command mode)

For each size a clip is made once: a dark photo panning with sensor-like noise, 30 fps H.264 + AAC
(:func:`common.make_clip`). Then, per libx264 preset, ``pairs`` times and alternating (so drift in the
machine's load hits both sides alike):

* ``lowlight video CLIP -o OUT --preset P --crf 23`` (default settings otherwise), the whole process,
  once per ``--paths`` entry: ``yuv`` (the default planar 4:2:0 path), ``rgb`` (the same command with
  ``LOWLIGHT_DISABLE_YUV=1``: decode to RGB, enhance, convert back, as before issue 13),
  ``denoise-off`` (the default path with ``--denoise off``: what the denoiser costs) and ``off``
  (``--strength 0``: enhancement off, frames passed from decoder to encoder untouched, the pipeline's
  floor, to compare with the plain transcode);
* ``ffmpeg -i CLIP -vf eq=gamma=2.0 -c:v libx264 -preset P -crf 23 -c:a copy OUT``;
* ``ffmpeg -i CLIP -c:v libx264 -preset P -crf 23 -c:a copy OUT`` (a plain transcode: the floor).

Reported: median seconds and fps of each, the ratios ``lowlight / eq=gamma`` and ``lowlight / plain``
in fps (of the first path), the CPU seconds each command used (user + system, medians: the work
done, which the machine's load disturbs less than wall time), the load average at each pair's start,
and for lowlight and ``eq=gamma`` the time from start to the first encoded frame (the moment the
output, lowlight's hidden ``.part`` file, grows past the container header, polled every 5 ms). Also ``lowlight --help``
wall time (median of 5). Needs the ``ffmpeg`` program.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info, make_clip  # noqa: E402


def cpu_children() -> float:
    """User + system CPU seconds of this process's finished children (``cmd`` runs one at a time, so a
    difference is one command's: its work, less sensitive to the machine's load than wall time)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def written(path: Path, partial: bool) -> int:
    """Bytes written so far to output ``path``: lowlight's hidden ``.NAME.*.part.EXT`` (``partial``) or
    ``path`` itself (ffmpeg writes in place)."""
    files = list(path.parent.glob(f".{path.stem}.*.part{path.suffix}")) if partial else [path]
    sizes = []
    for f in files:
        try:
            sizes.append(f.stat().st_size)
        except FileNotFoundError:  # renamed or not there yet
            pass
    return max(sizes, default=0)


def timed(cmd: list, watch: Path | None = None, env: dict | None = None,
          partial: bool = True) -> tuple[float, float | None]:
    """``(seconds, seconds to the first encoded frame or None)`` of running ``cmd``; the first frame is
    when output ``watch`` grows past the container header (:func:`written`). The CPU seconds it used are
    left in ``timed.cpu``."""
    c0 = cpu_children()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    first = None
    if watch is not None and not partial:
        watch.unlink(missing_ok=True)
    while proc.poll() is None:
        if watch is not None and first is None and written(watch, partial) > 1024:
            first = time.perf_counter() - t0
        time.sleep(0.005)
    wall = time.perf_counter() - t0
    timed.cpu = cpu_children() - c0
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {proc.stderr.read().decode()[-400:]}")
    return wall, first


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1280x720,1920x1080,3840x2160")
    ap.add_argument("--presets", default="veryfast,medium")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--weights", help="checkpoint for lowlight (default: the bundled weights)")
    ap.add_argument("--paths", default="yuv,rgb",
                    help="lowlight variants: yuv (default path), rgb, denoise-off (yuv with --denoise off), "
                         "off (--strength 0: enhancement off)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    paths = args.paths.split(",")
    env = {"yuv": dict(os.environ), "rgb": {**os.environ, "LOWLIGHT_DISABLE_YUV": "1"}, "denoise-off": dict(os.environ),
           "off": dict(os.environ)}
    extra = {"denoise-off": ["--denoise", "off"], "off": ["--strength", "0"]}
    if not shutil.which("ffmpeg"):
        print("bench_command: needs the ffmpeg program (apt-get install ffmpeg)", file=sys.stderr)
        return 2
    lowlight = [sys.executable, "-m", "lowlight"]
    helps = [timed([*lowlight, "--help"])[0] for _ in range(5)]
    report = {"machine": machine_info(), "help_s": statistics.median(helps), "rows": []}
    print(f"lowlight --help: {report['help_s']:.2f} s (median of 5)", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-command-") as tmp:
        tmp = Path(tmp)
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            frames = int(args.seconds * 30)
            clip = make_clip(tmp / f"clip_{size}.mp4", w, h, frames, fps=30, audio=True)
            for preset in args.presets.split(","):
                enc = ["-c:v", "libx264", "-preset", preset, "-crf", "23", "-c:a", "copy"]
                ff = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(clip)]
                times: dict = {**{f"lowlight_{p}": [] for p in paths}, **{f"first_frame_{p}": [] for p in paths},
                               **{f"cpu_{p}": [] for p in paths}, "eq_gamma": [], "plain": [], "cpu_eq_gamma": [],
                               "first_frame_eq_gamma": [],
                               "cpu_plain": [], "load": []}
                for _ in range(args.pairs):
                    times["load"].append(os.getloadavg()[0])
                    for p in paths:
                        out = tmp / "ll.mp4"
                        sec, first = timed([*lowlight, "video", str(clip), "-o", str(out), "--overwrite", "--preset",
                                            preset, "--crf", "23",
                                            *(["--weights", args.weights] if args.weights else []),
                                            *extra.get(p, [])],
                                           watch=out, env=env[p])
                        times[f"lowlight_{p}"].append(sec)
                        times[f"first_frame_{p}"].append(first)
                        times[f"cpu_{p}"].append(timed.cpu)
                    sec, first = timed([*ff, "-vf", "eq=gamma=2.0", *enc, str(tmp / "eq.mp4")], watch=tmp / "eq.mp4",
                                       partial=False)
                    times["eq_gamma"].append(sec)
                    times["first_frame_eq_gamma"].append(first)
                    times["cpu_eq_gamma"].append(timed.cpu)
                    times["plain"].append(timed([*ff, *enc, str(tmp / "plain.mp4")])[0])
                    times["cpu_plain"].append(timed.cpu)
                med = {k: statistics.median([v for v in vs if v is not None]) if any(v is not None for v in vs)
                       else None for k, vs in times.items()}
                main_path = paths[0]
                med["lowlight"], med["first_frame"] = med[f"lowlight_{main_path}"], med[f"first_frame_{main_path}"]
                row = {"size": size, "preset": preset, "frames": frames, "seconds": med, "runs": times,
                       "fps": {k: frames / med[k] for k in (*(f"lowlight_{p}" for p in paths), "eq_gamma", "plain")},
                       "x_eq_gamma": med["eq_gamma"] / med["lowlight"], "x_plain": med["plain"] / med["lowlight"],
                       **{f"x_eq_gamma_{p}": med["eq_gamma"] / med[f"lowlight_{p}"] for p in paths},
                       **{f"x_plain_{p}": med["plain"] / med[f"lowlight_{p}"] for p in paths}}
                report["rows"].append(row)
                print(f"{size} {preset}: " + ", ".join(f"lowlight {p} {med[f'lowlight_{p}']:.2f} s" for p in paths)
                      + f", eq=gamma {med['eq_gamma']:.2f} s, plain {med['plain']:.2f} s -> "
                      + ", ".join(f"{p} {row[f'x_eq_gamma_{p}']:.2f}x" for p in paths)
                      + " of eq=gamma; " + ", ".join(f"{p} {row[f'x_plain_{p}']:.2f}x" for p in paths)
                      + " of plain; first frame "
                      f"{med['first_frame'] or float('nan'):.2f} s (eq=gamma "
                      f"{med['first_frame_eq_gamma'] or float('nan'):.2f} s); load {med['load']:.1f}; CPU s: "
                      + ", ".join(f"{p} {med[f'cpu_{p}']:.1f}" for p in paths)
                      + f", eq=gamma {med['cpu_eq_gamma']:.1f}, plain {med['cpu_plain']:.1f}", flush=True)
    cols = " | ".join(f"lowlight {p} s (CPU s) | x eq=gamma ({p}) | x plain ({p})" for p in paths)
    print(f"\n| size | preset | {cols} | ffmpeg eq=gamma s (CPU s) | ffmpeg plain s (CPU s) | first frame s "
          "(eq=gamma) | load |")
    print("|---|---|" + "---|---|---|" * len(paths) + "---|---|---|---|")
    for r in report["rows"]:
        s = r["seconds"]
        vals = " | ".join(f"{s[f'lowlight_{p}']:.2f} ({s[f'cpu_{p}']:.1f}) | {r[f'x_eq_gamma_{p}']:.2f} | "
                          f"{r[f'x_plain_{p}']:.2f}" for p in paths)
        print(f"| {r['size']} | {r['preset']} | {vals} | {s['eq_gamma']:.2f} ({s['cpu_eq_gamma']:.1f}) | "
              f"{s['plain']:.2f} ({s['cpu_plain']:.1f}) | {s['first_frame'] or float('nan'):.2f} "
              f"({s['first_frame_eq_gamma'] or float('nan'):.2f}) | {s['load']:.1f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
