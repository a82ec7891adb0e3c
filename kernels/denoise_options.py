"""The ``--denoise`` setting (``auto``, ``off`` or a strength in [0, 1]), parsed in one place.

Imports nothing (no torch, no NumPy), so option objects and the CLI can validate the setting cheaply;
the denoiser itself is :mod:`lowlight.kernels.denoise`.
"""

from __future__ import annotations

import math
from typing import Union

AUTO = "auto"
#: ``amount`` of ``--denoise auto``: the full strength the measured noise and the curve's gain call for.
AUTO_AMOUNT = 1.0


def resolve_denoise(value: Union[str, float, None]) -> float:
    """``"auto"`` (or ``None``) -> :data:`AUTO_AMOUNT`, ``"off"`` -> 0, a number S in [0, 1] -> S.

    Raises:
        ValueError: anything else (the message names the value and the choices).

    >>> resolve_denoise("auto"), resolve_denoise("off"), resolve_denoise("0.5")
    (1.0, 0.0, 0.5)
    """
    if value is None:
        return AUTO_AMOUNT
    if isinstance(value, str):
        text = value.strip().lower()
        if text == AUTO:
            return AUTO_AMOUNT
        if text == "off":
            return 0.0
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"denoise must be auto, off or a number in [0, 1], got {value!r}") from None
    else:
        number = float(value)
    if not (math.isfinite(number) and 0.0 <= number <= 1.0):
        raise ValueError(f"denoise must be auto, off or a number in [0, 1], got {value!r}")
    return number
