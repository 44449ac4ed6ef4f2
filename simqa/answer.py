"""The Answer JSON: the contract every interface (CLI --json, Python API, evals) returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from sim.experiments import CalibrateSpec, Difference, SweepSpec
from sim.result import Result
from sim.scenario import Scenario
from simqa.request import Kind


class ResultSummary(BaseModel):
    label: str
    metrics: dict[str, float | dict[str, float]]
    ci: dict[str, tuple[float, float]] = Field(default_factory=dict)
    run_id: str
    notes: list[str] = Field(default_factory=list)


class Citation(BaseModel):
    """A model-card chunk (`source` = `docs/models/seir.md#parameters`) or a past run (`run_id`)."""

    source: str
    chunk_id: str | None = None
    run_id: str | None = None


class CalibrationSummary(BaseModel):
    value: float
    achieved: float
    met: bool
    note: str = ""


class Answer(BaseModel):
    question: str
    kind: Kind
    model: str | None = None
    scenarios: list[Scenario] = Field(default_factory=list)
    sweep: SweepSpec | None = None
    calibrate: CalibrateSpec | None = None
    results: list[ResultSummary] = Field(default_factory=list)
    text: str
    citations: list[Citation] = Field(default_factory=list)
    translator: str
    timings_ms: dict[str, float] = Field(default_factory=dict)
    usage: dict[str, int] = Field(default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0})
    differences: list[Difference] = Field(default_factory=list)
    calibration: CalibrationSummary | None = None
    notes: list[str] = Field(default_factory=list)
    plot: str | None = None

    # The full results (with series) behind `results`, for plots; not part of the Answer JSON.
    _full_results: list[Result] = PrivateAttr(default_factory=list)
    # How the LLM's and the offline reading compared (`simqa.readings.Comparison.as_dict`), for the
    # LLM eval; None when only one reading was made. Not part of the Answer JSON.
    _readings: dict[str, Any] | None = PrivateAttr(default=None)

    @property
    def readings(self) -> dict[str, Any] | None:
        return self._readings

    @property
    def full_results(self) -> list[Result]:
        return self._full_results
