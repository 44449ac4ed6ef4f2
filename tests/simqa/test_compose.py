"""The template composer and the grounding check."""

from __future__ import annotations

import pytest

import sim
from sim.experiments import compare
from simqa.compose import Outcome, allowed_values, compose_template, numbers_in, ungrounded_numbers
from simqa.request import Request


def _simulate(question: str, scenario: dict) -> tuple[Request, Outcome]:
    request = Request(kind="simulate", scenarios=[sim.Scenario.model_validate(scenario)])
    return request, Outcome(results=[sim.run(scenario)])


def test_numbers_in_reads_separators_decimals_percent_and_skips_identifiers():
    found = numbers_in("peak 12,345 on day 57; 89.3% infected; r0=2.5 ran as run abcdef0123456789, R0 2.5")
    assert (12345.0, 0, False) in found and (57.0, 0, False) in found and (89.3, 1, True) in found
    assert (2.5, 1, False) in found  # the 'R0 2.5' one; 'r0=2.5' is read as a label, not a claim
    assert all(v != 123456789 for v, _, _ in found)


def test_template_answer_is_fully_grounded_for_each_kind():
    q = "What if R0 is 3 in a town of 50,000?"
    request, outcome = _simulate(q, {"model": "seir", "params": {"r0": 3, "population": 50000, "replicates": 5}})
    text = compose_template(q, request, outcome, stated=["r0", "population"])
    assert ungrounded_numbers(text, allowed_values(q, request, outcome)) == []
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
    assert ungrounded_numbers(text, allowed_values("distancing vs nothing", request, outcome)) == []


def test_invented_numbers_are_caught():
    q = "What if R0 is 3?"
    request, outcome = _simulate(q, {"model": "seir", "params": {"r0": 3}})
    allowed = allowed_values(q, request, outcome)
    peak = outcome.results[0].scalar("peak_infected")
    assert ungrounded_numbers(f"The peak is {round(peak):,} people.", allowed) == []
    assert ungrounded_numbers(f"The peak is {round(peak * 1.3):,} people.", allowed) != []
    assert ungrounded_numbers("About 42.7% will be infected.", allowed) == ["42.7%"]


@pytest.mark.parametrize("shown", ["89.3%", "89%"])
def test_rounded_percent_of_a_share_is_grounded(shown):
    assert ungrounded_numbers(f"attack rate {shown}", {0.8934}) == []


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
    assert ungrounded_numbers(text, allowed_values("q", request, outcome)) == []


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
    assert not ungrounded_numbers(text, allowed_values(question, request, outcome))


def test_a_stochastic_run_with_dying_replicates_reports_the_outbreak_probability_not_the_mean():
    question = "attack rate at R0 1.5 with 2 cases, 100 replicates?"
    params = {"population": 5_000, "r0": 1.5, "initial_infected": 2, "replicates": 100}
    request, outcome = _simulate(question, {"model": "seir", "params": params})
    text = compose_template(question, request, outcome)
    assert "probability of a major outbreak" in text and "95% CI" in text
    assert "attack rate (share ever infected)" not in text  # the mean of two kinds of outcome is not shown
    assert not ungrounded_numbers(text, allowed_values(question, request, outcome))


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
    assert not ungrounded_numbers(text, allowed_values(question, request, outcome))
