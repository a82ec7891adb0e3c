"""Zero-reference losses for DCE-Net training.

The four official terms (Guo et al. 2020, ``Myloss.py``), written as plain
functions with the official reductions so that they reproduce the official
values, plus the project's own second-order illumination smoothness term.

Shapes: images ``N x 3 x H x W`` float in [0, 1]; curve maps ``N x C x H x W``
in [-1, 1] (either sign convention: every smoothness term is even in the maps).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from lowlight.neutral_maps import greyness

OFFICIAL_WEIGHTS = {
    "zero-dce": {"spa": 1.0, "exp": 10.0, "col": 5.0, "tv": 200.0},
    "zero-dce++": {"spa": 1.0, "exp": 10.0, "col": 5.0, "tv": 1600.0},
}
EXPOSURE_LEVEL = 0.6
EXPOSURE_PATCH = 16
SPATIAL_POOL = 4
COLOUR_DARK = 0.25  # colour="by-exposure": crops darker than this mean get (partly) the grey-world term
REGIONAL_CEILING = 0.95  # the regional exposure target never asks a patch for more than this (no clipping)


def color_constancy(enhanced: torch.Tensor) -> torch.Tensor:
    """Colour constancy loss (grey-world): ``N x 1 x 1 x 1``.

    With channel means ``m_R, m_G, m_B`` and ``D_pq = (m_p - m_q)^2``, returns
    ``sqrt(D_RG^2 + D_RB^2 + D_GB^2)`` per image (the official ``L_color``).
    The value is exactly the official one; the gradient is 0 (not NaN) where the
    three channel means are equal (grey or fully clipped crops), where the
    official ``pow(., 0.5)`` back-propagates ``0 * inf``.
    """
    mean_rgb = enhanced.mean(dim=(2, 3), keepdim=True)
    mr, mg, mb = torch.split(mean_rgb, 1, dim=1)
    drg = (mr - mg) ** 2
    drb = (mr - mb) ** 2
    dgb = (mb - mg) ** 2
    k2 = drg**2 + drb**2 + dgb**2
    positive = k2 > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, k2, torch.ones_like(k2))), torch.zeros_like(k2))


def colour_preservation(enhanced: torch.Tensor, original: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Change of each crop's colour balance: ``N`` values.

    With ``c = m_c / mean(m)`` the channel means over their average (a 3-vector, 1 = grey),
    returns ``sum_c (c_enhanced - c_original)^2``: 0 when the curves keep the crop's white balance,
    whatever they do to its brightness.
    """
    me, mi = enhanced.mean(dim=(2, 3)), original.mean(dim=(2, 3))
    ce = me / (me.mean(1, keepdim=True) + eps)
    ci = mi / (mi.mean(1, keepdim=True) + eps)
    return ((ce - ci) ** 2).sum(1)


def darkness(original: torch.Tensor, knee: float) -> torch.Tensor:
    """``clamp(1 - mean / knee, 0, 1)`` of each crop (``N`` values): 1 for black, 0 from ``knee`` up."""
    return (1 - original.mean(dim=(1, 2, 3)) / knee).clamp(0, 1)


def spatial_consistency(enhanced: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Spatial consistency loss map: ``N x 1 x floor(H/4) x floor(W/4)``.

    Both images are averaged over channels and 4x4 average-pooled; the loss at
    each cell is the sum over its four neighbours (zero padding at the border)
    of the squared change in the local contrast ``p - p_neighbour`` between
    the original and the enhanced image. Symmetric in its two arguments.
    Take ``.mean()`` for the official scalar.
    """
    pool_org = F.avg_pool2d(original.mean(dim=1, keepdim=True), SPATIAL_POOL)
    pool_enh = F.avg_pool2d(enhanced.mean(dim=1, keepdim=True), SPATIAL_POOL)
    total = torch.zeros_like(pool_org)
    for dy, dx in ((0, -1), (0, 1), (-1, 0), (1, 0)):
        d_org = pool_org - _neighbour(pool_org, dy, dx)
        d_enh = pool_enh - _neighbour(pool_enh, dy, dx)
        total = total + (d_org - d_enh) ** 2
    return total


def _neighbour(p: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``q[i, j] = p[i + dy, j + dx]`` with zeros outside the map."""
    h, w = p.shape[-2:]
    padded = F.pad(p, (1, 1, 1, 1))
    return padded[..., 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]


def exposure_control(enhanced: torch.Tensor, level: float = EXPOSURE_LEVEL,
                     patch: int = EXPOSURE_PATCH) -> torch.Tensor:
    """Exposure control loss (scalar): mean squared distance of the channel-mean
    intensity of every non-overlapping ``patch x patch`` block from ``level``."""
    pooled = F.avg_pool2d(enhanced.mean(dim=1, keepdim=True), patch)
    return ((pooled - level) ** 2).mean()


def adaptive_exposure_target(original: torch.Tensor, knee: float, gamma: float = 0.5,
                             max_gain: float = float("inf"), patch: int = EXPOSURE_PATCH,
                             context: int = 0) -> torch.Tensor:
    """Per-patch exposure target ``N x 1 x H/patch x W/patch``: lift shadows, leave well-exposed
    patches alone, never darken.

    With ``m`` the input patch's channel-mean brightness::

        target = m                                          if m >= knee
        target = min(knee * (m / knee) ** gamma, max_gain * m)   otherwise

    This is a monotone tone curve of the patch brightness (a power-law shadow lift that
    meets the identity at ``knee``), so large-scale contrast is kept: brighter patches stay
    brighter. The official loss instead asks every patch for one level (0.6), which washes out
    well-exposed photos and flattens everything towards that level. The gain cap keeps black
    patches (night sky, the darkest training crops, mostly quantisation and sensor noise) dark:
    without it they dominate the loss and the net learns one strong global curve.

    ``context=k > 0`` (the *regional* target): the curve above is evaluated on the mean brightness
    ``M`` of the ``(2k+1) x (2k+1)`` patches around each patch and applied as a gain,
    ``target = min(m * T(M) / M, max(m, 0.95))``: every patch of a dark region gets that region's
    gain, so highlights inside a dark frame are lifted with it (local contrast kept) and deep
    shadows inside a bright region are not singled out for a strong lift (less noise); a
    well-exposed region (``M >= knee``) is left alone as before.
    """
    m = F.avg_pool2d(original.mean(dim=1, keepdim=True), patch)
    if context > 0:
        # regional gain: the tone curve of the neighbourhood's brightness, applied as a gain
        region = F.avg_pool2d(m, 2 * context + 1, stride=1, padding=context, count_include_pad=False)
        gain = _tone_target(region, knee, gamma, max_gain) / region.clamp(min=1e-4)
        return torch.minimum(m * gain, torch.maximum(m, torch.full_like(m, REGIONAL_CEILING)))
    return _tone_target(m, knee, gamma, max_gain)


def _tone_target(m: torch.Tensor, knee: float, gamma: float, max_gain: float) -> torch.Tensor:
    lift = knee * (m.clamp(min=0) / knee) ** gamma
    if max_gain != float("inf"):
        lift = torch.minimum(lift, max_gain * m)
    return torch.where(m >= knee, m, torch.maximum(lift, m))


def adaptive_exposure(enhanced: torch.Tensor, original: torch.Tensor, knee: float, gamma: float = 0.5,
                      max_gain: float = float("inf"), patch: int = EXPOSURE_PATCH, log_eps: float | None = 0.02,
                      context: int = 0) -> torch.Tensor:
    """Mean squared distance of every ``patch x patch`` block's brightness from
    :func:`adaptive_exposure_target` of the input (scalar).

    ``log_eps`` (default 0.02) measures the distance in log brightness,
    ``log(pooled + eps) - log(target + eps)``, i.e. in stops: a dark patch that is 4x too dark
    costs about as much as a mid-tone that is 4x too dark. A plain squared difference
    (``log_eps=None``) makes a shadow at 0.03 that should be 0.12 cost almost nothing (0.008), so
    shadows are barely lifted within a CPU-sized budget while the spatial-consistency term,
    which charges any gain on noisy shadows, wins.
    """
    pooled = F.avg_pool2d(enhanced.mean(dim=1, keepdim=True), patch)
    target = adaptive_exposure_target(original, knee, gamma, max_gain, patch, context)
    if log_eps is None:
        return ((pooled - target) ** 2).mean()
    return ((torch.log(pooled + log_eps) - torch.log(target + log_eps)) ** 2).mean()


def neutrality(original: torch.Tensor, maps: torch.Tensor, tolerance: float = 0.06,
               pool: int = 5) -> torch.Tensor:
    """Neutral-in, neutral-out penalty on the curve maps (scalar).

    Where the (locally averaged, so sensor chroma noise does not count) input is grey, the
    three channels' curve maps should be equal, otherwise grey turns into a colour cast (the
    grey-world colour loss only constrains whole-crop channel means, and learns the training
    photos' average cast). Per pixel, ``greyness = clamp(1 - chroma / tolerance, 0, 1)``
    (:func:`lowlight.neutral_maps.greyness`, the measure inference ties the maps by) with
    ``chroma = (max_c - min_c) / (mean_c + 0.02)`` of the input; the loss is the mean of
    ``greyness * sum_c (a_c - mean_c a)^2`` over pixels and iterations. Maps may be at a lower
    resolution than the input (Zero-DCE++ estimation size): the input is resized to the maps.
    """
    n, c, h, w = maps.shape
    x = original
    if x.shape[-2:] != (h, w):
        x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
    a = maps.view(n, c // 3, 3, h, w)
    spread = ((a - a.mean(2, keepdim=True)) ** 2).sum(2)  # N x iterations x h x w
    return (greyness(x, tolerance, pool) * spread).mean()


def restore_exposure(enhanced: torch.Tensor, original: torch.Tensor, exposed: torch.Tensor,
                     max_gain: float = float("inf"), patch: int = EXPOSURE_PATCH,
                     log_eps: float = 0.02) -> torch.Tensor:
    """Exposure loss against the crop's own original exposure (scalar; ``exposure_target="restore"``).

    ``exposed`` (``N x 3 x H x W`` in [0, 1]) is the training crop before the sensor model's
    exposure draw (:meth:`lowlight.train.data.SensorAugment.__call__` with ``with_exposed``), so
    each ``patch x patch`` block is asked for the brightness it had at a normal exposure::

        target = max(m, min(M, max_gain * m))      m: input block, M: exposed block (channel means)

    A crop drawn at its own exposure (or brighter) is asked to stay as it is: the net learns to
    leave well-exposed content alone. A darkened one is asked for its original brightness,
    block by block, so the contrast between blocks is the photo's own (an exposure change in
    linear light), not a tone curve of each block's brightness. The exposure is not an input:
    the net has to infer it from what a block looks like (its histogram, its noise). ``max_gain``
    caps the lift of the darkest blocks (mostly quantisation and sensor noise). Distance in log
    brightness, as :func:`adaptive_exposure`.
    """
    pooled = F.avg_pool2d(enhanced.mean(dim=1, keepdim=True), patch)
    m = F.avg_pool2d(original.mean(dim=1, keepdim=True), patch)
    target = F.avg_pool2d(exposed.mean(dim=1, keepdim=True), patch)
    if max_gain != float("inf"):
        target = torch.minimum(target, max_gain * m)
    target = torch.maximum(target, m)
    return ((torch.log(pooled + log_eps) - torch.log(target + log_eps)) ** 2).mean()


def noise_gain(noisy: torch.Tensor, clean: torch.Tensor, enhanced_noisy: torch.Tensor,
               enhanced_clean: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Squared noise amplification at equal exposure, per crop, averaged (scalar).

    ``noisy`` is a training crop with sensor noise and ``clean`` the same crop without it;
    ``enhanced_*`` are both through the curves estimated *from the noisy crop* (what inference
    sees). Per crop::

        r^2 = (mse(E_noisy, E_clean) / mean(E_clean)^2) / (mse(noisy, clean) / mean(clean)^2)

    i.e. how much the curve raises the noise-to-signal ratio (1 = a plain gain, as in
    ``benchmarks/quality_suite.py``'s noise@eq). Charging it makes the net spend its gain where
    the input is clean and keep it down in flat, noisy shadows; the clean crop is needed only in
    training, so inference stays reference-free. ``eps`` keeps black crops finite.
    """
    dims = (1, 2, 3)
    out = ((enhanced_noisy - enhanced_clean) ** 2).mean(dims) / (enhanced_clean.mean(dims) + eps) ** 2
    inp = ((noisy - clean) ** 2).mean(dims) / (clean.mean(dims) + eps) ** 2
    return (out / (inp + 1e-12)).mean()


def illumination_smoothness(maps: torch.Tensor) -> torch.Tensor:
    """First-order illumination smoothness (the official ``L_TV``, scalar).

    ``2 * (sum(dy^2) / ((H-1) W) + sum(dx^2) / (H (W-1))) / N`` where ``dy``,
    ``dx`` are forward differences of the maps, summed over channels too.
    """
    n, _, h, w = maps.shape
    dy = maps[:, :, 1:, :] - maps[:, :, :-1, :]
    dx = maps[:, :, :, 1:] - maps[:, :, :, :-1]
    return 2 * ((dy**2).sum() / ((h - 1) * w) + (dx**2).sum() / (h * (w - 1))) / n


def second_order_smoothness(maps: torch.Tensor) -> torch.Tensor:
    """Higher-order illumination smoothness (this project's loss, scalar).

    Penalises the squared Frobenius norm of the Hessian of every curve map,
    ``f_yy^2 + f_xx^2 + 2 f_xy^2``, from central second differences
    (``f[i+1] - 2 f[i] + f[i-1]``) and the mixed difference over each 2x2
    block, each averaged over its valid positions (summed over channels, divided
    by the batch, like the official first-order term).

    What it does that first order does not: total variation (first order)
    charges every slope, so a broad, legitimate illumination gradient (a lamp's
    fall-off, a bright window) costs as much as a one-pixel spot of the same
    height difference, and a weight strong enough to flatten spots also
    flattens the curve towards one global curve. The second derivative is zero
    on any linear ramp and grows with the square of spatial frequency faster
    than first differences do (response ~ w^4 against w^2 for a sinusoid of
    frequency w), so isolated, noise-like spots in the maps (which the net
    otherwise grows on dark, noisy regions and which the curve then amplifies
    as blotches) are charged far more than smooth gradients.
    Needs ``H, W >= 3``; smaller maps contribute zero.
    """
    n, _, h, w = maps.shape
    total = maps.new_zeros(())
    if h >= 3:
        fyy = maps[:, :, 2:, :] - 2 * maps[:, :, 1:-1, :] + maps[:, :, :-2, :]
        total = total + (fyy**2).sum() / ((h - 2) * w)
    if w >= 3:
        fxx = maps[:, :, :, 2:] - 2 * maps[:, :, :, 1:-1] + maps[:, :, :, :-2]
        total = total + (fxx**2).sum() / (h * (w - 2))
    if h >= 2 and w >= 2:
        fxy = maps[:, :, 1:, 1:] - maps[:, :, 1:, :-1] - maps[:, :, :-1, 1:] + maps[:, :, :-1, :-1]
        total = total + 2 * (fxy**2).sum() / ((h - 1) * (w - 1))
    return total / n


@dataclass
class ZeroReferenceLoss:
    """Weighted sum of the zero-reference terms.

    ``smoothness_order=1`` uses the official first-order term with weight
    ``tv``; ``2`` replaces it with :func:`second_order_smoothness` weighted by
    ``tv2``. Defaults are the official weights for ``model``.

    ``exposure_target="adaptive"`` replaces the official fixed exposure level by
    :func:`adaptive_exposure_target` (with ``exposure_knee``, ``exposure_gamma`` and ``exposure_max_gain``; ``exposure_level`` is then unused); ``neutral > 0`` adds
    :func:`neutrality` with that weight. ``colour="by-exposure"`` weights the grey-world term of each
    crop by its :func:`darkness` and adds :func:`colour_preservation` weighted by ``chroma`` times
    ``1 - darkness``: night scenes under coloured light are neutralised, well-exposed photos keep
    their colours (the grey-world term alone turns a warm, well-exposed photo green-grey).
    ``noise > 0`` adds :func:`noise_gain`. The defaults here are the official loss.
    """

    model: str = "zero-dce++"
    smoothness_order: int = 1
    spa: float | None = None
    exp: float | None = None
    col: float | None = None
    tv: float | None = None
    tv2: float | None = None
    exposure_level: float = EXPOSURE_LEVEL
    exposure_target: str = "fixed"
    exposure_knee: float = 0.4
    exposure_gamma: float = 0.5
    exposure_max_gain: float = float("inf")
    exposure_context: int = 0
    exposure_patch: int = EXPOSURE_PATCH
    neutral: float = 0.0
    noise: float = 0.0
    colour: str = "grey-world"
    chroma: float = 0.0
    weights: dict = field(init=False)

    def __post_init__(self) -> None:
        if self.smoothness_order not in (1, 2):
            raise ValueError(f"smoothness_order must be 1 or 2, got {self.smoothness_order}")
        if self.colour not in ("grey-world", "by-exposure"):
            raise ValueError(f"colour must be 'grey-world' or 'by-exposure', got {self.colour!r}")
        if self.exposure_target not in ("fixed", "adaptive", "restore"):
            raise ValueError(f"exposure_target must be 'fixed', 'adaptive' or 'restore', got {self.exposure_target!r}")
        base = dict(OFFICIAL_WEIGHTS[self.model])
        for key in ("spa", "exp", "col", "tv"):
            if getattr(self, key) is not None:
                base[key] = float(getattr(self, key))
        base["tv2"] = float(self.tv2) if self.tv2 is not None else base["tv"]
        base["neutral"] = float(self.neutral)
        base["noise"] = float(self.noise)
        base["chroma"] = float(self.chroma)
        self.weights = base

    def __call__(self, original: torch.Tensor, enhanced: torch.Tensor, maps: torch.Tensor,
                 clean: torch.Tensor | None = None,
                 enhanced_clean: torch.Tensor | None = None,
                 exposed: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        """Return ``(total, terms)``: the scalar loss and each weighted term as a float.

        ``clean`` / ``enhanced_clean`` (the noise-free crop, and it through the same curves) are
        needed when the ``noise`` weight is non-zero (:func:`noise_gain`); ``exposed`` (the crop at its
        original exposure) with ``exposure_target="restore"`` (:func:`restore_exposure`)."""
        w = self.weights
        terms = {"spa": w["spa"] * spatial_consistency(enhanced, original).mean()}
        if self.exposure_target == "fixed":
            terms["exp"] = w["exp"] * exposure_control(enhanced, self.exposure_level)
        elif self.exposure_target == "restore":
            if exposed is None:
                raise ValueError("the 'restore' exposure target needs the crop at its original exposure")
            terms["exp"] = w["exp"] * restore_exposure(enhanced, original, exposed, self.exposure_max_gain,
                                                       self.exposure_patch)
        else:
            terms["exp"] = w["exp"] * adaptive_exposure(enhanced, original, self.exposure_knee, self.exposure_gamma,
                                                        self.exposure_max_gain, self.exposure_patch,
                                                        context=self.exposure_context)
        # official order (spa, exp, col, tv): the total sums in the same order as before these options existed
        if self.colour == "grey-world":
            terms["col"] = w["col"] * color_constancy(enhanced).mean()
        else:  # grey world for dark crops (coloured night light), keep the balance of well-exposed ones
            dark = darkness(original, COLOUR_DARK)
            terms["col"] = w["col"] * (dark * color_constancy(enhanced).flatten()).mean()
            terms["chroma"] = w["chroma"] * ((1 - dark) * colour_preservation(enhanced, original)).mean()
        if w["neutral"]:
            terms["neutral"] = w["neutral"] * neutrality(original, maps)
        if w["noise"]:
            if clean is None or enhanced_clean is None:
                raise ValueError("the noise-gain term needs the clean crop and its enhanced version")
            terms["noise"] = w["noise"] * noise_gain(original, clean, enhanced, enhanced_clean)
        if self.smoothness_order == 1:
            terms["tv"] = w["tv"] * illumination_smoothness(maps)
        else:
            terms["tv2"] = w["tv2"] * second_order_smoothness(maps)
        total = sum(terms.values())
        return total, {k: float(v.detach()) for k, v in terms.items()}
