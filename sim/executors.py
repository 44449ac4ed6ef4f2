"""Executors run many independent scenario runs: in process by default, on a process pool or on Dask.

Experiments (and single runs, `sim.runner.run`) submit work through `run_scenarios`, which calls
`Executor.map(fn, items, progress, cost)`, so a distributed executor can take the same work without
the experiments knowing. What travels to a worker is plain JSON-like data, resolved again on the
worker (a resolved scenario holds the model's functions, which do not pickle):
- a `RunTask`, one whole run; what travels back is the run's `Result` (means over replicates and
  per-replicate metrics), never the model's per-replicate arrays;
- a `ReplicateTask`, replicates start..stop-1 of one run, for a run too large to leave on one
  worker (a 1,000,000-agent abm with 50 replicates) whose model can run a range of its replicates
  (`ModelSpec.run_replicates`: abm, delivery; not seir, whose stochastic ensemble draws every
  replicate from one generator in one vectorised call). What travels back is that range's
  per-replicate metrics and series (`ModelOutput`); the client joins the pieces in order
  (`ModelOutput.concat`), adds the notes about all replicates (`ModelSpec.finalize`) and summarises.

Exactness: every run draws its random numbers from its own `seed` only, and replicate i of a
splittable model from `SeedSequence(seed).spawn(replicates)[i]` only, so a run gives the same
numbers on any worker, in any order, in any grouping, whole or in pieces.

Which executor `default_executor()` returns:
- `SIMQA_DASK_ADDRESS=tcp://host:8786`: Dask distributed (`pip install "simqa[dask]"`);
- `SIMQA_WORKERS=N` (N > 1): a pool of N local processes, for models whose replicates are a
  Python loop rather than one vectorised numpy call (abm, delivery);
- otherwise: one after another in this process.
"""

from __future__ import annotations

import atexit
import itertools
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, as_completed
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sim.errors import ScenarioError, SimqaError
from sim.output import ModelOutput, replicate_seeds
from sim.version import ENGINE_VERSION

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from sim.result import Result
    from sim.scenario import ResolvedScenario

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[int, int], None]

DASK_ADDRESS_ENV = "SIMQA_DASK_ADDRESS"
WORKERS_ENV = "SIMQA_WORKERS"
# Tasks per worker slot: enough that a slow task or a lost worker costs a fraction of the
# experiment and progress moves often, few enough that each task holds several runs when runs
# are short (each task costs the scheduler a few milliseconds, see benchmarks/README.md "## dask").
TASKS_PER_SLOT = 4
# A run's replicates are split only when the run holds more than this many tasks' worth of work:
# below it, whole runs already share the workers about evenly, and every piece repeats the run's
# set-up on its worker (the abm builds or reuses its population and calibrates R0 once per piece).
SPLIT_ABOVE_TASKS = 1.5


class Executor(Protocol):
    name: str

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        progress: Progress | None = None,
        cost: Sequence[float] | None = None,
    ) -> list[R]:
        """`[fn(item) for item in items]`, in the order of `items`.

        progress(done, total) is called as items finish; `cost` (one number per item, e.g. the
        model's work units) lets an executor group items into tasks of about equal cost.
        """
        ...


def task_count(executor: Executor) -> int:
    """How many tasks `executor` wants one map cut into (its `task_count()`; 1 for an executor
    without one, which then never gets a run's replicates split)."""
    count = getattr(executor, "task_count", None)
    return max(1, int(count())) if callable(count) else 1


# --------------------------------------------------------------------------- the unit of work


@dataclass(frozen=True)
class RunTask:
    """One scenario run as plain data, so it pickles and resolves on any worker.

    keep_series: False drops the mean series from the result on the worker, when only metrics
      are needed (such results are not put in the run store, which keeps complete runs only).
    """

    scenario: dict[str, Any]
    keep_series: bool = True
    executor: str = "in-process"
    engine_version: str = ENGINE_VERSION


@dataclass(frozen=True)
class ReplicateTask:
    """Replicates `start` .. `stop - 1` of one scenario run, as plain data; the worker rebuilds
    their seed sequences from the scenario's seed (`sim.output.replicate_seeds`).

    keep_series: False drops the series from the piece on the worker, as for `RunTask`.
    """

    scenario: dict[str, Any]
    start: int
    stop: int
    keep_series: bool = True
    engine_version: str = ENGINE_VERSION


@dataclass
class ReplicatePiece:
    """What a `ReplicateTask` sends back: its replicates' output, and how long they took to run."""

    output: ModelOutput
    wall_ms: float


def _resolve_on_worker(scenario: dict[str, Any], engine_version: str) -> ResolvedScenario:
    from sim.scenario import resolve

    if engine_version != ENGINE_VERSION:
        # A worker with another engine would give other numbers under the same run id.
        raise SimqaError(
            f"this worker runs simqa engine {ENGINE_VERSION} but the client runs {engine_version}: "
            "install the same simqa version on the client and every worker"
        )
    try:
        return resolve(scenario)
    except ScenarioError as exc:
        if exc.field == "model":
            raise ScenarioError(
                f"{exc} (on worker pid {os.getpid()}: a plugin model must be installed on every worker)",
                field=exc.field,
                value=exc.value,
                allowed=exc.allowed,
            ) from None
        raise


def run_task(task: RunTask) -> Result:
    """Resolve and run one `RunTask`; runs on whichever process the executor chose."""
    from sim.runner import execute

    resolved = _resolve_on_worker(task.scenario, task.engine_version)
    result = execute(resolved)
    update: dict[str, Any] = {"meta": result.meta.model_copy(update={"executor": task.executor})}
    if not task.keep_series:
        update["series"] = {}
    return result.model_copy(update=update)


def run_replicate_task(task: ReplicateTask) -> ReplicatePiece:
    """Resolve one `ReplicateTask` and run its replicates; runs on whichever process the executor chose."""
    resolved = _resolve_on_worker(task.scenario, task.engine_version)
    spec, params = resolved.spec, resolved.params
    if spec.run_replicates is None:
        raise SimqaError(f"model {spec.name!r} cannot run a range of its replicates (it has no run_replicates)")
    if not 0 <= task.start < task.stop <= params.replicates:
        raise ValueError(f"replicates {task.start}..{task.stop - 1} are not within the run's {params.replicates}")
    began = time.perf_counter()
    output = spec.run_replicates(params, resolved.interventions, replicate_seeds(params.seed, task.start, task.stop))
    wall_ms = (time.perf_counter() - began) * 1000
    if not task.keep_series:
        output = replace(output, series={})
    return ReplicatePiece(output=output, wall_ms=wall_ms)


def run_part(task: RunTask | ReplicateTask) -> Result | ReplicatePiece:
    """What every map of `run_scenarios` runs: a whole run or a range of one run's replicates."""
    if isinstance(task, ReplicateTask):
        return run_replicate_task(task)
    return run_task(task)


def run_group(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """One task holding several items: run them one after another."""
    return [fn(item) for item in items]


def plan_tasks(n_items: int, n_tasks: int, cost: Sequence[float] | None = None) -> list[list[int]]:
    """Split item indices 0..n_items-1 into at most `n_tasks` contiguous groups of about equal cost.

    Contiguous, so runs that share set-up (the abm's synthetic population, cached per process)
    land in the same task. Item i goes to the group its cost midpoint falls in.
    """
    if n_items == 0:
        return []
    n_tasks = max(1, min(n_tasks, n_items))
    costs = [1.0] * n_items if cost is None else [max(float(c), 0.0) for c in cost]
    if len(costs) != n_items:
        raise ValueError(f"cost has {len(costs)} entries for {n_items} items")
    total = sum(costs)
    if total <= 0:
        costs, total = [1.0] * n_items, float(n_items)
    groups: list[list[int]] = [[] for _ in range(n_tasks)]
    before = 0.0
    for i, c in enumerate(costs):
        k = min(n_tasks - 1, int((before + c / 2) / total * n_tasks))
        groups[k].append(i)
        before += c
    return [g for g in groups if g]


def replicate_splits(
    work: Sequence[float], replicates: Sequence[int], splittable: Sequence[bool], n_tasks: int
) -> list[int]:
    """Into how many pieces to cut each run's replicates, for a map cut into `n_tasks` tasks.

    A run with more than SPLIT_ABOVE_TASKS tasks' worth of the total work (total / n_tasks) is cut
    into about one task's worth per piece, never more pieces than replicates; other runs stay whole.
    So 20 runs x 50 replicates on 64 worker threads (256 tasks) become 20 x 13 pieces of about 4
    replicates, and one such run on 2 threads becomes 8 pieces.
    """
    if not len(work) == len(replicates) == len(splittable):
        raise ValueError("work, replicates and splittable need one entry per run")
    total = sum(max(float(w), 0.0) for w in work)
    if n_tasks <= 1 or total <= 0:
        return [1] * len(work)
    per_task = total / n_tasks
    return [
        min(n, math.ceil(w / per_task)) if can and n > 1 and w > SPLIT_ABOVE_TASKS * per_task else 1
        for w, n, can in zip(work, replicates, splittable, strict=True)
    ]


def replicate_ranges(replicates: int, pieces: int) -> list[tuple[int, int]]:
    """`pieces` contiguous (start, stop) ranges covering 0..replicates-1, sizes differing by at most 1."""
    pieces = max(1, min(pieces, replicates))
    bounds = [k * replicates // pieces for k in range(pieces + 1)]
    return list(itertools.pairwise(bounds))


def run_scenarios(
    resolved: Sequence[ResolvedScenario],
    executor: Executor,
    progress: Progress | None = None,
    keep_series: bool = True,
) -> list[Result]:
    """Run resolved scenarios through `executor`, in order; a large run of a splittable model is
    split into replicate ranges (`replicate_splits`), which are joined here into the result the
    whole run gives in process.

    progress(done, total) counts tasks' items: whole runs and pieces of runs.
    """
    from sim.result import summarise

    work = [r.spec.work_units(r.params) for r in resolved]
    splits = replicate_splits(
        work,
        [r.params.replicates for r in resolved],
        [r.spec.run_replicates is not None for r in resolved],
        task_count(executor),
    )
    items: list[RunTask | ReplicateTask] = []
    cost: list[float] = []
    owner: list[int] = []  # the run each item belongs to
    for i, (r, pieces) in enumerate(zip(resolved, splits, strict=True)):
        data = r.to_scenario().model_dump(mode="json")
        if pieces == 1:
            items.append(RunTask(scenario=data, keep_series=keep_series, executor=executor.name))
            cost.append(work[i])
            owner.append(i)
            continue
        n = r.params.replicates
        for start, stop in replicate_ranges(n, pieces):
            items.append(ReplicateTask(scenario=data, start=start, stop=stop, keep_series=keep_series))
            cost.append(work[i] * (stop - start) / n)
            owner.append(i)
    done = executor.map(run_part, items, progress, cost) if items else []

    parts: list[list[Any]] = [[] for _ in resolved]
    for i, value in zip(owner, done, strict=True):
        parts[i].append(value)
    results: list[Result] = []
    for r, got in zip(resolved, parts, strict=True):
        if len(got) == 1 and not isinstance(got[0], ReplicatePiece):
            results.append(got[0])
            continue
        output = ModelOutput.concat([piece.output for piece in got])
        if output.replicates != r.params.replicates:  # every replicate exactly once
            raise SimqaError(f"{output.replicates} of {r.params.replicates} replicates came back for {r.label!r}")
        if r.spec.finalize is not None:
            output = r.spec.finalize(r.params, output)
        result = summarise(r, output, sum(piece.wall_ms for piece in got))
        results.append(result.model_copy(update={"meta": result.meta.model_copy(update={"executor": executor.name})}))
    return results


# --------------------------------------------------------------------------- in process


class InProcessExecutor:
    """Runs tasks one after another in this process (each run is itself vectorised with numpy)."""

    name = "in-process"

    def __init__(self, tasks: int = 1) -> None:
        # 1: a run is never split, which in one process would only repeat its set-up; more is for
        # tests, to split runs in process exactly as a cluster would.
        if tasks < 1:
            raise ValueError(f"tasks must be >= 1, got {tasks}")
        self.tasks = tasks

    def task_count(self) -> int:
        return self.tasks

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        progress: Progress | None = None,
        cost: Sequence[float] | None = None,
    ) -> list[R]:
        out: list[R] = []
        for i, item in enumerate(items):
            out.append(fn(item))
            if progress is not None:
                progress(i + 1, len(items))
        return out


class LocalPoolExecutor:
    """A pool of local worker processes, kept for the life of this process.

    For models that loop over replicates in Python (abm, delivery): a sweep or comparison of such
    runs uses every core. Processes start with "spawn" (safe beside threads such as the vector
    store's), so the first map pays about a second of start-up per process.
    """

    name = "process-pool"

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def task_count(self) -> int:
        return TASKS_PER_SLOT * self.workers

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
                atexit.register(self.close)
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        progress: Progress | None = None,
        cost: Sequence[float] | None = None,
    ) -> list[R]:
        if len(items) <= 1 or self.workers == 1:
            return InProcessExecutor().map(fn, items, progress)
        groups = plan_tasks(len(items), self.task_count(), cost)
        pool = self._get_pool()
        futures: dict[Future[list[R]], list[int]] = {
            pool.submit(run_group, fn, [items[i] for i in g]): g for g in groups
        }
        return _collect(futures, len(items), progress, cancel=lambda: [f.cancel() for f in futures])


def _collect(
    futures: dict[Any, list[int]],
    n_items: int,
    progress: Progress | None,
    cancel: Callable[[], object],
    completed: Callable[[Any], Any] = as_completed,
) -> list[Any]:
    """Place each finished task's results at its items' positions, reporting progress as they come."""
    out: list[Any] = [None] * n_items
    filled = [False] * n_items
    done = 0
    try:
        for fut in completed(list(futures)):
            group = futures[fut]
            values = fut.result()
            for i, value in zip(group, values, strict=True):
                if filled[i]:  # a task is reported once; a second answer would be a duplicate
                    raise SimqaError(f"item {i} came back twice from the executor")
                out[i], filled[i] = value, True
            done += len(group)
            if progress is not None:
                progress(done, n_items)
    except BaseException:
        cancel()
        raise
    if not all(filled):
        missing = [i for i, f in enumerate(filled) if not f]
        raise SimqaError(f"items {missing} never came back from the executor")
    return out


# --------------------------------------------------------------------------- choosing one


_pools_lock = threading.Lock()
_pools: dict[int, LocalPoolExecutor] = {}


def _workers_from_env() -> int:
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if not raw:
        return 1
    try:
        workers = int(raw)
    except ValueError:
        raise SimqaError(f"{WORKERS_ENV} must be a whole number of processes, got {raw!r}") from None
    if workers < 1:
        raise SimqaError(f"{WORKERS_ENV} must be at least 1, got {workers}")
    return workers


def default_executor() -> Executor:
    """Dask when `SIMQA_DASK_ADDRESS` is set, a local process pool when `SIMQA_WORKERS` > 1, else in process.

    The engine's own default, for a caller that passes no executor; simqa's settings pass theirs
    (`executor_for`).
    """
    return executor_for(os.environ.get(DASK_ADDRESS_ENV, "").strip() or None, _workers_from_env())


def executor_for(address: str | None, workers: int = 1) -> Executor:
    """Dask at `address` when given, a local pool of `workers` processes when more than one, else in process.

    Executors are kept per address / pool size, so repeated experiments reuse one connection.
    """
    if address:
        from sim.dask_executor import dask_executor

        return dask_executor(address)
    if workers <= 1:
        return InProcessExecutor()
    with _pools_lock:
        if workers not in _pools:
            _pools[workers] = LocalPoolExecutor(workers)
        return _pools[workers]


def remaining_seconds(done: int, total: int, elapsed_s: float) -> float | None:
    """Time left at the rate so far (None before anything finished): for progress displays."""
    if done <= 0 or total <= 0 or elapsed_s <= 0:
        return None
    return max(0.0, elapsed_s / done * (total - done))


def format_progress(done: int, total: int, elapsed_s: float) -> str:
    """'7/16 runs, about 12 s left' (or 'about 3 min left'), for plain-text progress lines."""
    left = remaining_seconds(done, total, elapsed_s)
    if left is None:
        return f"{done}/{total} runs"
    when = f"{math.ceil(left)} s" if left < 120 else f"{math.ceil(left / 60)} min"
    return f"{done}/{total} runs, about {when} left"
