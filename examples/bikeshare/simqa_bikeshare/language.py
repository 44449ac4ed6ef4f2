"""How people talk about the bike-share model: the words simqa reads to understand its questions.

simqa's translators, answers and explanations know nothing about bike-share on their own: this
declaration is all they read (see `sim.language` in simqa for what each field means). A question
like "how many trips in a week of 12-degree weather with a 25 km/h wind?" is understood because
"trips" names a metric, "degrees" a temperature and "km/h" next to "wind" the wind speed.
"""

from __future__ import annotations

from sim.language import Exclusion, MetricLanguage, ModelLanguage, ParamLanguage

LANGUAGE = ModelLanguage(
    names=("bikeshare", "bike share", "bike-share", "bikeshare model", "bike share model", "cycle hire"),
    words=(
        "bike",
        "bikes",
        "bike trips",
        "cycling",
        "cyclists",
        "trips",
        "rides",
        "members",
        "membership",
        "casual riders",
        "docks",
        "stations",
        "weather",
    ),
    params={
        "days": ParamLanguage(
            phrases=("days of", "run for", "simulate", "period"),
            dimension="duration",
            unit="day",
            horizon=True,
            values={"all week": 7, "the whole week": 7, "every day this week": 7, "all month": 30},
        ),
        "temperature_c": ParamLanguage(
            phrases=("temperature", "degrees", "degree", "celsius", "warm", "hot", "cold", "temperatures", "weather",
                     "degree days", "temp"),
            dimension="temperature",
            unit="degC",
            more=("warmer", "hotter"),
            less=("colder", "cooler"),
        ),
        "cloud_cover": ParamLanguage(
            phrases=("cloud cover", "cloud", "clouds", "cloudy", "cloudiness", "sky"),
            dimension="share",
            values={
                "overcast": 1.0,
                "fully overcast": 1.0,
                "grey skies": 1.0,
                "clear": 0.0,
                "clear sky": 0.0,
                "clear skies": 0.0,
                "clear days": 0.0,
                "clear ones": 0.0,
                "sunny": 0.0,
                "half cloudy": 0.5,
                "half-cloudy": 0.5,
                "partly cloudy": 0.5,
                "partly sunny": 0.5,
            },
            more=("cloudier",),
        ),
        "wind_kmh": ParamLanguage(
            phrases=("wind", "winds", "windy", "wind speed", "breeze", "gusts", "gale"),
            dimension="speed",
            unit="km/h",
            more=("windier",),
            less=("calmer",),
        ),
        "members": ParamLanguage(
            phrases=("members", "member", "membership", "subscribers", "registered users", "annual members",
                     "member base"),
            dimension="count",
            more=("grew", "grow", "grows"),
        ),
        "member_trip_rate": ParamLanguage(
            phrases=("trips per member", "member trip rate", "trips per member per day", "rides per member"),
            dimension="number",
        ),
        "casual_daily_trips": ParamLanguage(
            phrases=("casual base demand", "casual demand", "base casual demand", "casual daily trips",
                     "casual trips per day", "casual riders per day", "base demand of casual riders"),
            dimension="number",
        ),
        "day_to_day_variation": ParamLanguage(
            phrases=("day to day variation", "day-to-day variation", "variation", "variability",
                     "coefficient of variation"),
            dimension="number",
        ),
    },
    metrics={
        "total_trips": MetricLanguage(
            phrases=("trips", "total trips", "bike trips", "rides", "number of trips", "how many trips",
                     "trip count", "total rides", "ridership"),
            dimension="count",
            better="higher",
            headline=True,
        ),
        "member_trips": MetricLanguage(
            phrases=("member trips", "trips by members", "members' trips", "members ride", "members"),
            dimension="count",
            better="higher",
        ),
        "casual_trips": MetricLanguage(
            phrases=("casual trips", "trips by casual riders", "casual riders", "casual rides", "casual"),
            dimension="count",
            better="higher",
        ),
        "mean_daily_trips": MetricLanguage(
            phrases=("trips per day", "daily trips", "trips a day", "average daily trips", "mean daily trips",
                     "rides per day"),
            dimension="count",
            better="higher",
        ),
        "peak_daily_trips": MetricLanguage(
            phrases=("busiest day", "peak day", "peak daily trips", "most trips in a day", "peak"),
            dimension="count",
            better="higher",
        ),
    },
    excludes=(
        Exclusion(
            name="stations and docks",
            phrases=("dock", "docks", "docking", "station", "stations", "rebalancing", "rebalance", "empty stations",
                     "full stations", "bikes available", "runs empty", "fleet size"),
        ),
        Exclusion(
            name="rain and snow",
            phrases=("rain", "rains", "raining", "rainy", "snow", "snowing", "precipitation", "pours", "storm", "mm",
                     "drizzle", "showers"),
        ),
        Exclusion(
            name="time of day, weekdays and weekends, holidays and events",
            phrases=("weekend", "weekends", "weekday", "weekdays", "rush hour", "morning", "evening", "holiday",
                     "holidays", "events", "concert"),
        ),
        Exclusion(name="seasons and growth", phrases=("season", "seasons", "seasonal", "next year", "growth")),
        Exclusion(
            name="prices, e-bikes and competition",
            phrases=("price", "prices", "fare", "fares", "e-bikes", "ebikes", "competition", "scooters", "revenue"),
        ),
        Exclusion(name="weather forecasts", phrases=("forecast", "going to be like", "next weekend", "tomorrow")),
    ),
)
