"""Executors: task planning, the run task shipped to workers, the local process pool, choosing one.

The Dask executor against real clusters is in test_dask.py.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import pytest

import sim
from sim.executors import (
    InProcessExecutor,
    LocalPoolExecutor,
    RunTask,
    default_executor,
    format_progress,
    plan_tasks,
    remaining_seconds,
    run_task,
)
from sim.experiments import CalibrateSpec, SweepSpec, calibrate, compare, sweep
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
    """Runs in process and records what it was asked, to check what experiments send."""

    name = "recording"

    def __init__(self) -> None:
        self.calls: list[tuple[list[Any], Sequence[float] | None]] = []

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
    assert [t.scenario["params"]["rate"] for t in first_items] == [0.0, 10.0]  # the bounds of rate
    assert all(len(items) == 1 for items, _ in recorder.calls[1:])
    assert sum(len(items) for items, _ in recorder.calls) == len(out.results)


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
    assert seen[-1] == (4, 4) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    # More couriers, shorter waits: the sweep is about something.
    p90 = [r.scalar("p90_minutes") for r in got]
    assert p90[0] > p90[-1]


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
