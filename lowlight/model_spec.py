"""What the CPU path needs to know about a model, without torch: :class:`ModelSpec` and :func:`estimation_size`.

The torch modules (:mod:`lowlight.models`) carry the same facts as class attributes; a
:class:`ModelSpec` carries them for a model run by a backend that needs no torch (the shipped
or cached ONNX graph, :mod:`lowlight.backends.onnx_runtime`), read from the graph's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from lowlight.kernels import DEFAULT_ITERATIONS

MODEL_NAMES = ("zero-dce", "zero-dce++")


def estimation_size(height: int, width: int, scale_factor: Optional[int], longest_side: Optional[int]) -> tuple[int, int]:
    """Size ``(h, w)`` at which Zero-DCE++ estimates curves for an ``H x W`` frame.

    * ``scale_factor=S``: ``(round(H/S), round(W/S))``, at least 1 (the official
      ``H/S x W/S`` when S divides both).
    * ``longest_side=L``: the frame scaled so its longest side is ``L``
      (never enlarged), aspect ratio kept, each side at least 1.
    * neither: full resolution.
    """
    if scale_factor is not None and longest_side is not None:
        raise ValueError("give scale_factor or longest_side, not both")
    if scale_factor is not None:
        return max(1, round(height / scale_factor)), max(1, round(width / scale_factor))
    if longest_side is not None and max(height, width) > longest_side:
        k = longest_side / max(height, width)
        return max(1, round(height * k)), max(1, round(width * k))
    return height, width


def check_estimation(scale_factor: Optional[int], longest_side: Optional[int]) -> tuple[Optional[int], Optional[int]]:
    """Validated ``(scale_factor, longest_side)`` of Zero-DCE++ (``scale_factor`` 1 means none);
    raises ``ValueError`` naming the bad value."""
    if scale_factor is not None and (int(scale_factor) != scale_factor or scale_factor < 1):
        raise ValueError(f"scale_factor must be a positive integer, got {scale_factor}")
    if longest_side is not None and longest_side < 1:
        raise ValueError(f"longest_side must be positive, got {longest_side}")
    estimation_size(1, 1, scale_factor, longest_side)  # rejects both-given
    return (None if scale_factor in (None, 1) else int(scale_factor)), longest_side


@dataclass(frozen=True)
class ModelSpec:
    """A model's name, curve steps and (Zero-DCE++) estimation size, as plain values.

    ``channels``: maps per frame (3 for Zero-DCE++, ``3 * iterations`` for Zero-DCE).
    ``scale_factor`` / ``longest_side``: as for :class:`lowlight.models.ZeroDCEPP` (``None`` for Zero-DCE).
    """

    name: str
    iterations: int = DEFAULT_ITERATIONS
    scale_factor: Optional[int] = None
    longest_side: Optional[int] = None

    @property
    def channels(self) -> int:
        return 3 if self.name == "zero-dce++" else 3 * int(self.iterations)

    def configured(self, scale_factor: Optional[int] = None, longest_side: Optional[int] = None) -> "ModelSpec":
        """This spec with Zero-DCE++'s estimation size set (ignored for Zero-DCE, like ``load_model``)."""
        if self.name != "zero-dce++":
            return ModelSpec(self.name, self.iterations)
        scale_factor, longest_side = check_estimation(scale_factor, longest_side)
        return ModelSpec(self.name, self.iterations, scale_factor, longest_side)


def spec_of(model) -> ModelSpec:
    """The :class:`ModelSpec` of a loaded torch model (or of anything with the same attributes)."""
    return ModelSpec(model.name, int(model.iterations), getattr(model, "scale_factor", None),
                     getattr(model, "longest_side", None))
