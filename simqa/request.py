"""What a translator produces from a question: the `Request` (the question's part of the Answer JSON)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.experiments import CalibrateSpec, SweepSpec
from sim.scenario import Scenario

Kind = Literal["simulate", "compare", "sweep", "calibrate", "explain", "clarify", "refuse"]
RUN_KINDS: tuple[str, ...] = ("simulate", "compare", "sweep", "calibrate")


class Request(BaseModel):
    """A question translated: which kind of answer, which model, which scenarios to run.

    simulate: one scenario; compare: two or more, the first the baseline; sweep: one base scenario
    plus `sweep`; calibrate: one base scenario plus `calibrate`; explain / clarify / refuse: no
    scenarios, and `message` holds the topic, the one clarifying question, or the reason to refuse.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    model: str | None = None
    scenarios: list[Scenario] = Field(default_factory=list)
    sweep: SweepSpec | None = None
    calibrate: CalibrateSpec | None = None
    message: str | None = Field(None, max_length=2000)
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shape(self) -> Request:
        n = len(self.scenarios)
        need = {"simulate": n == 1, "compare": n >= 2, "sweep": n == 1, "calibrate": n == 1}
        if self.kind in need and not need[self.kind]:
            raise ValueError(
                f"kind {self.kind!r} needs "
                + (
                    "two or more scenarios (the first is the baseline)"
                    if self.kind == "compare"
                    else "exactly one scenario"
                )
                + f", got {n}"
            )
        if self.kind in ("explain", "clarify", "refuse") and n:
            raise ValueError(f"kind {self.kind!r} runs nothing: scenarios must be empty")
        if self.kind == "sweep" and self.sweep is None:
            raise ValueError("kind 'sweep' needs the sweep field {param, values}")
        if self.kind == "calibrate" and self.calibrate is None:
            raise ValueError("kind 'calibrate' needs the calibrate field {param, metric, target, relation}")
        if self.kind in ("clarify", "refuse") and not self.message:
            raise ValueError(f"kind {self.kind!r} needs a message (the question to ask, or the reason)")
        if self.kind in RUN_KINDS:
            models = {s.model for s in self.scenarios}
            if len(models) > 1:
                raise ValueError(f"all scenarios must use one model, got {sorted(models)}")
            if self.model is None:
                self.model = next(iter(models))
            elif models != {self.model}:
                raise ValueError(f"model {self.model!r} differs from the scenarios' model {sorted(models)}")
        return self
