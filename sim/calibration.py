"""Calibration: the values of one parameter (or intervention field) at which a metric meets a target.

The metric need not be monotone in the parameter (the peak day is not, in R0), so the search
1. scans the whole range (`lower` .. `upper`, else the parameter's bounds) on a grid: one vectorised
   call where the model allows (the seir ODE), else the grid's runs together through the executor;
2. brackets every crossing of the target between neighbouring grid values (`eq`), or every change
   between meeting a limit and not meeting it (`le`, `ge`);
3. refines each bracket: regula falsi (Illinois) for a real parameter, bisection for a whole-number
   one or a limit, so every solution in the range is reported, not only one; a bracket where the
   metric jumps across the target (the peak day at R0 near 1) holds no solution and is said to;
4. when nothing in the range meets the target, reports the closest value tried and what it reaches.

On a stochastic model every run has several replicates (`sim.replication`, 20 by default within
the caps) on common random numbers: a target is met by the mean over replicates, and the
answer says what share of replicates meets it. A `probability` turns a limit into "met in that share
of the replicates" ("p90 under 35 minutes in 90% of shifts").
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.caps import MAX_CALIBRATION_RUNS
from sim.errors import ScenarioError
from sim.executors import Executor, Progress
from sim.replication import plan_replicates
from sim.result import Result
from sim.runner import RunCache, prepare, run_all
from sim.scenario import ResolvedScenario, Scenario, parse_scenario, resolve
from sim.target import Target, format_value

Relation = Literal["eq", "le", "ge"]

# Grid values of the scan: many where one vectorised call runs them all, fewer where each is a run.
SCAN_POINTS_VECTORISED = 41
SCAN_POINTS = 9
EQ_RELATIVE_TOLERANCE = 0.01  # an `eq` target is met within 1% of the target
MAX_REFINE_STEPS = 60


class CalibrateSpec(BaseModel):
    """Find the values of `param` at which `metric` meets `target` (`eq`, or `le` / `ge` as a limit),
    searched between `lower` and `upper` (default: the parameter's bounds)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    param: str
    metric: str
    target: float
    relation: Relation = "eq"
    lower: float | None = None
    upper: float | None = None
    probability: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="a limit met in at least this share of replicates (0.9 = in 90% of shifts); le / ge only",
    )

    @model_validator(mode="after")
    def _probability_needs_a_limit(self) -> CalibrateSpec:
        if self.probability is not None and self.relation == "eq":
            raise ValueError(
                "a probability goes with a limit: use relation 'le' (at most) or 'ge' (at least), "
                "e.g. p90_minutes le 35 with probability 0.9"
            )
        return self


class CalibrationSolution(BaseModel):
    """One value that meets the target, what the metric reaches there (the mean over replicates),
    and the share of replicates that meet it (runs with replicates > 1)."""

    value: float
    achieved: float
    share_meeting: float | None = None


class CalibrationOutcome(BaseModel):
    """`results` are the runs of the search in order, the last one at `value`: the answer when `met`
    (the solution closest to the target when there are several), else the closest value tried.

    solutions: every value in the searched range that meets the target: for `eq` one per crossing,
      for a limit the edge of each stretch of the range that meets it (on its meeting side).
    meeting_ranges: for a limit, the stretches of the searched range that meet it.
    lower, upper: the range searched. replicates: replicates of every run of the search.
    share_meeting: at `value`, the share of replicates that meet the target (None with one run or `eq`).
    """

    results: list[Result]
    param: str
    metric: str
    target: float
    relation: Relation
    value: float
    achieved: float
    met: bool
    note: str
    solutions: list[CalibrationSolution] = Field(default_factory=list)
    meeting_ranges: list[tuple[float, float]] = Field(default_factory=list)
    lower: float | None = None
    upper: float | None = None
    replicates: int = 1
    probability: float | None = None
    share_meeting: float | None = None


class _SearchBudget(Exception):
    pass


class _Found(Exception):
    def __init__(self, x: float) -> None:
        self.x = x


class _Search:
    """The runs of one calibration, kept by value, with what the target says about each."""

    def __init__(
        self,
        base: Scenario,
        target: Target,
        spec: CalibrateSpec,
        replicates: int | None,
        seed: int | None,
        executor: Executor | None,
        cache: RunCache | None,
        progress: Progress | None,
    ) -> None:
        self.base, self.target, self.spec = base, target, spec
        self.replicates, self.seed = replicates, seed
        self.executor, self.cache, self.progress = executor, cache, progress
        self.runs: dict[float, Result] = {}
        self.order: list[Result] = []

    def key(self, x: float) -> float:
        return float(round(x)) if self.target.whole else float(x)

    def run_at(self, xs: list[float]) -> None:
        """Run the values not run yet, together (they are independent)."""
        new = [x for x in dict.fromkeys(self.key(x) for x in xs) if x not in self.runs]
        if not new:
            return
        if len(self.order) + len(new) > MAX_CALIBRATION_RUNS:
            raise _SearchBudget
        variants = [self.target.apply(self.base, x).model_copy(update={"label": self.target.label(x)}) for x in new]
        resolved = [prepare(v, self.replicates, self.seed) for v in variants]
        for x, res in zip(new, run_all(resolved, self.executor, None, self.cache, vectorise=True), strict=True):
            self.runs[x] = res
            self.order.append(res)
        if self.progress is not None:
            self.progress(len(self.order), MAX_CALIBRATION_RUNS)

    def result(self, x: float) -> Result:
        x = self.key(x)
        self.run_at([x])
        return self.runs[x]

    def mean(self, x: float) -> float:
        return self.result(x).scalar(self.spec.metric)

    def share(self, x: float) -> float | None:
        """Share of the replicates at `x` that meet the limit; None for one replicate or `eq`."""
        values = np.asarray(self.result(x).replicate_metrics.get(self.spec.metric, []), dtype=float)
        if values.size < 2 or self.spec.relation == "eq":
            return None
        if self.spec.relation == "le":
            return float(np.mean(values <= self.spec.target + 1e-9))
        return float(np.mean(values >= self.spec.target - 1e-9))

    def meets(self, x: float) -> bool:
        spec = self.spec
        if spec.probability is not None:
            share = self.share(x)
            return share is not None and share >= spec.probability - 1e-12
        value = self.mean(x)
        if spec.relation == "le":
            return value <= spec.target + 1e-9
        if spec.relation == "ge":
            return value >= spec.target - 1e-9
        return abs(value - spec.target) <= eq_tolerance(spec.target)

    def gap(self, x: float) -> tuple[float, float]:
        """How far `x` is from meeting the target ((0, 0) when it meets it): what "closest" means. With
        a probability, first the share of replicates still missing, then how far the mean is."""
        if self.meets(x):
            return 0.0, 0.0
        distance = abs(self.mean(x) - self.spec.target)
        if self.spec.probability is not None:
            return float(self.spec.probability - (self.share(x) or 0.0)), distance
        return distance, 0.0

    def solution(self, x: float) -> CalibrationSolution:
        x = self.key(x)
        return CalibrationSolution(value=x, achieved=self.mean(x), share_meeting=self.share(x))


def eq_tolerance(target: float) -> float:
    return max(abs(target) * EQ_RELATIVE_TOLERANCE, 1e-6)


def scan_grid(lo: float, hi: float, whole: bool, points: int) -> list[float]:
    """The scan's values: every whole number when there are few, else `points` evenly spaced."""
    if whole:
        if hi - lo + 1 <= points:
            return [float(x) for x in range(int(lo), int(hi) + 1)]
        return sorted({float(round(x)) for x in np.linspace(lo, hi, points)})
    return [float(x) for x in np.linspace(lo, hi, points)]


def calibrate(
    scenario: Scenario | dict[str, Any],
    spec: CalibrateSpec,
    replicates: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    cache: RunCache | None = None,
    executor: Executor | None = None,
) -> CalibrationOutcome:
    """Every value of `spec.param` in the range that meets the target, the answer among them, and the
    runs of the search (`CalibrationOutcome`)."""
    base = parse_scenario(scenario)
    first = prepare(base, replicates, seed)
    target = Target.parse(spec.param, first.spec, "calibrate")
    _check_metric(spec, first)
    plan = plan_replicates(base, replicates, "calibration", need_spread=spec.probability is not None)
    runs_with = plan.replicates if plan.replicates is not None else first.params.replicates
    _check_replicates(spec, runs_with)
    lo, hi = _valid_range(base, target, *_search_range(target, spec))
    search = _Search(base, target, spec, plan.replicates, seed, executor, cache, progress)
    vectorised = first.spec.batch_run is not None and runs_with == 1
    grid = scan_grid(lo, hi, target.whole, SCAN_POINTS_VECTORISED if vectorised else SCAN_POINTS)
    found, stopped = _scan_and_solve(search, grid)
    return _outcome(search, spec, found, stopped, (lo, hi), runs_with)


def _check_metric(spec: CalibrateSpec, first: ResolvedScenario) -> None:
    if spec.metric not in first.spec.metrics:
        allowed = ", ".join(first.spec.metrics)
        raise ScenarioError(
            f"unknown metric {spec.metric!r} for model {first.spec.name!r}; allowed: {allowed}",
            field="calibrate.metric",
            value=spec.metric,
            allowed=allowed,
        )


def _check_replicates(spec: CalibrateSpec, runs_with: int) -> None:
    if spec.probability is not None and runs_with < 2:
        raise ScenarioError(
            f"a target met in {spec.probability:.0%} of runs needs replicates > 1, got {runs_with}",
            field="params.replicates",
            value=runs_with,
            allowed=">= 2",
        )


def _scan_and_solve(search: _Search, grid: list[float]) -> tuple[list[float], str]:
    """Run the grid, then refine every crossing and edge: the values found meeting the target, and
    why the search stopped early ("" when it did not)."""
    found: list[float] = []
    try:
        search.run_at(grid)
        _solve(search, grid, found)
    except _SearchBudget:
        return found, f"the search stopped after {MAX_CALIBRATION_RUNS} runs"
    return found, ""


def _outcome(
    search: _Search,
    spec: CalibrateSpec,
    found: list[float],
    stopped: str,
    bounds: tuple[float, float],
    runs_with: int,
) -> CalibrationOutcome:
    """The answer: among the solutions the one whose mean is nearest the target; without any, the run
    that came closest. Its run is the last of the results."""
    solutions = sorted(dict.fromkeys(search.key(x) for x in found))
    tried = sorted(search.runs)
    met = bool(solutions)
    if met:
        value = min(solutions, key=lambda x: (abs(search.mean(x) - spec.target), x))
    else:
        value = min(tried, key=lambda x: (*search.gap(x), x))
    final = search.runs[search.key(value)]
    outcome = CalibrationOutcome(
        results=[r for r in search.order if r is not final] + [final],
        param=spec.param,
        metric=spec.metric,
        target=spec.target,
        relation=spec.relation,
        value=float(value),
        achieved=search.mean(value),
        met=met,
        note="",
        solutions=[search.solution(x) for x in solutions],
        meeting_ranges=_meeting_ranges(search, tried) if spec.relation != "eq" else [],
        lower=bounds[0],
        upper=bounds[1],
        replicates=runs_with,
        probability=spec.probability,
        share_meeting=search.share(value),
    )
    outcome.note = _note(outcome, search, tried, stopped)
    return outcome


def _search_range(target: Target, spec: CalibrateSpec) -> tuple[float, float]:
    lo, hi = target.bounds()
    if spec.lower is not None:
        lo = max(lo, spec.lower)
    if spec.upper is not None:
        hi = min(hi, spec.upper)
    if target.whole:
        lo, hi = math.ceil(lo), math.floor(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise ScenarioError(
            f"cannot calibrate {spec.param!r}: give finite search bounds (lower < upper); "
            f"the parameter allows {target.allowed()}",
            field="calibrate.param",
            value=spec.param,
        )
    return float(lo), float(hi)


def _valid_range(base: Scenario, target: Target, lo: float, hi: float) -> tuple[float, float]:
    """The range narrowed to the values the scenario accepts beside its other values: the bounds of
    the field alone do not know that initial_infected may not exceed the population."""

    def valid(x: float) -> bool:
        try:
            resolve(target.apply(base, x))
        except ScenarioError:
            return False
        return True

    def edge(good: float, bad: float) -> float:  # the last valid value between a valid and an invalid one
        for _ in range(200):
            if abs(bad - good) <= (1.0 if target.whole else 1e-9 * max(1.0, abs(good))):
                break
            mid = (good + bad) / 2
            mid = float(math.floor(mid) if good < bad else math.ceil(mid)) if target.whole else mid
            if mid in (good, bad):
                break
            good, bad = (mid, bad) if valid(mid) else (good, mid)
        return good

    ok_lo, ok_hi = valid(lo), valid(hi)
    if ok_lo and not ok_hi:
        hi = edge(lo, hi)
    elif ok_hi and not ok_lo:
        lo = edge(hi, lo)
    return lo, hi


def _solve(search: _Search, grid: list[float], found: list[float]) -> None:
    """Add to `found` the solutions in the range: one per crossing (`eq`) or per edge of a stretch
    that meets a limit (kept if the search runs out of budget part way)."""
    spec = search.spec
    meets = [search.meets(x) for x in grid]
    if spec.relation == "eq":
        gaps = [search.mean(x) - spec.target for x in grid]
        covered = [False] * len(grid)  # grid values next to a crossing, which stands for them
        for i, (fa, fb) in enumerate(itertools.pairwise(gaps)):
            if fa == 0:
                found.append(grid[i])
                covered[i] = True
            elif fb != 0 and (fa < 0) != (fb < 0):
                x = _refine_crossing(search, grid[i], grid[i + 1])
                covered[i] = covered[i + 1] = True
                if search.meets(x):  # else the metric jumps across the target here: no solution
                    found.append(x)
        if gaps[-1] == 0:
            found.append(grid[-1])
            covered[-1] = True
        # a run of neighbouring grid values within the tolerance but not crossing it (a touch): its best
        i = 0
        while i < len(grid):
            if meets[i]:
                j = i
                while j + 1 < len(grid) and meets[j + 1]:
                    j += 1
                if not any(covered[i : j + 1]):
                    found.append(min(grid[i : j + 1], key=lambda x: abs(search.mean(x) - spec.target)))
                i = j + 1
            else:
                i += 1
    else:
        for (a, b), (meets_a, meets_b) in zip(itertools.pairwise(grid), itertools.pairwise(meets), strict=True):
            if meets_a != meets_b:
                found.append(_refine_edge(search, a, b))
        if all(meets):
            # every value meets the limit: the end where the metric comes closest to it
            found.append(min((grid[0], grid[-1]), key=lambda x: abs(search.mean(x) - spec.target)))


def _stochastic(search: _Search, x: float) -> bool:
    return search.result(x).meta.replicates > 1


def _refine_crossing(search: _Search, a: float, b: float) -> float:
    """Where the mean crosses the target between a and b: Brent's method, or integer bisection.
    A stochastic run stops as soon as the target is met (its noise is larger than a finer step)."""
    target = search.spec.target
    if search.target.whole:
        lo, hi = int(a), int(b)
        f_lo = search.mean(lo) - target
        while hi - lo > 1:
            mid = (lo + hi) // 2
            f_mid = search.mean(mid) - target
            if search.meets(mid):
                return float(mid)
            if (f_mid < 0) == (f_lo < 0):
                lo, f_lo = mid, f_mid
            else:
                hi = mid
        return float(min((lo, hi), key=lambda x: abs(search.mean(x) - target)))
    return _illinois(search, a, b)


def _illinois(search: _Search, a: float, b: float) -> float:
    """A crossing of a real parameter: regula falsi with the Illinois modification (superlinear on a
    smooth metric, never leaves the bracket). Stops when the metric hits the target exactly, when a
    stochastic run meets it (its noise is larger than a finer step), when the bracket is down to
    1e-7 of its width, or when it is down to 1e-3 and the metric still jumps across the target
    there (no value between gives it)."""
    target = search.spec.target
    stochastic = _stochastic(search, a)
    fa, fb = search.mean(a) - target, search.mean(b) - target
    width = abs(b - a)
    jump = 10 * eq_tolerance(target)
    side = 0
    for _ in range(MAX_REFINE_STEPS):
        if abs(b - a) <= max(width * 1e-7, 1e-10):
            break
        if abs(b - a) <= width * 1e-3 and min(abs(fa), abs(fb)) > jump:
            break  # a jump across the target, not a crossing
        x = (a * fb - b * fa) / (fb - fa)
        if not (min(a, b) < x < max(a, b)):
            x = (a + b) / 2
        fx = search.mean(x) - target
        if fx == 0 or (stochastic and search.meets(x)):
            return x
        if (fx < 0) == (fa < 0):
            a, fa = x, fx
            if side == -1:
                fb /= 2
            side = -1
        else:
            b, fb = x, fx
            if side == 1:
                fa /= 2
            side = 1
    return a if abs(search.mean(a) - target) <= abs(search.mean(b) - target) else b


def _refine_edge(search: _Search, a: float, b: float) -> float:
    """The value nearest the edge between meeting the limit and not, on its meeting side, by bisection
    on "meets" (robust where the metric is flat or jumps)."""
    good, bad = (a, b) if search.meets(a) else (b, a)
    whole = search.target.whole
    width = abs(b - a)
    # a stochastic metric is only known to its noise: a hundredth of the bracket is as fine as it gets
    tol = 1.0 if whole else max(width * (1e-2 if _stochastic(search, a) else 1e-7), 1e-10)
    while abs(bad - good) > tol:
        mid = float((good + bad) // 2) if whole else (good + bad) / 2
        if mid in (good, bad):
            break
        if search.meets(mid):
            good = mid
        else:
            bad = mid
    return good


def _meeting_ranges(search: _Search, tried: list[float]) -> list[tuple[float, float]]:
    """The stretches of the values tried that meet the limit, as (first, last) pairs."""
    ranges: list[tuple[float, float]] = []
    start: float | None = None
    previous: float | None = None
    for x in tried:
        if search.meets(x):
            start = x if start is None else start
        elif start is not None and previous is not None:
            ranges.append((start, previous))
            start = None
        previous = x
    if start is not None and previous is not None:
        ranges.append((start, previous))
    return ranges


def _relation_symbol(relation: str) -> str:
    return {"eq": "=", "le": "<=", "ge": ">="}[relation]


def _note(outcome: CalibrationOutcome, search: _Search, tried: list[float], stopped: str) -> str:
    """What the answer must say beyond the value: other solutions, the closest, the share of replicates."""
    spec, param = search.spec, outcome.param
    span = f"between {format_value(outcome.lower or 0)} and {format_value(outcome.upper or 0)}"
    wanted = f"{outcome.metric} {_relation_symbol(spec.relation)} {spec.target:g}"
    if spec.probability is not None:
        wanted += f" in {spec.probability:.0%} of replicates"
    parts: list[str] = []
    if not outcome.met:
        means = [search.mean(x) for x in tried]
        closest = f"the closest is {outcome.achieved:.4g} at {param} {format_value(outcome.value)}"
        if outcome.share_meeting is not None:
            closest += f", where {outcome.share_meeting:.0%} of the {outcome.replicates} replicates meet the target"
        if spec.probability is not None and outcome.share_meeting is not None:
            closest = (
                f"the closest is {param} {format_value(outcome.value)}, where {outcome.share_meeting:.0%} of "
                f"{outcome.replicates} replicates meet it"
            )
        parts.append(
            f"no {param} {span} gives {wanted}: over the {len(tried)} values tried it ranges from "
            f"{min(means):.4g} to {max(means):.4g}; {closest}" + (" (whole values only)" if search.target.whole else "")
        )
    elif spec.relation == "eq":
        if len(outcome.solutions) > 1:
            listed = ", ".join(f"{format_value(_round_sig(s.value))} ({s.achieved:.4g})" for s in outcome.solutions)
            parts.append(f"{len(outcome.solutions)} values of {param} {span} give {wanted}: {listed}")
        else:
            parts.append(f"no other {param} {span} gives {wanted} (the whole range was scanned)")
    else:
        ranges = outcome.meeting_ranges
        if len(ranges) == 1 and ranges[0] == (outcome.lower, outcome.upper):
            parts.append(f"every {param} {span} meets the target")
        elif ranges:
            stretches = " and ".join(
                f"{format_value(_round_sig(a))} to {format_value(_round_sig(b))}" for a, b in ranges
            )
            parts.append(f"the target is met for {param} from {stretches} (searched {span})")
    if stopped:
        parts.append(stopped)
    return "; ".join(parts)


def _round_sig(x: float, digits: int = 4) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, -math.floor(math.log10(abs(x))) + digits - 1)
