"""ONNX Runtime backend: ``model.net`` as an ONNX graph run by ORT on the CPU, with NumPy, without torch.

For this small depthwise-separable net ORT's CPU kernels are 3-5x faster than
eager PyTorch on 2 cores (``benchmarks/RESULTS.md``), which is why ``auto``
prefers it on the CPU. The graph has dynamic batch, height and width, so one
graph serves every frame size. Where the graph comes from:

* the bundled models: shipped in the package beside their ``.pt`` weights
  (:data:`lowlight.weights.BUNDLED_GRAPHS`, written by
  ``python -m lowlight.backends.export_bundled``); opening one needs no torch. A shipped
  graph not made from its ``.pt`` (its ``lowlight.weights`` digest differs from the file's: the
  weights were retrained and the graphs not regenerated) is never run: the ``.pt`` is then exported
  and cached like a checkpoint, with a warning;
* a user checkpoint: exported once with ``torch.onnx.export`` and cached
  (:mod:`lowlight.backends.cache`), keyed by the sha256 of the checkpoint file's
  bytes (and the opset and graph format), so a cache hit reads neither the
  checkpoint nor torch; torch is imported only on a miss;
* a loaded torch model (:class:`OnnxRuntimeBackend` ``(model, device)``, what
  :func:`lowlight.backends.create_backend` builds): exported and cached, keyed by
  the weights' digest.

Every graph carries its model in the ONNX ``metadata_props`` (:data:`META`):
``lowlight.format``, ``lowlight.model`` (``zero-dce`` / ``zero-dce++``),
``lowlight.iterations``, ``lowlight.channels`` and the digest of the weights it
was made from; a cached graph without them is rebuilt. The estimation size
(Zero-DCE++'s ``longest_side`` / ``scale_factor``) is a setting of the run, not
of the graph (its height and width are dynamic), so it is not stored.

Inputs and outputs: float32 NumPy ``N x 3 x h x w`` in [0, 1] -> ``N x C x h x w``
maps in [-1, 1]; a torch tensor in gives a tensor out (the contract of
:class:`~lowlight.backends.contract.CurveBackend`).
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Optional, Union

import numpy as np

from lowlight.backends.cache import cache_path, load_or_build
from lowlight.backends.contract import CurveBackend, as_device
from lowlight.cpu import flush_denormals
from lowlight.errors import BackendError
from lowlight.kernels.fused import is_tensor
from lowlight.kernels.threads import get_num_threads
from lowlight.model_spec import ModelSpec

OPSET = 17
GRAPH_FORMAT = 1  #: version of the graph + metadata contract (part of every cache key)
INSTALL = "pip install onnxruntime onnx"
META = ("lowlight.format", "lowlight.model", "lowlight.iterations", "lowlight.channels", "lowlight.weights")


def graph_metadata(model, weights: str) -> dict:
    """The ``metadata_props`` of ``model``'s graph; ``weights`` names what it was made from
    (``sha256:<file digest>`` of a checkpoint file, or ``params:<weights_digest>``)."""
    return {"lowlight.format": str(GRAPH_FORMAT), "lowlight.model": model.name,
            "lowlight.iterations": str(int(model.iterations)),
            "lowlight.channels": str(3 if model.name == "zero-dce++" else 3 * int(model.iterations)),
            "lowlight.weights": weights}


def export_onnx(model, metadata: Optional[dict] = None) -> bytes:
    """Serialised ONNX graph of ``model.net`` (a loaded torch model): input ``x`` float32
    ``N x 3 x H x W`` -> output ``maps``, with ``metadata`` as its ``metadata_props``. Imports torch
    and onnx."""
    try:
        import onnx
        import torch
    except ImportError as exc:
        raise BackendError(f"exporting a checkpoint to ONNX needs the '{exc.name}' package: "
                           f"pip install torch onnx (or use --backend torch)") from None
    from lowlight.backends.base import NetModule

    net = NetModule(model).to("cpu").eval()
    # Export from an NCHW float32 copy: the graph is layout-free, ORT picks its own.
    example = torch.rand(1, 3, 32, 48)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (example,), buf, input_names=["x"], output_names=["maps"], opset_version=OPSET,
                          dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "maps": {0: "n", 2: "h", 3: "w"}},
                          dynamo=False)
    proto = onnx.load_from_string(buf.getvalue())
    del proto.metadata_props[:]
    for key, value in sorted((metadata or {}).items()):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, str(value)
    return proto.SerializeToString()


def _import_ort():
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise BackendError(f"--backend onnxruntime needs the '{exc.name}' package: {INSTALL}") from None
    return ort


class OnnxRuntimeBackend(CurveBackend):
    """ORT CPU session over the model's graph; numerics within 1e-5 of eager torch (fp32).

    ``OnnxRuntimeBackend(model, device)`` exports a loaded torch model (cached);
    :meth:`from_weights` opens the graph of a bundled model or a checkpoint file without torch.

    Args:
        model: loaded model (eval mode).
        device: must be the CPU.
        threads: ORT intra-op threads (``None``: :func:`lowlight.kernels.threads.get_num_threads`).

    Attributes:
        how: where the graph came from: ``"bundled"``, ``"cached"``, ``"built"`` (exported now).
        cache_file: the cache entry (``None`` for a bundled graph).
    """

    name = "onnxruntime"
    numpy = True

    def __init__(self, model, device="cpu", threads: Optional[int] = None) -> None:
        super().__init__(model, device)
        if str(self.device).split(":")[0] != "cpu":
            raise BackendError(f"--backend onnxruntime runs on the CPU only (got --device {self.device}); "
                               "use --backend tensorrt or torch on CUDA")
        from lowlight.weights import weights_digest

        self._ort = _import_ort()
        self.threads = int(threads or get_num_threads())
        digest = weights_digest(model)
        key = {"model": model.name, "weights": digest, "opset": OPSET, "format": GRAPH_FORMAT,
               "shape": "n x 3 x h x w dynamic", "precision": "fp32"}
        self.cache_file = cache_path("onnx", key, ".onnx")
        meta = graph_metadata(model, f"params:{digest}")
        with flush_denormals():  # ORT sets FTZ/DAZ in the creating thread: keep the caller's state
            self.session, self.how = load_or_build(self.cache_file, build=lambda: export_onnx(model, meta),
                                                   from_bytes=self._session, what="ONNX graph")

    @classmethod
    def from_weights(cls, name_or_path: Union[str, os.PathLike], threads: Optional[int] = None) -> "OnnxRuntimeBackend":
        """The backend for a bundled model (``"zero-dce"``, ``"zero-dce++"``: the shipped graph) or a
        checkpoint file (its cached graph; exported with torch on a cache miss). Needs no torch
        unless it exports. :attr:`model` is ``None``; :attr:`spec` comes from the graph's metadata.

        Raises:
            WeightsError: a bad checkpoint (as :func:`lowlight.load_model`); BackendError: ORT missing.
        """
        from lowlight.weights import BUNDLED, BUNDLED_GRAPHS, bundled_name, check_checkpoint_file, file_sha256

        self = cls.__new__(cls)
        self.model, self.device = None, as_device("cpu")
        self._ort = _import_ort()
        self.threads = int(threads or get_num_threads())
        name = bundled_name(name_or_path)
        with flush_denormals():  # ORT sets FTZ/DAZ in the creating thread: keep the caller's state
            if name is not None:
                graph = BUNDLED_GRAPHS[name]
                if not graph.is_file():
                    raise BackendError(f"{graph}: the bundled ONNX graph of {name} is missing from the installation; "
                                       "reinstall lowlight (or use --backend torch)")
                self.cache_file = None
                self.session, self.how = self._session(graph.read_bytes()), "bundled"
                if self.weights != f"sha256:{file_sha256(BUNDLED[name])}":  # ~1 ms: the .pt is small
                    # a graph older than its .pt (weights retrained, export_bundled not run): never run
                    # stale weights; the .pt is exported and cached like any checkpoint instead
                    warnings.warn(f"lowlight: {graph} was not made from {BUNDLED[name].name} (stale); using a graph "
                                  "exported from the .pt instead (run python -m lowlight.backends.export_bundled)",
                                  RuntimeWarning, stacklevel=2)
                    name, name_or_path = None, BUNDLED[name]
            if name is None:
                path = check_checkpoint_file(name_or_path)
                digest = file_sha256(path)
                key = {"checkpoint_sha256": digest, "opset": OPSET, "format": GRAPH_FORMAT,
                       "shape": "n x 3 x h x w dynamic", "precision": "fp32"}
                self.cache_file = cache_path("onnx", key, ".onnx")
                self.session, self.how = load_or_build(self.cache_file, build=lambda: _export_file(path, digest),
                                                       from_bytes=self._session, what="ONNX graph")
        return self

    def _session(self, data: bytes):
        ort = self._ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        opts.add_session_config_entry("session.set_denormal_as_zero", "1")  # as flush_denormals() for torch
        # No busy-waiting between runs: the pipeline's decode and encode threads share the cores.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        if names != ["x"]:
            raise ValueError(f"unexpected graph inputs {names}")
        meta = session.get_modelmeta().custom_metadata_map
        missing = [k for k in META if k not in meta]
        if missing or meta["lowlight.format"] != str(GRAPH_FORMAT):
            raise ValueError(f"graph metadata {missing or meta['lowlight.format']} missing or of another format")
        self.spec = ModelSpec(meta["lowlight.model"], int(meta["lowlight.iterations"]))
        self.channels = int(meta["lowlight.channels"])
        self.weights = meta["lowlight.weights"]
        return session

    def run(self, x: np.ndarray) -> np.ndarray:
        """Maps for float32 NumPy ``x`` (``N x 3 x h x w`` in [0, 1]): float32 ``N x C x h x w``."""
        with flush_denormals():  # as for torch; the caller's FP state is restored afterwards
            (maps,) = self.session.run(None, {"x": np.ascontiguousarray(x, dtype=np.float32)})
        return maps

    def __call__(self, x):
        if is_tensor(x):
            import torch

            return torch.from_numpy(self.run(x.detach().to("cpu", torch.float32).contiguous().numpy()))
        return self.run(x)


def _export_file(path: Path, digest: str) -> bytes:
    """Export checkpoint ``path`` (a cache miss): loads it with torch (``weights_only=True``)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise BackendError(f"{path}: a checkpoint is exported to ONNX once, which needs torch: "
                           "pip install torch (later runs use the cached graph)") from None
    from lowlight.weights import load_model

    model = load_model(path)
    return export_onnx(model, graph_metadata(model, f"sha256:{digest}"))
