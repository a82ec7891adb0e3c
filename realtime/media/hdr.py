"""HDR video (PQ or HLG transfer, BT.2020 primaries) to 8-bit BT.709 SDR, for the uint8 pipeline.

The enhancement runs on 8-bit SDR frames, so an HDR input is converted when it is decoded, and the
output is tagged BT.709 to match (an 8-bit picture tagged PQ/BT.2020 would be shown with wrong
colours). Per pixel: the decoded BT.2020 RGB (16 bits) goes through the transfer's inverse (PQ:
SMPTE ST 2084 EOTF; HLG: ARIB STD-B67 inverse OETF with the BT.2100 system gamma 1.2 for a 1000 cd/m2
display) to display light with SDR reference white (203 cd/m2, BT.2408) at 1.0, through the
BT.2020 -> BT.709 primaries matrix, a soft knee above 0.8 that rolls highlights off to 1.0, and the
BT.1886 (gamma 2.4) encoding. Out-of-gamut colours are clipped. This is a simple, documented tone map,
not a grading tool.

>>> import numpy as np
>>> round(float(to_display_light(np.array([0.75]), HLG)[0]), 2)  # HLG reference white
1.0
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

PQ, HLG = 16, 18  #: AVColorTransferCharacteristic values (SMPTE ST 2084, ARIB STD-B67)
HDR_TRANSFERS = (PQ, HLG)
SDR_WHITE_NITS = 203.0
HLG_PEAK_NITS = 1000.0
KNEE = 0.8
BT2020_TO_BT709 = np.array([[1.6605, -0.5876, -0.0728],
                            [-0.1246, 1.1329, -0.0083],
                            [-0.0182, -0.1006, 1.1187]], np.float32)


def to_display_light(signal: np.ndarray, transfer: int) -> np.ndarray:
    """Non-linear HDR signal in [0, 1] -> display light, SDR reference white = 1.0 (float64)."""
    x = np.clip(np.asarray(signal, np.float64), 0.0, 1.0)
    if transfer == PQ:
        m1, m2 = 2610 / 16384, 2523 / 4096 * 128
        c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
        e = x ** (1 / m2)
        nits = 10000.0 * (np.maximum(e - c1, 0) / (c2 - c3 * e)) ** (1 / m1)
        return nits / SDR_WHITE_NITS
    if transfer == HLG:
        a, b, c = 0.17883277, 0.28466892, 0.55991073
        scene = np.where(x <= 0.5, x * x / 3.0, (np.exp((x - c) / a) + b) / 12.0)
        return HLG_PEAK_NITS * scene ** 1.2 / SDR_WHITE_NITS
    raise ValueError(f"not an HDR transfer: {transfer}")


def tone_map(light: np.ndarray) -> np.ndarray:
    """Display light (1.0 = SDR white) -> [0, 1]: identity up to :data:`KNEE`, then a soft roll-off."""
    k = KNEE
    over = np.maximum(light - k, 0.0)
    return np.where(light <= k, np.maximum(light, 0.0), k + (1 - k) * (1 - np.exp(-over / (1 - k))))


@lru_cache(maxsize=2)
def _input_lut(transfer: int) -> np.ndarray:
    return to_display_light(np.arange(65536) / 65535.0, transfer).astype(np.float32)


@lru_cache(maxsize=1)
def _output_lut() -> np.ndarray:
    """4096 steps of tone-mapped light in [0, 1] -> uint8 BT.1886 code values."""
    y = np.arange(4096) / 4095.0
    return np.floor(y ** (1 / 2.4) * 255.0 + 0.5).astype(np.uint8)


def hdr_to_sdr(rgb16: np.ndarray, transfer: int) -> np.ndarray:
    """``H x W x 3`` uint16 BT.2020 RGB (PQ or HLG coded) -> ``H x W x 3`` uint8 BT.709 SDR RGB."""
    light = _input_lut(transfer)[rgb16]
    h, w = rgb16.shape[:2]
    lin = (light.reshape(-1, 3) @ BT2020_TO_BT709.T).reshape(h, w, 3)
    y = tone_map(lin)
    return _output_lut()[np.clip(np.rint(y * 4095.0), 0, 4095).astype(np.intp)]
