"""Loading and saving DCE-Net weights, safely.

Two checkpoint formats are accepted, both read with
``torch.load(..., weights_only=True)`` (a file that would run code on load is
refused):

* **official**: a bare state dict as saved by the Zero-DCE / Zero-DCE++
  repositories (keys ``e_conv{1..7}.weight`` or
  ``e_conv{1..7}.{depth_conv,point_conv}.weight``); the model is told apart by
  its keys.
* **lowlight**: ``{"format": "lowlight-dce", "version": 1, "model": name,
  "state_dict": ..., "meta": {...}}`` written by :func:`save_checkpoint`
  (``lowlight train`` writes it; training checkpoints add optimiser state).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any, Optional, Union

import torch

from lowlight.atomic import atomic_output
from lowlight.errors import WeightsError, first_line
from lowlight.models import MODELS, ZeroDCE, ZeroDCEPP

FORMAT = "lowlight-dce"
FORMAT_VERSION = 1
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
BUNDLED = {
    ZeroDCE.name: WEIGHTS_DIR / "zero_dce.pt",
    ZeroDCEPP.name: WEIGHTS_DIR / "zero_dce_pp.pt",
}
ALIASES = {"zerodce": "zero-dce", "zero_dce": "zero-dce", "zerodce++": "zero-dce++",
           "zero_dce++": "zero-dce++", "zero-dce-pp": "zero-dce++", "zero_dce_pp": "zero-dce++"}


def canonical_model_name(name: str) -> str:
    """``"zero-dce"`` or ``"zero-dce++"`` for any accepted spelling; raises otherwise."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in MODELS:
        raise WeightsError(f"unknown model '{name}': choose 'zero-dce' or 'zero-dce++'")
    return key


def _read(path: Path) -> Any:
    if not path.exists():
        raise WeightsError(f"{path}: checkpoint not found")
    if path.is_dir():
        raise WeightsError(f"{path}: is a folder, expected a checkpoint file")
    if path.stat().st_size == 0:
        raise WeightsError(f"{path}: checkpoint file is empty")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = first_line(exc)
        if "unsupported global" in str(exc).lower():
            raise WeightsError(
                f"{path}: refused to load: the file holds Python objects beyond plain tensors, which "
                "could run code on load (only tensors, numbers and strings are accepted)"
            ) from None
        raise WeightsError(f"{path}: not a readable PyTorch checkpoint (unpickling failed: {first[:80]})") from None
    except Exception as exc:  # zip errors, truncated files, random bytes
        raise WeightsError(f"{path}: not a readable PyTorch checkpoint ({first_line(exc)})") from None


def _detect_official(state: dict) -> Optional[str]:
    keys = set(state)
    for name, cls in MODELS.items():
        if keys == set(cls().state_dict()):
            return name
    return None


def read_checkpoint(path: Union[str, os.PathLike]) -> tuple[str, dict, dict]:
    """Read a checkpoint of either format.

    Returns ``(model_name, state_dict, meta)``; ``meta`` is ``{}`` for official files.
    Raises :class:`WeightsError` with a one-line reason for anything else.
    """
    return checkpoint_contents(_read(Path(path)), path)


def read_checkpoint_file(path: Union[str, os.PathLike]) -> tuple[dict, tuple[str, dict, dict]]:
    """``(stored object, (model_name, state_dict, meta))`` of a checkpoint, read once and safely
    (for files that hold more than weights, such as training checkpoints)."""
    obj = _read(Path(path))
    return obj, checkpoint_contents(obj, path)


def checkpoint_contents(obj: Any, path: Union[str, os.PathLike]) -> tuple[str, dict, dict]:
    """``(model_name, state_dict, meta)`` of a loaded checkpoint object (see :func:`read_checkpoint`)."""
    if not isinstance(obj, dict):
        raise WeightsError(f"{path}: not a Zero-DCE or Zero-DCE++ checkpoint (holds a {type(obj).__name__})")
    if obj.get("format") == FORMAT:
        if obj.get("version") != FORMAT_VERSION:
            raise WeightsError(f"{path}: lowlight checkpoint version {obj.get('version')} is not supported")
        name = canonical_model_name(str(obj.get("model", "")))
        state = obj.get("state_dict")
        if not isinstance(state, dict):
            raise WeightsError(f"{path}: lowlight checkpoint has no state_dict")
        return name, state, dict(obj.get("meta") or {})
    if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        name = _detect_official(obj)
        if name is not None:
            return name, obj, {}
    raise WeightsError(
        f"{path}: not a Zero-DCE or Zero-DCE++ checkpoint (neither an official state dict nor a lowlight file)"
    )


def save_checkpoint(path: Union[str, os.PathLike], model: torch.nn.Module, meta: Optional[dict] = None,
                    extra: Optional[dict] = None) -> None:
    """Write ``model`` in the lowlight format, atomically (temporary file, then rename).

    ``meta`` must hold only str/int/float/bool/list/dict/None values so the file
    stays loadable with ``weights_only=True``; ``extra`` adds top-level entries
    (optimiser state for training checkpoints).
    """
    path = Path(path)
    obj = {"format": FORMAT, "version": FORMAT_VERSION, "model": model.name,
           "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
           "meta": dict(meta or {})}
    obj.update(extra or {})
    with atomic_output(path) as tmp:
        torch.save(obj, tmp)


def weights_digest(model: torch.nn.Module) -> str:
    """sha256 of the model's parameters (names and bytes), for cache keys."""
    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def load_model(name_or_path: Union[str, os.PathLike] = "zero-dce++", scale_factor: Optional[int] = None,
               longest_side: Optional[int] = None) -> torch.nn.Module:
    """Return a ready inference model: eval mode, CPU, float32, parameters without gradients.

    Args:
        name_or_path: ``"zero-dce"`` or ``"zero-dce++"`` for the bundled weights,
            or a path to an official or lowlight checkpoint.
        scale_factor, longest_side: Zero-DCE++ estimation size (see
            :class:`lowlight.models.ZeroDCEPP`); ignored for Zero-DCE.
    """
    text = os.fspath(name_or_path)
    key = ALIASES.get(text.strip().lower(), text.strip().lower())
    path = BUNDLED[key] if key in MODELS else Path(text)
    if key in MODELS and not path.exists():
        raise WeightsError(f"{path}: bundled weights for {key} are missing from the installation; reinstall lowlight")
    name, state, _ = read_checkpoint(path)
    bad = [k for k, v in state.items() if isinstance(v, torch.Tensor) and v.is_floating_point()
           and not bool(torch.isfinite(v).all())]
    if bad:
        raise WeightsError(f"{path}: the checkpoint holds NaN or infinite weights ({bad[0]}"
                           f"{f' and {len(bad) - 1} more' if len(bad) > 1 else ''}); it would give a black "
                           "picture: use the weights of an earlier checkpoint or train again")
    model = MODELS[name]()
    try:
        model.load_state_dict(flush_subnormal_weights(state))
    except RuntimeError as exc:
        raise WeightsError(f"{path}: weights do not fit {name} ({first_line(exc)})") from None
    if isinstance(model, ZeroDCEPP):
        model.configure(scale_factor=scale_factor, longest_side=longest_side)
        # Depthwise convs run about 2.4x faster channels-last on CPU (same results to 1e-7).
        model = model.to(memory_format=torch.channels_last)
    return model.eval().requires_grad_(False)


_SMALLEST_NORMAL = {torch.float32: torch.finfo(torch.float32).tiny, torch.float16: torch.finfo(torch.float16).tiny,
                    torch.float64: torch.finfo(torch.float64).tiny}


def flush_subnormal_weights(state: dict) -> dict:
    """Replace subnormal (denormal) weights by 0; returns a new state dict.

    The official Zero-DCE checkpoint holds 19,266 subnormal weights (Zero-DCE++: 685). Every
    multiply by one is a slow microcoded operation on x86 CPUs, in whichever thread runs the
    convolution, so they are removed once at load time. Changes outputs by less than 1e-30.
    """
    out = {}
    for key, value in state.items():
        tiny = _SMALLEST_NORMAL.get(value.dtype) if isinstance(value, torch.Tensor) else None
        if tiny is not None:
            value = torch.where(value.abs() < tiny, torch.zeros_like(value), value)
        out[key] = value
    return out
