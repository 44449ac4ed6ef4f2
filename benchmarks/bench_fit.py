"""Fitting R0 to daily cases, against epydemix's ABC-SMC calibration, on the same synthetic epidemics.

The epidemic of issue 13: R0 1.8, 200,000 people, 10 infectious on day 0, incubation 3 days,
infectious 5 days; 40 days of people becoming infectious, drawn from the textbook SEIR ODE
(scipy, written here) with Poisson noise, one data set per seed. Ours: `sim.fit.fit` of `seir`
(maximum likelihood, Poisson; 95% profile-likelihood interval) with the other values as stated.
Peer: epydemix's ABC-SMC (benchmarks/fit_epydemix.py) with its stochastic SEIR, a uniform prior on
[1, 3], in its own virtualenv (`SIMQA_BENCH_EPYDEMIX`, default `.venv-epydemix/bin/python`:
`python -m venv .venv-epydemix && .venv-epydemix/bin/pip install epydemix`). Each side times itself
in its own process (wall and CPU seconds of the whole calibration, after its imports); ours is
the best of `--repeats` after an untimed warm-up, the peer runs once per data set.

Run: .venv/bin/python benchmarks/bench_fit.py [--data-sets 3] [--particles 300] [--generations 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
TRUTH = {"population": 200_000, "r0": 1.8, "initial_infected": 10, "incubation_days": 3.0, "infectious_days": 5.0}
DAYS = 40


def plain_seir_new_cases(days: int) -> np.ndarray:
    """People becoming infectious each day (from d to d + 1), from the four SEIR equations."""
    n, i0 = TRUTH["population"], TRUTH["initial_infected"]
    gamma, sigma = 1 / TRUTH["infectious_days"], 1 / TRUTH["incubation_days"]
    beta = TRUTH["r0"] * gamma

    def rhs(t: float, y: np.ndarray) -> list[float]:
        s, e, i, _ = y
        infections = beta * s * i / n
        return [-infections, infections - sigma * e, sigma * e - gamma * i, sigma * e]

    sol = solve_ivp(rhs, (0, days), [n - i0, 0, i0, 0], t_eval=np.arange(days + 1), rtol=1e-10, atol=1e-8)
    return np.diff(sol.y[3])


def ours(counts: np.ndarray, repeats: int) -> dict:
    from sim.fit import FitSpec, fit
    from sim.observables import ObservedData

    stated = {k: v for k, v in TRUTH.items() if k != "r0"}
    data = ObservedData(index=np.arange(counts.size), columns={"new_cases": counts.astype(float)})
    best = None
    for _ in range(repeats + 1):  # the first is the warm-up
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fit({"model": "seir", "params": stated}, data, FitSpec(free=["r0"]))
        timing = (time.perf_counter() - start, time.process_time() - start_cpu)
        best = timing if best is None or timing[0] < best[0] else best
    r0 = out.estimate("r0")
    assert best is not None
    return {
        "seconds": best[0],
        "cpu_seconds": best[1],
        "estimate": r0.value,
        "interval": [r0.lower, r0.upper],
        "simulations": out.evaluations,
    }


def peer(python: str, counts: np.ndarray, particles: int, generations: int, seed: int) -> dict:
    spec = {**{k: v for k, v in TRUTH.items() if k != "r0"}, "counts": counts.tolist()}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(spec, handle)
    try:
        command = [
            python,
            str(HERE / "fit_epydemix.py"),
            handle.name,
            "--particles",
            str(particles),
            "--generations",
            str(generations),
            "--seed",
            str(seed),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    finally:
        os.unlink(handle.name)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-sets", type=int, default=3)
    parser.add_argument("--particles", type=int, default=300)
    parser.add_argument("--generations", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    python = os.environ.get("SIMQA_BENCH_EPYDEMIX", str(ROOT / ".venv-epydemix" / "bin" / "python"))
    expected = plain_seir_new_cases(DAYS)
    rows = []
    for seed in range(1, args.data_sets + 1):
        counts = np.random.default_rng(seed).poisson(expected)
        rows.append((ours(counts, args.repeats), peer(python, counts, args.particles, args.generations, seed)))

    truth = TRUTH["r0"]

    def mean(side: int, key: str) -> float:
        return float(np.mean([row[side][key] for row in rows]))

    def error(side: int) -> float:
        return float(np.mean([abs(row[side]["estimate"] / truth - 1) for row in rows]))

    def width(side: int) -> float:
        return float(np.mean([row[side]["interval"][1] - row[side]["interval"][0] for row in rows]))

    def covered(side: int) -> str:
        return f"{sum(r[side]['interval'][0] <= truth <= r[side]['interval'][1] for r in rows)}/{len(rows)}"

    label = f"{len(rows)} data sets, R0 of 40 days of cases"
    print(f"peer: epydemix ABC-SMC, {args.particles} particles x {args.generations} generations")
    print("scenario | ours | peer | ratio")
    print("---|---|---|---")
    print(
        f"{label}: wall seconds per fit | {mean(0, 'seconds'):.3f} | {mean(1, 'seconds'):.1f} | {mean(1, 'seconds') / mean(0, 'seconds'):.0f}x"
    )
    print(
        f"same: CPU seconds per fit | {mean(0, 'cpu_seconds'):.3f} | {mean(1, 'cpu_seconds'):.1f} | {mean(1, 'cpu_seconds') / mean(0, 'cpu_seconds'):.0f}x"
    )
    print(
        f"same: model runs per fit | {mean(0, 'simulations'):.0f} (ODE candidates) | {mean(1, 'simulations'):.0f} (stochastic runs) | -"
    )
    print(f"same: mean relative error of R0 | {error(0):.2%} | {error(1):.2%} | {error(1) / max(error(0), 1e-12):.1f}x")
    print(f"same: mean width of the 95% interval | {width(0):.3f} | {width(1):.3f} | {width(1) / width(0):.1f}x")
    print(f"same: intervals holding the true 1.8 | {covered(0)} | {covered(1)} | -")
    for seed, (a, b) in enumerate(rows, start=1):
        print(
            f"data set {seed}: R0 {a['estimate']:.3f} [{a['interval'][0]:.3f}, {a['interval'][1]:.3f}] | "
            f"{b['estimate']:.3f} [{b['interval'][0]:.3f}, {b['interval'][1]:.3f}] | -"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
