"""A corpus of damaged inputs, built here from real files, through image, video, live and batch.

Every run must end within a bound with exit 0 or 1, at most one line of error and no traceback, leave
no temporary or half-written output looking complete, and leave no process behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from realtime_clips import brightening_weights, dark_frames, make_clip, processes_with

TIMEOUT_S = 60


def corrupt(data: bytes, kind: str) -> bytes:
    n = len(data)
    if kind == "empty":
        return b""
    if kind.startswith("cut"):
        return data[: int(n * int(kind[3:]) / 100)]
    if kind == "header-flipped":
        return bytes(b ^ 0xFF for b in data[:64]) + data[64:]
    if kind == "middle-flipped":
        mid = n // 2
        return data[:mid] + bytes(b ^ 0x5A for b in data[mid:mid + 256]) + data[mid + 256:]
    if kind == "mid-packet":  # a stream that ends inside a packet: an odd offset in the last third
        return data[: n - n // 3 + 7]
    raise ValueError(kind)


KINDS = ["empty", "cut10", "cut50", "cut90", "header-flipped", "middle-flipped", "mid-packet"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("corpus")
    clip = make_clip(root / "good.mp4", dark_frames(40, 96, 64), audio=True, faststart=True)
    img = root / "good.png"
    cv2.imwrite(str(img), cv2.cvtColor(dark_frames(1, 96, 64)[0], cv2.COLOR_RGB2BGR))
    files = {"video": [], "image": []}
    for kind in KINDS:
        for src, group in ((clip, "video"), (img, "image")):
            bad = root / f"{src.stem}_{kind}{src.suffix}"
            bad.write_bytes(corrupt(src.read_bytes(), kind))
            files[group].append(bad)
    (root / "png_named.mp4").write_bytes(img.read_bytes())  # wrong extensions
    (root / "mp4_named.png").write_bytes(clip.read_bytes())
    files["video"].append(root / "png_named.mp4")
    files["image"].append(root / "mp4_named.png")
    return {"root": root, **files, "weights": brightening_weights(root / "w.pt")}


def run(args: list, env_token: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOWLIGHT_TEST_TOKEN": env_token}
    return subprocess.run([sys.executable, "-m", "lowlight", *map(str, args)], capture_output=True, text=True,
                          timeout=TIMEOUT_S, env=env)


def check(res: subprocess.CompletedProcess, out_dir: Path, token: str) -> None:
    assert res.returncode in (0, 1), (res.returncode, res.stderr[-800:])
    assert "Traceback" not in res.stderr, res.stderr[-1500:]
    assert not [line for line in res.stderr.splitlines() if line.startswith("[")], res.stderr  # raw FFmpeg log
    errors = [line for line in res.stderr.splitlines() if "error:" in line]
    assert len(errors) <= 1, res.stderr
    if res.returncode == 1:
        assert errors, res.stderr
    if out_dir.exists():
        assert not [p for p in out_dir.rglob("*") if ".part" in p.name], list(out_dir.rglob("*"))
    assert not processes_with(token)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to look for leftover processes")
def test_damaged_images(corpus, tmp_path):
    for i, bad in enumerate(corpus["image"]):
        out = tmp_path / f"o{i}"
        res = run(["image", bad, "-o", out, "--weights", corpus["weights"]], f"img{i}")
        check(res, out, f"img{i}")
        if res.returncode == 1:  # nothing half-written; the output folder of a failed run is not left
            assert not out.exists() or not any(out.iterdir()), bad


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to look for leftover processes")
def test_damaged_videos_through_video_and_live(corpus, tmp_path):
    for i, bad in enumerate(corpus["video"]):
        out = tmp_path / f"v{i}" / "o.mp4"
        res = run(["video", bad, "-o", out, "--weights", corpus["weights"], "--preset", "ultrafast"], f"vid{i}")
        check(res, out.parent, f"vid{i}")
        if out.exists():  # what decoded is a complete, playable file
            import av

            with av.open(str(out)) as c:
                assert sum(1 for _ in c.decode(video=0)) > 0
        rec = tmp_path / f"l{i}" / "rec.mp4"
        res = run(["live", "--source", bad, "--no-display", "--record", rec, "--max-frames", "30",
                   "--weights", corpus["weights"]], f"live{i}")
        check(res, rec.parent, f"live{i}")


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to look for leftover processes")
def test_damaged_folder_through_batch(corpus, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for bad in corpus["video"] + corpus["image"]:
        (folder / bad.name).write_bytes(bad.read_bytes())
    out = tmp_path / "out"
    res = run(["batch", folder, "-o", out, "--weights", corpus["weights"], "--workers", "2",
               "--preset", "ultrafast"], "batch")
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr[-1500:]
    assert not [p for p in out.rglob("*") if ".part" in p.name]
    assert not processes_with("batch")
    records = [line for line in (out / "lowlight-batch.jsonl").read_text().splitlines() if line.strip()]
    assert len(records) == len(list(folder.iterdir()))
