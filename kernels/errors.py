"""Errors raised by ``lowlight.kernels`` (which imports nothing else of lowlight)."""


class KernelUnavailable(RuntimeError):
    """An optional kernel backend cannot run here (missing package, library or device).

    The message names the backend, why it is unavailable and the fix (the
    package to ``pip install`` or the build step).
    """
