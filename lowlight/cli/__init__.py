"""The ``lowlight`` console command: a thin dispatcher over subcommand modules.

All argparse code lives in this package: one module per command (``image``, ``video``, ``live``,
``bench``, ``batch``, ``train``), each exposing ``register(subparsers)``, which adds its parser and
sets ``func`` (called with the parsed args, returning an exit code), and one shared module of
options (:mod:`lowlight.cli.options`) that turns parsed options into the library's option objects.
Command modules call library functions and import their heavy dependencies inside ``func``.
User errors (:class:`LowlightError`) print one line and exit 1; Ctrl-C, SIGTERM and SIGHUP end
the run cleanly (:mod:`lowlight.signals`) and exit 128 + the signal number (130, 143, 129).
"""

from __future__ import annotations

import argparse
import faulthandler
import importlib
import os
import sys
from typing import Optional, Sequence

from lowlight import __version__
from lowlight.errors import LowlightError
from lowlight.signals import exit_status, handled_signals, signal_name

# Subcommand modules, in the order ``lowlight --help`` lists them.
SUBCOMMANDS = (
    "lowlight.cli.image",
    "lowlight.cli.video",
    "lowlight.cli.live",
    "lowlight.cli.bench",
    "lowlight.cli.batch",
    "lowlight.cli.train",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lowlight",
        description="Brighten dark images and video with Zero-DCE / Zero-DCE++ curve estimation.",
        epilog="Run 'lowlight COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"lowlight {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(name).register(sub)
    for command in sub.choices.values():
        command.add_argument("--verbose", action="store_true",
                             help="also show the messages of FFmpeg's encoders (banners, statistics)")
    return parser


def quiet_encoders(verbose: bool) -> None:
    """Keep encoder chatter behind ``--verbose``: SVT-AV1 prints a 20-line banner unless ``SVT_LOG``
    asks for errors only (x265 is quietened through its own options, FFmpeg's log is off in PyAV)."""
    if not verbose:
        os.environ.setdefault("SVT_LOG", "1")


def main(argv: Optional[Sequence[str]] = None) -> int:
    if not faulthandler.is_enabled():  # a crash in native code (codecs, kernels) prints every thread's stack
        faulthandler.enable()
    parser = build_parser()
    args = parser.parse_args(argv)
    quiet_encoders(args.verbose)
    try:
        with handled_signals():
            return int(args.func(args) or 0)
    except LowlightError as exc:
        print(f"lowlight {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"lowlight {args.command}: interrupted ({signal_name(exc)})", file=sys.stderr)
        return exit_status(exc)


if __name__ == "__main__":
    sys.exit(main())
