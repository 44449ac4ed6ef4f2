"""One abm run of 200,000 agents x 180 days x 8 replicates: in process against a 2-worker LocalCluster
that splits its replicates (8 pieces); prints both timings, twice each, and whether the numbers agree.

Run: .venv/bin/python benchmarks/bench_dask_split.py
"""

import time

import distributed

import sim
from sim.dask_executor import DaskExecutor
from sim.executors import InProcessExecutor

S = {"model": "abm", "params": {"population": 200_000, "days": 180, "replicates": 8, "seed": 1}}


def timed(executor):
    start = time.perf_counter()
    result = sim.run(S, executor=executor)
    return time.perf_counter() - start, result.model_dump(exclude={"meta": {"wall_ms", "created_at", "executor"}})


if __name__ == "__main__":
    here = [timed(InProcessExecutor()) for _ in range(2)]
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as c,
        distributed.Client(c, set_as_default=False) as client,
    ):
        client.wait_for_workers(2)
        there = [timed(DaskExecutor(client)) for _ in range(2)]
    same = all(r == here[0][1] for _, r in here + there)
    print("in process", [round(t, 2) for t, _ in here], "cluster", [round(t, 2) for t, _ in there], "same:", same)
