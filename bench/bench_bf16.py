"""Float32 against bf16 autocast, one checkpoint: the corpus's embedding time and validation R@10 / MRR.

usage: python bench/bench_bf16.py WORKDIR N CHECKPOINT

The first N repositories of WORKDIR's order, their validation queries pooled, the corpus they and their
dependencies hold, embedded by WORKDIR's checkpoint CHECKPOINT (a directory name under ``checkpoints/``) once
in float32 and once under bf16 autocast (what :func:`retrieval.encoder.cpu_bf16` turns on where the CPU
computes bf16 natively). Prints each pass's seconds, R@10 and MRR with 95% bootstrap intervals, and the
paired R@10 difference. The time ratio is the figure; other jobs on the machine move both passes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import retrieval.encoder as encoder  # noqa: E402
from database.store import Store  # noqa: E402
from leanagent.config import load_config  # noqa: E402
from leanagent.learner import corpus_of, repo_dataset  # noqa: E402
from leanagent.results import run_state  # noqa: E402
from leanagent.workdir import Workdir  # noqa: E402
from retrieval.dense import DenseRetriever  # noqa: E402
from retrieval.encoder import DualEncoder  # noqa: E402
from retrieval.evaluate import score_queries  # noqa: E402
from retrieval.stats import difference, mean_interval  # noqa: E402


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    wd, n, checkpoint = Workdir(Path(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
    settings = load_config(wd.config if wd.config.is_file() else None).retriever
    with Store.open(wd.database) as store:
        seen = list(run_state(store).order[:n])
        queries = [q for repo in seen for q in repo_dataset(store, repo, settings, training=False).validation]
        corpus = corpus_of(store, seen)
    model = DualEncoder.load(wd.checkpoints / checkpoint)
    print(f"{len(corpus)} premises, {len(queries)} validation queries of {n} repositories")
    scores, seconds = {}, {}
    for bf16 in (False, True):
        encoder.cpu_bf16 = lambda on=bf16: on
        retriever = DenseRetriever(model, max_length=settings.max_length)
        started = time.perf_counter()
        retriever.index(corpus)
        seconds[bf16] = time.perf_counter() - started
        scores[bf16] = score_queries(retriever, queries)
        r10 = mean_interval([s.recall_at_10 for s in scores[bf16]])
        mrr = mean_interval([s.reciprocal_rank for s in scores[bf16]])
        print(f"{'bf16' if bf16 else 'float32':8s} corpus embedded in {seconds[bf16]:.0f} s; R@10 {r10.estimate:.4f} "
              f"[{r10.low:.3f}, {r10.high:.3f}], MRR {mrr.estimate:.4f} [{mrr.low:.3f}, {mrr.high:.3f}]")
    d = difference([s.recall_at_10 for s in scores[True]], [s.recall_at_10 for s in scores[False]])
    print(f"time bf16 / float32: {seconds[True] / seconds[False]:.2f}; R@10 bf16 - float32: {d.estimate:+.4f} "
          f"[{d.low:+.4f}, {d.high:+.4f}] ({len(queries)} queries)")


if __name__ == "__main__":
    main()
