"""Re-encode a copied audio stream that the output container cannot hold (AAC or PCM into WebM).

``lowlight video`` copies audio packets unchanged wherever it can. A container that cannot hold the
input's audio codec (WebM takes only Opus and Vorbis) would otherwise force ``--no-audio`` or
another container; like the ffmpeg CLI, the sink re-encodes that stream to the container's own
audio codec instead (:func:`audio_encoder_for`: Opus for WebM) and says so in the run's notes.

:class:`AudioTranscoder` decodes the stream's packets with a decoder of its own (the input's
codec context belongs to the demuxing thread) and encodes them with PyAV's encoder, which
resamples to the encoder's sample format and frame size. Timestamps follow the input's: the first
encoded sample sits where the input's first sample sat, so audio stays in sync with the video.

PyAV is imported by the caller (``video_sink``); this module imports it too, lazily through it.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Optional

import av

# the sample rates Opus encodes; other rates are resampled to 48 kHz
OPUS_RATES = (48000, 24000, 16000, 12000, 8000)


def audio_encoder_for(container) -> Optional[str]:
    """The audio encoder to re-encode into ``container`` (an ``av`` output container), or ``None``.

    The container's default audio codec, preferring libopus over FFmpeg's experimental native
    Opus encoder."""
    default = getattr(container, "default_audio_codec", None)
    if not default or default == "none":
        return None
    for name in (("libopus", "opus") if default == "opus" else (default,)):
        try:
            av.codec.Codec(name, "w")
        except (av.error.FFmpegError, ValueError, KeyError):
            continue
        return name
    return None


class AudioTranscoder:
    """Decode the packets of one input audio stream and encode them into a new output stream.

    Args:
        in_stream: the input's ``av`` audio stream (its codec parameters are copied, not used).
        container: the output container; the new stream is added to it here.
        encoder: encoder name (from :func:`audio_encoder_for`).

    Attributes:
        stream: the output stream. ``packets_in``: input packets taken.
    """

    def __init__(self, in_stream, container, encoder: str) -> None:
        src = in_stream.codec_context
        self.decoder = av.CodecContext.create(src.name, "r")
        if src.extradata:
            self.decoder.extradata = src.extradata
        if src.sample_rate:
            self.decoder.sample_rate = src.sample_rate
        if src.layout is not None and src.channels:
            self.decoder.layout = src.layout
        if src.format is not None:
            self.decoder.format = src.format
        rate = int(src.sample_rate or 48000)
        if "opus" in encoder and rate not in OPUS_RATES:
            rate = 48000
        self.stream = container.add_stream(encoder, rate=rate)
        channels = int(src.channels or 2)
        self.stream.layout = "mono" if channels == 1 else "stereo" if channels == 2 or "opus" in encoder \
            else src.layout.name
        self.time_base = in_stream.time_base or Fraction(1, rate)
        self.packets_in = 0

    def encode(self, packet) -> list:
        """Packets of the output stream for one input ``packet`` (``None``: flush both codecs)."""
        if packet is not None:
            self.packets_in += 1
            if packet.time_base is None:
                packet.time_base = self.time_base
        out = []
        for frame in self.decoder.decode(packet):
            out.extend(self.stream.encode(frame))
        if packet is None:
            out.extend(self.stream.encode(None))
        return out
