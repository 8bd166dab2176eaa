"""Static extraction: Lean 4 sources → declarations, premises, theorems and tactic steps, without Lean.

Layers: :mod:`.lexer` (tokens), :mod:`.scanner` (declarations of one file, with :mod:`.binders` for
local names and :mod:`.words` for the vocabulary), :mod:`.tactics` (tactic steps of a proof),
:mod:`.resolve` (premise names across files), :mod:`.tree` (a repository → ``RepoScan``).
"""

from extraction.resolve import NameIndex, resolve_identifiers
from extraction.scanner import scan_file, scan_source
from extraction.tree import extract_repo, lean_files, scan_tree

__all__ = ["scan_source", "scan_file", "lean_files", "scan_tree", "NameIndex", "resolve_identifiers",
           "extract_repo"]
