"""``lowlight bench``: a real (tiny) run through the pipeline, its table, JSON and PNG chart."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from lowlight.cli import main
from lowlight.realtime.stats import STAGES


def test_bench_writes_table_json_and_chart(tmp_path, capsys):
    out_json, out_png = tmp_path / "bench.json", tmp_path / "bench.png"
    code = main(["bench", "--resolution", "96x64,64x48", "--backend", "torch,auto", "--frames", "6", "--repeats", "2",
                 "--warmup", "0", "--naive-frames", "2", "--json", str(out_json), "--plot", str(out_png)])
    assert code == 0
    table = capsys.readouterr().out
    report = json.loads(out_json.read_text())
    rows = report["results"]
    assert [(r["resolution"], r["requested"]) for r in rows] == [
        ("96x64", "torch"), ("96x64", "auto"), ("64x48", "torch"), ("64x48", "auto")]
    for r in rows:
        assert r["frames"] == 6 and r["runs"] == 2 and r["fps"] > 0
        assert set(r["stage_ms"]) == set(STAGES) and all(v > 0 for v in r["stage_ms"].values())
        assert r["model_apply_ms"] == pytest.approx(r["stage_ms"]["estimate"] + r["stage_ms"]["apply"], rel=0.5)
        assert 0 < r["latency_ms"]["p50"] <= r["latency_ms"]["p95"] <= r["latency_ms"]["p99"]
        assert f"| {r['resolution']} | {r['backend']} |" in table
    bases = {b["resolution"]: b for b in report["baselines"]}
    assert set(bases) == {"96x64", "64x48"}
    for r in rows:
        b = bases[r["resolution"]]
        assert b["floor_fps"] > 0 and b["naive_fps"] > 0 and b["naive_frames"] == 2
        assert r["x_floor"] == pytest.approx(r["fps"] / b["floor_fps"])
        assert r["x_naive"] == pytest.approx(r["fps"] / b["naive_fps"])
        assert (b["ffmpeg_fps"] is None) == (shutil.which("ffmpeg") is None)
    assert report["machine"]["cores"] >= 1 and report["machine"]["torch"]
    chart = cv2.imread(str(out_png))
    assert chart is not None and chart.shape[0] > 300 and chart.shape[1] > 800 and chart.std() > 10


@pytest.mark.parametrize("args,message", [
    (["--resolution", "1920by1080"], "expected WIDTHxHEIGHT"),
    (["--resolution", "641x480"], "even"),
    (["--backend", "torch,fast"], "choose from"),
    (["--smooth", "1.5"], "must be in [0, 1)"),
])
def test_bench_rejects_bad_options(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", *args])
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_bench_outputs_are_checked_before_measuring(tmp_path, capsys):
    """An output that cannot be written, or exists without --overwrite, fails at once (not after the whole
    benchmark ran), and leaves no folder behind. (A missing folder is created, the rule of every command.)"""
    import time

    t0 = time.perf_counter()
    code = main(["bench", "--resolution", "64x48", "--frames", "2", "--plot", "/proc/lowlight-nope/c.png"])
    assert code == 1 and "cannot create output folder" in capsys.readouterr().err
    existing = tmp_path / "b.json"
    existing.write_text("{}")
    assert main(["bench", "--resolution", "64x48", "--frames", "2", "--json", str(existing)]) == 1
    assert "use --overwrite" in capsys.readouterr().err and existing.read_text() == "{}"
    assert time.perf_counter() - t0 < 20  # no benchmark ran
    assert not (tmp_path / "new").exists()


def test_bench_scene_is_the_bundled_photo():
    """The synthetic bench clip pans over the bundled sample photo (not the gradient fallback)."""
    from lowlight.realtime.bench.synthetic import SAMPLE_PHOTO, dark_scene

    assert SAMPLE_PHOTO.is_file()
    scene = dark_scene(64, 48)
    x = scene.mean(axis=2)
    gradient = dark_scene(64, 48, photo=SAMPLE_PHOTO.with_name("missing.png"))
    assert scene.shape == gradient.shape and not np.allclose(scene, gradient)
    assert x.std() > 1.0
