"""The CPU path without torch (issue 13): shipped ONNX graphs, cached checkpoint graphs, NumPy maps, and
which modules a real ``lowlight video`` / ``lowlight image`` run imports."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from lowlight import Enhancer, load_model
from lowlight.backends.onnx_runtime import GRAPH_FORMAT, OnnxRuntimeBackend
from lowlight.estimation import Estimator, bilinear_resize, to_nchw, to_tensor
from lowlight.realtime.smoothing import TemporalSmoother
from lowlight.weights import BUNDLED, BUNDLED_GRAPHS, file_sha256, save_checkpoint
from realtime_clips import brightening_weights, read_video

REPO = Path(__file__).resolve().parents[1]
SAMPLE_VIDEO = REPO / "lowlight" / "samples" / "dark_coffee.mp4"
SAMPLE_IMAGE = REPO / "lowlight" / "samples" / "dark_coffee.png"
HAS_ORT = importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None
pytestmark = pytest.mark.skipif(not HAS_ORT, reason="onnxruntime/onnx not installed")

# Runs the command line in this process, then prints (to stderr, as the last line) the heavy modules loaded.
RUNNER = """
import json, sys
from lowlight.cli import main
rc = main(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'triton'))
print(json.dumps({'rc': rc, 'heavy': heavy[:5]}), file=sys.stderr)
"""


def run_cli(args, cache: Path) -> dict:
    env = dict(os.environ, LOWLIGHT_CACHE_DIR=str(cache))
    res = subprocess.run([sys.executable, "-c", RUNNER, *map(str, args)], capture_output=True, text=True, env=env,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["zero-dce++", "zero-dce"])
def test_shipped_graph_matches_the_weights_and_carries_its_metadata(name):
    """The graph in the package is the bundled .pt's network: same maps to 1e-5 on random input
    (odd sizes, 1x1, batch 2), made from this very .pt file (its sha256 is in the metadata)."""
    backend = OnnxRuntimeBackend.from_weights(name)
    assert backend.how == "bundled" and backend.cache_file is None
    model = load_model(name)
    assert backend.spec.name == name and backend.spec.iterations == model.iterations == 8
    assert backend.channels == (3 if name == "zero-dce++" else 24)
    assert backend.weights == f"sha256:{file_sha256(BUNDLED[name])}", \
        "stale graph: run python -m lowlight.backends.export_bundled"
    rng = np.random.default_rng(7)
    for shape in ((1, 3, 1, 1), (1, 3, 37, 53), (2, 3, 64, 48), (1, 3, 144, 256)):
        x = rng.random(shape, dtype=np.float32)
        got = backend(x)
        assert isinstance(got, np.ndarray) and got.dtype == np.float32
        with torch.inference_mode():
            want = model.net(torch.from_numpy(x)).numpy()
        assert got.shape == want.shape
        assert float(np.abs(got - want).max()) <= 1e-5


def test_shipped_graphs_are_current():
    from lowlight.backends.export_bundled import stale_graphs

    assert stale_graphs() == []
    assert set(BUNDLED_GRAPHS) == set(BUNDLED) and all(p.stat().st_size < 1_000_000 for p in BUNDLED_GRAPHS.values())


def test_checkpoint_graph_is_exported_once_and_a_hit_needs_no_torch(tmp_path, monkeypatch):
    """A user checkpoint: the first run exports (with torch) and caches by the file's bytes; the next
    run, in a fresh process, loads the cached graph without importing torch and gives the same maps."""
    ckpt = brightening_weights(tmp_path / "bright.pt")
    cache = tmp_path / "cache"
    code = ("import json, sys, numpy as np\nfrom lowlight import Enhancer\n"
            f"e = Enhancer(weights={str(ckpt)!r})\n"
            "x = np.random.default_rng(1).integers(0, 80, (40, 60, 3), dtype=np.uint8)\n"
            "m = e.estimator.maps(x)\n"
            "print(json.dumps({'how': e.backend.how, 'torch': 'torch' in sys.modules, 'type': type(m).__name__,"
            " 'maps': m.ravel()[:50].tolist(), 'name': e.name}))\n")
    env = dict(os.environ, LOWLIGHT_CACHE_DIR=str(cache))
    runs = [json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                      check=True).stdout) for _ in range(2)]
    assert runs[0]["how"] == "built" and runs[0]["torch"]  # exported: torch was needed once
    assert runs[1]["how"] == "cached" and not runs[1]["torch"] and runs[1]["type"] == "ndarray"
    assert runs[0]["maps"] == runs[1]["maps"]
    ref = Enhancer(weights=ckpt, backend="torch")
    want = ref.estimator.maps(np.random.default_rng(1).integers(0, 80, (40, 60, 3), dtype=np.uint8))
    assert np.abs(np.array(runs[1]["maps"]) - want.numpy().ravel()[:50]).max() <= 1e-5
    # the same path with other bytes is another entry (the key is the content, not the name)
    model = load_model(ckpt)
    with torch.no_grad():
        model.e_conv7.point_conv.bias.add_(0.1)
    save_checkpoint(ckpt, model)
    monkeypatch.setenv("LOWLIGHT_CACHE_DIR", str(cache))
    again = OnnxRuntimeBackend.from_weights(ckpt)
    assert again.how == "built" and len(list(cache.glob("onnx-*.onnx"))) == 2


def test_a_stale_shipped_graph_is_not_run(tmp_path, monkeypatch):
    """A shipped graph that was not made from its .pt (weights retrained, graphs not regenerated) is
    not used: the .pt is exported and cached instead, with a warning naming the fix."""
    import lowlight.weights as weights

    monkeypatch.setenv("LOWLIGHT_CACHE_DIR", str(tmp_path / "cache"))
    pt = brightening_weights(tmp_path / "zero_dce_pp.pt")
    monkeypatch.setitem(weights.BUNDLED, "zero-dce++", pt)  # the shipped graph now belongs to other weights
    with pytest.warns(RuntimeWarning, match="stale"):
        backend = OnnxRuntimeBackend.from_weights("zero-dce++")
    assert backend.how == "built" and backend.weights == f"sha256:{file_sha256(pt)}"
    maps = backend(np.random.default_rng(0).random((1, 3, 8, 8), dtype=np.float32))
    assert np.allclose(maps, 0.6, atol=1e-5)  # brightening_weights' constant maps, not the shipped net's


def test_cached_graph_without_metadata_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("LOWLIGHT_CACHE_DIR", str(tmp_path / "cache"))
    ckpt = brightening_weights(tmp_path / "bright.pt")
    first = OnnxRuntimeBackend.from_weights(ckpt)
    from lowlight.backends.onnx_runtime import export_onnx

    first.cache_file.write_bytes(export_onnx(load_model(ckpt)))  # a graph of the right net, but no metadata
    with pytest.warns(RuntimeWarning, match="rebuilding"):
        second = OnnxRuntimeBackend.from_weights(ckpt)
    assert second.how == "built" and second.spec.name == "zero-dce++" and GRAPH_FORMAT == 1


@pytest.mark.parametrize("hw,size", [((36, 48), (3, 4)), ((37, 53), (3, 4)), ((1, 1), (1, 1)), ((25, 31), (2, 3)),
                                     ((10, 10), (10, 10))])
def test_bilinear_resize_is_torch_interpolate(hw, size):
    x = np.random.default_rng(2).random((1, 3, *hw), dtype=np.float32)
    want = F.interpolate(torch.from_numpy(x), size=size, mode="bilinear", align_corners=False).numpy()
    got = bilinear_resize(x[:, :, :, ::-1].copy()[:, :, :, ::-1], size)  # any strides in
    assert got.shape == want.shape and float(np.abs(got - want).max()) <= 1e-5


@pytest.mark.parametrize("policy", [{"scale_factor": 12}, {"scale_factor": 5}, {"longest_side": 64},
                                    {"longest_side": None}])
@pytest.mark.parametrize("name", ["zero-dce++", "zero-dce"])
def test_numpy_estimator_matches_the_torch_estimator(name, policy):
    """The torch-free Estimator (ONNX graph, NumPy input copy) makes the torch path's maps to 1e-5,
    for every estimation policy (the official scale_factor resize included)."""
    frame = np.random.default_rng(4).integers(0, 90, (96, 132, 3), dtype=np.uint8)
    fast = Enhancer(name, backend="onnxruntime", **policy)
    ref = Enhancer(name, backend="torch", **policy)
    assert fast.estimator.numpy and not ref.estimator.numpy
    x, xt = fast.estimator.input_array(frame), ref.estimator.input_tensor(frame).numpy()
    assert x.shape == xt.shape and float(np.abs(x - xt).max()) <= 1e-5  # float64 vs float32 source positions
    got, want = fast.estimator.maps(frame), ref.estimator.maps(frame).numpy()
    assert isinstance(got, np.ndarray) and got.shape == want.shape and got.flags.c_contiguous
    assert float(np.abs(got - want).max()) <= 1e-5
    assert np.abs(fast.enhance(frame).astype(int) - ref.enhance(frame)).max() <= 1


def test_to_nchw_is_to_tensor():
    for dtype, top in ((np.uint8, 255), (np.uint16, 65535)):
        f = np.random.default_rng(5).integers(0, top + 1, (7, 9, 3)).astype(dtype)[:, ::-1]
        assert np.array_equal(to_nchw(f), to_tensor(f).numpy())


def test_smoother_gives_the_same_maps_for_arrays_and_tensors():
    rng = np.random.default_rng(6)
    frames = [rng.random((3, 4, 5), dtype=np.float32) for _ in range(5)]
    small = np.full((8, 8, 3), 40, np.uint8)
    a, b = TemporalSmoother(0.7), TemporalSmoother(0.7)
    for i, m in enumerate(frames):
        a.observe(small), b.observe(small)
        got, want = a.update(m, 1 + i % 2), b.update(torch.from_numpy(m), 1 + i % 2)
        assert isinstance(got, np.ndarray) and isinstance(want, torch.Tensor)
        assert np.allclose(got, want.numpy(), atol=1e-6)
    assert not np.shares_memory(a.maps, frames[-1])


def test_estimator_takes_a_model_spec():
    spec = OnnxRuntimeBackend.from_weights("zero-dce++")
    est = Estimator(spec.spec.configured(longest_side=128), spec, "cpu")
    assert est.maps(np.zeros((240, 320, 3), np.uint8)).shape == (3, 96, 128)


def test_lowlight_video_on_the_cpu_imports_no_torch_and_matches_the_torch_backend(tmp_path):
    """A real ``lowlight video`` run (the bundled sample: H.264 + AAC) loads no torch; its frames are
    those of ``--backend torch`` (lossless 4:4:4 encode: practically identical, see below)."""
    outs = {}
    for backend in ("auto", "torch"):
        out = tmp_path / f"{backend}.mp4"
        res = run_cli(["video", SAMPLE_VIDEO, "-o", out, "--device", "cpu", "--backend", backend, "--crf", "0",
                       "--pix-fmt", "yuv444p"], tmp_path / "cache")
        assert res["rc"] == 0
        assert (res["heavy"] == []) == (backend == "auto"), res
        outs[backend] = read_video(out)
    a, b = outs["auto"]["frames"], outs["torch"]["frames"]
    assert len(a) == len(b) == 90 and outs["auto"]["audio"] == outs["torch"]["audio"]
    d = np.stack([np.abs(x.astype(int) - y) for x, y in zip(a, b)])
    # measured: 4e-6 of the values differ at all; an enhanced RGB pixel 1 level apart comes back from the
    # RGB -> YUV -> RGB round trip of the encoder's input and the decoder's output up to 3 levels apart
    assert d.max() <= 3 and (d > 0).mean() < 1e-4, (d.max(), (d > 0).mean())


def test_lowlight_image_on_the_cpu_imports_no_torch_and_matches_the_torch_backend(tmp_path):
    for backend in ("auto", "torch"):
        res = run_cli(["image", SAMPLE_IMAGE, "-o", tmp_path / backend, "--device", "cpu", "--backend", backend],
                      tmp_path / "cache")
        assert res["rc"] == 0 and (res["heavy"] == []) == (backend == "auto"), res
    a = np.asarray(Image.open(tmp_path / "auto" / SAMPLE_IMAGE.name))
    b = np.asarray(Image.open(tmp_path / "torch" / SAMPLE_IMAGE.name))
    assert a.shape == b.shape and np.abs(a.astype(int) - b).max() <= 1


def test_flush_denormals_needs_no_torch():
    code = ("import sys\nfrom lowlight.cpu import denormals_are_flushed as f, flush_denormals\n"
            "s = [f()]\nwith flush_denormals():\n    s.append(f())\ns.append(f())\n"
            "print(s, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[False, True, False] False"


@pytest.mark.parametrize("command", ["live", "batch", "bench"])
def test_live_batch_and_bench_run_with_torch_unimportable(tmp_path, command):
    """``lowlight live``, ``lowlight batch`` (its worker processes too) and ``lowlight bench
    --no-baselines`` on the CPU, with a ``torch`` package first on the path that raises when imported:
    they run to the end, so none imports torch (the bench's naive baseline is eager torch by design)."""
    shim = tmp_path / "shim" / "torch"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('torch was imported on the CPU path')\n")
    if command == "live":
        args = ["live", "--source", SAMPLE_VIDEO, "--no-display", "--max-frames", "15", "--device", "cpu",
                "--record", tmp_path / "rec.mp4"]
    elif command == "bench":
        args = ["bench", "--resolution", "160x120", "--frames", "6", "--repeats", "1", "--no-baselines", "--device",
                "cpu", "--json", tmp_path / "bench.json"]
    else:
        (tmp_path / "in").mkdir()
        (tmp_path / "in" / SAMPLE_IMAGE.name).write_bytes(SAMPLE_IMAGE.read_bytes())
        args = ["batch", tmp_path / "in", "-o", tmp_path / "out", "--workers", "1", "--device", "cpu"]
    env = dict(os.environ, LOWLIGHT_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join([str(shim.parent), os.environ.get("PYTHONPATH", "")]))
    res = subprocess.run([sys.executable, "-m", "lowlight", *map(str, args)], capture_output=True, text=True, env=env,
                         timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    made = {"live": tmp_path / "rec.mp4", "bench": tmp_path / "bench.json"}.get(command,
                                                                              tmp_path / "out" / SAMPLE_IMAGE.name)
    assert made.is_file() and made.stat().st_size > 200
