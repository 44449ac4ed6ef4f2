"""Dask speed: an abm sweep in process against a local Dask cluster, and a model of scaling.

    .venv/bin/python benchmarks/bench_dask.py [--agents 200000] [--days 180] [--runs 16] [--workers 2]

(a) a sweep of `--runs` abm runs (R0 from 1.5 to 3.0, one replicate each) through
    `InProcessExecutor` and through `DaskExecutor` on a `LocalCluster` of `--workers` single-thread
    worker processes on loopback; the script checks that both give the same numbers. Each is timed
    twice: the first sweep (in process: building the synthetic population; on the cluster: also each
    worker's first imports) and the same sweep again (a long-lived cluster's steady state). Starting
    the cluster is reported on its own.
(b) the per-task overhead: `--empty-tasks` empty tasks through the same executor, one item per
    task; overhead = wall x workers / tasks (the worker time each task costs beyond its work).
(c) the model T(w) = T_serial / w + overhead x tasks / w + fixed, where T_serial is the in-process
    sweep with one BLAS thread (as on a Dask worker) and fixed is what the second
    sweep on the smallest cluster took beyond the first two terms (gathering, the client's share),
    checked against the other measured worker counts and extrapolated to 64 workers. With whole runs as tasks, w beyond the number of runs adds nothing: the model uses
    ceil(runs / w) runs on the busiest worker rather than runs / w.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import subprocess
import sys
import time
from typing import Any

import numpy as np

import sim
from sim.executors import TASKS_PER_SLOT, InProcessExecutor
from sim.experiments import SweepSpec, sweep


def noop(item: int) -> int:
    return item


def comparable(result: sim.Result) -> dict[str, Any]:
    return result.model_dump(exclude={"meta": {"wall_ms", "created_at", "executor"}})


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--workers", default="2", help="comma-separated worker counts, e.g. 2,4,8")
    parser.add_argument("--empty-tasks", type=int, default=400)
    parser.add_argument("--serial-only", action="store_true", help="print the in-process seconds and stop")
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",")]

    from distributed import Client, LocalCluster

    from sim.dask_executor import DaskExecutor

    base = {"model": "abm", "params": {"population": args.agents, "days": args.days, "replicates": 1, "seed": 1}}
    spec = SweepSpec(param="r0", values=[float(v) for v in np.round(np.linspace(1.5, 3.0, args.runs), 3)])
    if args.serial_only:
        sweep(base, spec, executor=InProcessExecutor())  # builds the population
        print(timed(lambda: sweep(base, spec, executor=InProcessExecutor()))[0])
        return
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {args.runs} abm runs x {args.agents} agents x {args.days} days"
    )

    # In process: the first sweep builds the synthetic population, the second reuses it.
    serial_cold, local = timed(lambda: sweep(base, spec, executor=InProcessExecutor()))
    serial, _ = timed(lambda: sweep(base, spec, executor=InProcessExecutor()))
    expected = [comparable(r) for r in local]
    # Dask workers run with one BLAS/OpenMP thread; the same in a fresh process gives one core's time.
    one_thread = {**os.environ, **{v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
    command = [sys.executable, __file__, "--serial-only", "--agents", str(args.agents), "--days", str(args.days)]
    out = subprocess.run(
        [*command, "--runs", str(args.runs)], env=one_thread, capture_output=True, text=True, check=True
    )
    serial_one_core = float(out.stdout.strip().splitlines()[-1])
    print(
        f"in process: first {serial_cold:.2f} s, again {serial:.2f} s; again with one BLAS thread {serial_one_core:.2f} s"
    )

    rows = []
    for workers in worker_counts:
        cluster_start, (cluster, client) = timed(lambda w=workers: start_cluster(LocalCluster, Client, w))
        try:
            executor = DaskExecutor(client)
            tasks = min(args.runs, executor.tasks_per_slot * executor.slots())
            cold, remote = timed(lambda ex=executor: sweep(base, spec, executor=ex))
            warm, remote_again = timed(lambda ex=executor: sweep(base, spec, executor=ex))
            same = [comparable(r) for r in remote] == expected == [comparable(r) for r in remote_again]
            empty = DaskExecutor(client, tasks_per_slot=args.empty_tasks)  # one item per task
            empty.map(noop, list(range(4 * workers)))  # warm-up
            wall, _ = timed(lambda ex=empty: ex.map(noop, list(range(args.empty_tasks))))
            overhead = wall * workers / args.empty_tasks
        finally:
            client.close()
            cluster.close()
        print(
            f"{workers} workers: start {cluster_start:.2f} s, first sweep {cold:.2f} s, again {warm:.2f} s "
            f"in {tasks} tasks, same numbers: {same}, overhead {overhead * 1000:.2f} ms a task"
        )
        rows.append((workers, tasks, cold, warm, overhead))

    run_s = serial_one_core / args.runs
    print()
    print("| scenario | ours | peer | ratio |")
    print("|---|---|---|---|")
    for workers, _, cold, warm, _ in rows:
        what = f"{args.runs} abm runs x {args.agents:,} agents x {args.days} d, {workers}-worker LocalCluster vs in process"
        print(f"| {what}, first sweep | {cold:.2f} s | {serial_cold:.2f} s | {serial_cold / cold:.2f}x |")
        print(f"| same, again (workers warm) | {warm:.2f} s | {serial:.2f} s | {serial / warm:.2f}x |")

    # Fit `fixed` at the smallest cluster, predict the others, extrapolate.
    w0, tasks0, _, warm0, overhead = rows[0]
    fixed = warm0 - math.ceil(args.runs / w0) * run_s - overhead * tasks0 / w0
    print(
        f"\nT_serial = {serial_one_core:.2f} s on one core ({run_s:.2f} s a run), overhead = {overhead * 1000:.2f} ms a task, fixed = {fixed:.2f} s"
    )

    def model(w: int, runs: int) -> float:
        n_tasks = min(runs, TASKS_PER_SLOT * w)
        return math.ceil(runs / w) * run_s + overhead * n_tasks / w + fixed

    measured = {w: warm for w, _, _, warm, _ in rows}
    print(f"| workers | model T(w), this sweep | measured | model T(w), 1000 runs of {args.agents:,} agents |")
    print("|---|---|---|---|")
    for w in sorted({1, 2, 4, 8, 16, 32, 64} | set(measured)):
        seen = f"{measured[w]:.2f} s" if w in measured else ""
        print(f"| {w} | {model(w, args.runs):.2f} s | {seen} | {model(w, 1000):.1f} s |")


def start_cluster(local_cluster: Any, client_cls: Any, workers: int) -> tuple[Any, Any]:
    cluster = local_cluster(
        n_workers=workers, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    )
    client = client_cls(cluster, set_as_default=False)
    client.wait_for_workers(workers)
    return cluster, client


if __name__ == "__main__":
    main()
