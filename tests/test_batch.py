"""`lowlight batch` on real folders: layout, manifest, resume, bad files, a killed worker, Ray."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from lowlight.batch.discover import Job, discover, remove_stale_temp_files, temp_files
from lowlight.batch.manifest import MANIFEST_NAME, Manifest, load, make_record, needs_work
from lowlight.batch.work import CRASH_ENV, HANG_ENV
from lowlight.cli import main
from lowlight.errors import InputError, OutputError

from realtime_clips import brightening_weights, dark_frames, make_clip, read_video

FAST = ["--estimate-size", "64", "--preset", "ultrafast"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return brightening_weights(tmp_path_factory.mktemp("w") / "bright.pt")


def write_image(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(dark_frames(1, seed=seed)[0], cv2.COLOR_RGB2BGR))
    return path


def make_tree(root: Path) -> dict[str, int]:
    """Two images and two clips in nested folders, plus files a batch must ignore; returns the
    expected frame count per relative path."""
    write_image(root / "a.png")
    write_image(root / "sub" / "b.jpg", seed=1)
    make_clip(root / "c.mp4", dark_frames(6))
    (root / "sub" / "deeper").mkdir(parents=True)
    make_clip(root / "sub" / "deeper" / "d.mkv", dark_frames(5, seed=2), audio=False)
    (root / "notes.txt").write_text("not an image\n")
    (root / ".hidden.png").write_bytes((root / "a.png").read_bytes())
    (root / ".c.123.part.mp4").write_bytes(b"half a video")
    (root / "e.part").write_bytes(b"download in progress")
    return {"a.png": 1, "sub/b.jpg": 1, "c.mp4": 6, "sub/deeper/d.mkv": 5}


def digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / MANIFEST_NAME).read_text().splitlines()]


def partial_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".part" in p.name]


def batch(*args) -> int:
    return main(["batch", *map(str, args)])


# --- discovery and resume decisions (no workers) -------------------------------------------------

def test_discover_layout_pattern_and_exclusions(tmp_path):
    src = tmp_path / "in"
    expected = make_tree(src)
    out = src / "enhanced"  # inside IN_DIR: must not be scanned
    write_image(out / "old.png")
    jobs = discover(src, out)
    assert [j.rel for j in jobs] == sorted(expected)
    assert all(j.dst == out / j.rel and j.src == src / j.rel for j in jobs)
    assert {j.rel: j.kind for j in jobs}["c.mp4"] == "video"
    assert [j.rel for j in discover(src, out, "*.MP4")] == ["c.mp4"]  # case-insensitive
    assert [j.rel for j in discover(src, out, "sub/*")] == ["sub/b.jpg", "sub/deeper/d.mkv"]
    assert discover(src, out, "*.webm") == []


def test_discover_refuses_bad_folders(tmp_path):
    src = tmp_path / "in"
    write_image(src / "in" / "x.png")
    with pytest.raises(InputError, match="no such folder"):
        discover(tmp_path / "missing", tmp_path / "out")
    with pytest.raises(InputError, match="is a file"):
        discover(src / "in" / "x.png", tmp_path / "out")
    with pytest.raises(OutputError, match="is the input folder"):
        discover(src, src)
    # IN_DIR inside OUT_DIR: the output of in/x.png would be in/in/x.png's input folder
    with pytest.raises(OutputError, match="inside the input folder"):
        discover(src, tmp_path)


def test_needs_work_and_temp_files(tmp_path):
    src = write_image(tmp_path / "in" / "a.png")
    dst = tmp_path / "out" / "a.png"
    job = Job(src, dst, "a.png", "image")
    assert needs_work(job, None)  # no output
    write_image(dst)
    os.utime(src, (1_000_000, 1_000_000))
    assert not needs_work(job, None)  # complete and newer
    assert needs_work(job, None, force=True)
    assert needs_work(job, make_record(job, "failed", error="x"))  # the last attempt failed
    assert not needs_work(job, make_record(job, "done"))
    os.utime(src, (dst.stat().st_mtime + 10,) * 2)
    assert needs_work(job, None)  # input changed since
    mine = [dst.parent / ".a.png.k2j_x9ab.part", dst.parent / ".a.4242.part.png"]
    others = [dst.parent / ".a.png.b.png.xyz.part", dst.parent / ".a.b.4242.part.png", dst.parent / "a.png.part"]
    for p in mine + others:
        p.write_bytes(b"")
    assert temp_files(dst) == sorted(mine)
    assert remove_stale_temp_files([job]) == 2
    assert temp_files(dst) == [] and all(p.exists() for p in others)


def test_manifest_lock_and_torn_last_line(tmp_path):
    job = Job(tmp_path / "a.png", tmp_path / "o" / "a.png", "a.png", "image")
    path = tmp_path / MANIFEST_NAME
    with Manifest(path) as m:
        with pytest.raises(OutputError, match="another 'lowlight batch'"):
            Manifest(path)
        m.append(make_record(job, "failed", error="boom"))
        m.append(make_record(job, "done", frames=1))
        m.append(make_record(job, "skipped"))
    with open(path, "a") as fh:
        fh.write('{"file": "a.png", "status": "fai')  # a write cut short by a crash
    assert load(path)["a.png"]["status"] == "done"
    Manifest(path).close()  # the lock went with the first one


# --- end to end ----------------------------------------------------------------------------------

def test_local_two_workers_layout_manifest_resume_and_force(tmp_path, weights, capsys):
    src = tmp_path / "in"
    expected = make_tree(src)
    out = src / "enhanced"
    before = digests(src)
    assert batch(src, "-o", out, "--workers", 2, "--weights", weights, *FAST) == 0
    err = capsys.readouterr().err
    assert "lowlight batch: 4 done, 0 skipped, 0 failed in" in err and "13 frames)" in err
    assert {k: v for k, v in digests(src).items() if not k.startswith("enhanced/")} == before  # inputs untouched
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert made == sorted([*expected, MANIFEST_NAME])
    assert not partial_files(out)
    first = records(out)
    assert sorted(r["file"] for r in first) == sorted(expected)
    for r in first:
        assert r["status"] == "done" and r["error"] is None and r["frames"] == expected[r["file"]]
        assert r["seconds"] > 0 and Path(r["output"]) == (out / r["file"]).absolute()
        assert Path(r["input"]) == (src / r["file"]).absolute()
    pids = {r["pid"] for r in first}
    # the work ran in worker processes, at most two; which of them took which file is the scheduler's
    # choice (under load one worker can finish all four before the other has loaded its model)
    assert 1 <= len(pids) <= 2 and os.getpid() not in pids
    a_in = cv2.imread(str(src / "a.png"))
    assert cv2.imread(str(out / "a.png")).mean() > a_in.mean() + 25
    clip = read_video(out / "c.mp4")
    assert len(clip["frames"]) == 6 and len(clip["audio"]) > 0
    assert np.mean(clip["frames"]) > np.mean(read_video(src / "c.mp4")["frames"]) + 25

    # re-run: everything complete -> skipped, nothing rewritten
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.name != MANIFEST_NAME}
    assert batch(src, "-o", out, "--weights", weights, *FAST) == 0
    assert "0 done, 4 skipped, 0 failed" in capsys.readouterr().err
    assert [r["status"] for r in records(out)[4:]] == ["skipped"] * 4
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps

    # --force with --pattern: only the matching file is redone
    assert batch(src, "-o", out, "--force", "--pattern", "*.png", "--workers", 1, "--weights", weights, *FAST) == 0
    assert "1 done, 0 skipped, 0 failed" in capsys.readouterr().err
    assert [(r["file"], r["status"]) for r in records(out)[8:]] == [("a.png", "done")]

    # an input newer than its output is redone, the rest skipped
    later = (out / "c.mp4").stat().st_mtime + 5
    os.utime(src / "c.mp4", (later, later))
    assert batch(src, "-o", out, "--weights", weights, *FAST) == 0
    assert "1 done, 3 skipped, 0 failed" in capsys.readouterr().err
    assert {r["file"] for r in records(out)[9:] if r["status"] == "done"} == {"c.mp4"}


def test_bad_files_and_a_killed_worker_do_not_stop_the_batch(tmp_path, weights, capsys, monkeypatch):
    src, out = tmp_path / "in", tmp_path / "out"
    write_image(src / "good.png")
    (src / "clips").mkdir()
    make_clip(src / "clips" / "good.mp4", dark_frames(6))
    (src / "bad.png").write_bytes(b"\x89PNG garbage" * 50)
    whole = make_clip(tmp_path / "whole.mp4", dark_frames(20), audio=False).read_bytes()  # index at the end
    (src / "clips" / "cut.mp4").write_bytes(whole[: len(whole) // 3])
    write_image(src / "crash.png", seed=3)
    monkeypatch.setenv(CRASH_ENV, "crash.png")  # the worker that takes it kills itself (SIGKILL)
    before = digests(src)
    assert batch(src, "-o", out, "--workers", 2, "--weights", weights, *FAST) == 1
    err = capsys.readouterr().err
    assert "2 done, 0 skipped, 3 failed" in err
    status = {r["file"]: r for r in records(out)}
    assert {f: r["status"] for f, r in status.items()} == {
        "good.png": "done", "clips/good.mp4": "done", "bad.png": "failed", "clips/cut.mp4": "failed",
        "crash.png": "failed"}
    assert "not an image" in status["bad.png"]["error"] and "bad.png" in status["bad.png"]["error"]
    assert "cut.mp4" in status["clips/cut.mp4"]["error"]
    assert "worker process died" in status["crash.png"]["error"] and "SIGKILL" in status["crash.png"]["error"]
    for line in err.strip().splitlines():
        assert "Traceback" not in line
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert made == ["clips/good.mp4", "good.png", MANIFEST_NAME]  # no half or temporary files
    assert digests(src) == before

    # the hook removed: a re-run retries exactly the failed files
    monkeypatch.delenv(CRASH_ENV)
    assert batch(src, "-o", out, "--workers", 2, "--weights", weights, *FAST) == 1
    assert "1 done, 2 skipped, 2 failed" in capsys.readouterr().err
    assert (out / "crash.png").exists()


def test_a_hung_worker_is_stopped_and_the_rest_goes_on(tmp_path, weights, capsys, monkeypatch):
    """The stall watchdog: a worker stuck on one file is killed after --stall-timeout, that file is
    failed (not retried), the others are done, and no partial output is left."""
    src, out = tmp_path / "in", tmp_path / "out"
    for i in range(3):
        write_image(src / f"ok{i}.png", seed=i)
    write_image(src / "hang.png", seed=9)
    monkeypatch.setenv(HANG_ENV, "hang.png")
    assert batch(src, "-o", out, "--workers", 2, "--stall-timeout", 2, "--weights", weights, *FAST) == 1
    assert "3 done, 0 skipped, 1 failed" in capsys.readouterr().err
    status = {r["file"]: r for r in records(out)}
    assert status["hang.png"]["status"] == "failed" and "no progress for 2 s" in status["hang.png"]["error"]
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST_NAME, "ok0.png", "ok1.png", "ok2.png"])
    with pytest.raises(SystemExit):
        batch(src, "-o", out, "--stall-timeout", -1)


def test_missing_input_folder_one_line_error(tmp_path, capsys):
    assert batch(tmp_path / "nope", "-o", tmp_path / "out") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nope: no such folder" in err
    (tmp_path / "empty").mkdir()
    assert batch(tmp_path / "empty", "-o", tmp_path / "out") == 1
    assert "no images or videos" in capsys.readouterr().err


def test_ray_missing_names_the_extra(tmp_path, weights, capsys, monkeypatch):
    write_image(tmp_path / "in" / "a.png")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    assert batch(tmp_path / "in", "-o", tmp_path / "out", "--weights", weights, "--ray") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install 'lowlight[ray]'" in err


def test_ray_batch_with_a_killed_and_a_hung_worker(tmp_path, weights, capsys, monkeypatch):
    ray = pytest.importorskip("ray")
    src, out = tmp_path / "in", tmp_path / "out"
    write_image(src / "a.png")
    write_image(src / "sub" / "b.png", seed=1)
    make_clip(src / "sub" / "c.mp4", dark_frames(6))  # sub/ made by write_image
    write_image(src / "crash.png", seed=2)
    write_image(src / "hang.png", seed=3)
    monkeypatch.setenv(CRASH_ENV, "crash.png")
    monkeypatch.setenv(HANG_ENV, "hang.png")  # its task's watchdog ends the worker after 2 s
    owned = not ray.is_initialized()
    if owned:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        assert batch(src, "-o", out, "--ray", "--stall-timeout", 2, "--weights", weights, *FAST) == 1
    finally:
        if owned:
            ray.shutdown()
    err = capsys.readouterr().err
    assert "3 done, 0 skipped, 2 failed" in err and "8 frames" in err
    status = {r["file"]: r for r in records(out)}
    assert {f: r["status"] for f, r in status.items()} == {
        "a.png": "done", "sub/b.png": "done", "sub/c.mp4": "done", "crash.png": "failed", "hang.png": "failed"}
    assert "Ray worker died" in status["crash.png"]["error"]
    assert "no progress for 2 s" in status["hang.png"]["error"]
    assert len(read_video(out / "sub" / "c.mp4")["frames"]) == 6
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert made == ["a.png", MANIFEST_NAME, "sub/b.png", "sub/c.mp4"]
