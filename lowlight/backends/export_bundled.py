"""Write the bundled models' ONNX graphs (``lowlight/weights/*.onnx``) from their ``.pt`` weights.

Run after changing a bundled ``.pt`` (``tests/test_backends.py`` fails while a shipped graph is stale)::

    python -m lowlight.backends.export_bundled          # writes the graphs
    python -m lowlight.backends.export_bundled --check  # exit 1 if one is missing or stale

Each graph is :func:`lowlight.backends.onnx_runtime.export_onnx` of ``load_model(name)``, with the
metadata the torch-free CPU path reads (model, iterations, channels) and ``lowlight.weights =
sha256:<digest of the .pt file>``, by which ``--check`` and the tests tell a stale graph. Needs
torch and onnx (only here; the installed package only reads the graphs).
"""

from __future__ import annotations

import sys

from lowlight.atomic import atomic_write_bytes
from lowlight.weights import BUNDLED, BUNDLED_GRAPHS, file_sha256


def stale_graphs() -> list[str]:
    """Bundled models whose shipped graph is missing or was made from other weights than their ``.pt``."""
    import onnx

    stale = []
    for name, graph in BUNDLED_GRAPHS.items():
        if not graph.is_file():
            stale.append(name)
            continue
        meta = {p.key: p.value for p in onnx.load(str(graph), load_external_data=False).metadata_props}
        if meta.get("lowlight.weights") != f"sha256:{file_sha256(BUNDLED[name])}":
            stale.append(name)
    return stale


def export_all() -> None:
    from lowlight.backends.onnx_runtime import export_onnx, graph_metadata
    from lowlight.weights import load_model

    for name, graph in BUNDLED_GRAPHS.items():
        model = load_model(name)
        data = export_onnx(model, graph_metadata(model, f"sha256:{file_sha256(BUNDLED[name])}"))
        atomic_write_bytes(graph, data)
        print(f"{graph}: {len(data):,} bytes")


def main(argv=None) -> int:
    """``[--check]``: write the graphs, or (``--check``) exit 1 naming each missing or stale one."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args not in ([], ["--check"]):
        print("usage: python -m lowlight.backends.export_bundled [--check]", file=sys.stderr)
        return 2
    if args:
        stale = stale_graphs()
        for name in stale:
            print(f"{BUNDLED_GRAPHS[name]}: missing or stale; run python -m lowlight.backends.export_bundled")
        return 1 if stale else 0
    export_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
