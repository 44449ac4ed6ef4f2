"""Whole answers against endpoints that fail in every way a real one does, over real HTTP.

Under `auto` each fault is a fallback to the offline translator with a note; under `llm` it is
one line on stderr and exit 3; never a traceback. Once the translator found the endpoint failing,
the same answer does not call it again (the composer included), and later turns leave it alone
for the cool-down.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from simqa import Assistant
from simqa.cli import main
from simqa.testing import (
    Raw,
    ScriptedOpenAIServer,
    cut_off,
    drip,
    empty_choices,
    hang,
    html,
    nested,
    oversized,
    rate_limited,
    reply,
    server_error,
)

QUESTION = "What is the peak with R0 3 in a town of 10k?"


def configure(monkeypatch: pytest.MonkeyPatch, base_url: str, **extra: str) -> None:
    monkeypatch.setenv("SIMQA_LLM_BASE_URL", base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("SIMQA_LLM_MODEL", "scripted")
    monkeypatch.setenv("SIMQA_LLM_TIMEOUT", "0.5")
    monkeypatch.setenv("SIMQA_LLM_MAX_RETRIES", "1")
    for name, value in extra.items():
        monkeypatch.setenv(name, value)


def request_for(params: dict[str, Any], interventions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "kind": "simulate",
        "model": "seir",
        "scenarios": [{"label": "baseline", "model": "seir", "params": params, "interventions": interventions or []}],
        "sweep": None,
        "calibrate": None,
        "message": None,
    }


FAULTS = {
    "hang": hang(),
    "drip": drip("{}", interval_s=0.05),
    "html": html(),
    "cut-off": cut_off(),
    "nested": Raw(body=("[" * 100_000 + "]" * 100_000).encode()),
    "nested-content": nested(100_000),
    "empty-choices": empty_choices(),
    "oversized": oversized(2_000_000),
    "retry-after-3600": rate_limited(retry_after=3600),
}


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
def test_auto_falls_back_with_a_note_and_calls_the_endpoint_once(fault: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedOpenAIServer([FAULTS[fault]], default=reply("The answer.")) as server:
        configure(monkeypatch, server.base_url)
        answer = Assistant(translator="auto", retrieval=False).ask(QUESTION)
        sent = len(server.chat_requests)
    assert answer.translator == "offline"
    assert answer.scenarios[0].params["r0"] == 3.0
    assert any("the offline translator answered" in n for n in answer.notes)
    # the translator found the endpoint failing: no retry, no correction, and no composer call
    assert sent == 1


@pytest.mark.parametrize("fault", ["hang", "html", "nested", "retry-after-3600"])
def test_llm_is_one_line_and_exit_3(fault: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    with ScriptedOpenAIServer([FAULTS[fault]]) as server:
        configure(monkeypatch, server.base_url)
        code = main(["ask", "--translator", "llm", "--no-cache", QUESTION])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3
    assert len(err) == 1 and "Traceback" not in err[0]


def test_a_refused_connection_falls_back_and_the_composer_is_not_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    configure(monkeypatch, f"http://127.0.0.1:{port}/v1")
    answer = Assistant(translator="auto", retrieval=False).ask(QUESTION)
    assert answer.translator == "offline"
    notes = " ".join(answer.notes)
    assert "cannot connect" in notes and "failed twice" in notes
    assert "could not write the answer" not in notes


def test_chat_turns_leave_a_failed_endpoint_alone_for_the_cool_down(monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedOpenAIServer(default=server_error(503)) as server:
        configure(monkeypatch, server.base_url, SIMQA_LLM_MAX_RETRIES="0", SIMQA_LLM_COOLDOWN="600")
        conv = Assistant(translator="auto", retrieval=False).conversation()
        first = conv.ask(QUESTION)
        after_first = len(server.chat_requests)
        second = conv.ask("and if R0 is 2?")
        after_second = len(server.chat_requests)
    assert after_first == 1 and after_second == 1  # the second turn sent nothing
    assert first.translator == second.translator == "offline"
    assert any("SIMQA_LLM_COOLDOWN" in n for n in second.notes)


def test_an_intervention_the_question_does_not_name_is_dropped_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    invented = request_for(
        {"r0": 3.0, "population": 10000}, [{"type": "contact_reduction", "start_day": 0, "effectiveness": 0.9}]
    )
    with ScriptedOpenAIServer([reply(invented)], default=reply("The results are in the table.")) as server:
        configure(monkeypatch, server.base_url)
        answer = Assistant(translator="auto", retrieval=False).ask(QUESTION)
    assert answer.translator == "llm:scripted"
    assert answer.scenarios[0].interventions == []
    assert any("contact_reduction intervention the question does not name" in n for n in answer.notes)


def test_a_named_intervention_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    question = "What is the peak with R0 3 in a town of 10k with a lockdown from day 20?"
    named = request_for({"r0": 3.0, "population": 10000}, [{"type": "contact_reduction", "start_day": 20}])
    with ScriptedOpenAIServer([reply(named)], default=reply("The results are in the table.")) as server:
        configure(monkeypatch, server.base_url)
        answer = Assistant(translator="auto", retrieval=False).ask(question)
    assert [iv.type for iv in answer.scenarios[0].interventions] == ["contact_reduction"]
    assert not any("does not name" in n for n in answer.notes)


def test_a_compare_whose_only_change_was_invented_becomes_a_simulate(monkeypatch: pytest.MonkeyPatch) -> None:
    invented = {
        **request_for({"r0": 3.0, "population": 10000}),
        "kind": "compare",
        "scenarios": [
            {"label": "baseline", "model": "seir", "params": {"r0": 3.0, "population": 10000}, "interventions": []},
            {
                "label": "vaccination",
                "model": "seir",
                "params": {"r0": 3.0, "population": 10000},
                "interventions": [{"type": "vaccination", "start_day": 0}],
            },
        ],
    }
    with ScriptedOpenAIServer([reply(invented)], default=reply("The results are in the table.")) as server:
        configure(monkeypatch, server.base_url)
        answer = Assistant(translator="auto", retrieval=False).ask(QUESTION)
    assert answer.kind == "simulate" and len(answer.scenarios) == 1


def test_two_readings_that_agree_leave_no_note(monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedOpenAIServer(
        [reply(request_for({"r0": 3.0, "population": 10000}))], default=reply("The results are in the table.")
    ) as server:
        configure(monkeypatch, server.base_url)
        answer = Assistant(translator="auto", retrieval=False).ask(QUESTION)
    assert answer.readings is not None and answer.readings["agree"]
    assert answer.translator == "llm:scripted"
    assert not any("readings" in n or "reading" in n for n in answer.notes)


def test_the_reading_that_accounts_for_every_stated_value_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    # The LLM leaves out the stated population (10k); the offline reading keeps it.
    with ScriptedOpenAIServer([reply(request_for({"r0": 3.0}))], default=reply("The results.")) as server:
        configure(monkeypatch, server.base_url)
        answer = Assistant(translator="auto", retrieval=False).ask(QUESTION)
    assert answer.readings is not None and not answer.readings["agree"]
    assert answer.readings["kept"] == "offline"
    assert answer.readings["unaccounted"]["llm"] == ["10k"]
    assert answer.scenarios[0].params["population"] == 10000
    assert any("the offline reading was kept" in n and "10k" in n for n in answer.notes)


def test_readings_that_differ_on_a_value_keep_the_llm_when_both_account_for_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    question = "What is the peak with R0 3 or 2.5 in a town of 10k?"
    with ScriptedOpenAIServer(
        [reply(request_for({"r0": 2.5, "population": 10000}))], default=reply("The results.")
    ) as server:
        configure(monkeypatch, server.base_url)
        answer = Assistant(translator="auto", retrieval=False).ask(question)
    readings = answer.readings
    assert readings is not None
    if readings["agree"]:
        pytest.skip("the offline translator read this question as the LLM did")
    assert any("differ" in n for n in answer.notes)


def test_llm_text_is_shown_as_text_not_markup(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    markup = "Unbalanced [/bold] and [link=http://example.invalid]a link[/link] and [reverse]R0[/reverse]."
    with ScriptedOpenAIServer([reply(request_for({"r0": 3.0, "population": 10000}))], default=reply(markup)) as server:
        configure(monkeypatch, server.base_url)
        code = main(["ask", "--translator", "auto", "--no-cache", QUESTION])
    out = capsys.readouterr().out
    assert code == 0
    assert "[/bold]" in out and "[link=http://example.invalid]" in out
