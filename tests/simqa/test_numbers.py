"""Numbers as people write them, and the values a question states (for grounding checks)."""

from __future__ import annotations

import math

import pytest

from simqa.numbers import Quantity, find_quantities, is_grounded, parse_number, stated_values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10k", 10_000),
        ("1.2 million", 1_200_000),
        ("half a million", 500_000),
        ("thirty", 30),
        ("two and a half", 2.5),
        ("1,000", 1000),
        ("a dozen", 12),
        ("3e5", 300_000),
        ("twenty-five", 25),
        ("one hundred and twenty thousand", 120_000),
        ("2 and a half", 2.5),
        ("a third", 1 / 3),
        ("two thirds", 2 / 3),
        ("a fifth", 0.2),
        ("three tenths", 0.3),
        ("three quarters", 0.75),
        ("50 billion", 5e10),
        ("3bn", 3e9),
        ("2m", 2e6),
        ("-2", -2),
        ("a thousand", 1000),
        ("1,250,000", 1_250_000),
        ("0.75", 0.75),
        ("two point five", 2.5),
        ("minus 3", -3),
        ("negative 0.5", -0.5),
    ],
)
def test_parse_number(text: str, expected: float) -> None:
    value = parse_number(text)
    assert value is not None
    assert math.isclose(value, expected, rel_tol=1e-12)


@pytest.mark.parametrize("text", ["", "no numbers here", "the model", "R0"])
def test_parse_number_none(text: str) -> None:
    assert parse_number(text) is None


def _units(text: str) -> list[tuple[float, str | None]]:
    return [(round(q.value, 6), q.unit) for q in find_quantities(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("close schools for 4 weeks", [(4, "week")]),
        ("for a month", [(1, "month")]),
        ("a fortnight later", [(2, "week")]),
        ("30% of cases", [(30, "%")]),
        ("thirty per cent", [(30, "%")]),
        ("a city of 100k people", [(100_000, "people")]),
        ("120 orders an hour", [(120, "order")]),
        ("at 20 km/h", [(20, "km/h")]),
        ("at 25 kmh", [(25, "km/h")]),
        ("within 45 min", [(45, "minute")]),
        ("for 2 hours", [(2, "hour")]),
        ("halve contacts", [(0.5, "x")]),
        ("double the orders", [(2, "x")]),
        ("if demand triples", [(3, "x")]),
        ("when orders quadruple", [(4, "x")]),
        ("close half the workplaces", [(0.5, "fraction")]),
        ("a 4-week closure", [(4, "week")]),
        ("an hour and a half", [(1.5, "hour")]),
        ("R0 of 2.5", [(2.5, None)]),
        ("p90 under 40 minutes", [(40, "minute")]),
        ("covid-19 in 2 weeks", [(2, "week")]),
        ("2,000 people a day", [(2000, "people")]),
        ("with 30 couriers", [(30, "courier")]),
        ("1.5x more", [(1.5, "x")]),
    ],
)
def test_find_quantities_units(text: str, expected: list[tuple[float, str | None]]) -> None:
    assert _units(text) == expected


def test_time_points_are_marked_as_index() -> None:
    qs = find_quantities("start on day 30 and in week 3")
    assert [(q.value, q.unit, q.index) for q in qs] == [(30, "day", True), (3, "week", True)]


def test_spans_point_into_the_original_text() -> None:
    text = "Close Schools for FOUR weeks from Day 30 in a town of 10K"
    for q in find_quantities(text):
        assert text[q.start : q.end] == q.text
    assert [q.text for q in find_quantities(text)] == ["FOUR weeks", "Day 30", "10K"]


def test_quantity_is_frozen() -> None:
    q = Quantity(1.0, None, 0, 1, "1")
    with pytest.raises(AttributeError):
        q.value = 2.0  # type: ignore[misc]


def test_hyphen_between_numbers_is_not_a_sign() -> None:
    assert _units("5-10 days") == [(5, None), (10, "day")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("close schools for 4 weeks", 28),
        ("for a month", 30),
        ("for a month", 31),
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
        ("double the couriers", 2),
        ("a third of workplaces", 1 / 3),
        ("half the workplaces", 50),
        ("2 hours", 120),
        ("90 minutes", 1.5),
        ("starting in week 3", 14),
        ("starting in week 3", 21),
        ("half a million people", 500_000),
        ("10k people", 10_000),
    ],
)
def test_stated_values_include_conversions(text: str, value: float) -> None:
    assert is_grounded(value, text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("close schools for 4 weeks", 30),
        ("R0 of 2.5", 3.0),
        ("30% of cases", 0.35),
        ("a city of 100k", 1_000_000),
        ("no numbers at all", 1.0),
    ],
)
def test_unstated_values_are_not_grounded(text: str, value: float) -> None:
    assert not is_grounded(value, text)


def test_stated_values_of_plain_numbers() -> None:
    values = stated_values("R0 of 2.5 with 10 initial cases")
    assert 2.5 in values and 10 in values
    assert 3.0 not in values


def test_is_grounded_tolerance() -> None:
    assert is_grounded(2.5000001, "R0 2.5", rel_tol=1e-6)
    assert not is_grounded(2.51, "R0 2.5", rel_tol=1e-6)
    assert is_grounded(2.51, "R0 2.5", rel_tol=0.01)


def test_time_points_written_in_words() -> None:
    (point,) = find_quantities("starting day fourteen")
    assert (point.value, point.unit, point.index) == (14, "day", True)


def test_half_a_percent_is_a_percentage() -> None:
    assert [(q.value, q.unit) for q in find_quantities("half a percent of people a day")] == [(0.5, "%")]


def test_a_day_after_a_share_of_the_population_is_a_rate_not_a_length() -> None:
    quantities = find_quantities("vaccinate 1% of the population a day")
    assert [(q.value, q.unit) for q in quantities] == [(1, "%")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("lockdown from day 10 to day 40, 50% effective", 30),
        ("peaks with 10% of a 1 million population infectious at once", 100_000),
        ("SIR model (no incubation period), R0 4", 0),
        ("an epidemic without vaccination", 0),
    ],
)
def test_stated_values_cover_spans_shares_of_and_stated_zeros(text, value):
    assert is_grounded(value, text)


def test_zero_is_not_stated_by_accident():
    assert not is_grounded(0, "R0 of 3 in a town of 50,000")
