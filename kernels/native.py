"""The compiled kernel libraries beside this package, loaded with ctypes on first use (one loader for all).

A library is built by ``setup.py`` as an optional extension. When it is missing (no compiler at install
time), stale (another ABI version) or fails to load, :meth:`NativeLibrary.load` returns ``None`` and
:attr:`NativeLibrary.reason` says why and how to fix it; setting ``LOWLIGHT_DISABLE_FUSED_CPU=1`` (read at
the first load) disables every compiled kernel, e.g. to compare with the plain-torch paths.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import os
from pathlib import Path
from typing import Optional, Sequence

DISABLE_ENV = "LOWLIGHT_DISABLE_FUSED_CPU"


class NativeLibrary:
    """One compiled library: ``stem`` (file name without the extension suffix), the ABI it must report
    through ``abi_symbol``, and its ``entry`` function with ctypes ``argtypes`` (returns ``int``)."""

    def __init__(self, stem: str, abi_version: int, abi_symbol: str, entry: str, argtypes: Sequence) -> None:
        self.stem, self.abi_version, self.abi_symbol, self.entry = stem, abi_version, abi_symbol, entry
        self.argtypes = list(argtypes)
        self.reason: Optional[str] = None  #: why it did not load (``None`` once loaded)
        self._lib: Optional[ctypes.CDLL] = None
        self._loaded = False

    def path(self) -> Optional[Path]:
        """Path of the compiled library next to this package, or None when not built."""
        here = Path(__file__).resolve().parent
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            candidate = here / (self.stem + suffix)
            if candidate.is_file():
                return candidate
        return None

    def load(self) -> Optional[ctypes.CDLL]:
        """The loaded library (first call loads it), or ``None`` (see :attr:`reason`)."""
        if self._loaded:
            return self._lib
        self._loaded = True
        if os.environ.get(DISABLE_ENV, "") not in ("", "0"):
            self.reason = f"disabled by the environment variable {DISABLE_ENV}"
            return None
        path = self.path()
        if path is None:
            self.reason = (f"the compiled library {self.stem} is not built next to the lowlight.kernels package "
                           "(reinstall lowlight with a C compiler available: pip install .)")
            return None
        try:
            lib = ctypes.CDLL(str(path))
            version = getattr(lib, self.abi_symbol)()
            if version != self.abi_version:
                raise OSError(f"ABI version {version}, expected {self.abi_version} (stale build; reinstall lowlight)")
            fn = getattr(lib, self.entry)
        except (OSError, AttributeError) as exc:
            self.reason = f"cannot load {path}: {exc}"
            return None
        fn.argtypes = self.argtypes
        fn.restype = ctypes.c_int
        self._lib = lib
        return lib

    def available(self) -> bool:
        """Whether the library loaded."""
        return self.load() is not None

    def unavailable_reason(self) -> Optional[str]:
        """Why the library is unavailable (``None`` when it loaded)."""
        self.load()
        return self.reason
