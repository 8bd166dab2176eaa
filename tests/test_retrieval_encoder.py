"""The dual encoder: masked mean pooling, bucketing, truncation, safetensors checkpoints, offline errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from retrieval.encoder import CheckpointError, DualEncoder, ModelUnavailable

TEXTS = [
    "theorem Nat.add_comm (n m : ℕ) : n + m = m + n",
    "x",
    "",
    "lemma foo : ∀ ε > 0, ∃ δ > 0, |x - y| < δ → |f x - f y| < ε" * 3,
    "⊢ a ≤ b",
]


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach the Hugging Face hub."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


@pytest.fixture(scope="module")
def tiny() -> DualEncoder:
    return DualEncoder.tiny_byt5(seed=0)


def test_tiny_byt5_is_small_seeded_and_byte_level(tiny: DualEncoder) -> None:
    assert sum(p.numel() for p in tiny.parameters()) < 100_000
    assert tiny.dim == 32 and type(tiny.encoder).__name__ == "T5EncoderModel"
    again, other = DualEncoder.tiny_byt5(seed=0), DualEncoder.tiny_byt5(seed=1)
    assert torch.equal(again.embed(TEXTS), tiny.embed(TEXTS))
    assert not torch.allclose(other.embed(TEXTS), tiny.embed(TEXTS))
    assert tiny.tokenizer("ab")["input_ids"] == [ord("a") + 3, ord("b") + 3, 1]  # bytes + 3, then </s>


def test_embeddings_are_unit_masked_means(tiny: DualEncoder) -> None:
    e = tiny.embed(TEXTS, batch_size=len(TEXTS), bucket=False)  # one batch: short texts are padded
    assert e.shape == (len(TEXTS), 32) and e.dtype == torch.float32
    torch.testing.assert_close(e.norm(dim=1), torch.ones(len(TEXTS)))
    alone = torch.cat([tiny.embed([t]) for t in TEXTS])  # no padding at all
    torch.testing.assert_close(e, alone, atol=1e-5, rtol=0)
    # The pooling itself, by hand: mean over the tokens of one text, normalised.
    with torch.no_grad():
        tiny.eval()
        ids = tiny.tokenizer([TEXTS[0]], return_tensors="pt")
        hidden = tiny.encoder(**ids).last_hidden_state[0]
    torch.testing.assert_close(e[0], torch.nn.functional.normalize(hidden.mean(0), dim=0), atol=1e-5, rtol=0)


def test_bucketing_restores_input_order_and_mode(tiny: DualEncoder) -> None:
    tiny.train()
    bucketed = tiny.embed(TEXTS, batch_size=2, bucket=True, show_progress=False)
    plain = tiny.embed(TEXTS, batch_size=2, bucket=False)
    torch.testing.assert_close(bucketed, plain, atol=1e-5, rtol=0)
    assert tiny.training  # embed() ran in eval mode and restored the caller's mode
    tiny.eval()
    assert tiny.embed([]).shape == (0, 32)
    with pytest.raises(ValueError, match="batch_size"):
        tiny.embed(TEXTS, batch_size=0)


def test_embeddings_in_bf16_where_the_cpu_has_it(tiny: DualEncoder, monkeypatch: pytest.MonkeyPatch) -> None:
    exact = tiny.embed(TEXTS)
    monkeypatch.setattr("retrieval.encoder.cpu_bf16", lambda: True)
    fast = tiny.embed(TEXTS)
    assert fast.dtype == torch.float32 and not torch.equal(fast, exact)  # bf16 autocast ran ...
    assert ((fast * exact).sum(dim=1) > 0.999).all()  # ... and moved no embedding far
    torch.testing.assert_close(fast.norm(dim=1), torch.ones(len(TEXTS)))


def test_cpu_bf16_reads_the_cpu_flags(tmp_path: Path) -> None:
    from retrieval.encoder import native_bf16

    for flags, native in (("fpu avx2 avx512f", False), ("fpu avx512f avx512_bf16", True), ("fpu amx_bf16", True)):
        info = tmp_path / f"{native}-{len(flags)}"
        info.write_text(f"processor\t: 0\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n")
        assert native_bf16(info) is native
    assert native_bf16(tmp_path / "absent") is False


def test_truncation_to_max_length(tiny: DualEncoder) -> None:
    # ByT5 keeps max_length - 1 bytes and its end-of-sequence token.
    long, prefix = "abcdefghijklmnop", "abcdefg"
    torch.testing.assert_close(tiny.embed([long], max_length=8), tiny.embed([prefix], max_length=8))
    assert not torch.allclose(tiny.embed([long]), tiny.embed([prefix]))


def test_save_load_gives_identical_embeddings(tiny: DualEncoder, tmp_path: Path) -> None:
    target = tmp_path / "ckpt"
    tiny.save(target)
    files = sorted(p.name for p in target.iterdir())
    assert {"model.safetensors", "config.json", "leanagent.json", "tokenizer_config.json"} <= set(files)
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pkl", ".pickle"))]
    meta = json.loads((target / "leanagent.json").read_text())
    assert meta["format_version"] == 1 and meta["embedding_dim"] == 32 and meta["base_model"] == "tiny-byt5"
    assert meta["producer"] == "leanagent.retrieval.encoder" and meta["max_length"] == 512
    loaded = DualEncoder.load(target)
    assert torch.equal(loaded.embed(TEXTS), tiny.embed(TEXTS))
    assert loaded.base_model == "tiny-byt5" and loaded.max_length == 512
    # The checkpoint is a plain Hugging Face directory too.
    assert torch.equal(DualEncoder.from_pretrained(str(target)).embed(TEXTS), tiny.embed(TEXTS))
    # Saving again replaces it whole, leaving nothing else behind.
    DualEncoder.tiny_byt5(seed=5).save(target)
    assert not torch.equal(DualEncoder.load(target).embed(TEXTS), tiny.embed(TEXTS))
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]


def test_load_refuses_what_is_not_a_checkpoint(tiny: DualEncoder, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not a leanagent encoder checkpoint"):
        DualEncoder.load(tmp_path)
    tiny.save(tmp_path / "c")
    meta = json.loads((tmp_path / "c" / "leanagent.json").read_text())
    (tmp_path / "c" / "leanagent.json").write_text(json.dumps(meta | {"format_version": 7}))
    with pytest.raises(CheckpointError, match="format version 7"):
        DualEncoder.load(tmp_path / "c")


def test_hub_model_offline_raises_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as err:
        DualEncoder.from_pretrained("kaiyuy/leandojo-lean4-retriever-byt5-small", cache_dir=tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert "kaiyuy/leandojo-lean4-retriever-byt5-small" in message
    assert "offline" in message and "local directory" in message
    with pytest.raises(ModelUnavailable, match="no such directory"):
        DualEncoder.from_pretrained(str(tmp_path / "missing"))
