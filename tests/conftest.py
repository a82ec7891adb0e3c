"""Shared fixtures. Reference data is read from ../shared/reference (tests skip without it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("LOWLIGHT_REFERENCE", REPO.parent / "shared" / "reference"))


def pytest_configure(config):
    """Keep compiled-backend caches (ONNX graphs, TensorRT engines) of the test run out of ~/.cache."""
    if "LOWLIGHT_CACHE_DIR" not in os.environ:
        import tempfile

        os.environ["LOWLIGHT_CACHE_DIR"] = tempfile.mkdtemp(prefix="lowlight-test-cache-")


@pytest.fixture(scope="session")
def reference() -> Path:
    """The shared reference folder; skips the test when it is absent."""
    if not (REFERENCE / "vectors" / "manifest.json").exists():
        pytest.skip(f"reference data not found at {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="session")
def manifest(reference) -> dict:
    return json.loads((reference / "vectors" / "manifest.json").read_text())


def load_input_png(path: Path) -> torch.Tensor:
    """The official test-script loading: PIL RGB -> /255 (float64) -> float32 -> 1x3xHxW."""
    from PIL import Image

    arr = np.asarray(Image.open(path).convert("RGB")) / 255.0
    return torch.from_numpy(arr.astype(np.float32)).permute(2, 0, 1)[None].contiguous()


@pytest.fixture(autouse=True)
def _deterministic_threads():
    torch.manual_seed(0)
    yield
