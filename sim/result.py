"""The result of one scenario: summary metrics, intervals over replicates, mean series, metadata."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from pydantic import BaseModel, Field

from sim.output import ModelOutput
from sim.scenario import ResolvedScenario, Scenario
from sim.version import ENGINE_VERSION

INTERVAL_LEVEL = 0.95  # central share of replicates inside `ci`


class RunMeta(BaseModel):
    engine_version: str = ENGINE_VERSION
    seed: int
    replicates: int
    wall_ms: float
    created_at: str
    executor: str = "in-process"
    cached: bool = False


class Result(BaseModel):
    """Summary of one run.

    metrics: mean over replicates (a breakdown such as `infections_by_setting` is a nested dict),
      and values of the replicates together (`major_outbreak_probability`), which have no
      per-replicate values
    ci: for replicates > 1, the central 95% range of the replicate values of each scalar metric:
      the spread of outcomes the model's randomness gives, not only the uncertainty of the mean;
      for a value of the replicates together, its own interval (a probability's 95% CI)
    replicate_metrics: each replicate's value, kept so experiments can pair replicates
    series: mean over replicates of each series, one value per step (`time_unit`)
    """

    label: str
    run_id: str
    scenario: Scenario
    metrics: dict[str, float | dict[str, float]]
    ci: dict[str, tuple[float, float]] = Field(default_factory=dict)
    replicate_metrics: dict[str, list[float]] = Field(default_factory=dict)
    series: dict[str, list[float]] = Field(default_factory=dict)
    time_unit: str = "day"
    notes: list[str] = Field(default_factory=list)
    meta: RunMeta

    def scalar(self, name: str) -> float:
        value = self.metrics[name]
        if isinstance(value, dict):
            raise KeyError(f"{name} is a breakdown, not a scalar metric")
        return float(value)


def _clean(x: float) -> float:
    x = float(x)
    return round(x, 10) if np.isfinite(x) else x


def summarise(resolved: ResolvedScenario, output: ModelOutput, wall_ms: float) -> Result:
    tail = (1 - INTERVAL_LEVEL) / 2 * 100
    metrics: dict[str, float | dict[str, float]] = {}
    ci: dict[str, tuple[float, float]] = {}
    per_rep: dict[str, list[float]] = {}
    for name, values in output.metrics.items():
        arr = np.asarray(values, dtype=float).reshape(-1)
        metrics[name] = _clean(arr.mean())
        per_rep[name] = [_clean(v) for v in arr]
        if arr.size > 1:
            lo, hi = np.percentile(arr, [tail, 100 - tail])
            ci[name] = (_clean(lo), _clean(hi))
    for name, value in output.run_metrics.items():
        metrics[name] = _clean(value)
        if name in output.run_intervals:
            lo, hi = output.run_intervals[name]
            ci[name] = (_clean(lo), _clean(hi))
    for name, parts in output.breakdowns.items():
        metrics[name] = {k: _clean(np.asarray(v, dtype=float).mean()) for k, v in parts.items()}
    series = {}
    for name, values in output.series.items():
        arr = np.asarray(values, dtype=float)
        mean = arr.mean(axis=0) if arr.ndim == 2 else arr
        series[name] = [_clean(v) for v in mean]
    return Result(
        label=resolved.label,
        run_id=resolved.run_id(),
        scenario=resolved.to_scenario(),
        metrics=metrics,
        ci=ci,
        replicate_metrics=per_rep,
        series=series,
        time_unit=resolved.spec.time_unit,
        notes=list(output.notes),
        meta=RunMeta(
            seed=resolved.params.seed,
            replicates=resolved.params.replicates,
            wall_ms=round(wall_ms, 3),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        ),
    )
