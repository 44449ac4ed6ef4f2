"""The base every model's parameters derive from: strict, bounded, with replicates and seed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_REPLICATES = 1000


class ModelParams(BaseModel):
    """Parameters of one model. Subclasses add their own fields, each with bounds and a default.

    `extra="forbid"` makes an unknown key an error (it would otherwise be silently ignored and
    change the meaning of a question).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    replicates: int = Field(
        1, ge=1, le=MAX_REPLICATES, description="independent stochastic runs; their spread gives the interval"
    )
    seed: int = Field(0, ge=0, le=2**32 - 1, description="random seed; same scenario + seed = same numbers")

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data: Any) -> Any:
        """`{"r0": true}` is a mistake, not R0 = 1: only flag parameters take true / false."""
        if isinstance(data, dict):
            for name, value in data.items():
                info = cls.model_fields.get(name)
                if isinstance(value, bool) and info is not None and info.annotation is not bool:
                    raise ValueError(f"{name} must be a number, got {str(value).lower()}")
        return data
