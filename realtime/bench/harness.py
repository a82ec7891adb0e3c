"""Measurements behind ``lowlight bench``: the real file pipeline per resolution and backend, plus baselines.

For every resolution a synthetic dark H.264 clip is written once
(:mod:`lowlight.realtime.bench.synthetic`). Then, per backend, the real threaded
pipeline (:class:`~lowlight.realtime.pipeline.Pipeline`, PyAV decode ->
estimate -> smooth -> fused apply -> PyAV encode) transcodes it ``warmup``
times untimed and ``repeats`` times timed; each quantity is the median over the
timed runs. Per-stage times are the pipeline's own per-frame means; latency is
decode-to-encoded per frame (file mode blocks on full queues, so it includes
queueing); throughput is counted from the first frame, after opening and
warm-up.

Baselines, measured in the same run on the same clip and encoder settings:

* ``floor``: the same pipeline with no enhancement (decode -> encode only);
* ``ffmpeg``: ``ffmpeg -vf eq=gamma=2.0`` (whole command), when ffmpeg is on PATH;
* ``naive``: what the official test script does per frame: full-resolution
  Zero-DCE in eager torch, curves applied in float32, one thread of work
  (decode -> model -> apply -> encode), over ``naive_frames`` frames. This baseline is the one
  part of ``lowlight bench`` that imports torch on the CPU (``--no-baselines`` skips it).
"""

from __future__ import annotations

import dataclasses
import os
import platform
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from lowlight.enhancer import EnhancerOptions
from lowlight.realtime.options import ProcessingOptions
from lowlight.realtime.stats import STAGES

RESOLUTIONS = ((640, 480), (1280, 720), (1920, 1080), (3840, 2160))


@dataclass
class BenchConfig:
    """What ``lowlight bench`` measures (see the module docstring)."""

    resolutions: list = field(default_factory=lambda: [(1920, 1080)])
    backends: list = field(default_factory=lambda: ["auto"])
    frames: int = 60
    repeats: int = 3
    warmup: int = 1
    preset: str = "veryfast"
    crf: int = 23
    processing: ProcessingOptions = ProcessingOptions(smooth=0.8)
    model: EnhancerOptions = EnhancerOptions(device="cpu")  # ``backend`` is replaced by each of ``backends``
    naive_frames: int = 5
    baselines: bool = True


def machine_info() -> dict:
    """CPU model, cores, GPU and library versions of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib import metadata

    from lowlight.backends import cuda_possible
    from lowlight.kernels.threads import get_num_threads

    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = None
    gpu = None
    if cuda_possible():  # only then is torch imported here
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    info = {"cpu": cpu, "cores": os.cpu_count(), "threads": get_num_threads(), "platform": platform.platform(),
            "python": platform.python_version(), "torch": torch_version, "gpu": gpu}
    try:
        import av

        info["pyav"] = av.__version__
    except ImportError:  # pragma: no cover
        pass
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    return info


def _median(values: list) -> float:
    values = [v for v in values if v is not None and v == v]
    return float(statistics.median(values)) if values else float("nan")


def summarize(runs: list[dict]) -> dict:
    """Median over runs of fps, per-stage ms, model+apply ms and latency percentiles."""
    stage_ms = {s: _median([r["stage_ms"].get(s) for r in runs]) for s in STAGES
                if any(s in r["stage_ms"] for r in runs)}
    out = {"fps": _median([r["fps"] for r in runs]), "stage_ms": stage_ms,
           "latency_ms": {q: _median([r["latency_ms"][q] for r in runs]) for q in ("p50", "p95", "p99")},
           "frames": runs[0]["frames_out"], "runs": len(runs),
           "fps_runs": [round(r["fps"], 2) for r in runs]}
    if "estimate" in stage_ms and "apply" in stage_ms:
        out["model_apply_ms"] = _median([r["stage_ms"]["estimate"] + r["stage_ms"]["apply"] for r in runs])
    return out


def transcode_once(clip: Path, out: Path, enhancer, cfg: BenchConfig) -> dict:
    """One pipeline run of ``clip`` into ``out`` (``enhancer=None``: the decode->encode floor); stats dict."""
    from lowlight.realtime.media.video_sink import VideoFileSink
    from lowlight.realtime.media.video_source import VideoFileSource
    from lowlight.realtime.pipeline import Pipeline

    source = VideoFileSource(clip, copy_streams=False)
    sink = VideoFileSink(out, crf=cfg.crf, preset=cfg.preset, overwrite=True, input_path=clip)
    stats = Pipeline(source, sink, enhancer, options=cfg.processing).run()
    return stats.as_dict()


def ffmpeg_fps(clip: Path, out: Path, frames: int, cfg: BenchConfig) -> Optional[float]:
    """Frames per second of ``ffmpeg -vf eq=gamma=2.0`` (whole command) on ``clip``; None without ffmpeg."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        return None
    cmd = [exe, "-nostdin", "-loglevel", "error", "-y", "-i", str(clip), "-vf", "eq=gamma=2.0", "-an",
           "-c:v", "libx264", "-preset", cfg.preset, "-crf", str(cfg.crf), "-pix_fmt", "yuv420p", str(out)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return frames / (time.perf_counter() - t0)


def naive_fps(clip: Path, out: Path, cfg: BenchConfig) -> tuple[float, int]:
    """``(fps, frames)`` of per-frame full-resolution Zero-DCE as the official test script runs it (torch)."""
    import torch

    from lowlight.enhancer import to_array
    from lowlight.estimation import to_tensor
    from lowlight.kernels import apply_curves
    from lowlight.realtime.media.video_sink import VideoFileSink
    from lowlight.realtime.media.video_source import VideoFileSource
    from lowlight.weights import load_model

    device = cfg.model.device
    model = load_model("zero-dce").to(device)
    source = VideoFileSource(clip, copy_streams=False)
    sink = VideoFileSink(out, crf=cfg.crf, preset=cfg.preset, overwrite=True, input_path=clip)
    info = source.open()
    sink.open(info)
    n, ok, t0 = 0, False, None
    try:
        for frame in source.frames():
            if t0 is None:
                t0 = time.perf_counter()
            with torch.inference_mode():
                x = to_tensor(frame.image).to(device)
                y = apply_curves(x, model(x), model.iterations, 1.0 if cfg.model.strength is None else cfg.model.strength)
            sink.write(dataclasses.replace(frame, image=to_array(y.cpu(), np.uint8)))
            n += 1
            if n >= cfg.naive_frames:
                break
        ok = True
    finally:
        sink.close(ok)
        source.close()
    return n / (time.perf_counter() - t0), n


def run_bench(cfg: BenchConfig, workdir: Path, log: Callable[[str], None] = print) -> dict:
    """Run every (resolution, backend) and the baselines; returns the report dict (see ``lowlight bench``)."""
    from lowlight.backends import resolve_backend
    from lowlight.enhancer import Enhancer
    from lowlight.realtime.bench.synthetic import make_clip

    report = {"machine": machine_info(), "config": dataclasses.asdict(cfg), "results": [], "baselines": []}
    report["config"]["resolutions"] = [f"{w}x{h}" for w, h in cfg.resolutions]
    enhancers = {}
    for w, h in cfg.resolutions:
        res = f"{w}x{h}"
        clip = make_clip(workdir / f"clip_{res}.mp4", w, h, cfg.frames, audio=False)
        out = workdir / f"out_{res}.mp4"
        for name in cfg.backends:
            concrete = resolve_backend(name, cfg.model.device)
            if concrete not in enhancers:
                log(f"loading backend {concrete} ...")
                enhancers[concrete] = Enhancer.from_options(dataclasses.replace(cfg.model, backend=concrete))
            enh = enhancers[concrete]
            for _ in range(cfg.warmup):
                transcode_once(clip, out, enh, cfg)
            runs = [transcode_once(clip, out, enh, cfg) for _ in range(cfg.repeats)]
            row = {"resolution": res, "backend": concrete, "requested": name, **summarize(runs)}
            report["results"].append(row)
            log(f"{res} {concrete}: {row['fps']:.1f} fps, model+apply {row.get('model_apply_ms', float('nan')):.1f} ms")
        if cfg.baselines:
            base = {"resolution": res}
            base["floor_fps"] = _median([transcode_once(clip, out, None, cfg)["fps"] for _ in range(cfg.repeats)])
            ff = [ffmpeg_fps(clip, workdir / f"ffmpeg_{res}.mp4", cfg.frames, cfg) for _ in range(cfg.repeats)]
            base["ffmpeg_fps"] = None if ff[0] is None else _median(ff)
            nv = [naive_fps(clip, workdir / f"naive_{res}.mp4", cfg) for _ in range(max(1, min(cfg.repeats, 2)))]
            base["naive_fps"], base["naive_frames"] = _median([f for f, _ in nv]), nv[0][1]
            report["baselines"].append(base)
            log(f"{res} baselines: floor {base['floor_fps']:.1f} fps, ffmpeg "
                f"{'-' if base['ffmpeg_fps'] is None else format(base['ffmpeg_fps'], '.1f')} fps, "
                f"naive zero-dce {base['naive_fps']:.2f} fps")
    add_ratios(report)
    return report


def add_ratios(report: dict) -> None:
    """Each result's fps as a ratio of its resolution's baselines (``x_floor``, ``x_ffmpeg``, ``x_naive``)."""
    bases = {b["resolution"]: b for b in report["baselines"]}
    for row in report["results"]:
        b = bases.get(row["resolution"], {})
        for key, name in (("floor_fps", "x_floor"), ("ffmpeg_fps", "x_ffmpeg"), ("naive_fps", "x_naive")):
            row[name] = row["fps"] / b[key] if b.get(key) else None
