"""``--preset leanagent``: the paper's setup in one switch, and a one-line refusal where the machine lacks a part."""

from __future__ import annotations

from pathlib import Path

import huggingface_hub.constants
import pytest

import prover.toolchain
from leanagent.cli import main
from leanagent.config import ConfigError, dump_config, load_config
from leanagent.presets import REPROVER_RETRIEVER, REPROVER_TACGEN, lacking
from tests.conftest import EXAMPLES


def test_the_preset_sets_the_papers_recipe_and_explicit_settings_win(tmp_path: Path) -> None:
    paper = load_config(None, {"preset": "leanagent"})
    assert (paper.acquire.extractor, paper.curriculum.order) == ("traced", "leanagent")
    r = paper.retriever
    assert (r.model, r.lr, r.warmup_steps, r.warmup_fraction) == (REPROVER_RETRIEVER, 1e-3, 1000, 0.0)
    assert (r.schedule, r.batch_size, r.accumulate, r.grad_clip, r.resume_optimizer) == ("cosine", 4, 16, 1.0, True)
    assert (r.split, r.split_fraction, r.max_length, r.epochs_per_repo) == ("random", 0.02, 1024, 1)
    p = paper.prover
    assert (p.generator, p.num_premises, p.timeout, p.num_sampled_tactics) == ("reprover", 10, 600.0, 64)
    # A file's or a flag's setting wins over the preset's; the saved configuration reads back the same.
    (tmp_path / "c.toml").write_text('preset = "leanagent"\n[retriever]\nmodel = "minilm"\n')
    mine = load_config(tmp_path / "c.toml", {"acquire.extractor": "static"})
    assert (mine.retriever.model, mine.acquire.extractor, mine.retriever.schedule) == ("minilm", "static", "cosine")
    (tmp_path / "saved.toml").write_text(dump_config(mine))
    assert load_config(tmp_path / "saved.toml") == mine
    with pytest.raises(ConfigError, match="unknown preset 'reprover' \\(known: leanagent\\)"):
        load_config(None, {"preset": "reprover"})


@pytest.fixture()
def bare_machine(monkeypatch, tmp_path: Path) -> Path:
    """No Lean, an empty Hugging Face cache, and no hub."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("ELAN_HOME", str(tmp_path / "no-elan"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    return tmp_path / "hf"


def test_the_preset_on_a_bare_machine_says_what_it_lacks_in_one_line(bare_machine, capsys, tmp_path) -> None:
    code = main(["run", str(EXAMPLES / "repos.txt"), "--workdir", str(tmp_path / "w"), "-q", "--preset", "leanagent"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert err.startswith("leanagent run: preset leanagent needs what this machine lacks: Lean to trace")
    assert f"the Hugging Face hub for {REPROVER_RETRIEVER} (not in the local Hugging Face cache" in err
    assert REPROVER_TACGEN in err and "--set acquire.extractor=static" in err
    assert not (tmp_path / "w").exists()  # refused before anything was written


def _cache(root: Path, name: str) -> None:
    """A Hugging Face cache entry for ``name`` as huggingface_hub lays it out."""
    folder = root / f"models--{name.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("abc123")
    (folder / "snapshots" / "abc123").mkdir(parents=True)
    (folder / "snapshots" / "abc123" / "config.json").write_text("{}")


def test_with_lean_and_the_models_cached_nothing_is_lacking(bare_machine, monkeypatch) -> None:
    paper = load_config(None, {"preset": "leanagent"})
    assert len(lacking(paper)) == 2  # Lean; the hub for both models
    _cache(bare_machine, REPROVER_RETRIEVER)
    [hub] = [m for m in lacking(paper) if m.startswith("the Hugging Face hub")]
    assert REPROVER_TACGEN in hub and REPROVER_RETRIEVER not in hub
    _cache(bare_machine, REPROVER_TACGEN)
    monkeypatch.setattr(prover.toolchain, "find_toolchain", lambda: prover.toolchain.Toolchain(
        lake="/x/lake", lean="/x/lean", elan=False))
    monkeypatch.setattr(prover.toolchain, "require_lean", lambda repo_dir=None: None)
    assert lacking(paper) == []
    # Our own defaults need nothing beyond this machine; the tactic model is not asked for without proving.
    assert lacking(load_config(None, {"retriever.model": "byt5-tiny"})) == []
    monkeypatch.setattr(prover.toolchain, "find_toolchain", lambda: None)
    assert lacking(load_config(None, {"prover.generator": "reprover"})) == []  # no Lean: prove is skipped anyway
