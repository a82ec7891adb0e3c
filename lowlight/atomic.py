"""Atomic outputs: every file lowlight writes appears complete or not at all.

One mechanism for images, checkpoints, caches, benchmark reports and videos: the data is written to
a hidden temporary file beside the target, ``.STEM.PID.part.EXT`` (same folder, so the rename is
atomic; same extension, so FFmpeg picks the same muxer; the writer's PID, so a leftover of a killed
process can be told from a file that is being written), and renamed over the target only when
complete. On any error, Ctrl-C or a signal that unwinds the stack the temporary file is deleted; a
file left by a process killed outright (SIGKILL, power cut) is removed by the next write of the
same target (:func:`remove_orphaned_temp_files`).

New files get the mode ``open()`` gives (``0o666`` less the umask).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> atomic_write_bytes(d / "a.txt", b"hello")
>>> sorted(p.name for p in d.iterdir())
['a.txt']
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Iterator

# Names written by lowlight <= 0.1.0 for images and caches (``.NAME.XXXXXXXX.part``, random letters);
# still recognised so that their leftovers are cleaned up too.
_LEGACY = r"\.{name}\.[A-Za-z0-9_]+\.part"


def temp_path(target: Path) -> Path:
    """``dir/.STEM.PID.part.EXT`` for ``dir/STEM.EXT``."""
    target = Path(target)
    return target.with_name(f".{target.stem}.{os.getpid()}.part{target.suffix}")


def temp_name_pattern(target: Path) -> re.Pattern:
    """Matches the names :func:`temp_path` gives ``target`` (any PID, captured as group 1)."""
    target = Path(target)
    return re.compile(rf"\.{re.escape(target.stem)}\.([0-9]+)\.part{re.escape(target.suffix)}")


def is_temp_name(target: Path, name: str) -> bool:
    """Whether ``name`` (a file name in ``target``'s folder) is a temporary file of ``target``:
    one of :func:`temp_path`, or a legacy ``.NAME.XXXXXXXX.part`` of an earlier lowlight version."""
    target = Path(target)
    return bool(temp_name_pattern(target).fullmatch(name)
                or re.fullmatch(_LEGACY.format(name=re.escape(target.name)), name))


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0
    return True


def remove_orphaned_temp_files(target: Path) -> list[Path]:
    """Delete the :func:`temp_path` files of ``target`` left by processes that no longer exist;
    returns what was removed. Files of a running process, this one included, are left alone."""
    target = Path(target)
    pattern = temp_name_pattern(target)
    removed = []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return removed
    for name in names:
        m = pattern.fullmatch(name)
        if m and int(m[1]) != os.getpid() and not process_alive(int(m[1])):
            with contextlib.suppress(OSError):
                (target.parent / name).unlink()
                removed.append(target.parent / name)
    return removed


def discard(temp: Path) -> None:
    """Delete a temporary file (missing is fine)."""
    with contextlib.suppress(FileNotFoundError):
        Path(temp).unlink()


def commit(temp: Path, target: Path) -> None:
    """Rename the finished ``temp`` over ``target`` (atomic within one file system)."""
    os.replace(temp, target)


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """``with atomic_output(path) as tmp:`` write the whole file to ``tmp``; on a normal exit it is
    renamed to ``path``, on an exception it is deleted (and the exception propagates)."""
    target = Path(target)
    tmp = temp_path(target)
    try:
        yield tmp
        commit(tmp, target)
    except BaseException:
        discard(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (the folder must exist)."""
    with atomic_output(Path(path)) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


@contextlib.contextmanager
def new_folders(folder: Path) -> Iterator[list]:
    """Create ``folder`` and its missing parents (the one rule of every command: outputs may go to a
    folder that does not exist yet) and prove a file can be written there; if the block raises, the
    folders this made are removed again when still empty, so a failed run leaves no empty folder
    behind. Yields the folders made.

    Raises:
        OutputError: a folder cannot be created, the path exists and is not a folder, or the folder
            is not writable.
    """
    from lowlight.errors import OutputError, first_line

    folder = Path(folder) if str(folder) else Path(".")
    missing = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create output folder ({first_line(exc)})") from None
    if not folder.is_dir():
        raise OutputError(f"{folder}: output path exists and is not a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".lowlight-probe-"):
            pass
    except OSError as exc:
        raise OutputError(f"{folder}: output folder is not writable ({first_line(exc)})") from None
    try:
        yield missing
    except BaseException:
        for made in missing:  # deepest first
            with contextlib.suppress(OSError):
                made.rmdir()
        raise
