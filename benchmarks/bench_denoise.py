"""Denoising (issue 12): quality on clips with a known clean truth, and its cost in `lowlight video` / live.

Clips are built from clean, permissively licensed photos (scikit-image's CC0 / public-domain
``coffee``, ``astronaut``, ``chelsea``; the bundled ``dark_coffee.png`` derives from ``coffee``)
with a sensor noise model: the photo is taken to linear light, under-exposed by ``--exposure``,
turned into electrons (``--full-well`` e- at full scale), Poisson shot noise plus Gaussian read noise
(``--read`` e-) added, back to sRGB and rounded to 8 bits. The noise-free dark frame is kept, so the
truth is known: the truth of an output is the same curves (the maps estimated from the noisy frame)
applied to the noise-free dark frame, with denoising off.

Measured (``--denoise auto`` against ``--denoise off`` in the same run):

* static clip: per-pixel temporal noise of the output (std over frames, after a warm-up) and PSNR
  against the truth after mean matching (the output scaled per channel to the truth's mean);
* moving object (a patch of another photo gliding over a static background): the mean absolute
  error in the object's path (where it is or was the frame before), frame by frame;
* stills: noise amplification (std of output - truth over std of input - noise-free input) and
  SSIM against the truth; baseline: OpenCV ``fastNlMeansDenoisingColored`` before the curves;
* baselines on the static clips: the ffmpeg program's ``hqdn3d,eq=gamma=2`` on every clip (compared
  at equal brightness: temporal noise over mean brightness), and libavfilter's (PyAV's
  ``av.filter.Graph``) denoiser before a gamma-2 curve on ``coffee``;
* speed: ``lowlight video`` (the Transcode API the command runs) at 640x480 / 1280x720 /
  1920x1080 with auto vs off on a noisy H.264 clip, medians over ``--repeats``; live 640x480 @ 30
  latency and drops (a paced file played as a camera).

Usage::

    python benchmarks/bench_denoise.py [--quality] [--speed] [--live] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, default_weights  # noqa: E402


# --- sensor model -----------------------------------------------------------------------------------
def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


class Sensor:
    """Dark exposure of a clean sRGB photo with shot + read noise (see the module docstring)."""

    def __init__(self, exposure: float = 0.1, full_well: float = 2000.0, read: float = 3.0) -> None:
        self.exposure, self.full_well, self.read = exposure, full_well, read

    def linear(self, clean_u8: np.ndarray) -> np.ndarray:
        return srgb_to_linear(clean_u8.astype(np.float64) / 255.0) * self.exposure

    def clean(self, lin: np.ndarray) -> np.ndarray:
        return np.round(linear_to_srgb(lin) * 255.0).astype(np.uint8)

    def noisy(self, lin: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        electrons = rng.poisson(lin * self.full_well) + rng.normal(0.0, self.read, lin.shape)
        return np.round(linear_to_srgb(electrons / self.full_well) * 255.0).astype(np.uint8)


def photos() -> dict:
    import cv2
    from skimage import data

    out = {"coffee": data.coffee(), "astronaut": data.astronaut(), "chelsea": data.chelsea()}
    dark = cv2.cvtColor(cv2.imread(str(REPO / "lowlight" / "samples" / "dark_coffee.png")), cv2.COLOR_BGR2RGB)
    out["dark_coffee(bundled, x1)"] = dark  # already dark: used at exposure 1
    return out


def fit(img: np.ndarray, w: int, h: int) -> np.ndarray:
    import cv2

    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


# --- metrics ------------------------------------------------------------------------------------------
def mean_match(out: np.ndarray, truth: np.ndarray) -> np.ndarray:
    o = out.astype(np.float64)
    t = truth.astype(np.float64)
    scale = t.reshape(-1, 3).mean(0) / np.maximum(o.reshape(-1, 3).mean(0), 1e-6)
    return np.clip(o * scale, 0, 255)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-12))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a, b, channel_axis=2, data_range=255))


# --- quality ----------------------------------------------------------------------------------------
def truth_of(enh, clean_dark: np.ndarray, maps) -> np.ndarray:
    from lowlight.kernels import enhance_frame

    return enhance_frame(clean_dark, maps, enh.model.iterations, enh.strength)


def static_clip(enh_factory, photo: np.ndarray, sensor: Sensor, frames: int, warm: int, seed: int) -> dict:
    from lowlight.realtime import FrameProcessor

    rng = np.random.default_rng(seed)
    lin = sensor.linear(photo)
    clean = sensor.clean(lin)
    inputs = [sensor.noisy(lin, rng) for _ in range(frames)]
    res = {}
    for mode in ("off", "auto"):
        enh = enh_factory(mode)
        proc = FrameProcessor(enh, smooth=0.8, estimate_every=3)  # lowlight video's defaults
        outs, truths = [], []
        for f in inputs:
            outs.append(proc.process(f))
            truths.append(truth_of(enh, clean, proc.smoother.maps))
        o = np.stack(outs[warm:]).astype(np.float64)
        from lowlight.realtime.flicker import flicker

        res[mode] = {
            "flicker": flicker(outs[warm:]),
            "temporal_noise": float(o.std(0).mean()),
            "psnr": float(np.mean([psnr(mean_match(x, t), t) for x, t in zip(outs[warm:], truths[warm:])])),
            "input_noise": float(np.stack(inputs[warm:]).astype(np.float64).std(0).mean()),
            "mean": float(o.mean()),
        }
    return res


GAMMA2 = "r=255*sqrt(val/255):g=255*sqrt(val/255):b=255*sqrt(val/255)"  # eq=gamma=2 as an RGB lookup table


def libav_baseline(photo: np.ndarray, sensor: Sensor, frames: int, warm: int, seed: int) -> dict:
    """libavfilter's temporal denoiser + gamma 2 vs gamma 2 alone (temporal noise of the output).

    ``hqdn3d`` and ``eq`` when this libavfilter has them (PyAV's wheels build without GPL filters,
    so usually not); otherwise ``atadenoise`` (adaptive temporal averaging) and ``lutrgb`` with the
    same gamma-2 curve.
    """
    import av

    have = av.filter.filters_available
    denoiser = "hqdn3d" if "hqdn3d" in have else "atadenoise"
    gamma = ("eq", "gamma=2") if "eq" in have else ("lutrgb", GAMMA2)

    rng = np.random.default_rng(seed)
    lin = sensor.linear(photo)
    inputs = [sensor.noisy(lin, rng) for _ in range(frames)]
    h, w = photo.shape[:2]
    out = {}
    for name, chain in (("gamma", [gamma]), ("denoise,gamma", [(denoiser, None), gamma])):
        graph = av.filter.Graph()
        src = graph.add_buffer(width=w, height=h, format="rgb24", time_base=__import__("fractions").Fraction(1, 30))
        last = src
        for fname, arg in chain:
            node = graph.add(fname, arg) if arg else graph.add(fname)
            last.link_to(node)
            last = node
        sink = graph.add("buffersink")
        last.link_to(sink)
        graph.configure()
        outs = []

        def drain():
            while True:
                try:
                    outs.append(graph.pull().to_ndarray(format="rgb24"))
                except (av.error.BlockingIOError, av.error.EOFError):
                    return

        for i, f in enumerate(inputs):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            vf.pts = i
            graph.push(vf)
            drain()  # a centred temporal filter holds frames back (latency), so pulls may come later
        graph.push(None)
        drain()
        out[name] = float(np.stack(outs[warm:]).astype(np.float64).std(0).mean())
    out["chain"] = f"{denoiser},{gamma[0]}"
    return out


def ffmpeg_baseline(photo: np.ndarray, sensor: Sensor, frames: int, warm: int, seed: int) -> dict:
    """The ffmpeg program's ``eq=gamma=2`` and ``hqdn3d,eq=gamma=2`` on the same noisy static frames
    (raw RGB through a pipe, 4:4:4, no codec): temporal noise and mean brightness of each output."""
    import shutil
    import subprocess

    exe = shutil.which("ffmpeg")
    if exe is None:
        raise RuntimeError("no ffmpeg program")
    rng = np.random.default_rng(seed)
    lin = sensor.linear(photo)
    inputs = np.stack([sensor.noisy(lin, rng) for _ in range(frames)])
    h, w = photo.shape[:2]
    out = {}
    for name, vf in (("eq", "eq=gamma=2"), ("hqdn3d,eq", "hqdn3d,eq=gamma=2")):
        cmd = [exe, "-nostdin", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
               "-r", "30", "-i", "-", "-vf", f"format=yuv444p,{vf},format=rgb24", "-f", "rawvideo", "-"]
        raw = subprocess.run(cmd, input=inputs.tobytes(), capture_output=True, check=True).stdout
        o = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)[warm:].astype(np.float64)
        out[name] = {"temporal_noise": float(o.std(0).mean()), "mean": float(o.mean())}
    return out


def moving_object(enh_factory, background: np.ndarray, patch: np.ndarray, sensor: Sensor, frames: int,
                  start: int, step: int, seed: int) -> dict:
    from lowlight.realtime import FrameProcessor

    H, W = background.shape[:2]
    ph, pw = patch.shape[:2]
    y0 = (H - ph) // 2
    rng = np.random.default_rng(seed)

    def position(t: int) -> int:
        return 8 + step * max(0, t - start)

    lins, masks = [], []
    for t in range(frames):
        img = background.copy()
        x = position(t)
        img[y0:y0 + ph, x:x + pw] = patch
        lins.append(sensor.linear(img))
        m = np.zeros((H, W), bool)
        for xx in (x, position(t - 1) if t else x):
            m[y0:y0 + ph, xx:xx + pw] = True
        masks.append(m)
    inputs = [sensor.noisy(lin, rng) for lin in lins]
    cleans = [sensor.clean(lin) for lin in lins]
    res = {}
    for mode in ("off", "auto"):
        enh = enh_factory(mode)
        proc = FrameProcessor(enh, smooth=0.8, estimate_every=3)
        errs = []
        for t, f in enumerate(inputs):
            out = proc.process(f)
            truth = truth_of(enh, cleans[t], proc.smoother.maps)
            errs.append(float(np.abs(out.astype(np.float64) - truth)[masks[t]].mean()))
        res[mode] = errs
    return res


def stills(enh_factory, photo: np.ndarray, sensor: Sensor, seed: int) -> dict:
    import cv2

    rng = np.random.default_rng(seed)
    lin = sensor.linear(photo)
    clean = sensor.clean(lin)
    noisy = sensor.noisy(lin, rng)
    in_noise = float((noisy.astype(np.float64) - clean).std())
    res = {"input_noise": in_noise}
    enh_off = enh_factory("off")
    maps = enh_off.estimator.maps(noisy)
    truth = truth_of(enh_off, clean, maps)
    from lowlight.kernels import enhance_frame

    t0 = time.perf_counter()
    off = enh_off.enhance(noisy)
    t_off = time.perf_counter() - t0
    enh_auto = enh_factory("auto")
    t0 = time.perf_counter()
    auto = enh_auto.enhance(noisy)
    t_auto = time.perf_counter() - t0
    sigma = enh_auto.noise_model(noisy)
    h = max(3.0, 1.2 * (sigma.sigma(float(noisy.mean())) if sigma else 3.0))
    t0 = time.perf_counter()
    nlm_in = cv2.cvtColor(cv2.fastNlMeansDenoisingColored(cv2.cvtColor(noisy, cv2.COLOR_RGB2BGR), None, h, h, 7, 21),
                          cv2.COLOR_BGR2RGB)
    nlm = enhance_frame(nlm_in, maps, enh_off.model.iterations, enh_off.strength)
    t_nlm = time.perf_counter() - t0
    for name, out, sec in (("off", off, t_off), ("auto", auto, t_auto), (f"nlm(h={h:.1f})", nlm, t_nlm)):
        res[name] = {"amplification": float((out.astype(np.float64) - truth).std()) / in_noise,
                     "ssim": ssim(out, truth), "psnr": psnr(mean_match(out, truth), truth), "ms": sec * 1e3}
    return res


def quality(weights, args) -> None:
    from lowlight import Enhancer

    cache = {}

    def enh_factory(mode):
        if mode not in cache:
            cache[mode] = Enhancer(weights=weights, denoise=mode)
        return cache[mode]

    sensor = Sensor(args.exposure, args.full_well, args.read)
    pics = photos()
    w, h = args.clip_size
    print(f"\nsensor: exposure x{args.exposure}, full well {args.full_well:g} e-, read noise {args.read:g} e-; "
          f"clips {w}x{h}, {args.frames} frames, metrics after frame {args.warm}; FrameProcessor with lowlight "
          "video's defaults (--smooth 0.8 --estimate-every 3), raw frames (no codec)")
    print("\n### Static clip: temporal noise and PSNR (target: noise <= 0.35x off, PSNR >= +4 dB)\n")
    print("| photo | input noise (levels) | off: noise / PSNR | auto: noise / PSNR | noise ratio | PSNR gain | "
          "flicker mean / local off -> auto | met |")
    print("|---|---|---|---|---|---|---|---|")
    static = {}
    for name, img in pics.items():
        s = sensor if "bundled" not in name else Sensor(1.0, args.full_well * args.exposure, args.read)
        r = static[name] = static_clip(enh_factory, fit(img, w, h), s, args.frames, args.warm, seed=1)
        ratio = r["auto"]["temporal_noise"] / r["off"]["temporal_noise"]
        gain = r["auto"]["psnr"] - r["off"]["psnr"]
        print(f"| {name} | {r['off']['input_noise']:.2f} | {r['off']['temporal_noise']:.2f} / {r['off']['psnr']:.2f} | "
              f"{r['auto']['temporal_noise']:.2f} / {r['auto']['psnr']:.2f} | {ratio:.2f} | {gain:+.2f} dB | "
              f"{r['off']['flicker']['mean']:.2f} / {r['off']['flicker']['local']:.2f} -> "
              f"{r['auto']['flicker']['mean']:.2f} / {r['auto']['flicker']['local']:.2f} | "
              f"{'yes' if ratio <= 0.35 and gain >= 4 else 'NO'} |")
    # the issue's baseline: ffmpeg hqdn3d,eq=gamma=2 on the same frames, compared at equal brightness
    # (temporal noise as a fraction of the output's mean brightness), on every clip
    print("\n### ffmpeg `hqdn3d,eq=gamma=2` at equal brightness (temporal noise / mean; target: auto below "
          "hqdn3d)\n")
    print("| photo | ffmpeg eq=gamma=2 | ffmpeg hqdn3d,eq=gamma=2 | lowlight off | lowlight auto | auto / hqdn3d | "
          "means ffmpeg / auto | met |")
    print("|---|---|---|---|---|---|---|---|")
    for name, img in pics.items():
        s = sensor if "bundled" not in name else Sensor(1.0, args.full_well * args.exposure, args.read)
        try:
            f = ffmpeg_baseline(fit(img, w, h), s, args.frames, args.warm, seed=1)
        except Exception as exc:  # noqa: BLE001 - report, do not fail the run
            print(f"| {name} | ffmpeg baseline unavailable: {exc} |")
            break
        r = static[name]
        ours = {m: r[m]["temporal_noise"] / r[m]["mean"] for m in ("off", "auto")}
        theirs = {k: v["temporal_noise"] / v["mean"] for k, v in f.items()}
        rel = ours["auto"] / theirs["hqdn3d,eq"]
        print(f"| {name} | {theirs['eq']:.4f} | {theirs['hqdn3d,eq']:.4f} | {ours['off']:.4f} | {ours['auto']:.4f} | "
              f"{rel:.2f}x | {f['hqdn3d,eq']['mean']:.1f} / {r['auto']['mean']:.1f} | {'yes' if rel < 1 else 'NO'} |")
    try:
        b = libav_baseline(fit(pics["coffee"], w, h), sensor, args.frames, args.warm, seed=1)
        print(f"\nlibavfilter baseline (coffee, PyAV av.filter.Graph; hqdn3d/eq {'present' if 'hqdn3d' in b['chain'] else 'absent, so'} "
              f"{b['chain']}): temporal noise gamma-2 alone {b['gamma']:.2f}, with the denoiser {b['denoise,gamma']:.2f} "
              f"(ratio {b['denoise,gamma'] / b['gamma']:.2f})")
    except Exception as exc:  # noqa: BLE001 - report, do not fail the run
        print(f"\nlibavfilter baseline unavailable: {exc}")

    print("\n### Moving object: mean |error| in the object's path, levels (target: from the 3rd frame after "
          "motion starts, auto <= off + 2)\n")
    bg = fit(pics["coffee"], w, h)
    patch = fit(pics["astronaut"], w // 5, h // 4)
    start = args.warm
    r = moving_object(enh_factory, bg, patch, sensor, start + 16, start, args.step, seed=2)
    print("| frame after motion start | " + " | ".join(str(t - start) for t in range(start, start + 16)) + " |")
    print("|---|" + "---|" * 16)
    for mode in ("off", "auto"):
        print(f"| {mode} | " + " | ".join(f"{e:.1f}" for e in r[mode][start:start + 16]) + " |")
    excess = [a - o for a, o in zip(r["auto"][start + 3:], r["off"][start + 3:])]
    print(f"\nworst auto - off from the 3rd frame on: {max(excess):+.2f} levels "
          f"({'met' if max(excess) <= 2 else 'NOT met'}); object {patch.shape[1]}x{patch.shape[0]} moving "
          f"{args.step} px/frame")

    print("\n### Stills: noise amplification and SSIM against the truth (target: amplification <= 0.6x off, "
          "SSIM higher)\n")
    print("| photo | input noise | off: ampl. / SSIM | auto: ampl. / SSIM / ms | OpenCV NLM+curves: ampl. / SSIM / ms | "
          "ampl. ratio | met |")
    print("|---|---|---|---|---|---|---|")
    for name, img in pics.items():
        s = sensor if "bundled" not in name else Sensor(1.0, args.full_well * args.exposure, args.read)
        r = stills(enh_factory, img, s, seed=3)
        nlm = [k for k in r if k.startswith("nlm")][0]
        ratio = r["auto"]["amplification"] / r["off"]["amplification"]
        print(f"| {name} {img.shape[1]}x{img.shape[0]} | {r['input_noise']:.2f} | {r['off']['amplification']:.2f} / "
              f"{r['off']['ssim']:.3f} | {r['auto']['amplification']:.2f} / {r['auto']['ssim']:.3f} / "
              f"{r['auto']['ms']:.0f} | {r[nlm]['amplification']:.2f} / {r[nlm]['ssim']:.3f} / {r[nlm]['ms']:.0f} "
              f"({nlm}) | {ratio:.2f} | {'yes' if ratio <= 0.6 and r['auto']['ssim'] > r['off']['ssim'] else 'NO'} |")


# --- speed --------------------------------------------------------------------------------------------
def noisy_clip(path: Path, w: int, h: int, frames: int, sensor: Sensor, fps: int = 30) -> Path:
    """An H.264 (CRF 18) clip of the coffee photo panning slowly, with the sensor noise model."""
    import av
    from skimage import data

    base = fit(data.coffee(), int(w * 1.1) + 2, int(h * 1.1) + 2)
    lin = sensor.linear(base)
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=fps, options={"preset": "veryfast", "crf": "18"})
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        for i in range(frames):
            x0 = int(i * 0.5) % max(1, base.shape[1] - w)
            img = sensor.noisy(lin[:h, x0:x0 + w], rng)
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            f.pts = i
            c.mux(v.encode(f))
        c.mux(v.encode(None))
    return path


def speed(weights, args) -> None:
    from lowlight import Enhancer
    from lowlight.realtime.options import ProcessingOptions
    from lowlight.realtime.transcode import EncodeOptions, Transcode, TranscodeOptions

    sensor = Sensor(args.exposure, args.full_well, args.read)
    print(f"\n### `lowlight video` speed, --denoise auto vs off ({args.speed_frames} frames, medians of "
          f"{args.repeats} runs after 1 warm-up; libx264 veryfast; --smooth 0.8 --estimate-every 3)\n")
    print("| size | off fps | auto fps | auto/off | apply ms/frame off / auto | target (1080p >= 0.85) |")
    print("|---|---|---|---|---|---|")
    enh = {m: Enhancer(weights=weights, denoise=m) for m in ("off", "auto")}
    with tempfile.TemporaryDirectory() as tmp:
        for w, h in args.sizes:
            clip = noisy_clip(Path(tmp) / f"in{w}.mp4", w, h, args.speed_frames, sensor)
            fps = {"off": [], "auto": []}
            apply = {"off": [], "auto": []}
            for rep in range(args.repeats + 1):
                for mode in ("off", "auto") if rep % 2 == 0 else ("auto", "off"):  # alternate the order
                    out = Path(tmp) / f"out{w}{mode}{rep}.mp4"
                    opts = TranscodeOptions(encode=EncodeOptions(preset="veryfast"),
                                            processing=ProcessingOptions(smooth=0.8, estimate_every=3),
                                            copy_streams=False, overwrite=True)
                    t0 = time.perf_counter()
                    result = Transcode(str(clip), str(out), opts).run(enh[mode])
                    sec = time.perf_counter() - t0
                    if rep:
                        fps[mode].append(result.stats.frames_out / sec)
                        apply[mode].append(result.stats.stage_ms().get("apply", 0.0))
                    out.unlink()
            f_off, f_auto = statistics.median(fps["off"]), statistics.median(fps["auto"])
            target = ("met" if f_auto / f_off >= 0.85 else "NOT met") if (w, h) == (1920, 1080) else "-"
            print(f"| {w}x{h} | {f_off:.1f} | {f_auto:.1f} | {f_auto / f_off:.2f} | "
                  f"{statistics.median(apply['off']):.1f} / {statistics.median(apply['auto']):.1f} | {target} |")


def live(weights, args) -> None:
    from lowlight import Enhancer
    from lowlight.realtime import Pipeline, Sink
    from lowlight.realtime.media.camera_source import CameraSource

    class Discard(Sink):
        def write(self, frame) -> None:
            pass

    sensor = Sensor(args.exposure, args.full_well, args.read)
    n = int(args.live_seconds * 30)
    print(f"\n### Live 640x480 @ 30 fps (paced file as a camera, {n} frames, --smooth 0.8, no display; target: "
          "0 drops, p99 < 30 ms)\n")
    print("| denoise | out fps | dropped | latency p50 / p95 / p99 ms | apply ms/frame | met |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        clip = noisy_clip(Path(tmp) / "live.mp4", 640, 480, n, sensor)
        for mode in ("off", "auto"):
            enh = Enhancer(weights=weights, denoise=mode)
            stats = Pipeline(CameraSource(str(clip)), Discard(), enh, mode="live", smooth=0.8).run()
            lat = stats.latency_ms()
            ok = stats.dropped == 0 and lat["p99"] < 30
            print(f"| {mode} | {stats.fps:.1f} | {stats.dropped} | {lat['p50']:.1f} / {lat['p95']:.1f} / "
                  f"{lat['p99']:.1f} | {stats.stage_ms().get('apply', 0):.1f} | {'yes' if ok else 'NO'} |")


def crops(weights, out_path: Path, seed: int = 3) -> Path:
    """``benchmarks/figures/denoise_crops.png``: 3x crops of a noisy dark still (astronaut, the sensor
    model) and of frame 30 of a static noisy clip (coffee), enhanced with ``--denoise off`` and ``auto``;
    labelled, left to right: noisy input (x4 brighter, to be seen), off, auto, the clean truth."""
    import cv2

    from lowlight import Enhancer
    from lowlight.realtime import FrameProcessor

    sensor = Sensor()
    pics = photos()
    rows = []
    for name, img, video in (("still: astronaut", fit(pics["astronaut"], 320, 320), False),
                             ("video frame 30: coffee", fit(pics["coffee"], 320, 240), True)):
        rng = np.random.default_rng(seed)
        lin = sensor.linear(img)
        clean, outs = sensor.clean(lin), {}
        frames = [sensor.noisy(lin, rng) for _ in range(31 if video else 1)]
        for mode in ("off", "auto"):
            enh = Enhancer(weights=weights, denoise=mode)
            if video:
                proc = FrameProcessor(enh, smooth=0.8, estimate_every=3)
                for f in frames:
                    outs[mode] = proc.process(f)
                maps = proc.smoother.maps
            else:
                outs[mode] = enh.enhance(frames[0])
                maps = enh.estimator.maps(frames[0])
            truth = truth_of(enh, clean, maps)
        y0, x0 = img.shape[0] // 3, img.shape[1] // 3
        panel = [np.clip(frames[-1].astype(np.int32) * 4, 0, 255).astype(np.uint8), outs["off"], outs["auto"], truth]
        tiles = []
        for label, t in zip(("noisy input x4", "--denoise off", "--denoise auto", "clean truth"), panel):
            c = cv2.resize(np.ascontiguousarray(t[y0:y0 + 100, x0:x0 + 100]), (300, 300), interpolation=cv2.INTER_NEAREST)
            c = cv2.cvtColor(c, cv2.COLOR_RGB2BGR)
            cv2.putText(c, label, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
            tiles.append(c)
        row = np.concatenate(tiles, axis=1)
        cv2.putText(row, name, (6, 292), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 255, 255), 1, cv2.LINE_AA)
        rows.append(row)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out_path), np.concatenate(rows, axis=0))
    return out_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quality", action="store_true")
    ap.add_argument("--crops", action="store_true", help="write benchmarks/figures/denoise_crops.png and stop")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--live", action="store_true")
    ap.add_argument("--weights")
    ap.add_argument("--exposure", type=float, default=0.1)
    ap.add_argument("--full-well", type=float, default=2000.0)
    ap.add_argument("--read", type=float, default=3.0)
    ap.add_argument("--clip-size", type=lambda t: tuple(int(v) for v in t.split("x")), default=(320, 240))
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--warm", type=int, default=15)
    ap.add_argument("--step", type=int, default=4)
    ap.add_argument("--sizes", type=lambda t: [tuple(int(v) for v in s.split("x")) for s in t.split(",")],
                    default=[(640, 480), (1280, 720), (1920, 1080)])
    ap.add_argument("--speed-frames", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--live-seconds", type=float, default=10.0)
    args = ap.parse_args()
    if args.crops:
        print(f"wrote {crops(args.weights or default_weights(), REPO / 'benchmarks' / 'figures' / 'denoise_crops.png')}")
        return
    if not (args.quality or args.speed or args.live):
        args.quality = args.speed = args.live = True
    import torch

    weights = args.weights or default_weights()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared with other "
          f"jobs), torch {torch.__version__} ({torch.get_num_threads()} threads); weights {weights or 'bundled'}")
    if args.quality:
        quality(weights, args)
    if args.speed:
        speed(weights, args)
    if args.live:
        live(weights, args)


if __name__ == "__main__":
    main()
