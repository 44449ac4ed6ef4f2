"""Observed data checked against a model's observables: every mistake is one error naming the row
and the column, before anything runs; and what the built-in models declare they produce."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.models.observed import seir_expected
from sim.models.seir import SEIRParams
from sim.observables import DataError, ObservedData, read_observations

SEIR = sim.get_model("seir").observables
DELIVERY = sim.get_model("delivery").observables


def _read(table, observables=SEIR, **kwargs):
    return read_observations(observables, table, "cases.csv", "seir", **kwargs)


def test_a_good_table_reads_with_its_steps():
    data = _read({"day": [3, 4, 5, 6, 7], "New Cases": ["1", "2", "4", "1,234", 9]})
    assert data.index.tolist() == [3, 4, 5, 6, 7]
    assert data.columns["new_cases"].tolist() == [1, 2, 4, 1234, 9]
    assert data.last == 7 and data.n_rows == 5


def test_rows_without_a_step_column_are_consecutive_from_zero_and_aliases_are_accepted():
    data = _read({"cases": [0, 1, 2, 3, 5, 8]})
    assert data.index.tolist() == [0, 1, 2, 3, 4, 5]


def test_dates_become_days_from_the_first():
    data = _read({"date": ["2024-03-30", "2024-03-31", "2024-04-01", "2024-04-03", "2024-04-04"], "new_cases": [1] * 5})
    assert data.index.tolist() == [0, 1, 2, 4, 5]
    assert data.first_date == "2024-03-30"


@pytest.mark.parametrize(
    ("table", "row", "column", "words"),
    [
        ({"day": [0, 1, 2, 3, 4]}, None, "new_cases", "missing column 'new_cases'"),
        ({"day": [0, 1, 2, 3, 4], "new_cases": [1] * 5, "deaths": [0] * 5}, None, "deaths", "unknown column 'deaths'"),
        ({"day": [0, 1, 2, 3, 4], "new_cases": [1, 2, "three", 4, 5]}, 3, "new_cases", "'three' is not a number"),
        ({"day": [0, 1, 2, 3, 4], "new_cases": [1, 2, 3, -4, 5]}, 4, "new_cases", "negative"),
        ({"day": [0, 1, 2, 3, 4], "new_cases": [1, 2.5, 3, 4, 5]}, 2, "new_cases", "not a whole number"),
        ({"day": [0, 1, 2, 3, 4], "new_cases": [1, 2, "", 4, 5]}, 3, "new_cases", "missing"),
        ({"day": [0, 1, 2, 3, 4], "new_cases": [1, 2, float("nan"), 4, 5]}, 3, "new_cases", "not a finite number"),
        ({"day": [0, 1, 3, 2, 4], "new_cases": [1] * 5}, 4, "day", "comes before the row above"),
        ({"day": [0, 1, 1, 2, 3], "new_cases": [1] * 5}, 3, "day", "repeats the row above"),
        ({"day": [0, 1, -2, 3, 4], "new_cases": [1] * 5}, 3, "day", "not a whole number >= 0"),
        (
            {"date": ["2024-01-01", "01/02/2024", "2024-01-03", "2024-01-04", "2024-01-05"], "new_cases": [1] * 5},
            2,
            "date",
            "YYYY-MM-DD",
        ),
        ({"day": [0, 1, 2], "new_cases": [1, 2, 3]}, None, None, "3 rows is too few to fit seir; give at least 5"),
    ],
)
def test_bad_data_is_one_error_naming_row_and_column(table, row, column, words):
    with pytest.raises(DataError) as caught:
        _read(table)
    message = str(caught.value)
    assert words in message
    assert "\n" not in message
    assert caught.value.row == row
    if column is not None:
        assert caught.value.column == column
    if row is not None:
        assert f"row {row}" in message


def test_unknown_column_names_the_allowed_ones():
    with pytest.raises(DataError, match=r"allowed columns: day, date, new_cases"):
        _read({"day": [0, 1, 2, 3, 4], "hospitalised": [1] * 5})


def test_too_many_rows():
    with pytest.raises(DataError, match="too many; at most 10"):
        _read({"new_cases": [1] * 11}, max_rows=10)


def test_a_shift_starts_at_its_first_row():
    data = read_observations(DELIVERY, {"hour": [8, 9, 10], "orders": [50, 61, 58], "mean_minutes": [22, 23.5, 21]})
    assert data.index.tolist() == [0, 1, 2]


def test_which_tables_a_model_accepts():
    assert SEIR.accepts(["day", "new_cases"])
    assert SEIR.accepts(["Date", "cases"])
    assert not SEIR.accepts(["day"])
    assert not SEIR.accepts(["day", "new_cases", "deaths"])
    assert DELIVERY.accepts(["hour", "orders", "mean_minutes"])
    assert not DELIVERY.accepts(["day", "new_cases"])


def test_every_built_in_model_declares_what_a_fit_may_free():
    for name in ("seir", "abm", "delivery"):
        spec = sim.get_model(name)
        assert spec.observables is not None
        for p in spec.fit_params:
            assert p.name in spec.params.model_fields, (name, p.name)
            assert p.lower < p.upper
    assert [p.name for p in sim.get_model("seir").fit_params] == ["r0", "initial_infected"]
    assert [p.name for p in sim.get_model("abm").fit_params] == ["r0"]


def test_seir_new_cases_conserve_the_infected():
    """Everyone infected becomes infectious: the day-by-day new cases add up, with the initial
    cases, to the people infected in all (once the epidemic is over); in an SIR model (no exposed
    stage) they are the new infections."""
    params = SEIRParams(population=50_000, r0=2.0, incubation_days=4, infectious_days=4, days=400)
    data = ObservedData(index=np.arange(400), columns={})
    new_cases = seir_expected(params, [{}], (), data)["new_cases"][0]
    total = sim.run({"model": "seir", "params": params.model_dump()}).scalar("total_infected")
    assert new_cases.sum() + params.initial_infected == pytest.approx(total, rel=1e-6)

    sir = params.model_copy(update={"incubation_days": 0.0})
    new_cases = seir_expected(sir, [{}], (), data)["new_cases"][0]
    series = sim.run({"model": "seir", "params": sir.model_dump()}).series["new_infections"]
    np.testing.assert_allclose(new_cases, series[1:401], rtol=1e-6, atol=1e-6)
