"""User-facing errors.

Every error a user can cause (a bad file, a bad option, a missing backend) is a
:class:`LowlightError`. Its message is one line that names the file or value,
the problem and, where there is one, the fix. The CLI prints the message
without a traceback and exits non-zero.
"""


class LowlightError(Exception):
    """Base class of every error a user can cause."""


class InputError(LowlightError):
    """An input file (image, video, folder) is missing, unreadable or unsupported."""


class OutputError(LowlightError):
    """An output cannot be written (unwritable folder, would overwrite input, exists)."""


class WeightsError(LowlightError):
    """A checkpoint is missing, unsafe, or not a Zero-DCE / Zero-DCE++ checkpoint."""


class BackendError(LowlightError):
    """An optional backend (TensorRT, Triton, CUDA) is unavailable."""


class FrameError(LowlightError, ValueError):
    """A frame handed to the library is not what it must be (shape, dtype, empty)."""


def first_line(exc: BaseException) -> str:
    """A short one-line reason for ``exc``, for messages.

    The OS's or FFmpeg's own text where the exception carries one (``strerror``, without errno and
    file name), else the first line of ``str(exc)``, else the exception's class name.
    """
    strerror = getattr(exc, "strerror", None)
    if strerror:
        return str(strerror)
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
