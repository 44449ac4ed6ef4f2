"""The Answer JSON: the contract every interface (CLI --json, Python API, evals) returns."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from sim.experiments import CalibrateSpec, Difference, SweepSpec
from sim.fit import FitSpec, FittedValue, GoodnessOfFit
from sim.result import Result
from sim.scenario import Scenario

# The kinds of a Request, and "fit": a question that came with data (`Assistant.ask(..., data=...)`).
AnswerKind = Literal["simulate", "compare", "sweep", "calibrate", "explain", "clarify", "refuse", "fit"]


class ResultSummary(BaseModel):
    label: str
    metrics: dict[str, float | dict[str, float]]
    ci: dict[str, tuple[float, float]] = Field(default_factory=dict)
    run_id: str
    notes: list[str] = Field(default_factory=list)


class Citation(BaseModel):
    """A model-card chunk (`source` = `docs/models/<model>.md#parameters`) or a past run (`run_id`)."""

    source: str
    chunk_id: str | None = None
    run_id: str | None = None


class CalibrationSolution(BaseModel):
    value: float
    achieved: float
    share_meeting: float | None = None


class CalibrationSummary(BaseModel):
    """The answer of a calibration. Beyond value / achieved / met / note: every value in the range
    that meets the target (`solutions`), for a limit the stretches that meet it, the range searched,
    the replicates of every run, and for stochastic runs the share of replicates meeting the target
    at `value` (and the `probability` asked for, if any)."""

    value: float
    achieved: float
    met: bool
    note: str = ""
    solutions: list[CalibrationSolution] = Field(default_factory=list)
    meeting_ranges: list[tuple[float, float]] = Field(default_factory=list)
    lower: float | None = None
    upper: float | None = None
    replicates: int = 1
    probability: float | None = None
    share_meeting: float | None = None


class DataSummary(BaseModel):
    """The observed data a fit used: where from, how many rows, which columns, which steps."""

    source: str
    rows: int
    columns: list[str]
    step: str  # "day", "hour"
    first: int
    last: int
    first_date: str | None = None


class ForecastValue(BaseModel):
    """A metric of the fitted model run on: at the estimate, and the 95% range under the parameters' uncertainty."""

    value: float
    lower: float
    upper: float


class FitSummary(BaseModel):
    """What a fit found: each freed parameter with its 95% interval, the values held fixed, how well
    the model reproduces the data, and the forecast of the fitted model over `horizon` steps."""

    data: DataSummary
    estimates: list[FittedValue]
    fixed: dict[str, Any] = Field(default_factory=dict)
    likelihood: str
    method: str
    goodness_of_fit: GoodnessOfFit
    horizon: int
    forecast: dict[str, ForecastValue] = Field(default_factory=dict)


class Answer(BaseModel):
    question: str
    kind: AnswerKind
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
    fit: FitSpec | None = None
    fitted: FitSummary | None = None
    notes: list[str] = Field(default_factory=list)
    plot: str | None = None

    # What the Answer JSON leaves out, attached by the assistant (`with_runs`): the full results
    # (with series) behind `results`, for plots and "why?" follow-ups; how the LLM's and the offline
    # reading compared (`simqa.readings.Comparison.as_dict`, None when only one reading was made);
    # a fit's data, fitted values and forecast band (`simqa.fitting.FitRun`), for its plot.
    _full_results: list[Result] = PrivateAttr(default_factory=list)
    _readings: dict[str, Any] | None = PrivateAttr(default=None)
    _fit_run: Any = PrivateAttr(default=None)

    def with_runs(
        self, results: list[Result], *, readings: dict[str, Any] | None = None, fit_run: Any = None
    ) -> Answer:
        """This answer with the runs behind it attached (not part of the Answer JSON); returns itself."""
        self._full_results = list(results)
        self._readings = readings
        self._fit_run = fit_run
        return self

    @property
    def full_results(self) -> list[Result]:
        return self._full_results

    @property
    def readings(self) -> dict[str, Any] | None:
        return self._readings

    @property
    def fit_run(self) -> Any:
        return self._fit_run
