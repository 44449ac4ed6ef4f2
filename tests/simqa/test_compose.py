"""The template composer and the grounding check."""

from __future__ import annotations

import pytest

import sim
from sim.experiments import compare
from simqa.answer import Answer, ResultSummary
from simqa.compose import Outcome, compose_template, ungrounded_numbers
from simqa.request import Request


def _simulate(question: str, scenario: dict) -> tuple[Request, Outcome]:
    request = Request(kind="simulate", scenarios=[sim.Scenario.model_validate(scenario)])
    return request, Outcome(results=[sim.run(scenario)])


def _answer(question: str, request: Request, outcome: Outcome, text: str = "") -> Answer:
    """The Answer JSON of a run, as the assistant writes it (the scenarios that ran, each result)."""
    return Answer(
        question=question,
        kind=request.kind,
        scenarios=[r.scenario for r in outcome.results],
        results=[
            ResultSummary(label=r.label, metrics=r.metrics, ci=r.ci, run_id=r.run_id, notes=r.notes)
            for r in outcome.results
        ],
        differences=outcome.differences,
        text=text,
        translator="offline",
    )


def _ungrounded(question: str, request: Request, outcome: Outcome, text: str) -> list[str]:
    return ungrounded_numbers(_answer(question, request, outcome, text))


def test_template_answer_is_fully_grounded_for_each_kind():
    q = "What if R0 is 3 in a town of 50,000?"
    request, outcome = _simulate(q, {"model": "seir", "params": {"r0": 3, "population": 50000, "replicates": 5}})
    text = compose_template(q, request, outcome, stated=["r0", "population"])
    assert _ungrounded(q, request, outcome, text) == []
    assert "50,000" in text and "attack rate" in text

    scenarios = [
        {"label": "baseline", "model": "seir", "params": {"r0": 2}},
        {
            "label": "distancing",
            "model": "seir",
            "params": {"r0": 2},
            "interventions": [{"type": "contact_reduction", "start_day": 10, "duration_days": 30}],
        },
    ]
    cmp = compare(scenarios)
    request = Request(kind="compare", scenarios=[sim.Scenario.model_validate(s) for s in scenarios])
    outcome = Outcome(results=cmp.results, differences=cmp.differences)
    text = compose_template("distancing vs nothing", request, outcome)
    assert "lower" in text
    assert _ungrounded("distancing vs nothing", request, outcome, text) == []


def test_invented_numbers_are_caught():
    q = "What if R0 is 3?"
    request, outcome = _simulate(q, {"model": "seir", "params": {"r0": 3}})
    answer = _answer(q, request, outcome)
    peak = outcome.results[0].scalar("peak_infected")
    assert ungrounded_numbers(answer, f"The peak is {round(peak):,} people.") == []
    assert ungrounded_numbers(answer, f"The peak is {round(peak * 1.3):,} people.") != []
    assert ungrounded_numbers(answer, "About 42.7% will be infected.") == ["42.7%"]
    assert ungrounded_numbers(answer, "About 4 million will be infected.") == ["4 million"]


@pytest.mark.parametrize(("shown", "grounded"), [("89.3%", True), ("89%", True), ("88%", False), ("0.893", True)])
def test_rounded_percent_of_a_share_is_grounded(shown, grounded):
    result = ResultSummary(label="baseline", metrics={"attack_rate": 0.8934}, run_id="x")
    answer = Answer(question="q", kind="simulate", results=[result], text=f"attack rate {shown}", translator="t")
    assert (ungrounded_numbers(answer) == []) is grounded


def test_share_differences_are_in_percentage_points_and_carry_their_interval():
    scenarios = [
        {"label": "baseline", "model": "seir", "params": {"r0": 2, "replicates": 10, "population": 20000}},
        {
            "label": "distancing",
            "model": "seir",
            "params": {"r0": 2, "replicates": 10, "population": 20000},
            "interventions": [{"type": "contact_reduction", "effectiveness": 0.3}],
        },
    ]
    cmp = compare(scenarios)
    request = Request(kind="compare", scenarios=[sim.Scenario.model_validate(s) for s in scenarios])
    outcome = Outcome(results=cmp.results, differences=cmp.differences)
    text = compose_template("q", request, outcome)
    ar = next(d for d in cmp.differences if d.metric == "attack_rate")
    assert f"{abs(ar.difference) * 100:.1f} percentage points lower" in text
    assert "95% CI of the difference" in text
    assert _ungrounded("q", request, outcome, text) == []


def test_peak_on_the_last_day_is_flagged():
    request, outcome = _simulate("q", {"model": "seir", "params": {"r0": 1.3, "days": 60}})
    assert outcome.results[0].metrics["peak_day"] == 60
    assert "peak falls at the end of the run (day 60 of 60)" in compose_template("q", request, outcome)
    request, outcome = _simulate("q", {"model": "seir", "params": {"r0": 3, "days": 200}})
    assert "end of the run" not in compose_template("q", request, outcome)


def test_people_are_whole_and_a_deterministic_run_does_not_ask_for_replicates():
    question = "What is the peak with R0 1.8 in a village of 800?"
    request, outcome = _simulate(question, {"model": "seir", "params": {"population": 800, "r0": 1.8}})
    peak = outcome.results[0].scalar("peak_infected")
    assert not float(peak).is_integer()  # the ODE's fractional people
    text = compose_template(question, request, outcome)
    assert f"people infectious at the peak {round(peak)}" in text.lower()
    assert "ask for replicates" not in text and "no random variation" in text
    assert not _ungrounded(question, request, outcome, text)


def test_a_stochastic_run_with_dying_replicates_reports_the_outbreak_probability_not_the_mean():
    question = "attack rate at R0 1.5 with 2 cases, 100 replicates?"
    params = {"population": 5_000, "r0": 1.5, "initial_infected": 2, "replicates": 100}
    request, outcome = _simulate(question, {"model": "seir", "params": params})
    text = compose_template(question, request, outcome)
    assert "probability of a major outbreak" in text and "95% CI" in text
    assert "attack rate (share ever infected)" not in text  # the mean of two kinds of outcome is not shown
    assert not _ungrounded(question, request, outcome, text)


def test_a_comparison_of_a_stochastic_model_says_how_many_replicates_ran():
    from sim.dispatch import run_request

    question = "close schools in a town of 3000?"
    base = {"label": "baseline", "model": "abm", "params": {"population": 3000}}
    closed = {**base, "label": "school_closure", "interventions": [{"type": "school_closure"}]}
    request = Request(kind="compare", model="abm", scenarios=[base, closed])
    outcome = run_request("compare", request.scenarios)
    assert [r.meta.replicates for r in outcome.results] == [10, 10]
    text = compose_template(question, request, outcome)
    assert "each scenario ran 10 replicates" in text
    assert not _ungrounded(question, request, outcome, text)
