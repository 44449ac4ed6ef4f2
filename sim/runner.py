"""Run one scenario: validate, check caps, execute, summarise."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

from sim.caps import check_work
from sim.executors import InProcessExecutor, default_executor, run_scenarios, task_count
from sim.result import Result, summarise
from sim.scenario import ResolvedScenario, Scenario, parse_scenario, resolve

if TYPE_CHECKING:
    from sim.executors import Executor, Progress


def prepare(
    scenario: Scenario | dict[str, Any], replicates: int | None = None, seed: int | None = None
) -> ResolvedScenario:
    """Validate `scenario`, applying `replicates` / `seed` overrides, and check its cost."""
    scenario = parse_scenario(scenario)
    if replicates is not None or seed is not None:
        base = scenario
        params = dict(base.params)
        if replicates is not None:
            params["replicates"] = replicates
        if seed is not None:
            params["seed"] = seed
        scenario = base.model_copy(update={"params": params})
    resolved = resolve(scenario)
    check_work(resolved.spec.work_units(resolved.params), f"model {resolved.spec.name!r}")
    return resolved


class RunCache(Protocol):
    """Where finished runs are kept (the run store). Keyed by run id = content hash of the scenario."""

    def get(self, run_id: str) -> Result | None: ...

    def put(self, result: Result) -> None: ...


def cached(resolved: ResolvedScenario, cache: RunCache | None) -> Result | None:
    """The stored result of the identical run, under this scenario's label; None when not stored."""
    hit = cache.get(resolved.run_id()) if cache is not None else None
    if hit is None:
        return None
    return hit.model_copy(update={"label": resolved.label, "meta": hit.meta.model_copy(update={"cached": True})})


def execute(resolved: ResolvedScenario, cache: RunCache | None = None) -> Result:
    """Run an already validated scenario here, or return the cached result of the identical run."""
    hit = cached(resolved, cache)
    if hit is not None:
        return hit
    start = time.perf_counter()
    output = resolved.spec.run(resolved.params, resolved.interventions)
    wall_ms = (time.perf_counter() - start) * 1000
    result = summarise(resolved, output, wall_ms)
    if cache is not None:
        cache.put(result)
    return result


def run_all(
    resolved: list[ResolvedScenario],
    executor: Executor | None,
    progress: Progress | None,
    cache: RunCache | None,
    keep_series: bool = True,
    vectorise: bool = False,
) -> list[Result]:
    """Cached runs come from the cache; the rest go to the executor, as data (`run_scenarios`: whole
    runs, or replicate ranges of large ones), grouped by their work units. Results without series
    are not cached: the run store keeps whole runs.

    vectorise: runs that a model's `batch_run` can do in one call (sweeps, calibration scans) run so
    (their numbers equal single runs' to the solver's tolerance); each is stored like any run, so
    every run id an answer gives can be looked up later.
    """
    results = [cached(r, cache) for r in resolved]
    todo = [i for i, res in enumerate(results) if res is None]
    batch = batch_run_all([resolved[i] for i in todo], progress) if vectorise else None
    if batch is not None:
        fresh = batch
    else:
        runner = executor or default_executor()
        fresh = run_scenarios([resolved[i] for i in todo], runner, progress, keep_series) if todo else []
    for i, res in zip(todo, fresh, strict=True):
        results[i] = res
        if cache is not None and keep_series:
            cache.put(res)
    return [r for r in results if r is not None]


def batch_run_all(resolved: list[ResolvedScenario], progress: Progress | None = None) -> list[Result] | None:
    """The runs of a model with a vectorised `batch_run` (the seir ODE) in one call, when every one
    of them has one replicate; None when they cannot run as a batch."""
    if len(resolved) < 2:
        return None
    spec = resolved[0].spec
    if spec.batch_run is None or any(r.spec is not spec or r.params.replicates != 1 for r in resolved):
        return None
    start = time.perf_counter()
    outputs = spec.batch_run([r.params for r in resolved], [r.interventions for r in resolved])
    wall_ms = (time.perf_counter() - start) * 1000 / len(resolved)
    if progress is not None:
        progress(len(resolved), len(resolved))
    return [summarise(r, o, wall_ms) for r, o in zip(resolved, outputs, strict=True)]


def run(
    scenario: Scenario | dict[str, Any],
    replicates: int | None = None,
    seed: int | None = None,
    cache: RunCache | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> Result:
    """Run one scenario and summarise it. Same scenario + seed gives the same numbers.

    executor: where it runs; by default the environment's (`sim.executors.default_executor`: in
    this process unless `SIMQA_DASK_ADDRESS` or `SIMQA_WORKERS` say otherwise). Elsewhere, a large
    run of a model that can split its replicates (abm, delivery) spreads them over the workers, with
    the numbers it gives in process; progress(done, total) then counts its pieces.
    """
    resolved = prepare(scenario, replicates, seed)
    runner = executor or default_executor()
    if isinstance(runner, InProcessExecutor) and task_count(runner) == 1:
        return execute(resolved, cache)
    return run_all([resolved], runner, progress, cache)[0]
