"""A toy model with known answers, for testing the engine's machinery (not the models)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field

from sim import ModelOutput, ModelParams, ModelSpec


class ToyParams(ModelParams):
    rate: float = Field(1.0, ge=0, le=10)
    servers: int = Field(5, ge=1, le=100)
    noise: float = Field(0.0, ge=0, le=1)


def run(params: Any, interventions: Sequence[Any]) -> ModelOutput:
    """level = rate * 10 / servers (+ replicate noise); reduction scales it by 1 - effectiveness."""
    rng = np.random.default_rng(params.seed)
    scale = 1.0
    for iv in interventions:
        scale *= 1 - iv.effectiveness
    noise = rng.normal(0, params.noise, params.replicates)
    level = params.rate * 10 / params.servers * scale + noise
    return ModelOutput(
        metrics={"level": level, "double": 2 * level},
        series={"value": np.outer(level, np.ones(5))},
    )


SPEC = ModelSpec(
    name="toy",
    params=ToyParams,
    run=run,
    description="a toy model for engine tests",
    metrics=("level", "double"),
    interventions=frozenset({"contact_reduction"}),
    work=lambda p: p.replicates * 10,
    stochastic=lambda p: p.noise > 0,
)
