"""Inference runs with denormals flushed, and leaves the caller's FP state as it was."""

from __future__ import annotations

import numpy as np
import torch

from lowlight import Enhancer
from lowlight.cpu import denormals_are_flushed, flush_denormals

TINY = 1.1754944e-38


def test_flush_context_restores_previous_state():
    assert not denormals_are_flushed()
    with flush_denormals():
        assert denormals_are_flushed()
        with flush_denormals():
            assert denormals_are_flushed()
        assert denormals_are_flushed()
    assert not denormals_are_flushed()
    torch.set_flush_denormal(True)
    try:
        with flush_denormals():
            assert denormals_are_flushed()
        assert denormals_are_flushed()  # a caller who had it on keeps it on
    finally:
        torch.set_flush_denormal(False)


def test_enhancer_runs_the_network_flushed_and_restores():
    enh = Enhancer("zero-dce", backend="torch")
    seen = []
    enh.model.e_conv4.register_forward_hook(lambda *_: seen.append(denormals_are_flushed()))
    enh.enhance(np.full((8, 8, 3), 10, np.uint8))
    assert seen == [True]
    assert not denormals_are_flushed()


def test_no_subnormal_activations_on_a_dark_photo(reference):
    """Official Zero-DCE on a very dark frame: no activation is subnormal during our inference."""
    from PIL import Image

    img = np.asarray(Image.open(reference / "images" / "real" / "450_1_.png").convert("RGB"))[::4, ::4]
    enh = Enhancer(weights=reference / "weights" / "zero_dce.pth", backend="torch")
    counts = []

    def count(_m, _i, out):
        a = out.abs()
        counts.append(int(((a > 0) & (a < TINY)).sum()))

    for m in enh.model.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_hook(count)
    out = enh.enhance(np.ascontiguousarray(img))
    assert len(counts) == 7 and sum(counts) == 0
    assert out.mean() > img.mean()


def test_subnormal_weights_are_flushed_at_load(reference):
    """The official checkpoints carry thousands of subnormal weights; load_model removes them."""
    from lowlight import load_model

    for file, at_least in (("zero_dce.pth", 19_000), ("zero_dce_pp.pth", 600)):
        raw = torch.load(reference / "weights" / file, map_location="cpu", weights_only=True)
        subnormal = sum(int(((v.abs() < TINY) & (v != 0)).sum()) for v in raw.values())
        assert subnormal >= at_least
        model = load_model(reference / "weights" / file)
        assert all(not bool(((p.abs() < TINY) & (p != 0)).any()) for p in model.parameters())
