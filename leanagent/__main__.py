"""``python -m leanagent`` runs the command line."""

import sys

from leanagent.cli import main

if __name__ == "__main__":
    sys.exit(main())
