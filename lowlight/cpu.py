"""CPU floating-point state: keep inference out of denormal (subnormal) floats.

Dark inputs drive some Zero-DCE activations towards zero; x86 cores handle
subnormal floats in microcode, tens of times slower than normal ones. The
:func:`flush_denormals` context turns on flush-to-zero / denormals-are-zero
for the duration of a call and restores the caller's previous setting on exit,
so the library never changes the process's global state once it returns.

No torch here: the state is read with NumPy and set through the compiled kernel library
(:func:`lowlight.kernels.fused_cpu.ftz_daz`); only where that library is unavailable is torch's
``set_flush_denormal`` used (torch is then imported).
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np

_SMALLEST_NORMAL_F32 = 1.1754944e-38


def denormals_are_flushed() -> bool:
    """Whether float32 subnormals are currently flushed to zero on this thread.

    Probes the hardware state: multiplies a subnormal by 1.0 (NumPy, float32) and checks whether
    the result survived.
    """
    probe = np.array([_SMALLEST_NORMAL_F32 / 8], dtype=np.float32)
    return bool((probe * np.float32(1.0))[0] == 0.0)


def _set_flush(on: bool) -> bool:
    """Turn flushing on or off on this thread; returns whether it could."""
    from lowlight.kernels import fused_cpu

    if fused_cpu.ftz_daz(on) is not None:
        return True
    import torch

    return bool(torch.set_flush_denormal(on))


@contextlib.contextmanager
def flush_denormals() -> Iterator[None]:
    """Flush subnormal floats to zero inside the block, then restore the prior state.

    Has no effect (and costs nothing) where the CPU cannot flush denormals.
    Nested use is safe. The flag is per thread (the
    x86 MXCSR register): torch's intra-op worker threads inherit it for the
    operators launched inside the block (checked by a test).
    """
    changed = False
    if not denormals_are_flushed():
        changed = _set_flush(True)
    try:
        yield
    finally:
        if changed:
            _set_flush(False)
