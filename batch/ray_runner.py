"""Ray batch mode: one Ray task per file, on an existing cluster or a local Ray instance.

Needs ``pip install 'lowlight[ray]'``; ``ray`` is imported only inside :func:`run_ray`.
Every node must have lowlight installed and see ``IN_DIR`` and ``OUT_DIR`` at the same paths
(a shared filesystem); outputs are written by the workers, atomically (temporary file in the
same folder, then rename), so a worker that dies leaves no half file under a final name and
loses no finished output. Ray reuses its worker processes between tasks, and
:mod:`lowlight.batch.work` caches the enhancer in each of them, so the model is loaded once
per worker process. A task whose worker dies is retried once by Ray (``max_retries=1``);
if it dies again the file is recorded ``failed`` and the others go on. A task that finishes no
frame for ``stall_timeout`` seconds ends its own worker process (a watchdog thread in the task:
a thread stuck in a decoder cannot be interrupted), which Ray then treats as a dying worker.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Optional

from lowlight.batch import work
from lowlight.batch.discover import Job, remove_temp_files
from lowlight.batch.manifest import make_record
from lowlight.errors import BackendError, first_line
from lowlight.optional import require

RETRIES = 1  # Ray retries of a task whose worker process died


def import_ray():
    """The ``ray`` module, or :class:`BackendError` naming the pip extra when it is missing."""
    return require("ray", "ray", "--ray")


def ray_task(job: Job, options: "work.BatchOptions", threads: int = 1, stall_timeout: Optional[float] = None) -> dict:
    """Body of one Ray task (runs in a Ray worker process): set the process up on first use
    (``threads`` torch threads, enhancer cached), then :func:`lowlight.batch.work.process`.
    With ``stall_timeout`` (seconds), a watchdog thread kills this worker process when no frame
    has been finished for that long. Returns the file's manifest record."""
    work.setup_worker(options, threads)
    if not stall_timeout:
        return work.process(job, options)
    last = [time.monotonic()]
    finished = threading.Event()

    def progress(_frames: int) -> None:
        last[0] = time.monotonic()

    def watchdog() -> None:
        while not finished.wait(min(1.0, stall_timeout / 4)):
            if time.monotonic() - last[0] > stall_timeout:
                remove_temp_files(job.dst)  # a retry that succeeds elsewhere would leave it behind
                os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))

    threading.Thread(target=watchdog, name="lowlight-stall-watchdog", daemon=True).start()
    try:
        return work.process(job, options, progress)
    finally:
        finished.set()


def connect(address: Optional[str]):
    """Connect to Ray unless this process already is: ``address`` ``None`` finds a local instance
    (``RAY_ADDRESS``, or one started by ``ray start``) or starts one; ``"auto"`` requires a running
    cluster; anything else is a cluster address (``host:6379``, ``ray://host:10001``).

    Returns ``(ray, owned)``; ``owned`` is True when this call connected (the caller then calls
    ``ray.shutdown()``)."""
    ray = import_ray()
    if ray.is_initialized():
        return ray, False
    kwargs = {"include_dashboard": False} if address is None else {}
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = f"--ray {address}" if address else "--ray"
        raise BackendError(f"{where}: cannot connect to Ray ({first_line(exc)}); "
                           "start a cluster with 'ray start --head' or give its address") from None
    return ray, True


def run_ray(jobs: Iterable[Job], options: "work.BatchOptions", address: Optional[str], on_result: Callable[[dict], None],
            on_frames: Optional[Callable[[int], None]] = None, max_in_flight: Optional[int] = None,
            threads: int = 1, stall_timeout: Optional[float] = None) -> None:
    """Process ``jobs`` as Ray tasks.

    Args:
        jobs: the files (paths are made absolute: the workers may run elsewhere).
        options: the batch's :class:`lowlight.batch.work.BatchOptions`.
        address: see :func:`connect`.
        on_result: called in this process with each file's manifest record as it finishes.
        on_frames: called with each finished file's frame count.
        max_in_flight: at most this many tasks submitted at once (``None``: all of them; Ray queues
            them until a CPU is free).
        threads: CPUs reserved by, and torch threads of, each task.
        stall_timeout: seconds a task may go without finishing a frame before its worker process
            is ended (then retried once by Ray, like a worker that died); ``None``: no limit.

    Raises:
        BackendError: Ray is not installed or cannot connect.
        KeyboardInterrupt: after Ctrl-C, once the running tasks were cancelled.
    """
    queue = deque(replace(j, src=Path(j.src).absolute(), dst=Path(j.dst).absolute()) for j in jobs)
    if not queue:
        return
    ray, owned = connect(address)
    try:
        remote = ray.remote(ray_task).options(num_cpus=threads, max_retries=RETRIES, retry_exceptions=False)
        options_ref = ray.put(options)
        limit = max(1, int(max_in_flight)) if max_in_flight else len(queue)
        in_flight: dict = {}
        try:
            while queue or in_flight:
                while queue and len(in_flight) < limit:
                    job = queue.popleft()
                    in_flight[remote.remote(job, options_ref, threads, stall_timeout)] = job
                done, _ = ray.wait(list(in_flight), num_returns=1)
                for ref in done:
                    job = in_flight.pop(ref)
                    try:
                        record = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        remove_temp_files(job.dst)
                        why = f"{type(exc).__name__}: {first_line(exc)}"
                        stalled = f" or made no progress for {stall_timeout:g} s" if stall_timeout else ""
                        record = make_record(job, "failed", error=f"{job.src}: the Ray worker died{stalled} "
                                             f"while enhancing it ({why[:200]}); the other files were not "
                                             "affected")
                    if on_frames is not None and record.get("frames"):
                        on_frames(record["frames"])
                    on_result(record)
        except KeyboardInterrupt:
            for ref in in_flight:
                ray.cancel(ref)  # KeyboardInterrupt in the task: its pipeline removes the partial file
            raise
    finally:
        if owned:
            ray.shutdown()
