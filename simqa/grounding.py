"""Parameter grounding: every value a translator sets must come from the conversation or a default.

Small and mid-size models invent values ("a city" becomes 250,000 people, "a lockdown" becomes
73% effective). A value is grounded when it is:
- stated in the question or an earlier question of the conversation, allowing the conversions of
  `simqa.translators.offline.stated.stated_values` (weeks to days, percent to fraction, "half a million",
  "30% more than 200");
- the documented default of that field (the pydantic default of the model's Params or intervention);
- the value an earlier request of the conversation used for that field (a follow-up keeps it);
- one of those bases changed by a factor the text states ("30% more demand" from the default,
  "double the fleet" from the previous scenario).
Sweep values are grounded when each is stated, or when the end points are stated and the values
are evenly spaced ("from 1.2 to 3.0 in steps of 0.2"). The translator sends ungrounded values back
as a validation error once; values that persist are dropped to their default with a note.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sim.interventions import INTERVENTION_TYPES
from sim.registry import get_model
from simqa.request import Request
from simqa.translators.base import Turn
from simqa.translators.offline.stated import stated_factors, stated_values

REL_TOL = 0.01  # "a third" may come back as 0.33; a 1% slip is rounding, not invention
ABS_TOL = 1e-9
MAX_FACTOR = 10.0  # larger stated numbers are values, not factors ("30% more" = 1.3, "double" = 2)


@dataclass(frozen=True)
class UngroundedValue:
    """A value set by the translator that nothing in the conversation states.

    location: where it is ("scenarios[0].params.<name>", "scenarios[1].interventions[0].<field>",
      "sweep.values", "calibrate.target"); field: the field name; default: what dropping it gives
      (None when the field has no default to fall back to: sweep values, a calibration target).
    """

    location: str
    field: str
    value: float
    default: float | None
    droppable: bool = True

    def describe(self) -> str:
        return f"{self.location} = {_fmt(self.value)}"


@dataclass
class Evidence:
    """The values a conversation states, the factors it states, and the values earlier requests used."""

    stated: set[float]
    factors: set[float]
    previous: dict[str, set[float]]  # field key ("<param>", "<intervention>.<field>") -> values

    def grounds(self, value: float, key: str, default: Any) -> bool:
        candidates = set(self.stated)
        bases = set(self.previous.get(key, set()))
        if _is_number(default):
            bases.add(float(default))
        candidates |= bases
        for base in bases:
            candidates |= {base * f for f in self.factors}
        return any(_close(value, c) for c in candidates)


def conversation_text(question: str, history: Sequence[Turn] = ()) -> str:
    """The user's words: earlier questions, then this one (requests are not text a user wrote)."""
    return "\n".join([*(turn.question for turn in history), question])


def gather_evidence(question: str, history: Sequence[Turn] = ()) -> Evidence:
    text = conversation_text(question, history)
    stated = stated_values(text)
    factors = stated_factors(text, MAX_FACTOR)  # "double", "1.5x"; 1.3 from "30% more", 0.5 from "half"
    previous: dict[str, set[float]] = {}
    for turn in history:
        for key, value in _request_values(turn.request):
            previous.setdefault(key, set()).add(value)
    return Evidence(stated=stated, factors=factors, previous=previous)


def ungrounded_values(request: Request, question: str, history: Sequence[Turn] = ()) -> list[UngroundedValue]:
    """Every value in `request` that the conversation does not ground (see the module docstring)."""
    evidence = gather_evidence(question, history)
    found: list[UngroundedValue] = []
    for i, scenario in enumerate(request.scenarios):
        params_cls = get_model(scenario.model).params
        for name, value in scenario.params.items():
            if not _is_number(value):
                continue  # a choice (a string value) is checked by validation, not here
            info = params_cls.model_fields.get(name)
            default = info.default if info is not None else None
            if not evidence.grounds(float(value), name, default):
                found.append(UngroundedValue(f"scenarios[{i}].params.{name}", name, float(value), _num(default)))
        for j, intervention in enumerate(scenario.interventions):
            cls = INTERVENTION_TYPES[intervention.type]
            for name in intervention.model_fields_set:
                value = getattr(intervention, name)
                if name == "type" or not _is_number(value):
                    continue
                default = cls.model_fields[name].default
                if not evidence.grounds(float(value), f"{intervention.type}.{name}", default):
                    found.append(
                        UngroundedValue(f"scenarios[{i}].interventions[{j}].{name}", name, float(value), _num(default))
                    )
    if request.sweep is not None:
        values = [float(v) for v in request.sweep.values]
        key = request.sweep.param
        if not _sweep_grounded(values, evidence, key):
            found.append(UngroundedValue("sweep.values", key, values[0], None, droppable=False))
    if request.calibrate is not None:
        cal = request.calibrate
        if not evidence.grounds(float(cal.target), f"metric:{cal.metric}", None):
            found.append(UngroundedValue("calibrate.target", cal.metric, float(cal.target), None, droppable=False))
        for bound in ("lower", "upper"):
            value = getattr(cal, bound)
            if value is not None and not evidence.grounds(float(value), cal.param, None):
                found.append(UngroundedValue(f"calibrate.{bound}", bound, float(value), None))
    return found


def grounding_feedback(ungrounded: Iterable[UngroundedValue]) -> str:
    """The validation error sent back to the model for ungrounded values."""
    listed = "; ".join(u.describe() for u in ungrounded)
    return (
        f"these values are not stated in the question or the conversation: {listed}. Use only values the "
        "user stated (converted to the parameter's unit if needed); set a parameter or intervention field "
        "to null to use its documented default. If the question lacks a value the answer depends on, "
        "reply with kind 'clarify' and ask for it."
    )


def drop_ungrounded(request: Request, ungrounded: Iterable[UngroundedValue]) -> tuple[Request, list[str]]:
    """`request` with every droppable ungrounded value back at its default, and one note per change."""
    data = request.model_dump(mode="python")
    notes: list[str] = []
    for item in ungrounded:
        if not item.droppable:
            continue
        path = item.location.split(".")
        if path[0].startswith("scenarios["):
            i = int(path[0][len("scenarios[") : -1])
            scenario = data["scenarios"][i]
            if path[1] == "params":
                scenario["params"].pop(item.field, None)
            else:
                j = int(path[1][len("interventions[") : -1])
                scenario["interventions"][j].pop(item.field, None)
        elif path[0] == "calibrate":
            data["calibrate"][item.field] = None
        default = "its default" if item.default is None else f"the documented default {_fmt(item.default)}"
        notes.append(
            f"{item.location} = {_fmt(item.value)} was not stated in the question, so {default} was used instead"
        )
    # Interventions were dumped with every field: keep only those still set, so defaults apply.
    for scenario_data, scenario in zip(data["scenarios"], request.scenarios, strict=True):
        for iv_data, iv in zip(scenario_data["interventions"], scenario.interventions, strict=True):
            for name in list(iv_data):
                if name not in iv.model_fields_set and name != "type":
                    iv_data.pop(name)
    return Request.model_validate(data), notes


# --------------------------------------------------------------------------- helpers


def _request_values(request: Request) -> Iterable[tuple[str, float]]:
    for scenario in request.scenarios:
        for name, value in scenario.params.items():
            if _is_number(value):
                yield name, float(value)
        for iv in scenario.interventions:
            for name, value in iv.model_dump().items():
                if _is_number(value):
                    yield f"{iv.type}.{name}", float(value)
    if request.sweep is not None:
        for value in request.sweep.values:
            yield request.sweep.param, float(value)
    if request.calibrate is not None:
        yield f"metric:{request.calibrate.metric}", float(request.calibrate.target)


def _sweep_grounded(values: list[float], evidence: Evidence, key: str) -> bool:
    def stated(v: float) -> bool:
        return evidence.grounds(v, key, None)

    if all(stated(v) for v in values):
        return True
    ordered = sorted(values)
    if len(ordered) < 3:
        return False
    steps = [b - a for a, b in itertools.pairwise(ordered)]
    evenly = all(_close(s, steps[0]) for s in steps)
    return evenly and stated(ordered[0]) and (stated(ordered[-1]) or stated(steps[0]))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _num(value: Any) -> float | None:
    return float(value) if _is_number(value) else None


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
