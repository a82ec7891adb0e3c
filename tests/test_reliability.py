"""Bad input, signals and outputs that play everywhere (issue 14): real files, real encodes, real processes."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from lowlight.cli import main
from lowlight.errors import WeightsError

from realtime_clips import brightening_weights, dark_frames, leftovers, make_clip, read_video


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return brightening_weights(tmp_path_factory.mktemp("w") / "w.pt")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "c.mp4", dark_frames(12), audio=True)


def one_error_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# --- errors that name the problem ------------------------------------------------------------------
def test_encoder_preset_and_file_errors_are_named(tmp_path, clip, weights, capsys):
    out = tmp_path / "o.mp4"
    base = ["video", str(clip), "-o", str(out), "--weights", str(weights)]
    cases = [(["--preset", "banana"], "--preset banana: not a preset of libx264")]
    try:
        av.codec.Codec("h264_nvenc", "w")
        cases.append((["--codec", "h264_nvenc"], "--codec h264_nvenc: the h264_nvenc encoder cannot start here"))
    except Exception:  # noqa: BLE001 - this FFmpeg build has no NVENC wrapper at all: nothing to test
        pass
    for extra, message in cases:
        assert main(base + extra) == 1
        line = one_error_line(capsys.readouterr().err)
        assert message in line and "container" not in line, line
    assert main(["video", str(clip), "-o", "/proc/lowlight-out.mp4", "--weights", str(weights)]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "/proc" in line and "not writable" in line and "container" not in line
    assert leftovers(tmp_path) == [] and not out.exists()


def test_container_error_suggests_a_container_that_holds_the_stream(tmp_path):
    from lowlight.realtime.media.video_sink import VideoFileSink

    mkv = VideoFileSink(tmp_path / "o.mkv")._container_error("the mov_text subtitle stream #2 of the input", "mov_text")
    assert ".mp4" in str(mkv) and "such as .mkv" not in str(mkv)
    mp4 = VideoFileSink(tmp_path / "o.mp4")._container_error("the pcm_s16le audio stream #1 of the input", "pcm_s16le")
    assert ".mkv" in str(mp4) and "--no-audio" in str(mp4)


@pytest.mark.parametrize("command", ["image", "video", "live", "batch"])
@pytest.mark.parametrize("args,message", [
    (["--strength", "nan"], "finite"), (["--strength", "inf"], "finite"), (["--strength", "-1"], "finite"),
    (["--estimate-size", "128", "--scale-factor", "12"], "not allowed with"),
])
def test_bad_model_option_values_are_refused(command, args, message, tmp_path, capsys):
    target = {"image": [str(tmp_path / "a.png"), "-o", str(tmp_path / "o")],
              "video": [str(tmp_path / "a.mp4"), "-o", str(tmp_path / "o.mp4")],
              "live": ["--no-display"], "batch": [str(tmp_path), "-o", str(tmp_path / "o")]}[command]
    with pytest.raises(SystemExit) as exc:
        main([command, *target, *args])
    assert exc.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("command,args,message", [
    ("video", ["--crf", "1000"], "between 0 and 63"), ("video", ["--crf", "-1"], "between 0 and 63"),
    ("batch", ["--quality", "0"], "between 1 and 100"), ("image", ["--quality", "101"], "between 1 and 100"),
    ("video", ["--bitrate", "fast"], "4M or 800k"),
])
def test_bad_encoding_option_values_are_refused(command, args, message, tmp_path, capsys):
    target = {"image": [str(tmp_path / "a.png"), "-o", str(tmp_path / "o")],
              "video": [str(tmp_path / "a.mp4"), "-o", str(tmp_path / "o.mp4")],
              "batch": [str(tmp_path), "-o", str(tmp_path / "o")]}[command]
    with pytest.raises(SystemExit) as exc:
        main([command, *target, *args])
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_crf_beyond_the_codec_range(tmp_path, clip, weights, capsys):
    assert main(["video", str(clip), "-o", str(tmp_path / "o.mp4"), "--crf", "60", "--weights", str(weights)]) == 1
    assert "h264 takes 0 (best) to 51" in one_error_line(capsys.readouterr().err)


def test_strength_nan_in_the_api_is_a_lowlight_error(weights):
    from lowlight import Enhancer, LowlightError

    with pytest.raises(LowlightError, match="finite"):
        Enhancer(weights=weights, strength=float("nan"))


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("true",))


@pytest.fixture()
def photo_dir(tmp_path) -> Path:
    d = tmp_path / "photos"
    d.mkdir()
    import cv2

    rng = np.random.default_rng(0)
    for i in range(2):
        cv2.imwrite(str(d / f"p{i}.png"), rng.integers(0, 255, (40, 40, 3), dtype=np.uint8))
    return d


def _train(photo_dir, out, *extra) -> int:
    return main(["train", str(photo_dir), "-o", str(out), "--steps", "2", "--batch-size", "1", "--crop", "32",
                 "--quiet", "--checkpoint-every", "1", *extra])


def test_train_resume_with_bad_checkpoints(tmp_path, photo_dir, capsys):
    out = tmp_path / "w.pt"
    ckpt = tmp_path / "w.pt.ckpt"
    assert _train(photo_dir, out) == 0
    good = ckpt.read_bytes()
    capsys.readouterr()
    cases = {
        "truncated": lambda: ckpt.write_bytes(good[: len(good) // 2]),
        "malicious": lambda: torch.save({"state_dict": _RunsCode()}, ckpt),
        "wrong model": lambda: (_train(photo_dir, tmp_path / "d.pt", "--model", "zero-dce"),
                                ckpt.write_bytes((tmp_path / "d.pt.ckpt").read_bytes())),
        "weights, not a training state": lambda: ckpt.write_bytes(out.read_bytes()),
        "not a checkpoint": lambda: ckpt.write_bytes(pickle.dumps([1, 2, 3])),
    }
    for name, damage in cases.items():
        damage()
        capsys.readouterr()
        assert _train(photo_dir, out, "--resume") == 1, name
        line = one_error_line(capsys.readouterr().err)
        assert str(ckpt) in line and "weights_only=False" not in line, (name, line)


def test_nan_weights_are_refused(tmp_path):
    from lowlight import load_model
    from lowlight.models import ZeroDCEPP
    from lowlight.weights import save_checkpoint

    model = ZeroDCEPP()
    with torch.no_grad():
        model.e_conv3.point_conv.weight[0, 0] = float("nan")
    save_checkpoint(tmp_path / "nan.pt", model)
    with pytest.raises(WeightsError, match="NaN or infinite"):
        load_model(tmp_path / "nan.pt")


def test_load_model_is_an_inference_model():
    from lowlight import load_model

    m = load_model("zero-dce++")
    assert not m.training and not any(p.requires_grad for p in m.parameters())
    assert m(torch.rand(1, 3, 16, 16)).requires_grad is False


def test_train_and_bench_outputs_need_overwrite(tmp_path, photo_dir, capsys):
    out = tmp_path / "w.pt"
    out.write_bytes(b"keep me")
    assert _train(photo_dir, out) == 1
    assert "use --overwrite" in one_error_line(capsys.readouterr().err) and out.read_bytes() == b"keep me"
    assert _train(photo_dir, out, "--overwrite") == 0


def test_missing_output_folders_are_created_and_removed_after_a_failure(tmp_path, clip, weights, capsys):
    out = tmp_path / "new" / "deeper" / "x.mp4"
    assert main(["video", str(clip), "-o", str(out), "--weights", str(weights), "--preset", "ultrafast"]) == 0
    assert len(read_video(out)["frames"]) == 12
    capsys.readouterr()
    failed = tmp_path / "gone" / "x.mp4"
    assert main(["video", str(clip), "-o", str(failed), "--weights", str(weights), "--backend", "tensorrt"]) == 1
    assert "tensorrt" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "gone").exists()
    assert main(["image", str(tmp_path / "missing.png"), "-o", str(tmp_path / "img")]) == 1
    assert not (tmp_path / "img").exists()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "c.mp4").write_bytes(clip.read_bytes())
    capsys.readouterr()
    assert main(["batch", str(tmp_path / "in"), "-o", str(tmp_path / "bout"), "--backend", "tensorrt"]) == 1
    assert "tensorrt" in one_error_line(capsys.readouterr().err) and not (tmp_path / "bout").exists()


def test_url_input_is_named_as_given(tmp_path, weights, capsys):
    url = "http://127.0.0.1:9/no/such.mp4"
    assert main(["video", url, "-o", str(tmp_path / "o.mp4"), "--weights", str(weights)]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert url in line and "cannot open" in line
    assert not (tmp_path / "o.mp4").exists() and leftovers(tmp_path) == []


# --- outputs that play everywhere ----------------------------------------------------------------
def encode(path: Path, frames, codec: str = "libx264", pix_fmt: str = "yuv420p", color: dict | None = None,
           fps: int = 25) -> Path:
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, pix_fmt
        for k, v in (color or {}).items():
            setattr(s.codec_context, k, v)
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(img, format="rgb48le" if img.dtype == np.uint16 else "rgb24")
            f = f.reformat(format=pix_fmt, dst_colorspace=(color or {}).get("colorspace"))
            f.pts = i
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    return path


def stream_facts(path: Path) -> dict:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        cc = s.codec_context
        frames = sum(1 for _ in c.decode(video=0))
        return {"codec": cc.name, "tag": cc.codec_tag, "pix_fmt": cc.format.name, "size": (cc.width, cc.height),
                "color": (cc.colorspace, cc.color_primaries, cc.color_trc), "frames": frames}


def test_h265_in_mp4_is_tagged_hvc1(tmp_path, clip, weights):
    out = tmp_path / "o.mp4"
    assert main(["video", str(clip), "-o", str(out), "--codec", "h265", "--preset", "ultrafast",
                 "--weights", str(weights)]) == 0
    facts = stream_facts(out)
    assert facts["codec"] == "hevc" and facts["tag"] == "hvc1" and facts["frames"] == 12


def test_odd_sized_420_input_stays_420(tmp_path, weights, capsys):
    frames = [np.ascontiguousarray(f[:47, :63]) for f in dark_frames(4)]
    src = encode(tmp_path / "odd.mkv", frames, codec="ffv1")
    assert stream_facts(src)["pix_fmt"] == "yuv420p" and stream_facts(src)["size"] == (63, 47)
    out = tmp_path / "o.mp4"
    assert main(["video", str(src), "-o", str(out), "--preset", "ultrafast", "--weights", str(weights)]) == 0
    err = capsys.readouterr().err
    assert "note: 63x47 has an odd side: encoded as 62x46" in err
    facts = stream_facts(out)
    assert facts["pix_fmt"] == "yuv420p" and facts["size"] == (62, 46) and facts["frames"] == 4
    kept = tmp_path / "k.mp4"
    assert main(["video", str(src), "-o", str(kept), "--pix-fmt", "yuv444p", "--preset", "ultrafast",
                 "--weights", str(weights)]) == 0
    assert stream_facts(kept)["pix_fmt"] == "yuv444p" and stream_facts(kept)["size"] == (63, 47)


@pytest.mark.parametrize("transfer", [16, 18])
def test_hdr_input_becomes_tagged_8bit_sdr(tmp_path, transfer, capsys):
    from lowlight.realtime.media.hdr import to_display_light

    # a grey at SDR reference white (1.0 in display light) coded in PQ or HLG, 10 bits, BT.2020
    code = {16: 0.5806, 18: 0.75}[transfer]
    assert abs(float(to_display_light(np.array([code]), transfer)[0]) - 1.0) < 0.01
    grey = np.full((48, 64, 3), round(code * 65535), np.uint16)
    src = encode(tmp_path / "hdr.mkv", [grey] * 3, codec="ffv1", pix_fmt="yuv420p10le",
                 color={"colorspace": 9, "color_primaries": 9, "color_trc": transfer})
    out = tmp_path / "sdr.mp4"
    assert main(["video", str(src), "-o", str(out), "--strength", "0", "--preset", "ultrafast", "--crf", "10"]) == 0
    assert "HDR input" in capsys.readouterr().err
    facts = stream_facts(out)
    assert facts["pix_fmt"] == "yuv420p" and facts["color"] == (1, 1, 1) and facts["frames"] == 3
    mean = read_video(out)["frames"][0].mean()
    assert 225 < mean < 252, mean  # reference white lands near the top of SDR (knee at 0.8), not clipped


def test_av1_encoder_banner_is_behind_verbose(tmp_path, clip, weights):
    def run(*extra):
        return subprocess.run([sys.executable, "-m", "lowlight", "video", str(clip), "-o", str(tmp_path / "a.mkv"),
                               "--overwrite", "--codec", "av1", "--weights", str(weights), *extra],
                              capture_output=True, text=True, timeout=120,
                              env={k: v for k, v in os.environ.items() if k != "SVT_LOG"})
    quiet = run()
    assert quiet.returncode == 0 and len(quiet.stderr.strip().splitlines()) == 1, quiet.stderr
    loud = run("--verbose")
    assert loud.returncode == 0 and len(loud.stderr.strip().splitlines()) > 5
