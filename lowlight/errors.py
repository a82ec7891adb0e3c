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
