"""The shared pieces the restructure put in one place: atomic outputs, the codec table, the option
objects, the frame check, and what ``import lowlight`` loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lowlight.atomic import atomic_output, atomic_write_bytes, is_temp_name, temp_path
from lowlight.errors import FrameError, LowlightError, first_line
from lowlight.frames import check_frame
from lowlight.realtime.media.codecs import CODECS, codec_for, encoder_options, parse_bitrate
from lowlight.realtime.options import ProcessingOptions


def test_atomic_output_renames_when_complete_and_deletes_on_error(tmp_path):
    target = tmp_path / "a.json"
    atomic_write_bytes(target, b"one")
    assert target.read_bytes() == b"one" and sorted(os.listdir(tmp_path)) == ["a.json"]
    with pytest.raises(RuntimeError, match="half"):
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"half written")
            assert tmp.name == f".a.{os.getpid()}.part.json" and tmp.parent == tmp_path
            raise RuntimeError("half")
    assert target.read_bytes() == b"one" and sorted(os.listdir(tmp_path)) == ["a.json"]


def test_temp_names_are_recognised_for_their_target_only(tmp_path):
    dst = tmp_path / "clip.mp4"
    assert is_temp_name(dst, temp_path(dst).name)
    assert is_temp_name(dst, ".clip.mp4.k2j_x9ab.part")  # left by lowlight <= 0.1.0
    assert not is_temp_name(dst, ".clip.b.123.part.mp4") and not is_temp_name(dst, ".other.123.part.mp4")


def test_codec_table_picks_by_container_and_gives_defaults():
    assert codec_for(Path("x.mp4")) == "h264" and codec_for(Path("x.WEBM")) == "vp9"
    assert codec_for(Path("x.webm"), "av1") == "av1"
    assert codec_for(Path("x.webm"), "h264") == "h264"  # an explicit choice stands (the sink reports it)
    assert codec_for(Path("x.webm"), "h264", fallback=True) == "vp9"  # batch: one --codec for mixed folders
    assert encoder_options("libx264", None, None, None) == {"preset": CODECS["h264"].preset, "crf": "18"}
    assert encoder_options("libvpx-vp9", 33, "6", None)["crf"] == "33"
    assert "crf" not in encoder_options("libx264", None, None, 2_000_000)
    assert parse_bitrate("4M") == 4_000_000 and parse_bitrate("800k") == 800_000
    with pytest.raises(ValueError, match="4M or 800k"):
        parse_bitrate("fast")


def test_processing_options_check_their_values_and_override_by_name():
    base = ProcessingOptions(smooth=0.8, estimate_every=3)
    assert ProcessingOptions.of(base, kernel="reference") == ProcessingOptions(0.8, 3, kernel="reference")
    assert ProcessingOptions.of(None) == ProcessingOptions()
    for bad in ({"smooth": 1.0}, {"estimate_every": 0}, {"kernel": "magic"}):
        with pytest.raises(ValueError):
            ProcessingOptions(**bad)
    with pytest.raises(TypeError, match="smoothness"):
        ProcessingOptions.of(smoothness=0.5)


def test_one_frame_check_with_one_error_family():
    frame = np.zeros((2, 3, 3), np.uint8)
    assert check_frame(frame) is frame
    for bad, what in ((np.zeros((2, 3), np.uint8), "H x W x 3"), (np.zeros((0, 3, 3), np.uint8), "empty"),
                      (np.zeros((2, 3, 3), np.float32), "uint8")):
        with pytest.raises(FrameError, match=what) as exc:
            check_frame(bad)
        assert isinstance(exc.value, LowlightError) and isinstance(exc.value, ValueError)
    assert check_frame(np.zeros((1, 1, 3), np.uint16), dtypes=(np.uint8, np.uint16)).dtype == np.uint16


def test_first_line():
    assert first_line(OSError(2, "No such file or directory", "/x")) == "No such file or directory"
    assert first_line(ValueError("one\ntwo")) == "one" and first_line(KeyError()) == "KeyError"


def test_import_lowlight_loads_neither_opencv_nor_pyav():
    code = "import sys, lowlight; print(sorted(m for m in ('cv2', 'av') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_command_line_help_loads_neither_torch_nor_opencv():
    """``lowlight --help`` (and building every command's parser) needs none of the heavy libraries."""
    code = ("import sys, contextlib, io\nfrom lowlight.cli import build_parser\np = build_parser()\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    p.format_help()\n"
            "print(sorted(m for m in ('torch', 'cv2', 'av', 'PIL', 'onnxruntime') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    res = subprocess.run([sys.executable, "-m", "lowlight", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "video" in res.stdout and "train" in res.stdout


def test_library_modules_take_no_argparse_namespace_and_batch_imports_no_cli():
    root = Path(__file__).resolve().parents[1]
    library = [p for folder in ("lowlight", "realtime", "batch", "train", "kernels") for p in (root / folder).rglob("*.py")
               if "cli" not in p.relative_to(root).parts]
    assert len(library) > 40
    for path in library:
        text = path.read_text()
        assert "argparse.Namespace" not in text and "import argparse" not in text, path
    for path in (root / "batch").rglob("*.py"):
        assert "lowlight.cli" not in path.read_text().replace(":mod:`lowlight.cli.batch`", ""), path
