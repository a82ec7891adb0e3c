"""Signals end a run cleanly: SIGTERM and SIGHUP are handled like Ctrl-C.

``timeout``, systemd, ``docker stop`` and batch schedulers end a process with SIGTERM; a closed
terminal sends SIGHUP. Inside :func:`handled_signals` both raise :class:`Interrupted` (a
``KeyboardInterrupt``) in the main thread, so the code that already cleans up after Ctrl-C (the
pipeline stops its threads, file sinks delete their temporary output, batch stops its workers)
runs for them too; :func:`exit_status` gives the conventional ``128 + signal number``.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

HANDLED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """A signal that ends the run (``signum``: its number)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise(signum, _frame) -> None:
    raise Interrupted(signum)


def signal_name(exc: BaseException) -> str:
    """``SIGTERM`` for :class:`Interrupted`, ``SIGINT`` for a plain ``KeyboardInterrupt`` (Ctrl-C)."""
    return signal.Signals(getattr(exc, "signum", signal.SIGINT)).name


def exit_status(exc: BaseException) -> int:
    """The conventional exit status after ``exc``: 128 + the signal number (130 for Ctrl-C)."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


@contextlib.contextmanager
def handled_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Interrupted` inside the block (main thread only), then
    restore the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise) for s in HANDLED}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
