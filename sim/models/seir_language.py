"""How people talk about the compartmental `seir` model (see sim.language)."""

from __future__ import annotations

from sim.language import ModelLanguage
from sim.models import epidemic_language as epidemic

# "SIR", "no latent period": the model without its exposed stage (incubation_days = 0).
_NO_INCUBATION = {
    "sir": 0.0,
    "sir model": 0.0,
    "plain sir": 0.0,
    "no latent period": 0.0,
    "no incubation": 0.0,
    "no incubation period": 0.0,
    "zero incubation": 0.0,
    "no exposed stage": 0.0,
    "no exposed compartment": 0.0,
    "without an exposed stage": 0.0,
    "without a latent period": 0.0,
    "without incubation": 0.0,
    "drop the exposed stage": 0.0,
    "remove the exposed stage": 0.0,
    "without the exposed stage": 0.0,
}

LANGUAGE = ModelLanguage(
    names=(
        "seir",
        "seir model",
        "the seir one",
        "sir",
        "sir model",
        "compartmental",
        "compartmental model",
        "ode model",
        "ode",
        "well mixed model",
        "mass action model",
        "deterministic model",
        "the standard model",
    ),
    words=epidemic.WORDS,
    family="epidemic",
    rank=0,
    params={
        "population": epidemic.POPULATION,
        "r0": epidemic.R0,
        "incubation_days": epidemic.INCUBATION.model_copy(update={"values": _NO_INCUBATION}),
        "infectious_days": epidemic.INFECTIOUS,
        "initial_infected": epidemic.INITIAL,
        "days": epidemic.HORIZON,
    },
    metrics=epidemic.METRICS,
    interventions=epidemic.interventions("contact_reduction", "vaccination", "case_isolation"),
    excludes=epidemic.EXCLUDES,
    timing=epidemic.TIMING,
)
