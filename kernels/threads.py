"""How many threads the compiled CPU kernels (and ONNX Runtime sessions) use, without torch.

The compiled kernels split rows over OpenMP threads; the count they use when none is given is
:func:`get_num_threads`: the calling thread's setting (:func:`set_num_threads`, per thread, like
torch's intra-op setting with its OpenMP backend), else torch's count when torch is already
imported (so a caller's ``torch.set_num_threads`` still counts), else the CPUs this process may run
on. torch is never imported here.

>>> set_num_threads(1); get_num_threads()
1
"""

from __future__ import annotations

import os
import sys
import threading

_local = threading.local()


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def set_num_threads(n: int) -> None:
    """Threads for the kernels called from this thread (and torch's, when torch is imported)."""
    n = max(1, int(n))
    _local.threads = n
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "set_num_threads"):
        torch.set_num_threads(n)


def get_num_threads() -> int:
    """The thread count of the calling thread: its :func:`set_num_threads`, else torch's (only if
    torch is already imported), else :func:`available_cpus`."""
    n = getattr(_local, "threads", None)
    if n is not None:
        return n
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "get_num_threads"):
        return int(torch.get_num_threads())
    return available_cpus()
