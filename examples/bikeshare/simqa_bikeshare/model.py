"""Daily bike-share trips of members and casual riders under a given weather.

Every day of the run has the same weather (the scenario's temperature, cloud cover and wind).
The expected trips of each rider group on a day are its demand on a reference day, multiplied by
three weather response curves (temperature, cloud, wind), each equal to 1 at the reference
weather (25 °C, clear sky, wind at most 10 km/h). Casual riders ride for leisure and can choose
another day, so their curves fall much more steeply than members', who ride to get somewhere.

A day-level demand multiplier, gamma distributed with mean 1 and coefficient of variation
`day_to_day_variation`, stands for what the model leaves out (weekday or weekend, events,
holidays); it is shared by both groups on the same day. Given it, each group's trips are a
Poisson draw, so each group's daily count is negative binomial overall.

The curves are shaped in the spirit of the Capital Bikeshare data of 2011-2012 published as the
UCI "Bike Sharing Dataset" (Fanaee-T & Gama 2014, Progress in Artificial Intelligence 2:113-127);
they are not a regression fitted to it, and no data ships with this package. The model card
(card.md, beside this file) states the anchor points and the limits of validity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from sim import ModelOutput, ModelParams

# Temperature at which demand peaks: the daily counts of the UCI data are highest on days with a
# normalised temperature of 0.6-0.75, i.e. 20-27 °C, since the dataset's readme normalises with
# t_min = -8 °C and t_max = +39 °C (Fanaee-T & Gama 2014).
OPTIMAL_TEMPERATURE_C = 25.0

# The temperature range the dataset covers (its normalisation bounds); outside it the curves extrapolate.
DATA_TEMPERATURE_RANGE_C = (-8.0, 39.0)
# The dataset normalises wind speed by its maximum, 67 km/h; stronger winds are extrapolation.
DATA_MAX_WIND_KMH = 67.0

# Wind up to a light breeze (Beaufort force 2, 6-11 km/h) is taken to leave demand unchanged.
CALM_WIND_KMH = 10.0


@dataclass(frozen=True)
class WeatherResponse:
    """How one rider group's demand responds to the weather; every curve is 1 at the reference weather.

    temperature: asymmetric Gaussian around OPTIMAL_TEMPERATURE_C, with one width below the optimum
      and another above it.
    cloud: linear, 1 - cloud_drop x cloud_cover.
    wind: exponential decay per km/h above CALM_WIND_KMH.
    """

    cold_width_c: float
    hot_width_c: float
    overcast_drop: float
    wind_decay_per_kmh: float

    def temperature_factor(self, temperature_c: float) -> float:
        width = self.cold_width_c if temperature_c < OPTIMAL_TEMPERATURE_C else self.hot_width_c
        return float(np.exp(-0.5 * ((temperature_c - OPTIMAL_TEMPERATURE_C) / width) ** 2))

    def cloud_factor(self, cloud_cover: float) -> float:
        return 1.0 - self.overcast_drop * cloud_cover

    def wind_factor(self, wind_kmh: float) -> float:
        return float(np.exp(-self.wind_decay_per_kmh * max(0.0, wind_kmh - CALM_WIND_KMH)))

    def factor(self, temperature_c: float, cloud_cover: float, wind_kmh: float) -> float:
        """Share of reference-day demand that remains in this weather."""
        return self.temperature_factor(temperature_c) * self.cloud_factor(cloud_cover) * self.wind_factor(wind_kmh)


# Members. Anchors read off the daily counts of the UCI data (Fanaee-T & Gama 2014), as ratios of
# monthly means; they are readings, not a fit. Cold width 18 °C: registered users' January 2012
# mean (about 5 °C) is 0.53 of their June 2012 mean (about 24 °C). Hot width 10 °C: on the
# heat-wave days of July 2011 and 2012 (daily mean about 32 °C) registered trips were about 0.7-0.8 of
# comparable days. Overcast drop 0.14: misty or cloudy days (weathersit 2) have about 0.86 of the
# registered trips of clear days (weathersit 1). Wind decay 0.005 per km/h: windy days (about
# 28 km/h) kept about 0.9 of the registered trips of calm days of similar temperature.
MEMBER_RESPONSE = WeatherResponse(cold_width_c=18.0, hot_width_c=10.0, overcast_drop=0.14, wind_decay_per_kmh=0.005)

# Casual riders, same data and readings. Cold width 11 °C: January 2012 casual trips were 0.20 of
# June 2012 (and January 2011 0.10 of June 2011, at about 1.5 °C). Hot width 7 °C: about 0.5-0.6 of
# comparable days at a 32 °C daily mean. Overcast drop 0.29: cloudy days have about 0.71 of the
# casual trips of clear days. Wind decay 0.02 per km/h: windy days kept about 0.5-0.8 of the casual
# trips of calm days (0.70 at 28 km/h here).
CASUAL_RESPONSE = WeatherResponse(cold_width_c=11.0, hot_width_c=7.0, overcast_drop=0.29, wind_decay_per_kmh=0.02)


class BikeshareParams(ModelParams):
    """Parameters of the bike-share demand model. Temperatures in °C, wind in km/h, demand in trips per day."""

    days: int = Field(
        30,  # rationale: a month, the horizon operators plan rebalancing and staffing for
        ge=1,
        le=3650,  # ten years, the horizon limit of the built-in models
        description="number of days simulated, all with the same weather",
    )
    temperature_c: float = Field(
        25.0,  # the reference temperature at which demand peaks (OPTIMAL_TEMPERATURE_C, Fanaee-T & Gama 2014)
        ge=-30,
        le=45,
        description="daily mean air temperature, °C; demand peaks at 25 °C and falls on both sides",
    )
    cloud_cover: float = Field(
        0.0,  # the reference clear sky at which base demand is defined
        ge=0,
        le=1,
        description="share of the sky covered by cloud (0 clear, 1 overcast); rain is not modelled",
    )
    wind_kmh: float = Field(
        10.0,  # light breeze, Beaufort 2; near the 2011-2012 mean of about 13 km/h in the UCI data
        ge=0,
        le=120,
        description="daily mean wind speed, km/h; winds up to 10 km/h do not change demand",
    )
    members: int = Field(
        20000,  # rationale: a city system of Capital Bikeshare's size in 2011-2012 (order of magnitude)
        ge=0,
        le=10_000_000,
        description="number of members (annual subscribers) of the system",
    )
    member_trip_rate: float = Field(
        0.2,  # with 20,000 members: ~4,000 member trips a day, registered users' summer-2011 level (Fanaee-T & Gama 2014)
        ge=0,
        le=5,
        description="trips per member per day in reference weather (25 °C, clear, calm)",
    )
    casual_daily_trips: float = Field(
        1000.0,  # ~1,000 casual trips on warm clear days of 2011 in the UCI data (Fanaee-T & Gama 2014)
        ge=0,
        le=1_000_000,
        description="trips by casual (non-member) riders on a day of reference weather",
    )
    day_to_day_variation: float = Field(
        0.1,  # daily totals of the clear days of June 2012 in the UCI data vary with a CV of about 0.1 (Fanaee-T & Gama 2014)
        ge=0,
        le=2,
        description="coefficient of variation of the daily demand multiplier shared by all riders; 0 = pure Poisson",
    )


def expected_daily_trips(params: BikeshareParams) -> tuple[float, float]:
    """Mean (member, casual) trips on one day of the scenario's weather."""
    weather = (params.temperature_c, params.cloud_cover, params.wind_kmh)
    member_mean = params.members * params.member_trip_rate * MEMBER_RESPONSE.factor(*weather)
    casual_mean = params.casual_daily_trips * CASUAL_RESPONSE.factor(*weather)
    return member_mean, casual_mean


def _weather_notes(params: BikeshareParams) -> list[str]:
    notes = []
    low, high = DATA_TEMPERATURE_RANGE_C
    if not low <= params.temperature_c <= high:
        notes.append(
            f"temperature {params.temperature_c:g} °C is outside {low:g}..{high:g} °C, the range of the data "
            "the response curves were shaped on; the result is an extrapolation"
        )
    if params.wind_kmh > DATA_MAX_WIND_KMH:
        notes.append(
            f"wind {params.wind_kmh:g} km/h is above {DATA_MAX_WIND_KMH:g} km/h, the strongest daily wind in the "
            "data the curves were shaped on; the result is an extrapolation"
        )
    return notes


def run(params: BikeshareParams, interventions: Sequence[Any] = ()) -> ModelOutput:
    """Simulate `params.days` days for `params.replicates` replicates at once (arrays of shape (replicates, days))."""
    rng = np.random.default_rng(np.random.SeedSequence(params.seed))
    shape = (params.replicates, params.days)
    variation = params.day_to_day_variation
    if variation > 0:
        # gamma with mean 1 and coefficient of variation `variation`: shape 1/cv^2, scale cv^2
        day_multiplier = rng.gamma(shape=1.0 / variation**2, scale=variation**2, size=shape)
    else:
        day_multiplier = np.ones(shape)
    member_mean, casual_mean = expected_daily_trips(params)
    new_member_trips = rng.poisson(member_mean * day_multiplier)
    new_casual_trips = rng.poisson(casual_mean * day_multiplier)
    new_trips = new_member_trips + new_casual_trips

    member_trips = new_member_trips.sum(axis=1)
    casual_trips = new_casual_trips.sum(axis=1)
    total_trips = member_trips + casual_trips
    metrics = {
        "total_trips": total_trips.astype(float),
        "member_trips": member_trips.astype(float),
        "casual_trips": casual_trips.astype(float),
        "mean_daily_trips": total_trips / params.days,
        "peak_daily_trips": new_trips.max(axis=1).astype(float),
    }
    series = {
        "new_trips": new_trips.astype(float),
        "new_member_trips": new_member_trips.astype(float),
        "new_casual_trips": new_casual_trips.astype(float),
    }
    return ModelOutput(metrics=metrics, series=series, notes=_weather_notes(params))


METRICS = ("total_trips", "member_trips", "casual_trips", "mean_daily_trips", "peak_daily_trips")


def work(params: BikeshareParams) -> float:
    """Work units for the resource cap: replicate-days (each costs a few random draws)."""
    return float(params.days * params.replicates)
