"""`leanagent` with its Lean replaced by the test double :class:`prover.testing.CoinLean`, for kill tests.

usage: python scripts/run_with_test_lean.py run REPOS_FILE --workdir DIR [...]   (any leanagent command)

No Lean toolchain exists on this project's machines, so a real `leanagent run` skips its prove stage. This
runs the real command line in a real process (one that SIGKILL can hit anywhere) with the one boundary that
needs Lean swapped: `require_lean` passes, and every Ray worker's environment is a CoinLean (a theorem's goal
is its statement; a tactic closes it when a SHA-256 of both falls under 1/64). Everything else, the search,
the generator, Ray, the database, is the real code.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import leanagent.proving  # noqa: E402
import prover.toolchain  # noqa: E402
from leanagent.cli import main  # noqa: E402
from prover.testing import CoinLean  # noqa: E402

prover.toolchain.require_lean = lambda *args, **kwargs: None
leanagent.proving.EnvRecipe = lambda *args, **kwargs: CoinLean  # the class is the factory: importable in workers

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
