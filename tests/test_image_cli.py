"""`lowlight image` end to end on real files: formats, depths, alpha, EXIF, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from lowlight import Enhancer
from lowlight.cli import main


def dark_rgb(h=48, w=64, seed=0, level=30):
    rng = np.random.default_rng(seed)
    base = np.linspace(5, level, w)[None, :, None] * np.ones((h, 1, 3))
    return np.clip(base + rng.normal(0, 2, (h, w, 3)), 0, 255).astype(np.uint8)


def write_rgb(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def run_cli(*args) -> int:
    return main(["image", *map(str, args)])


def test_png_enhanced_and_matches_api(tmp_path):
    src = write_rgb(tmp_path / "a.png", dark_rgb())
    assert run_cli(src, "-o", tmp_path / "out") == 0
    out = cv2.cvtColor(cv2.imread(str(tmp_path / "out" / "a.png")), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(out, Enhancer().enhance(dark_rgb()))
    assert out.mean() > dark_rgb().mean() + 20


def test_output_gets_the_mode_a_new_file_gets(tmp_path):
    """Outputs are written through a temporary file; they must not keep its private 0600 mode."""
    src = write_rgb(tmp_path / "a.png", dark_rgb(8, 8))
    old = os.umask(0o027)
    try:
        assert run_cli(src, "-o", tmp_path / "out") == 0
    finally:
        os.umask(old)
    assert (tmp_path / "out" / "a.png").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("ext", ["jpg", "bmp", "tif", "webp"])
def test_formats_follow_extension(tmp_path, ext):
    src = write_rgb(tmp_path / f"a.{ext}", dark_rgb())
    assert run_cli(src, "-o", tmp_path / "out") == 0
    with Image.open(tmp_path / "out" / f"a.{ext}") as im:
        assert im.size == (64, 48)
        fmt = {"jpg": "JPEG", "bmp": "BMP", "tif": "TIFF", "webp": "WEBP"}[ext]
        assert im.format == fmt
        assert np.asarray(im.convert("RGB")).mean() > 40


def test_format_option_converts(tmp_path):
    src = write_rgb(tmp_path / "a.bmp", dark_rgb())
    assert run_cli(src, "-o", tmp_path / "out", "--format", "png") == 0
    assert (tmp_path / "out" / "a.png").exists()


def test_sixteen_bit_kept(tmp_path):
    rgb16 = (dark_rgb().astype(np.uint16) * 257 + np.arange(64, dtype=np.uint16)[None, :, None])
    cv2.imwrite(str(tmp_path / "deep.png"), cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR))
    assert run_cli(tmp_path / "deep.png", "-o", tmp_path / "out") == 0
    out = cv2.imread(str(tmp_path / "out" / "deep.png"), cv2.IMREAD_UNCHANGED)
    assert out.dtype == np.uint16 and out.shape == (48, 64, 3)
    assert out.mean() > rgb16.mean() * 1.5
    assert len(np.unique(out)) > 256  # real 16-bit content, not 8-bit scaled


def test_grayscale_stays_grayscale(tmp_path):
    gray = dark_rgb()[:, :, 0]
    cv2.imwrite(str(tmp_path / "g.png"), gray)
    assert run_cli(tmp_path / "g.png", "-o", tmp_path / "out") == 0
    out = cv2.imread(str(tmp_path / "out" / "g.png"), cv2.IMREAD_UNCHANGED)
    assert out.shape == gray.shape and out.mean() > gray.mean() + 20


def test_alpha_kept_exactly(tmp_path):
    rgb = dark_rgb()
    alpha = np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(tmp_path / "t.png")
    assert run_cli(tmp_path / "t.png", "-o", tmp_path / "out") == 0
    out = np.asarray(Image.open(tmp_path / "out" / "t.png"))
    assert out.shape == (48, 64, 4)
    np.testing.assert_array_equal(out[:, :, 3], alpha)
    assert out[:, :, :3].mean() > rgb.mean() + 20


def test_gray_alpha_kept(tmp_path):
    la = np.dstack([dark_rgb()[:, :, 0], np.full((48, 64), 200, np.uint8)])
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    assert run_cli(tmp_path / "la.png", "-o", tmp_path / "out") == 0
    with Image.open(tmp_path / "out" / "la.png") as im:
        arr = np.asarray(im)
    assert (arr[..., -1] == 200).all()


@pytest.mark.parametrize("hw", [(1, 1), (1, 5), (3, 2)])
def test_tiny_images(tmp_path, hw):
    src = write_rgb(tmp_path / "tiny.png", np.full((*hw, 3), 20, np.uint8))
    assert run_cli(src, "-o", tmp_path / "out") == 0
    out = cv2.imread(str(tmp_path / "out" / "tiny.png"))
    assert out.shape == (*hw, 3) and out.mean() > 20


def test_exif_orientation_honoured(tmp_path):
    rgb = dark_rgb(40, 60)
    rgb[:10, :10] = 0  # dark corner, top-left of the stored pixels
    im = Image.fromarray(rgb)
    exif = im.getexif()
    exif[0x0112] = 6  # stored rotated: display = rotate 90 degrees clockwise
    im.save(tmp_path / "rot.jpg", exif=exif, quality=100)
    assert run_cli(tmp_path / "rot.jpg", "-o", tmp_path / "out") == 0
    out = np.asarray(Image.open(tmp_path / "out" / "rot.jpg"))
    assert out.shape == (60, 40, 3)
    assert out[:10, -10:].mean() < out[:10, :10].mean()  # the dark corner moved to the top-right


def test_folder_recursion_keeps_structure(tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    write_rgb(tmp_path / "in" / "a.png", dark_rgb())
    write_rgb(tmp_path / "in" / "sub" / "b.jpg", dark_rgb(seed=1))
    (tmp_path / "in" / "notes.txt").write_text("not an image")
    assert run_cli(tmp_path / "in", "-o", tmp_path / "out") == 0
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.*")) == \
        ["a.png", "sub/b.jpg"]


def _stderr_of(capsys):
    return capsys.readouterr().err


def test_truncated_png_reports_and_writes_nothing(tmp_path, capsys):
    src = write_rgb(tmp_path / "cut.png", dark_rgb())
    src.write_bytes(src.read_bytes()[:-200])
    assert run_cli(src, "-o", tmp_path / "out") == 1
    err = _stderr_of(capsys)
    assert "cut.png" in err and ("truncated" in err or "cannot decode" in err)
    assert list((tmp_path / "out").iterdir()) == []


def test_truncated_jpeg(tmp_path, capsys):
    src = tmp_path / "cut.jpg"
    Image.fromarray(dark_rgb(200, 200)).save(src, quality=90)
    src.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    assert run_cli(src, "-o", tmp_path / "out") == 1
    assert "cut.jpg" in _stderr_of(capsys)
    assert not (tmp_path / "out" / "cut.jpg").exists()


@pytest.mark.parametrize("content,match", [(b"", "empty"), (b"hello, not pixels" * 20, "not an image")])
def test_empty_and_non_image_files(tmp_path, capsys, content, match):
    src = tmp_path / "x.png"
    src.write_bytes(content)
    assert run_cli(src, "-o", tmp_path / "out") == 1
    assert match in _stderr_of(capsys)


def test_one_bad_file_does_not_stop_the_rest(tmp_path, capsys):
    write_rgb(tmp_path / "good.png", dark_rgb())
    (tmp_path / "bad.png").write_bytes(b"garbage" * 10)
    assert run_cli(tmp_path / "good.png", tmp_path / "bad.png", "-o", tmp_path / "out") == 1
    assert (tmp_path / "out" / "good.png").exists() and not (tmp_path / "out" / "bad.png").exists()
    assert "enhanced 1 of 2" in _stderr_of(capsys)


def test_empty_folder_and_missing_input(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert run_cli(tmp_path / "empty", "-o", tmp_path / "out") == 1
    assert "has no images" in _stderr_of(capsys)
    assert run_cli(tmp_path / "nope.png", "-o", tmp_path / "out") == 1
    assert "no such file" in _stderr_of(capsys)


def test_unwritable_output(tmp_path, capsys):
    src = write_rgb(tmp_path / "a.png", dark_rgb())
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert run_cli(src, "-o", blocker / "out") == 1
    assert "cannot create output folder" in _stderr_of(capsys)
    assert run_cli(src, "-o", "/proc/lowlight-out") == 1
    assert "/proc/lowlight-out" in _stderr_of(capsys)


def test_never_overwrites_input_or_existing_output(tmp_path, capsys):
    src = write_rgb(tmp_path / "a.png", dark_rgb())
    before = src.read_bytes()
    assert run_cli(src, "-o", tmp_path, "--overwrite") == 1
    assert "overwrite its input" in _stderr_of(capsys)
    assert src.read_bytes() == before
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.png").write_bytes(b"old")
    assert run_cli(src, "-o", tmp_path / "out") == 1
    assert "--overwrite" in _stderr_of(capsys)
    assert (tmp_path / "out" / "a.png").read_bytes() == b"old"
    assert run_cli(src, "-o", tmp_path / "out", "--overwrite") == 0
    assert (tmp_path / "out" / "a.png").read_bytes() != b"old"


def test_untrusted_weights_rejected_by_cli(tmp_path, capsys):
    src = write_rgb(tmp_path / "a.png", dark_rgb())
    (tmp_path / "w.pt").write_bytes(b"\x80\x04junk")
    assert run_cli(src, "-o", tmp_path / "out", "--weights", tmp_path / "w.pt") == 1
    err = _stderr_of(capsys)
    assert "w.pt" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "a.png").exists()


def test_strength_zero_is_identity_and_more_is_brighter(tmp_path):
    rgb = dark_rgb()
    src = write_rgb(tmp_path / "a.png", rgb)
    means = []
    for s in ("0", "0.5", "1", "1.5"):
        out_dir = tmp_path / f"s{s}"
        assert run_cli(src, "-o", out_dir, "--strength", s) == 0
        means.append(cv2.imread(str(out_dir / "a.png")).mean())
    assert means[0] == pytest.approx(rgb.mean())
    assert means == sorted(means) and means[1] < means[2] < means[3]


def test_official_weights_and_scale_factor(tmp_path, reference):
    src = write_rgb(tmp_path / "a.png", dark_rgb())
    assert run_cli(src, "-o", tmp_path / "out", "--weights", reference / "weights" / "zero_dce_pp.pth",
                   "--scale-factor", "12") == 0
    assert cv2.imread(str(tmp_path / "out" / "a.png")).mean() > dark_rgb().mean()


def test_console_script_help_lists_every_subcommand():
    exe = Path(sys.executable).with_name("lowlight")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "lowlight"]
    out = subprocess.run(cmd + ["--help"], capture_output=True, text=True, check=True).stdout
    assert "image" in out and "train" in out
    out = subprocess.run(cmd + ["image", "--help"], capture_output=True, text=True, check=True).stdout
    for opt in ("--model", "--weights", "--strength", "--estimate-size", "--overwrite", "--format"):
        assert opt in out
    bad = subprocess.run(cmd + ["image", "/nonexistent.png", "-o", os.devnull + "x"], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
