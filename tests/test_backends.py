"""Curve-estimation backends: same maps as eager torch and the official vectors, automatic choice, caches, errors."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest
import torch

from conftest import load_input_png
from lowlight import Enhancer, load_model
from lowlight.backends import BACKENDS, create_backend, resolve_backend
from lowlight.cli import main
from lowlight.errors import BackendError

HAS_ORT = importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None
HAS_TRT = torch.cuda.is_available() and importlib.util.find_spec("torch_tensorrt") is not None
needs_ort = pytest.mark.skipif(not HAS_ORT, reason="onnxruntime/onnx not installed")
needs_trt = pytest.mark.skipif(not HAS_TRT, reason="needs CUDA and torch-tensorrt")
FP32_TOL = 1e-5
FP16_TOL = 5e-3


def reference_maps(model, x: torch.Tensor) -> torch.Tensor:
    """The plain eager reference: model.net on a contiguous NCHW float32 input."""
    with torch.inference_mode():
        return model.net(x.contiguous())


@pytest.fixture(scope="module", params=["zero-dce++", "zero-dce"])
def model(request):
    return load_model(request.param)


def inputs():
    g = torch.Generator().manual_seed(3)
    return [torch.rand(1, 3, 1, 1, generator=g), torch.rand(1, 3, 37, 53, generator=g),
            torch.rand(2, 3, 144, 256, generator=g), torch.rand(1, 3, 256, 200, generator=g)[..., ::2, :]]


@pytest.mark.parametrize("name", ["torch", pytest.param("onnxruntime", marks=needs_ort)])
def test_cpu_backend_matches_eager_reference(model, name):
    backend = create_backend(name, model)
    for x in inputs():
        got = backend(x)
        assert got.dtype == torch.float32 and got.shape == (x.shape[0], backend.channels, *x.shape[-2:])
        assert float((got - reference_maps(model, x)).abs().max()) <= FP32_TOL
        assert float(got.abs().max()) <= 1.0


def test_compile_backend_matches_eager_reference():
    model = load_model("zero-dce++")
    backend = create_backend("compile", model)
    x = torch.rand(1, 3, 45, 80)
    assert float((backend(x) - reference_maps(model, x)).abs().max()) <= FP32_TOL


@needs_ort
@pytest.mark.parametrize("case", ["real_11_0", "odd_lime_06"])
def test_onnxruntime_reproduces_official_vectors(reference, case):
    """ONNX Runtime on the official Zero-DCE++ checkpoint gives the official low-res maps (r = -alpha)."""
    d = reference / "vectors" / case
    model = load_model(reference / "weights" / "zero_dce_pp.pth", scale_factor=1)
    maps = create_backend("onnxruntime", model)(load_input_png(d / "input.png"))
    np.testing.assert_allclose(-maps.numpy(), np.load(d / "zdcepp_s1_alpha_lowres.npy"), rtol=0, atol=FP32_TOL)


def test_auto_picks_the_fastest_available_cpu_backend():
    assert resolve_backend("auto", "cpu") == ("onnxruntime" if HAS_ORT else "torch")
    assert resolve_backend("torch", "cpu") == "torch"
    with pytest.raises(BackendError, match="unknown backend"):
        resolve_backend("openvino", "cpu")
    assert Enhancer().backend.name == resolve_backend("auto", "cpu")


@pytest.mark.parametrize("name", [n for n in BACKENDS if n not in ("tensorrt", "compile")])
def test_enhancer_output_is_the_same_with_every_cpu_backend(name):
    if name == "onnxruntime" and not HAS_ORT:
        pytest.skip("onnxruntime not installed")
    frame = (np.random.default_rng(1).random((90, 161, 3)) * 60).astype(np.uint8)
    ref = Enhancer(backend="torch").enhance(frame).astype(int)
    got = Enhancer(backend=name).enhance(frame).astype(int)
    assert np.abs(got - ref).max() <= 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_tensorrt_without_cuda_is_a_one_line_error(tmp_path, capsys):
    from conftest import REPO

    code = main(["image", str(REPO / "lowlight" / "samples" / "dark_coffee.png"), "-o", str(tmp_path / "out"),
                 "--backend", "tensorrt"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert "CUDA" in err and "torch-tensorrt" in err and "lowlight[tensorrt]" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@needs_ort
def test_onnx_graph_is_cached_and_a_corrupt_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("LOWLIGHT_CACHE_DIR", str(tmp_path / "cache"))
    model = load_model("zero-dce++")
    first = create_backend("onnxruntime", model)
    assert first.how == "built" and first.cache_file.exists()
    second = create_backend("onnxruntime", model)
    assert second.how == "cached" and second.cache_file == first.cache_file
    first.cache_file.write_bytes(b"not an onnx graph")
    with pytest.warns(RuntimeWarning, match="failed to load"):
        third = create_backend("onnxruntime", model)
    assert third.how == "built"
    x = torch.rand(1, 3, 30, 40)
    assert float((third(x) - reference_maps(model, x)).abs().max()) <= FP32_TOL
    other = load_model("zero-dce++")
    with torch.no_grad():
        other.e_conv7.point_conv.bias.add_(0.5)  # other weights: another cache entry
    assert create_backend("onnxruntime", other).cache_file != first.cache_file


@needs_ort
def test_unwritable_cache_still_runs(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("LOWLIGHT_CACHE_DIR", str(blocker / "cache"))  # a folder under a file: cannot exist
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        backend = create_backend("onnxruntime", load_model("zero-dce++"))
    assert backend.how.startswith("built (not cached")
    assert any("cannot cache" in str(w.message) for w in caught)
    assert backend(torch.rand(1, 3, 8, 8)).shape == (1, 3, 8, 8)


@needs_trt
def test_tensorrt_fp16_matches_and_engine_is_cached(tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("LOWLIGHT_CACHE_DIR", str(tmp_path / "cache"))
    model = load_model("zero-dce++").cuda()
    backend = create_backend("tensorrt", model, "cuda")
    assert backend.how == "built"
    for x in [torch.rand(1, 3, 144, 256), torch.rand(2, 3, 37, 53), torch.rand(1, 3, 256, 256)]:
        x = x.cuda()
        assert float((backend(x) - reference_maps(model, x)).abs().max()) <= FP16_TOL
    t0 = time.perf_counter()
    again = create_backend("tensorrt", model, "cuda")
    assert again.how == "cached" and time.perf_counter() - t0 < 1.0
    again.cache_file.write_bytes(b"garbage")
    with pytest.warns(RuntimeWarning, match="failed to load"):
        assert create_backend("tensorrt", model, "cuda").how == "built"


def test_a_built_artefact_that_fails_its_checks_is_not_cached(tmp_path):
    """load_or_build runs from_bytes (the checks) before writing: a bad build raises and leaves no cache file."""
    from lowlight.backends.cache import load_or_build

    def reject(data: bytes):
        raise ValueError(f"probe mismatch in {len(data)} bytes")

    path = tmp_path / "engine.bin"
    with pytest.raises(ValueError, match="probe mismatch"):
        load_or_build(path, build=lambda: b"engine", from_bytes=reject, what="test engine")
    assert not path.exists()
    assert load_or_build(path, build=lambda: b"engine", from_bytes=len, what="test engine") == (6, "built")
    assert load_or_build(path, build=lambda: b"other", from_bytes=len, what="test engine") == (6, "cached")
