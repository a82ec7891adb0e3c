"""Find the files of a batch and where their outputs go.

Every image and video under ``IN_DIR`` (recursively) becomes a :class:`Job` whose output
has the same relative path under ``OUT_DIR``. Skipped while scanning: hidden files and
folders (names starting with ``.``, which includes lowlight's own temporary files),
other temporary files (``*.part``, ``*.part.EXT``, ``~$*``), files of unknown type, and
``OUT_DIR`` itself when it lies inside ``IN_DIR`` (so outputs are never re-scanned as
inputs).
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from lowlight.atomic import is_temp_name
from lowlight.errors import InputError, OutputError
from lowlight.imageio import IMAGE_EXTENSIONS

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")
_TEMPORARY = re.compile(r"(\.part(\.[^.]+)?|\.tmp|~)$", re.IGNORECASE)


@dataclass(frozen=True)
class Job:
    """One file of a batch.

    Attributes:
        src: the input file.
        dst: its output file (same relative path under the output folder).
        rel: the relative path, with ``/`` separators (used in messages and the manifest).
        kind: ``"image"`` or ``"video"``.
        size, mtime: the input's size in bytes and modification time, from the one ``stat`` that
            :func:`discover` makes of it (``None``: not known, read when needed).
    """

    src: Path
    dst: Path
    rel: str
    kind: str
    size: Optional[int] = None
    mtime: Optional[float] = None


def kind_of(path: Path) -> Optional[str]:
    """``"image"``, ``"video"`` or ``None`` (unknown type) from the extension of ``path``."""
    ext = path.suffix.lower()
    if ext in IMAGE_EXTENSIONS:
        return "image"
    if ext in VIDEO_EXTENSIONS:
        return "video"
    return None


def is_temporary(name: str) -> bool:
    """True for hidden names and names of temporary / partial files (never batch inputs)."""
    return name.startswith((".", "~$")) or bool(_TEMPORARY.search(name))


def matches(rel: str, pattern: Optional[str]) -> bool:
    """Whether relative path ``rel`` matches the glob ``pattern`` (case-insensitive).

    A pattern without ``/`` is matched against the file name (``*.mp4``), one with ``/``
    against the whole relative path (``clips/*.mp4``; ``*`` also crosses folders there).
    ``None`` matches everything.
    """
    if not pattern:
        return True
    subject = rel if "/" in pattern else rel.rsplit("/", 1)[-1]
    return fnmatch.fnmatchcase(subject.lower(), pattern.lower())


def _inside(path: Path, folder: Path) -> bool:
    """True if resolved ``path`` is ``folder`` or below it (both already resolved)."""
    return path == folder or folder in path.parents


def discover(in_dir, out_dir, pattern: Optional[str] = None) -> list[Job]:
    """All batch jobs for ``in_dir -> out_dir``, sorted by relative path.

    Args:
        in_dir: the folder to scan (recursively; symlinked folders are not followed).
        out_dir: the output folder; excluded from the scan when it lies inside ``in_dir``.
        pattern: optional glob that files must also match (see :func:`matches`).

    Returns:
        the list of :class:`Job` (may be empty).

    Raises:
        InputError: ``in_dir`` is missing or not a folder.
        OutputError: ``out_dir`` is ``in_dir``, or an output would land among the inputs.
    """
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if not in_dir.exists():
        raise InputError(f"{in_dir}: no such folder (give the folder of images and videos to enhance)")
    if not in_dir.is_dir():
        raise InputError(f"{in_dir}: is a file, not a folder (use 'lowlight image' or 'lowlight video' for "
                         "single files)")
    in_real, out_real = in_dir.resolve(), out_dir.resolve()
    if in_real == out_real:
        raise OutputError(f"{out_dir}: the output folder is the input folder; choose another output folder")
    jobs: list[Job] = []
    for root, dirs, files in os.walk(in_dir):
        root_path = Path(root)
        dirs[:] = sorted(d for d in dirs
                         if not is_temporary(d) and (root_path / d).resolve() != out_real)
        for name in sorted(files):
            if is_temporary(name):
                continue
            src = root_path / name
            kind = kind_of(src)
            if kind is None:
                continue
            rel = src.relative_to(in_dir).as_posix()
            if not matches(rel, pattern):
                continue
            try:
                st = src.stat()
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                jobs.append(Job(src=src, dst=out_dir / rel, rel=rel, kind=kind, size=st.st_size, mtime=st.st_mtime))
    if _inside(in_real, out_real):  # IN_DIR inside OUT_DIR: an output could land among the inputs
        for job in jobs:
            if _inside(job.dst.resolve(), in_real):
                raise OutputError(f"{job.dst}: output of {job.src} would be written inside the input folder "
                                  f"{in_dir}; choose an output folder outside it")
    return sorted(jobs, key=lambda j: j.rel)


def _candidates(folder: Path) -> list[str]:
    """Names in ``folder`` that could be lowlight temporary files (hidden, with ``.part``)."""
    try:
        return [n for n in os.listdir(folder) if n.startswith(".") and ".part" in n]
    except OSError:
        return []


def temp_files(dst: Path) -> list[Path]:
    """Temporary files an interrupted write of ``dst`` may have left beside it.

    Matches the names of :func:`lowlight.atomic.temp_path` (``.STEM.PID.part.EXT``) and the legacy
    ``.NAME.XXXXXXXX.part`` (:func:`lowlight.atomic.is_temp_name`), and nothing else (not the temporary
    files of other outputs in the same folder).
    """
    return sorted(dst.parent / n for n in _candidates(dst.parent) if is_temp_name(dst, n))


def _unlink(paths) -> int:
    removed = 0
    for path in paths:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def remove_temp_files(dst: Path) -> int:
    """Delete :func:`temp_files` of ``dst``; returns how many were removed (missing ones are ignored)."""
    return _unlink(temp_files(dst))


def remove_stale_temp_files(jobs: list[Job]) -> int:
    """:func:`remove_temp_files` for every job, listing each output folder once (fast for big folders).

    Only for files no process is writing (before a batch starts, or after its worker died).
    Returns how many files were removed.
    """
    by_folder: dict[Path, list[Job]] = {}
    for job in jobs:
        by_folder.setdefault(job.dst.parent, []).append(job)
    stale = []
    for folder, folder_jobs in by_folder.items():
        names = _candidates(folder)
        if not names:
            continue
        for job in folder_jobs:
            stale += [folder / n for n in names if is_temp_name(job.dst, n)]
    return _unlink(stale)
