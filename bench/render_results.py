"""Render every comparison table from arms' results files alone (docs/results/*.json, bench/arm_results.py).

    python bench/render_results.py docs/results/*.json > tables.md

Markdown on stdout: per split, the pooled test figures of each arm against BM25 and against the default arm,
with paired bootstrap intervals; lifelong metrics and forward transfer; the spread over seeds; the claims
(curriculum vs random order, progressive vs naive) in words, a tie written as a tie (leanagent/armtables.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leanagent.armresults import load_results
from leanagent.armtables import render_tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path, help="results files (ARM-SPLIT.json)")
    args = parser.parse_args(argv)
    try:
        arms = [load_results(path) for path in args.files]
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(render_tables(arms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
