"""The command-line options shared by the commands, declared once, and their conversion to the
library's option objects (:class:`~lowlight.enhancer.EnhancerOptions`,
:class:`~lowlight.realtime.options.ProcessingOptions`,
:class:`~lowlight.realtime.transcode.EncodeOptions`,
:class:`~lowlight.realtime.transcode.TranscodeOptions`).

Only this package sees an ``argparse.Namespace``; library functions get the option objects.
"""

from __future__ import annotations

import argparse
import contextlib
import math
from pathlib import Path
from typing import Iterator, Optional, Sequence

from lowlight.backends import BACKENDS
from lowlight.kernels import KERNELS


# --- value types ------------------------------------------------------------------------------
def _number(text: str, kind=float):
    """``kind(text)``, or the argparse error that names what was expected."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                         f"got {text!r}") from None


def positive_int(text: str) -> int:
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number >= 0 (``nan``, ``inf`` and negatives are refused)."""
    value = _number(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def int_in(lo: int, hi: int):
    """An argparse type: an integer in ``[lo, hi]``."""
    def parse(text: str) -> int:
        value = _number(text, int)
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be between {lo} and {hi}, got {text}")
        return value
    parse.__name__ = f"integer {lo}-{hi}"
    return parse


def smooth_value(text: str) -> float:
    value = _number(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def denoise_value(text: str):
    """``--denoise``: ``auto``, ``off`` or a strength in [0, 1] (kept as given: ``"auto"``, ``"off"`` or a float)."""
    from lowlight.kernels.denoise_options import resolve_denoise

    try:
        resolve_denoise(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    text = text.strip().lower()
    return text if text in ("auto", "off") else float(text)


def bitrate_value(text: str) -> int:
    """``--bitrate``: ``4M``, ``800k`` or bits per second."""
    from lowlight.realtime.media.codecs import parse_bitrate

    try:
        return parse_bitrate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# --- model ------------------------------------------------------------------------------------
def add_model_options(parser: argparse.ArgumentParser, backend: bool = True) -> None:
    """``--model --weights --strength --denoise --estimate-size --scale-factor --device`` and (with ``backend``)
    ``--backend``. Every command that enhances has these (image, video, live, batch, bench)."""
    g = parser.add_argument_group("model")
    g.add_argument("--model", default="zero-dce++", choices=["zero-dce", "zero-dce++"],
                   help="network: zero-dce++ (fast, estimates on a downscaled frame; default) or "
                        "zero-dce (full-resolution, 24 maps)")
    g.add_argument("--weights", metavar="PATH",
                   help="checkpoint to use instead of the bundled weights: an official Zero-DCE/Zero-DCE++ "
                        ".pth or a file written by 'lowlight train' (the model is read from the file)")
    g.add_argument("--strength", type=non_negative_float, default=None, metavar="S",
                   help="scale the curves: 0 = unchanged, 1 = as trained, >1 stronger. Default: 1, held back as "
                        "a frame's own exposure is already good (a frame of mean luminance 0.30 brightened by at "
                        "most 0.04, none from 0.45, no frame brighter than 0.34 unless it was), so daylight "
                        "scenes are left alone; giving S turns that off")
    g.add_argument("--denoise", type=denoise_value, default="auto", metavar="auto|off|S",
                   help="remove the sensor noise that brightening amplifies: auto (default) = as much as the "
                        "noise measured in the frames and the curve's local gain call for (a clean frame, or a "
                        "region the curve does not lift, is left alone); off; or S in [0, 1] to scale that "
                        "amount. Stills: edge-preserving spatial filter; video and live: also a motion-adaptive "
                        "temporal filter (resets at scene cuts, no added latency)")
    size = g.add_mutually_exclusive_group()
    size.add_argument("--estimate-size", type=positive_int, default=256, metavar="PX",
                      help="zero-dce++: estimate curves on a copy whose longest side is PX pixels "
                           "(antialiased resize; default 256)")
    size.add_argument("--scale-factor", type=positive_int, metavar="S",
                      help="zero-dce++: official integer downscale instead of --estimate-size (e.g. 12)")
    g.add_argument("--device", default="auto",
                   help="torch device: auto (default: cuda if a CUDA GPU is visible, else cpu), cpu or cuda[:N]")
    if not backend:
        return
    g.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="curve-estimation engine: auto (default: tensorrt on CUDA when torch-tensorrt is installed, "
                        "else torch; onnxruntime on the CPU), torch (eager), compile (torch.compile), onnxruntime, "
                        "tensorrt (pip install 'lowlight[tensorrt]')")


def enhancer_options(args: argparse.Namespace):
    """The :class:`~lowlight.enhancer.EnhancerOptions` of :func:`add_model_options` (and ``--infer-threads``)."""
    from lowlight.enhancer import EnhancerOptions

    return EnhancerOptions(model=args.model, weights=args.weights, strength=args.strength,
                           estimate_size=args.estimate_size, scale_factor=args.scale_factor, device=args.device,
                           backend=getattr(args, "backend", "auto"), threads=getattr(args, "infer_threads", None),
                           denoise=getattr(args, "denoise", "auto"))


def load_enhancer(args: argparse.Namespace):
    """The :class:`lowlight.Enhancer` of the model options."""
    from lowlight.enhancer import Enhancer

    return Enhancer.from_options(enhancer_options(args))


# --- per-frame processing ------------------------------------------------------------------------
def add_smooth_option(group, default: float) -> None:
    group.add_argument("--smooth", type=smooth_value, default=default, metavar="S",
                       help="temporal smoothing of the curves: weight of the past in [0, 1); 0 = estimate every "
                            f"frame independently (default {default}); resets on scene cuts, adds no delay")


def add_estimate_every_option(group, default: int, note: str = "") -> None:
    group.add_argument("--estimate-every", type=positive_int, default=default, metavar="K",
                       help=f"estimate curves on every K-th frame only and reuse them in between (default "
                            f"{default}{note}); a scene cut always triggers a new estimate")


def add_infer_threads_option(group) -> None:
    group.add_argument("--infer-threads", type=positive_int, metavar="N",
                       help="threads of the processing stage: the curve and denoise kernels' OpenMP threads, and "
                            "torch's with --backend torch (default: one per core; 1 for the background estimator "
                            "of lowlight live)")


def add_processing_options(parser: argparse.ArgumentParser, default_smooth: float, default_every: int = 1,
                           every_note: str = "") -> None:
    """``--smooth --estimate-every --no-stabilize --infer-threads --kernel``."""
    g = parser.add_argument_group("real-time processing")
    add_smooth_option(g, default_smooth)
    add_estimate_every_option(g, default_every, every_note)
    g.add_argument("--no-stabilize", action="store_true",
                   help="with --smooth, do not cancel frame-to-frame exposure jitter of the input")
    add_infer_threads_option(g)
    g.add_argument("--kernel", choices=KERNELS, default="fused",
                   help="curve application: fused = one-pass compiled kernel (default), reference = plain torch")


def processing_options(args: argparse.Namespace):
    """The :class:`~lowlight.realtime.options.ProcessingOptions` of :func:`add_processing_options`."""
    from lowlight.realtime.options import ProcessingOptions

    return ProcessingOptions(smooth=args.smooth, estimate_every=args.estimate_every,
                             stabilize_exposure=not getattr(args, "no_stabilize", False),
                             kernel=getattr(args, "kernel", "fused"), infer_threads=args.infer_threads)


# --- encoding ------------------------------------------------------------------------------------
def add_crf_option(group, default=None, help_text=None) -> None:
    from lowlight.realtime.media.codecs import crf_help

    group.add_argument("--crf", type=int_in(0, 63), default=default, metavar="N", help=help_text or crf_help())


def add_preset_option(group, default=None, help_text=None) -> None:
    from lowlight.realtime.media.codecs import preset_help

    group.add_argument("--preset", default=default, metavar="P", help=help_text or preset_help())


def add_video_options(parser: argparse.ArgumentParser) -> None:
    """The encoding and real-time processing options of ``lowlight video`` (everything but IN, OUT,
    ``--overwrite`` and the model options); ``lowlight batch`` adds the same ones."""
    from lowlight.realtime.media.codecs import CODECS, codec_help

    parser.add_argument("--codec", choices=list(CODECS), default=None, help=codec_help())
    add_crf_option(parser)
    add_preset_option(parser)
    parser.add_argument("--bitrate", type=bitrate_value, metavar="B",
                        help="target bitrate such as 4M or 800k (instead of --crf)")
    parser.add_argument("--pix-fmt", choices=["yuv420p", "yuv444p"],
                        help="chroma of the output (default: 4:4:4 input stays yuv444p where the codec can, "
                             "anything else is yuv420p, which every player takes; an odd-sized yuv420p output "
                             "loses its last column/row)")
    parser.add_argument("--no-audio", action="store_true", help="drop audio and subtitle streams")
    parser.add_argument("--threads", type=positive_int, metavar="N",
                        help="encoder threads (default: FFmpeg's choice)")
    add_processing_options(parser, default_smooth=0.8, default_every=3,
                           every_note="; with --smooth 0.8 the curves change slowly, so reusing them changes "
                                      "the output little and saves two thirds of the network's time")


def transcode_options(args: argparse.Namespace, codec_fallback: bool = False):
    """The :class:`~lowlight.realtime.transcode.TranscodeOptions` of :func:`add_video_options` (and ``--overwrite``)."""
    from lowlight.realtime.transcode import EncodeOptions, TranscodeOptions

    encode = EncodeOptions(codec=args.codec, crf=args.crf, preset=args.preset, bitrate=args.bitrate,
                           threads=args.threads or 0, pix_fmt=args.pix_fmt)
    return TranscodeOptions(encode=encode, processing=processing_options(args), copy_streams=not args.no_audio,
                            overwrite=getattr(args, "overwrite", False), codec_fallback=codec_fallback)


@contextlib.contextmanager
def output_files(paths: Sequence[Optional[str]], overwrite: bool) -> Iterator[None]:
    """Check output files before the work starts (an existing file needs ``--overwrite``, the folder
    is created like every command does, and must be writable); folders made are removed again if
    the block fails. ``None`` entries are skipped."""
    from lowlight.atomic import new_folders
    from lowlight.errors import OutputError

    with contextlib.ExitStack() as stack:
        for text in paths:
            if not text:
                continue
            path = Path(text)
            if path.is_dir():
                raise OutputError(f"{path}: is a folder, expected a file name")
            if path.exists() and not overwrite:
                raise OutputError(f"{path}: output exists (use --overwrite to replace)")
            stack.enter_context(new_folders(path.parent))
        yield


def add_overwrite_option(parser, what: str = "output files") -> None:
    parser.add_argument("--overwrite", action="store_true", help=f"replace existing {what}")


def add_quality_option(parser) -> None:
    """``--quality`` (JPEG/WebP quality), shared by ``lowlight image`` and ``lowlight batch``."""
    parser.add_argument("--quality", type=int_in(1, 100), default=95, help="JPEG/WebP quality 1-100 (default 95)")
