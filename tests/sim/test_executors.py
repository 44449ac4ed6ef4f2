"""Executors: task planning, the run task shipped to workers, splitting one run's replicates into
replicate tasks, the local process pool, choosing one.

The Dask executor against real clusters is in test_dask.py.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import sim
from sim.executors import (
    InProcessExecutor,
    LocalPoolExecutor,
    ReplicateTask,
    RunTask,
    default_executor,
    format_progress,
    plan_tasks,
    remaining_seconds,
    replicate_ranges,
    replicate_splits,
    run_replicate_task,
    run_task,
)
from sim.experiments import CalibrateSpec, SweepSpec, calibrate, compare, sweep
from sim.output import ModelOutput, replicate_seeds
from tests.sim.toy import SPEC as TOY


@pytest.fixture
def toy_model():
    sim.register(TOY)
    yield
    sim.registry.unregister("toy")


def comparable(result: sim.Result) -> dict[str, Any]:
    """Everything about a result except when, where and how fast it ran."""
    return result.model_dump(exclude={"meta": {"wall_ms", "created_at", "executor"}})


class RecordingExecutor:
    """Runs in process and records what it was asked, to check what experiments send.

    tasks: how many tasks it says a map is cut into (`task_count`); more than 1 lets runs split.
    """

    name = "recording"

    def __init__(self, tasks: int = 1) -> None:
        self.calls: list[tuple[list[Any], Sequence[float] | None]] = []
        self.tasks = tasks

    def task_count(self) -> int:
        return self.tasks

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], progress: Any = None, cost: Any = None) -> list[Any]:
        self.calls.append((list(items), cost))
        return [fn(item) for item in items]


# --------------------------------------------------------------------------- planning


def test_plan_tasks_groups_contiguously_by_cost():
    assert plan_tasks(8, 4) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert plan_tasks(3, 8) == [[0], [1], [2]]  # never more tasks than items
    assert plan_tasks(0, 4) == []
    # One item as costly as the other three together gets a task of its own.
    assert plan_tasks(4, 2, cost=[3, 1, 1, 1]) == [[0], [1, 2, 3]]
    # Every index exactly once, in order, whatever the costs.
    groups = plan_tasks(17, 5, cost=[i % 4 + 0.5 for i in range(17)])
    assert [i for g in groups for i in g] == list(range(17))
    assert len(groups) <= 5
    with pytest.raises(ValueError, match="cost has 2 entries"):
        plan_tasks(3, 2, cost=[1, 1])


def test_in_process_map_keeps_order_and_reports_progress():
    seen: list[tuple[int, int]] = []
    out = InProcessExecutor().map(lambda x: x * x, [3, 1, 2], lambda d, t: seen.append((d, t)))
    assert out == [9, 1, 4]
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_progress_estimate():
    assert remaining_seconds(0, 10, 5.0) is None
    assert remaining_seconds(4, 16, 8.0) == pytest.approx(24.0)  # 2 s a run, 12 to go
    assert format_progress(4, 16, 8.0) == "4/16 runs, about 24 s left"
    assert format_progress(1, 11, 60.0) == "1/11 runs, about 10 min left"
    assert format_progress(0, 16, 1.0) == "0/16 runs"


# --------------------------------------------------------------------------- the run task


def test_run_task_reproduces_a_direct_run_and_can_drop_series(toy_model):
    scenario = {"label": "x", "model": "toy", "params": {"rate": 3.0, "servers": 2, "noise": 0.1, "replicates": 4}}
    direct = sim.run(scenario)
    data = sim.prepare(scenario).to_scenario().model_dump(mode="json")
    shipped = run_task(RunTask(scenario=data, executor="somewhere"))
    assert comparable(shipped) == comparable(direct)
    assert shipped.meta.executor == "somewhere"
    assert shipped.scalar("level") == pytest.approx(15.0, abs=0.2)  # rate * 10 / servers
    bare = run_task(RunTask(scenario=data, keep_series=False))
    assert bare.series == {} and direct.series
    assert bare.replicate_metrics == direct.replicate_metrics


def test_run_task_refuses_a_worker_on_another_engine_version(toy_model):
    data = {"model": "toy", "params": {}}
    with pytest.raises(sim.SimqaError, match="same simqa version"):
        run_task(RunTask(scenario=data, engine_version="0.0.0-other"))


def test_run_task_names_a_model_missing_on_the_worker():
    with pytest.raises(sim.ScenarioError, match="must be installed on every worker"):
        run_task(RunTask(scenario={"model": "no_such_model", "params": {}}))


# --------------------------------------------------------------------------- experiments through an executor


def test_experiments_send_runs_as_data_with_their_work(toy_model):
    recorder = RecordingExecutor()
    results = sweep({"model": "toy"}, SweepSpec(param="rate", values=[1, 2, 4]), executor=recorder)
    assert [r.scalar("level") for r in results] == pytest.approx([2.0, 4.0, 8.0])  # rate * 10 / 5 servers
    [(items, cost)] = recorder.calls
    assert all(isinstance(t, RunTask) and isinstance(t.scenario, dict) for t in items)
    assert [t.scenario["params"]["rate"] for t in items] == [1, 2, 4]
    assert cost == [10.0, 10.0, 10.0]  # the toy model says a run costs 10 units per replicate
    assert {r.meta.executor for r in results} == {"recording"}


class CountingCache:
    def __init__(self) -> None:
        self.store: dict[str, sim.Result] = {}
        self.puts: list[str] = []

    def get(self, run_id: str) -> sim.Result | None:
        return self.store.get(run_id)

    def put(self, result: sim.Result) -> None:
        self.puts.append(result.run_id)
        self.store[result.run_id] = result


def test_metrics_only_results_are_not_cached(toy_model):
    cache = CountingCache()
    base = {"label": "baseline", "model": "toy", "params": {"noise": 0.3, "replicates": 5}}
    other = {**base, "label": "half", "interventions": [{"type": "contact_reduction", "effectiveness": 0.5}]}
    lean = compare([base, other], keep_series=False, cache=cache)
    assert all(r.series == {} for r in lean.results)
    assert cache.puts == []
    full = compare([base, other], cache=cache)
    assert len(cache.puts) == 2 and all(r.series for r in full.results)
    assert [d.difference for d in lean.differences] == [d.difference for d in full.differences]


def test_calibrate_runs_the_bracket_together_through_the_executor(toy_model):
    recorder = RecordingExecutor()
    # level = rate * 10 / 5 = 2 * rate: level 5 at rate 2.5.
    out = calibrate({"model": "toy"}, CalibrateSpec(param="rate", metric="level", target=5.0), executor=recorder)
    assert out.met and out.value == pytest.approx(2.5, abs=1e-3)
    first_items, _ = recorder.calls[0]
    # the scan of the whole range of rate (0 to 10) runs together; the refinement one run at a time
    assert [t.scenario["params"]["rate"] for t in first_items] == pytest.approx(list(np.linspace(0, 10, 9)))
    assert all(len(items) == 1 for items, _ in recorder.calls[1:])
    assert sum(len(items) for items, _ in recorder.calls) == len(out.results)


# --------------------------------------------------------------------------- splitting one run's replicates

# Small runs whose notes are about all their replicates together, so a note written per piece
# ("1 of 1 replicates ...") would show. Replicates 0..5 of ABM_DYING: 4 of 6 die out at R0 1.6
# from one case; DELIVERY_EMPTY has about 1 order a replicate, and replicate 1 of 5 has none.
ABM_DYING = {"model": "abm", "params": {"population": 3000, "days": 80, "replicates": 6, "seed": 5, "r0": 1.6, "initial_infected": 1}}  # fmt: skip
ABM_VACCINATING = {
    "model": "abm",
    "params": {"population": 3000, "days": 60, "replicates": 3, "seed": 2, "imported_per_day": 1.0},
    "interventions": [
        {"type": "vaccination", "start_day": 5, "daily_rate": 0.01, "efficacy": 0.8},
        {"type": "household_quarantine", "start_day": 10, "compliance": 0.5},
    ],
}
DELIVERY_BEHIND = {"model": "delivery", "params": {"orders_per_hour": 150, "couriers": 8, "hours": 2, "replicates": 4, "seed": 3}}  # fmt: skip
DELIVERY_EMPTY = {"model": "delivery", "params": {"orders_per_hour": 1, "couriers": 5, "hours": 1, "replicates": 5, "seed": 1}}  # fmt: skip

SPLIT_CASES = [
    (ABM_DYING, "4 of 6 replicates died out"),
    (ABM_VACCINATING, "transmission calibrated to R0 = 2.5"),
    (DELIVERY_BEHIND, "the couriers did not keep up"),
    (DELIVERY_EMPTY, "1 of 5 replicates had no orders"),
]


def test_replicate_seeds_are_the_children_a_run_spawns():
    children = np.random.SeedSequence(42).spawn(8)
    seeds = replicate_seeds(42, 3, 6)
    assert [s.generate_state(4).tolist() for s in seeds] == [c.generate_state(4).tolist() for c in children[3:6]]
    assert replicate_seeds(42, 5, 5) == []


def test_model_output_concat_joins_replicates_in_order():
    def piece(values: list[float], notes: list[str]) -> ModelOutput:
        arr = np.array(values)
        return ModelOutput(
            metrics={"m": arr},
            series={"s": np.outer(arr, [1.0, 2.0])},
            breakdowns={"by": {"a": arr + 1}},
            notes=notes,
            replicate_facts={"f": arr * 10},
        )

    joined = ModelOutput.concat([piece([1.0, 2.0], ["whole run"]), piece([3.0], ["whole run", "other"])])
    assert joined.replicates == 3
    assert joined.metrics["m"].tolist() == [1.0, 2.0, 3.0]
    assert joined.series["s"].tolist() == [[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]
    assert joined.breakdowns["by"]["a"].tolist() == [2.0, 3.0, 4.0]
    assert joined.replicate_facts["f"].tolist() == [10.0, 20.0, 30.0]
    assert joined.notes == ["whole run", "other"]  # once each, in order of appearance
    with pytest.raises(ValueError, match="differ in their outputs"):
        ModelOutput.concat([piece([1.0], []), ModelOutput(metrics={"other": np.array([1.0])})])
    with pytest.raises(ValueError, match="at least one piece"):
        ModelOutput.concat([])


def test_replicate_splits_cut_only_runs_larger_than_a_task():
    # 20 runs x 50 replicates on 64 worker threads (256 tasks): 12.8 tasks of work a run -> 13 pieces.
    assert replicate_splits([50.0] * 20, [50] * 20, [True] * 20, 256) == [13] * 20
    # One run of 50 replicates on 2 threads (8 tasks): 8 pieces.
    assert replicate_splits([50.0], [50], [True], 8) == [8]
    # Never more pieces than replicates.
    assert replicate_splits([3.0], [3], [True], 8) == [3]
    # 6 equal runs in 8 tasks: 1.33 tasks of work each, whole runs share the workers well enough.
    assert replicate_splits([2.0] * 6, [2] * 6, [True] * 6, 8) == [1] * 6
    # Only the large run of a mixed experiment is cut; seir (not splittable) and 1 replicate never are.
    assert replicate_splits([90.0, 5.0, 5.0], [10, 10, 10], [True, True, True], 10) == [9, 1, 1]
    assert replicate_splits([90.0, 10.0], [10, 1], [False, True], 10) == [1, 1]
    assert replicate_splits([90.0], [10], [True], 1) == [1]  # one task: in process, nothing to gain


def test_replicate_ranges_cover_every_replicate_once():
    assert replicate_ranges(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert replicate_ranges(2, 5) == [(0, 1), (1, 2)]
    assert replicate_ranges(7, 1) == [(0, 7)]
    ranges = replicate_ranges(50, 13)
    assert [i for a, b in ranges for i in range(a, b)] == list(range(50))
    assert {b - a for a, b in ranges} == {3, 4}


@pytest.mark.parametrize(("scenario", "note"), SPLIT_CASES, ids=["abm-dying", "abm-vaccinating", "delivery-behind", "delivery-empty"])  # fmt: skip
def test_a_split_run_equals_the_whole_run(scenario, note):
    whole = sim.run(scenario)  # in process, not split
    assert any(note in n for n in whole.notes)
    recorder = RecordingExecutor(tasks=8)
    split = sim.run(scenario, executor=recorder)
    [(items, cost)] = recorder.calls
    n = scenario["params"]["replicates"]
    assert all(isinstance(t, ReplicateTask) for t in items) and len(items) == min(n, 8)
    assert [(t.start, t.stop) for t in items] == replicate_ranges(n, len(items))
    assert cost is not None and sum(cost) == pytest.approx(sim.prepare(scenario).spec.work_units(sim.prepare(scenario).params))  # fmt: skip
    assert comparable(split) == comparable(whole)  # metrics, ci, per-replicate values, series, notes, run id
    assert split.meta.executor == "recording" and split.meta.replicates == n


def test_experiments_split_large_runs_and_drop_series_on_the_workers():
    recorder = RecordingExecutor(tasks=8)
    base = {"label": "baseline", **ABM_DYING}
    closed = {**base, "label": "schools closed", "interventions": [{"type": "school_closure", "start_day": 0}]}
    lean = compare([base, closed], executor=recorder, keep_series=False)
    here = compare([base, closed], executor=InProcessExecutor())
    [(items, _)] = recorder.calls
    assert [type(t) for t in items] == [ReplicateTask] * 8  # each run of 6 replicates in 4 pieces
    assert all(r.series == {} for r in lean.results) and all(r.series for r in here.results)
    assert [r.replicate_metrics for r in lean.results] == [r.replicate_metrics for r in here.results]
    assert [r.notes for r in lean.results] == [r.notes for r in here.results]
    assert [d.difference for d in lean.differences] == [d.difference for d in here.differences]
    piece = run_replicate_task(ReplicateTask(scenario=items[0].scenario, start=0, stop=2, keep_series=False))
    assert piece.output.series == {} and piece.output.replicates == 2


def test_seir_runs_are_never_split():
    # Its stochastic ensemble draws every replicate from one generator in one vectorised call.
    recorder = RecordingExecutor(tasks=8)
    scenario = {"model": "seir", "params": {"population": 20_000, "replicates": 12, "seed": 3}}
    result = sim.run(scenario, executor=recorder)
    [(items, _)] = recorder.calls
    assert [type(t) for t in items] == [RunTask]
    assert comparable(result) == comparable(sim.run(scenario))


def test_in_process_executor_splits_only_when_asked():
    assert InProcessExecutor().task_count() == 1
    forced = sim.run(DELIVERY_BEHIND, executor=InProcessExecutor(tasks=4))
    assert comparable(forced) == comparable(sim.run(DELIVERY_BEHIND))
    with pytest.raises(ValueError, match="tasks must be >= 1"):
        InProcessExecutor(tasks=0)


def test_a_single_run_through_an_executor_uses_the_cache(toy_model):
    cache = CountingCache()
    recorder = RecordingExecutor(tasks=8)
    first = sim.run(ABM_DYING, executor=recorder, cache=cache)
    assert cache.puts == [first.run_id] and not first.meta.cached
    again = sim.run({**ABM_DYING, "label": "again"}, executor=recorder, cache=cache)
    assert again.meta.cached and again.label == "again" and len(recorder.calls) == 1
    assert again.replicate_metrics == first.replicate_metrics


def test_replicate_task_refuses_what_it_cannot_run(toy_model):
    with pytest.raises(sim.SimqaError, match="cannot run a range of its replicates"):
        run_replicate_task(ReplicateTask(scenario={"model": "toy", "params": {"replicates": 4}}, start=0, stop=2))
    data = sim.prepare(DELIVERY_EMPTY).to_scenario().model_dump(mode="json")
    with pytest.raises(ValueError, match="not within the run's 5"):
        run_replicate_task(ReplicateTask(scenario=data, start=3, stop=6))
    with pytest.raises(sim.SimqaError, match="same simqa version"):
        run_replicate_task(ReplicateTask(scenario=data, start=0, stop=1, engine_version="0.0.0-other"))


# --------------------------------------------------------------------------- the local process pool


def test_local_pool_gives_the_in_process_numbers():
    base = {"model": "delivery", "params": {"hours": 2, "replicates": 3, "seed": 11}}
    spec = SweepSpec(param="couriers", values=[20, 30, 40, 60])
    expected = sweep(base, spec, executor=InProcessExecutor())
    pool = LocalPoolExecutor(2)
    seen: list[tuple[int, int]] = []
    try:
        got = sweep(base, spec, executor=pool, progress=lambda d, t: seen.append((d, t)))
    finally:
        pool.close()
    assert [comparable(r) for r in got] == [comparable(r) for r in expected]
    assert {r.meta.executor for r in got} == {"process-pool"}
    # 2 processes want 8 tasks, so each run of 3 replicates goes out in 2 pieces: progress counts pieces.
    assert seen[-1] == (8, 8) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    # More couriers, shorter waits: the sweep is about something.
    p90 = [r.scalar("p90_minutes") for r in got]
    assert p90[0] > p90[-1]


def test_local_pool_splits_one_run_with_the_in_process_numbers():
    pool = LocalPoolExecutor(2)  # 8 tasks: one run of 6 (or 4) replicates goes out in 6 (or 4) pieces
    try:
        got = [sim.run(s, executor=pool) for s in (ABM_DYING, DELIVERY_BEHIND)]
    finally:
        pool.close()
    assert [comparable(r) for r in got] == [comparable(sim.run(s)) for s in (ABM_DYING, DELIVERY_BEHIND)]
    assert {r.meta.executor for r in got} == {"process-pool"}


# --------------------------------------------------------------------------- choosing one


def test_default_executor_follows_the_environment(monkeypatch):
    assert isinstance(default_executor(), InProcessExecutor)
    monkeypatch.setenv("SIMQA_WORKERS", "3")
    pool = default_executor()
    assert isinstance(pool, LocalPoolExecutor) and pool.workers == 3
    assert default_executor() is pool  # kept, not a new pool per experiment
    monkeypatch.setenv("SIMQA_WORKERS", "many")
    with pytest.raises(sim.SimqaError, match="SIMQA_WORKERS must be a whole number"):
        default_executor()


def test_dask_address_without_dask_installed_names_the_extra(monkeypatch):
    monkeypatch.setenv("SIMQA_DASK_ADDRESS", "tcp://127.0.0.1:8786")
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(sim.MissingDependency, match=r'pip install "simqa\[dask\]"'):
        default_executor()
