"""Experiments over scenarios: compare, sweep, calibrate.

compare: every scenario runs with the same seed, and the models draw their random numbers from
streams that do not depend on the parameters or interventions, so differences between scenarios
are effects, not noise (common random numbers). Differences come with a 95% interval of the mean
paired difference over replicates.
sweep: one parameter or one intervention field over values; the seir ODE sweeps in one
vectorised call.
calibrate: the value of one parameter that meets a metric target (`eq`, `le`, `ge`), by bracketing
and Brent's method (or bisection for integer parameters), on common random numbers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sim.caps import MAX_CALIBRATION_RUNS, MAX_COMPARE_SCENARIOS, MAX_SWEEP_VALUES, check_count, check_work
from sim.errors import ScenarioError
from sim.executors import Executor, Progress
from sim.interventions import INTERVENTION_TYPES
from sim.result import Result, summarise
from sim.runner import RunCache, cached, prepare, run_all
from sim.scenario import ResolvedScenario, Scenario, describe_allowed, parse_scenario

Relation = Literal["eq", "le", "ge"]


class SweepSpec(BaseModel):
    """One parameter (`r0`) or one intervention field (`contact_reduction.effectiveness`) over values."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    param: str
    values: list[int | float] = Field(min_length=1, max_length=MAX_SWEEP_VALUES)


class CalibrateSpec(BaseModel):
    """Find the value of `param` at which `metric` meets `target` (`eq`, or `le` / `ge` as a limit)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    param: str
    metric: str
    target: float
    relation: Relation = "eq"
    lower: float | None = None
    upper: float | None = None


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


class CalibrationOutcome(BaseModel):
    """`results` are the runs of the search in order; `value` is the answer when `met`, else the closest."""

    results: list[Result]
    param: str
    metric: str
    target: float
    relation: Relation
    value: float
    achieved: float
    met: bool
    note: str


def _scalar_metrics(result: Result) -> list[str]:
    return [k for k, v in result.metrics.items() if not isinstance(v, dict)]


def _paired_difference(base: list[float], other: list[float]) -> tuple[float, tuple[float, float] | None]:
    diffs = np.asarray(other, dtype=float) - np.asarray(base, dtype=float)
    mean = float(diffs.mean())
    if diffs.size < 2:
        return mean, None
    sd = float(diffs.std(ddof=1))
    if sd == 0.0:
        return mean, (mean, mean)
    from scipy import stats

    half = float(stats.t.ppf(0.975, diffs.size - 1)) * sd / math.sqrt(diffs.size)
    return mean, (mean - half, mean + half)


def differences(results: Sequence[Result]) -> list[Difference]:
    """Each scenario after the first against the first (the baseline), metric by metric."""
    base = results[0]
    out = []
    for res in results[1:]:
        for metric in _scalar_metrics(base):
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
    shared_reps = replicates if replicates is not None else parsed[0].params.get("replicates")
    resolved = _prepare_all(parsed, shared_reps, shared_seed)
    results = run_all(resolved, executor, progress, cache, keep_series)
    return CompareOutcome(results=results, differences=differences(results))


def _with_value(scenario: Scenario, param: str, value: float) -> Scenario:
    """A copy of `scenario` with one model parameter or intervention field (checked by
    `_target_field`) set to `value`; an intervention the scenario lacks is added with its defaults."""
    if "." in param:
        iv_type, _, field = param.partition(".")
        if not any(iv.type == iv_type for iv in scenario.interventions):
            interventions = [*scenario.interventions, INTERVENTION_TYPES[iv_type].model_validate({field: value})]
        else:
            interventions = [
                iv.model_validate({**iv.model_dump(), field: value}) if iv.type == iv_type else iv
                for iv in scenario.interventions
            ]
        return scenario.model_copy(update={"interventions": interventions})
    return scenario.model_copy(update={"params": {**scenario.params, param: value}})


def _format_value(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


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
    """One result per value, labelled `param=value`; keep_series=False as in `compare`."""
    base = parse_scenario(scenario)
    check_count(len(spec.values), MAX_SWEEP_VALUES, "sweep values")
    cls, field = _target_field(prepare(base).spec.params, spec.param, "sweep")
    whole = _is_int(cls.model_fields[field].annotation)
    variants = []
    for value in spec.values:
        if whole and not float(value).is_integer():
            raise ScenarioError(f"{spec.param} takes whole numbers, got {value}", field="sweep.values", value=value)
        variant = _with_value(base, spec.param, int(value) if whole else value)
        variants.append(variant.model_copy(update={"label": f"{spec.param}={_format_value(value)}"}))
    resolved = _prepare_all(variants, replicates, seed)
    model = resolved[0].spec
    if model.batch_run is not None and "." not in spec.param and all(r.params.replicates == 1 for r in resolved):
        # One vectorised solve of the values not in the cache; each result is stored like any run,
        # so every run id a sweep answers with can be looked up later.
        results = [cached(r, cache) for r in resolved]
        todo = [i for i, res in enumerate(results) if res is None]
        if todo:
            start = time.perf_counter()
            outputs = model.batch_run([resolved[i].params for i in todo], resolved[0].interventions)
            wall_ms = (time.perf_counter() - start) * 1000 / len(todo)
            for i, output in zip(todo, outputs, strict=True):
                result = summarise(resolved[i], output, wall_ms)
                results[i] = result
                if cache is not None:
                    cache.put(result)
        if progress is not None:
            progress(len(resolved), len(resolved))
        return [r for r in results if r is not None]
    return run_all(resolved, executor, progress, cache, keep_series)


def _bounds(params_cls: Any, field: str, spec: CalibrateSpec) -> tuple[float, float]:
    info = params_cls.model_fields[field]
    lo, hi = -math.inf, math.inf
    for meta in info.metadata:
        if getattr(meta, "ge", None) is not None:
            lo = float(meta.ge)
        if getattr(meta, "gt", None) is not None:
            lo = float(meta.gt) + (1 if _is_int(info.annotation) else 1e-3)
        if getattr(meta, "le", None) is not None:
            hi = float(meta.le)
        if getattr(meta, "lt", None) is not None:
            hi = float(meta.lt) - (1 if _is_int(info.annotation) else 1e-3)
    if spec.lower is not None:
        lo = max(lo, spec.lower)
    if spec.upper is not None:
        hi = min(hi, spec.upper)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise ScenarioError(
            f"cannot calibrate {spec.param!r}: give finite search bounds (lower < upper); "
            f"the parameter allows {describe_allowed(params_cls, field)}",
            field="calibrate.param",
            value=spec.param,
        )
    return lo, hi


def calibrate(
    scenario: Scenario | dict[str, Any],
    spec: CalibrateSpec,
    replicates: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    cache: RunCache | None = None,
    executor: Executor | None = None,
) -> CalibrationOutcome:
    """Search `spec.param` so that `spec.metric` meets the target; assumes the metric is monotone in it.

    The search is sequential (each step depends on the last); every run goes through `executor`,
    and the two ends of the bracket run together.
    """
    base = parse_scenario(scenario)
    first = prepare(base, replicates, seed)
    bounds_cls, field = _target_field(first.spec.params, spec.param, "calibrate")
    if spec.metric not in first.spec.metrics:
        allowed = ", ".join(first.spec.metrics)
        raise ScenarioError(
            f"unknown metric {spec.metric!r} for model {first.spec.name!r}; allowed: {allowed}",
            field="calibrate.metric",
            value=spec.metric,
            allowed=allowed,
        )
    is_int = _is_int(bounds_cls.model_fields[field].annotation)
    lo, hi = _bounds(bounds_cls, field, spec)
    if is_int:
        lo, hi = math.ceil(lo), math.floor(hi)
    runs: dict[float, Result] = {}
    order: list[Result] = []

    def run_at(xs: list[float]) -> None:
        """Run the values not run yet, together (they are independent)."""
        new = [x for x in dict.fromkeys(round(x) if is_int else float(x) for x in xs) if x not in runs]
        if len(order) + len(new) > MAX_CALIBRATION_RUNS:
            raise _SearchBudget
        variants = [
            _with_value(base, spec.param, x).model_copy(update={"label": f"{spec.param}={_format_value(x)}"})
            for x in new
        ]
        fresh = run_all([prepare(v, replicates, seed) for v in variants], executor, None, cache) if new else []
        for x, res in zip(new, fresh, strict=True):
            runs[x] = res
            order.append(res)
            if progress is not None:
                progress(len(order), MAX_CALIBRATION_RUNS)

    def metric_at(x: float) -> float:
        x = round(x) if is_int else float(x)
        run_at([x])
        return runs[x].scalar(spec.metric)

    def meets(value: float) -> bool:
        if spec.relation == "le":
            return value <= spec.target + 1e-9
        if spec.relation == "ge":
            return value >= spec.target - 1e-9
        return abs(value - spec.target) <= _eq_tolerance(spec.target)

    run_at([lo, hi])
    f_lo, f_hi = metric_at(lo) - spec.target, metric_at(hi) - spec.target
    note = ""
    try:
        if spec.relation == "eq" and (f_lo == 0 or f_hi == 0 or (f_lo < 0) != (f_hi < 0)):
            value = _solve_eq(metric_at, spec.target, lo, hi, is_int)
        elif spec.relation != "eq" and meets(f_lo + spec.target) != meets(f_hi + spec.target):
            # A limit: the boundary between the values that meet it and those that do not, by
            # bisection on "meets" (robust where the metric is flat or jumps), on the side that meets it.
            value = _boundary(lambda x: meets(metric_at(x)), lo, hi, is_int)
        else:
            # The target is not crossed within the bounds: report the end that comes closest.
            value = lo if abs(f_lo) <= abs(f_hi) else hi
        achieved = metric_at(value)
        met = meets(achieved)
        name = _metric_words(spec.metric)
        if not met and spec.relation == "eq" and (f_lo < 0) != (f_hi < 0):
            note = f"the closest achievable {name} is {achieved:.4g} at {spec.param} {_format_value(value)}" + (
                " (whole values only)" if is_int else ""
            )
        elif not met:
            low, high = sorted((metric_at(lo), metric_at(hi)))
            note = (
                f"no {spec.param} between {_format_value(lo)} and {_format_value(hi)} gives a {name} "
                f"{_relation_words(spec.relation)} {spec.target:g}: it ranges from {low:.4g} to {high:.4g}; "
                f"the closest is {achieved:.4g} at {spec.param} {_format_value(value)}"
            )
        elif spec.relation != "eq" and meets(f_lo + spec.target) and meets(f_hi + spec.target):
            note = f"every {spec.param} between {_format_value(lo)} and {_format_value(hi)} meets the target"
    except _SearchBudget:
        best = min(runs, key=lambda x: abs(runs[x].scalar(spec.metric) - spec.target))
        value, achieved, met = best, runs[best].scalar(spec.metric), False
        note = f"the search stopped after {MAX_CALIBRATION_RUNS} runs; the closest {spec.metric} is {achieved:.4g}"
    # Results end with the run at the answer.
    final = runs[round(value) if is_int else float(value)]
    ordered = [r for r in order if r is not final] + [final]
    return CalibrationOutcome(
        results=ordered,
        param=spec.param,
        metric=spec.metric,
        target=spec.target,
        relation=spec.relation,
        value=float(value),
        achieved=achieved,
        met=met,
        note=note,
    )


def _target_field(params_cls: Any, param: str, role: str) -> tuple[Any, str]:
    """The pydantic class and field that a sweep or calibration `param` names: a model parameter
    (`r0`) or an intervention field (`contact_reduction.effectiveness`)."""
    if "." in param:
        iv_type, _, field = param.partition(".")
        cls = INTERVENTION_TYPES.get(iv_type)
        fields = [f for f in cls.model_fields if f != "type"] if cls else []
        if cls is None or field not in fields:
            hint = (
                f"{iv_type} has the fields {', '.join(fields)}"
                if cls
                else f"interventions: {', '.join(INTERVENTION_TYPES)}"
            )
            raise ScenarioError(
                f"cannot {role} {param!r}: name a model parameter or an intervention field like "
                f"'contact_reduction.effectiveness' ({hint})",
                field=f"{role}.param",
                value=param,
            )
        return cls, field
    if param not in params_cls.model_fields or param in ("replicates", "seed"):
        allowed = ", ".join(f for f in params_cls.model_fields if f not in ("replicates", "seed"))
        raise ScenarioError(
            f"cannot {role} unknown parameter {param!r}; allowed: {allowed}",
            field=f"{role}.param",
            value=param,
            allowed=allowed,
        )
    return params_cls, param


def check_target(scenario: Scenario, param: str, role: str) -> None:
    """A `ScenarioError` unless `param` names a parameter or intervention field a sweep or calibration can vary."""
    from sim.scenario import resolve

    _target_field(resolve(scenario).spec.params, param, role)


def with_value(scenario: Scenario, param: str, value: float) -> Scenario:
    """The scenario with `param` (a parameter or `type.field`) set to `value`."""
    return _with_value(scenario, param, value)


def _is_int(annotation: Any) -> bool:
    return annotation is int or annotation == (int | None)


def _metric_words(metric: str) -> str:
    return metric.replace("_", " ")


def _boundary(meets_at: Callable[[float], bool], lo: float, hi: float, is_int: bool) -> float:
    """The value nearest the boundary, on its feasible side, where `meets_at(lo) != meets_at(hi)`."""
    good, bad = (lo, hi) if meets_at(lo) else (hi, lo)
    tol = 1 if is_int else max(abs(hi - lo) * 1e-6, 1e-9)
    while abs(bad - good) > tol:
        mid = (good + bad) // 2 if is_int else (good + bad) / 2
        if mid in (good, bad):
            break
        if meets_at(mid):
            good = mid
        else:
            bad = mid
    return good


class _SearchBudget(Exception):
    pass


def _eq_tolerance(target: float) -> float:
    return max(abs(target) * 0.01, 1e-6)


def _relation_words(relation: str) -> str:
    return {"eq": "equal to", "le": "at most", "ge": "at least"}[relation]


def _solve_eq(metric_at: Callable[[float], float], target: float, lo: float, hi: float, is_int: bool) -> float:
    """Where the metric crosses `target` between lo and hi: Brent's method, or integer bisection."""
    if is_int:
        a, b = int(lo), int(hi)
        fa = metric_at(a) - target
        while b - a > 1:
            mid = (a + b) // 2
            fm = metric_at(mid) - target
            if (fm < 0) == (fa < 0) and fm != 0:
                a, fa = mid, fm
            else:
                b = mid
        return a if abs(metric_at(a) - target) <= abs(metric_at(b) - target) else b
    from scipy import optimize

    xtol = max(abs(hi - lo) * 1e-7, 1e-9)
    return float(optimize.brentq(lambda x: metric_at(x) - target, lo, hi, xtol=xtol, maxiter=40))
