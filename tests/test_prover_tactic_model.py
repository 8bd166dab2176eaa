"""The locally built tactic model: it learns (goal, tactic) pairs, saves as safetensors, and generates."""

from __future__ import annotations

from pathlib import Path

from prover.generators import GenRequest, Seq2SeqGenerator
from prover.tactic_model import save_tactic_model, tiny_tactic_model, train_tactic_epoch
from prover.testing import fake_theorem

PAIRS = [("n : Nat\n⊢ n + 0 = n", "simp"), ("a : Nat\n⊢ a = a", "rfl"), ("h : p\n⊢ p", "exact h"),
         ("xs : List Nat\n⊢ xs ++ [] = xs", "simp")]


def test_it_learns_the_pairs_and_loads_as_a_generator(tmp_path: Path) -> None:
    model, tokenizer = tiny_tactic_model(seed=0)
    first = train_tactic_epoch(model, tokenizer, PAIRS, batch_size=4, lr=3e-3)
    assert (first.steps, first.examples) == (1, 4)
    for epoch in range(60):
        last = train_tactic_epoch(model, tokenizer, PAIRS, batch_size=4, lr=3e-3, seed=epoch)
    assert last.mean_loss < first.mean_loss / 4  # it fits what it is shown
    save_tactic_model(model, tokenizer, tmp_path / "tactic-model")
    assert (tmp_path / "tactic-model" / "model.safetensors").is_file()
    generator = Seq2SeqGenerator.from_pretrained(str(tmp_path / "tactic-model"), num_premises=0,
                                                 max_output_tokens=16)
    rows = generator.generate([GenRequest(goal, fake_theorem("t")) for goal, _ in PAIRS], 4)
    assert [row[0].tactic for row in rows] == [tactic for _, tactic in PAIRS]  # its best beam: the tactic taught
    again = Seq2SeqGenerator.from_pretrained(str(tmp_path / "tactic-model"), num_premises=0, max_output_tokens=16)
    assert again.generate([GenRequest(PAIRS[0][0], fake_theorem("t"))], 4) == rows[:1]  # the saved weights


def test_an_epoch_is_seeded() -> None:
    results = []
    for _ in range(2):
        model, tokenizer = tiny_tactic_model(seed=1)
        results.append(train_tactic_epoch(model, tokenizer, PAIRS, batch_size=2, seed=5).mean_loss)
    assert results[0] == results[1]
