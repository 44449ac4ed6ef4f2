"""Regression baseline: fixed scenarios per model and their metrics, updated only on purpose.

    python -m sim.baseline --update     # after a deliberate change to a model's numbers
    python -m sim.baseline              # compare: exit 1 and list what moved

The file is tests/sim/baseline.json; a test runs the same comparison. A change of numbers must
come with a bump of `sim.version.ENGINE_VERSION` (stored runs of the old engine are then not reused).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from sim.runner import run
from sim.version import ENGINE_VERSION

BASELINE_PATH = Path(__file__).resolve().parents[1] / "tests" / "sim" / "baseline.json"
REL_TOL = 1e-6

SCENARIOS: dict[str, dict[str, Any]] = {
    "seir-ode": {"model": "seir", "params": {"population": 100_000, "r0": 2.5, "days": 200}},
    "seir-ode-interventions": {
        "model": "seir",
        "params": {"population": 100_000, "r0": 3.0, "days": 200},
        "interventions": [
            {"type": "contact_reduction", "start_day": 20, "duration_days": 40, "effectiveness": 0.4},
            {"type": "vaccination", "start_day": 10, "daily_rate": 0.005, "efficacy": 0.8},
        ],
    },
    "seir-stochastic": {"model": "seir", "params": {"population": 50_000, "r0": 2.0, "replicates": 20, "seed": 7}},
    "abm-school-closure": {
        "model": "abm",
        "params": {"population": 5_000, "r0": 2.5, "days": 120, "replicates": 2, "seed": 3},
        "interventions": [{"type": "school_closure", "start_day": 20, "duration_days": 28}],
    },
    "delivery": {
        "model": "delivery",
        "params": {"orders_per_hour": 150, "couriers": 20, "hours": 4, "replicates": 3, "seed": 11},
    },
}


def compute() -> dict[str, Any]:
    out: dict[str, Any] = {"engine_version": ENGINE_VERSION, "scenarios": {}}
    for name, scenario in SCENARIOS.items():
        result = run(scenario)
        out["scenarios"][name] = {"scenario": scenario, "metrics": result.metrics}
    return out


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=1e-9)
    return bool(a == b)


def differences(stored: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """What moved between the stored baseline and a fresh run, one line per metric."""
    moved = []
    for name, entry in fresh["scenarios"].items():
        old = stored.get("scenarios", {}).get(name)
        if old is None:
            moved.append(f"{name}: not in the stored baseline")
            continue
        for metric, value in entry["metrics"].items():
            if not _close(old["metrics"].get(metric), value):
                moved.append(f"{name}.{metric}: stored {old['metrics'].get(metric)!r}, now {value!r}")
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.baseline", description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write the current numbers as the new baseline")
    parser.add_argument("--path", type=Path, default=BASELINE_PATH)
    args = parser.parse_args(argv)
    fresh = compute()
    if args.update:
        args.path.write_text(json.dumps(fresh, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {args.path} ({len(fresh['scenarios'])} scenarios)")
        return 0
    stored = json.loads(args.path.read_text(encoding="utf-8"))
    moved = differences(stored, fresh)
    for line in moved:
        print(line)
    if not moved:
        print("baseline matches")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
