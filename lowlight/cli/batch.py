"""``lowlight batch``: enhance every image and video under a folder into the same layout elsewhere.

Local mode runs a pool of worker processes (:mod:`lowlight.batch.local`); ``--ray`` runs one
Ray task per file (:mod:`lowlight.batch.ray_runner`). Both resume: a file whose output is
complete is skipped (:mod:`lowlight.batch.manifest`). A bad file, or a worker that dies, is
recorded ``failed`` in the manifest and the batch goes on; the exit status is 1 if any file
failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

from lowlight.batch.discover import VIDEO_EXTENSIONS, Job, discover, remove_stale_temp_files
from lowlight.batch.manifest import MANIFEST_NAME, Manifest, load, make_record, needs_work
from lowlight.cli.options import (add_model_options, add_quality_option, add_video_options, enhancer_options,
                                  non_negative_float, positive_int, transcode_options)
from lowlight.errors import InputError


def register(sub) -> None:
    p = sub.add_parser(
        "batch", help="enhance every image and video under a folder (local processes or a Ray cluster)",
        description="Enhance every image and video under IN_DIR (recursively) into the same relative paths "
                    "under OUT_DIR, with the options of 'lowlight image' and 'lowlight video'. Outputs are written "
                    "atomically; a re-run skips files whose output is complete and newer than the input "
                    f"(--force redoes them). OUT_DIR/{MANIFEST_NAME} records every file (done, skipped, failed, "
                    "frames, seconds, error). A bad file or a crashed worker does not stop the batch; the exit "
                    "status is 1 if any file failed. Hidden and temporary files are ignored, and so is OUT_DIR "
                    "when it lies inside IN_DIR.")
    p.add_argument("input", metavar="IN_DIR", help="folder of images and videos (searched recursively)")
    p.add_argument("-o", "--output", required=True, metavar="OUT_DIR", help="folder for the enhanced files")
    g = p.add_argument_group("batch")
    g.add_argument("--workers", type=positive_int, metavar="N",
                   help="local worker processes (default: one per core; torch and encoder threads per worker: "
                        "cores // N); with --ray: at most N files in flight (default: all, Ray queues them)")
    g.add_argument("--ray", nargs="?", const=True, metavar="ADDRESS",
                   help="run one Ray task per file: bare --ray attaches to a local Ray instance or starts one, "
                        "--ray auto joins the running cluster, or give its address (host:6379, "
                        "ray://host:10001); every node must see IN_DIR and OUT_DIR at the same paths; "
                        "needs pip install 'lowlight[ray]'")
    g.add_argument("--pattern", metavar="GLOB",
                   help="only files matching GLOB, case-insensitive: against the file name ('*.mp4'), or the "
                        "relative path when GLOB contains '/' ('clips/*.mov'); default: every known image "
                        f"and video type ({' '.join(VIDEO_EXTENSIONS)} and the image types)")
    g.add_argument("--force", action="store_true", help="redo files whose output is already complete")
    g.add_argument("--stall-timeout", type=non_negative_float, default=600.0, metavar="S",
                   help="a worker that finishes no frame of its file for S seconds is stopped and the file "
                        "recorded failed (hung decoder or storage; with --ray after Ray's one retry); 0 waits "
                        "for ever (default: %(default)g)")
    add_quality_option(p)
    add_video_options(p)  # .webm outputs use vp9 unless --codec av1
    add_model_options(p)
    p.set_defaults(func=run)


def _largest_first(jobs: list[Job]) -> list[Job]:
    """Hand out long files first, so that one big video does not start last and finish alone."""
    return sorted(jobs, key=lambda j: (-(j.size or 0), j.rel))


def run(args: argparse.Namespace) -> int:
    from lowlight.atomic import new_folders
    from lowlight.batch.work import BatchOptions
    from lowlight.enhancer import Enhancer

    started = time.monotonic()
    in_dir, out_dir = Path(args.input), Path(args.output)
    jobs = discover(in_dir, out_dir, args.pattern)
    if not jobs:
        what = f"matching --pattern {args.pattern!r}" if args.pattern else "of a known type"
        raise InputError(f"{in_dir}: no images or videos {what} (hidden and temporary files are ignored)")
    previous = load(out_dir / MANIFEST_NAME)
    todo = [job for job in jobs if needs_work(job, previous.get(job.rel), args.force)]
    options = BatchOptions(model=enhancer_options(args), video=transcode_options(args, codec_fallback=True),
                           quality=args.quality).with_test_hooks()
    if todo:
        Enhancer.from_options(options.model)  # bad model options: one error now (and no output folder made)
    with new_folders(out_dir):
        return _run(args, out_dir, jobs, todo, options, started)


def _run(args: argparse.Namespace, out_dir: Path, jobs: list, todo: list, options, started: float) -> int:
    from tqdm import tqdm

    counts: Counter = Counter()
    frames = [0, 0]  # frames in finished files, frames seen by the progress bar
    with Manifest(out_dir / MANIFEST_NAME) as manifest:
        pending = {job.rel for job in todo}
        for job in jobs:
            if job.rel not in pending:
                manifest.append(make_record(job, "skipped"))
                counts["skipped"] += 1
        remove_stale_temp_files(todo)  # left by an earlier run that was killed
        bar = tqdm(total=len(todo), unit="file", desc="lowlight batch", file=sys.stderr, dynamic_ncols=True,
                   disable=not sys.stderr.isatty())

        def on_frames(n: int) -> None:
            frames[1] += n
            elapsed = max(1e-6, time.monotonic() - started)
            bar.set_postfix_str(f"{frames[1]} frames, {frames[1] / elapsed:.1f} frames/s", refresh=False)

        def on_result(record: dict) -> None:
            manifest.append(record)
            counts[record["status"]] += 1
            frames[0] += int(record.get("frames") or 0)
            if record["status"] == "failed":
                bar.write(f"lowlight batch: error: {record['error']}", file=sys.stderr)
            bar.update(1)

        todo = _largest_first(todo)
        try:
            if not todo:
                pass
            elif args.ray is not None:
                from lowlight.batch.ray_runner import run_ray

                run_ray(todo, options, None if args.ray is True else args.ray, on_result, on_frames,
                        max_in_flight=args.workers, stall_timeout=args.stall_timeout or None)
            else:
                from lowlight.batch.local import available_cores, run_local, threads_per_worker

                workers = min(args.workers or available_cores(), len(todo))
                run_local(todo, options, workers, threads_per_worker(workers), on_result, on_frames,
                          stall_timeout=args.stall_timeout or None)
        except KeyboardInterrupt:
            bar.close()
            print(summary(counts, time.monotonic() - started, frames[0]) + " (interrupted)", file=sys.stderr)
            raise
        bar.close()
    print(summary(counts, time.monotonic() - started, frames[0]), file=sys.stderr)
    if counts["failed"]:
        print(f"lowlight batch: {counts['failed']} file(s) failed; see {os.path.join(out_dir, MANIFEST_NAME)} "
              "(a re-run retries them)", file=sys.stderr)
        return 1
    return 0


def summary(counts: Counter, seconds: float, frames: int) -> str:
    """``lowlight batch: 12 done, 3 skipped, 1 failed in 8.2 s (1.5 files/s, 240 frames)``."""
    rate = counts["done"] / seconds if seconds > 0 else 0.0
    return (f"lowlight batch: {counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed "
            f"in {seconds:.1f} s ({rate:.1f} files/s, {frames} frames)")
