"""On-disk cache of compiled artefacts (ONNX graphs, TensorRT engines), keyed by what they depend on.

A cache entry is one file whose name holds a sha256 of its key: every field
that makes an artefact valid only for one setting (weights digest, input
shape range, precision, engine version, GPU, ...). Files are written
atomically (temporary name, then rename), so a killed process never leaves a
half entry under the final name. A file that fails to load is deleted and
rebuilt by :func:`load_or_build`, never trusted.

Location: ``$LOWLIGHT_CACHE_DIR``, else ``$XDG_CACHE_HOME/lowlight``, else
``~/.cache/lowlight``. When the folder cannot be written, artefacts are built
in memory for this run only (one warning).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Callable, TypeVar

from lowlight.atomic import atomic_write_bytes
from lowlight.errors import first_line

T = TypeVar("T")


def cache_dir() -> Path:
    """The cache folder (not created)."""
    if os.environ.get("LOWLIGHT_CACHE_DIR"):
        return Path(os.environ["LOWLIGHT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lowlight"


def cache_path(kind: str, key: dict, suffix: str) -> Path:
    """Path of the entry for ``key`` (a JSON-serialisable dict): ``<dir>/<kind>-<sha256[:20]><suffix>``."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    return cache_dir() / f"{kind}-{digest[:20]}{suffix}"


def write_atomic(path: Path, data: bytes) -> None:
    """Create the folder if needed and write ``data`` to ``path`` atomically (temporary file, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)


def load_or_build(path: Path, build: Callable[[], bytes], from_bytes: Callable[[bytes], T],
                  what: str) -> tuple[T, str]:
    """Return ``(artefact, how)`` where ``how`` is ``"cached"``, ``"built"`` or ``"built (not cached: ...)"``.

    Tries ``from_bytes`` on the file's bytes when it exists; on any failure the
    file is removed with a warning and the artefact rebuilt: ``build()`` returns
    the serialised bytes, which are turned into the artefact with ``from_bytes``
    (its checks run first) and only then cached at ``path``, so an artefact that
    fails them is never cached.
    """
    if path.exists():
        try:
            return from_bytes(path.read_bytes()), "cached"
        except Exception as exc:  # any corruption: rebuild, never trust
            first = first_line(exc)
            warnings.warn(f"lowlight: cached {what} {path} failed to load ({first}); rebuilding it",
                          RuntimeWarning, stacklevel=2)
            try:
                path.unlink()
            except OSError:
                pass
    data = build()
    artefact = from_bytes(data)
    how = "built"
    try:
        write_atomic(path, data)
    except OSError as exc:
        how = f"built (not cached: {first_line(exc)})"
        warnings.warn(f"lowlight: cannot cache {what} in {path.parent} ({first_line(exc)}); "
                      "it will be rebuilt next run (set LOWLIGHT_CACHE_DIR to a writable folder)",
                      RuntimeWarning, stacklevel=2)
    return artefact, how
