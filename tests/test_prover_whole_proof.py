"""Whole-proof models: an OpenAI-compatible endpoint (a fake server on 127.0.0.1) and a local causal LM."""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from prover.generators import GenRequest, GeneratorUnavailable
from prover.testing import fake_theorem
from prover.whole_proof import CausalLM, OpenAICompatible, WholeProofGenerator, extract_proof

ANSWERS = ["```lean\ntheorem t : True := by\n  trivial\n```", "by\n  trivial", "  simp\n", "sorry"]


@pytest.fixture
def server():
    """A fake OpenAI-compatible server: records requests, answers ANSWERS (or the status in ``status``)."""
    seen: list[dict] = []
    state = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
            if state["status"] != 200:
                self.send_response(state["status"])
                self.end_headers()
                return
            payload = json.dumps({"choices": [{"index": i, "message": {"role": "assistant", "content": a}}
                                              for i, a in enumerate(ANSWERS[: body["n"]])]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", seen, state
    httpd.shutdown()


def test_proofs_are_extracted_from_what_models_write() -> None:
    assert extract_proof(ANSWERS[0]) == "trivial"
    assert extract_proof("Here it is:\n```lean4\nintro h\nexact h\n```\nDone.") == "intro h\nexact h"
    assert extract_proof("theorem t : 1 = 1 := by rfl") == "rfl"
    assert extract_proof("") == extract_proof("by\n  admit") == ""


def test_endpoint_proofs_become_voted_suggestions_at_the_root(server, monkeypatch) -> None:
    url, seen, _ = server
    monkeypatch.setenv("PROVER_KEY", "sk-test-123")
    generator = WholeProofGenerator(OpenAICompatible(url, "deepseek-prover", key_env="PROVER_KEY"), samples=4)
    theorem = fake_theorem("t")
    [row] = generator.generate([GenRequest("⊢ True", theorem)], 8)
    assert [(s.tactic, round(s.logprob, 4)) for s in row] == [("trivial", round(math.log(2 / 4), 4)),
                                                             ("simp", round(math.log(1 / 4), 4))]  # sorry dropped
    [request] = seen
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test-123"
    assert request["body"]["model"] == "deepseek-prover" and request["body"]["n"] == 4
    assert "theorem t : True := by" in request["body"]["messages"][0]["content"]
    assert generator.generate([GenRequest("⊢ True", theorem)], 8) == [[]]  # a deeper state: nothing more
    assert len(seen) == 1
    monkeypatch.delenv("PROVER_KEY")
    WholeProofGenerator(OpenAICompatible(url, "m", key_env="PROVER_KEY")).generate([GenRequest("", theorem)], 8)
    assert seen[-1]["auth"] is None  # no key: none sent (a local server needs none)


def test_endpoint_failures_are_one_line_without_the_key(server, monkeypatch) -> None:
    url, _, state = server
    monkeypatch.setenv("PROVER_KEY", "sk-secret-456")
    state["status"] = 401
    source = OpenAICompatible(url, "m", key_env="PROVER_KEY")
    with pytest.raises(GeneratorUnavailable) as caught:
        source.proofs("theorem t : True", 2)
    assert "HTTP 401" in str(caught.value) and "PROVER_KEY" in str(caught.value)
    assert "sk-secret" not in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(GeneratorUnavailable, match="unreachable"):
        OpenAICompatible("http://127.0.0.1:9/v1", "m", timeout=5).proofs("theorem t : True", 1)
    with pytest.raises(GeneratorUnavailable, match="prover.endpoint_url"):
        OpenAICompatible("", "m")


def test_a_local_causal_model_samples_scored_proofs() -> None:
    import torch
    from transformers import ByT5Tokenizer, GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    tokenizer = ByT5Tokenizer()
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=256, n_embd=32, n_layer=1,
                                       n_head=2, eos_token_id=tokenizer.eos_token_id))
    source = CausalLM(model, tokenizer, max_new_tokens=12)
    first = source.proofs("theorem t : True", 3)
    assert len(first) == 3 and all(isinstance(t, str) and lp is not None and lp <= 0 for t, lp in first)
    assert source.proofs("theorem t : True", 3) == first  # seeded
    row = WholeProofGenerator(source, samples=3).generate([GenRequest("⊢ True", fake_theorem("t"))], 8)[0]
    assert all(s.logprob <= 0 and s.tactic.strip() for s in row)  # whatever an untrained model writes, scored


def test_a_hub_model_out_of_reach_is_one_line(tmp_path) -> None:
    with pytest.raises(GeneratorUnavailable) as caught:
        CausalLM.from_pretrained(str(tmp_path / "no-model"), local_files_only=True)
    assert "\n" not in str(caught.value) and "pass its directory" in str(caught.value)


def test_a_run_adds_the_endpoints_proofs_to_its_generator(server, tmp_path) -> None:
    from database.store import Store
    from leanagent.proving import GeneratorRecipe
    from prover.generators import CombinedGenerator
    from tests.conftest import EXAMPLES

    url, seen, _ = server
    from leanagent.repos import RepoSpec
    from leanagent.scanning import ScanOptions, scan_repository

    with Store.open(tmp_path / "db.sqlite") as store:
        scan = scan_repository(RepoSpec(str(EXAMPLES / "nat-basics"), None), ScanOptions(cache_dir=tmp_path)).scan
        store.ingest(scan)
    target = next(t for t in scan.theorems if t.is_target)
    recipe = GeneratorRecipe("templates", str(tmp_path / "db.sqlite"), scan.repo.id, whole_proof="endpoint",
                             endpoint=(url, "prover-7b", "NO_SUCH_KEY_VAR"), whole_proof_samples=3)
    generator = recipe()
    assert isinstance(generator, CombinedGenerator)
    [row] = generator.generate([GenRequest("n : Nat\n⊢ double n - n = n", target)], 100)
    tactics = [s.tactic for s in row]
    assert "trivial" in tactics and "simp" in tactics and "omega" in tactics  # the endpoint's and the templates'
    assert seen[0]["body"]["model"] == "prover-7b" and seen[0]["body"]["n"] == 3
