"""The ``lowlight`` console command: a thin dispatcher over subcommand modules.

All argparse code lives in this package: one module per command (``image``, ``video``, ``live``,
``bench``, ``batch``, ``train``), each exposing ``register(subparsers)``, which adds its parser and
sets ``func`` (called with the parsed args, returning an exit code), and one shared module of
options (:mod:`lowlight.cli.options`) that turns parsed options into the library's option objects.
Command modules call library functions and import their heavy dependencies inside ``func``.
User errors (:class:`LowlightError`) print one line and exit 1; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

from lowlight import __version__
from lowlight.errors import LowlightError

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
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LowlightError as exc:
        print(f"lowlight {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lowlight {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
