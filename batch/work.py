"""Process one file of a batch, in a worker process (local pool or Ray).

The enhancer is built once per worker process (:func:`setup_worker`, or lazily by
:func:`get_enhancer`) and reused for every file that process handles. :func:`process`
never raises for a bad file: it returns a manifest record whose ``status`` is ``failed``
and whose ``error`` is the one-line message. Images go through
:func:`lowlight.image_file.enhance_image_file`, videos through
:func:`lowlight.realtime.transcode.transcode`, the same library code as ``lowlight image`` and
``lowlight video``; both write atomically (temporary file beside the output, then rename).

Test hooks: ``LOWLIGHT_BATCH_TEST_CRASH_ON=NAME`` in the environment of ``lowlight batch``
makes the worker that picks up the input file named ``NAME`` kill itself with SIGKILL
(:data:`CRASH_ENV`); ``LOWLIGHT_BATCH_TEST_HANG_ON=NAME`` makes it hang (:data:`HANG_ENV`).
They exist only so the tests can check that a dying or hung worker does not stop the batch;
they are read by the driver and handed to the workers with the options.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from lowlight.batch.discover import Job
from lowlight.batch.manifest import make_record
from lowlight.enhancer import EnhancerOptions
from lowlight.errors import LowlightError, OutputError, first_line
from lowlight.realtime.transcode import TranscodeOptions

CRASH_ENV = "LOWLIGHT_BATCH_TEST_CRASH_ON"
HANG_ENV = "LOWLIGHT_BATCH_TEST_HANG_ON"

_STATE: dict = {"model": None, "enhancer": None, "threads": None}


@dataclass(frozen=True)
class BatchOptions:
    """What every file of a batch is enhanced with: plain picklable values for the workers.

    Attributes:
        model: the :class:`~lowlight.enhancer.EnhancerOptions`.
        video: the :class:`~lowlight.realtime.transcode.TranscodeOptions` of video files (a
            ``.webm`` output gets VP9 unless ``--codec`` names another WebM codec).
        quality: JPEG/WebP quality of image files.
        test_crash_on, test_hang_on: the test hooks of :data:`CRASH_ENV` / :data:`HANG_ENV`.
    """

    model: EnhancerOptions = field(default_factory=EnhancerOptions)
    video: TranscodeOptions = field(default_factory=lambda: TranscodeOptions(codec_fallback=True))
    quality: int = 95
    test_crash_on: Optional[str] = None
    test_hang_on: Optional[str] = None

    def with_test_hooks(self) -> "BatchOptions":
        """These options with the test hooks read from the environment."""
        return dataclasses.replace(self, test_crash_on=os.environ.get(CRASH_ENV) or None,
                                   test_hang_on=os.environ.get(HANG_ENV) or None)


def setup_worker(options: BatchOptions, threads: Optional[int] = None) -> None:
    """Prepare this process for batch work: ``threads`` torch threads (``None``: unchanged) and the
    enhancer of ``options`` loaded. Used as the pool initializer; raises :class:`LowlightError`
    for bad model options. Cheap when this process is already set up so (Ray reuses its workers)."""
    if threads and _STATE["threads"] != int(threads):
        from lowlight.kernels.threads import set_num_threads

        set_num_threads(int(threads))  # the kernels' (and torch's, if imported) threads
        _STATE["threads"] = int(threads)
    get_enhancer(options)


def get_enhancer(options: BatchOptions):
    """The :class:`lowlight.Enhancer` for ``options.model``, built on first use in this process and
    cached (rebuilt only if the model options change)."""
    from lowlight.enhancer import Enhancer

    if _STATE["model"] != options.model:
        _STATE["enhancer"] = Enhancer.from_options(options.model)
        _STATE["model"] = options.model
    return _STATE["enhancer"]


def video_options(options: BatchOptions) -> TranscodeOptions:
    """The :class:`~lowlight.realtime.transcode.TranscodeOptions` of this worker's videos: ``overwrite``
    on (the driver decided the file must be written); encoder and inference threads default to this
    worker's share of the cores."""
    video = dataclasses.replace(options.video, overwrite=True)
    threads = _STATE["threads"]
    if threads:
        if not video.encode.threads:
            video = dataclasses.replace(video, encode=dataclasses.replace(video.encode, threads=threads))
        if video.processing.infer_threads is None:
            video = dataclasses.replace(video, processing=dataclasses.replace(video.processing,
                                                                              infer_threads=threads))
    return video


def _test_hooks(options: BatchOptions, job: Job) -> None:
    """The :data:`CRASH_ENV` / :data:`HANG_ENV` test hooks (no-ops unless set)."""
    if options.test_crash_on and job.src.name == options.test_crash_on:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
        time.sleep(10)  # pragma: no cover - the signal arrives first
    if options.test_hang_on and job.src.name == options.test_hang_on:
        while True:  # until the driver's stall watchdog kills this process
            time.sleep(1)


def process(job: Job, options: BatchOptions, progress: Optional[Callable[[int], None]] = None) -> dict:
    """Enhance ``job.src`` into ``job.dst``; returns its manifest record.

    Args:
        job: the file.
        options: the batch's :class:`BatchOptions`.
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
        enhancer = get_enhancer(options)
        if job.kind == "image":
            from lowlight.image_file import enhance_image_file

            enhance_image_file(job.src, job.dst, enhancer, options.quality)
            frames = 1
            if progress is not None:
                progress(1)
        else:
            from lowlight.realtime.transcode import transcode

            try:
                job.dst.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(f"{job.dst.parent}: cannot create output folder ({first_line(exc)})") from None
            on_frame = (lambda _frame, _info: progress(1)) if progress is not None else None
            result = transcode(job.src, job.dst, video_options(options), enhancer, on_frame=on_frame)
            frames = result.frames
            if result.not_copied:
                extra["not_copied"] = result.not_copied
            if result.damaged:
                error = result.damage_message(job.src, job.dst)
    except LowlightError as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - one file's bug must not end the batch
        error = f"{job.src}: unexpected {type(exc).__name__}: {first_line(exc)}"
    return make_record(job, "failed" if error else "done", frames=frames, seconds=time.perf_counter() - t0,
                       error=error, pid=os.getpid(), **extra)
