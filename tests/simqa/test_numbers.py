"""The number reader behind the grounding rule, on known texts."""

from __future__ import annotations

import pytest

from simqa.numbers import extract_numbers, matches


def values(text: str) -> list[float]:
    return [n.value for n in extract_numbers(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,345 people", [12345.0]),
        ("about 1.2k cases", [1200.0]),
        ("45% infected", [45.0]),
        ("3.4 million people", [3_400_000.0]),
        ("10k orders", [10_000.0]),
        ("R0 of -2", [-2.0]),
        ("from 1.2-3.0", [1.2, 3.0]),
        ("2 billion", [2e9]),
        ("3e5 agents", [3e5]),
    ],
)
def test_extracts_values(text: str, expected: list[float]) -> None:
    assert values(text) == pytest.approx(expected)


def test_skips_identifiers_ordinals_and_hyphenated_names() -> None:
    text = "r0=2.5 and p90_minutes for COVID-19 on the 2nd run a3f9c1"
    assert values(text) == [2.5]


def test_percent_flag_and_rounding_tolerance() -> None:
    (pct,) = extract_numbers("45.2%")
    assert pct.percent and pct.tolerance == pytest.approx(0.05)
    (plain,) = extract_numbers("7,071")
    assert not plain.percent and plain.tolerance == pytest.approx(0.5)


def test_matches_allows_rounding_and_percentages_but_not_other_numbers() -> None:
    (n,) = extract_numbers("7,071 people")
    assert matches(n, 7070.95)
    assert not matches(n, 7200.0)
    (pct,) = extract_numbers("89%")
    assert matches(pct, 0.8927)  # a fraction shown as a percentage
    assert not matches(pct, 0.80)
    (rounded,) = extract_numbers("about 1,200 people")
    assert matches(rounded, 1234.0)  # trailing zeros are rounding
    assert not matches(rounded, 1400.0)
    (neg,) = extract_numbers("-1,234 fewer")
    assert matches(neg, 1234.0)  # "1,234 fewer" for a difference of -1234
