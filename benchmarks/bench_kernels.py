"""Benchmark curve application: plain torch reference vs torch.compile vs the fused kernels.

Usage::

    python benchmarks/bench_kernels.py [--repeats N] [--json results.json]

Per frame size (640x480, 1280x720, 1920x1080, 3840x2160 with Zero-DCE++
style maps ``3 x 144 x 256``, plus Zero-DCE style ``24 x 1080 x 1920``
full-resolution maps at 1920x1080) it times, on one uint8 ``H x W x 3`` frame:

* ``reference``: the pre-issue path, ``to_tensor`` (uint8 -> float) ->
  :func:`lowlight.kernels.apply_curves` -> ``to_array`` (round to uint8);
* ``torch.compile``: the same computation as one torch function, compiled
  with inductor (compile time excluded);
* ``fused-cpu``: :func:`lowlight.kernels.enhance_frame` on the CPU (compiled
  OpenMP kernel) with all threads, and ``fused-cpu-1t`` with one thread;
* ``fused-triton``: the Triton kernel, when a CUDA device is present;
* ``memcpy``: ``np.copyto`` of the frame into a preallocated array (reads and
  writes ``H*W*3`` bytes): the memory floor; ``memcpy+maps`` also copies the
  maps (the floor that matters for full-resolution 24-channel maps, which are
  ``24*H*W*4`` bytes, 32x the frame).

Every timing is the median over ``--repeats`` runs after a warm-up. The
reference and torch.compile paths run with denormals flushed, as the
Enhancer does. Maps hold alpha in [-0.2, 1] (mostly brightening, like
trained models).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info, median_ms  # noqa: E402

from lowlight.cpu import flush_denormals
from lowlight.enhancer import to_array, to_tensor
from lowlight.kernels import apply_curves, enhance_frame, fused_cpu

SIZES = [(480, 640), (720, 1280), (1080, 1920), (2160, 3840)]
PP_MAPS = (3, 144, 256)


def reference(frame: np.ndarray, maps: torch.Tensor) -> np.ndarray:
    """Pre-issue Enhancer path: uint8 -> float -> apply_curves -> uint8."""
    return to_array(apply_curves(to_tensor(frame), maps[None]), np.uint8)


def torch_curves(frame: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """The reference as one torch function (uint8 ``H x W x 3`` tensor in and out), for torch.compile."""
    x = frame.permute(2, 0, 1).unsqueeze(0).to(torch.float32) / 255.0
    y = apply_curves(x, maps[None])[0].permute(1, 2, 0)
    return y.mul(255.0).add(0.5).clamp(0.0, 255.0).floor().to(torch.uint8)


def bench_case(height: int, width: int, map_shape: tuple, repeats: int, compiled) -> dict:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    maps = torch.from_numpy(rng.random(map_shape, dtype=np.float32) * 1.2 - 0.2)
    maps_np = maps.numpy()
    out = np.empty_like(frame)
    frame_t = torch.from_numpy(frame)
    row = {"frame": f"{width}x{height}", "maps": "x".join(map(str, map_shape))}

    with flush_denormals():
        row["reference"] = median_ms(lambda: reference(frame, maps), repeats)
        if compiled is not None:
            try:
                with torch.inference_mode():
                    row["torch.compile"] = median_ms(lambda: compiled(frame_t, maps), repeats)
            except Exception as exc:  # noqa: BLE001 - report and go on
                row["torch.compile"] = None
                row["torch.compile_error"] = f"{type(exc).__name__}: {exc}"[:200]
    if fused_cpu.available():
        row["fused-cpu"] = median_ms(lambda: enhance_frame(frame, maps_np, out=out), repeats)
        row["fused-cpu-1t"] = median_ms(
            lambda: fused_cpu.enhance_frame_cpu(frame, maps_np, 8, 1.0, out, num_threads=1), repeats)
    if torch.cuda.is_available():
        fg, mg = frame_t.cuda(), maps.cuda()
        og = torch.empty_like(fg)
        row["fused-triton"] = median_ms(lambda: enhance_frame(fg, mg, out=og), repeats, torch.cuda.synchronize)
    row["memcpy"] = median_ms(lambda: np.copyto(out, frame), repeats)
    maps_copy = np.empty_like(maps_np)
    row["memcpy+maps"] = median_ms(lambda: (np.copyto(out, frame), np.copyto(maps_copy, maps_np)), repeats)
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20, help="timed runs per measurement (median reported)")
    ap.add_argument("--json", help="also write the results to this JSON file")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile column")
    args = ap.parse_args(argv)

    compiled = None if args.no_compile else torch.compile(torch_curves, dynamic=False)
    cases = [(h, w, PP_MAPS) for h, w in SIZES] + [(1080, 1920, (24, 1080, 1920))]
    info = {"cpu": machine_info()["cpu"], "threads": torch.get_num_threads(), "torch": torch.__version__,
            "fused_cpu": fused_cpu.available() or fused_cpu.unavailable_reason(),
            "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
            "repeats": args.repeats}
    print(f"# {info}")
    rows = []
    for height, width, shape in cases:
        rows.append(bench_case(height, width, shape, args.repeats, compiled))
        print(f"# done {rows[-1]['frame']} maps {rows[-1]['maps']}", flush=True)

    paths = [p for p in ("reference", "torch.compile", "fused-cpu", "fused-cpu-1t", "fused-triton", "memcpy",
                         "memcpy+maps")
             if any(r.get(p) is not None for r in rows)]
    print()
    print("| frame | maps | " + " | ".join(f"{p} ms" for p in paths)
          + " | fused-cpu speed-up vs reference | fused-cpu / memcpy |")
    print("|" + "---|" * (len(paths) + 4))
    for r in rows:
        cells = [f"{r[p]:.2f}" if r.get(p) is not None else "n/a" for p in paths]
        fused = r.get("fused-cpu")
        speed = f"{r['reference'] / fused:.1f}x" if fused else "n/a"
        floor = f"{fused / r['memcpy']:.1f}x" if fused else "n/a"
        print(f"| {r['frame']} | {r['maps']} | " + " | ".join(cells) + f" | {speed} | {floor} |")
    for r in rows:
        if r.get("torch.compile_error"):
            print(f"# torch.compile failed at {r['frame']}: {r['torch.compile_error']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"info": info, "rows": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
