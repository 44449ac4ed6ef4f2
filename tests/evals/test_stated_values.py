"""No eval answer leaves a value its question states unused without saying so.

Every quantity the offline translator's quantity reader finds in a case's question (the last one
of a conversation) must be used by the request the offline translator makes of it: as a parameter,
an intervention field or timing, a sweep value (or its step or count), a calibration target or
bound, in the model's units (percent to share, weeks to days, mph to km/h, °F to °C, counts per
time to rates, counts over a stated duration to rates) or as a change of a parameter relative to its
default or to its value in another scenario ("10 more couriers", "30% more orders"). Otherwise the
answer must be a clarify whose message quotes the value, or a kind that runs nothing (explain,
refuse). Only the translation is checked; nothing runs, so the test is fast.

Cases that fail today are listed in KNOWN_DROPS with what is dropped; they are expected to fail
(strictly: a case that starts passing must leave the list), so that a new drop fails the suite.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

import pytest

from evals.case import Case
from evals.dataset import load_cases, missing_model
from simqa.numbers import extract_numbers
from simqa.request import Request
from simqa.translators.base import TranslationContext, Turn
from simqa.translators.offline import OfflineTranslator, parse

REL_TOL = 0.01  # as the scorers: "a third" may be written 0.33
RUNS_NOTHING = ("explain", "refuse")
TIME_UNITS = ("day", "hour", "minute")

# Cases whose answer drops a stated value today: case id -> what is dropped (the failure names it).
KNOWN_DROPS: dict[str, str] = {}

CASES = [c for c in load_cases() if missing_model(c) is None]


def _close(a: float, b: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-9)


def translate(case: Case) -> Request:
    """The offline translator's request for the case's question, after its earlier turns."""
    translator = OfflineTranslator()
    history: list[Turn] = []
    for question in case.turns:
        history.append(
            Turn(question, translator.translate(question, TranslationContext(history=list(history))).request)
        )
    return translator.translate(case.question, TranslationContext(history=history)).request


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def slots(request: Request) -> dict[str, list[float]]:
    """What the request sets, by slot (a parameter, `type.field` of an intervention, the sweep, the
    calibration), with each scenario's value."""
    out: dict[str, list[float]] = {}

    def put(slot: str, value: Any) -> None:
        number = _number(value)
        if number is not None:
            out.setdefault(slot, []).append(number)

    for scenario in request.scenarios:
        for name, value in scenario.params.items():
            put(name, value)
        for iv in scenario.interventions:
            fields = iv.model_dump()
            for name, value in fields.items():
                put(f"{fields['type']}.{name}", value)
            if iv.duration_days is not None:
                put(f"{fields['type']}.end_day", iv.start_day + iv.duration_days)
    if request.sweep is not None:
        values = sorted(float(v) for v in request.sweep.values)
        for value in values:
            put("sweep", value)
        put("sweep.count", len(values))
        for low, high in itertools.pairwise(values):
            put("sweep.step", high - low)
    if request.calibrate is not None:
        for name in ("target", "lower", "upper"):
            put(f"calibrate.{name}", getattr(request.calibrate, name))
    return out


def defaults(request: Request) -> dict[str, float]:
    """The documented defaults of the request's model and interventions, by slot."""
    from sim import get_model
    from sim.interventions import INTERVENTION_TYPES

    out: dict[str, float] = {}
    if request.model is not None:
        for name, info in get_model(request.model).params.model_fields.items():
            number = _number(info.default)
            if number is not None:
                out[name] = number
    for iv_type, cls in INTERVENTION_TYPES.items():
        for name, info in cls.model_fields.items():
            number = _number(info.default)
            if number is not None:
                out[f"{iv_type}.{name}"] = number
    return out


def readings(q: Any, durations: list[Any]) -> set[float]:
    """The values a stated quantity may take in a model's units."""
    values = {q.value}
    if q.dimension == "share":
        values.add(100 * q.value)
    if q.unit is not None and q.dimension in ("duration", "speed", "temperature", "length"):
        target = {"duration": TIME_UNITS, "speed": ("km/h",), "temperature": ("degC",), "length": ("km",)}
        for unit in target[q.dimension]:
            try:
                values.add(q.to(unit))
            except Exception:  # a unit of another dimension than the target
                continue
    if q.per is not None:
        for unit in (*TIME_UNITS, "week"):
            try:
                values.add(q.per_to(unit))
            except Exception:
                continue
    if q.dimension == "number" and q.per is None:  # "1,200 orders over a 6-hour shift": a count over a duration
        for d in durations:
            for unit in ("hour", "day"):
                length = d.to(unit)
                if length > 0:
                    values.add(q.value / length)
    return {v for v in values if math.isfinite(v)}


def list_units(parsed: Any) -> dict[tuple[int, int], Any]:
    """A unit written once for a list applies to all its members ("0, 25, 50 and 100 percent",
    "5, 15 and 25 mph"): the quantity reader's lists carry each member read with that unit."""
    return {(m.first, m.last): m for run in parsed.runs for m in run.members}


def _relative(q: Any, base: float, value: float) -> bool:
    """`value` is `base` changed by the quantity: a number added or taken away ("12 more"), a share
    of it added or taken away ("30% more", "a third fewer") or in points, a factor ("twice")."""
    v = q.value
    candidates = [base + v, base - v] if q.dimension in ("number", "duration") or q.points else []
    if q.dimension == "share":
        candidates += [base * (1 + v), base * (1 - v), base * v]
    if q.dimension == "factor":
        candidates += [base * v] + ([base / v] if v else [])
    return any(_close(c, value) for c in candidates)


def unused(case: Case, request: Request) -> list[str]:
    """The stated quantities the request neither uses nor quotes (as written in the question)."""
    parsed = parse(case.question)
    quantities = list(parsed.quantities)
    if request.kind in RUNS_NOTHING or not quantities:
        return []
    if request.kind == "clarify":
        message = (request.message or "").lower()
        quoted = [n.value for n in extract_numbers(message)]
        return [
            q.text
            for q in quantities
            if q.text.lower() not in message
            and f"= {q.value:g}" not in message  # "r0 = inf", "incubation_days = nan"
            and not any(_close(x, r) for x in quoted for r in readings(q, []))
        ]
    used = slots(request)
    in_lists = list_units(parsed)
    known = defaults(request)
    durations = [q for q in quantities if q.dimension == "duration" and q.unit is not None]
    everything = [u for values in used.values() for u in values]
    missing = []
    for q in quantities:
        direct = readings(q, [d for d in durations if d is not q])
        if (q.first, q.last) in in_lists:
            direct |= readings(in_lists[(q.first, q.last)], [])
        if any(_close(r, u) for r in direct for u in everything):
            continue
        if q.per is not None and any(_close(r / p, u) for r in direct for p in everything if p for u in everything):
            continue  # "2,000 people a day" in a city of 200,000: a daily rate of 1%
        if q.dimension == "share" and any(_close(q.value * p, u) for p in everything for u in everything):
            continue  # "10% of a population of a million": 100,000
        relative = any(  # a change of one parameter or intervention field, from its default or another scenario
            _relative(q, base, value)
            for slot, values in used.items()
            if not slot.startswith(("sweep", "calibrate"))
            for base in [*([known[slot]] if slot in known else []), *values]
            for value in values
            if value != base
        )
        if not relative:
            missing.append(q.text)
    return missing


def _marks(case: Case) -> Any:
    if case.id in KNOWN_DROPS:
        return pytest.param(case, id=case.id, marks=pytest.mark.xfail(strict=True, reason=KNOWN_DROPS[case.id]))
    return pytest.param(case, id=case.id)


@pytest.mark.parametrize("case", [_marks(c) for c in CASES])
def test_every_stated_value_is_used_or_asked_about(case: Case) -> None:
    request = translate(case)
    dropped = unused(case, request)
    assert not dropped, (
        f"{case.id}: {request.kind} leaves {dropped} unused and does not ask about them; "
        f"question: {case.question!r}; request: {_shown(request)}"
    )


def _shown(request: Request) -> str:
    parts: list[Any] = [
        {"params": s.params, "interventions": [iv.model_dump() for iv in s.interventions]} for s in request.scenarios
    ]
    if request.sweep is not None:
        parts.append(request.sweep.model_dump())
    if request.calibrate is not None:
        parts.append(request.calibrate.model_dump())
    return str(parts or request.message)[:400]


# --- the accounting itself can fail --------------------------------------------------------------


def _request(kind: str, model: str | None, scenarios: Iterable[dict[str, Any]] = (), **extra: Any) -> Request:
    return Request.model_validate({"kind": kind, "model": model, "scenarios": list(scenarios), **extra})


def _case(question: str) -> Case:
    return Case(id="t", question=question, kind="explain")


def test_a_dropped_value_is_found_and_converted_values_are_not() -> None:
    question = "Close schools for 4 weeks from day 30 in a town of 20k, R0 2.8"
    right = _request(
        "simulate",
        "abm",
        [
            {
                "model": "abm",
                "params": {"population": 20000, "r0": 2.8},
                "interventions": [{"type": "school_closure", "start_day": 30, "duration_days": 28}],
            }
        ],
    )
    assert unused(_case(question), right) == []
    no_r0 = right.model_copy(deep=True)
    no_r0.scenarios[0].params.pop("r0")
    assert unused(_case(question), no_r0) == ["2.8"]
    no_timing = _request(
        "simulate",
        "abm",
        [
            {
                "model": "abm",
                "params": {"population": 20000, "r0": 2.8},
                "interventions": [{"type": "school_closure"}],
            }
        ],
    )
    assert unused(_case(question), no_timing) == ["4 weeks", "day 30"]


def test_relative_changes_rates_and_plugin_units_count_as_used() -> None:
    delivery = [{"model": "delivery", "params": {"couriers": 48}}, {"model": "delivery", "params": {"couriers": 60}}]
    assert (
        unused(_case("We have 48 couriers; what if we added 12 more?"), _request("compare", "delivery", delivery)) == []
    )
    assert unused(
        _case("We have 48 couriers; what if we added 13 more?"), _request("compare", "delivery", delivery)
    ) == ["13"]
    more = [{"model": "delivery", "params": {}}, {"model": "delivery", "params": {"orders_per_hour": 156}}]
    assert unused(_case("what if orders went up 30%?"), _request("compare", "delivery", more)) == []
    shift = [{"model": "delivery", "params": {"orders_per_hour": 200, "hours": 6}}]
    assert unused(_case("1,200 orders over a 6-hour shift"), _request("simulate", "delivery", shift)) == []
    vaccinate = [
        {"model": "seir", "params": {"population": 200000}},
        {
            "model": "seir",
            "params": {"population": 200000},
            "interventions": [{"type": "vaccination", "daily_rate": 0.01, "start_day": 0}],
        },
    ]
    question = "In a city of 200k we vaccinate 2,000 people a day from day 0"
    assert unused(_case(question), _request("compare", "seir", vaccinate)) == []


def test_a_clarify_must_quote_the_value_and_explain_or_refuse_run_nothing() -> None:
    question = "R0 of 25 in a town of 10k"
    quoting = _request("clarify", "seir", message="r0 = 25 is over the bound of 20; and the town of 10k?")
    assert unused(_case(question), quoting) == []
    silent = _request("clarify", "seir", message="Which R0 did you mean? It must be at most 20.")
    assert unused(_case(question), silent) == ["25", "10k"]
    assert unused(_case(question), _request("refuse", None, message="no")) == []
