"""Video files as a pipeline sink: encode + mux with PyAV in the output thread.

:class:`VideoFileSink` encodes RGB frames (libx264 by default) with their own
timestamps, keeps the input's frame rate, pixel aspect ratio, colour
description and rotation, and muxes the packets of copied audio/subtitle
streams (:class:`~lowlight.realtime.video_source.Passthrough`) unchanged.

It writes to a hidden temporary file beside the target (``.NAME.PID.part.EXT``,
same extension so FFmpeg picks the same muxer) and renames it over the target
only in ``close(ok=True)``; ``close(ok=False)`` deletes it. Such files left by a process that was
killed outright (SIGKILL, power cut) are removed by the next run that writes the same target.
"""

from __future__ import annotations

import os
import queue
import re
from fractions import Fraction
from pathlib import Path
from typing import Optional

import av

from lowlight.errors import BackendError, OutputError
from lowlight.realtime.frame import Frame
from lowlight.realtime.sinks import Sink
from lowlight.realtime.sources import StreamInfo
from lowlight.realtime.video_source import Passthrough, first_line, sws_colorspace

# --codec choice -> (FFmpeg encoder, default quality options, preset option name or None)
CODECS = {
    "h264": "libx264",
    "h265": "libx265",
    "vp9": "libvpx-vp9",
    "av1": "libsvtav1",
    "h264_nvenc": "h264_nvenc",
}
DEFAULT_CRF = {"libx264": 18, "libx265": 20, "libvpx-vp9": 30, "libsvtav1": 30, "h264_nvenc": 21}
DEFAULT_PRESET = {"libx264": "medium", "libx265": "medium", "libvpx-vp9": "4", "libsvtav1": "8", "h264_nvenc": "p4"}
# Encoders that take odd picture sizes through 4:4:4 chroma.
_YUV444_OK = {"libx264", "libx265", "libvpx-vp9"}


def temp_path(target: Path) -> Path:
    """``dir/.NAME.PID.part.EXT`` for ``dir/NAME.EXT``."""
    return target.with_name(f".{target.stem}.{os.getpid()}.part{target.suffix}")


def temp_name_pattern(target: Path) -> re.Pattern:
    """Matches the names :func:`temp_path` gives ``target`` (any PID, captured as group 1)."""
    return re.compile(rf"\.{re.escape(target.stem)}\.([0-9]+)\.part{re.escape(target.suffix)}")


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0
    return True


def remove_orphaned_temp_files(target: Path) -> list[Path]:
    """Delete the :func:`temp_path` files of ``target`` left by processes that no longer exist (a
    ``lowlight video`` killed with SIGKILL or by a power cut); returns what was removed. Files of a
    running process, this one included, are left alone."""
    pattern = temp_name_pattern(target)
    removed = []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return removed
    for name in names:
        m = pattern.fullmatch(name)
        if m and int(m[1]) != os.getpid() and not process_alive(int(m[1])):
            try:
                (target.parent / name).unlink()
                removed.append(target.parent / name)
            except OSError:
                pass
    return removed


def parse_bitrate(text: str) -> int:
    """``"4M"``, ``"800k"``, ``"2500000"`` -> bits per second."""
    t = str(text).strip().lower()
    mult = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(t[-1:], 1)
    try:
        value = float(t[:-1] if mult != 1 else t) * mult
    except ValueError:
        raise OutputError(f"--bitrate {text!r}: expected a number like 4M or 800k") from None
    if value <= 0:
        raise OutputError(f"--bitrate {text!r}: must be positive")
    return int(value)


def encoder_options(encoder: str, crf: Optional[int], preset: Optional[str], bitrate: Optional[int]) -> dict:
    """FFmpeg private options for ``encoder`` (quality/speed knobs)."""
    preset = str(preset) if preset is not None else DEFAULT_PRESET.get(encoder)
    q = crf if crf is not None else DEFAULT_CRF.get(encoder)
    opts: dict = {}
    if encoder in ("libx264", "libx265"):
        opts["preset"] = preset
        if bitrate is None:
            opts["crf"] = str(q)
        if encoder == "libx265":
            opts["x265-params"] = "log-level=error"
    elif encoder == "libvpx-vp9":
        opts.update({"cpu-used": preset, "deadline": "good", "row-mt": "1"})
        if bitrate is None:
            opts.update({"crf": str(q), "b": "0"})
    elif encoder == "libsvtav1":
        opts["preset"] = preset
        if bitrate is None:
            opts["crf"] = str(q)
    elif encoder == "h264_nvenc":
        opts["preset"] = preset
        if bitrate is None:
            opts.update({"rc": "vbr", "cq": str(q), "b": "0"})
    return opts


class VideoFileSink(Sink):
    """Encode frames into a video file.

    Args:
        path: output file; its extension picks the container (.mp4, .mkv, .mov, .webm...).
        codec: a key of :data:`CODECS` (``h264`` default) or an FFmpeg encoder name.
        crf: constant-quality value (lower = better; default per codec).
        preset: speed preset (x264/x265 names, numbers for vp9/av1, p1-p7 for nvenc).
        bitrate: target bits per second (overrides ``crf``).
        passthrough: streams/packets to copy from the source.
        overwrite: replace an existing ``path``.
        input_path: the input file, which is never overwritten.
    """

    def __init__(self, path, codec: str = "h264", crf: Optional[int] = None, preset: Optional[str] = None,
                 bitrate: Optional[int] = None, passthrough: Optional[Passthrough] = None,
                 overwrite: bool = False, input_path=None, threads: int = 0) -> None:
        self.path = Path(path)
        self.encoder = CODECS.get(codec, codec)
        self.crf, self.preset, self.bitrate = crf, preset, bitrate
        self.passthrough = passthrough or Passthrough()
        self.overwrite = overwrite
        self.input_path = Path(input_path) if input_path is not None else None
        self.threads = threads
        self.temp: Optional[Path] = None
        self.container = None
        self.stream = None
        self.frames_written = 0
        self.packets_copied = 0
        self._map: dict = {}
        self._last_pts: Optional[int] = None
        self._started = False
        self._passthrough_ended = False  # the source's end marker was taken off the packet queue

    # --- checks -------------------------------------------------------------------------
    def check_target(self) -> None:
        """Raise :class:`OutputError` if the target cannot or must not be written."""
        out = self.path
        if not out.suffix:
            raise OutputError(f"{out}: give the output a file extension (.mp4, .mkv, .mov, .webm) to pick the container")
        if self.input_path is not None and out.resolve() == self.input_path.resolve():
            raise OutputError(f"{out}: output would overwrite its input; choose another output file")
        if out.is_dir():
            raise OutputError(f"{out}: is a folder, expected an output file name")
        if out.exists() and not self.overwrite:
            raise OutputError(f"{out}: output exists (use --overwrite to replace)")
        parent = out.parent if str(out.parent) else Path(".")
        if not parent.is_dir():
            raise OutputError(f"{parent}: output folder does not exist")
        if not os.access(parent, os.W_OK):
            raise OutputError(f"{parent}: output folder is not writable")

    def _container_error(self, what: str) -> OutputError:
        return OutputError(f"{self.path}: the {self.path.suffix} container cannot hold {what}; "
                           "use a container such as .mkv" + (" or --no-audio" if "stream" in what else ""))

    # --- Sink API ---------------------------------------------------------------------------
    def open(self, info: StreamInfo) -> None:
        self.info = info
        self.check_target()
        try:
            codec = av.codec.Codec(self.encoder, "w")
        except (av.error.FFmpegError, ValueError, KeyError):
            raise BackendError(f"--codec {self.encoder}: encoder not available in this PyAV/FFmpeg build "
                               f"(choose one of {', '.join(CODECS)})") from None
        if codec.type != "video":
            raise OutputError(f"--codec {self.encoder}: not a video encoder")
        remove_orphaned_temp_files(self.path)
        self.temp = temp_path(self.path)
        try:
            self.container = av.open(str(self.temp), "w")
        except (av.error.FFmpegError, ValueError, OSError) as exc:
            self._remove_temp()
            raise OutputError(f"{self.path}: cannot write this kind of file ({first_line(exc)}); "
                              "use .mp4, .mkv, .mov or .webm") from None
        try:
            self._add_streams(info)
        except BaseException:
            self._abandon()
            raise

    def _add_streams(self, info: StreamInfo) -> None:
        c = self.container
        supported = c.supported_codecs
        complete = self.encoder in supported or codec_family(self.encoder) in supported
        if not complete and len(supported) > 20:
            raise self._container_error(f"{codec_family(self.encoder)} video (--codec {self.encoder})")
        rate = info.rate or Fraction(30)
        w, h = int(info.width), int(info.height)
        pix_fmt = "yuv420p"
        if w % 2 or h % 2:
            if self.encoder not in _YUV444_OK:
                raise OutputError(f"{self.path}: {w}x{h} has an odd side, which {self.encoder} cannot encode; "
                                  "use --codec h264, h265 or vp9")
            pix_fmt = "yuv444p"
        opts = encoder_options(self.encoder, self.crf, self.preset, self.bitrate)
        try:
            s = c.add_stream(self.encoder, rate=rate, options=opts)
        except (av.error.FFmpegError, ValueError) as exc:
            raise BackendError(f"--codec {self.encoder}: cannot use this encoder ({first_line(exc)})") from None
        s.width, s.height, s.pix_fmt = w, h, pix_fmt
        tb = info.time_base or (1 / rate)
        s.codec_context.time_base = tb
        s.time_base = tb
        if self.bitrate:
            s.bit_rate = int(self.bitrate)
        # frame threading like the ffmpeg CLI (PyAV's default, slice threading, makes x264 use
        # its slower sliced-threads mode)
        s.codec_context.thread_type = "AUTO"
        if self.threads:
            s.codec_context.thread_count = self.threads
        if info.sample_aspect_ratio:
            s.codec_context.sample_aspect_ratio = info.sample_aspect_ratio
        for attr in ("color_range", "colorspace", "color_primaries", "color_trc"):
            value = getattr(info, attr)
            unspecified = (0,) if attr == "color_range" else (0, 2)  # AVCOL_*_UNSPECIFIED (and RGB/reserved)
            if value is not None and value not in unspecified:
                try:
                    setattr(s.codec_context, attr, value)
                except (AttributeError, ValueError, TypeError):
                    pass
        self.stream = s
        self._dst_colorspace = sws_colorspace(info.colorspace)
        self._dst_range = info.color_range or None
        for in_stream in self.passthrough.streams:
            name = in_stream.codec_context.name
            if complete and name not in supported:
                raise self._container_error(f"the {name} {in_stream.type} stream #{in_stream.index} of the input")
            try:
                self._map[in_stream.index] = c.add_stream_from_template(in_stream)
            except (av.error.FFmpegError, ValueError) as exc:
                raise self._container_error(
                    f"the {name} {in_stream.type} stream #{in_stream.index} of the input ({first_line(exc)})") from None

    def _start(self, frame: Frame) -> None:
        rotation = int(frame.rotation or 0) % 360
        if rotation:
            self.stream.set_display_rotation(rotation)
        self._started = True

    def _mux(self, packets) -> None:
        try:
            self.container.mux(packets)
        except (av.error.FFmpegError, ValueError) as exc:
            if not self.frames_written and not self.packets_copied:
                raise self._container_error(f"one of the streams ({first_line(exc)})") from None
            raise OutputError(f"{self.path}: writing failed ({first_line(exc)})") from None

    def _copy_pending(self, block: bool = False) -> None:
        q = self.passthrough.packets
        while not self._passthrough_ended:
            try:
                packet = q.get(timeout=1.0) if block else q.get_nowait()
            except queue.Empty:
                return
            if packet is None:  # seen once: close() must not wait for a second one
                self._passthrough_ended = True
                return
            out = self._map.get(packet.stream.index)
            if out is None:
                continue
            packet.stream = out
            self._mux(packet)
            self.packets_copied += 1

    def write(self, frame: Frame) -> None:
        if not self._started:
            self._start(frame)
        self._copy_pending()
        img = frame.image
        if img.shape[0] != self.stream.height or img.shape[1] != self.stream.width:
            raise OutputError(f"{self.path}: frame {frame.index} is {img.shape[1]}x{img.shape[0]}, "
                              f"the stream is {self.stream.width}x{self.stream.height}")
        vf = av.VideoFrame.from_ndarray(img, format="rgb24")
        vf = vf.reformat(format=self.stream.pix_fmt, dst_colorspace=self._dst_colorspace,
                         dst_color_range=self._dst_range)
        tb = self.stream.codec_context.time_base
        pts = frame.pts
        if pts is not None and frame.time_base is not None and frame.time_base != tb:
            pts = round(pts * frame.time_base / tb)
        if pts is None or (self._last_pts is not None and pts <= self._last_pts):
            pts = 0 if self._last_pts is None else self._last_pts + 1
        self._last_pts = pts
        vf.pts, vf.time_base = pts, tb
        self._mux(self.stream.encode(vf))
        self.frames_written += 1

    def close(self, ok: bool) -> None:
        if self.container is None:
            return
        if not ok:
            self._abandon()
            return
        try:
            if not self._started:
                raise OutputError(f"{self.path}: no video frames to write")
            self._mux(self.stream.encode(None))
            self._copy_pending(block=True)
            self.container.close()
            self.container = None
            os.replace(self.temp, self.path)
            self.temp = None
        except BaseException:
            self._abandon()
            raise

    def _abandon(self) -> None:
        if self.container is not None:
            try:
                self.container.close()
            except Exception:  # noqa: BLE001 - a broken file is deleted anyway
                pass
            self.container = None
        self._remove_temp()

    def _remove_temp(self) -> None:
        if self.temp is not None:
            try:
                self.temp.unlink()
            except FileNotFoundError:
                pass
            self.temp = None


def codec_family(encoder: str) -> str:
    """The codec an encoder produces (``libx264`` -> ``h264``)."""
    try:
        return av.codec.Codec(encoder, "w").canonical_name
    except Exception:  # noqa: BLE001
        return encoder
