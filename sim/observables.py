"""What a model looks like as data a person holds, and which of its parameters data can fit.

A model declares on its `ModelSpec`:
- `observables`: the columns of a data table it can be compared with (`day, new_cases` for the
  epidemic models, `hour, orders, mean_minutes` for delivery), what each column means in the
  model, and how the model produces them for a batch of candidate parameter values: `expected`
  (the mean of each column, for a deterministic model: a count likelihood applies) or `simulate`
  (replicate draws of each column, for a stochastic model: a synthetic likelihood applies);
- `fit_params`: the parameters a fit may free, with the range searched.

`read_observations` checks a table against a model's observables before anything runs: every
mistake (a missing or unknown column, a non-number, a negative count, too few rows, days out of
order, too many rows) is one `DataError` that names the row and the column.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from sim.errors import SimqaError

if TYPE_CHECKING:
    from sim.interventions import InterventionBase
    from sim.params import ModelParams

ColumnKind = Literal["count", "measure", "covariate"]

MAX_ROWS = 100_000  # a daily series of 270 years or hourly of 11: more is a mistaken file


class DataError(SimqaError):
    """Observed data that cannot be used: `row` (1-based, the first row after the header) and
    `column` say where, and the message says what is allowed."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.column = column


@dataclass(frozen=True)
class Observable:
    """One column of observed data.

    kind: "count" (whole numbers >= 0, e.g. new cases a day: a Poisson or negative-binomial
      likelihood), "measure" (a real number, e.g. mean delivery minutes), or "covariate" (an input
      the data give row by row, e.g. the day's temperature: it sets the parameter of the same name).
    required: a column the data must have; an optional covariate left out takes the scenario's value.
    aliases: other header names accepted for it ("cases" for "new_cases").
    """

    name: str
    description: str
    kind: ColumnKind = "count"
    unit: str = ""
    required: bool = True
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class FitParam:
    """A parameter a fit may free, searched between `lower` and `upper` (on a log scale when
    `log_scale`: for positive quantities whose uncertainty is relative, such as R0).

    default: freed when the question names no parameter to fit (and does not state its value);
      False: freed only when the question names it.
    """

    name: str
    lower: float
    upper: float
    log_scale: bool = True
    default: bool = True


@dataclass(frozen=True)
class ObservedData:
    """A validated table: `index` holds the step of each row (day or hour, increasing), `columns`
    the values of each observable and covariate present, by its declared name."""

    index: np.ndarray
    columns: dict[str, np.ndarray]
    source: str = "data"
    first_date: str | None = None

    @property
    def n_rows(self) -> int:
        return int(self.index.shape[0])

    @property
    def last(self) -> int:
        return int(self.index[-1])

    def restricted(self, index: np.ndarray) -> ObservedData:
        """The same table over other steps, with no observed values (used for forecasts)."""
        return ObservedData(index=np.asarray(index, dtype=np.int64), columns={}, source=self.source)


# expected(base, candidates, interventions, data) -> {column: array (candidates, rows)}: the mean of
# each observed column under each candidate (a dict of parameter values applied to `base`).
ExpectedFunction = Callable[
    ["ModelParams", Sequence[Mapping[str, float]], Sequence["InterventionBase"], ObservedData], dict[str, np.ndarray]
]
# simulate(base, candidates, interventions, data, replicates, seed) -> {column: (candidates, replicates, rows)}:
# replicate draws of each observed column, the replicates' random numbers drawn from `seed`
# (`sim.output.replicate_seeds(seed, 0, replicates)`), the same stream for every candidate.
SimulateFunction = Callable[
    ["ModelParams", Sequence[Mapping[str, float]], Sequence["InterventionBase"], ObservedData, int, int],
    dict[str, np.ndarray],
]


@dataclass(frozen=True)
class Observables:
    """The data a model can be fitted to.

    index: the name of the step column ("day", "hour"); rows without it are consecutive steps from 0.
      Step s of the data is the model's step s (an intervention from day 45 acts on the row of day 45).
    date_index: a `date` column (YYYY-MM-DD, one row per day) may stand for the index: day 0 is its first date.
    columns: the observed columns and covariates.
    expected / simulate: how the model produces the columns (exactly one of them is set).
    reporting: the count columns are a share of what the model counts (the reporting fraction,
      1 unless stated or fitted).
    dispersion_param: a parameter that is the coefficient of variation of a gamma-distributed
      multiplier on the counts, so that counts are negative binomial with alpha = its square; the
      fit estimates it as the negative binomial's dispersion unless the question states it.
    horizon: the parameter that sets how many steps a run lasts ("days", "hours"); a fit runs the
      model to the data's last step, a forecast beyond it.
    from_first_row: the first row is step 0 of the run whatever its number (hour 8 of the clock is
      the shift's first hour); otherwise the step numbers are the run's own (day 0 of an epidemic is
      the day its initial cases are infectious).
    min_rows: the fewest rows a fit accepts.
    """

    index: str
    columns: tuple[Observable, ...]
    horizon: str = "days"
    from_first_row: bool = False
    expected: ExpectedFunction | None = None
    simulate: SimulateFunction | None = None
    date_index: bool = False
    reporting: bool = False
    dispersion_param: str | None = None
    min_rows: int = 5

    def __post_init__(self) -> None:
        if (self.expected is None) == (self.simulate is None):
            raise ValueError("Observables needs exactly one of expected (deterministic) or simulate (stochastic)")

    @property
    def stochastic(self) -> bool:
        return self.simulate is not None

    @property
    def observed(self) -> tuple[Observable, ...]:
        """The columns compared with the model (counts and measures, not covariates)."""
        return tuple(c for c in self.columns if c.kind != "covariate")

    def column_names(self) -> list[str]:
        names = [self.index, *(["date"] if self.date_index else []), *(c.name for c in self.columns)]
        return names

    def lookup(self, header: str) -> str | None:
        """The declared name a header stands for (case and spaces ignored, aliases accepted)."""
        key = _normal(header)
        if key == _normal(self.index):
            return self.index
        if self.date_index and key == "date":
            return "date"
        for column in self.columns:
            if key == _normal(column.name) or key in (_normal(a) for a in column.aliases):
                return column.name
        return None

    def accepts(self, headers: Sequence[str]) -> bool:
        """Whether a table with these headers fits these observables: every header known, every
        required column present."""
        names = [self.lookup(h) for h in headers]
        if any(n is None for n in names):
            return False
        return all(c.name in names for c in self.columns if c.required)


def _normal(text: str) -> str:
    return text.strip().lower().replace(" ", "_").replace("-", "_")


def _number(raw: Any, row: int, column: str, source: str) -> float:
    if isinstance(raw, bool):
        raise DataError(f"{source} row {row}, column {column}: {raw!r} is not a number", row=row, column=column)
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = "" if raw is None else str(raw).strip()
        if not text:
            raise DataError(
                f"{source} row {row}, column {column}: the value is missing; every row needs a number there",
                row=row,
                column=column,
            )
        try:
            value = float(text.replace(",", "")) if _thousands(text) else float(text)
        except ValueError:
            raise DataError(
                f"{source} row {row}, column {column}: {text!r} is not a number", row=row, column=column
            ) from None
    if not math.isfinite(value):
        raise DataError(f"{source} row {row}, column {column}: {raw!r} is not a finite number", row=row, column=column)
    return value


def _thousands(text: str) -> bool:
    """'1,234' written with thousands separators (not a decimal comma)."""
    parts = text.lstrip("-").split(",")
    return len(parts) > 1 and parts[0].isdigit() and all(len(p) == 3 and p.isdigit() for p in parts[1:])


def _day_of(raw: Any, row: int, source: str) -> date:
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise DataError(
            f"{source} row {row}, column date: {raw!r} is not a date; write dates as YYYY-MM-DD",
            row=row,
            column="date",
        ) from None


def read_observations(
    observables: Observables,
    table: Mapping[str, Sequence[Any]],
    source: str = "data",
    model: str = "the model",
    max_rows: int = MAX_ROWS,
) -> ObservedData:
    """Check `table` (column name -> values, one per row) against `observables`; a `DataError`
    naming the row and column otherwise."""
    headers = list(table)
    allowed = ", ".join(observables.column_names())
    resolved: dict[str, str] = {}
    for header in headers:
        name = observables.lookup(str(header))
        if name is None:
            raise DataError(
                f"{source}: unknown column {header!r} for {model}; allowed columns: {allowed}", column=str(header)
            )
        if name in resolved.values():
            raise DataError(f"{source}: column {name!r} appears twice", column=str(header))
        resolved[header] = name
    for column in observables.columns:
        if column.required and column.name not in resolved.values():
            raise DataError(
                f"{source}: missing column {column.name!r} ({column.description}); {model} needs: "
                + ", ".join(c.name for c in observables.columns if c.required),
                column=column.name,
            )
    if observables.index in resolved.values() and "date" in resolved.values():
        raise DataError(f"{source}: give either {observables.index!r} or 'date', not both", column="date")
    lengths = {len(values) for values in table.values()}
    if len(lengths) > 1:
        raise DataError(f"{source}: the columns have different lengths ({sorted(lengths)}); give one value per row")
    n = lengths.pop() if lengths else 0
    if n > max_rows:
        raise DataError(f"{source}: {n:,} rows is too many; at most {max_rows:,}", row=max_rows + 1)
    if n < observables.min_rows:
        raise DataError(f"{source}: {n} rows is too few to fit {model}; give at least {observables.min_rows}")
    by_name = {resolved[h]: list(values) for h, values in table.items()}
    columns: dict[str, np.ndarray] = {}
    kinds = {c.name: c.kind for c in observables.columns}
    for name, values in by_name.items():
        if name in (observables.index, "date"):
            continue
        numbers = np.array([_number(v, i + 1, name, source) for i, v in enumerate(values)])
        if kinds[name] == "count":
            bad = np.flatnonzero((numbers < 0) | (numbers != np.round(numbers)))
            if bad.size:
                i = int(bad[0])
                what = "negative" if numbers[i] < 0 else "not a whole number"
                raise DataError(
                    f"{source} row {i + 1}, column {name}: {values[i]!r} is {what}; counts are whole numbers >= 0",
                    row=i + 1,
                    column=name,
                )
        columns[name] = numbers
    first_date = None
    if "date" in by_name:
        days = [_day_of(v, i + 1, source) for i, v in enumerate(by_name["date"])]
        first_date = days[0].isoformat()
        index = np.array([(d - days[0]).days for d in days], dtype=np.int64)
        index_name = "date"
    elif observables.index in by_name:
        raw = np.array([_number(v, i + 1, observables.index, source) for i, v in enumerate(by_name[observables.index])])
        bad = np.flatnonzero((raw < 0) | (raw != np.round(raw)))
        if bad.size:
            i = int(bad[0])
            raise DataError(
                f"{source} row {i + 1}, column {observables.index}: {by_name[observables.index][i]!r} is not a "
                f"whole number >= 0 ({observables.index} 0 is the start of the run)",
                row=i + 1,
                column=observables.index,
            )
        index = raw.astype(np.int64)
        index_name = observables.index
    else:
        index = np.arange(n, dtype=np.int64)
        index_name = observables.index
    if observables.from_first_row:
        index = index - index[0]
    steps = np.diff(index)
    if steps.size and np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0]) + 1
        word = "repeats" if steps[i - 1] == 0 else "comes before"
        raise DataError(
            f"{source} row {i + 1}, column {index_name}: {by_name.get(index_name, index)[i]!r} {word} the row above; "
            "rows must be in increasing order, one per step",
            row=i + 1,
            column=index_name,
        )
    return ObservedData(index=index, columns=columns, source=source, first_date=first_date)
