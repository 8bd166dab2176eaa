"""The dual encoder: one Hugging Face text encoder embeds both queries and premises (ReProver's retriever).

An embedding is the mean of the last hidden states over non-padding tokens, L2-normalised, so the score
of a premise for a query (cosine similarity) is a dot product. ByT5/T5 checkpoints load as
``T5EncoderModel`` (the decoder is never built), BERT-like ones as ``AutoModel``. A checkpoint directory
holds ``model.safetensors``, ``config.json``, the tokenizer files and ``leanagent.json``; never a pickle.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from database.index import atomic_directory

__all__ = ["DualEncoder", "ModelUnavailable", "CheckpointError", "REPROVER_RETRIEVER", "CHECKPOINT_FORMAT_VERSION",
           "quiet_transformers", "cpu_bf16", "native_bf16"]

logger = logging.getLogger(__name__)

REPROVER_RETRIEVER = "kaiyuy/leandojo-lean4-retriever-byt5-small"
CHECKPOINT_FORMAT_VERSION = 1
PRODUCER = "leanagent.retrieval.encoder"
DEFAULT_MAX_LENGTH = 1024  # LeanAgent's data length; ByT5 has relative positions, so no model limit


_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@functools.cache
def cpu_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (x86 AVX-512 BF16 or AMX; :func:`native_bf16`).

    There :meth:`DualEncoder.embed` runs under bf16 autocast, as on CUDA: a corpus embedded in 0.65–0.79× the
    time on 2 cores of an AMD EPYC with all-MiniLM-L6-v2, embeddings within cosine 0.9999 of float32's and
    validation R@10 a tie (docs/benchmarks.md). Elsewhere bf16 is emulated and slower, so float32 stays.
    """
    return native_bf16(Path("/proc/cpuinfo"))


def native_bf16(cpuinfo: Path) -> bool:
    """Whether the ``flags`` lines of ``cpuinfo`` (Linux's ``/proc/cpuinfo``) name a native bf16 unit; False
    when the file cannot be read (another system)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(_BF16_FLAGS & set(line.split(":", 1)[1].split()) for line in text.splitlines()
               if line.startswith("flags"))


class ModelUnavailable(RuntimeError):
    """An encoder could not be loaded: not on disk, not in the cache, and the hub out of reach."""


class CheckpointError(ValueError):
    """A directory is not a checkpoint written by :meth:`DualEncoder.save`, or has an unknown version."""


def _looks_local(name_or_path: str) -> bool:
    """A path rather than a hub name (``owner/name``)."""
    return (os.path.isdir(os.path.expanduser(name_or_path)) or name_or_path.startswith((".", "/", "~"))
            or name_or_path.count("/") > 1)


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' own progress bars (loading / writing weights) for the duration."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _load_hf(name_or_path: str, **kwargs: Any) -> tuple[Any, Any]:
    """(model, tokenizer) from a hub name or an HF directory: T5 family → encoder only, else AutoModel."""
    from transformers import AutoConfig, AutoModel, AutoModelForTextEncoding, AutoTokenizer
    from transformers.models.auto.modeling_auto import MODEL_FOR_TEXT_ENCODING_MAPPING_NAMES

    with quiet_transformers():
        config = AutoConfig.from_pretrained(name_or_path, **kwargs)
        text_encoder = config.model_type in MODEL_FOR_TEXT_ENCODING_MAPPING_NAMES
        auto = AutoModelForTextEncoding if text_encoder else AutoModel
        model = auto.from_pretrained(name_or_path, config=config, dtype=torch.float32, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(name_or_path, **kwargs)
    return model, tokenizer


class DualEncoder(torch.nn.Module):
    """Embeds texts with a Hugging Face encoder: masked mean pooling, then L2 normalisation."""

    def __init__(self, encoder: Any, tokenizer: Any, *, base_model: str,
                 max_length: int = DEFAULT_MAX_LENGTH) -> None:
        super().__init__()
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.base_model = base_model
        """The checkpoint this encoder started from (a hub name, a package, or ``tiny-byt5``)."""
        self.max_length = max_length
        """Tokens kept per text when no ``max_length`` is passed (longer texts are truncated)."""

    # ---- construction ---------------------------------------------------------------------------------

    @classmethod
    def tiny_byt5(cls, seed: int = 0, *, d_model: int = 32, layers: int = 2, heads: int = 4, d_ff: int = 64,
                  d_kv: int | None = None, dropout: float = 0.1, max_length: int = 512) -> DualEncoder:
        """A randomly initialised ByT5-architecture encoder (gated-GELU T5, byte vocabulary), no download.

        The defaults make about 33k parameters: for tests and benchmarks, not for retrieval quality.
        ByT5-small's encoder is ``d_model=1472, layers=12, heads=6, d_ff=3584, d_kv=64`` (218M parameters).
        ``d_kv`` (size of one attention head) defaults to ``d_model // heads``.
        """
        from transformers import ByT5Tokenizer, T5Config, T5EncoderModel

        tokenizer = ByT5Tokenizer()
        config = T5Config(vocab_size=len(tokenizer), d_model=d_model, d_kv=d_kv or max(1, d_model // heads),
                          num_heads=heads, d_ff=d_ff, num_layers=layers, feed_forward_proj="gated-gelu",
                          dropout_rate=dropout, tie_word_embeddings=False, is_encoder_decoder=False,
                          use_cache=False, pad_token_id=tokenizer.pad_token_id,
                          eos_token_id=tokenizer.eos_token_id)
        with torch.random.fork_rng(devices=[]):  # seeded without touching the caller's random state
            torch.manual_seed(seed)
            model = T5EncoderModel(config)
        return cls(model, tokenizer, base_model="tiny-byt5", max_length=max_length)

    @classmethod
    def from_pretrained(cls, name_or_path: str = REPROVER_RETRIEVER, *, max_length: int | None = None,
                        cache_dir: str | os.PathLike[str] | None = None, local_files_only: bool = False,
                        revision: str | None = None) -> DualEncoder:
        """Load a Hugging Face encoder (default: ReProver's Lean 4 retriever, a ByT5-small encoder).

        ``name_or_path`` is a hub name (resolved through the local Hugging Face cache first) or a local
        directory in Hugging Face layout. Raises :class:`ModelUnavailable` when neither works.
        """
        from huggingface_hub import constants
        from huggingface_hub.errors import RepositoryNotFoundError

        local = _looks_local(name_or_path)
        if local and not os.path.isdir(os.path.expanduser(name_or_path)):
            raise ModelUnavailable(f"cannot load encoder {name_or_path!r}: no such directory")
        kwargs: dict[str, Any] = {"local_files_only": local_files_only or local}
        if cache_dir is not None:
            kwargs["cache_dir"] = str(cache_dir)
        if revision is not None:
            kwargs["revision"] = revision
        try:
            model, tokenizer = _load_hf(os.path.expanduser(name_or_path) if local else name_or_path, **kwargs)
        except RepositoryNotFoundError:
            raise ModelUnavailable(f"cannot load encoder {name_or_path!r}: no such model on the Hugging Face hub; "
                                   "check the name, or pass a local directory") from None
        except (OSError, ValueError) as e:
            if local:
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise ModelUnavailable(f"cannot load encoder from {name_or_path}: {first}") from None
            if local_files_only:
                why = "local_files_only was asked for"
            elif constants.HF_HUB_OFFLINE:
                why = "HF_HUB_OFFLINE is set"
            else:
                why = "the hub is unreachable"
            raise ModelUnavailable(
                f"cannot load encoder {name_or_path!r}: it is not in the local Hugging Face cache and {why} "
                "(offline); pass a local directory holding its config.json, weights and tokenizer files instead"
            ) from None
        if max_length is None:
            limit = getattr(model.config, "max_position_embeddings", None)  # absolute positions: a hard limit
            max_length = min(DEFAULT_MAX_LENGTH, limit) if limit else DEFAULT_MAX_LENGTH
        return cls(model, tokenizer, base_model=name_or_path, max_length=max_length)

    # ---- persistence ----------------------------------------------------------------------------------

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write weights (safetensors), HF config, tokenizer and ``leanagent.json`` to ``directory``.

        Atomically: the files go to a temporary directory beside it, which then replaces ``directory``.
        """
        with atomic_directory(directory) as tmp, quiet_transformers():
            self.encoder.save_pretrained(tmp, safe_serialization=True)
            self.tokenizer.save_pretrained(tmp)
            meta = {"format_version": CHECKPOINT_FORMAT_VERSION, "producer": PRODUCER, "embedding_dim": self.dim,
                    "base_model": self.base_model, "max_length": self.max_length, "pooling": "mean",
                    "normalized": True}
            (tmp / "leanagent.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
            leftovers = [p.name for p in tmp.iterdir() if p.suffix in (".bin", ".pt", ".pkl", ".pickle")]
            assert not leftovers, f"pickled files in a checkpoint: {leftovers}"
        logger.info("saved encoder checkpoint (%s, dim %d) to %s", self.base_model, self.dim, directory)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> DualEncoder:
        """Read a checkpoint written by :meth:`save` (offline: nothing is fetched)."""
        directory = Path(directory)
        try:
            meta = json.loads((directory / "leanagent.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise CheckpointError(f"{directory} is not a leanagent encoder checkpoint (leanagent.json: {e}); "
                                  "for a Hugging Face directory use DualEncoder.from_pretrained") from None
        if meta.get("format_version") != CHECKPOINT_FORMAT_VERSION:
            raise CheckpointError(f"{directory}: checkpoint format version {meta.get('format_version')!r}, this "
                                  f"code reads version {CHECKPOINT_FORMAT_VERSION}")
        try:
            model, tokenizer = _load_hf(str(directory), local_files_only=True)
        except (OSError, ValueError) as e:
            raise CheckpointError(f"{directory}: cannot read the model or tokenizer: {e}") from None
        encoder = cls(model, tokenizer, base_model=meta["base_model"], max_length=int(meta["max_length"]))
        if encoder.dim != meta["embedding_dim"]:
            raise CheckpointError(f"{directory}: leanagent.json says dimension {meta['embedding_dim']}, "
                                  f"the model has {encoder.dim}")
        return encoder

    # ---- embedding ------------------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        """Embedding dimension (the encoder's hidden size)."""
        return int(self.encoder.config.hidden_size)

    @property
    def device(self) -> torch.device:
        return next(self.encoder.parameters()).device

    def forward(self, texts: Sequence[str], max_length: int | None = None) -> torch.Tensor:
        """Unit-norm embeddings ``(len(texts), dim)`` of one batch, with gradients (for training)."""
        if len(texts) == 0:
            return torch.zeros(0, self.dim, device=self.device)
        batch = self.tokenizer(list(texts), padding="longest", truncation=True,
                               max_length=max_length or self.max_length, return_tensors="pt").to(self.device)
        out = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        hidden = out.last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(torch.float32)
        mean = (hidden.float() * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return F.normalize(mean, dim=-1)

    @torch.no_grad()
    def embed(self, texts: Sequence[str], *, batch_size: int = 32, max_length: int | None = None,
              bucket: bool = True, show_progress: bool = False) -> torch.Tensor:
        """Unit-norm float32 embeddings ``(len(texts), dim)`` on the CPU, in the order of ``texts``.

        ``bucket`` sorts texts by length (longest first, so memory trouble shows at once) before batching,
        so a batch pads to similar lengths; results are put back in input order. bf16 autocast on CUDA, and on
        a CPU that computes bf16 natively (:func:`cpu_bf16`).
        """
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i])) if bucket else list(range(len(texts)))
        out = torch.empty(len(texts), self.dim, dtype=torch.float32)
        was_training = self.training
        self.eval()
        cuda = self.device.type == "cuda"
        bf16 = cuda or (self.device.type == "cpu" and cpu_bf16())
        starts = range(0, len(texts), batch_size)
        if show_progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="embedding", unit="batch")
        try:
            for start in starts:
                idx = order[start:start + batch_size]
                with torch.autocast("cuda" if cuda else "cpu", dtype=torch.bfloat16, enabled=bf16):
                    out[idx] = self([texts[i] for i in idx], max_length).float().cpu()
        finally:
            self.train(was_training)
        return out
