"""Two readings of one question, the LLM's and the offline translator's, compared and reconciled.

When an LLM is configured the offline reading is made too (it is cheap, and has no network).
The two are compared on kind, model and the values the question states. Where they differ, the
answer's notes say so, and the reading kept is the one that accounts for every value the
question states: a stated value is accounted for when the reading uses it (converted as
the grounding check converts it: 4 weeks = 28 days, 30% = 0.3, "30% more" = 1.3,
"double" = twice a value the reading sets), or, for a clarify or a refuse, names it. The LLM's
reading is kept unless the offline one accounts for more stated values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sim.errors import ScenarioError
from sim.registry import get_model
from simqa.request import Request
from simqa.translators.base import Translation

REL_TOL = 0.01


@dataclass(frozen=True)
class Comparison:
    """How two readings of one question compare, and which one is kept."""

    agree: bool
    kept: str  # "llm" or "offline"
    differences: list[str] = field(default_factory=list)
    unaccounted: dict[str, list[str]] = field(default_factory=dict)  # reading -> stated values it leaves out

    def as_dict(self) -> dict[str, Any]:
        return {
            "agree": self.agree,
            "kept": self.kept,
            "differences": list(self.differences),
            "unaccounted": {k: list(v) for k, v in self.unaccounted.items()},
        }


def compare(question: str, llm: Request, offline: Request) -> Comparison:
    """Compare the LLM's reading with the offline one (see the module docstring)."""
    differences: list[str] = []
    if llm.kind != offline.kind:
        differences.append(f"kind: the LLM read {llm.kind}, the offline translator {offline.kind}")
    if llm.model != offline.model and llm.model is not None and offline.model is not None:
        differences.append(f"model: the LLM chose {llm.model}, the offline translator {offline.model}")
    differences += _value_differences(llm, offline)
    unaccounted = {"llm": unaccounted_values(question, llm), "offline": unaccounted_values(question, offline)}
    kept = "offline" if len(unaccounted["offline"]) < len(unaccounted["llm"]) else "llm"
    if unaccounted["llm"] != unaccounted["offline"]:
        differences.append(
            "stated values left out: "
            + "; ".join(f"{who}: {', '.join(vals) or 'none'}" for who, vals in unaccounted.items())
        )
    return Comparison(agree=not differences, kept=kept, differences=differences, unaccounted=unaccounted)


def reconcile(question: str, llm: Translation, offline: Translation) -> tuple[Translation, Comparison]:
    """The translation to keep, with a note where the two readings disagree."""
    comparison = compare(question, llm.request, offline.request)
    if comparison.agree:
        return llm, comparison
    summary = "; ".join(comparison.differences)
    if comparison.kept == "offline":
        left_out = ", ".join(comparison.unaccounted["llm"])
        note = (
            f"the LLM's reading and the offline reading differ ({summary}); the offline reading was kept because "
            f"the LLM's left out the stated value(s) {left_out}"
        )
        chosen = Translation(
            request=offline.request,
            translator=offline.translator,
            usage=dict(llm.usage),
            notes=[*offline.notes, note],
        )
        return chosen, comparison
    note = f"the LLM's reading and the offline reading differ ({summary}); the LLM's reading was kept"
    return Translation(llm.request, llm.translator, dict(llm.usage), [*llm.notes, note]), comparison


# --------------------------------------------------------------------------- stated values


def unaccounted_values(question: str, request: Request) -> list[str]:
    """The values the question states (as written) that `request` does not use."""
    from simqa.translators.offline import parse
    from simqa.translators.offline.stated import conversions

    try:
        quantities = parse(question, keep_instructions=True).quantities
    except ScenarioError:  # over the question-size limit: nothing to compare
        return []
    used = request_values(request)
    ratios = _ratios(request)
    missing = []
    for quantity in quantities:
        candidates = conversions(quantity)
        relative = quantity.dimension == "share" or (quantity.dimension == "number" and 0 < quantity.value <= 10)
        if quantity.dimension == "share":
            candidates |= {1.0 + quantity.value, 1.0 - quantity.value}
        pool = used | ratios if relative else used
        if not any(_close(c, u) for c in candidates for u in pool):
            missing.append(quantity.text)
    return missing


def request_values(request: Request) -> set[float]:
    """Every number a reading uses: parameters, intervention fields (and their end day), sweep, calibration.

    A clarify or refuse uses the numbers its message names.
    """
    values: set[float] = set()
    for scenario in request.scenarios:
        values |= {float(v) for v in scenario.params.values() if _is_number(v)}
        for iv in scenario.interventions:
            data = iv.model_dump()
            values |= {float(v) for k, v in data.items() if k != "type" and _is_number(v)}
            if _is_number(data.get("start_day")) and _is_number(data.get("duration_days")):
                values.add(float(data["start_day"]) + float(data["duration_days"]))
    if request.sweep is not None:
        values |= {float(v) for v in request.sweep.values}
    if request.calibrate is not None:
        cal = request.calibrate
        values |= {float(v) for v in (cal.target, cal.lower, cal.upper) if v is not None and _is_number(v)}
    if request.message and request.kind in ("clarify", "refuse"):
        from simqa.translators.offline.stated import stated_values

        values |= stated_values(request.message)
    return values


def _ratios(request: Request) -> set[float]:
    """Factors a reading applies: each scenario's values against the baseline's, and against the defaults."""
    ratios: set[float] = set()
    if not request.scenarios:
        return ratios
    base = request.scenarios[0]
    try:
        defaults = {n: f.default for n, f in get_model(base.model).params.model_fields.items()}
    except Exception:
        defaults = {}
    for scenario in request.scenarios:
        for name, value in scenario.params.items():
            if not _is_number(value):
                continue
            for reference in (base.params.get(name), defaults.get(name)):
                if isinstance(reference, int | float) and _is_number(reference) and reference != 0:
                    ratios.add(float(value) / float(reference))
    return ratios


def _value_differences(llm: Request, offline: Request) -> list[str]:
    """Values both readings set to different numbers, scenario by scenario (params and intervention fields)."""
    out = []
    for i, (a, b) in enumerate(zip(llm.scenarios, offline.scenarios, strict=False)):
        left, right = _explicit_values(a), _explicit_values(b)
        for key in sorted(left.keys() & right.keys()):
            if not _close(left[key], right[key]):
                where = f"scenario {i + 1} " if len(llm.scenarios) > 1 else ""
                out.append(f"{where}{key}: the LLM set {left[key]:g}, the offline translator {right[key]:g}")
    return out


def _explicit_values(scenario: Any) -> dict[str, float]:
    values = {k: float(v) for k, v in scenario.params.items() if _is_number(v)}
    for iv in scenario.interventions:
        for name in iv.model_fields_set:
            value = getattr(iv, name)
            if name != "type" and _is_number(value):
                values[f"{iv.type}.{name}"] = float(value)
    return values


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-9)
