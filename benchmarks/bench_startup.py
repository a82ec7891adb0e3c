"""Start-up of ``lowlight video`` (issue 13, "start without torch"): this tree against another, alternately.

Usage::

    python benchmarks/bench_startup.py --before /work/main/.venv/bin/python [--runs 7]
        [--clip lowlight/samples/dark_coffee.mp4] [--json FILE]

``--before`` is the python of another checkout's environment with lowlight installed from that
checkout (``pip install -e``); every command runs from a scratch folder, so each python imports its
own installed tree.

Per run, and alternating between the two trees (so drift in the machine's load hits both alike):
``lowlight --help`` (whole process); ``lowlight video CLIP -o OUT --overwrite`` with default settings
on the bundled sample (3 s, 480x320, H.264 + AAC), the whole command; and the same on a 2 s 1920x1080
clip (:func:`common.make_clip`) for the time from start to the first encoded frame (the hidden
``.part`` output growing past the container header, :func:`bench_command.timed`: the muxer writes in
32 KB blocks, which the sample's whole output barely fills, so the first frame is timed where its
first key frame alone is larger). One untimed warm-up run of each first (the ONNX cache, the page
cache). Reported: medians over ``runs``, and which heavy modules a ``lowlight video`` run of each
tree imports.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_command import timed  # noqa: E402
from common import machine_info, make_clip  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PROBE = ("import sys\nfrom lowlight.cli import main\nmain(sys.argv[1:])\n"
         "print(sorted(m for m in ('torch', 'cv2', 'av', 'onnxruntime', 'onnx') if m in sys.modules), file=sys.stderr)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="python of the tree to compare with (its venv)")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--clip", default=str(REPO / "lowlight" / "samples" / "dark_coffee.mp4"))
    ap.add_argument("--json")
    args = ap.parse_args()
    clip = str(Path(args.clip).resolve())
    json_out = Path(args.json).resolve() if args.json else None
    trees = {"before": args.before, "after": sys.executable}
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"  # leave the other checkout untouched
    report = {"machine": machine_info(), "clip": clip, "runs": args.runs, "trees": {}, "imports": {}}
    times = {t: {"help": [], "video": [], "video_1080p": [], "first_frame": []} for t in trees}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        os.chdir(tmp)  # not a checkout: ``python -m lowlight`` must not pick up a tree from the working folder
        out = Path(tmp) / "out.mp4"
        big = make_clip(Path(tmp) / "clip_1080p.mp4", 1920, 1080, 60, fps=30, audio=True)

        def run(tree: str, record: bool) -> None:
            python = trees[tree]
            help_s = timed([python, "-m", "lowlight", "--help"])[0]
            video_s = timed([python, "-m", "lowlight", "video", clip, "-o", str(out), "--overwrite"])[0]
            big_s, first = timed([python, "-m", "lowlight", "video", str(big), "-o", str(out), "--overwrite"],
                                 watch=out)
            if record:
                times[tree]["help"].append(help_s)
                times[tree]["video"].append(video_s)
                times[tree]["video_1080p"].append(big_s)
                times[tree]["first_frame"].append(first)

        for tree, python in trees.items():
            run(tree, record=False)
            res = subprocess.run([python, "-c", PROBE, "video", clip, "-o", str(out), "--overwrite"],
                                 capture_output=True, text=True)
            report["imports"][tree] = res.stderr.strip().splitlines()[-1]
        for _ in range(args.runs):
            for tree in trees:
                run(tree, record=True)
    for tree, t in times.items():
        report["trees"][tree] = {k: statistics.median([v for v in vs if v is not None]) for k, vs in t.items()}
        report["trees"][tree]["runs"] = t
    print("| tree | lowlight --help s | lowlight video, sample, whole s | 1080p 2 s clip, whole s | "
          "1080p: first encoded frame s | heavy modules a video run imports |")
    print("|---|---|---|---|---|---|")
    for tree, t in report["trees"].items():
        print(f"| {tree} | {t['help']:.2f} | {t['video']:.2f} | {t['video_1080p']:.2f} | {t['first_frame']:.2f} | "
              f"{report['imports'][tree]} |")
    if json_out:
        json_out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
