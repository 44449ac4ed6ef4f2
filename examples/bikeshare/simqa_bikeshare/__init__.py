"""simqa-bikeshare: an example simqa model plugin (daily bike-share trips under the weather).

simqa discovers it through the entry point `bikeshare = "simqa_bikeshare:SPEC"` in the group
`simqa.models`; from then on `bikeshare` is validated, run, cached, retrieved and evaluated like
the built-in models. Everything a model needs is here: strict parameters (`BikeshareParams`), a
run function, the language people use about it (`LANGUAGE`), and the `ModelSpec` that ties them
to the model card shipped beside this file.
"""

from __future__ import annotations

from pathlib import Path

from sim import ModelSpec
from simqa_bikeshare.language import LANGUAGE
from simqa_bikeshare.model import METRICS, BikeshareParams, expected_daily_trips, run, work
from simqa_bikeshare.observed import FIT_PARAMS, OBSERVABLES

SPEC = ModelSpec(
    name="bikeshare",
    params=BikeshareParams,
    run=run,
    description=(
        "Bike-share demand: daily trips of members and casual riders under a given temperature, cloud "
        "cover and wind; casual riders stay home in weather members still ride in. Trip totals, mean "
        "and peak daily trips."
    ),
    metrics=METRICS,
    card=Path(__file__).resolve().parent / "card.md",
    interventions=frozenset(),
    breakdowns=(),
    time_unit="day",
    work=work,
    observables=OBSERVABLES,
    fit_params=FIT_PARAMS,
    language=LANGUAGE,
)

__all__ = ["SPEC", "BikeshareParams", "expected_daily_trips", "run"]
