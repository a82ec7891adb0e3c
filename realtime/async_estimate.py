"""Curve estimation in a background thread, so it never delays a live frame.

In live mode the process stage applies the newest (smoothed) maps at once and
hands the frame's small copy to :class:`BackgroundEstimator`; the result is
blended in when it is ready (typically a few frames later). The per-frame
latency is then that of downscaling and applying curves only, and the maps
are at most about one estimation time old. A scene cut queues an estimate of
the new scene ahead of everything else and discards results of frames before
the cut (``epoch``); until it is ready (at most two estimation times) the
previous maps stay in use, so a cut never stalls the live picture.

Not used in file mode, where results must not depend on timing.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

import numpy as np

from lowlight.estimation import Estimator
from lowlight.kernels.threads import set_num_threads


class BackgroundEstimator:
    """One worker thread running :meth:`lowlight.estimation.Estimator.maps`, one job at a time.

    Args:
        estimator: the :class:`~lowlight.estimation.Estimator`.
        threads: kernel (and, where torch is imported, torch intra-op) threads of the worker
            (``None``: the default, :func:`lowlight.kernels.threads.get_num_threads`).
        timer: optional ``timer("estimate", seconds)`` callback.
    """

    def __init__(self, estimator: Estimator, threads: Optional[int] = None,
                 timer: Optional[Callable[[str, float], None]] = None) -> None:
        self.estimator = estimator
        self.threads = threads
        self.timer = timer
        self._cond = threading.Condition()
        self._job: Optional[tuple] = None
        self._busy = False
        self._result: Optional[tuple] = None
        self._error: Optional[BaseException] = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="lowlight-estimate", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        """True while a job is queued or running."""
        with self._cond:
            return self._busy

    def submit(self, small: Optional[np.ndarray], image: np.ndarray, epoch: int, frame: int,
               force: bool = False) -> bool:
        """Queue an estimate for frame ``image`` (``small``: its estimation copy if already made,
        else the worker makes it); returns whether it was queued.

        Without ``force`` nothing is queued while a job is queued or running.
        With ``force`` (a scene cut) the job replaces any queued one and runs
        as soon as the current one finishes.
        """
        with self._cond:
            self._raise()
            if self._closed or (self._busy and not force):
                return False
            self._job = (small, image, epoch, frame)
            self._busy = True
            self._cond.notify_all()
            return True

    def take(self) -> Optional[tuple]:
        """The finished ``(maps, epoch, frame)``, or ``None``; re-raises a worker error."""
        with self._cond:
            self._raise()
            result, self._result = self._result, None
            return result

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        if self.threads:
            set_num_threads(int(self.threads))
        while True:
            with self._cond:
                while self._job is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                small, image, epoch, frame = self._job
                self._job = None
            try:
                t0 = time.perf_counter()
                maps = self.estimator.maps(image, small)
                if self.timer is not None:
                    self.timer("estimate", time.perf_counter() - t0)
                with self._cond:
                    self._result = (maps, epoch, frame)
            except BaseException as exc:  # noqa: BLE001 - re-raised by the next submit/take
                with self._cond:
                    self._error = exc
            finally:
                with self._cond:
                    self._busy = self._job is not None  # a forced job may be waiting
                    self._cond.notify_all()

    def close(self) -> None:
        """Stop the worker and wait for it (at most one estimation time)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(30)
