"""Video files as a pipeline sink: encode + mux with PyAV in the output thread.

:class:`VideoFileSink` encodes RGB frames, or planar 4:2:0 ones (:class:`lowlight.kernels.yuv.PlanarYUV`,
the file fast path: copied into the encoder's frame without a conversion), with libx264 by default and
with their own timestamps, keeps the input's frame rate, pixel aspect ratio, colour
description and rotation, and muxes the packets of copied audio/subtitle
streams (``StreamInfo.copied``, delivered by :meth:`VideoFileSink.write_packet`) unchanged; an
audio stream the container cannot hold (AAC or PCM into WebM) is re-encoded to the container's
audio codec instead (:mod:`lowlight.realtime.media.audio_transcode`), and the notes say so.
Encoder names, defaults and container rules come from :mod:`lowlight.realtime.media.codecs`.

It writes to a hidden temporary file beside the target (:func:`lowlight.atomic.temp_path`)
and renames it over the target only in ``close(ok=True)``; ``close(ok=False)`` deletes it. Such
files left by a process that was killed outright (SIGKILL, power cut) are removed by the next run
that writes the same target.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Optional

import av
import numpy as np

from lowlight.atomic import commit, discard, remove_orphaned_temp_files, temp_path
from lowlight.errors import BackendError, OutputError, first_line
from lowlight.realtime.frame import Frame
from lowlight.realtime.media.audio_transcode import AudioTranscoder, audio_encoder_for
from lowlight.realtime.media.codecs import CODECS, TAGGED_CONTAINERS, by_encoder, encoder_options
from lowlight.realtime.media.video_source import sws_colorspace
from lowlight.realtime.sinks import Sink
from lowlight.realtime.sources import StreamInfo

class VideoFileSink(Sink):
    """Encode frames into a video file.

    Args:
        path: output file; its extension picks the container (.mp4, .mkv, .mov, .webm...).
        codec: a key of :data:`~lowlight.realtime.media.codecs.CODECS` (``h264`` default) or an
            FFmpeg encoder name.
        crf: constant-quality value (lower = better; default per codec).
        preset: speed preset (x264/x265 names, numbers for vp9/av1, p1-p7 for nvenc).
        bitrate: target bits per second (overrides ``crf``).
        overwrite: replace an existing ``path``.
        input_path: the input file, which is never overwritten.
        threads: encoder threads (0: FFmpeg's choice).
        pix_fmt: ``"yuv420p"`` or ``"yuv444p"``; ``None`` follows the input: 4:4:4 input stays 4:4:4
            where the encoder can, anything else is 4:2:0, which every player takes. An odd-sized
            4:2:0 output is cropped by its last column and/or row (a note says so).

    Attributes:
        notes: one-line remarks on what the output could not keep (cropped size, HDR converted).
    """

    def __init__(self, path, codec: str = "h264", crf: Optional[int] = None, preset: Optional[str] = None,
                 bitrate: Optional[int] = None, overwrite: bool = False, input_path=None,
                 threads: int = 0, pix_fmt: Optional[str] = None) -> None:
        self.path = Path(path)
        self.codec = CODECS.get(codec) or by_encoder(codec)
        self.encoder = self.codec.encoder if self.codec else codec
        if crf is not None and self.codec and not 0 <= crf <= self.codec.crf_max:
            raise OutputError(f"--crf {crf}: {self.codec.name} takes 0 (best) to {self.codec.crf_max}")
        if pix_fmt not in (None, "yuv420p", "yuv444p"):
            raise OutputError(f"--pix-fmt {pix_fmt}: choose yuv420p or yuv444p")
        self.crf, self.preset, self.bitrate, self.pix_fmt = crf, preset, bitrate, pix_fmt
        self.notes: list[str] = []
        self._size: Optional[tuple[int, int]] = None  # (width, height) encoded
        self.overwrite = overwrite
        self.input_path = Path(input_path) if input_path is not None else None
        self.threads = threads
        self.temp: Optional[Path] = None
        self.container = None
        self.stream = None
        self.frames_written = 0
        self.packets_copied = 0
        self.packets_transcoded = 0
        self._map: dict = {}
        self._transcoders: dict = {}  # input stream index -> AudioTranscoder
        self._last_pts: Optional[int] = None
        self._started = False
        self._early: list = []  # copied packets that arrived before the first frame (muxed after it)
        self._checked = False

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
        self._checked = True

    def _container_error(self, what: str, codec: str = "") -> OutputError:
        ext = self.path.suffix.lower()
        others = [c for c in ((".mp4", ".mov") if codec == "mov_text" else (".mkv", ".mov")) if c != ext]
        fix = f"use a container such as {' or '.join(others)}" + (" or --no-audio" if "stream" in what else "")
        return OutputError(f"{self.path}: the {self.path.suffix} container cannot hold {what}; {fix}")

    # --- Sink API ---------------------------------------------------------------------------
    def open(self, info: StreamInfo) -> None:
        self.info = info
        if not self._checked:
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
            open(self.temp, "wb").close()  # a file that cannot be created is a file problem, not a container one
        except OSError as exc:
            self.temp = None
            raise OutputError(f"{self.path}: cannot create the output file ({first_line(exc)})") from None
        try:
            self.container = av.open(str(self.temp), "w")
        except (av.error.FFmpegError, ValueError, OSError) as exc:
            self._discard_temp()
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
        w, h, pix_fmt = self._picture(info)
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
        if self.codec and self.codec.tag and self.path.suffix.lower() in TAGGED_CONTAINERS:
            s.codec_context.codec_tag = self.codec.tag
        self._open_encoder(s, opts)
        self.stream = s
        self._dst_colorspace = sws_colorspace(info.colorspace)
        self._dst_range = info.color_range or None
        for in_stream in info.copied:
            name = in_stream.codec_context.name
            if complete and name not in supported:
                if self._transcode_audio(in_stream):
                    continue
                raise self._container_error(f"the {name} {in_stream.type} stream #{in_stream.index} of the input",
                                            name)
            try:
                self._map[in_stream.index] = c.add_stream_from_template(in_stream)
            except (av.error.FFmpegError, ValueError) as exc:
                raise self._container_error(
                    f"the {name} {in_stream.type} stream #{in_stream.index} of the input ({first_line(exc)})",
                    name) from None

    def _transcode_audio(self, in_stream) -> bool:
        """Re-encode ``in_stream`` (audio the container cannot hold) to the container's audio codec;
        False when it is not audio or no such encoder is here."""
        encoder = audio_encoder_for(self.container) if in_stream.type == "audio" else None
        if encoder is None:
            return False
        try:
            self._transcoders[in_stream.index] = AudioTranscoder(in_stream, self.container, encoder)
        except (av.error.FFmpegError, ValueError, TypeError):
            return False
        name = in_stream.codec_context.name
        self.notes.append(f"audio stream #{in_stream.index} ({name}) re-encoded to {encoder}: the "
                          f"{self.path.suffix} container cannot hold {name} (use .mkv or .mov to copy it unchanged)")
        return True

    def _picture(self, info: StreamInfo) -> tuple[int, int, str]:
        """``(width, height, pix_fmt)`` to encode (see ``pix_fmt`` in the class docstring)."""
        w, h = int(info.width), int(info.height)
        source_444 = str(info.extra.get("pix_fmt", "")).startswith(("yuv444", "gbr", "rgb", "bgr"))
        odd_ok = bool(self.codec and self.codec.odd_sizes)
        pix_fmt = self.pix_fmt or ("yuv444p" if source_444 and odd_ok else "yuv420p")
        if pix_fmt == "yuv444p" and not odd_ok and (w % 2 or h % 2):
            raise OutputError(f"{self.path}: {w}x{h} has an odd side, which {self.encoder} cannot encode in 4:4:4; "
                              "use --codec h264, h265 or vp9, or --pix-fmt yuv420p")
        if pix_fmt == "yuv420p" and (w % 2 or h % 2):
            cut = " and ".join(x for x, odd in (("the last column", w % 2), ("the last row", h % 2)) if odd)
            self.notes.append(f"{w}x{h} has an odd side: encoded as {w - w % 2}x{h - h % 2} ({cut} dropped) to "
                              "keep 4:2:0, which every player takes; --pix-fmt yuv444p keeps every pixel")
            w, h = w - w % 2, h - h % 2
        self._size = (w, h)
        return w, h, pix_fmt

    def _open_encoder(self, stream, opts: dict) -> None:
        """Open the encoder now, so that a bad preset or a missing device is named as such (and not
        reported later, at the first packet, as a container problem)."""
        try:
            stream.codec_context.open()
        except (av.error.FFmpegError, ValueError) as exc:
            why = first_line(exc)
        else:
            return
        name = self.codec.name if self.codec else self.encoder
        if self.preset is not None and _opens_without(stream, opts, "preset" if "preset" in opts else "cpu-used"):
            presets = f" ({self.codec.presets})" if self.codec else ""
            raise BackendError(f"--preset {self.preset}: not a preset of {self.encoder}{presets}")
        hint = ("; it needs an NVIDIA GPU with its driver: use --codec h264 elsewhere" if "nvenc" in self.encoder
                else "; try another --codec")
        raise BackendError(f"--codec {name}: the {self.encoder} encoder cannot start here ({why}){hint}")

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

    def write_packet(self, packet) -> None:
        """Mux an undecoded packet of a copied stream (``info.copied``); packets that arrive before
        the first video frame are held until it has set the stream's display rotation."""
        index = packet.stream.index
        out = self._map.get(index)
        transcoder = self._transcoders.get(index)
        if out is None and transcoder is None:
            return
        if not self._started:
            self._early.append(packet)
            return
        if transcoder is not None:
            self._mux(transcoder.encode(packet))
            self.packets_transcoded += 1
            return
        packet.stream = out
        self._mux(packet)
        self.packets_copied += 1

    def write(self, frame: Frame) -> None:
        if not self._started:
            self._start(frame)
            early, self._early = self._early, []
            for packet in early:
                self.write_packet(packet)
        img = frame.image
        w, h = self._size
        if img.shape[0] != self.info.height or img.shape[1] != self.info.width:
            raise OutputError(f"{self.path}: frame {frame.index} is {img.shape[1]}x{img.shape[0]}, "
                              f"the stream is {self.info.width}x{self.info.height}")
        vf = self._planar_frame(img, w, h) if not isinstance(img, np.ndarray) else None
        if vf is None:
            if not isinstance(img, np.ndarray):
                img = img.to_rgb()
            if (w, h) != (img.shape[1], img.shape[0]):
                img = np.ascontiguousarray(img[:h, :w])
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

    def _planar_frame(self, img, w: int, h: int):
        """A ``yuv420p`` encoder frame holding the planes of ``img`` (a PlanarYUV) cut to ``w x h``, or
        ``None`` when the stream is not 4:2:0 or ``img``'s matrix or range is not the output's."""
        from lowlight.kernels.yuv_reference import matrix_of

        if self.stream.pix_fmt != "yuv420p" or bool(img.full_range) != (self._dst_range == 2) \
                or img.colorspace != matrix_of(self.info.colorspace):
            return None
        vf = av.VideoFrame(w, h, "yuv420p")
        for plane, src in zip(vf.planes, (img.y, img.u, img.v)):
            dst = np.frombuffer(plane, np.uint8, count=plane.line_size * plane.height)
            dst.reshape(plane.height, plane.line_size)[:, :plane.width] = src[:plane.height, :plane.width]
        return vf

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
            for transcoder in self._transcoders.values():
                self._mux(transcoder.encode(None))
            self.container.close()
            self.container = None
            commit(self.temp, self.path)
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
        self._discard_temp()

    def _discard_temp(self) -> None:
        if self.temp is not None:
            discard(self.temp)
            self.temp = None


def _opens_without(stream, opts: dict, key: str) -> bool:
    """Whether ``stream``'s encoder opens with ``opts`` minus ``key`` (to tell a bad option from a bad encoder)."""
    ctx = av.codec.CodecContext.create(stream.codec_context.name, "w")
    ctx.width, ctx.height, ctx.pix_fmt = stream.width, stream.height, stream.pix_fmt
    ctx.time_base = stream.codec_context.time_base
    ctx.options = {k: v for k, v in opts.items() if k != key}
    try:
        ctx.open()
    except (av.error.FFmpegError, ValueError):
        return False
    return True


def codec_family(encoder: str) -> str:
    """The codec an encoder produces (``libx264`` -> ``h264``)."""
    try:
        return av.codec.Codec(encoder, "w").canonical_name
    except Exception:  # noqa: BLE001
        return encoder
