"""The plain-torch curve reference: sign convention, fixed points, layouts, strength."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lowlight.kernels import apply_curves, scale_maps, upsample_maps


def _float64_curve(x, a, iterations):
    x = x.astype(np.float64)
    for i in range(iterations):
        ai = a if a.shape[1] == 3 else a[:, 3 * i : 3 * i + 3]
        x = x + ai * x * (1 - x)
    return x


@pytest.mark.parametrize("channels", [3, 24])
def test_matches_paper_formula_in_float64(channels):
    g = torch.Generator().manual_seed(3)
    x = torch.rand(2, 3, 17, 9, generator=g)
    a = torch.rand(2, channels, 17, 9, generator=g) * 2 - 1
    ours = apply_curves(x, a).numpy()
    np.testing.assert_allclose(ours, _float64_curve(x.numpy(), a.numpy().astype(np.float64), 8), atol=1e-5)


def test_positive_alpha_brightens_and_fixed_points_hold():
    x = torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0]).view(1, 1, 1, 5).repeat(1, 3, 1, 1)
    up = apply_curves(x, torch.full((1, 3, 1, 1), 0.8))
    down = apply_curves(x, torch.full((1, 3, 1, 1), -0.8))
    assert torch.all(up[..., 1:4] > x[..., 1:4]) and torch.all(down[..., 1:4] < x[..., 1:4])
    for y in (up, down):
        assert torch.equal(y[..., 0], x[..., 0]) and torch.equal(y[..., 4], x[..., 4])
        assert y.min() >= 0 and y.max() <= 1


def test_strength_scales_and_clamps():
    a = torch.tensor([-0.9, -0.2, 0.3, 0.7]).view(1, 1, 1, 4).repeat(1, 3, 1, 1)
    assert scale_maps(a, 1.0) is a
    torch.testing.assert_close(scale_maps(a, 2.0)[0, 0, 0], torch.tensor([-1.0, -0.4, 0.6, 1.0]))
    x = torch.rand(1, 3, 5, 4)
    assert torch.equal(apply_curves(x, torch.rand(1, 3, 2, 2), strength=0.0), x)


def test_lowres_maps_upsampled_align_corners():
    a = torch.tensor([[0.0, 1.0]]).view(1, 1, 1, 2).repeat(1, 3, 1, 1)
    up = upsample_maps(a, (1, 5))
    torch.testing.assert_close(up[0, 0, 0], torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
    assert upsample_maps(up, (1, 5)) is up


def test_rejects_bad_layouts():
    with pytest.raises(ValueError):
        apply_curves(torch.rand(1, 3, 4, 4), torch.rand(1, 6, 4, 4))
    with pytest.raises(ValueError):
        apply_curves(torch.rand(3, 4, 4), torch.rand(1, 3, 4, 4))
