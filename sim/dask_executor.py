"""The Dask distributed executor: experiments on a cluster (`SIMQA_DASK_ADDRESS`, `simqa --dask`).

Runs, and the replicate ranges of runs too large for one task (`sim.executors.run_scenarios`), are
grouped into tasks of about equal work (`TASKS_PER_SLOT` tasks per worker thread), each
submitted with `retries`, so a task whose worker raised is run again; a task whose worker died is
rescheduled by the scheduler on its own (up to `distributed.scheduler.allowed-failures` deaths).
Results are gathered by task position, so each run (and each replicate range) appears exactly once,
in the order submitted, whatever order the tasks finish in.

`dask.distributed` is optional: it is imported here, inside the factory, and a missing package
raises `MissingDependency` naming `pip install "simqa[dask]"`.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sim.errors import ClusterError, MissingDependency
from sim.executors import TASKS_PER_SLOT, Progress, _collect, plan_tasks, run_group

T = TypeVar("T")
R = TypeVar("R")

CONNECT_TIMEOUT_S = 10.0
WORKER_WAIT_S = 30.0  # how long a map waits for the first worker to join before giving up
DEFAULT_RETRIES = 3


# glibc mallopt parameters (malloc.h) and the values its own adaptation reaches at most on 64-bit.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
ADAPTED_MMAP_THRESHOLD = 32 * 2**20  # DEFAULT_MMAP_THRESHOLD_MAX, glibc malloc/malloc.c
ADAPTED_TRIM_THRESHOLD = 2 * ADAPTED_MMAP_THRESHOLD  # glibc sets trim = 2 x mmap threshold as it adapts
_malloc_tuned = False


def _undo_eager_trim() -> None:
    """Give numpy back glibc's adaptive allocator on a Dask worker.

    Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536 so that freed memory returns to
    the OS at once. Setting it switches off glibc's adaptive mmap threshold, so every numpy
    temporary over 128 KiB becomes a fresh mmap whose pages fault in again: the abm ran 2.7x slower
    on a worker than in process (benchmarks/README.md, "## dask"). This sets the thresholds the
    adaptation would reach. A run's arrays are freed when it ends, so memory still goes back.
    """
    global _malloc_tuned
    if _malloc_tuned or not sys.platform.startswith("linux") or "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    _malloc_tuned = True
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, ADAPTED_MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, ADAPTED_TRIM_THRESHOLD)
    except (OSError, AttributeError):  # not glibc (musl, another libc): nothing to undo
        pass


def worker_task(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """What a Dask task runs: the items of one group, on a worker whose allocator suits numpy."""
    _undo_eager_trim()
    return run_group(fn, items)


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise MissingDependency(
            "dask[distributed]", extra="dask", purpose="running experiments on a Dask cluster"
        ) from None
    return distributed


class DaskExecutor:
    """Submits grouped runs to a Dask cluster through `client`; see the module docstring."""

    def __init__(self, client: Any, *, retries: int = DEFAULT_RETRIES, tasks_per_slot: int = TASKS_PER_SLOT) -> None:
        self.client = client
        self.retries = retries
        self.tasks_per_slot = tasks_per_slot
        self.name = "dask"

    def slots(self) -> int:
        """Worker threads in the cluster now; waits up to WORKER_WAIT_S for the first worker."""
        nthreads = self.client.nthreads()
        if not nthreads:
            try:
                self.client.wait_for_workers(1, timeout=WORKER_WAIT_S)
            except TimeoutError:
                raise ClusterError(
                    f"the Dask scheduler at {self.client.scheduler.address} has no workers after {WORKER_WAIT_S:g} s: "
                    "start some with `dask worker <scheduler address>`"
                ) from None
            nthreads = self.client.nthreads()
        return max(1, sum(nthreads.values()))

    def task_count(self) -> int:
        """Tasks a map is cut into: `tasks_per_slot` per worker thread now in the cluster."""
        return self.tasks_per_slot * self.slots()

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        progress: Progress | None = None,
        cost: Sequence[float] | None = None,
    ) -> list[R]:
        if not items:
            return []
        distributed = _distributed()
        groups = plan_tasks(len(items), self.task_count(), cost)
        batch = uuid.uuid4().hex[:12]
        futures = {
            self.client.submit(
                worker_task, fn, [items[i] for i in g], key=f"simqa-runs-{batch}-{k}", retries=self.retries, pure=False
            ): g
            for k, g in enumerate(groups)
        }
        try:
            return _collect(
                futures,
                len(items),
                progress,
                cancel=lambda: self.client.cancel(list(futures)),
                completed=lambda fs: distributed.as_completed(fs, loop=self.client.loop),
            )
        except distributed.KilledWorker as exc:
            raise ClusterError(
                f"a task killed every worker that ran it ({exc}); the run is probably out of memory on the "
                "workers: give them more memory (`dask worker --memory-limit`) or ask for fewer agents"
            ) from None


_lock = threading.Lock()
_executors: dict[str, DaskExecutor] = {}


def dask_executor(address: str, *, retries: int = DEFAULT_RETRIES) -> DaskExecutor:
    """An executor connected to the scheduler at `address` (`tcp://host:8786`), reused per address."""
    distributed = _distributed()
    with _lock:
        existing = _executors.get(address)
        if existing is not None and existing.client.status == "running":
            return existing
        try:
            client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {address!r} ({exc}): start one with `dask scheduler`, "
                "or unset SIMQA_DASK_ADDRESS to run in this process"
            ) from None
        executor = DaskExecutor(client, retries=retries)
        _executors[address] = executor
        return executor
