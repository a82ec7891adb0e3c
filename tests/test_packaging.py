"""The wheel holds exactly the lowlight namespace and the bundled weights; README and CI agree."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile

from conftest import REPO


def test_wheel_contains_only_the_lowlight_namespace(tmp_path):
    # built from a copy of the sources: setuptools reuses a build/ folder, whose stale files (a module that
    # was moved away) would otherwise still land in the wheel and hide a packaging mistake
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info",
                                                             "__pycache__", "*.so", ".whl", ".gl", "runs"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path)], check=True, cwd=tmp_path)
    wheel = next(tmp_path.glob("lowlight-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"lowlight", next(t for t in tops if t.endswith(".dist-info"))}
    for required in ("lowlight/__init__.py", "lowlight/kernels/__init__.py", "lowlight/realtime/__init__.py",
                     "lowlight/train/__init__.py", "lowlight/train/losses.py", "lowlight/batch/__init__.py",
                     "lowlight/backends/onnx_runtime.py",
                     "lowlight/cli/batch.py", "lowlight/realtime/media/video_sink.py", "lowlight/weights/zero_dce.pt",
                     "lowlight/weights/zero_dce_pp.pt", "lowlight/weights/zero_dce.onnx",
                     "lowlight/weights/zero_dce_pp.onnx", "lowlight/weights/MODEL_CARD.md",
                     "lowlight/samples/dark_coffee.png", "lowlight/samples/dark_coffee.mp4"):
        assert required in names, required
    assert not any(n.startswith(("tests/", "benchmarks/", "train/", "kernels/", "batch/")) for n in names)
    assert not any(n.endswith((".pth", ".npy")) for n in names)  # no official checkpoints or vectors
    # the graphs the torch-free CPU path runs are small (0.37 MB together); the wheel stays a few MB
    assert wheel.stat().st_size < 8_000_000, wheel.stat().st_size


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2
    test_command = blocks[1].strip()
    assert "pytest" in test_command
    assert test_command in (REPO / ".ci" / "run").read_text()
