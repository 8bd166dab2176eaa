"""The house is flat: no import circle between modules, and no package imports one above it.

Layers, lowest first: database; extraction (on database); curriculum, retrieval (on those two, not on each
other); prover (on those); leanagent (the CLI and the loop, on everything). Imports inside functions count.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = {"database": 0, "extraction": 1, "curriculum": 2, "retrieval": 2, "prover": 3, "leanagent": 4}


def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (``pkg.mod``), from every ``import`` in its source."""
    edges: dict[str, set[str]] = defaultdict(set)
    for package in LAYER:
        for path in (ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else \
                    [a.name for a in node.names] if isinstance(node, ast.Import) else []
                edges[module].update(n for n in names if n.split(".")[0] in LAYER)
    return edges


def test_no_import_circle_between_modules() -> None:
    edges = import_graph()

    def reaches(start: str, goal: str) -> bool:
        seen, stack = set(), [start]
        while stack:
            for nxt in edges.get(stack.pop(), ()):
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    circles = sorted((a, b) for a, targets in edges.items() for b in targets if reaches(b, a))
    assert circles == []


def test_no_package_imports_one_above_it() -> None:
    upward = sorted((a, b) for a, targets in import_graph().items() for b in targets
                    if LAYER[b.split(".")[0]] > LAYER[a.split(".")[0]]
                    or (LAYER[b.split(".")[0]] == LAYER[a.split(".")[0]] and b.split(".")[0] != a.split(".")[0]))
    assert upward == []
