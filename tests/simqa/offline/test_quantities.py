"""The quantity reader against its corpus: one file of phrase -> value examples per dimension."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from simqa.translators.offline import parse
from simqa.translators.offline.quantities import expand
from simqa.translators.offline.stated import is_grounded, stated_values

CORPUS = Path(__file__).resolve().parents[3] / "simqa" / "translators" / "offline" / "corpus"
# The unit each dimension's corpus states its values in, when an example names none.
UNITS = {"duration": "day", "day": None, "speed": "km/h", "length": "km", "temperature": "degC"}
DIMENSIONS = ("number", "share", "factor", "duration", "day", "rate", "speed", "length", "temperature")


def _examples(name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((CORPUS / f"{name}.yaml").read_text())


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize(
    ("dimension", "example"),
    [(d, e) for d in DIMENSIONS for e in _examples(d)],
    ids=[f"{d}:{e['text']}" for d in DIMENSIONS for e in _examples(d)],
)
def test_corpus(dimension: str, example: dict[str, Any]) -> None:
    quantities = parse(example["text"]).quantities
    want = example.get("dimension", "number" if dimension == "rate" else dimension)
    found = [q for q in quantities if q.dimension == want]
    assert found, [(q.text, q.dimension) for q in quantities]
    q = found[0]
    if dimension == "rate":
        assert q.per is not None
        value = q.per_to(example["per"])
    else:
        unit = example.get("unit", UNITS.get(dimension))
        value = q.to(unit) if unit and q.unit else q.value
    assert _close(value, float(example["value"])), (q.text, value)
    assert q.points == example.get("points", False)


@pytest.mark.parametrize("example", _examples("runs"), ids=[e["text"] for e in _examples("runs")])
def test_runs(example: dict[str, Any]) -> None:
    runs = parse(example["text"]).runs
    if example["values"] is None:
        assert not runs, [[m.text for m in r.members] for r in runs]
        return
    assert len(runs) == 1
    values = expand(runs[0]) or []
    got = (
        [m.to(m.unit) if m.dimension == "duration" else m.value for m in runs[0].members]
        if not runs[0].step
        else values
    )
    if runs[0].step is None:
        got = [m.value for m in runs[0].members]
    assert len(got) == len(example["values"]) and all(map(_close, got, example["values"])), got


def test_spans_point_into_the_question() -> None:
    text = "close schools for four weeks from day 30 in a town of 10k"
    quantities = parse(text).quantities
    assert [text[q.start : q.end] for q in quantities] == ["four weeks", "day 30", "10k"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("close schools for 4 weeks", 28),
        ("for a month", 30),
        ("a fortnight", 14),
        ("for a year", 365),
        ("30% of cases", 0.3),
        ("30% of cases", 30),
        ("reduce contacts to 70%", 0.3),
        ("30% more demand", 1.3),
        ("30% more than 200", 260),
        ("10% fewer couriers", 0.9),
        ("increase orders by 20%", 1.2),
        ("halve contacts", 0.5),
        ("double the fleet", 2),
        ("a third of workplaces", 1 / 3),
        ("half the workplaces", 50),
        ("2 hours", 120),
        ("90 minutes", 1.5),
        ("starting in week 3", 14),
        ("starting in week 3", 3),
        ("half a million people", 500_000),
        ("10k people", 10_000),
        ("lockdown from day 10 to day 40, 50% effective", 30),
        ("peaks with 10% of a 1 million population infectious at once", 100_000),
        ("an SIR model, R0 4", 0),
        ("an epidemic without vaccination", 0),
        ("10 mph", 16.09344),
        ("50 °F", 10),
    ],
)
def test_stated_values_include_conversions(text: str, value: float) -> None:
    assert is_grounded(value, text), sorted(stated_values(text))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("close schools for 4 weeks", 30),
        ("R0 of 2.5", 3.0),
        ("30% of cases", 0.35),
        ("a city of 100k", 1_000_000),
        ("no numbers at all", 1.0),
        ("R0 of 3 in a town of 50,000", 0),
    ],
)
def test_unstated_values_are_not_grounded(text: str, value: float) -> None:
    assert not is_grounded(value, text)
