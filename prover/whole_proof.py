"""Whole-proof models as tactic generators: a proof written at once, run (and so checked) by Lean as one step.

Issue 10, item 2c. Two sources of proofs:

* :class:`OpenAICompatible`: any OpenAI-compatible HTTP endpoint (``POST {url}/chat/completions``: vLLM, a
  hosted DeepSeek-Prover, OpenAI itself). The key comes from an environment variable and is sent in the
  ``Authorization`` header only: never logged, never in an error message.
* :class:`CausalLM`: a Hugging Face causal language model by name or directory (for example
  ``deepseek-ai/DeepSeek-Prover-V1.5-RL``), sampled with transformers.

:class:`WholeProofGenerator` turns either into a :class:`~prover.generators.TacticGenerator`: at a theorem's first
expansion (its root state) it asks for ``samples`` proofs of the statement and suggests each distinct one as a
single "tactic" (its lines joined as Lean reads a tactic block), scored by the model's log-probability, or
for an endpoint that gives none by the share of samples that wrote it (a vote). Deeper states get nothing
from it: a whole proof is an answer to the theorem, not to a state. Lean, through the search's environment or
the whole-proof checker, is what accepts a proof.
"""

from __future__ import annotations

import json
import math
import os
import re
import textwrap
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Protocol

from database.records import Theorem
from extraction.lexer import gives_up
from prover.generators import GenRequest, GeneratorUnavailable, Suggestion

__all__ = ["ProofSource", "OpenAICompatible", "CausalLM", "WholeProofGenerator", "extract_proof", "prompt_for"]

PROMPT = ("Complete the following Lean 4 theorem with a proof. Reply with the tactic proof that follows "
          "`:= by` only.\n\n{statement} := by\n")
"""The endpoint's instruction; a causal model is given the statement and ``:= by`` alone."""


def prompt_for(theorem: Theorem) -> str:
    """The statement, whitespace as written, ready for ``:= by`` to follow."""
    return theorem.statement.rstrip()


_FENCE = re.compile(r"```(?:lean4?|Lean4?)?\s*\n(.*?)```", re.S)


def extract_proof(text: str, statement: str = "") -> str:
    """The tactic block inside a model's answer: the first fenced block if any, what follows the first
    ``:= by`` if the answer repeats the statement, a leading ``by`` dropped, dedented; empty when it gives up.

    >>> extract_proof("```lean\\ntheorem t (n : Nat) : n + 0 = n := by\\n  simp\\n```")
    'simp'
    >>> extract_proof("  intro h\\n  exact h\\n")
    'intro h\\nexact h'
    >>> extract_proof("by\\n  sorry")
    ''
    """
    fenced = _FENCE.search(text)
    body = fenced.group(1) if fenced else text
    if ":= by" in body:
        body = body.split(":= by", 1)[1]
    body = body.strip("\n")
    if body.lstrip().startswith("by\n") or body.strip() == "by":
        body = body.lstrip()[2:]
    proof = textwrap.dedent(body.strip("\n")).strip()
    return "" if not proof or gives_up(proof) else proof


class ProofSource(Protocol):
    """Writes proofs of a statement: ``(proof text, log-probability or None)`` per sample."""

    def proofs(self, statement: str, samples: int) -> list[tuple[str, float | None]]:
        ...


class OpenAICompatible:
    """An OpenAI-compatible chat-completions endpoint. ``key_env`` names the environment variable holding the
    key (none sent when it is unset, as local servers need none)."""

    def __init__(self, url: str, model: str, *, key_env: str = "OPENAI_API_KEY", temperature: float = 1.0,
                 max_tokens: int = 1024, timeout: float = 120.0) -> None:
        if not url:
            raise GeneratorUnavailable("no endpoint: set prover.endpoint_url (e.g. http://127.0.0.1:8000/v1)")
        self.url = url.rstrip("/")
        self.model = model
        self.key_env = key_env
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout

    def proofs(self, statement: str, samples: int) -> list[tuple[str, float | None]]:
        body = json.dumps({"model": self.model, "n": samples, "temperature": self.temperature,
                           "max_tokens": self.max_tokens,
                           "messages": [{"role": "user", "content": PROMPT.format(statement=statement)}]})
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.key_env, "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(f"{self.url}/chat/completions", data=body.encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:  # the status and the server's words, never our headers
            raise GeneratorUnavailable(f"endpoint {self.url} answered HTTP {err.code} ({err.reason})"
                                       + (f"; is {self.key_env} set?" if err.code in (401, 403) else "")) from None
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            raise GeneratorUnavailable(f"endpoint {self.url} unreachable or not OpenAI-compatible ({reason})") from None
        return [(choice.get("message", {}).get("content") or "", None) for choice in answer.get("choices", [])]


class CausalLM:
    """A Hugging Face causal language model, sampled; each proof scored by its tokens' summed log-probability."""

    def __init__(self, model, tokenizer, *, max_new_tokens: int = 512, temperature: float = 1.0,
                 device: str = "cpu", seed: int = 3407) -> None:
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.device = device
        self.seed = seed

    @classmethod
    def from_pretrained(cls, name_or_path: str, *, local_files_only: bool = False, **kwargs) -> CausalLM:
        """Load by hub name or directory; :class:`GeneratorUnavailable` (one line, the next step) if impossible."""
        from transformers import AutoModelForCausalLM

        from prover.generators import load_hf_model

        model, tokenizer = load_hf_model(AutoModelForCausalLM, name_or_path, "whole-proof model",
                                         local_files_only=local_files_only)
        return cls(model, tokenizer, **kwargs)

    def proofs(self, statement: str, samples: int) -> list[tuple[str, float | None]]:
        import torch

        torch.manual_seed(self.seed)
        prompt = f"{statement} := by\n"
        batch = self.tokenizer([prompt], return_tensors="pt").to(self.device)
        with torch.no_grad():
            out = self.model.generate(**batch, do_sample=True, temperature=self.temperature, num_return_sequences=samples,
                                      max_new_tokens=self.max_new_tokens, output_scores=True,
                                      return_dict_in_generate=True,
                                      pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id)
        scores = self.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
        start = batch["input_ids"].shape[1]
        texts = self.tokenizer.batch_decode(out.sequences[:, start:], skip_special_tokens=True)
        return [(text, float(row[torch.isfinite(row)].sum())) for text, row in zip(texts, scores)]


class WholeProofGenerator:
    """Whole proofs at a theorem's first expansion, each one suggestion (see the module's text)."""

    def __init__(self, source: ProofSource, *, samples: int = 8) -> None:
        self.source = source
        self.samples = samples
        self._asked: set[str] = set()

    def generate(self, requests: Sequence[GenRequest], n: int) -> list[list[Suggestion]]:
        out = []
        for request in requests:
            theorem = request.theorem
            if n <= 0 or theorem.id in self._asked:
                out.append([])
                continue
            self._asked.add(theorem.id)
            answers = self.source.proofs(prompt_for(theorem), self.samples)
            votes: dict[str, list[float | None]] = {}
            for text, logprob in answers:
                proof = extract_proof(text)
                if proof:
                    votes.setdefault(proof, []).append(logprob)
            scored = {}
            for proof, logprobs in votes.items():
                known = [lp for lp in logprobs if lp is not None]
                scored[proof] = max(known) if known else math.log(len(logprobs) / max(1, len(answers)))
            out.append([Suggestion(p, min(0.0, s)) for p, s in sorted(scored.items(), key=lambda x: (-x[1], x[0]))][:n])
        return out
