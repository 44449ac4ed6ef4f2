"""The Dask executor against real clusters on loopback: a LocalCluster of worker processes, and a
scheduler plus two workers started through the `dask` command line, as a user would on a cluster.

What must hold: the numbers are those of the in-process run for the same seeds, whether runs go
out whole or with their replicates split across workers, and a worker killed mid-sweep (or in the
middle of one split run) loses nothing and duplicates nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.executors import InProcessExecutor, ReplicateTask, default_executor, replicate_ranges
from sim.experiments import CalibrateSpec, SweepSpec, calibrate, compare, sweep

distributed = pytest.importorskip("distributed")

from sim.dask_executor import DaskExecutor, dask_executor  # noqa: E402

pytestmark = pytest.mark.service

# Small abm runs (about 0.1 s each with 2 replicates, after a worker's first run has built the
# synthetic population): long enough to be in flight when a worker is killed, short enough for
# the whole file to take seconds.
ABM = {"model": "abm", "params": {"population": 5_000, "days": 60, "replicates": 2, "seed": 7}}
R0_VALUES = [1.4, 1.8, 2.2, 2.6, 3.0, 3.4]
# One run of 16 replicates (about 0.5 s in all): on 2 single-thread workers (8 tasks) it goes out
# as 8 pieces of 2 replicates.
ABM_WIDE = {"model": "abm", "params": {"population": 5_000, "days": 120, "replicates": 16, "seed": 7}}
# The longest wait for workers (or a scheduler) to come up: a worker process starts by importing
# numpy, distributed and sim, which takes seconds on a quiet machine but has taken over 60 s on a loaded
# one (a nanny restarting a killed worker). The waits return as soon as the workers are there, so
# a generous limit costs nothing when the machine is quiet.
CLUSTER_WAIT_S = 180


def comparable(result: sim.Result) -> dict[str, Any]:
    return result.model_dump(exclude={"meta": {"wall_ms", "created_at", "executor"}})


@pytest.fixture(scope="module")
def in_process_sweep() -> list[dict[str, Any]]:
    results = sweep(ABM, SweepSpec(param="r0", values=R0_VALUES), executor=InProcessExecutor())
    return [comparable(r) for r in results]


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        client.wait_for_workers(2, timeout=CLUSTER_WAIT_S)
        yield client


class RecordingDaskExecutor(DaskExecutor):
    """The Dask executor, recording the items it was given (whole runs or replicate ranges)."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.items: list[Any] = []

    def map(
        self,
        fn: Callable[[Any], Any],
        items: Sequence[Any],
        progress: Any = None,
        cost: Sequence[float] | None = None,
    ) -> list[Any]:
        self.items.extend(items)
        return super().map(fn, items, progress, cost)


@pytest.fixture(scope="module")
def in_process_wide() -> dict[str, Any]:
    return comparable(sim.run(ABM_WIDE))


class CountingCache:
    def __init__(self) -> None:
        self.store: dict[str, sim.Result] = {}
        self.puts: list[str] = []

    def get(self, run_id: str) -> sim.Result | None:
        return self.store.get(run_id)

    def put(self, result: sim.Result) -> None:
        self.puts.append(result.run_id)
        self.store[result.run_id] = result


def test_sweep_on_a_local_cluster_gives_the_in_process_numbers(local_cluster, in_process_sweep):
    seen: list[tuple[int, int]] = []
    results = sweep(
        ABM,
        SweepSpec(param="r0", values=R0_VALUES),
        executor=DaskExecutor(local_cluster),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert [comparable(r) for r in results] == in_process_sweep
    assert {r.meta.executor for r in results} == {"dask"}
    assert seen[-1][0] == seen[-1][1] >= len(R0_VALUES)  # every piece done (a large run goes out in pieces)
    # A higher R0 infects more: the runs are real epidemics, in the order asked for.
    attack = [r.scalar("attack_rate") for r in results]
    assert attack == sorted(attack) and attack[-1] > 0.5
    if sys.platform.startswith("linux"):  # the workers' allocator was given back its adaptive thresholds
        assert set(local_cluster.run(lambda: sys.modules["sim.dask_executor"]._malloc_tuned).values()) == {True}


def test_a_worker_killed_mid_sweep_loses_and_duplicates_nothing(local_cluster, in_process_sweep):
    executor = DaskExecutor(local_cluster)  # 2 workers x 4 tasks per slot: one run per task here
    pids = local_cluster.run(os.getpid)
    killed: dict[str, Any] = {}

    def kill_a_busy_worker(done: int, total: int) -> None:
        if killed:
            return
        busy = {addr: keys for addr, keys in local_cluster.processing().items() if keys}
        if not busy:
            return
        victim = next(iter(busy))
        killed.update(address=victim, in_flight=len(busy[victim]))
        os.kill(pids[victim], signal.SIGKILL)  # the worker process itself; its nanny starts a new one

    cache = CountingCache()
    results = sweep(
        ABM, SweepSpec(param="r0", values=R0_VALUES), executor=executor, progress=kill_a_busy_worker, cache=cache
    )
    assert killed and killed["in_flight"] >= 1, "the kill must hit a worker holding tasks"
    assert [comparable(r) for r in results] == in_process_sweep
    assert sorted(cache.puts) == sorted(r["run_id"] for r in in_process_sweep)  # each run stored once
    local_cluster.wait_for_workers(2, timeout=CLUSTER_WAIT_S)  # the nanny replaced it
    assert killed["address"] not in local_cluster.nthreads()


def test_compare_metrics_only_and_calibrate_on_a_local_cluster(local_cluster):
    executor = DaskExecutor(local_cluster)
    base = {"label": "baseline", **ABM}
    closed = {**base, "label": "schools closed", "interventions": [{"type": "school_closure", "start_day": 0}]}
    lean = compare([base, closed], executor=executor, keep_series=False)
    here = compare([base, closed], executor=InProcessExecutor())
    assert all(r.series == {} for r in lean.results)
    assert [r.replicate_metrics for r in lean.results] == [r.replicate_metrics for r in here.results]
    assert lean.results[1].scalar("total_infected") < lean.results[0].scalar("total_infected")

    seir = {"model": "seir", "params": {"days": 200}}
    spec = CalibrateSpec(param="r0", metric="attack_rate", target=0.5, lower=1.05, upper=4.0)
    remote = calibrate(seir, spec, executor=executor)
    local = calibrate(seir, spec, executor=InProcessExecutor())
    assert remote.value == local.value and remote.met
    assert [comparable(r) for r in remote.results] == [comparable(r) for r in local.results]


def test_one_run_split_across_a_local_cluster_gives_the_in_process_numbers(local_cluster, in_process_wide):
    executor = RecordingDaskExecutor(local_cluster)
    result = sim.run(ABM_WIDE, executor=executor)
    assert [type(t) for t in executor.items] == [ReplicateTask] * 8
    assert [(t.start, t.stop) for t in executor.items] == replicate_ranges(16, 8)
    assert comparable(result) == in_process_wide
    assert result.meta.executor == "dask" and len(result.replicate_metrics["attack_rate"]) == 16


def test_a_worker_killed_mid_split_loses_and_duplicates_no_replicate(local_cluster, in_process_wide):
    executor = RecordingDaskExecutor(local_cluster)
    pids = local_cluster.run(os.getpid)
    killed: dict[str, Any] = {}

    def kill_a_busy_worker(done: int, total: int) -> None:
        if killed:
            return
        busy = {addr: keys for addr, keys in local_cluster.processing().items() if keys}
        if not busy:
            return
        victim = next(iter(busy))
        killed.update(address=victim, in_flight=len(busy[victim]))
        os.kill(pids[victim], signal.SIGKILL)  # the worker process itself; its nanny starts a new one

    cache = CountingCache()
    result = sim.run(ABM_WIDE, executor=executor, cache=cache, progress=kill_a_busy_worker)
    assert killed and killed["in_flight"] >= 1, "the kill must hit a worker holding replicate tasks"
    assert all(isinstance(t, ReplicateTask) for t in executor.items)
    # Every replicate once, in order: the per-replicate values are the in-process run's, all 16.
    assert comparable(result) == in_process_wide
    assert cache.puts == [result.run_id]
    local_cluster.wait_for_workers(2, timeout=CLUSTER_WAIT_S)  # the nanny replaced it
    assert killed["address"] not in local_cluster.nthreads()


def test_unreachable_scheduler_says_how_to_fix_it(monkeypatch):
    monkeypatch.setattr("sim.dask_executor.CONNECT_TIMEOUT_S", 1.0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        with pytest.raises(sim.SimqaError, match="cannot reach the Dask scheduler"):
            dask_executor(f"tcp://127.0.0.1:{port}")


# --------------------------------------------------------------------------- the dask command line


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask_command() -> str:
    beside_python = Path(sys.executable).with_name("dask")
    found = str(beside_python) if beside_python.exists() else shutil.which("dask")
    if found is None:
        pytest.skip("the `dask` command is not installed")
    return found


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Stop the processes started below and everything they started (each leads its own process
    group): all at once, so their graceful shutdowns overlap."""
    running = [p for p in procs if p.poll() is None]
    for proc in running:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in running:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


@pytest.fixture
def command_line_cluster(tmp_path) -> Iterator[str]:
    dask = _dask_command()
    address = f"tcp://127.0.0.1:{_free_port()}"
    procs: list[subprocess.Popen[bytes]] = []
    log = (tmp_path / "dask.log").open("wb")

    def start(*args: str) -> None:
        procs.append(subprocess.Popen([dask, *args], stdout=log, stderr=log, start_new_session=True))

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard")
        for name in ("worker-a", "worker-b"):
            start(
                "worker", address, "--name", name, "--nthreads", "1", "--nworkers", "1", "--host", "127.0.0.1",
                "--no-dashboard", "--local-directory", str(tmp_path / name),
            )  # fmt: skip
        with distributed.Client(address, timeout=CLUSTER_WAIT_S, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=CLUSTER_WAIT_S)
        yield address
    finally:
        _stop(procs)
        log.close()
        assert all(p.poll() is not None for p in procs)


def test_sweep_through_simqa_dask_address_on_command_line_cluster(command_line_cluster, monkeypatch):
    monkeypatch.setenv("SIMQA_DASK_ADDRESS", command_line_cluster)
    executor = default_executor()
    assert isinstance(executor, DaskExecutor) and executor.slots() == 2
    base = {"model": "delivery", "params": {"hours": 2, "replicates": 3, "seed": 5}}
    spec = SweepSpec(param="couriers", values=[15, 20, 30, 45, 60])
    try:
        remote = sweep(base, spec)  # no executor given: the environment picks Dask
        assert {r.meta.executor for r in remote} == {"dask"}
        local = sweep(base, spec, executor=InProcessExecutor())
        assert [comparable(r) for r in remote] == [comparable(r) for r in local]
        late = [r.scalar("late_rate") for r in remote]
        assert late[0] > late[-1]  # more couriers, fewer late orders
    finally:
        executor.client.close()
