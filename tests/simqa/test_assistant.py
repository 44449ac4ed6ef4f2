"""The assistant end to end: every kind through `simqa ask --json`, numbers checked against a
direct `sim.run`, conversations, threads, and the LLM path over real HTTP with fallbacks."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

import sim
from simqa import Answer, Assistant
from simqa.cli import main
from simqa.testing import ScriptedOpenAIServer, http_error, reply, server_error

QUESTIONS = {
    "simulate": "What is the peak with R0 3 in a town of 50,000?",
    "compare": "Compare no intervention with a 40% contact reduction from day 20 in a town of 50,000",
    "sweep": "attack rate for R0 from 1.5 to 3 in steps of 0.5",
    "calibrate": "What R0 gives an attack rate of 50%?",
    "explain": "How does the SEIR model work?",
    "clarify": "What happens if we close things?",
    "refuse": "What will the stock market do next year?",
}


def _ask_json(question: str, capsys: pytest.CaptureFixture[str]) -> Answer:
    assert main(["ask", "--json", "--translator", "offline", question]) == 0
    return Answer.model_validate_json(capsys.readouterr().out)


@pytest.mark.parametrize("kind", list(QUESTIONS))
def test_ask_json_each_kind(kind, capsys):
    answer = _ask_json(QUESTIONS[kind], capsys)
    assert answer.kind == kind
    assert answer.translator == "offline"
    assert answer.text
    assert set(answer.timings_ms) == {"retrieve", "translate", "simulate", "compose"}
    if kind in ("explain", "clarify", "refuse"):
        assert answer.scenarios == [] and answer.results == []
    if kind == "explain":
        assert any(c.source.startswith("docs/models/seir.md#") for c in answer.citations)
    if kind == "clarify":
        assert answer.text.rstrip().endswith("?")
    if kind in ("simulate", "compare"):
        assert len(answer.results) == len(answer.scenarios)
        for scenario, result in zip(answer.scenarios, answer.results, strict=True):
            direct = sim.run(scenario)
            assert result.metrics == direct.metrics and result.run_id == direct.run_id
            assert result.label == scenario.label
    if kind == "compare":
        assert answer.results[0].label == "baseline"
        assert answer.results[1].metrics["attack_rate"] < answer.results[0].metrics["attack_rate"]
    if kind == "sweep":
        assert answer.sweep is not None and answer.sweep.values == pytest.approx([1.5, 2.0, 2.5, 3.0])
        assert [r.label for r in answer.results] == ["r0=1.5", "r0=2", "r0=2.5", "r0=3"]
        rates = [r.metrics["attack_rate"] for r in answer.results]
        assert rates == sorted(rates)
    if kind == "calibrate":
        assert answer.calibration is not None and answer.calibration.met
        assert answer.calibration.achieved == pytest.approx(0.5, abs=0.005)
        assert answer.results[-1].metrics["attack_rate"] == pytest.approx(answer.calibration.achieved)


@pytest.mark.parametrize(
    ("question", "bound"),
    [("What happens if R0 is -2?", "r0"), ("Simulate an epidemic in 50 billion people", "population")],
)
def test_invalid_values_never_run_and_name_the_bound(question, bound, capsys):
    answer = _ask_json(question, capsys)
    assert answer.kind in ("clarify", "refuse")
    assert answer.results == [] and answer.scenarios == []
    assert bound in answer.text.lower()


def test_cli_subprocess_prints_valid_answer_json():
    proc = subprocess.run(
        [sys.executable, "-m", "simqa.cli", "ask", "--json", "--translator", "offline", QUESTIONS["simulate"]],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, proc.stderr
    answer = Answer.model_validate_json(proc.stdout)
    assert answer.model == "seir" and answer.scenarios[0].params["population"] == 50000


def test_repeat_question_hits_the_run_cache():
    a = Assistant(translator="offline", retrieval=False)
    first = a.ask(QUESTIONS["simulate"])
    again = a.ask(QUESTIONS["simulate"])
    assert again.results[0].metrics == first.results[0].metrics
    assert again.full_results[0].meta.cached and not first.full_results[0].meta.cached
    fresh = Assistant(translator="offline", retrieval=False, cache=False).ask(QUESTIONS["simulate"])
    assert not fresh.full_results[0].meta.cached


def test_conversation_follow_up_refines_previous_scenario():
    conv = Assistant(translator="offline", retrieval=False).conversation()
    first = conv.ask("R0 2.8 in a town of 40,000: what is the peak?")
    follow = conv.ask("and if we also cut contacts by 30% from day 20?")
    assert first.kind == "simulate"
    last = follow.scenarios[-1]
    assert last.params["population"] == 40000 and last.params["r0"] == pytest.approx(2.8)
    assert [iv.type for iv in last.interventions] == ["contact_reduction"]
    assert last.interventions[0].effectiveness == pytest.approx(0.3)


def test_one_shot_ask_has_no_memory():
    a = Assistant(translator="offline", retrieval=False)
    a.ask("What if R0 is 2.8 in a town of 40,000?")
    answer = a.ask("and if we also cut contacts by 30% from day 20?")
    assert all(s.params.get("population") != 40000 for s in answer.scenarios)


def test_assistant_is_thread_safe():
    a = Assistant(translator="offline", retrieval=False)
    questions = [QUESTIONS["simulate"], QUESTIONS["compare"], QUESTIONS["sweep"], QUESTIONS["clarify"]] * 2
    sequential = [a.ask(q).results for q in questions]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda q: a.ask(q).results, questions))
    assert [[r.metrics for r in rs] for rs in threaded] == [[r.metrics for r in rs] for rs in sequential]


# -- the LLM path, over real HTTP ----------------------------------------------------------------


@pytest.fixture
def llm_env(monkeypatch):
    def configure(server: ScriptedOpenAIServer) -> None:
        monkeypatch.setenv("SIMQA_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("SIMQA_LLM_MODEL", "scripted")
        monkeypatch.setenv("SIMQA_LLM_MAX_RETRIES", "0")
        monkeypatch.setenv("SIMQA_LLM_TIMEOUT", "2")

    return configure


def _llm_request(r0: float) -> dict:
    return {
        "kind": "simulate",
        "model": "seir",
        "scenarios": [{"label": "baseline", "model": "seir", "params": {"r0": r0}, "interventions": []}],
        "sweep": None,
        "calibrate": None,
        "message": None,
    }


def test_llm_translates_and_answer_is_grounded(llm_env):
    with ScriptedOpenAIServer([reply(_llm_request(3.0)), server_error(500)]) as server:
        llm_env(server)
        answer = Assistant(translator="auto", retrieval=False).ask("What if R0 is 3?")
    assert answer.translator == "llm:scripted"
    assert answer.scenarios[0].params["r0"] == 3.0
    assert answer.usage["prompt_tokens"] > 0
    # The composer call failed (500): the template answer stands, and the notes say why.
    assert any("template answer used" in n for n in answer.notes)
    assert answer.results[0].metrics == sim.run(answer.scenarios[0]).metrics


def test_llm_answer_with_invented_number_falls_back_to_template(llm_env):
    with ScriptedOpenAIServer([reply(_llm_request(3.0)), reply("The peak is 123,456 people on day 9.")]) as server:
        llm_env(server)
        answer = Assistant(translator="auto", retrieval=False).ask("What if R0 is 3?")
    assert "123,456" not in answer.text
    assert any("not in the results" in n for n in answer.notes)


def test_auto_falls_back_to_offline_when_llm_fails(llm_env):
    with ScriptedOpenAIServer(default=server_error(500)) as server:
        llm_env(server)
        answer = Assistant(translator="auto", retrieval=False).ask("What is the peak with R0 3?")
    assert answer.translator == "offline"
    assert answer.scenarios[-1].params["r0"] == 3.0
    assert any("offline translator answered" in n for n in answer.notes)


def test_bad_key_is_one_line_and_exit_3_under_llm(llm_env, capsys):
    with ScriptedOpenAIServer(default=http_error(401, "Incorrect API key provided")) as server:
        llm_env(server)
        code = main(["ask", "--translator", "llm", "What if R0 is 3?"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3
    assert len(err) == 1 and "OPENAI_API_KEY" in err[0]


def test_llm_required_but_not_configured(capsys):
    assert main(["ask", "--translator", "llm", "What if R0 is 3?"]) == 3
    assert "no LLM is configured" in capsys.readouterr().err


def test_cli_docs_are_current():
    from pathlib import Path

    from simqa.cli import cli_reference

    docs = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
    assert docs.read_text(encoding="utf-8") == cli_reference(), "run `make docs` to regenerate docs/cli.md"


def test_plot_of_an_intervention_field_calibration(tmp_path):
    from simqa.plot import save_plot

    answer = Assistant(translator="offline", retrieval=False).ask(
        "What contact reduction is needed to keep the peak under 1000?"
    )
    assert answer.kind == "calibrate" and answer.calibrate.param == "contact_reduction.effectiveness"
    assert answer.calibration.met and answer.calibration.achieved <= 1000
    path = save_plot(answer, tmp_path / "cal.png")
    assert path is not None and path.stat().st_size > 5000


def test_an_intervention_strength_left_to_its_default_is_said():
    a = Assistant(translator="offline", retrieval=False)
    note = "contact_reduction.effectiveness not stated: used the default 0.5"
    assert any(n.startswith(note) for n in a.ask("what if we lock down from day 20?").notes)
    assert not any(n.startswith(note) for n in a.ask("what if we lock down from day 20, 60% effective?").notes)


def test_a_grounded_llm_answer_is_kept_and_the_eval_scores_it_by_the_same_rule(llm_env):
    from evals.case import Case
    from evals.scorers import grounding

    run = sim.run({"model": "seir", "params": {"r0": 3.0}})
    text = f"The peak is {round(run.metrics['peak_infected']):,} people on day {round(run.metrics['peak_day'])}."
    with ScriptedOpenAIServer([reply(_llm_request(3.0)), reply(text)]) as server:
        llm_env(server)
        answer = Assistant(translator="auto", retrieval=False).ask("What if R0 is 3?")
    assert answer.text == text
    case = Case(id="t", question="What if R0 is 3?", kind="simulate")
    assert grounding(case, answer).value == 1.0
    # One number off by a third: the product would have dropped this text, and the eval says so too.
    invented = answer.model_copy(update={"text": f"The peak is {round(run.metrics['peak_infected'] * 1.3):,} people."})
    assert grounding(case, invented).value == 0.0
