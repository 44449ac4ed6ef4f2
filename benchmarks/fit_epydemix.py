"""epydemix side of benchmarks/bench_fit.py: ABC-SMC calibration of R0 to the same daily cases, run
in its own interpreter (`.venv-epydemix` by default: `python -m venv .venv-epydemix &&
.venv-epydemix/bin/pip install epydemix`).

The model is epydemix's own stochastic SEIR (chain binomial, its default step of one day) on a
single well-mixed group of the stated population (`use_default_population=True`: nothing is
downloaded), with the stated incubation and infectious periods and initial cases; R0 has a uniform
prior on [1, 3]; the distance is epydemix's default (root mean square error of the daily counts of
people becoming infectious, E to I). Prints one JSON line: seconds (wall and CPU), simulations, the
posterior median of R0 and its central 95% (weighted by the particles' weights).

Run: .venv-epydemix/bin/python benchmarks/fit_epydemix.py CASES.json --particles 500 --generations 6
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: list[float]) -> list[float]:
    order = np.argsort(values)
    v, w = values[order], weights[order] / weights.sum()
    cumulative = np.cumsum(w) - 0.5 * w
    return [float(np.interp(q, cumulative, v)) for q in qs]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("cases", help="JSON: {counts, population, initial_infected, incubation_days, infectious_days}")
    parser.add_argument("--particles", type=int, default=500)
    parser.add_argument("--generations", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with open(args.cases, encoding="utf-8") as handle:
        spec = json.load(handle)
    counts = np.asarray(spec["counts"], dtype=float)
    days = counts.size
    population, initial = int(spec["population"]), int(spec["initial_infected"])
    gamma, sigma = 1.0 / spec["infectious_days"], 1.0 / spec["incubation_days"]

    warnings.filterwarnings("ignore")
    from epydemix import EpiModel, simulate
    from epydemix.calibration import ABCSampler
    from scipy import stats

    start, start_cpu = time.perf_counter(), time.process_time()
    model = EpiModel(compartments=["S", "E", "I", "R"], use_default_population=True, default_population_size=population)
    model.add_transition("S", "E", kind="mediated", params=("beta", "I"))
    model.add_transition("E", "I", kind="spontaneous", params="sigma")
    model.add_transition("I", "R", kind="spontaneous", params="gamma")
    model.add_parameter(parameters_dict={"beta": 2.0 * gamma, "sigma": sigma, "gamma": gamma})
    initial_conditions = {
        "S": np.array([population - initial]),
        "E": np.array([0]),
        "I": np.array([initial]),
        "R": np.array([0]),
    }
    dates = {"start_date": "2020-01-01", "end_date": str(np.datetime64("2020-01-01") + days - 1)}

    runs = [0]

    def simulate_cases(params: dict) -> dict:
        runs[0] += 1
        # one contact matrix of 1: the force of infection is beta I / N, so R0 = beta / gamma
        trajectory = simulate(
            model,
            **dates,
            initial_conditions_dict=initial_conditions,
            beta=params["R0"] * gamma,
            rng=params.get("rng"),
        )
        return {"data": trajectory.transitions["E_to_I_total"]}

    sampler = ABCSampler(
        simulation_function=simulate_cases,
        priors={"R0": stats.uniform(1.0, 2.0)},
        parameters={},
        observed_data=counts,
        rng=args.seed,
    )
    results = sampler.calibrate(
        strategy="smc", num_particles=args.particles, num_generations=args.generations, verbose=False
    )
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    posterior = results.get_posterior_distribution()
    weights = np.asarray(results.get_weights(), dtype=float)
    median, low, high = weighted_quantiles(posterior["R0"].to_numpy(), weights, [0.5, 0.025, 0.975])
    simulations = runs[0]
    print(
        json.dumps(
            {
                "peer": "epydemix ABC-SMC",
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "estimate": median,
                "interval": [low, high],
                "particles": args.particles,
                "generations": args.generations,
                "simulations": simulations,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
