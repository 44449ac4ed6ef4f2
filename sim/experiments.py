"""Experiments over scenarios: compare, sweep, calibrate.

compare: every scenario runs with the same seed, and the models draw their random numbers from
streams that do not depend on the parameters or interventions, so differences between scenarios
are effects, not noise (common random numbers). Differences come with a 95% interval of the mean
paired difference over replicates.
sweep: one parameter or one intervention field over values; the seir ODE sweeps in one
vectorised call.
calibrate (sim/calibration.py): the values of one parameter that meet a metric target.

A comparison or sweep of a stochastic model runs several replicates of every scenario unless the
scenario states `replicates` (`sim.replication`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sim.calibration import CalibrateSpec, CalibrationOutcome, CalibrationSolution, Relation, calibrate
from sim.caps import MAX_COMPARE_SCENARIOS, MAX_SWEEP_VALUES, check_count, check_work
from sim.errors import ScenarioError
from sim.executors import Executor, Progress
from sim.replication import plan_replicates
from sim.result import Result
from sim.runner import RunCache, prepare, run_all
from sim.scenario import ResolvedScenario, Scenario, parse_scenario
from sim.target import Target

__all__ = [
    "CalibrateSpec",
    "CalibrationOutcome",
    "CalibrationSolution",
    "CompareOutcome",
    "Difference",
    "Relation",
    "SweepSpec",
    "calibrate",
    "compare",
    "differences",
    "sweep",
]


class SweepSpec(BaseModel):
    """One parameter (`r0`) or one intervention field (`contact_reduction.effectiveness`) over values."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    param: str
    values: list[int | float] = Field(min_length=1, max_length=MAX_SWEEP_VALUES)


class Difference(BaseModel):
    """Scenario minus baseline for one metric; `ci` is the 95% interval of the mean paired difference."""

    label: str
    metric: str
    baseline: float
    value: float
    difference: float
    relative: float | None
    ci: tuple[float, float] | None = None


class CompareOutcome(BaseModel):
    results: list[Result]
    differences: list[Difference]


def _scalar_metrics(result: Result) -> list[str]:
    """The metrics a paired difference can be taken of: scalars with a value per replicate."""
    return [k for k, v in result.metrics.items() if not isinstance(v, dict) and k in result.replicate_metrics]


def _paired_difference(base: list[float], other: list[float]) -> tuple[float, tuple[float, float] | None]:
    diffs = np.asarray(other, dtype=float) - np.asarray(base, dtype=float)
    mean = float(diffs.mean())
    if diffs.size < 2:
        return mean, None
    sd = float(diffs.std(ddof=1))
    if sd == 0.0:
        return mean, (mean, mean)
    from scipy.special import stdtrit  # Student's t quantile (what scipy.stats.t.ppf calls), without scipy.stats

    half = float(stdtrit(diffs.size - 1, 0.975)) * sd / math.sqrt(diffs.size)
    return mean, (mean - half, mean + half)


def differences(results: Sequence[Result]) -> list[Difference]:
    """Each scenario after the first against the first (the baseline), metric by metric."""
    base = results[0]
    out = []
    for res in results[1:]:
        for metric in _scalar_metrics(base):
            if metric not in res.replicate_metrics:
                continue
            b, v = base.scalar(metric), res.scalar(metric)
            diff, ci = _paired_difference(base.replicate_metrics[metric], res.replicate_metrics[metric])
            out.append(
                Difference(
                    label=res.label,
                    metric=metric,
                    baseline=b,
                    value=v,
                    difference=diff,
                    relative=(diff / b) if b != 0 else None,
                    ci=ci,
                )
            )
    return out


def _prepare_all(
    scenarios: Sequence[Scenario | dict[str, Any]], replicates: int | None, seed: int | None
) -> list[ResolvedScenario]:
    resolved = [prepare(s, replicates, seed) for s in scenarios]
    check_work(sum(r.spec.work_units(r.params) for r in resolved), "this experiment")
    return resolved


def compare(
    scenarios: Sequence[Scenario | dict[str, Any]],
    replicates: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    cache: RunCache | None = None,
    keep_series: bool = True,
) -> CompareOutcome:
    """Run scenarios on common random numbers; the first is the baseline.

    keep_series=False: results carry metrics only (less to ship back from a cluster).
    """
    if len(scenarios) < 2:
        raise ScenarioError("compare needs at least two scenarios (the first is the baseline)", field="scenarios")
    check_count(len(scenarios), MAX_COMPARE_SCENARIOS, "scenarios")
    parsed = [parse_scenario(s) for s in scenarios]
    labels = [s.label for s in parsed]
    if len(set(labels)) != len(labels):
        raise ScenarioError(f"scenario labels must be distinct, got {labels}", field="scenarios.label")
    # One seed for all: common random numbers. Take the baseline's when none is given.
    shared_seed = seed if seed is not None else int(parsed[0].params.get("seed", 0))
    shared_reps = plan_replicates(parsed[0], replicates, "comparison", runs=len(parsed)).replicates
    if shared_reps is None:
        shared_reps = parsed[0].params.get("replicates")
    resolved = _prepare_all(parsed, shared_reps, shared_seed)
    results = run_all(resolved, executor, progress, cache, keep_series)
    return CompareOutcome(results=results, differences=differences(results))


def sweep(
    scenario: Scenario | dict[str, Any],
    spec: SweepSpec,
    replicates: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    cache: RunCache | None = None,
    keep_series: bool = True,
) -> list[Result]:
    """One result per value, labelled `param=value`; keep_series=False as in `compare`. The seir ODE
    runs the whole sweep in one vectorised call."""
    base = parse_scenario(scenario)
    check_count(len(spec.values), MAX_SWEEP_VALUES, "sweep values")
    target = Target.parse(spec.param, prepare(base).spec, "sweep")
    variants = [
        target.apply(base, _whole_value(target, value)).model_copy(update={"label": target.label(value)})
        for value in spec.values
    ]
    plan = plan_replicates(base, replicates, "sweep", runs=len(variants))
    resolved = _prepare_all(variants, plan.replicates, seed)
    return run_all(resolved, executor, progress, cache, keep_series, vectorise=True)


def _whole_value(target: Target, value: float) -> float:
    if target.whole and not float(value).is_integer():
        raise ScenarioError(f"{target.path} takes whole numbers, got {value}", field="sweep.values", value=value)
    return value


def check_target(scenario: Scenario, param: str, role: str) -> None:
    """A `ScenarioError` unless `param` names a parameter or intervention field a sweep or calibration can vary."""
    from sim.scenario import resolve

    Target.parse(param, resolve(scenario).spec, role)


def with_value(scenario: Scenario, param: str, value: float) -> Scenario:
    """The scenario with `param` (a parameter or `type.field`) set to `value` (`Target.apply`)."""
    return Target.parse(param, scenario.model).apply(scenario, value)
