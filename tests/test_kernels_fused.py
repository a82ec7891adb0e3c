"""Fused curve kernels (``lowlight.kernels.enhance_frame``) against the float64 reference.

Every case compares uint8 outputs with
:func:`lowlight.kernels.enhance_frame_reference` computed in float64: at most
one level off anywhere and at least 99.9% of the values exact (float32
rounding can flip values that sit on a .5 boundary).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zlib

import numpy as np
import pytest
import torch

from lowlight.cpu import denormals_are_flushed
from lowlight.kernels import (KernelUnavailable, apply_curves, enhance_frame, enhance_frame_fallback,
                              enhance_frame_reference, fused_cpu)

SIZES = [(1, 1), (1, 7), (7, 1), (33, 47), (480, 641)]
MAP_KINDS = ["1x1", "2x2", "same", "larger", "pp", "24-full", "24-low"]
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def map_shape(kind: str, height: int, width: int) -> tuple[int, int, int]:
    """Map shape ``C x h x w`` for a frame of ``height x width`` and a kind of map."""
    return {
        "1x1": (3, 1, 1),
        "2x2": (3, 2, 2),
        "same": (3, height, width),
        "larger": (3, 2 * height + 1, width + 3),  # larger than the frame, different aspect
        "pp": (3, 144, 256),  # Zero-DCE++ style low-res map
        "24-full": (24, height, width),
        "24-low": (24, (height + 3) // 4, (width + 3) // 4),
    }[kind]


def random_case(height, width, kind, seed):
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    maps = (rng.random(map_shape(kind, height, width), dtype=np.float32) * 2 - 1).astype(np.float32)
    return frame, maps


def reference64(frame, maps, iterations=8, strength=1.0) -> np.ndarray:
    f = frame.cpu() if isinstance(frame, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(frame))
    m = maps.cpu() if isinstance(maps, torch.Tensor) else torch.from_numpy(np.asarray(maps))
    return enhance_frame_reference(f, m, iterations, strength).numpy()


def assert_close_uint8(ours, ref) -> None:
    ours = ours.cpu().numpy() if isinstance(ours, torch.Tensor) else ours
    assert ours.dtype == np.uint8 and ours.shape == ref.shape
    diff = np.abs(ours.astype(np.int16) - ref.astype(np.int16))
    assert diff.max() <= 1, f"max error {diff.max()} levels"
    exact = (diff == 0).mean()
    assert exact >= 0.999, f"only {exact:.5f} of the values exact"


def test_compiled_cpu_kernel_is_built_and_loads():
    assert fused_cpu.available(), fused_cpu.unavailable_reason()


@pytest.mark.parametrize("strength", [1.0, 1.5])
@pytest.mark.parametrize("kind", MAP_KINDS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_matches_float64_reference(size, kind, strength):
    frame, maps = random_case(*size, kind, seed=zlib.crc32(repr((size, kind)).encode()))
    assert_close_uint8(enhance_frame(frame, maps, 8, strength), reference64(frame, maps, 8, strength))


@pytest.mark.parametrize("kind", MAP_KINDS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_strength_zero_is_identity(size, kind):
    frame, maps = random_case(*size, kind, seed=7)
    np.testing.assert_array_equal(enhance_frame(frame, maps, 8, 0.0), frame)


@pytest.mark.parametrize("view", ["every-2nd-row-3rd-col", "transposed", "flipped", "bgr-reversed-channels"])
@pytest.mark.parametrize("kind", ["pp", "same", "24-low"])
def test_non_contiguous_frames(view, kind):
    base, _ = random_case(97, 131, "1x1", seed=11)
    frame = {
        "every-2nd-row-3rd-col": base[::2, ::3],
        "transposed": base.transpose(1, 0, 2),
        "flipped": base[::-1, ::-1],
        "bgr-reversed-channels": base[:, :, ::-1],
    }[view]
    assert not frame.flags.c_contiguous
    _, maps = random_case(*frame.shape[:2], kind, seed=12)
    ref = reference64(frame, maps, 8, 1.5)
    assert_close_uint8(enhance_frame(frame, maps, 8, 1.5), ref)
    tensor = torch.from_numpy(np.ascontiguousarray(base)).transpose(0, 1)  # strided torch view
    _, tmaps = random_case(131, 97, kind, seed=13)
    assert_close_uint8(enhance_frame(tensor, torch.from_numpy(tmaps), 8), reference64(tensor, tmaps))


def test_torch_cpu_frames_and_batched_maps_return_tensors():
    frame, maps = random_case(40, 50, "2x2", seed=3)
    out = enhance_frame(torch.from_numpy(frame), torch.from_numpy(maps)[None], 8, 1.0)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.uint8 and out.shape == (40, 50, 3)
    np.testing.assert_array_equal(out.numpy(), enhance_frame(frame, maps))


@pytest.mark.parametrize("strength", [1.0, 1.5])
def test_fixed_points_stay_fixed(strength):
    rng = np.random.default_rng(5)
    frame = np.where(rng.random((61, 83, 3)) < 0.5, 0, 255).astype(np.uint8)
    for maps in (rng.random((3, 9, 11), dtype=np.float32) * 2 - 1, np.full((3, 1, 1), -1, np.float32),
                 np.full((3, 1, 1), 1, np.float32), rng.random((24, 61, 83), dtype=np.float32) * 2 - 1):
        np.testing.assert_array_equal(enhance_frame(frame, maps, 8, strength), frame)


def test_positive_alpha_brightens_negative_darkens():
    frame = np.full((5, 6, 3), 60, np.uint8)
    assert enhance_frame(frame, np.full((3, 1, 1), 0.5, np.float32)).min() > 60
    assert enhance_frame(frame, np.full((3, 1, 1), -0.5, np.float32)).max() < 60


def test_out_is_written_and_returned():
    frame, maps = random_case(33, 47, "pp", seed=9)
    expected = enhance_frame(frame, maps)
    out = np.zeros_like(frame)
    assert enhance_frame(frame, maps, out=out) is out
    np.testing.assert_array_equal(out, expected)
    strided = np.zeros((47, 33, 3), np.uint8).transpose(1, 0, 2)  # non-contiguous destination
    assert enhance_frame(frame, maps, out=strided) is strided
    np.testing.assert_array_equal(strided, expected)
    t_out = torch.zeros(33, 47, 3, dtype=torch.uint8)
    assert enhance_frame(torch.from_numpy(frame), maps, out=t_out) is t_out
    np.testing.assert_array_equal(t_out.numpy(), expected)
    inplace = frame.copy()
    assert enhance_frame(inplace, maps, out=inplace) is inplace
    np.testing.assert_array_equal(inplace, expected)


def test_other_iteration_counts():
    frame, _ = random_case(20, 30, "1x1", seed=1)
    rng = np.random.default_rng(2)
    for iterations in (0, 1, 3):
        for channels in {3, 3 * iterations} - {0}:
            maps = rng.random((channels, 4, 5), dtype=np.float32) * 2 - 1
            assert_close_uint8(enhance_frame(frame, maps, iterations), reference64(frame, maps, iterations))


@pytest.mark.skipif(not fused_cpu.available(), reason="compiled CPU kernel not built")
def test_threads_do_not_change_the_result():
    frame, maps = random_case(301, 257, "pp", seed=4)
    outs = [fused_cpu.enhance_frame_cpu(frame, maps, 8, 1.0, np.empty_like(frame), num_threads=n)
            for n in (1, 2, 3)]
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])


def test_caller_floating_point_state_is_restored():
    frame = np.full((300, 400, 3), 1, np.uint8)  # alpha = -1 squares x: subnormals inside
    assert not denormals_are_flushed()
    out = enhance_frame(frame, np.full((3, 2, 2), -1, np.float32))
    assert not denormals_are_flushed()
    assert out.max() == 0


@pytest.mark.parametrize("kind", ["1x1", "pp", "24-full", "24-low"])
def test_fallback_matches_float64_reference(kind):
    frame, maps = random_case(57, 91, kind, seed=21)
    assert_close_uint8(enhance_frame_fallback(frame, maps, 8, 1.5), reference64(frame, maps, 8, 1.5))
    assert_close_uint8(enhance_frame_fallback(frame[::-1, ::2], maps, 8), reference64(frame[::-1, ::2], maps, 8))
    out = torch.zeros(57, 91, 3, dtype=torch.uint8)
    assert enhance_frame_fallback(torch.from_numpy(frame), torch.from_numpy(maps), 8, 1.0, out) is out
    assert_close_uint8(out, reference64(frame, maps))


def test_fused_matches_plain_torch_reference_path():
    """Same numbers as the pre-issue path (to_tensor -> apply_curves -> round) within one level."""
    frame, maps = random_case(480, 641, "pp", seed=8)
    x = torch.from_numpy(frame).permute(2, 0, 1)[None].float().div(255)
    y = apply_curves(x, torch.from_numpy(maps)[None])[0].permute(1, 2, 0)
    plain = y.mul(255).add(0.5).clamp(0, 255).floor().to(torch.uint8).numpy()
    assert_close_uint8(enhance_frame(frame, maps), plain)


def test_disabled_library_falls_back_with_one_warning(tmp_path):
    """With the compiled kernel switched off, results are still right and one warning says why."""
    script = (
        "import warnings, numpy as np\n"
        "from lowlight.kernels import enhance_frame, enhance_frame_reference\n"
        "import torch\n"
        "f = np.random.default_rng(0).integers(0, 256, (31, 45, 3), dtype=np.uint8)\n"
        "m = np.random.default_rng(1).random((3, 5, 7), dtype=np.float32) * 2 - 1\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    a = enhance_frame(f, m); b = enhance_frame(f[::2], m)\n"
        "ref = enhance_frame_reference(torch.from_numpy(f), torch.from_numpy(m)).numpy()\n"
        "print(len(w), int(np.abs(a.astype(int) - ref).max()), str(w[0].message))\n"
    )
    env = dict(os.environ, LOWLIGHT_DISABLE_FUSED_CPU="1")
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    count, err, message = res.stdout.strip().split(" ", 2)
    assert count == "1" and int(err) <= 1
    assert "LOWLIGHT_DISABLE_FUSED_CPU" in message and "plain-torch" in message


@pytest.mark.parametrize("bad", [
    dict(frame=np.zeros((4, 4), np.uint8)),
    dict(frame=np.zeros((4, 4, 4), np.uint8)),
    dict(frame=np.zeros((4, 4, 3), np.float32)),
    dict(frame=np.zeros((0, 4, 3), np.uint8)),
    dict(maps=np.zeros((6, 2, 2), np.float32)),
    dict(maps=np.zeros((2, 3, 2, 2), np.float32)),
    dict(maps=np.zeros((3, 0, 2), np.float32)),
    dict(strength=float("nan")),
    dict(out=np.zeros((4, 5, 3), np.uint8)),
    dict(out=torch.zeros(4, 4, 3, dtype=torch.uint8)),
])
def test_rejects_bad_arguments(bad):
    args = dict(frame=np.zeros((4, 4, 3), np.uint8), maps=np.zeros((3, 2, 2), np.float32), strength=1.0, out=None)
    args.update(bad)
    with pytest.raises((ValueError, TypeError)):
        enhance_frame(args["frame"], args["maps"], 8, args["strength"], out=args["out"])


def test_triton_kernel_rejects_cpu_tensors():
    from lowlight.kernels.fused_triton import enhance_frame_triton

    with pytest.raises(KernelUnavailable):
        enhance_frame_triton(torch.zeros(2, 2, 3, dtype=torch.uint8), torch.zeros(3, 1, 1), 8)


@CUDA
@pytest.mark.parametrize("strength", [0.0, 1.0, 1.5])
@pytest.mark.parametrize("kind", MAP_KINDS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_cuda_matches_float64_reference(size, kind, strength):
    frame, maps = random_case(*size, kind, seed=31)
    f, m = torch.from_numpy(frame).cuda(), torch.from_numpy(maps).cuda()
    out = enhance_frame(f, m, 8, strength)
    assert out.is_cuda and out.dtype == torch.uint8
    assert_close_uint8(out, reference64(frame, maps, 8, strength))
    if strength == 0.0:
        assert torch.equal(out, f)


@CUDA
def test_cuda_non_contiguous_frames_and_out():
    base, _ = random_case(97, 131, "1x1", seed=11)
    _, maps = random_case(131, 97, "pp", seed=12)
    f = torch.from_numpy(base).cuda().transpose(0, 1)
    out = torch.empty(97, 131, 3, dtype=torch.uint8, device="cuda").transpose(0, 1)
    assert enhance_frame(f, torch.from_numpy(maps), 8, 1.0, out=out) is out
    assert_close_uint8(out, reference64(f, maps))
    sliced = torch.from_numpy(base).cuda()[::2, ::3]
    _, m2 = random_case(*sliced.shape[:2], "24-low", seed=14)
    assert_close_uint8(enhance_frame(sliced, torch.from_numpy(m2).cuda()), reference64(sliced, m2))


@CUDA
@pytest.mark.parametrize("kernel", ["fused", "reference"])
def test_host_frame_follows_cuda_maps(kernel):
    """A NumPy frame with CUDA maps runs on the GPU (uploaded once) and comes back as NumPy, into ``out``."""
    frame, maps = random_case(97, 131, "pp", seed=41)
    m = torch.from_numpy(maps).cuda()
    got = enhance_frame(frame, m, 8, 1.0, kernel=kernel)
    assert isinstance(got, np.ndarray) and got.shape == frame.shape
    assert_close_uint8(got, reference64(frame, maps))
    out = np.empty_like(frame)
    assert enhance_frame(frame, m, 8, 1.0, out=out, kernel=kernel) is out
    np.testing.assert_array_equal(out, got)


@pytest.mark.parametrize("kind", MAP_KINDS)
def test_reference_kernel_choice_on_the_cpu(kind):
    """``kernel="reference"`` is the plain-torch path, within one level of the fused kernel; bad names fail."""
    frame, maps = random_case(37, 53, kind, seed=43)
    ref = enhance_frame(frame, torch.from_numpy(maps), 8, 1.0, kernel="reference")
    assert isinstance(ref, np.ndarray)
    assert_close_uint8(ref, reference64(frame, maps))
    assert np.abs(ref.astype(int) - enhance_frame(frame, maps)).max() <= 1
    with pytest.raises(ValueError, match="kernel"):
        enhance_frame(frame, maps, kernel="fastest")


def _random_checkpoint(path, name: str):
    """A randomly initialised model saved in the lowlight format, head amplified so curves are strong."""
    from lowlight.models import MODELS, init_weights
    from lowlight.weights import save_checkpoint

    model = init_weights(MODELS[name](), torch.Generator().manual_seed(0))
    head = getattr(model.e_conv7, "point_conv", model.e_conv7)
    with torch.no_grad():
        head.weight.mul_(40.0)
        head.bias.mul_(40.0)
    save_checkpoint(path, model)
    return path


def _sample_image() -> np.ndarray:
    from PIL import Image

    from conftest import REPO

    return np.asarray(Image.open(REPO / "lowlight" / "samples" / "dark_coffee.png").convert("RGB"))


def _enhancer_reference_path(enh, frame: np.ndarray) -> np.ndarray:
    """The pre-fused Enhancer path: to_tensor -> maps -> apply_curves -> to_array."""
    from lowlight.enhancer import to_array, to_tensor

    x = to_tensor(frame)
    maps = enh.curve_maps(x)
    return to_array(apply_curves(x, maps, enh.model.iterations, enh.strength), np.uint8)


@pytest.mark.parametrize("strength", [1.0, 0.6])
@pytest.mark.parametrize("name", ["zero-dce++", "zero-dce"])
def test_enhancer_fused_path_matches_reference_path(tmp_path, name, strength):
    from lowlight import Enhancer

    frame = _sample_image()
    # exposure_fade=False: the strength as given (the reference path applies it as given); neutral_grey=False:
    # the two paths' estimation inputs differ slightly (area average vs the model's bilinear resize), and with
    # random weights, whose channel maps differ by up to 2, tying them on near-grey pixels magnifies that
    enh = Enhancer(weights=_random_checkpoint(tmp_path / "w.pt", name), strength=strength, exposure_fade=False,
                   neutral_grey=False)
    fused = enh.enhance(frame)
    assert np.abs(fused.astype(int) - frame).mean() > 5  # the curves really do something
    assert_close_uint8(fused, _enhancer_reference_path(enh, frame))
    odd = np.ascontiguousarray(frame[:-1:3, 1::3])  # odd sizes through the model too
    assert_close_uint8(enh.enhance(odd), _enhancer_reference_path(enh, odd))


@pytest.mark.parametrize("weights", ["zero_dce_pp.pth", "zero_dce.pth"])
def test_enhancer_fused_path_with_official_weights(reference, weights):
    from PIL import Image

    from lowlight import Enhancer

    frame = np.asarray(Image.open(reference / "images" / "real" / "11_0_.png").convert("RGB"))[::2, ::2]
    frame = np.ascontiguousarray(frame)
    # denoise="off": this compares curve-application paths; the real photo is noisy, so the default
    # --denoise auto would (by design) denoise it (tests/test_denoise.py covers that path)
    enh = Enhancer(weights=reference / "weights" / weights, denoise="off")
    assert_close_uint8(enh.enhance(frame), _enhancer_reference_path(enh, frame))


def test_out_of_range_maps_are_clamped():
    frame, maps = random_case(40, 50, "2x2", seed=17)
    wild = maps * 3  # outside the documented [-1, 1]
    np.testing.assert_array_equal(enhance_frame(frame, wild), enhance_frame(frame, np.clip(wild, -1, 1)))


_INTERPRETER_SCRIPT = r"""
import numpy as np, torch
from lowlight.kernels import enhance_frame_reference
from lowlight.kernels import fused_triton
kernel = fused_triton._kernel()
g = torch.Generator().manual_seed(0)
worst, exact = 0, 1.0
for (H, W, C, h, w, s, view) in [(1, 1, 3, 1, 1, 1.0, None), (7, 1, 24, 3, 3, 1.0, None),
                                 (33, 47, 3, 70, 50, 1.5, None), (40, 61, 24, 40, 61, 1.0, None),
                                 (60, 90, 24, 7, 8, 1.5, "T"), (60, 90, 3, 7, 8, 0.0, "slice")]:
    f = torch.randint(0, 256, (H, W, 3), dtype=torch.uint8, generator=g)
    f = f.transpose(0, 1) if view == "T" else (f[::2, ::3] if view == "slice" else f)
    m = torch.rand(C, h, w, generator=g) * 2 - 1
    out = torch.empty(f.shape[0], f.shape[1], 3, dtype=torch.uint8)
    grid = (f.shape[0], (f.shape[1] * 3 + fused_triton.BLOCK - 1) // fused_triton.BLOCK)
    kernel[grid](f, out, m, f.shape[1], h, w, *f.stride(), *out.stride(), max(f.shape[0] - 1, 1),
                 max(f.shape[1] - 1, 1), s, ITERS=8, PER_ITER=C != 3, SCALED=s != 1.0, BLOCK=fused_triton.BLOCK)
    d = (out.int() - enhance_frame_reference(f, m, 8, s).int()).abs()
    worst, exact = max(worst, int(d.max())), min(exact, float((d == 0).float().mean()))
print(worst, exact)
"""


def test_triton_kernel_in_the_interpreter():
    """Where triton is installed, run the CUDA kernel's code in Triton's CPU interpreter."""
    import importlib.util

    if importlib.util.find_spec("triton") is None:
        pytest.skip("triton not installed")
    env = dict(os.environ, TRITON_INTERPRET="1")
    res = subprocess.run([sys.executable, "-c", _INTERPRETER_SCRIPT], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    worst, exact = res.stdout.split()
    assert int(worst) <= 1 and float(exact) >= 0.999
