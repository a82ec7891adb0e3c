"""``lowlight image``: enhance still images and folders of images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lowlight.cli.options import add_model_options, add_quality_option, load_enhancer
from lowlight.errors import LowlightError, OutputError
from lowlight.imageio import IMAGE_EXTENSIONS


def register(sub) -> None:
    p = sub.add_parser(
        "image", help="enhance image files or folders of images",
        description="Enhance image files (JPEG, PNG, BMP, TIFF, WebP; 8/16-bit, grayscale, alpha) and folders "
                    "of them. Outputs keep the file name (and folder structure for folder inputs) under OUT_DIR; "
                    "bit depth and alpha are kept where the output format allows.")
    p.add_argument("inputs", nargs="+", metavar="IN", help="image files or folders (searched recursively)")
    p.add_argument("-o", "--output", required=True, metavar="OUT_DIR", help="folder for the enhanced images")
    p.add_argument("--format", choices=[e.lstrip(".") for e in IMAGE_EXTENSIONS],
                   help="output format (default: same as each input)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    add_quality_option(p)
    add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lowlight.atomic import new_folders
    from lowlight.image_file import image_jobs

    out_dir = Path(args.output)
    jobs = image_jobs(args.inputs, out_dir, args.format)
    with new_folders(out_dir):
        return _run(args, jobs, out_dir)


def _run(args: argparse.Namespace, jobs: list, out_dir: Path) -> int:
    from lowlight.image_file import enhance_image_file

    if not args.overwrite:
        existing = [dst for _, dst in jobs if dst.exists()]
        if existing:
            more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
            raise OutputError(f"{existing[0]}: output exists{more} (use --overwrite to replace)")
    enhancer = load_enhancer(args)
    failed = 0
    show = sys.stderr.isatty() or len(jobs) > 1
    for i, (src, dst) in enumerate(jobs, 1):
        try:
            notes = enhance_image_file(src, dst, enhancer, args.quality)
        except LowlightError as exc:
            failed += 1
            print(f"lowlight image: error: {exc}", file=sys.stderr)
            continue
        if show:
            extra = f" ({'; '.join(notes)})" if notes else ""
            print(f"[{i}/{len(jobs)}] {src} -> {dst}{extra}", file=sys.stderr)
        else:
            for note in notes:
                print(f"lowlight image: note: {dst}: {note}", file=sys.stderr)
    done = len(jobs) - failed
    print(f"enhanced {done} of {len(jobs)} image(s) into {out_dir}", file=sys.stderr)
    return 1 if failed else 0
