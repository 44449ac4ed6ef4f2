"""The bike-share model as data: daily trip counts, with the day's weather when the data have it.

`trips` on a row is the day's total trips (members and casual riders). The weather columns are
covariates: each row is a day of its own weather, so the expected trips of a row are the model's
expected trips in that weather (`expected_daily_trips`); a weather column the data leave out takes
the scenario's value. The model's day-to-day demand multiplier makes the counts negative binomial,
with alpha = `day_to_day_variation` squared: a fit estimates it from the data unless the question
states it. With weather that varies, members and casual riders respond differently, so a fit can
tell their demands apart; under the same weather every day it cannot (the intervals say so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.observables import FitParam, Observable, Observables, ObservedData
from simqa_bikeshare.model import CASUAL_RESPONSE, MEMBER_RESPONSE

WEATHER = ("temperature_c", "cloud_cover", "wind_kmh")


def expected_trips(
    base: Any, candidates: Sequence[Mapping[str, float]], interventions: Sequence[Any], data: ObservedData
) -> dict[str, np.ndarray]:
    """Expected total trips of each data row (its weather) under each candidate: (candidates, rows)."""
    weather = [data.columns.get(name, np.full(data.n_rows, float(getattr(base, name)))) for name in WEATHER]
    member_factor = np.array([MEMBER_RESPONSE.factor(*day) for day in zip(*weather, strict=True)])
    casual_factor = np.array([CASUAL_RESPONSE.factor(*day) for day in zip(*weather, strict=True)])
    member_demand, casual_demand = [], []
    for values in candidates:
        params = base.model_copy(update=dict(values))
        member_demand.append(params.members * params.member_trip_rate)
        casual_demand.append(params.casual_daily_trips)
    member = np.asarray(member_demand)[:, None] * member_factor[None, :]
    casual = np.asarray(casual_demand)[:, None] * casual_factor[None, :]
    return {"trips": member + casual}


OBSERVABLES = Observables(
    index="day",
    date_index=True,
    columns=(
        Observable("trips", "total trips of the day, members and casual riders", unit="trips", aliases=("new_trips",)),
        Observable("temperature_c", "the day's mean temperature, °C", kind="covariate", required=False),
        Observable("cloud_cover", "the day's cloud cover, 0 clear to 1 overcast", kind="covariate", required=False),
        Observable("wind_kmh", "the day's mean wind speed, km/h", kind="covariate", required=False),
    ),
    expected=expected_trips,
    dispersion_param="day_to_day_variation",
)

# Demand from a hundredth of the default to ten times it (the parameters' own bounds cap them).
FIT_PARAMS = (
    FitParam("member_trip_rate", 0.002, 5.0),
    FitParam("casual_daily_trips", 10.0, 100_000.0),
)
