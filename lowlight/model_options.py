"""Command-line options shared by every command that runs a model."""

from __future__ import annotations

import argparse

from lowlight.backends import BACKENDS


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def add_model_options(parser: argparse.ArgumentParser, backend: bool = True) -> None:
    """``--model --weights --strength --estimate-size --scale-factor --device`` and (with ``backend``) ``--backend``."""
    g = parser.add_argument_group("model")
    g.add_argument("--model", default="zero-dce++", choices=["zero-dce", "zero-dce++"],
                   help="network: zero-dce++ (fast, estimates on a downscaled frame; default) or "
                        "zero-dce (full-resolution, 24 maps)")
    g.add_argument("--weights", metavar="PATH",
                   help="checkpoint to use instead of the bundled weights: an official Zero-DCE/Zero-DCE++ "
                        ".pth or a file written by 'lowlight train' (the model is read from the file)")
    g.add_argument("--strength", type=non_negative_float, default=1.0, metavar="S",
                   help="scale the curves: 0 = unchanged, 1 = as trained (default), >1 stronger")
    g.add_argument("--estimate-size", type=positive_int, default=256, metavar="PX",
                   help="zero-dce++: estimate curves on a copy whose longest side is PX pixels "
                        "(antialiased resize; default 256)")
    g.add_argument("--scale-factor", type=positive_int, metavar="S",
                   help="zero-dce++: official integer downscale instead of --estimate-size (e.g. 12)")
    g.add_argument("--device", default="auto",
                   help="torch device: auto (default: cuda if a CUDA GPU is visible, else cpu), cpu or cuda[:N]")
    if not backend:
        return
    g.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="curve-estimation engine: auto (default: tensorrt on CUDA when torch-tensorrt is installed, "
                        "else torch; onnxruntime on the CPU), torch (eager), compile (torch.compile), onnxruntime, "
                        "tensorrt (pip install 'lowlight[tensorrt]')")


def enhancer_from_args(args: argparse.Namespace):
    """Build a :class:`lowlight.Enhancer` from the options above."""
    from lowlight.enhancer import Enhancer

    return Enhancer(args.model, device=resolve_device(args.device), weights=args.weights, strength=args.strength,
                    longest_side=args.estimate_size, scale_factor=args.scale_factor, backend=args.backend,
                    threads=getattr(args, "infer_threads", None))


def resolve_device(name: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a CUDA GPU, else ``cpu``; other names are checked and returned."""
    import torch

    from lowlight.errors import BackendError

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise BackendError(f"--device {name}: not a torch device (use auto, cpu or cuda[:N])") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BackendError(f"--device {name}: no CUDA GPU is visible to torch {torch.__version__}; use --device cpu")
    return name
