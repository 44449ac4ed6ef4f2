"""The built-in models as data: which columns of observed data each one produces, and how.

Each model's `SPEC` points here (`observables`, `fit_params`); the model modules are imported
inside the functions, so this module can be imported by them without a cycle.

Epidemic models (seir, abm): `new_cases` on day d are the people who became infectious between day
d and day d + 1 (the model's flow from exposed to infectious; in an SIR model, from susceptible).
The day numbers are the run's: day 0 is the day the `initial_infected` are infectious. With a
reporting fraction, the observed counts are that share of the model's counts (a Poisson thinning).

Delivery: the first row is the shift's first hour (whatever the clock says), each row one hour:
`orders` placed in it, and the `mean_minutes` from placed to delivered of those orders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.observables import FitParam, Observable, Observables, ObservedData
from sim.output import replicate_seeds

NEW_CASES = Observable(
    name="new_cases",
    description="people becoming infectious each day (reported cases; a reporting fraction may apply)",
    kind="count",
    unit="people per day",
    aliases=("cases", "daily_cases", "new_infectious"),
)


def _became_infectious(cumulative_infections: np.ndarray, exposed: np.ndarray) -> np.ndarray:
    """New infectious people per day from series of shape (..., days + 1): everyone ever infected
    is either still exposed or has become infectious, so the flow is the daily change of the difference."""
    return np.diff(cumulative_infections - exposed, axis=-1)


def seir_expected(
    base: Any, candidates: Sequence[Mapping[str, float]], interventions: Sequence[Any], data: ObservedData
) -> dict[str, np.ndarray]:
    """Expected new cases on the data's days under each candidate: one stacked ODE solve.

    Candidate values are applied without validation (the fit keeps them within the declared
    ranges), so `initial_infected` may be fractional: the ODE is continuous in it."""
    from sim.models.seir import CUM_INFECTIONS, EXPOSED, solve_deterministic

    horizon = data.last + 1
    params = [base.model_copy(update={**values, "days": horizon, "replicates": 1}) for values in candidates]
    states = np.stack(solve_deterministic(params, interventions))  # (K, horizon + 1, 8)
    flows = _became_infectious(states[..., CUM_INFECTIONS], states[..., EXPOSED])
    return {"new_cases": flows[:, data.index]}


def abm_simulate(
    base: Any,
    candidates: Sequence[Mapping[str, float]],
    interventions: Sequence[Any],
    data: ObservedData,
    replicates: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """New cases on the data's days from `replicates` runs of each candidate, drawn from the stream
    `seed`; the synthetic population is the scenario's (its own `seed`), the same for every candidate."""
    from sim.models.abm import run_replicates

    horizon = data.last + 1
    seeds = replicate_seeds(seed, 0, replicates)
    out = np.empty((len(candidates), replicates, data.n_rows))
    for k, values in enumerate(candidates):
        params = base.model_copy(update={**values, "days": horizon, "replicates": replicates})
        series = run_replicates(params, interventions, seeds).series
        out[k] = _became_infectious(series["cum_infections"], series["n_exposed"])[:, data.index]
    return {"new_cases": out}


def delivery_simulate(
    base: Any,
    candidates: Sequence[Mapping[str, float]],
    interventions: Sequence[Any],
    data: ObservedData,
    replicates: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """Orders and mean delivery minutes per hour of the shift from `replicates` shifts of each candidate."""
    from sim.models.delivery import simulate_each

    hours = data.last + 1
    seeds = replicate_seeds(seed, 0, replicates)
    orders = np.empty((len(candidates), replicates, data.n_rows))
    minutes = np.empty_like(orders)
    for k, values in enumerate(candidates):
        params = base.model_copy(update={**values, "hours": float(hours), "replicates": replicates, "seed": seed})
        for r, trace in enumerate(simulate_each(params, seeds)):
            hour = np.minimum((trace.orders.arrival // 60).astype(np.int64), hours - 1)
            count = np.bincount(hour, minlength=hours).astype(float)
            total = np.bincount(hour, weights=trace.delivered - trace.orders.arrival, minlength=hours)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
            orders[k, r] = count[data.index]
            minutes[k, r] = mean[data.index]
    return {"orders": orders, "mean_minutes": minutes}


SEIR_OBSERVABLES = Observables(
    index="day",
    date_index=True,
    columns=(NEW_CASES,),
    expected=seir_expected,
    reporting=True,
)
# R0 from 0.3 (an epidemic in decline) to 20 (the parameter's bound); initial cases from 1 person.
SEIR_FIT_PARAMS = (
    FitParam("r0", 0.3, 20.0),
    FitParam("initial_infected", 1.0, 100_000.0),
)

ABM_OBSERVABLES = Observables(
    index="day",
    date_index=True,
    columns=(NEW_CASES,),
    simulate=abm_simulate,
    reporting=True,
)
ABM_FIT_PARAMS = (FitParam("r0", 0.3, 20.0),)

DELIVERY_OBSERVABLES = Observables(
    index="hour",
    horizon="hours",
    from_first_row=True,
    columns=(
        Observable(
            "orders",
            "orders placed in the hour",
            kind="count",
            unit="orders",
            aliases=("orders_placed", "orders_per_hour"),
        ),
        Observable(
            "mean_minutes",
            "mean minutes from order placed to delivered, over the orders placed in the hour",
            kind="measure",
            unit="minutes",
            aliases=("delivered_minutes", "minutes", "delivery_minutes"),
        ),
    ),
    simulate=delivery_simulate,
    min_rows=2,
)
DELIVERY_FIT_PARAMS = (
    FitParam("orders_per_hour", 1.0, 5000.0),
    FitParam("prep_minutes", 1.0, 120.0),
    FitParam("speed_kmh", 2.0, 80.0, default=False),
)
