"""Video files as a pipeline source: PyAV demux + decode in the capture thread.

:class:`VideoFileSource` decodes the first video stream to uint8 RGB frames that
keep their ``pts``/``time_base``; with ``planar=True`` (the file fast path of ``lowlight video``),
8-bit 4:2:0 frames (``yuv420p``, ``yuvj420p``) of a BT.601/709/2020 stream are handed on as the
decoder's own planes instead (:class:`lowlight.kernels.yuv.PlanarYUV`, views of the decoded frame,
no conversion); other formats, HDR and 10-bit sources stay RGB. Packets of audio and subtitle streams
(``StreamInfo.copied``) are demuxed in the same pass and handed, undecoded, to
:attr:`VideoFileSource.packet_sink`: the pipeline's bounded packet queue, which
its output stage drains into the file sink, so they are copied without re-encoding.

Damaged input: packets that fail to decode are skipped and counted
(:attr:`decode_errors`); a read error ends the stream early
(:attr:`read_error`). :attr:`lost_frames` combines them with the frame count the
container states, so the caller can report what was lost.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, Optional

import av
import numpy as np

from lowlight.errors import InputError, first_line
from lowlight.realtime.frame import Frame
from lowlight.realtime.media.hdr import HDR_TRANSFERS, PQ, hdr_to_sdr
from lowlight.realtime.sources import Source, StreamInfo

# AVColorSpace -> swscale colorspace (SWS_CS_*) for RGB conversions.
_SWS_COLORSPACE = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}


def sws_colorspace(avcol_spc: Optional[int]) -> Optional[int]:
    """swscale's colorspace constant for an FFmpeg ``AVColorSpace`` value (``None``: swscale's default, BT.601)."""
    return _SWS_COLORSPACE.get(int(avcol_spc or 0))


_PLANAR_FORMATS = {"yuv420p": False, "yuvj420p": True}  # format -> full range


def planar_view(f):
    """A :class:`~lowlight.kernels.yuv.PlanarYUV` viewing the planes of the decoded ``av.VideoFrame``
    ``f`` (no copy; it keeps ``f`` alive), or ``None`` when ``f`` is not 8-bit 4:2:0 with a BT.601,
    BT.709 or BT.2020 matrix, or the planar kernel is not built."""
    from lowlight.kernels import yuv
    from lowlight.kernels.yuv_reference import matrix_of

    full = _PLANAR_FORMATS.get(f.format.name)
    matrix = matrix_of(f.colorspace)
    if full is None or matrix is None or not yuv.available():
        return None
    views = [np.frombuffer(p, np.uint8, count=p.line_size * p.height).reshape(p.height, p.line_size)[:, :p.width]
             for p in f.planes[:3]]
    return yuv.PlanarYUV(*views, colorspace=matrix, full_range=full or f.color_range == 2, owner=f)


URL_OPEN_TIMEOUT_S = 15.0  # how long opening (and each read of) a network input may take


def is_url(spec) -> bool:
    """Whether ``spec`` names a network stream (``rtsp://``, ``http://``...) rather than a file."""
    return isinstance(spec, str) and "://" in spec


def input_path(spec):
    """``spec`` as given for a URL (a ``Path`` would fold its ``//``), else as a ``Path``."""
    return spec if is_url(spec) else Path(spec)


def describe_stream(stream) -> str:
    """``"#2 data (bin_data)"``: index, type and codec of an input stream, for messages."""
    ctx = getattr(stream, "codec_context", None)
    codec = getattr(ctx, "name", None) or getattr(stream, "name", None) or "unknown"
    if stream.type == "video" and stream.disposition & av.stream.Disposition.attached_pic:
        codec += ", cover art"
    return f"#{stream.index} {stream.type} ({codec})"


class VideoFileSource(Source):
    """Decode a video file (anything FFmpeg reads) into RGB frames.

    Args:
        path: the input file.
        copy_streams: copy audio and subtitle streams (False: ``--no-audio``).
        planar: yield 8-bit 4:2:0 frames as :class:`~lowlight.kernels.yuv.PlanarYUV` (see the module
            docstring); the consumer (the frame processor and the file sink) must take both kinds.
        threads: decoder threads (0: FFmpeg's choice, one per core; frame threading either way).

    Attributes:
        packet_sink: ``packet_sink(packet)`` receives every demuxed ``av.Packet`` of the copied
            streams (``info.copied``) in demux order, in the capture thread; ``None`` drops them.
            The pipeline sets it to its packet queue.
        decoded: frames decoded so far.
        planar_frames: how many of them were handed on as planes (``planar=True``).
        decode_errors: video packets that could not be decoded.
        read_error: message of the error that ended demuxing early, or ``None``.
        not_copied: descriptions of the input streams that are neither enhanced nor copied
            (``"#2 data (bin_data)"``, ``"#1 video (mjpeg, cover art)"``): data streams, attachments,
            extra video streams (not the audio and subtitles that ``copy_streams=False`` leaves out
            on purpose).
    """

    def __init__(self, path, copy_streams: bool = True, planar: bool = False, threads: int = 0) -> None:
        super().__init__()
        self.path = input_path(path)
        self.copy_streams = copy_streams
        self.planar = bool(planar)
        self.threads = int(threads)
        self.container = None
        self.copied: list = []
        self.packet_sink: Optional[Callable[[object], None]] = None
        self.info: Optional[StreamInfo] = None
        self.decoded = 0
        self.planar_frames = 0
        self.decode_errors = 0
        self.read_error: Optional[str] = None
        self.not_copied: list[str] = []
        self.notes: list[str] = []
        self._hdr: Optional[int] = None

    def open(self) -> StreamInfo:
        path = self.path
        url = is_url(path)
        if not url and not path.exists():
            raise InputError(f"{path}: no such file")
        if not url and path.is_dir():
            raise InputError(f"{path}: is a folder, expected a video file")
        try:
            self.container = av.open(str(path), "r", timeout=URL_OPEN_TIMEOUT_S if url else None)
        except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot open as a video ({first_line(exc)})") from None
        c = self.container
        if not c.streams.video:
            kinds = ", ".join(sorted({s.type for s in c.streams})) or "no streams"
            c.close()
            self.container = None
            raise InputError(f"{path}: has no video stream ({kinds})")
        # the first real video stream (skip cover art: attached pictures)
        videos = [s for s in c.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)]
        vs = (videos or list(c.streams.video))[0]
        cc = vs.codec_context
        if not cc.width or not cc.height:
            c.close()
            self.container = None
            raise InputError(f"{path}: video stream has no picture size (unsupported or damaged file)")
        vs.thread_type = "AUTO"
        if self.threads:
            vs.codec_context.thread_count = self.threads
        self.video = vs
        if self.copy_streams:
            self.copied = [s for s in c.streams if s.type in ("audio", "subtitle")]
        self.not_copied = [describe_stream(s) for s in c.streams if s is not vs
                           and s not in self.copied
                           and (self.copy_streams or s.type not in ("audio", "subtitle"))]
        color = dict(color_range=cc.color_range, colorspace=cc.colorspace, color_primaries=cc.color_primaries,
                     color_trc=cc.color_trc)
        if cc.color_trc in HDR_TRANSFERS:  # the pipeline is 8-bit SDR: convert here, tag the output to match
            self._hdr = int(cc.color_trc)
            color = dict(color_range=1, colorspace=1, color_primaries=1, color_trc=1)  # limited-range BT.709
            self.notes.append(f"HDR input ({'PQ' if self._hdr == PQ else 'HLG'}, {cc.format.name if cc.format else ''}) "
                              "converted to 8-bit BT.709 SDR (tone-mapped, tagged BT.709)")
        rate = vs.average_rate or vs.guessed_rate or vs.base_rate
        rotation = 0
        tag = vs.metadata.get("rotate")
        if tag:
            try:
                rotation = int(float(tag))
            except ValueError:
                pass
        self.info = StreamInfo(
            width=cc.width, height=cc.height, rate=Fraction(rate) if rate else None,
            time_base=vs.time_base, frames=int(vs.frames) or None,
            sample_aspect_ratio=cc.sample_aspect_ratio or vs.sample_aspect_ratio, **color, name=str(path),
            extra={"rotation": rotation, "codec": cc.name, "pix_fmt": cc.format.name if cc.format else ""},
            copied=list(self.copied),
        )
        return self.info

    @property
    def lost_frames(self) -> int:
        """Frames known to be lost: undecodable packets, or fewer frames than the container states."""
        expected = self.info.frames if self.info else None
        short = max(0, expected - self.decoded) if expected else 0
        return max(self.decode_errors, short)

    @property
    def damaged(self) -> bool:
        """True if frames were lost or the file ended with a read error."""
        return self.lost_frames > 0 or self.read_error is not None

    def _picture(self, f):
        """The picture of decoded ``f``: its planes (planar mode, 8-bit 4:2:0 SDR) or uint8 RGB."""
        if self.planar and self._hdr is None:
            planes = planar_view(f)
            if planes is not None:
                self.planar_frames += 1
                return planes
        return self._to_rgb(f)

    def _to_rgb(self, f) -> np.ndarray:
        if self._hdr is not None:
            rgb16 = f.to_ndarray(format="rgb48le", src_colorspace=sws_colorspace(f.colorspace) or 9,
                                 src_color_range=f.color_range or None)
            return hdr_to_sdr(rgb16, self._hdr)
        return f.to_ndarray(format="rgb24", src_colorspace=sws_colorspace(f.colorspace),
                            src_color_range=f.color_range or None)

    def frames(self) -> Iterator[Frame]:
        vs = self.video
        tb = vs.time_base
        step = 1
        if self.info.rate and tb:
            step = max(1, round(1 / (self.info.rate * tb)))
        packets = self.container.demux(vs, *self.copied)
        last_pts: Optional[int] = None
        rotation: Optional[int] = None
        pending = self.packet_sink

        def to_frame(f) -> Frame:
            """The pipeline frame of decoded ``f``: rotation from the first frame (or the stream tag),
            a missing pts filled in one frame step after the previous one."""
            nonlocal last_pts, rotation
            if rotation is None:
                rotation = int(getattr(f, "rotation", 0) or 0) or self.info.extra.get("rotation", 0)
            pts = f.pts if f.pts is not None else (0 if last_pts is None else last_pts + step)
            last_pts = pts
            self.decoded += 1
            return Frame(self._picture(f), self.decoded - 1, pts=pts, time_base=tb, rotation=rotation)

        flushed = False
        while not self.stopped:
            try:
                packet = next(packets)
            except StopIteration:
                flushed = True
                break
            except (av.error.FFmpegError, OSError) as exc:
                self.read_error = first_line(exc)
                break
            if packet.stream.index != vs.index:
                if pending is not None and (packet.size or packet.dts is not None):
                    pending(packet)
                continue
            try:
                decoded = packet.decode()
            except (av.error.FFmpegError, ValueError):
                self.decode_errors += 1
                continue
            for f in decoded:
                yield to_frame(f)
        if not flushed and not self.stopped:  # ended by a read error: drain the decoder
            try:
                for f in vs.decode(None):
                    yield to_frame(f)
            except (av.error.FFmpegError, ValueError):
                pass

    def close(self) -> None:
        if self.container is not None:
            self.container.close()
            self.container = None
