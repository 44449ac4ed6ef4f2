"""Parameter grounding: values must be stated in the conversation, or be defaults."""

from __future__ import annotations

from typing import Any

import pytest

from sim.scenario import resolve
from simqa.grounding import drop_ungrounded, grounding_feedback, ungrounded_values
from simqa.request import Request
from simqa.translators.base import Turn


def simulate(
    model: str = "seir", params: dict[str, Any] | None = None, interventions: list[Any] | None = None
) -> Request:
    scenario = {"label": "baseline", "model": model, "params": params or {}, "interventions": interventions or []}
    return Request.model_validate({"kind": "simulate", "scenarios": [scenario]})


def locations(request: Request, question: str, history: list[Turn] | None = None) -> list[str]:
    return [u.location for u in ungrounded_values(request, question, history or [])]


def test_stated_values_with_conversions_are_grounded() -> None:
    request = simulate(
        params={"population": 100_000, "r0": 2.0},
        interventions=[{"type": "contact_reduction", "start_day": 30, "duration_days": 28, "effectiveness": 0.3}],
    )
    question = "In a city of 100k where each case infects 2 others, cut contacts by 30% for 4 weeks from day 30"
    assert locations(request, question) == []


def test_word_numbers_are_grounded() -> None:
    request = simulate(
        params={"population": 500_000}, interventions=[{"type": "contact_reduction", "effectiveness": 0.5}]
    )
    assert locations(request, "half a million people; halve contacts") == []


def test_invented_values_are_found() -> None:
    request = simulate(
        params={"population": 250_000, "r0": 3.0},
        interventions=[{"type": "contact_reduction", "effectiveness": 0.73}],
    )
    found = ungrounded_values(request, "What if R0 is 3 in a city with a lockdown?")
    assert [(u.location, u.value, u.default) for u in found] == [
        ("scenarios[0].params.population", 250_000, 100_000),
        ("scenarios[0].interventions[0].effectiveness", 0.73, 0.5),
    ]


def test_documented_defaults_are_grounded() -> None:
    # 0.5 is contact_reduction's default effectiveness, 5.2 the seir default incubation_days, 2.5 its R0
    request = simulate(
        params={"incubation_days": 5.2, "r0": 2.5}, interventions=[{"type": "contact_reduction", "effectiveness": 0.5}]
    )
    assert locations(request, "What does a lockdown do?") == []


def test_a_default_of_another_field_does_not_ground() -> None:
    # 180 is seir's default for days, not for population
    assert locations(simulate(params={"population": 180}), "an epidemic") == ["scenarios[0].params.population"]


def test_relative_changes_from_the_default_are_grounded() -> None:
    # delivery's default is 120 orders per hour: "30% more demand" is 156
    assert locations(simulate("delivery", {"orders_per_hour": 156.0}), "What if demand is 30% more?") == []
    assert locations(simulate("delivery", {"orders_per_hour": 170.0}), "What if demand is 30% more?") != []


def test_values_of_earlier_turns_ground_follow_ups() -> None:
    first = simulate(params={"population": 20_000})
    history = [Turn("An epidemic in a town of 20k", first)]
    follow_up = simulate(params={"population": 20_000, "r0": 3.0})
    assert locations(follow_up, "and with R0 3?", history) == []
    assert locations(follow_up, "and with R0 3?") == ["scenarios[0].params.population"]


def test_doubling_the_previous_value_is_grounded() -> None:
    history = [Turn("60 couriers", simulate("delivery", {"couriers": 60}))]
    assert locations(simulate("delivery", {"couriers": 120}), "what if we double them?", history) == []


def test_rounding_is_allowed_but_not_more() -> None:
    request = simulate(interventions=[{"type": "contact_reduction", "effectiveness": 0.33}])
    assert locations(request, "cut contacts by a third") == []
    request = simulate(interventions=[{"type": "contact_reduction", "effectiveness": 0.4}])
    assert locations(request, "cut contacts by a third") != []


def test_sweeps_with_stated_ends_and_even_steps_are_grounded() -> None:
    base = {"label": "baseline", "model": "seir", "params": {}, "interventions": []}
    values = [1.2 + 0.2 * i for i in range(10)]
    stepped = Request.model_validate({"kind": "sweep", "scenarios": [base], "sweep": {"param": "r0", "values": values}})
    assert locations(stepped, "R0 from 1.2 to 3.0 in steps of 0.2") == []
    invented = Request.model_validate(
        {"kind": "sweep", "scenarios": [base], "sweep": {"param": "r0", "values": [1.0, 4.0, 7.0]}}
    )
    found = ungrounded_values(invented, "how does the peak change with R0?")
    assert [(u.location, u.droppable) for u in found] == [("sweep.values", False)]


def test_a_calibration_target_must_be_stated() -> None:
    base = {"label": "baseline", "model": "seir", "params": {}, "interventions": []}
    cal = {"param": "r0", "metric": "attack_rate", "target": 0.5, "relation": "eq"}
    request = Request.model_validate({"kind": "calibrate", "scenarios": [base], "calibrate": cal})
    assert locations(request, "What R0 gives an attack rate of 50%?") == []
    assert locations(request, "What R0 gives a big epidemic?") == ["calibrate.target"]


def test_dropping_puts_defaults_back_and_says_so() -> None:
    request = simulate(
        params={"population": 250_000, "r0": 3.0},
        interventions=[{"type": "contact_reduction", "start_day": 10, "effectiveness": 0.73}],
    )
    found = ungrounded_values(request, "R0 3 with a lockdown from day 10")
    dropped, notes = drop_ungrounded(request, found)
    scenario = dropped.scenarios[0]
    assert scenario.params == {"r0": 3.0}
    resolved = resolve(scenario)
    assert resolved.params.model_dump()["population"] == 100_000  # the documented default
    iv = resolved.interventions[0]
    assert (iv.start_day, iv.model_dump()["effectiveness"]) == (10, 0.5)
    assert len(notes) == 2
    assert "population = 250000" in notes[0] and "100000" in notes[0]
    assert ungrounded_values(dropped, "R0 3 with a lockdown from day 10") == []


def test_feedback_lists_the_values_and_says_to_use_null() -> None:
    found = ungrounded_values(simulate(params={"population": 250_000}), "an epidemic in a city")
    text = grounding_feedback(found)
    assert "scenarios[0].params.population = 250000" in text
    assert "null" in text


@pytest.mark.parametrize(
    ("question", "value"),
    [("a fortnight of closure", 14), ("close for a month", 30), ("for 2 weeks", 14), ("from week 3", 14)],
)
def test_durations_in_other_units_are_grounded(question: str, value: int) -> None:
    request = simulate(interventions=[{"type": "contact_reduction", "duration_days": value}])
    assert locations(request, question) == []
