"""CPU floating-point state: keep inference out of denormal (subnormal) floats.

Dark inputs drive some Zero-DCE activations towards zero; x86 cores handle
subnormal floats in microcode, tens of times slower than normal ones. The
:func:`flush_denormals` context turns on flush-to-zero / denormals-are-zero
for the duration of a call and restores the caller's previous setting on exit,
so the library never changes the process's global state once it returns.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch

_SMALLEST_NORMAL_F32 = 1.1754944e-38


def denormals_are_flushed() -> bool:
    """Whether float32 subnormals are currently flushed to zero on this thread.

    Probes the hardware state: multiplies a subnormal by 1.0 and checks whether
    the result survived.
    """
    probe = torch.tensor([_SMALLEST_NORMAL_F32 / 8], dtype=torch.float32)
    return bool((probe * torch.ones(1)).item() == 0.0)


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
        changed = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if changed:
            torch.set_flush_denormal(False)
