"""One request, one dispatch: `run_request` runs a simulate, compare, sweep or calibrate request.

Every caller (the assistant, `simqa run`, the eval labels) goes through it, so a request's kind
means the same run everywhere, with the same defaults (replicates of stochastic models, the seed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sim.errors import ScenarioError
from sim.executors import Executor, Progress
from sim.experiments import CalibrateSpec, CalibrationOutcome, Difference, SweepSpec, calibrate, compare, sweep
from sim.replication import ReplicatePlan, plan_replicates
from sim.result import Result
from sim.runner import RunCache, run
from sim.scenario import Scenario, parse_scenario

RunKind = Literal["simulate", "compare", "sweep", "calibrate"]
RUN_KINDS: tuple[str, ...] = ("simulate", "compare", "sweep", "calibrate")


@dataclass
class RequestOutcome:
    """What running a request produced: the results in order (compare: the baseline first; sweep:
    one per value; calibrate: the runs of the search, the last at the answer), and per kind the
    differences against the baseline or the calibration."""

    results: list[Result] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    calibration: CalibrationOutcome | None = None
    notes: list[str] = field(default_factory=list)


def run_request(
    kind: str,
    scenarios: Sequence[Scenario | dict[str, Any]],
    *,
    sweep_spec: SweepSpec | dict[str, Any] | None = None,
    calibrate_spec: CalibrateSpec | dict[str, Any] | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    cache: RunCache | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> RequestOutcome:
    """Run one request of `kind` on its scenarios.

    simulate: one scenario; compare: two or more, the first the baseline; sweep: one base scenario
    and `sweep_spec`; calibrate: one base scenario and `calibrate_spec`. `replicates` / `seed`
    override what the scenarios state (`simqa run --replicates`).
    """
    if kind not in RUN_KINDS:
        raise ScenarioError(f"kind {kind!r} runs nothing; runs are {', '.join(RUN_KINDS)}", field="kind", value=kind)
    if not scenarios:
        raise ScenarioError(f"a {kind} request needs a scenario", field="scenarios")
    if kind == "simulate":
        return RequestOutcome(
            results=[
                run(scenarios[0], replicates=replicates, seed=seed, cache=cache, executor=executor, progress=progress)
            ]
        )
    base = parse_scenario(scenarios[0])
    if kind == "compare":
        plan = plan_replicates(base, replicates, "comparison", runs=len(scenarios))
        compared = compare(
            scenarios, replicates=plan.replicates, seed=seed, executor=executor, progress=progress, cache=cache
        )
        return RequestOutcome(results=compared.results, differences=compared.differences, notes=_notes(plan))
    if kind == "sweep":
        if sweep_spec is None:
            raise ScenarioError("a sweep request needs `sweep` {param, values}", field="sweep")
        spec = sweep_spec if isinstance(sweep_spec, SweepSpec) else SweepSpec.model_validate(sweep_spec)
        plan = plan_replicates(base, replicates, "sweep", runs=len(spec.values))
        results = sweep(
            base, spec, replicates=plan.replicates, seed=seed, executor=executor, progress=progress, cache=cache
        )
        return RequestOutcome(results=results, notes=_notes(plan))
    if calibrate_spec is None:
        raise ScenarioError(
            "a calibrate request needs `calibrate` {param, metric, target, relation}", field="calibrate"
        )
    target = (
        calibrate_spec if isinstance(calibrate_spec, CalibrateSpec) else CalibrateSpec.model_validate(calibrate_spec)
    )
    plan = plan_replicates(base, replicates, "calibration", need_spread=target.probability is not None)
    found = calibrate(
        base, target, replicates=plan.replicates, seed=seed, progress=progress, cache=cache, executor=executor
    )
    return RequestOutcome(results=found.results, calibration=found, notes=_notes(plan))


def _notes(plan: ReplicatePlan) -> list[str]:
    return [plan.note] if plan.note else []
