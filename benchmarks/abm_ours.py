"""Our side of benchmarks/bench_abm.py in a fresh process, so that peak memory (ru_maxrss) counts
only this one scenario: builds the population and runs `sim.run` on it.

Prints one JSON line: wall and CPU seconds (each the best of `--repeats`, the population rebuilt each time), attack
rate and peak resident memory of the whole process.

Run: .venv/bin/python benchmarks/abm_ours.py --agents 1000000 --days 180
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import sim
from sim.models import abm


def one_run(agents: int, days: int, seed: int, closure: tuple[int, int]) -> tuple[float, float, float]:
    abm._cached_population.cache_clear()  # time the population build too, as covasim's
    start, start_cpu = time.perf_counter(), time.process_time()
    result = sim.run(
        {
            "model": "abm",
            "params": {"population": agents, "days": days, "initial_infected": 10, "seed": seed},
            "interventions": [
                {"type": "school_closure", "start_day": closure[0], "duration_days": closure[1] - closure[0]}
            ],
        }
    )
    return time.perf_counter() - start, time.process_time() - start_cpu, result.scalar("attack_rate")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--closure-start", type=int, default=30)
    parser.add_argument("--closure-days", type=int, default=60)
    args = parser.parse_args()
    closure = (args.closure_start, args.closure_start + args.closure_days)
    one_run(2_000, 10, 0, (2, 5))  # warm-up: imports are not timed
    timings = [one_run(args.agents, args.days, seed, closure) for seed in range(1, args.repeats + 1)]
    print(
        json.dumps(
            {
                "peer": "simqa abm",
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
