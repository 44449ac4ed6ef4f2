"""The eval suite scoring the LLM translator over real HTTP: a scripted OpenAI-compatible server
replays recorded completions (here: the gold request of each case, the reply of a perfect model),
so the LLM path of the eval (translation, validation, usage, the response cache) runs in CI."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evals.case import Case
from evals.cli import main as eval_main
from evals.dataset import load_cases, write_case_file
from simqa.testing import ScriptedOpenAIServer, reply

TAGS = ["seir"]


def gold_request(case: Case) -> dict[str, Any]:
    """The request a perfect translator would send for `case` (unstated values null = default)."""
    scenarios = []
    for i, s in enumerate(case.scenarios):
        label = s.label or ("baseline" if i == 0 else f"scenario_{i + 1}")
        scenarios.append({"label": label, "model": case.model, "params": s.params, "interventions": s.interventions})
    message = None
    if case.kind in ("clarify", "refuse", "explain"):
        message = " ".join([case.question, *case.mentions])
    return {
        "kind": case.kind,
        "model": case.model,
        "scenarios": scenarios,
        "sweep": case.sweep,
        "calibrate": case.calibrate,
        "message": message,
    }


def _question(body: dict[str, Any], recorded: dict[str, str]) -> str | None:
    """The recorded question the request is about: its last user message, or for a correction
    (a value the reply could not ground, sent back) the question asked earlier in the exchange."""
    users = [m["content"] for m in body["messages"] if m["role"] == "user"]
    return next((u for u in reversed(users) if u in recorded), None)


@pytest.fixture
def replay_server(monkeypatch):
    cases = [c for c in load_cases() if set(TAGS) & {*c.tags, c.model or "", c.kind} and not c.turns]
    recorded = {c.question: json.dumps(gold_request(c)) for c in cases}

    def respond(body: dict[str, Any]):
        system = body["messages"][0]["content"]
        if "JSON request" not in system:  # the answer composer: a reply with no numbers to check
            return reply("The results of the run are in the table below.")
        question = _question(body, recorded)
        return reply(recorded[question]) if question is not None else None

    with ScriptedOpenAIServer(responder=respond) as server:
        monkeypatch.setenv("SIMQA_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("SIMQA_LLM_MODEL", "scripted")
        monkeypatch.setenv("SIMQA_LLM_MAX_RETRIES", "0")
        yield server, cases


def test_llm_eval_replays_recorded_completions(replay_server, tmp_path):
    server, cases = replay_server
    out, cache, case_file = tmp_path / "run", tmp_path / "llm-cache", tmp_path / "cases.yaml"
    write_case_file(case_file, cases)  # single-turn cases: a conversation's earlier turns have no recording
    args = ["--translator", "llm", "--cases", str(case_file), "--no-progress", "--no-retrieval", "--concurrency", "4"]
    code = eval_main([*args, "--out", str(out), "--cache-dir", str(cache)])
    log = json.loads((out / "log.json").read_text())
    translated = [r for r in log["results"] if r["answer"] and r["answer"]["translator"] == "llm:scripted"]
    assert code == 0
    # Every case went through the LLM translator, and a perfect model's replies score high.
    assert len(translated) >= len(cases) * 0.9
    assert log["metrics"]["case_correct"] >= 0.9
    assert log["usage"], "token usage is recorded"
    # The response cache: a rerun sends no first translation request again (only the follow-ups
    # of cases whose replies failed validation, which were never answered and so never cached).
    sent = len(server.chat_requests)
    assert eval_main([*args, "--out", str(tmp_path / "rerun"), "--cache-dir", str(cache)]) == 0
    again = [b for b in server.chat_requests[sent:] if "JSON request" in b["messages"][0]["content"]]
    assert all(len(b["messages"]) > 2 for b in again)
    assert len(again) == log["metrics"]["errors"]
