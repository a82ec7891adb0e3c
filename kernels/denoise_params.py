"""The tuning constants of the gain-aware denoiser (:class:`DenoiseParams`), without torch.

They are shared by every implementation (the plain-torch reference in
:mod:`lowlight.kernels.denoise_reference`, the compiled and Triton kernels); they live in this
torch-free module so the CPU path (:mod:`lowlight.kernels.denoise`) can build the kernels'
parameter vector without importing torch. The maths: :mod:`lowlight.kernels.denoise_reference`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DenoiseParams:
    """Tuning constants of the denoiser (the same numbers in every implementation).

    Attributes:
        tau: lowest target output noise in levels (below it nothing is denoised).
        target: output noise aimed at where the curve lifts strongly, as a fraction of the input's
            noise (``T = max(tau, sigma * max(target, 1 / gain))``).
        kmin: smallest weight of the new frame in the temporal filter on static pixels (bounds
            the time constant to ~1/kmin frames).
        hr: range of the spatial weights in noise sigmas.
        t0, t1: motion ramp (``D / sm`` below ``t0``: static; above ``t1``: moving).
        radius: spatial window radius without a state (stills, first frames: 2, a 5x5 window).
        temporal_radius: the window radius with a state (video: 1, a 3x3 window; it only serves
            moving pixels and the motion test, and costs half as much).
    """

    tau: float = 1.0
    target: float = 0.5
    kmin: float = 0.08
    hr: float = 2.5
    t0: float = 1.0
    t1: float = 3.0
    radius: int = 2
    temporal_radius: int = 1

    def radius_for(self, has_state: bool) -> int:
        return self.temporal_radius if has_state else self.radius
