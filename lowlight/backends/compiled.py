"""``torch.compile`` backend (Inductor): generated kernels for ``model.net``.

The first call for a new input size compiles (seconds on a CPU: ~10 s here);
shapes seen again reuse the compiled code. Needs a C++ compiler on the CPU.
"""

from __future__ import annotations

import torch

from lowlight.backends.base import CurveBackend, NetModule
from lowlight.cpu import flush_denormals
from lowlight.errors import BackendError, first_line



class CompiledBackend(CurveBackend):
    """``torch.compile(model.net)``; numerics within float rounding of eager torch (~1e-7)."""

    name = "compile"

    def __init__(self, model: torch.nn.Module, device: torch.device) -> None:
        super().__init__(model, device)
        if not hasattr(torch, "compile"):
            raise BackendError(f"--backend compile needs torch >= 2.0 (this is torch {torch.__version__})")
        self._compiled = torch.compile(NetModule(model).eval(), dynamic=False)

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        try:
            with flush_denormals():
                return self._compiled(x).contiguous()
        except Exception as exc:  # Inductor failures surface here (no compiler, unsupported op)
            if type(exc).__module__.startswith("torch._dynamo") or "inductor" in repr(exc).lower():
                line = first_line(exc)
                raise BackendError(f"--backend compile failed: {line}; use --backend torch") from exc
            raise
