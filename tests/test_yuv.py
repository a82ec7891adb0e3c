"""Planar YUV 4:2:0 (issue 13): the conversions against PyAV's own, the planar kernel against the slow
reference (convert, the float64 curve + denoise reference, convert back), and ``lowlight video``'s
planar file path against its RGB path on real files.

PyAV (swscale) agreement, measured here and asserted below:

* RGB -> 4:2:0 (``VideoFrame.from_ndarray(...).reformat("yuv420p")``): within 1 level on every plane
  (smooth pictures, whose chroma does not depend on the subsampling filter; swscale's vertical chroma
  filter is not the 2x2 box of ours, so sharp chroma edges differ) and on Y of any picture.
* 4:2:0 -> RGB (``frame.to_ndarray(format="rgb24")``): swscale's fixed-point same-size converter
  truncates, so its values lie 0..3 levels *below* the exact conversion (mean about 1.1 levels in
  limited range, 0.7 in full range); ours rounds exactly (the float64 reference). Asserted as that
  band and mean. At odd sizes swscale interpolates chroma (its same-size fast path needs even sizes)
  where ours replicates each sample over its 2x2 block, so odd sizes are compared with uniform chroma.
"""

from __future__ import annotations

import subprocess
import sys

import av
import numpy as np
import pytest
import torch

from lowlight.kernels import yuv
from lowlight.kernels import yuv_reference as ref
from lowlight.kernels.denoise import DEFAULT_PARAMS, NoiseModel, params_vector
from lowlight.kernels.denoise_reference import denoise_enhance_reference
from lowlight.realtime.media.video_source import sws_colorspace

MATRICES = [ref.BT601, ref.BT709, ref.BT2020]
RANGES = [False, True]
MATRIX_IDS = {ref.BT601: "bt601", ref.BT709: "bt709", ref.BT2020: "bt2020"}

needs_kernel = pytest.mark.skipif(not yuv.available(), reason=f"planar YUV kernel not built: "
                                                               f"{yuv.unavailable_reason()}")


def av_yuv_frame(y, u, v, full: bool):
    H, W = y.shape
    f = av.VideoFrame(W, H, "yuvj420p" if full else "yuv420p")
    for plane, a in zip(f.planes, (y, u, v)):
        np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:a.shape[0], :a.shape[1]] = a
    return f


def av_planes(f):
    return [np.frombuffer(p, np.uint8).reshape(-1, p.line_size)[:p.height, :p.width] for p in f.planes[:3]]


def av_to_rgb(y, u, v, cs, full):
    f = av_yuv_frame(y, u, v, full)
    return f.to_ndarray(format="rgb24", src_colorspace=sws_colorspace(cs), src_color_range=2 if full else 1)


def av_to_yuv(rgb, cs, full):
    f = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return av_planes(f.reformat(format="yuv420p", dst_colorspace=sws_colorspace(cs), dst_color_range=2 if full else 1))


def smooth_rgb(H, W, rng):
    """A smooth colourful picture: each channel bilinear between four random corner colours."""
    c = rng.uniform(30, 225, (2, 2, 3))
    ty = np.linspace(0, 1, H)[:, None, None]
    tx = np.linspace(0, 1, W)[None, :, None]
    top, bottom = c[0, 0] + tx * (c[0, 1] - c[0, 0]), c[1, 0] + tx * (c[1, 1] - c[1, 0])
    return np.clip(top + ty * (bottom - top), 0, 255).round().astype(np.uint8)


def in_gamut_yuv(H, W, cs, full, rng):
    """4:2:0 planes of a real picture (chroma from a smooth RGB one) with noisy luma."""
    y, u, v = ref.rgb_to_yuv420(smooth_rgb(H, W, rng), cs, full)
    lo, hi = (0, 255) if full else (16, 235)
    y = np.clip(y.astype(int) + rng.integers(-12, 13, y.shape), lo, hi).astype(np.uint8)
    return y, u, v


def random_yuv(H, W, rng):
    hc, wc = (H + 1) // 2, (W + 1) // 2
    return (rng.integers(0, 256, (H, W), dtype=np.uint8), rng.integers(0, 256, (hc, wc), dtype=np.uint8),
            rng.integers(0, 256, (hc, wc), dtype=np.uint8))


def strided(a: np.ndarray, pad: int = 7) -> np.ndarray:
    """``a`` as a view with padded rows (like a decoder's line size): non-contiguous."""
    big = np.zeros((a.shape[0], a.shape[1] + pad), np.uint8)
    big[:, :a.shape[1]] = a
    return big[:, :a.shape[1]]


# --- the conversions against PyAV ---------------------------------------------------------------------

@pytest.mark.parametrize("full", RANGES, ids=["limited", "full"])
@pytest.mark.parametrize("cs", MATRICES, ids=MATRIX_IDS.get)
@pytest.mark.parametrize("size", [(64, 96), (34, 48), (2, 2)], ids=lambda s: f"{s[1]}x{s[0]}")
def test_yuv420_to_rgb_matches_pyav(size, cs, full):
    rng = np.random.default_rng(size[0] + cs)
    y, u, v = in_gamut_yuv(*size, cs, full, rng)
    d = ref.yuv420_to_rgb(y, u, v, cs, full).astype(int) - av_to_rgb(y, u, v, cs, full)
    assert d.min() >= 0 and d.max() <= 3, (d.min(), d.max())  # swscale truncates: never above exact
    if y.size >= 256:  # a mean over enough pixels
        assert d.mean() <= (0.8 if full else 1.25)


@pytest.mark.parametrize("full", RANGES, ids=["limited", "full"])
@pytest.mark.parametrize("cs", MATRICES, ids=MATRIX_IDS.get)
@pytest.mark.parametrize("size", [(63, 95), (7, 9), (1, 1), (3, 2), (2, 5)], ids=lambda s: f"{s[1]}x{s[0]}")
def test_yuv420_to_rgb_matches_pyav_at_odd_sizes(size, cs, full):
    """Odd sizes, 1x1: uniform chroma (swscale interpolates it there), any luma. Odd width and height
    take swscale's generic (accurate) path here: within 1 level; the others its truncating fast path."""
    rng = np.random.default_rng(size[1])
    H, W = size
    y = rng.integers(16, 236, (H, W), dtype=np.uint8)
    hc, wc = (H + 1) // 2, (W + 1) // 2
    u = np.full((hc, wc), rng.integers(112, 145), np.uint8)
    v = np.full((hc, wc), rng.integers(112, 145), np.uint8)
    d = ref.yuv420_to_rgb(y, u, v, cs, full).astype(int) - av_to_rgb(y, u, v, cs, full)
    if W % 2 and H % 2:
        assert np.abs(d).max() <= 1, (d.min(), d.max())
    else:
        assert d.min() >= -1 and d.max() <= 3, (d.min(), d.max())


@pytest.mark.parametrize("full", RANGES, ids=["limited", "full"])
@pytest.mark.parametrize("cs", MATRICES, ids=MATRIX_IDS.get)
@pytest.mark.parametrize("size", [(64, 96), (34, 48), (63, 95), (7, 9), (1, 1), (2, 2)],
                         ids=lambda s: f"{s[1]}x{s[0]}")
def test_rgb_to_yuv420_matches_pyav(size, cs, full):
    rng = np.random.default_rng(size[0] * 7 + cs)
    H, W = size
    if H % 2 == 0 and W % 2 == 0 and H >= 16:
        rgb = smooth_rgb(H, W, rng)  # smooth colour: every plane within 1
        planes, mine = av_to_yuv(rgb, cs, full), ref.rgb_to_yuv420(rgb, cs, full)
        checked = range(3)
    else:  # odd and tiny sizes: grey pixels of any level (chroma 128 exactly), and Y of a random picture
        grey = rng.integers(0, 256, (H, W, 1), dtype=np.uint8).repeat(3, 2)
        for p, m in zip(av_to_yuv(grey, cs, full), ref.rgb_to_yuv420(grey, cs, full)):
            assert np.abs(p.astype(int) - m).max() <= 1
        rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        planes, mine = av_to_yuv(rgb, cs, full), ref.rgb_to_yuv420(rgb, cs, full)
        checked = range(1)
    for i in checked:
        assert np.abs(planes[i].astype(int) - mine[i]).max() <= 1, f"plane {i}"


def test_unspecified_matrix_is_bt601_like_swscale():
    assert ref.matrix_of(0) == ref.matrix_of(2) == ref.matrix_of(6) == ref.BT601
    assert ref.matrix_of(10) is None and ref.matrix_of(4) is None  # BT.2020 CL, FCC: the RGB path


@pytest.mark.parametrize("full", RANGES, ids=["limited", "full"])
@pytest.mark.parametrize("cs", MATRICES, ids=MATRIX_IDS.get)
def test_fast_numpy_conversion_matches_reference(cs, full):
    rng = np.random.default_rng(3)
    y, u, v = (rng.integers(0, 256, (37, 53), dtype=np.uint8) for _ in range(3))
    d = np.abs(yuv.yuv_to_rgb(y, u, v, cs, full).astype(int) - ref.yuv_to_rgb(y, u, v, cs, full))
    assert d.max() <= 1 and (d == 0).mean() >= 0.999


# --- the planar kernel against the reference ------------------------------------------------------------

SIZES = [(1, 1), (2, 2), (7, 9), (33, 18), (48, 64)]


@needs_kernel
def test_kernel_is_built_and_torch_free():
    code = ("import sys, numpy as np; from lowlight.kernels import yuv; "
            "p = yuv.PlanarYUV(np.zeros((4, 4), np.uint8), np.zeros((2, 2), np.uint8), np.zeros((2, 2), np.uint8)); "
            "yuv.roundtrip_yuv420(p); assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def assert_planes_close(out: yuv.PlanarYUV, want, tol: int = 1, exact: float = 0.995) -> None:
    for name, got, w in zip("yuv", (out.y, out.u, out.v), want):
        d = np.abs(got.astype(int) - w)
        assert d.max() <= tol, f"{name}: max error {d.max()}"
        assert (d == 0).mean() >= exact, f"{name}: only {(d == 0).mean():.4f} exact"


@needs_kernel
@pytest.mark.parametrize("full", RANGES, ids=["limited", "full"])
@pytest.mark.parametrize("cs", MATRICES, ids=MATRIX_IDS.get)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[1]}x{s[0]}")
def test_kernel_roundtrip_matches_reference(size, cs, full):
    """Identity curves: YUV -> RGB (rounded to levels) -> YUV, in the kernel's registers and in the reference."""
    rng = np.random.default_rng(size[0] * 31 + size[1])
    y, u, v = random_yuv(*size, rng)
    src = yuv.PlanarYUV(strided(y), strided(u), strided(v), cs, full)
    want = ref.rgb_to_yuv420(ref.yuv420_to_rgb(y, u, v, cs, full), cs, full)
    assert_planes_close(yuv.roundtrip_yuv420(src), want, exact=0.99)


def slow_planar(y, u, v, cs, full, maps, iterations, strength, noise, amount, state):
    """The obviously-correct path: reference conversion, the float64 curve + denoise reference, back."""
    rgb = ref.yuv420_to_rgb(y, u, v, cs, full)
    out, new_state = denoise_enhance_reference(torch.from_numpy(rgb), torch.from_numpy(maps), noise.n0, noise.n1,
                                               iterations, strength, amount,
                                               None if state is None else torch.from_numpy(state), DEFAULT_PARAMS)
    return ref.rgb_to_yuv420(out.numpy(), cs, full), new_state.numpy()


MAPS = {"1x1": lambda h, w: (3, 1, 1), "pp": lambda h, w: (3, 9, 13), "per-iter": lambda h, w: (24, (h + 3) // 4,
                                                                                                 (w + 3) // 4)}


@needs_kernel
@pytest.mark.parametrize("mode", ["curves", "still", "temporal"])
@pytest.mark.parametrize("kind", list(MAPS))
@pytest.mark.parametrize("cs,full", [(ref.BT709, False), (ref.BT601, True), (ref.BT2020, False)],
                         ids=["bt709-limited", "bt601-full", "bt2020-limited"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[1]}x{s[0]}")
def test_kernel_matches_slow_reference(size, cs, full, kind, mode):
    H, W = size
    rng = np.random.default_rng(H * 13 + W)
    base = 20 + 40 * np.linspace(0, 1, W)[None, :] * np.ones((H, 1))
    base[: H // 2] += 25  # an edge
    y = np.clip(base + rng.normal(0, 4, (H, W)), 0, 255).astype(np.uint8)
    hc, wc = (H + 1) // 2, (W + 1) // 2
    u = np.clip(128 + rng.normal(0, 4, (hc, wc)), 0, 255).astype(np.uint8)
    v = np.clip(124 + rng.normal(0, 4, (hc, wc)), 0, 255).astype(np.uint8)
    maps = rng.uniform(-0.3, 1.0, MAPS[kind](H, W)).astype(np.float32)
    strength = 0.8
    noise, amount, state = NoiseModel(12.0, 0.1), 0.9, None
    if mode == "curves":
        amount = 0.0
    if mode == "temporal":
        other = np.clip(y.astype(int) + rng.integers(-5, 6, y.shape), 0, 255).astype(np.uint8)
        state = slow_planar(other, u, v, cs, full, maps, 8, strength, noise, amount, None)[1]
    want, want_state = slow_planar(y, u, v, cs, full, maps, 8, strength, noise, amount, state)
    src = yuv.PlanarYUV(strided(y), strided(u), strided(v), cs, full)
    if mode == "curves":
        out = yuv.enhance_yuv420(src, maps, 8, strength)
    else:
        state_out = np.empty((3, H, W), np.uint16)
        out = yuv.enhance_yuv420(src, maps, 8, strength, params_vector(noise, amount, DEFAULT_PARAMS),
                                 DEFAULT_PARAMS.radius_for(state is not None), state, state_out)
        assert np.abs(state_out.astype(int) - want_state).max() <= 1
    assert_planes_close(out, want, exact=0.99)


@needs_kernel
def test_kernel_rejects_bad_arguments():
    p = yuv.PlanarYUV(np.zeros((4, 4), np.uint8), np.zeros((2, 2), np.uint8), np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="maps"):
        yuv.enhance_yuv420(p, np.zeros((6, 2, 2), np.float32), 8)
    with pytest.raises(ValueError, match="chroma"):
        yuv.PlanarYUV(np.zeros((4, 4), np.uint8), np.zeros((1, 2), np.uint8), np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="colorspace"):
        yuv.PlanarYUV(p.y, p.u, p.v, colorspace=4)
