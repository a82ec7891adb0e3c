"""``lowlight image``: enhance still images and folders of images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lowlight.errors import InputError, LowlightError, OutputError
from lowlight.imageio import IMAGE_EXTENSIONS, check_writable_dir, compose, is_image_path, read_image, write_image
from lowlight.model_options import add_model_options, enhancer_from_args


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


def add_quality_option(parser) -> None:
    """``--quality`` (JPEG/WebP quality), shared by ``lowlight image`` and ``lowlight batch``."""
    parser.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality 1-100 (default 95)")


def enhance_image_file(src: Path, dst: Path, enhancer, quality: int = 95) -> list[str]:
    """Read ``src``, enhance it with ``enhancer`` (a :class:`lowlight.Enhancer`) and write ``dst`` atomically.

    Creates ``dst``'s folder. Depth, alpha and grayscale are kept where ``dst``'s format allows.
    Returns the notes of :func:`lowlight.imageio.write_image` (conversions the format forced);
    raises :class:`InputError` / :class:`OutputError` with a one-line reason.
    """
    img = read_image(src)
    enhanced = enhancer.enhance(img.rgb)
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{dst.parent}: cannot create output folder ({exc.strerror})") from None
    return write_image(dst, compose(enhanced, img.alpha, img.grayscale), quality=quality)


def collect_jobs(inputs: list[str], out_dir: Path, fmt: str | None) -> list[tuple[Path, Path]]:
    """Pair each input image with its output path; raises on empty folders and collisions."""
    jobs: list[tuple[Path, Path]] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and is_image_path(p)
                           and not p.name.startswith("."))
            if not files:
                raise InputError(f"{path}: folder has no images (looked for {' '.join(IMAGE_EXTENSIONS)})")
            jobs += [(f, out_dir / f.relative_to(path)) for f in files]
        elif path.exists():
            jobs.append((path, out_dir / path.name))
        else:
            raise InputError(f"{path}: no such file or folder")
    if fmt:
        jobs = [(src, dst.with_suffix("." + fmt)) for src, dst in jobs]
    seen: dict[Path, Path] = {}
    for src, dst in jobs:
        key = dst.resolve()
        if key in seen:
            raise OutputError(f"{dst}: two inputs ({seen[key]} and {src}) would write the same output")
        seen[key] = src
        if key == src.resolve():
            raise OutputError(f"{dst}: output would overwrite its input; choose another output folder")
    return jobs


def run(args: argparse.Namespace) -> int:
    out_dir = Path(args.output)
    jobs = collect_jobs(args.inputs, out_dir, args.format)
    check_writable_dir(out_dir)
    if not args.overwrite:
        existing = [dst for _, dst in jobs if dst.exists()]
        if existing:
            more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
            raise OutputError(f"{existing[0]}: output exists{more} (use --overwrite to replace)")
    enhancer = enhancer_from_args(args)
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
