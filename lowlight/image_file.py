"""Still images as files: pair inputs with outputs, and enhance one file into another atomically.

The library behind ``lowlight image`` and the image files of ``lowlight batch``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from lowlight.errors import InputError, OutputError, first_line
from lowlight.imageio import IMAGE_EXTENSIONS, compose, find_images, read_image, write_image


def enhance_image_file(src: Path, dst: Path, enhancer, quality: int = 95) -> list[str]:
    """Read ``src``, enhance it with ``enhancer`` (a :class:`lowlight.Enhancer`) and write ``dst`` atomically.

    Creates ``dst``'s folder. Depth, alpha and grayscale are kept where ``dst``'s format allows.
    Returns the notes of :func:`lowlight.imageio.write_image` (conversions the format forced);
    raises :class:`InputError` / :class:`OutputError` with a one-line reason.
    """
    src, dst = Path(src), Path(dst)
    if dst.resolve() == src.resolve():
        raise OutputError(f"{dst}: output would overwrite its input; choose another output folder")
    img = read_image(src)
    enhanced = enhancer.enhance(img.rgb)
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{dst.parent}: cannot create output folder ({first_line(exc)})") from None
    return write_image(dst, compose(enhanced, img.alpha, img.grayscale), quality=quality)


def image_jobs(inputs: list, out_dir: Path, fmt: Optional[str] = None) -> list[tuple[Path, Path]]:
    """Pair each input image (files, and folders searched recursively) with its output path under
    ``out_dir`` (a folder's images keep their relative paths; ``fmt`` changes the extension).

    Raises:
        InputError: an input is missing, or a folder has no images.
        OutputError: two inputs would write the same output, or an output is its input.
    """
    jobs: list[tuple[Path, Path]] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files = find_images(path)
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
