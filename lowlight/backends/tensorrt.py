"""TensorRT backend through torch-tensorrt (``pip install 'lowlight[tensorrt]'``), CUDA only.

``model.net`` is compiled with the dynamo front end in fp16 for a dynamic input
range covering every estimation size (batch 1-4, sides 8 px up to
``max_side``), serialised as an ExportedProgram and cached on disk (see
:mod:`lowlight.backends.cache`). The cache key holds the weights digest, the
shape range, the precision, the TensorRT and torch-tensorrt versions and the
GPU (name and compute capability), so a second run with the same setting
loads the engine instead of building it (well under a second instead of
tens of seconds). A cached engine that fails to load, or whose output on a
probe input disagrees with eager torch by more than the fp16 tolerance, is
deleted and rebuilt.

Not run on hardware in this repository's CI (no GPU); see ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import copy
import io
import os
import tempfile
from pathlib import Path
from typing import Optional

import torch

from lowlight.backends.base import CurveBackend, NetModule
from lowlight.backends.cache import cache_path, load_or_build
from lowlight.errors import BackendError
from lowlight.optional import install_hint
from lowlight.weights import weights_digest

INSTALL = install_hint("tensorrt")
MIN_SIDE = 8
MAX_BATCH = 4
PROBE_TOLERANCE = 5e-2  # a loaded engine this far from eager torch on the probe is treated as corrupt


def default_max_side(model: torch.nn.Module) -> int:
    """Largest estimation side the engine must accept: Zero-DCE++'s ``longest_side``, else 4K."""
    side = getattr(model, "longest_side", None)
    return int(side) if side else 3840


def check_available(device: torch.device) -> None:
    """Raise a one-line :class:`BackendError` naming what is missing for TensorRT on ``device``."""
    missing = []
    if device.type != "cuda":
        if torch.cuda.is_available():
            raise BackendError("--backend tensorrt runs on CUDA: add --device cuda")
        missing.append(f"a CUDA GPU (torch {torch.__version__} sees none)")
    try:
        import torch_tensorrt  # noqa: F401
    except ImportError:
        missing.append("torch-tensorrt")
    if missing:
        raise BackendError(f"--backend tensorrt needs {' and '.join(missing)}; on an NVIDIA machine run "
                           f"{INSTALL}, or use --backend auto")



class TensorRTBackend(CurveBackend):
    """fp16 TensorRT engine for ``model.net``; maps within 5e-3 of fp32 eager torch.

    Args:
        model: loaded model (eval mode), on ``device``.
        device: a CUDA device.
        max_side: largest estimation height/width (default :func:`default_max_side`).
        precision: ``"fp16"`` (default) or ``"fp32"``.
    """

    name = "tensorrt"

    def __init__(self, model: torch.nn.Module, device: torch.device, max_side: Optional[int] = None,
                 precision: str = "fp16") -> None:
        super().__init__(model, device)
        check_available(self.device)
        import tensorrt
        import torch_tensorrt

        self._trt = torch_tensorrt
        self.precision = precision
        self.dtype = torch.float16 if precision == "fp16" else torch.float32
        side = int(max_side or default_max_side(model))
        opt = (1, 3, max(MIN_SIDE, side * 9 // 16), side)
        self.shapes = {"min": (1, 3, MIN_SIDE, MIN_SIDE), "opt": opt, "max": (MAX_BATCH, 3, side, side)}
        props = torch.cuda.get_device_properties(self.device)
        key = {"model": model.name, "weights": weights_digest(model), "shapes": self.shapes, "precision": precision,
               "tensorrt": tensorrt.__version__, "torch_tensorrt": torch_tensorrt.__version__,
               "torch": torch.__version__, "gpu": props.name, "capability": f"{props.major}.{props.minor}"}
        self.cache_file = cache_path("trt", key, ".ep")
        self._probe = torch.rand(1, 3, opt[2], opt[3], device=self.device)
        with torch.inference_mode():
            self._expected = model.net(self._probe).float()
        self.engine, self.how = load_or_build(self.cache_file, build=self._build, from_bytes=self._load_bytes,
                                              what="TensorRT engine")

    def _inputs(self):
        s = self.shapes
        return [self._trt.Input(min_shape=s["min"], opt_shape=s["opt"], max_shape=s["max"], dtype=self.dtype)]

    def _build(self) -> bytes:
        net = NetModule(copy.deepcopy(self.model)).to(self.device, self.dtype).eval()
        net = net.to(memory_format=torch.contiguous_format)
        try:  # torch-tensorrt >= 2.5: types follow the (fp16) model and inputs
            engine = self._trt.compile(net, ir="dynamo", inputs=self._inputs(), use_explicit_typing=True)
        except TypeError:  # older releases: ask for fp16 kernels explicitly
            engine = self._trt.compile(net, ir="dynamo", inputs=self._inputs(), enabled_precisions={self.dtype})
        fd, tmp = tempfile.mkstemp(suffix=".ep")
        os.close(fd)
        try:
            self._trt.save(engine, tmp, output_format="exported_program", inputs=self._inputs())
            return Path(tmp).read_bytes()
        finally:
            os.unlink(tmp)

    def _load_bytes(self, data: bytes):
        module = torch.export.load(io.BytesIO(data)).module()
        self._verify(module)
        return module

    @torch.inference_mode()
    def _verify(self, module) -> None:
        got = module(self._probe.to(self.dtype)).float()
        err = float((got - self._expected).abs().max())
        if not err <= PROBE_TOLERANCE:
            raise ValueError(f"engine output differs from eager torch by {err:.3g} on the probe input")

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.engine(x.to(self.dtype).contiguous()).float()
