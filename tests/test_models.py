"""Model structure, estimation sizes, checkpoint loading and safety."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from lowlight import load_model
from lowlight.errors import WeightsError
from lowlight.kernels import apply_curves
from lowlight.models import ZeroDCE, ZeroDCEPP, count_parameters, estimation_size
from lowlight.weights import BUNDLED, read_checkpoint, save_checkpoint


def test_parameter_counts_match_papers():
    assert count_parameters(ZeroDCE()) == 79_416
    assert count_parameters(ZeroDCEPP()) == 10_561


def test_official_checkpoints_load_unchanged(reference):
    for file, cls in (("zero_dce.pth", ZeroDCE), ("zero_dce_pp.pth", ZeroDCEPP)):
        state = torch.load(reference / "weights" / file, map_location="cpu", weights_only=True)
        model = cls()
        model.load_state_dict(state)  # strict: same keys, same shapes
        assert isinstance(load_model(reference / "weights" / file), cls)


@pytest.mark.parametrize("name,cls", [("zero-dce", ZeroDCE), ("zero-dce++", ZeroDCEPP), ("Zero_DCE_PP", ZeroDCEPP)])
def test_bundled_weights_load(name, cls):
    model = load_model(name)
    assert isinstance(model, cls) and not model.training
    name_read, _, meta = read_checkpoint(BUNDLED[cls.name])
    assert name_read == cls.name
    assert meta["steps"] > 0 and meta["images"]  # trained by `lowlight train`, recorded in the file


@pytest.mark.parametrize("hw", [(1, 1), (2, 3), (97, 131), (130, 250), (1080, 7)])
@pytest.mark.parametrize("policy", [dict(scale_factor=12), dict(longest_side=64), dict()])
def test_zero_dce_pp_accepts_any_frame_size(hw, policy):
    torch.manual_seed(0)
    model = load_model("zero-dce++", **policy)
    x = torch.rand(1, 3, *hw) * 0.3
    with torch.no_grad():
        maps = model(x)
        out = apply_curves(x, maps)
    assert maps.shape[-2:] == estimation_size(*hw, policy.get("scale_factor"), policy.get("longest_side"))
    assert out.shape == x.shape
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def test_estimation_size_policies():
    assert estimation_size(1080, 1920, None, 256) == (144, 256)
    assert estimation_size(2160, 3840, None, 256) == (144, 256)  # cost does not grow with the frame
    assert estimation_size(100, 50, None, 256) == (100, 50)  # never enlarged
    assert estimation_size(624, 468, 12, None) == (52, 39)
    assert estimation_size(5, 7, 12, None) == (1, 1)
    with pytest.raises(ValueError):
        estimation_size(10, 10, 12, 256)


def test_longest_side_estimation_averages_noise():
    """The antialiased resize averages a noisy frame; plain bilinear subsampling does not."""
    torch.manual_seed(1)
    x = (0.1 + 0.05 * torch.randn(1, 3, 512, 512)).clamp(0, 1)
    small = ZeroDCEPP(longest_side=64).estimation_input(x)
    sub = ZeroDCEPP(scale_factor=8).estimation_input(x)
    assert small.shape == sub.shape == (1, 3, 64, 64)
    assert small.std() < 0.5 * sub.std()


def test_project_checkpoint_roundtrip(tmp_path):
    model = ZeroDCEPP()
    path = tmp_path / "w.pt"
    save_checkpoint(path, model, meta={"note": "test", "steps": 1})
    name, state, meta = read_checkpoint(path)
    assert name == "zero-dce++" and meta["note"] == "test"
    loaded = load_model(path)
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)
    assert not list(tmp_path.glob(".*tmp*"))


class _RunsCode:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_checkpoint_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = _RunsCode()
    evil.marker = marker
    path = tmp_path / "evil.pth"
    torch.save({"e_conv1.weight": torch.zeros(1), "payload": evil}, path)
    with pytest.raises(WeightsError, match="could run code"):
        load_model(path)
    assert not marker.exists()


@pytest.mark.parametrize("content,match", [
    (b"", "empty"),
    (b"not a checkpoint at all" * 10, "not a readable"),
])
def test_bad_checkpoint_files(tmp_path, content, match):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=match):
        load_model(path)


def test_foreign_and_truncated_checkpoints(tmp_path):
    foreign = tmp_path / "resnet.pt"
    torch.save({"fc.weight": torch.zeros(2, 2)}, foreign)
    with pytest.raises(WeightsError, match="not a Zero-DCE or Zero-DCE"):
        load_model(foreign)
    good = tmp_path / "good.pt"
    save_checkpoint(good, ZeroDCE())
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(WeightsError, match="not a readable"):
        load_model(cut)
    with pytest.raises(WeightsError, match="not found"):
        load_model(tmp_path / "missing.pt")
    with pytest.raises(WeightsError, match="unknown model|not found"):
        load_model("zero-dce-xl")


def test_mismatched_lowlight_checkpoint(tmp_path):
    path = tmp_path / "w.pt"
    torch.save({"format": "lowlight-dce", "version": 1, "model": "zero-dce",
                "state_dict": ZeroDCEPP().state_dict(), "meta": {}}, path)
    with pytest.raises(WeightsError, match="do not fit zero-dce"):
        load_model(path)


def test_pickle_protocol_text_is_not_trusted(tmp_path):
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps({"a": np.zeros(3)}))
    with pytest.raises(WeightsError):
        load_model(path)
