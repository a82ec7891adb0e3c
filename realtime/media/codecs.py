"""The one table of video encoders: names, default quality and speed, containers, and their CLI help.

Everything that knows about codecs reads :data:`CODECS`: the ``--codec`` choices and help of
``lowlight video`` and ``lowlight batch``, the encoder options the file sink sets, the pixel format
for odd frame sizes, and which codec a container gets when none is named (``.webm`` -> VP9).
PyAV is not imported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional


@dataclass(frozen=True)
class Codec:
    """One ``--codec`` choice.

    Attributes:
        name: the ``--codec`` value (``"h264"``).
        encoder: FFmpeg's encoder (``"libx264"``).
        label: what the help calls it.
        crf: default constant-quality value.
        preset: default speed preset (the encoder's own names or numbers).
        presets: the preset range, for the help.
        odd_sizes: encodes odd picture sizes (through 4:4:4 chroma).
        crf_max: the largest constant-quality value (0 is the best).
        tag: the codec tag MP4/MOV outputs need to play everywhere (``hvc1``: Apple players and
            browsers refuse H.265 tagged ``hev1``), or ``None``.
    """

    name: str
    encoder: str
    label: str
    crf: int
    preset: str
    presets: str
    odd_sizes: bool
    crf_max: int = 51
    tag: Optional[str] = None


CODECS = {c.name: c for c in (
    Codec("h264", "libx264", "libx264", 18, "medium", "ultrafast..veryslow", True),
    Codec("h265", "libx265", "libx265", 20, "medium", "ultrafast..veryslow", True, tag="hvc1"),
    Codec("vp9", "libvpx-vp9", "libvpx-vp9", 30, "4", "cpu-used 0-8", True, crf_max=63),
    Codec("av1", "libsvtav1", "libsvtav1", 30, "8", "0-13", False, crf_max=63),
    Codec("h264_nvenc", "h264_nvenc", "NVIDIA", 21, "p4", "p1-p7", False),
)}
DEFAULT_CODEC = "h264"

# Containers that take only some codecs: extension -> the codecs it takes, the default first.
CONTAINER_CODECS = {".webm": ("vp9", "av1")}
# Containers where a codec's ``tag`` applies.
TAGGED_CONTAINERS = (".mp4", ".m4v", ".mov")


def by_encoder(encoder: str) -> Optional[Codec]:
    """The table entry whose FFmpeg encoder is ``encoder``, or ``None`` (another FFmpeg encoder)."""
    return next((c for c in CODECS.values() if c.encoder == encoder), None)


def codec_for(path: Path, requested: Optional[str] = None, fallback: bool = False) -> str:
    """The ``--codec`` name (or FFmpeg encoder) to write ``path`` with.

    Args:
        path: the output file; its extension is the container.
        requested: the user's ``--codec`` (``None``: the container's default, h264 for most).
        fallback: when the container cannot take ``requested``, use its default instead (batch:
            one ``--codec`` for folders that mix ``.mp4`` and ``.webm`` outputs); without it the
            request stands and the sink reports the mismatch.
    """
    allowed = CONTAINER_CODECS.get(Path(path).suffix.lower())
    if requested is None or (fallback and allowed and requested not in allowed):
        return allowed[0] if allowed else DEFAULT_CODEC
    return requested


def encoder_options(encoder: str, crf: Optional[int], preset: Optional[str], bitrate: Optional[int]) -> dict:
    """FFmpeg private options for ``encoder`` (quality/speed knobs), defaults from :data:`CODECS`."""
    entry = by_encoder(encoder)
    preset = str(preset) if preset is not None else (entry.preset if entry else None)
    q = crf if crf is not None else (entry.crf if entry else None)
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
    return {k: v for k, v in opts.items() if v is not None}


def parse_bitrate(text: str) -> int:
    """``"4M"``, ``"800k"``, ``"2500000"`` -> bits per second."""
    t = str(text).strip().lower()
    mult = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(t[-1:], 1)
    try:
        value = float(t[:-1] if mult != 1 else t) * mult
    except ValueError:
        raise ValueError(f"--bitrate {text!r}: expected a number like 4M or 800k") from None
    if value <= 0:
        raise ValueError(f"--bitrate {text!r}: must be positive")
    return int(value)


def codec_help() -> str:
    """The ``--codec`` help, from the table."""
    names = ", ".join(f"{c.name} ({c.label}{', default' if c.name == DEFAULT_CODEC else ''})"
                      for c in CODECS.values())
    rules = "; ".join(f"{ext} outputs default to {codecs[0]}" for ext, codecs in CONTAINER_CODECS.items())
    return f"video encoder: {names}; {rules}"


def crf_help() -> str:
    """The ``--crf`` help, from the table."""
    return "constant quality, lower is better (default: " + ", ".join(
        f"{c.name} {c.crf} of 0-{c.crf_max}" for c in CODECS.values()) + ")"


def preset_help() -> str:
    """The ``--preset`` help, from the table."""
    return "encoder speed preset (" + "; ".join(
        f"{c.name} {c.presets}, default {c.preset}" for c in CODECS.values()) + ")"
