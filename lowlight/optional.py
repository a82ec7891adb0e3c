"""Optional heavy dependencies, imported where they are used, through one helper.

>>> require("json", "bench").__name__
'json'
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Optional

from lowlight.errors import BackendError


def install_hint(extra: str) -> str:
    """``pip install 'lowlight[EXTRA]'`` (the fix named in every missing-dependency message)."""
    return f"pip install 'lowlight[{extra}]'"


def require(module: str, extra: str, what: Optional[str] = None) -> ModuleType:
    """Import ``module``, or raise :class:`BackendError` naming the pip extra that installs it.

    Args:
        module: the importable name (``"ray"``, ``"matplotlib.pyplot"``).
        extra: lowlight's extra that provides it (``"ray"``, ``"bench"``).
        what: the feature that needs it, for the message (default: the module's name).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise BackendError(f"{what or top} needs {top}, which is not installed or does not import "
                           f"({exc}): {install_hint(extra)}") from None


def lazy_exports(package: str, names: dict):
    """A module ``__getattr__`` that imports ``names[attr]`` (a submodule of ``package``) on first use,
    so importing ``package`` stays cheap (no torch, no OpenCV) until an attribute that needs them is read.

    Usage in ``package/__init__.py``: ``__getattr__ = lazy_exports(__name__, {"Enhancer": ".enhancer"})``.
    """
    def __getattr__(attr: str):
        if attr not in names:
            raise AttributeError(f"module {package!r} has no attribute {attr!r}")
        value = getattr(importlib.import_module(names[attr], package), attr)
        setattr(importlib.import_module(package), attr, value)
        return value
    return __getattr__
