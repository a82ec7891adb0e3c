"""Curve application kernels (``lowlight.kernels``).

The sign convention and map layouts are documented once, in
:mod:`lowlight.kernels.reference`. This package imports nothing else of
lowlight's, only torch.
"""

from .reference import DEFAULT_ITERATIONS, apply_curves, scale_maps, upsample_maps

__all__ = ["DEFAULT_ITERATIONS", "apply_curves", "scale_maps", "upsample_maps"]
