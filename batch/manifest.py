"""The batch manifest (``OUT_DIR/lowlight-batch.jsonl``) and the resume decision.

One JSON object per line, appended as each file finishes, by the driver process only::

    {"file": "clips/a.mp4", "input": "/abs/in/clips/a.mp4", "output": "/abs/out/clips/a.mp4",
     "kind": "video", "status": "done", "frames": 90, "seconds": 4.2, "error": null,
     "finished": "2025-01-01T12:00:00Z"}

``status`` is ``done``, ``skipped`` (complete from an earlier run) or ``failed`` (``error``
says why). Each line goes out in one ``write`` on a file opened for appending, so a crash
leaves at most one incomplete last line, which :func:`load` ignores. While a batch runs it
holds an exclusive lock on the manifest, so two batches cannot write one folder at once.

Resume: outputs are written atomically (temporary name, then rename), so an output under its
final name is complete. A file is redone when its output is missing, older than its input,
or the manifest's latest verdict on it is ``failed`` (a damaged video keeps what decoded,
under the final name); ``--force`` redoes everything.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Optional

from lowlight.batch.discover import Job
from lowlight.errors import OutputError, first_line

MANIFEST_NAME = "lowlight-batch.jsonl"
STATUSES = ("done", "skipped", "failed")


def make_record(job: Job, status: str, frames: int = 0, seconds: float = 0.0, error: Optional[str] = None,
                **extra) -> dict:
    """A manifest record for ``job`` (a plain dict, JSON-ready); ``extra`` keys are added as they are."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    rec = {"file": job.rel, "input": os.path.abspath(job.src), "output": os.path.abspath(job.dst),
           "kind": job.kind, "status": status, "frames": int(frames), "seconds": round(float(seconds), 3),
           "error": error}
    rec.update(extra)
    rec["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return rec


def load(path: Path) -> dict[str, dict]:
    """The latest ``done``/``failed`` record per relative file path from the manifest at ``path``.

    ``skipped`` records carry no new verdict and are passed over; unreadable lines (an
    interrupted last write) are ignored. A missing manifest gives ``{}``.
    """
    latest: dict[str, dict] = {}
    try:
        with open(path, "r", encoding="utf-8") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict) and rec.get("status") in ("done", "failed") and "file" in rec:
                    latest[rec["file"]] = rec
    except FileNotFoundError:
        pass
    return latest


def needs_work(job: Job, last: Optional[dict], force: bool = False) -> bool:
    """Whether ``job`` must be (re)done, given ``last``, its latest manifest record (or ``None``).

    False only when the output exists, is at least as new as the input, and the manifest does
    not record a failure for it (and ``force`` is off).
    """
    if force:
        return True
    try:
        out_mtime = job.dst.stat().st_mtime
    except OSError:
        return True
    if last is not None and last.get("status") == "failed":
        return True
    try:
        src_mtime = job.mtime if job.mtime is not None else job.src.stat().st_mtime
    except OSError:
        return True
    return out_mtime < src_mtime


class Manifest:
    """The manifest of one batch run, open for appending and locked against other batches.

    Args:
        path: the manifest file (created if missing).

    Raises:
        OutputError: it cannot be opened, or another batch holds its lock.

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot open the batch manifest ({first_line(exc)})") from None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no lock
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._fd)
            raise OutputError(f"{self.path}: another 'lowlight batch' is writing to {self.path.parent}; "
                              "wait for it to finish or choose another output folder") from None

    def append(self, record: dict) -> None:
        """Append ``record`` as one JSON line in a single write."""
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        while data:
            written = os.write(self._fd, data)
            data = data[written:]

    def close(self) -> None:
        """Release the lock and close the file (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "Manifest":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
