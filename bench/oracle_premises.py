"""Precision and recall of the static extractor's premises (and exact tactic-step counts) on the
hand-checked oracle corpus tests/oracle.

usage: python bench/oracle_premises.py [--code DIR]

``--code DIR`` measures the extractor of another checkout (e.g. an older commit's ``git worktree``),
to show what a change did; the oracle is always this checkout's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
ORACLE = HERE / "tests" / "oracle"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", type=Path, default=HERE, help="checkout whose extractor is measured")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    from extraction import NameIndex, resolve_identifiers, scan_tree  # noqa: PLC0415 - after --code

    truth = json.loads((ORACLE / "expected.json").read_text())["declarations"]
    scans = scan_tree(ORACLE)
    index = NameIndex.from_scans(scans)
    found = {d.name: (set(resolve_identifiers(d, index)), len(d.steps)) for s in scans for d in s.declarations}
    tp = fp = fn = steps_ok = 0
    for name, t in sorted(truth.items()):
        got, steps = found.get(name, (set(), -1))
        want = set(t["premises"])
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
        steps_ok += steps == t["steps"]
        if got != want or steps != t["steps"]:
            print(f"  {name:16} premises {sorted(got)} (true {sorted(want)}), steps {steps} (true {t['steps']})"
                  f"  [{t.get('why', '')}]")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"{len(truth)} declarations, {tp + fn} true premises: precision {precision:.3f} ({tp}/{tp + fp}), "
          f"recall {recall:.3f} ({tp}/{tp + fn}), tactic steps exact {steps_ok}/{len(truth)}")


if __name__ == "__main__":
    main()
