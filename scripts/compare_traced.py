"""The static extractor's premises against LeanDojo's traced ones on one repository (needs Lean).

usage: python scripts/compare_traced.py REPO_DIR [--workdir DIR]

REPO_DIR is a local git checkout (LeanDojo traces a commit). Traced premises are Lean's own; those that are
not declarations of the repository (Mathlib, core) are left out of the truth, since the static extractor
only knows what it scanned. Prints precision and recall over the theorems both extractors find, and the
theorems that differ. Without a Lean toolchain: one line, exit 2.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from leanagent.acquire import acquire  # noqa: E402
from extraction import extract_repo  # noqa: E402
from extraction.oracle import compare_premises  # noqa: E402
from leanagent.repos import RepoSpec  # noqa: E402
from prover.env import LeanUnavailable  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    from leanagent.tracing import trace_repository

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="leanagent-compare-"))
    checkout = acquire(RepoSpec(str(args.repo.resolve()), None), workdir / "cache")
    static = extract_repo(checkout.repo, checkout.root)
    try:
        traced = trace_repository(checkout.repo, workdir)
    except LeanUnavailable as err:
        print(f"compare_traced: {err}", file=sys.stderr)
        return 2
    own = {p.full_name for p in static.premises}
    truth = {t.full_name: [p for p in t.premises if p in own] for t in traced.theorems}
    found = {t.full_name: list(t.premises) for t in static.theorems if t.full_name in truth}
    agreement = compare_premises(found, {name: truth[name] for name in found})
    print(f"{checkout.repo.name}: {agreement.declarations} theorems in both; premises of the repository: "
          f"precision {agreement.precision:.3f}, recall {agreement.recall:.3f} "
          f"(TP {agreement.true_positives}, FP {agreement.false_positives}, FN {agreement.false_negatives})")
    for name in agreement.wrong[:50]:
        print(f"  {name}: static {sorted(found[name])}, traced {sorted(truth[name])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
