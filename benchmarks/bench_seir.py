"""SEIR speed: the vectorised ensemble and batch ODE against the naive way of writing them.

    .venv/bin/python benchmarks/bench_seir.py

(a) stochastic ensemble, 1,000 replicates x 365 days, population 1e6: `sim.models.seir.run` (numpy
    arrays over replicates) vs the same chain-binomial as a plain Python loop over replicates.
(b) deterministic sweep over 1,000 R0 values: `batch_run` (one stacked ODE solve) vs 1,000 separate
    `solve_ivp` calls on a plain scalar SEIR right-hand side with the same solver and tolerances.
Each "ours" figure is the best of several runs after a warm-up; each peer runs once.
"""

# sim.params gives defaults as positional Field arguments, which mypy reads as required ones.
# mypy: disable-error-code="call-arg"

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_ivp

from sim.models.seir import ODE_ATOL_PEOPLE, ODE_RTOL, SEIRParams, batch_run, run, substeps_per_day


def best_of(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: imports, allocator, first-call overheads
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return min(timings)


def once(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def naive_ensemble(params: SEIRParams) -> np.ndarray:
    """The chain-binomial of `simulate_stochastic` (no interventions), one replicate at a time."""
    rng = np.random.default_rng(params.seed)
    dt = 1.0 / substeps_per_day(params)
    pressure = params.r0 / params.infectious_days * dt / params.population
    p_progress = dt / params.incubation_days
    p_recover = dt / params.infectious_days
    attack = np.empty(params.replicates)
    for replicate in range(params.replicates):
        s, e, i = params.population - params.initial_infected, 0, params.initial_infected
        for _day in range(params.days):
            for _ in range(substeps_per_day(params)):
                infected = rng.binomial(s, -math.expm1(-pressure * i))
                progressing = rng.binomial(e, p_progress)
                recovering = rng.binomial(i, p_recover)
                s, e, i = s - infected, e + infected - progressing, i + progressing - recovering
        attack[replicate] = 1 - s / params.population
    return attack


def naive_sweep(params_list: list[SEIRParams]) -> np.ndarray:
    """One solve_ivp call per parameter set on the textbook SEIR equations (population shares)."""

    def seir(_t: float, y: np.ndarray, beta: float, sigma: float, gamma: float) -> list[float]:
        s, e, i, _r = y
        infections = beta * s * i
        return [-infections, infections - sigma * e, sigma * e - gamma * i, gamma * i]

    attack = np.empty(len(params_list))
    for k, p in enumerate(params_list):
        share = p.initial_infected / p.population
        solution = solve_ivp(
            seir,
            (0, p.days),
            [1 - share, 0.0, share, 0.0],
            method="LSODA",
            t_eval=np.arange(p.days + 1),
            args=(p.r0 / p.infectious_days, 1 / p.incubation_days, 1 / p.infectious_days),
            rtol=ODE_RTOL,
            atol=ODE_ATOL_PEOPLE / p.population,
        )
        attack[k] = 1 - solution.y[0, -1]
    return attack


def main() -> None:
    rows = []

    ensemble = SEIRParams(population=1_000_000, replicates=1000, days=365, seed=1)
    ours = best_of(lambda: run(ensemble, []), repeats=5)
    peer, peer_attack = once(lambda: naive_ensemble(ensemble))
    assert isinstance(peer_attack, np.ndarray)
    our_attack = run(ensemble, []).metrics["attack_rate"]
    check = f"mean attack rate {our_attack.mean():.4f} vs {peer_attack.mean():.4f}"
    rows.append(("(a) stochastic 1000 reps x 365 d, N=1e6", ours, peer, check))

    sweep = [SEIRParams(r0=r0, days=365) for r0 in np.linspace(1.1, 5.0, 1000)]
    ours = best_of(lambda: batch_run(sweep, [[]] * len(sweep)), repeats=3)
    peer, peer_sweep = once(lambda: naive_sweep(sweep))
    assert isinstance(peer_sweep, np.ndarray)
    batch_attack = np.array([o.metrics["attack_rate"][0] for o in batch_run(sweep, [[]] * len(sweep))])
    worst = np.max(np.abs(batch_attack - peer_sweep) / peer_sweep)
    rows.append(("(b) deterministic sweep, 1000 sets", ours, peer, f"max relative difference {worst:.1e}"))

    print("scenario | ours | peer | ratio")
    print("---|---|---|---")
    for name, ours_s, peer_s, _ in rows:
        print(f"{name} | {ours_s:.3f} s | {peer_s:.3f} s | {peer_s / ours_s:.0f}x")
    print()
    for name, _, _, check in rows:
        print(f"{name}: {check}")


if __name__ == "__main__":
    main()
