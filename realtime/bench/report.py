"""``lowlight bench`` output: the text table, the JSON file and the PNG chart."""

from __future__ import annotations

import json
import math
from pathlib import Path

from lowlight.realtime.stats import STAGES


def _f(value, fmt: str = ".1f") -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def format_table(report: dict) -> str:
    """Markdown table: one row per (resolution, backend), then one per resolution's baselines."""
    head = ["resolution", "backend", "fps", *[f"{s} ms" for s in STAGES], "model+apply ms",
            "latency p50/p95/p99 ms", "x floor", "x ffmpeg", "x naive"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in report["results"]:
        lat = r["latency_ms"]
        cells = [r["resolution"], r["backend"], _f(r["fps"]), *[_f(r["stage_ms"].get(s)) for s in STAGES],
                 _f(r.get("model_apply_ms")), f"{_f(lat['p50'], '.0f')}/{_f(lat['p95'], '.0f')}/{_f(lat['p99'], '.0f')}",
                 _f(r.get("x_floor"), ".2f"), _f(r.get("x_ffmpeg"), ".2f"), _f(r.get("x_naive"), ".0f")]
        lines.append("| " + " | ".join(cells) + " |")
    if report["baselines"]:
        lines += ["", "| resolution | floor (decode->encode) fps | ffmpeg eq=gamma fps | naive Zero-DCE fps |",
                  "|---|---|---|---|"]
        for b in report["baselines"]:
            lines.append(f"| {b['resolution']} | {_f(b['floor_fps'])} | {_f(b['ffmpeg_fps'])} | "
                         f"{_f(b['naive_fps'], '.2f')} ({b['naive_frames']} frames) |")
    m = report["machine"]
    lines += ["", f"machine: {m['cpu']}, {m['cores']} cores, gpu {m['gpu'] or 'none'}, torch {m['torch']}"]
    return "\n".join(lines)


def write_json(report: dict, path: Path) -> None:
    """Write the report as JSON (atomically)."""
    from lowlight.atomic import atomic_write_bytes

    atomic_write_bytes(Path(path), json.dumps(report, indent=2, default=str).encode() + b"\n")


def write_plot(report: dict, path: Path) -> None:
    """PNG chart: fps per resolution for each backend and baseline (left), stage ms per frame (right)."""
    from lowlight.atomic import atomic_write_bytes
    from lowlight.optional import require

    require("matplotlib", "bench", "--plot").use("Agg")
    plt = require("matplotlib.pyplot", "bench", "--plot")

    results, bases = report["results"], {b["resolution"]: b for b in report["baselines"]}
    resolutions = list(dict.fromkeys(r["resolution"] for r in results))
    backends = list(dict.fromkeys(r["backend"] for r in results))
    series = [(b, {r["resolution"]: r["fps"] for r in results if r["backend"] == b}) for b in backends]
    for key, label in (("floor_fps", "floor: decode->encode"), ("ffmpeg_fps", "ffmpeg eq=gamma"),
                       ("naive_fps", "naive Zero-DCE")):
        if any(bases.get(res, {}).get(key) for res in resolutions):
            series.append((label, {res: bases[res].get(key) for res in resolutions if res in bases}))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    width = 0.8 / max(1, len(series))
    for i, (label, values) in enumerate(series):
        xs = [j + i * width for j in range(len(resolutions))]
        ax1.bar(xs, [values.get(res) or 0 for res in resolutions], width, label=label)
    ax1.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(resolutions))], resolutions)
    ax1.set_ylabel("frames per second (file pipeline)")
    ax1.set_yscale("log")
    ax1.set_title("Throughput")
    ax1.legend(fontsize=8)
    labels = [f"{r['resolution']}\n{r['backend']}" for r in results]
    bottom = [0.0] * len(results)
    for stage in STAGES:
        vals = [r["stage_ms"].get(stage) or 0.0 for r in results]
        ax2.bar(range(len(results)), vals, bottom=bottom, label=stage)
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax2.set_xticks(range(len(results)), labels, fontsize=7)
    ax2.set_ylabel("ms per frame (each stage's own thread time)")
    ax2.set_title("Per-stage time")
    ax2.legend(fontsize=8)
    m = report["machine"]
    fig.suptitle(f"lowlight bench: {m['cpu']}, {m['cores']} cores, gpu {m['gpu'] or 'none'}", fontsize=9)
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(Path(path), buf.getvalue())
