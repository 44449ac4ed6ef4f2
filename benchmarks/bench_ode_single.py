"""One seir ODE run against the bare `solve_ivp` calls it makes, side by side in one process.

    .venv/bin/python benchmarks/bench_ode_single.py [--repeats 40]

ours: `sim.run` of a seir scenario with one replicate (the deterministic ODE) end to end: validation,
the intervention schedule, the solve, the result and its notes.
peer: the very `solve_ivp` calls that run makes, recorded once and replayed with the same right-hand
side, spans, initial states and options; nothing else.
Both are timed interleaved, best of `--repeats` after a warm-up; the ratio is ours / peer (the target
is at most 1.5). Prints the table rows of benchmarks/README.md's "seir: one ODE run" section.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import scipy.integrate

import sim
import sim.models.seir as seir

SCENARIOS = {
    "defaults (100,000 people, R0 2.5, to the end)": {"model": "seir"},
    "contact reduction 50% days 30-60, 365 days": {
        "model": "seir",
        "params": {"days": 365},
        "interventions": [{"type": "contact_reduction", "start_day": 30, "duration_days": 30, "effectiveness": 0.5}],
    },
}


def recorded_calls(scenario: dict[str, Any]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """The arguments of every `solve_ivp` call one run of `scenario` makes."""
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    bare = seir.solve_ivp

    def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return bare(*args, **kwargs)

    seir.solve_ivp = recording  # type: ignore[assignment]
    try:
        sim.run(scenario)
    finally:
        seir.solve_ivp = bare
    return calls


def interleaved_best(first: Callable[[], object], second: Callable[[], object], repeats: int) -> tuple[float, float]:
    first(), second()  # warm-up: imports, caches, first-call overheads
    best = [float("inf"), float("inf")]
    for _ in range(repeats):
        for index, fn in enumerate((first, second)):
            start = time.perf_counter()
            fn()
            best[index] = min(best[index], time.perf_counter() - start)
    return best[0], best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()

    print("| scenario | ours (`sim.run`) | peer (its `solve_ivp` calls) | ratio |")
    print("|---|---|---|---|")
    for label, scenario in SCENARIOS.items():
        calls = recorded_calls(scenario)

        def replay(calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = calls) -> None:
            for call_args, call_kwargs in calls:
                scipy.integrate.solve_ivp(*call_args, **call_kwargs)

        def ours(scenario: dict[str, Any] = scenario) -> None:
            sim.run(scenario)

        ours_s, peer_s = interleaved_best(ours, replay, args.repeats)
        print(
            f"| single seir ODE run, {label}; {len(calls)} solve_ivp calls | {ours_s * 1000:.1f} ms "
            f"| {peer_s * 1000:.1f} ms | {ours_s / peer_s:.2f}x |"
        )


if __name__ == "__main__":
    main()
