"""Tactic generators: templates over retrieved premises, a seq2seq model (a tiny T5 trained here), the
combination, and the clear error when ReProver's model cannot be loaded."""

from __future__ import annotations

import math
from pathlib import Path

import huggingface_hub
import pytest
import torch

from database.records import Pos, Premise
from prover.generators import (AUTOMATION, CombinedGenerator, GeneratorUnavailable, GenRequest,
                               RetrievedPremises, Seq2SeqGenerator, Suggestion, TemplateGenerator,
                               augmented_state, hypotheses)
from prover.testing import TableGenerator, fake_theorem
from retrieval.bm25 import BM25Retriever


def premise(name: str, kind: str, code: str, path: str = "Lib.lean", line: int = 1) -> Premise:
    return Premise(name, kind, path, Pos(line, 1), Pos(line, 40), code)


PREMISES = [
    premise("Nat.add_comm'", "theorem", "theorem Nat.add_comm' (n m : Nat) : n + m = m + n", line=1),
    premise("List.length_append'", "theorem",
            "theorem List.length_append' (as bs : List α) : (as ++ bs).length = as.length + bs.length", line=2),
    premise("double", "def", "def double (n : Nat) : Nat := n + n", line=3),
]
THEOREM = fake_theorem("goal")


def request(state: str) -> GenRequest:
    return GenRequest(state, THEOREM)


def bm25_source() -> RetrievedPremises:
    retriever = BM25Retriever()
    retriever.index(PREMISES)
    return RetrievedPremises(retriever, PREMISES)


def test_templates_put_the_retrieved_premise_first_and_are_log_probabilities():
    generator = TemplateGenerator(bm25_source(), num_premises=2)  # BM25: add_comm', double, length_append'
    [row] = generator.generate([request("n m : Nat\n⊢ n + m = m + n")], 200)
    tactics = [s.tactic for s in row]
    assert tactics[0] == "rfl"  # automation keeps its prior
    assert tactics.index("exact Nat.add_comm'") < tactics.index("simp [double]")
    assert {"apply Nat.add_comm'", "rw [Nat.add_comm']", "simp [Nat.add_comm']", "unfold double", "omega",
            "exact n", "rw [← Nat.add_comm']"} <= set(tactics)
    assert "exact double" not in tactics  # a definition is unfolded, not used as a proof
    assert not any("length_append" in t for t in tactics)  # not among the top 2
    assert math.isclose(sum(math.exp(s.logprob) for s in row), 1.0, rel_tol=1e-9)
    assert [s.logprob for s in row] == sorted((s.logprob for s in row), reverse=True)
    assert len(tactics) == len(set(tactics))


def test_templates_use_definitions_with_simp_and_unfold_and_respect_n():
    generator = TemplateGenerator(bm25_source(), num_premises=3)
    rows = generator.generate([request("⊢ double 2 = 4"), request("⊢ True")], 5)
    assert [len(r) for r in rows] == [5, 5]
    [full] = generator.generate([request("⊢ double 2 = 4")], 1000)
    assert {"simp [double]", "unfold double"} <= {s.tactic for s in full}
    assert "exact double" not in {s.tactic for s in full}


def test_templates_without_premises_still_offer_automation():
    [row] = TemplateGenerator().generate([request("⊢ 2 + 2 = 4")], 100)
    assert [s.tactic for s in row[:3]] == [t for t, _ in AUTOMATION[:3]]


def test_hypotheses_are_read_from_the_state():
    assert hypotheses("α : Type\nxs ys : List α\nx✝ : Nat\nh : xs = ys\n⊢ ys = xs") == ["α", "xs", "ys", "h"]


def test_augmented_state_matches_reprover_and_skips_premises_that_do_not_fit():
    text = augmented_state("⊢ n + 0 = n", PREMISES[:2], 10_000)
    first, second = PREMISES[0], PREMISES[1]
    assert text.index("<a>List.length_append'</a>") < text.index("<a>Nat.add_comm'</a>")  # best is nearest
    assert text.endswith("\n\n⊢ n + 0 = n")
    small = augmented_state("⊢ n + 0 = n", [second, first], 80)
    assert "length_append" not in small and "<a>Nat.add_comm'</a>" in small
    assert len(small.encode()) <= 80
    assert augmented_state("⊢ x", [], 3) == "⊢ x"


def test_combined_generator_weights_and_merges():
    a = TableGenerator({"g": [("simp", math.log(0.9)), ("rfl", math.log(0.1))]})
    b = TableGenerator({"g": [("rfl", math.log(0.8)), ("omega", math.log(0.2))]})
    [row] = CombinedGenerator([a, b], [1.0, 3.0]).generate([request("⊢ g")], 3)
    expected = {"rfl": math.log(0.75 * 0.8), "simp": math.log(0.25 * 0.9), "omega": math.log(0.75 * 0.2)}
    assert [s.tactic for s in row] == ["rfl", "simp", "omega"]
    assert all(math.isclose(s.logprob, expected[s.tactic]) for s in row)
    with pytest.raises(ValueError, match="positive"):
        CombinedGenerator([a], [0.0])


# ---- a seq2seq model trained here (no download): ByT5's byte tokenizer and a tiny T5 ---------------------

PAIRS = [("⊢ a = a", "rfl"), ("h : p\n⊢ p", "exact h"), ("⊢ p ∧ q", "constructor")]


@pytest.fixture(scope="module")
def tiny_t5():
    from transformers import ByT5Tokenizer, T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    tokenizer = ByT5Tokenizer()
    config = T5Config(vocab_size=384, d_model=32, d_kv=8, d_ff=64, num_layers=1, num_decoder_layers=1,
                      num_heads=2, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    model = T5ForConditionalGeneration(config)
    x = tokenizer([p for p, _ in PAIRS], return_tensors="pt", padding=True)
    y = tokenizer([t for _, t in PAIRS], return_tensors="pt", padding=True).input_ids
    y[y == 0] = -100
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(150):  # learns the three pairs by heart (0.7 s on 2 cores)
        loss = model(**x, labels=y).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval(), tokenizer


def test_seq2seq_generator_batches_states_and_ranks_its_beams(tiny_t5):
    model, tokenizer = tiny_t5
    generator = Seq2SeqGenerator(model, tokenizer, max_output_tokens=16)
    rows = generator.generate([request(s) for s, _ in PAIRS], 4)
    assert [row[0].tactic for row in rows] == [t for _, t in PAIRS]
    for row in rows:
        assert 1 <= len(row) <= 4 and len({s.tactic for s in row}) == len(row)
        assert all(s.logprob <= 0 for s in row)
        assert [s.logprob for s in row] == sorted((s.logprob for s in row), reverse=True)


def test_seq2seq_generator_feeds_retrieved_premises(tiny_t5):
    model, tokenizer = tiny_t5
    generator = Seq2SeqGenerator(model, tokenizer, bm25_source(), num_premises=1, max_input_bytes=300)
    [text] = generator.inputs([request("n m : Nat\n⊢ n + m = m + n")])
    assert text.startswith("theorem <a>Nat.add_comm'</a>") and text.endswith("\n\nn m : Nat\n⊢ n + m = m + n")
    assert "double" not in text


def test_seq2seq_generator_loads_a_saved_directory(tiny_t5, tmp_path: Path):
    model, tokenizer = tiny_t5
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    generator = Seq2SeqGenerator.from_pretrained(str(tmp_path), max_output_tokens=16)
    [row] = generator.generate([request("⊢ a = a")], 2)
    assert row[0] == Suggestion("rfl", 0.0)


def test_reprover_generator_offline_is_one_clear_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(GeneratorUnavailable) as err:
        Seq2SeqGenerator.from_pretrained()
    message = str(err.value)
    assert "kaiyuy/leandojo-lean4-retriever-tacgen-byt5-small" in message and "\n" not in message
    assert "--generator combined" in message and "huggingface-cli download" in message


def test_retrieved_premises_stay_within_what_the_theorem_can_see():
    retriever = BM25Retriever()
    retriever.index(PREMISES)
    calls = []

    def accessible(theorem):
        calls.append(theorem.full_name)
        return {PREMISES[1].id, PREMISES[2].id}  # add_comm' is defined later in the file, say

    source = RetrievedPremises(retriever, PREMISES, accessible)
    rows = source.premises([request("n m : Nat\n⊢ n + m = m + n"), request("⊢ double n = n + n")], 3)
    assert all(PREMISES[0] not in row for row in rows) and rows[1][0] == PREMISES[2]
    source.premises([request("⊢ anything")], 3)
    assert calls == ["goal"]  # resolved once per theorem, not once per state


def test_premises_are_asked_for_with_where_the_theorem_is():
    from retrieval.priors import Origin

    class Recording(BM25Retriever):
        def retrieve(self, queries, k, allowed=None, origins=None):
            seen.append(origins)
            return super().retrieve(queries, k, allowed, origins)

    seen: list = []
    retriever = Recording()
    retriever.index(PREMISES)
    RetrievedPremises(retriever, PREMISES).premises([request("⊢ a"), request("⊢ b")], 2)
    assert seen == [[Origin(THEOREM.path, THEOREM.start.line)] * 2]  # for the hybrid's locality prior
    seen.clear()  # and with the modules its file imports, for the imported prior
    RetrievedPremises(retriever, PREMISES, imports=lambda t: frozenset({"Lib.Basic"})).premises([request("⊢ c")], 2)
    assert seen == [[Origin(THEOREM.path, THEOREM.start.line, frozenset({"Lib.Basic"}))]]


def test_a_combined_generator_retrieves_once_per_state_and_suggests_the_same():
    class Counting(BM25Retriever):
        def retrieve(self, queries, k, allowed=None, origins=None):
            asked.append(list(queries))
            return super().retrieve(queries, k, allowed, origins)

    asked: list[list[str]] = []
    retriever = Counting()
    retriever.index(PREMISES)
    shared = RetrievedPremises(retriever, PREMISES)
    states = [request("n m : Nat\n⊢ n + m = m + n"), request("⊢ double n = n + n")]
    combined = CombinedGenerator([TemplateGenerator(shared, num_premises=2), TemplateGenerator(shared, num_premises=2)])
    rows = combined.generate(states, 50)
    assert asked == [[s.state for s in states]]  # the second generator's states came from the memo
    fresh = CombinedGenerator([TemplateGenerator(bm25_source(), num_premises=2),
                               TemplateGenerator(bm25_source(), num_premises=2)])
    assert rows == fresh.generate(states, 50)
    combined.generate([states[1], request("⊢ other")], 50)  # only the new state is retrieved
    assert asked[1:] == [["⊢ other"]]
    assert shared.premises(states, 3) != shared.premises(states, 2)  # the memo tells k apart
