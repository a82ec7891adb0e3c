"""Process one file of a batch, in a worker process (local pool or Ray).

The enhancer is built once per worker process (:func:`setup_worker`, or lazily by
:func:`get_enhancer`) and reused for every file that process handles. :func:`process`
never raises for a bad file: it returns a manifest record whose ``status`` is ``failed``
and whose ``error`` is the one-line message. Images go through
:func:`lowlight.image_command.enhance_image_file`, videos through
:func:`lowlight.realtime.video_command.transcode`, the same code as ``lowlight image`` and
``lowlight video``; both write atomically (temporary file beside the output, then rename).

Test hooks: ``LOWLIGHT_BATCH_TEST_CRASH_ON=NAME`` in the environment of ``lowlight batch``
makes the worker that picks up the input file named ``NAME`` kill itself with SIGKILL
(:data:`CRASH_ENV`); ``LOWLIGHT_BATCH_TEST_HANG_ON=NAME`` makes it hang (:data:`HANG_ENV`).
They exist only so the tests can check that a dying or hung worker does not stop the batch;
they are read by the driver and handed to the workers with the options.
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from typing import Callable, Optional

from lowlight.batch.discover import Job
from lowlight.batch.manifest import make_record
from lowlight.errors import LowlightError, OutputError

CRASH_ENV = "LOWLIGHT_BATCH_TEST_CRASH_ON"
HANG_ENV = "LOWLIGHT_BATCH_TEST_HANG_ON"
_TEST_HOOKS = ("test_crash_on", "test_hang_on")

_STATE: dict = {"key": None, "enhancer": None, "threads": None}


def task_options(args: argparse.Namespace) -> dict:
    """The parsed options of ``lowlight batch`` as a plain picklable dict for the workers.

    Everything in ``args`` is passed through (model, image and video options alike, whatever
    they are), except callables (``func``); the test hooks of :data:`CRASH_ENV` and
    :data:`HANG_ENV` are added as ``test_crash_on`` and ``test_hang_on``.
    """
    options = {k: v for k, v in vars(args).items() if not callable(v)}
    options["test_crash_on"] = os.environ.get(CRASH_ENV) or None
    options["test_hang_on"] = os.environ.get(HANG_ENV) or None
    return options


def setup_worker(options: dict, threads: Optional[int] = None) -> None:
    """Prepare this process for batch work: ``threads`` torch threads (``None``: unchanged) and the
    enhancer of ``options`` loaded. Used as the pool initializer; raises :class:`LowlightError`
    for bad model options."""
    if threads:
        import torch

        torch.set_num_threads(int(threads))
        _STATE["threads"] = int(threads)
    get_enhancer(options)


def ensure_worker(options: dict, threads: Optional[int] = None) -> None:
    """:func:`setup_worker` unless this process is already set up with ``threads`` threads (cheap to
    call before every task; used by Ray tasks, whose worker processes are reused)."""
    if threads and _STATE["threads"] != int(threads):
        setup_worker(options, threads)
    else:
        get_enhancer(options)


def get_enhancer(options: dict):
    """The :class:`lowlight.Enhancer` for ``options``, built on first use in this process and cached
    (rebuilt only if the options change)."""
    from lowlight.model_options import enhancer_from_args

    key = repr(sorted((k, repr(v)) for k, v in options.items() if k not in _TEST_HOOKS))
    if _STATE["key"] != key:
        _STATE["enhancer"] = enhancer_from_args(argparse.Namespace(**options))
        _STATE["key"] = key
    return _STATE["enhancer"]


def video_args(options: dict, job: Job) -> argparse.Namespace:
    """The namespace :func:`~lowlight.realtime.video_command.transcode` gets for ``job``.

    ``overwrite`` is on (the driver decided the file must be written); encoder and inference
    threads default to this worker's share of the cores; a ``.webm`` output is encoded with
    vp9 unless ``--codec`` names another WebM codec (av1).
    """
    ns = argparse.Namespace(**options)
    ns.overwrite = True
    threads = _STATE["threads"]
    if threads:
        if getattr(ns, "threads", None) is None:
            ns.threads = threads
        if getattr(ns, "infer_threads", None) is None:
            ns.infer_threads = threads
    if job.dst.suffix.lower() == ".webm" and getattr(ns, "codec", None) not in ("vp9", "av1"):
        ns.codec = "vp9"
    return ns


def _test_hooks(options: dict, job: Job) -> None:
    """The :data:`CRASH_ENV` / :data:`HANG_ENV` test hooks (no-ops unless set)."""
    if options.get("test_crash_on") and job.src.name == options["test_crash_on"]:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
        time.sleep(10)  # pragma: no cover - the signal arrives first
    if options.get("test_hang_on") and job.src.name == options["test_hang_on"]:
        while True:  # until the driver's stall watchdog kills this process
            time.sleep(1)


def process(job: Job, options: dict, progress: Optional[Callable[[int], None]] = None) -> dict:
    """Enhance ``job.src`` into ``job.dst``; returns its manifest record.

    Args:
        job: the file.
        options: :func:`task_options` of the batch.
        progress: ``progress(n)`` with the number of frames just finished (videos: called from the
            encoder thread per frame; images: once).

    Returns:
        a record of :func:`~lowlight.batch.manifest.make_record`: ``done`` with the frame count, or
        ``failed`` with the one-line error (a damaged video is ``failed`` although the frames that
        decoded were written); a video whose input had streams that are not copied also gets
        ``not_copied`` (``["#2 data (bin_data)"]``).
    """
    _test_hooks(options, job)
    t0 = time.perf_counter()
    frames, error, extra = 0, None, {}
    try:
        if job.dst.resolve() == job.src.resolve():
            raise LowlightError(f"{job.dst}: output would overwrite its input; choose another output folder")
        try:
            job.dst.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{job.dst.parent}: cannot create output folder ({exc.strerror})") from None
        enhancer = get_enhancer(options)
        if job.kind == "image":
            from lowlight.image_command import enhance_image_file

            enhance_image_file(job.src, job.dst, enhancer, options.get("quality", 95))
            frames = 1
            if progress is not None:
                progress(1)
        else:
            from lowlight.realtime.video_command import transcode

            on_frame = (lambda _frame, _info: progress(1)) if progress is not None else None
            result = transcode(job.src, job.dst, video_args(options, job), enhancer, on_frame=on_frame)
            frames = result.frames
            if result.not_copied:
                extra["not_copied"] = result.not_copied
            if result.damaged:
                error = result.damage_message(job.src, job.dst)
    except LowlightError as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - one file's bug must not end the batch
        text = str(exc).strip().splitlines()
        error = f"{job.src}: unexpected {type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
    return make_record(job, "failed" if error else "done", frames=frames, seconds=time.perf_counter() - t0,
                       error=error, pid=os.getpid(), **extra)
