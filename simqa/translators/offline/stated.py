"""Every value a text states, with its usual conversions: what grounding checks compare against.

A value an LLM sets (or an answer prints) is grounded when it is one of these. The conversions, read
by the same quantity reader as the translator (quantities.py):
- each numeral as written ("week 3" states 3; "30% more than 200" states 30 and 200);
- numbers, with a rate also per hour, per day and per minute;
- shares as fractions and as percents, their complement ("reduce contacts to 70%" is a 30% cut), and
  1 +- the share when a change word stands next to it ("30% more" states 1.3); "10% of a 1 million
  town" states 100,000;
- durations in days, weeks, hours and minutes; points in time in days; speeds in km/h, lengths in km,
  temperatures in degrees Celsius;
- the ends, steps and values of runs ("from 1.2 to 3 in steps of 0.3"), and the span between two
  points in time ("from day 10 to day 40" states 30);
- the values of the phrases a model declares ("SIR" states an incubation of 0), and 0 for "no",
  "without", "zero" and "none".
"""

from __future__ import annotations

import itertools
import math
import re

from sim.errors import ScenarioError
from simqa.translators.offline.quantities import Quantity, expand

_DURATION_UNITS = ("day", "week", "hour", "minute")
_NUMERAL = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![a-z_])")
_ZERO_WORDS = frozenset({"no", "without", "zero", "none"})


def conversions(q: Quantity) -> set[float]:
    """The values one quantity states (see the module docstring)."""
    out = {float(n.replace(",", "")) for n in _NUMERAL.findall(q.text)} | {q.value}
    d = q.dimension
    if d in ("number", "share") and q.per:
        out |= {q.per_to(unit) for unit in ("hour", "day", "minute", "week")}
    if d == "share":
        out |= {q.value * 100, 1 - q.value}
    elif d == "duration" and q.unit:
        out |= {q.to(unit) for unit in _DURATION_UNITS}
    elif d == "speed" and q.unit:
        out.add(q.to("km/h"))
    elif d == "length" and q.unit:
        out.add(q.to("km"))
    elif d == "temperature" and q.unit:
        out.add(q.to("degC"))
    return {v for v in out if math.isfinite(v)}


def stated_values(text: str) -> set[float]:
    """Every value `text` states, plus its conversions (see the module docstring)."""
    from simqa.translators.offline import parse

    numerals = {float(n.replace(",", "")) for n in _NUMERAL.findall(text)}  # as written, instructions included
    try:
        parsed = parse(text, keep_instructions=True)
    except ScenarioError:  # over the question-size limit: only its numerals
        return numerals
    values: set[float] = set(numerals)
    quantities = parsed.quantities
    for q in quantities:
        values |= conversions(q)
    for run in parsed.runs:
        values |= {v for v in expand(run) or [] if math.isfinite(v)}
        if run.step is not None:
            values |= conversions(run.step)
    points = [q for q in quantities if q.dimension == "day"]
    for a, b in itertools.pairwise(points):
        if b.value > a.value:
            values.add(b.value - a.value)
    for i, q in enumerate(quantities):
        if q.dimension != "share" or q.points:
            continue
        if any(q.first - 4 <= c.last <= q.first or c.first == q.last for c in parsed.changes):
            values |= {1 + q.value, 1 - q.value}
        after = [t.text for t in parsed.tokens[q.last : q.last + 3]]
        if after[:1] == ["of"] and i + 1 < len(quantities) and quantities[i + 1].first <= q.last + 3:
            values.add(q.value * quantities[i + 1].value)
    from simqa.translators.offline.quantities import FACTORS

    named = [m for m in parsed.mentions if any(s.category == "intervention" for s in m.senses)]
    for m in parsed.mentions:
        for s in m.senses:
            near = any(abs(m.first - n.first) <= 4 for n in named)  # "close all workplaces", not "at all"
            if isinstance(s.value, int | float) and (s.category == "value" or (s.category == "field_value" and near)):
                values.add(float(s.value))
        values |= {FACTORS[parsed.tokens[a].text] for a in m.anchors if parsed.tokens[a].text in FACTORS}
    if any(t.text in _ZERO_WORDS for t in parsed.tokens):
        values.add(0.0)
    return {v for v in values if math.isfinite(v)}


def stated_factors(text: str, largest: float = 10.0) -> set[float]:
    """The factors a text states ("double", "1.5x", "30% more" as 1.3): what a changed value may be a multiple of."""
    from simqa.translators.offline import parse

    try:
        parsed = parse(text)
    except ScenarioError:
        return set()
    factors = {q.value for q in parsed.quantities if q.dimension == "factor" and 0 < q.value <= largest}
    factors |= {v for v in stated_values(text) if 0 < v < 2 and not math.isclose(v, 1.0)}
    return factors


def is_grounded(value: float, text: str, rel_tol: float = 1e-6) -> bool:
    """True when `value` is (close to) a value `text` states, allowing the conversions above."""
    return any(math.isclose(value, v, rel_tol=rel_tol, abs_tol=1e-9) for v in stated_values(text))
