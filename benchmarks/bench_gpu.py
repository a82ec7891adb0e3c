"""GPU measurements for ``benchmarks/gpu_check.sh``: the fused Triton apply against the device's copy
bandwidth, and model + apply per frame on CUDA for the ways the network can run there.

Usage::

    python benchmarks/bench_gpu.py [--json FILE] [--repeats 50]

* ``apply_4k``: :func:`lowlight.kernels.enhance_frame` (Triton) on a 3840x2160 uint8 frame already on the
  GPU with Zero-DCE++ maps (3 x 144 x 256): milliseconds, the bytes it must move (frame read + written, maps
  read) per second, and that as a fraction of a device-to-device copy of the same bytes (``torch`` clone)
  measured in the same run.
* ``model_apply_1080p``: frames per second of estimate + apply at 1920x1080 for a frame already on the GPU,
  per variant: eager fp32, eager fp16, ``torch.compile``, and a CUDA graph of the whole step (fp16); and
  ``host_frame_1080p``: ``Enhancer(device="cuda").enhance`` on a NumPy frame (CPU estimation copy,
  upload, download included).

Every figure is the median over ``--repeats`` timed runs after warm-up, with CUDA events. Exits 2
without a CUDA device.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))


def cuda_ms(fn, repeats: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def apply_4k(repeats: int) -> dict:
    from lowlight.kernels import enhance_frame

    g = torch.Generator(device="cuda").manual_seed(0)
    frame = torch.randint(0, 256, (2160, 3840, 3), dtype=torch.uint8, device="cuda", generator=g)
    maps = torch.rand(3, 144, 256, device="cuda", generator=g) * 1.2 - 0.2
    out = torch.empty_like(frame)
    ms = cuda_ms(lambda: enhance_frame(frame, maps, out=out), repeats)
    moved = 2 * frame.numel() + maps.numel() * 4  # bytes read and written by the apply
    src = torch.empty(moved // 2, dtype=torch.uint8, device="cuda")  # a copy with the same traffic
    dst = torch.empty_like(src)
    copy_ms = cuda_ms(lambda: dst.copy_(src), repeats)
    return {"ms": ms, "bytes": moved, "GBps": moved / ms / 1e6, "copy_GBps": moved / copy_ms / 1e6,
            "copy_ms": copy_ms, "fraction_of_copy": copy_ms / ms}


def model_apply_1080p(repeats: int) -> dict:
    import lowlight
    from lowlight.kernels import enhance_frame

    enh = lowlight.Enhancer(device="cuda", backend="torch")
    net = enh.model.net.eval()
    frame = torch.randint(0, 60, (1080, 1920, 3), dtype=torch.uint8, device="cuda")
    out = torch.empty_like(frame)
    size = (144, 256)

    def small(dtype):
        x = frame.permute(2, 0, 1)[None].to(dtype).div_(255)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)

    rows = {}

    def step_fp32():
        enhance_frame(frame, net(small(torch.float32))[0], 8, 1.0, out=out)

    with torch.inference_mode():
        rows["eager_fp32"] = cuda_ms(step_fp32, repeats)
        half = enh.model.net.half()
        rows["eager_fp16"] = cuda_ms(lambda: enhance_frame(frame, half(small(torch.float16))[0].float(), 8, 1.0,
                                                           out=out), repeats)
        try:
            compiled = torch.compile(half)
            rows["compile_fp16"] = cuda_ms(lambda: enhance_frame(frame, compiled(small(torch.float16))[0].float(),
                                                                 8, 1.0, out=out), repeats, warmup=10)
        except Exception as exc:  # noqa: BLE001 - reported, the other variants still count
            rows["compile_fp16_error"] = str(exc).splitlines()[0][:200]
    try:
        graph = torch.cuda.CUDAGraph()
        stream = torch.cuda.Stream()
        with torch.inference_mode():
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                for _ in range(3):  # warm up outside the graph (Triton compiles here)
                    enhance_frame(frame, half(small(torch.float16))[0].float(), 8, 1.0, out=out)
            torch.cuda.current_stream().wait_stream(stream)
            with torch.cuda.graph(graph):
                enhance_frame(frame, half(small(torch.float16))[0].float(), 8, 1.0, out=out)
        rows["cuda_graph_fp16"] = cuda_ms(graph.replay, repeats)
    except Exception as exc:  # noqa: BLE001
        rows["cuda_graph_fp16_error"] = str(exc).splitlines()[0][:200]
    fps = {k: 1000.0 / v for k, v in rows.items() if isinstance(v, float)}
    host = lowlight.Enhancer(device="cuda", backend="torch")
    frame_np = np.random.default_rng(0).integers(0, 60, (1080, 1920, 3), dtype=np.uint8)
    host_ms = cuda_ms(lambda: host.enhance(frame_np), max(10, repeats // 5))
    return {"ms": rows, "fps": fps, "host_frame_1080p": {"ms": host_ms, "fps": 1000.0 / host_ms}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json")
    ap.add_argument("--repeats", type=int, default=50)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("bench_gpu: no CUDA device", file=sys.stderr)
        return 2
    report = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__}
    for name, fn in (("apply_4k", apply_4k), ("model_apply_1080p", model_apply_1080p)):
        try:
            report[name] = fn(args.repeats)
        except Exception as exc:  # noqa: BLE001 - one failed part must not lose the others
            report[name] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"}
        print(json.dumps({name: report[name]}), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
