"""Local batch mode: a pool of worker processes that survives a dying worker.

Each worker is a ``spawn``-started process (torch and ``fork`` do not mix) that loads the
enhancer once (:func:`lowlight.batch.work.setup_worker`) and then handles one file at a time,
sent over its own pipe. Because the driver knows which file each worker holds, a worker that
dies (SIGKILL, out-of-memory killer, segfault in a native library) costs exactly that file:
its temporary output is removed, the file is retried once on a fresh worker and, if that
worker dies too, recorded ``failed``; a new worker replaces the dead one and the other files
carry on. (``concurrent.futures.ProcessPoolExecutor`` cannot do this: one dead worker breaks
the whole pool and does not say which file killed it.)

A worker that hangs instead (a decoder stuck on a damaged file or a dead network mount) is
caught by a watchdog: when a worker has made no progress (no frame finished, no result) for
``stall_timeout`` seconds, it is killed and its file recorded ``failed`` without a retry (a hang
tends to repeat; a re-run of the batch tries the file again).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from collections import deque
from multiprocessing.connection import wait
from typing import Callable, Iterable, Optional

from lowlight.batch import work
from lowlight.batch.discover import Job, remove_temp_files
from lowlight.batch.manifest import make_record
from lowlight.errors import LowlightError

RETRIES = 1  # extra attempts for a file whose worker died
PROGRESS_INTERVAL_S = 0.2  # how often a worker reports frames done
STOP_TIMEOUT_S = 10.0  # how long shutdown waits for a worker before terminating it


def available_cores() -> int:
    """CPU cores this process may run on (affinity-aware where the OS tells)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def start_context():
    """The multiprocessing context for workers: ``forkserver`` where there is one (a clean server
    process imports torch and lowlight once, each worker is forked from it in milliseconds and
    inherits no threads or locks of the driver), else ``spawn`` (Windows). Never plain ``fork``:
    forking a process that has run torch can deadlock."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["lowlight.batch.local"])
        return ctx
    return mp.get_context("spawn")  # pragma: no cover - Windows


def threads_per_worker(workers: int, cores: Optional[int] = None) -> int:
    """Torch / encoder threads for each of ``workers`` processes: ``max(1, cores // workers)``."""
    return max(1, (cores or available_cores()) // max(1, workers))


def describe_exit(code: Optional[int]) -> str:
    """``'killed by SIGKILL'`` / ``'exit status 3'`` for a process exit code."""
    if code is None:
        return "no exit status"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = "; out of memory?" if -code == getattr(signal, "SIGKILL", 9) else ""
        return f"killed by {name}{hint}"
    return f"exit status {code}"


def _worker_main(conn, options: "work.BatchOptions", threads: int) -> None:
    """Body of a worker process: set up once, then ``job -> record`` until ``None`` arrives."""
    try:
        try:
            work.setup_worker(options, threads)
        except Exception as exc:  # noqa: BLE001 - reported to the driver as one line
            conn.send(("init_error", str(exc) if isinstance(exc, LowlightError) else
                       f"worker setup failed: {type(exc).__name__}: {exc}"))
            return
        conn.send(("ready", os.getpid()))
        while True:
            try:
                job = conn.recv()
            except EOFError:
                return
            if job is None:
                return
            pending = [0, time.monotonic()]

            def progress(n: int) -> None:
                pending[0] += n
                now = time.monotonic()
                if now - pending[1] >= PROGRESS_INTERVAL_S:
                    conn.send(("frames", pending[0]))
                    pending[0], pending[1] = 0, now

            record = work.process(job, options, progress)
            conn.send(("result", record))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the driver reports it
        return
    except (BrokenPipeError, EOFError, OSError):  # the driver went away
        return


class _Worker:
    """A worker process, the driver's end of its pipe, and the job it holds."""

    def __init__(self, ctx, options: "work.BatchOptions", threads: int, number: int) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child, options, threads), daemon=True,
                                   name=f"lowlight-batch-{number}")
        self.process.start()
        child.close()
        self.ready = False
        self.job: Optional[Job] = None
        self.reported = 0  # frames of the current job already reported
        self.dead = False
        self.stalled = False  # killed by the stall watchdog
        self.progress_at = time.monotonic()  # when the current job last made progress

    def send(self, job: Optional[Job]) -> None:
        self.conn.send(job)
        if job is not None:
            self.job, self.reported, self.progress_at = job, 0, time.monotonic()


def run_local(jobs: Iterable[Job], options: "work.BatchOptions", workers: int, threads: int,
              on_result: Callable[[dict], None], on_frames: Optional[Callable[[int], None]] = None,
              stall_timeout: Optional[float] = None) -> None:
    """Process ``jobs`` on ``workers`` local processes.

    Args:
        jobs: the files, handed out in this order.
        options: the batch's :class:`lowlight.batch.work.BatchOptions`.
        workers: number of worker processes (at most one per job is started).
        threads: torch / encoder threads per worker.
        on_result: called in this process with each file's manifest record as it finishes
            (``done`` or ``failed``; every job gets exactly one).
        on_frames: called with frame counts as the workers make progress (for a progress bar).
        stall_timeout: seconds a worker may hold a file without progress before it is killed and
            the file recorded ``failed`` (``None`` or 0: wait for ever).

    Raises:
        LowlightError: the workers cannot set up (bad model options) or keep dying before taking
            any file.
        KeyboardInterrupt: after Ctrl-C, once every worker has stopped and partial outputs of the
            files in flight are removed.
    """
    pending = deque(jobs)
    if not pending:
        return
    ctx = start_context()
    count = max(1, min(int(workers), len(pending)))
    started = 0
    attempts: dict[str, int] = {}
    idle_deaths = 0
    pool: list[_Worker] = []

    def spawn() -> _Worker:
        nonlocal started
        started += 1
        w = _Worker(ctx, options, threads, started)
        pool.append(w)
        return w

    def frames(w: _Worker, n: int) -> None:
        w.reported += n
        if on_frames is not None and n:
            on_frames(n)

    def handle(w: _Worker, msg) -> None:
        kind = msg[0]
        w.progress_at = time.monotonic()
        if kind == "ready":
            w.ready = True
        elif kind == "frames":
            frames(w, msg[1])
        elif kind == "result":
            record, w.job = msg[1], None
            frames(w, max(0, record.get("frames", 0) - w.reported))
            on_result(record)
        elif kind == "init_error":
            raise LowlightError(msg[1])

    def drain(w: _Worker) -> None:
        try:
            while w.conn.poll():
                handle(w, w.conn.recv())
        except (EOFError, OSError):
            pass

    def bury(w: _Worker) -> None:
        """``w`` died: settle its job, replace it if there is work left."""
        nonlocal idle_deaths
        drain(w)  # a message sent just before dying still counts
        w.dead = True
        w.process.join(1.0)
        pool.remove(w)
        w.conn.close()
        job = w.job
        if job is None:
            idle_deaths += 1
            if idle_deaths > 2 * count + 2:
                raise LowlightError(f"worker processes keep dying before taking a file "
                                    f"(last: {describe_exit(w.process.exitcode)}); check memory and the "
                                    "installation with 'lowlight image' on one file")
        else:
            remove_temp_files(job.dst)  # nobody else holds this file
            attempts[job.rel] = attempts.get(job.rel, 0) + 1
            if w.stalled:
                on_result(make_record(job, "failed", error=f"{job.src}: made no progress for "
                                      f"{stall_timeout:g} s, so its worker was stopped (hung decoder or "
                                      "storage?); the other files were not affected"))
            elif attempts[job.rel] <= RETRIES:
                pending.appendleft(job)
            else:
                how = describe_exit(w.process.exitcode)
                tries = f" ({attempts[job.rel]} attempts)" if attempts[job.rel] > 1 else ""
                on_result(make_record(job, "failed", error=f"{job.src}: the worker process died while "
                                      f"enhancing it ({how}){tries}; the other files were not affected"))
        if pending and len(pool) < count:
            spawn()

    try:
        for _ in range(count):
            spawn()
        while pending or any(w.job is not None for w in pool):
            for w in pool:
                if w.ready and w.job is None and pending:
                    job = pending.popleft()
                    try:
                        w.send(job)
                    except (BrokenPipeError, OSError):  # dying: its sentinel will say so
                        pending.appendleft(job)
            for w in pool:  # the stall watchdog: its sentinel then reports it dead like any other
                if stall_timeout and w.job is not None and not w.stalled \
                        and time.monotonic() - w.progress_at > stall_timeout:
                    w.stalled = True
                    w.process.kill()
            by_conn = {w.conn: w for w in pool}
            by_sentinel = {w.process.sentinel: w for w in pool}
            for ready in wait(list(by_conn) + list(by_sentinel), timeout=1.0 if stall_timeout else None):
                w = by_conn.get(ready) or by_sentinel.get(ready)
                if w is None or w.dead:
                    continue
                if ready in by_sentinel or w.process.exitcode is not None:
                    bury(w)
                    continue
                try:
                    msg = w.conn.recv()
                except (EOFError, OSError):
                    w.process.join(STOP_TIMEOUT_S)
                    bury(w)
                    continue
                handle(w, msg)
    except BaseException:  # Ctrl-C, SIGTERM/SIGHUP (lowlight.signals) or an error: stop the files in flight now
        _shutdown(pool, grace=0.0)
        raise
    _shutdown(pool)


def _shutdown(pool: list[_Worker], grace: float = STOP_TIMEOUT_S) -> None:
    """Stop every worker (ask, wait up to ``grace`` seconds, then terminate), then remove partial
    outputs of unfinished jobs."""
    for w in pool:
        try:
            w.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
    deadline = time.monotonic() + grace
    for w in pool:
        w.process.join(max(0.0, deadline - time.monotonic()))
        if w.process.is_alive():
            w.process.terminate()
            w.process.join(2.0)
        if w.process.is_alive():  # pragma: no cover - ignores SIGTERM
            w.process.kill()
            w.process.join(2.0)
        if w.job is not None:
            remove_temp_files(w.job.dst)
        w.conn.close()
