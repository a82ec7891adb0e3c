"""Command-line options shared by ``lowlight video`` and ``lowlight live``."""

from __future__ import annotations

import argparse

from lowlight.model_options import positive_int


def smooth_value(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def add_realtime_options(parser: argparse.ArgumentParser, default_smooth: float, default_every: int = 1,
                         every_note: str = "") -> None:
    """``--smooth --estimate-every --no-stabilize --infer-threads --kernel``."""
    g = parser.add_argument_group("real-time processing")
    g.add_argument("--smooth", type=smooth_value, default=default_smooth, metavar="S",
                   help="temporal smoothing of the curves: weight of the past in [0, 1); 0 = estimate every frame "
                        f"independently (default {default_smooth}); resets on scene cuts, adds no delay")
    g.add_argument("--estimate-every", type=positive_int, default=default_every, metavar="K",
                   help=f"estimate curves on every K-th frame only and reuse them in between (default "
                        f"{default_every}{every_note}); a scene cut always triggers a new estimate")
    g.add_argument("--no-stabilize", action="store_true",
                   help="with --smooth, do not cancel frame-to-frame exposure jitter of the input")
    g.add_argument("--infer-threads", type=positive_int, metavar="N",
                   help="torch threads for curve estimation (default: torch's choice, one per core; 1 for the "
                        "background estimator of lowlight live)")
    g.add_argument("--kernel", choices=["fused", "reference"], default="fused",
                   help="curve application: fused = one-pass compiled kernel (default), reference = plain torch")
