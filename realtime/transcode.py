"""``transcode``: enhance one video file into another, the library behind ``lowlight video`` and ``lowlight batch``.

>>> from lowlight.realtime.transcode import EncodeOptions, TranscodeOptions
>>> TranscodeOptions(encode=EncodeOptions(crf=20)).processing.estimate_every
3

Damaged input: frames that decode are enhanced and written; if any frames were lost (undecodable
packets, fewer frames than the container states, or a read error), the output is still written and
the result says so (:attr:`TranscodeResult.damaged`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from lowlight.errors import InputError, LowlightError
from lowlight.realtime.options import ProcessingOptions

# lowlight video's processing defaults: steady curves (smoothing), the network on every 3rd frame.
FILE_PROCESSING = ProcessingOptions(smooth=0.8, estimate_every=3)


@dataclass(frozen=True)
class EncodeOptions:
    """How the output is encoded.

    Attributes:
        codec: a ``--codec`` name of :data:`lowlight.realtime.media.codecs.CODECS` or an FFmpeg encoder;
            ``None``: the output container's default (:func:`~lowlight.realtime.media.codecs.codec_for`).
        crf: constant quality (``None``: the codec's default).
        preset: speed preset (``None``: the codec's default).
        bitrate: target bits per second instead of ``crf``.
        threads: encoder threads (0: FFmpeg's choice).
        pix_fmt: ``yuv420p`` / ``yuv444p``; ``None`` follows the input (see
            :class:`~lowlight.realtime.media.video_sink.VideoFileSink`).
    """

    codec: Optional[str] = None
    crf: Optional[int] = None
    preset: Optional[str] = None
    bitrate: Optional[int] = None
    threads: int = 0
    pix_fmt: Optional[str] = None


@dataclass(frozen=True)
class TranscodeOptions:
    """Everything :func:`transcode` needs besides the files and the enhancer.

    Attributes:
        encode: the :class:`EncodeOptions`.
        processing: the :class:`~lowlight.realtime.options.ProcessingOptions` of the frames.
        copy_streams: copy audio and subtitle streams (False: ``--no-audio``).
        overwrite: replace an existing output.
        codec_fallback: when the container cannot take ``encode.codec``, use the container's
            default codec (batch) instead of failing.
        planar: decode 8-bit 4:2:0 inputs to their planes and enhance them without an RGB frame
            (:mod:`lowlight.realtime.planar`) when the output is 4:2:0 too; False: the RGB path.
        decode_threads: decoder threads (0: FFmpeg's choice; see benchmarks/RESULTS.md, threads).
    """

    encode: EncodeOptions = field(default_factory=EncodeOptions)
    processing: ProcessingOptions = FILE_PROCESSING
    copy_streams: bool = True
    overwrite: bool = False
    codec_fallback: bool = False
    planar: bool = True
    decode_threads: int = 0


@dataclass
class TranscodeResult:
    """What :func:`transcode` did to one file.

    Attributes:
        stats: the pipeline's :class:`~lowlight.realtime.stats.PipelineStats`.
        frames: frames written to the output.
        packets_copied: audio/subtitle packets copied without re-encoding.
        lost_frames: frames known to be lost in a damaged input (0 when intact).
        damaged: True if frames were lost or the input ended with a read error (the output holds
            what decoded).
        read_error: the read error that ended a damaged input, or ``None``.
        not_copied: input streams left out of the output (see ``VideoFileSource.not_copied``).
        notes: what the output could not keep, one line each (an odd size cropped, HDR converted).
    """

    stats: object
    frames: int
    packets_copied: int
    lost_frames: int
    damaged: bool
    read_error: Optional[str]
    not_copied: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def damage_message(self, src, dst) -> str:
        """One line describing the damage (only meaningful when :attr:`damaged`)."""
        why = f" (read error: {self.read_error})" if self.read_error else ""
        count = f"{self.lost_frames} frame(s) lost" if self.lost_frames else "the input ends early"
        return f"{src}: damaged input: {count}{why}; wrote the {self.frames} frame(s) that decoded to {dst}"


class Transcode:
    """One file's transcode, checked before anything runs and run once.

    Building it makes the source and the sink and raises the user errors (missing input, existing,
    impossible or unwritable output) before a model is loaded; :meth:`run` then enhances.

    Args:
        src, dst: input and output paths (``dst``'s extension picks the container).
        options: the :class:`TranscodeOptions`.
    """

    def __init__(self, src, dst, options: TranscodeOptions = TranscodeOptions()) -> None:
        from lowlight.realtime.media.codecs import codec_for
        from lowlight.realtime.media.video_sink import VideoFileSink
        from lowlight.realtime.media.video_source import VideoFileSource, input_path, is_url

        self.src, self.dst, self.options = input_path(src), Path(dst), options
        if not is_url(self.src) and not self.src.exists():
            raise InputError(f"{self.src}: no such file")
        enc = options.encode
        self.source = VideoFileSource(self.src, copy_streams=options.copy_streams,
                                      planar=options.planar and enc.pix_fmt in (None, "yuv420p"),
                                      threads=options.decode_threads)
        self.sink = VideoFileSink(self.dst, codec=codec_for(self.dst, enc.codec, options.codec_fallback),
                                  crf=enc.crf, preset=enc.preset, bitrate=enc.bitrate,
                                  overwrite=options.overwrite, input_path=None if is_url(self.src) else self.src,
                                  threads=enc.threads,
                                  pix_fmt=enc.pix_fmt)
        self.sink.check_target()

    def run(self, enhancer, on_frame: Optional[Callable[[object, object], None]] = None) -> TranscodeResult:
        """Enhance (the output is written to a temporary file and renamed when complete).

        Args:
            enhancer: a ready :class:`lowlight.Enhancer` (loaded once, reusable for many files).
            on_frame: ``on_frame(frame, info)`` after each frame is written, in the encoder thread;
                ``info`` is the input's :class:`~lowlight.realtime.sources.StreamInfo` (``info.frames``
                is the frame count the container states, or ``None``).

        Returns:
            a :class:`TranscodeResult`; a damaged input still returns (``damaged`` is True).

        Raises:
            LowlightError: the input cannot be opened or nothing decodes, the output cannot be written,
                or an encoder option is wrong; no output or temporary file is left behind.
        """
        from lowlight.realtime import planar
        from lowlight.realtime.pipeline import Pipeline

        source, sink = self.source, self.sink
        if source.planar and not planar.supports(enhancer.estimator, self.options.processing.kernel):
            source.planar = False  # this model/kernel needs the RGB frame: let the decoder's converter make it
        pipeline = Pipeline(source, sink, enhancer, mode="file", options=self.options.processing)
        if on_frame is not None:
            pipeline.on_frame = lambda frame: on_frame(frame, pipeline.info)
        try:
            stats = pipeline.run()
        except LowlightError:
            if source.decoded == 0 and (source.read_error or source.decode_errors):
                raise InputError(f"{self.src}: no video frame could be decoded"
                                 f"{' (' + source.read_error + ')' if source.read_error else ''}") from None
            raise
        return TranscodeResult(stats=stats, frames=sink.frames_written, packets_copied=sink.packets_copied,
                               lost_frames=source.lost_frames, damaged=source.damaged,
                               read_error=source.read_error, not_copied=list(source.not_copied),
                               notes=source.notes + sink.notes)


def transcode(src, dst, options: TranscodeOptions, enhancer,
              on_frame: Optional[Callable[[object, object], None]] = None) -> TranscodeResult:
    """Enhance the video file ``src`` into ``dst``: ``Transcode(src, dst, options).run(enhancer, on_frame)``."""
    return Transcode(src, dst, options).run(enhancer, on_frame)
