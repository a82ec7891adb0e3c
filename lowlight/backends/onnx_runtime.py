"""ONNX Runtime backend: ``model.net`` exported to ONNX once (cached on disk) and run by ORT on the CPU.

For this small depthwise-separable net ORT's CPU kernels are 3-5x faster than
eager PyTorch on 2 cores (``benchmarks/RESULTS.md``), which is why ``auto``
prefers it on the CPU. The graph has dynamic batch, height and width, so one
export serves every frame size. Cache key: weights digest, model name,
ONNX opset, torch and onnxruntime versions.
"""

from __future__ import annotations

import io
import warnings
from typing import Optional

import numpy as np
import torch

from lowlight.backends.base import CurveBackend, NetModule
from lowlight.backends.cache import cache_path, load_or_build
from lowlight.cpu import flush_denormals
from lowlight.errors import BackendError
from lowlight.weights import weights_digest

OPSET = 17
INSTALL = "pip install onnxruntime onnx"



def export_onnx(model: torch.nn.Module) -> bytes:
    """Serialised ONNX graph of ``model.net``: input ``x`` float32 ``N x 3 x H x W`` -> output ``maps``."""
    net = NetModule(model).to("cpu").eval()
    # Export from an NCHW float32 copy: the graph is layout-free, ORT picks its own.
    example = torch.rand(1, 3, 32, 48)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (example,), buf, input_names=["x"], output_names=["maps"], opset_version=OPSET,
                          dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "maps": {0: "n", 2: "h", 3: "w"}},
                          dynamo=False)
    return buf.getvalue()


class OnnxRuntimeBackend(CurveBackend):
    """ORT CPU session over the exported graph; numerics within 1e-5 of eager torch (fp32).

    Args:
        model: loaded model (eval mode).
        device: must be the CPU.
        threads: ORT intra-op threads (``None``: ``torch.get_num_threads()``).
    """

    name = "onnxruntime"

    def __init__(self, model: torch.nn.Module, device: torch.device, threads: Optional[int] = None) -> None:
        super().__init__(model, device)
        if self.device.type != "cpu":
            raise BackendError(f"--backend onnxruntime runs on the CPU only (got --device {self.device}); "
                               "use --backend tensorrt or torch on CUDA")
        try:
            import onnx  # noqa: F401  (needed by torch.onnx.export)
            import onnxruntime as ort
        except ImportError as exc:
            raise BackendError(f"--backend onnxruntime needs the '{exc.name}' package: {INSTALL}") from None
        self._ort = ort
        self.threads = int(threads or torch.get_num_threads())
        key = {"model": model.name, "weights": weights_digest(model), "opset": OPSET,
               "torch": torch.__version__, "onnxruntime": ort.__version__, "shape": "n x 3 x h x w dynamic",
               "precision": "fp32"}
        self.cache_file = cache_path("onnx", key, ".onnx")
        with flush_denormals():  # ORT sets FTZ/DAZ in the creating thread: keep the caller's state
            self.session, self.how = load_or_build(self.cache_file, build=lambda: export_onnx(model),
                                                   from_bytes=self._session, what="ONNX graph")

    def _session(self, data: bytes):
        opts = self._ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        opts.add_session_config_entry("session.set_denormal_as_zero", "1")  # as flush_denormals() for torch
        # No busy-waiting between runs: the pipeline's decode and encode threads share the cores.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = self._ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        if names != ["x"]:
            raise ValueError(f"unexpected graph inputs {names}")
        return session

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        a = np.ascontiguousarray(x.detach().to("cpu", torch.float32).contiguous().numpy())
        with flush_denormals():  # as for torch; the caller's FP state is restored afterwards
            (maps,) = self.session.run(None, {"x": a})
        return torch.from_numpy(maps)
