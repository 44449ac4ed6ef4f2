"""Covasim 3.1.7 side of benchmarks/bench_abm.py, run in its own interpreter (covasim pins its own
numpy/numba, so it lives in a separate virtualenv, `.venv-bench` by default).

Prints one JSON line: wall and CPU seconds (each the best of `--repeats` timed runs after one small warm-up run, which
compiles covasim's numba kernels), agents, days, attack rate and peak resident memory.

Run: .venv-bench/bin/python benchmarks/abm_covasim.py --agents 100000 --days 180
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np


def one_run(agents: int, days: int, seed: int, closure: tuple[int, int]) -> tuple[float, float, float]:
    import covasim as cv

    start, start_cpu = time.perf_counter(), time.process_time()
    # school closure: clip_edges removes every school-layer contact from day start to day end
    closure_edges = cv.clip_edges(days=list(closure), changes=[0.0, 1.0], layers="s")
    model = cv.Sim(
        pop_size=agents,
        pop_type="hybrid",  # households, schools, workplaces, community
        n_days=days,
        pop_infected=10,
        rand_seed=seed,
        verbose=0,
        use_waning=False,  # no waning immunity or reinfection, as in our model (and faster for covasim)
        interventions=[closure_edges],
    )
    model.run()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    ever_infected = int((~np.isnan(model.people.date_exposed)).sum())
    return seconds, cpu_seconds, ever_infected / agents


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--closure-start", type=int, default=30)
    parser.add_argument("--closure-days", type=int, default=60)
    args = parser.parse_args()
    closure = (args.closure_start, args.closure_start + args.closure_days)
    one_run(2_000, 10, 0, (2, 5))  # warm-up: numba compilation and imports are not timed
    timings = [one_run(args.agents, args.days, seed, closure) for seed in range(1, args.repeats + 1)]
    import covasim

    print(
        json.dumps(
            {
                "peer": f"covasim {covasim.__version__}",
                "seconds": min(t[0] for t in timings),
                "cpu_seconds": min(t[1] for t in timings),
                "attack_rate": timings[0][2],
                "agents": args.agents,
                "days": args.days,
                "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
