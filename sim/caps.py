"""Resource caps: no question may exhaust the machine. Checked before anything runs.

Work is counted in "work units" that each model estimates (agent-days x replicates for the abm,
compartment-days x replicates for seir, orders x couriers x replicates for delivery). The defaults
keep one request to a few minutes on a laptop; `SIMQA_MAX_WORK` raises the cap for a cluster.
"""

from __future__ import annotations

import os

from sim.errors import CapExceeded

DEFAULT_MAX_WORK = 4e9  # ~ a 1,000,000-agent abm over 365 days x 10 replicates
MAX_SWEEP_VALUES = 1000
MAX_COMPARE_SCENARIOS = 12
MAX_CALIBRATION_RUNS = 150  # a scan of the range plus the refinement of each bracket


def max_work() -> float:
    raw = os.environ.get("SIMQA_MAX_WORK")
    if raw is None:
        return DEFAULT_MAX_WORK
    try:
        return float(raw)
    except ValueError:
        raise CapExceeded(f"SIMQA_MAX_WORK must be a number, got {raw!r}") from None


def check_work(units: float, what: str) -> None:
    limit = max_work()
    if units > limit:
        raise CapExceeded(
            f"{what} needs about {units:.3g} work units, over the cap of {limit:.3g}; "
            "use fewer agents, days, replicates or sweep values (or raise SIMQA_MAX_WORK on a bigger machine)",
            field="work",
            value=units,
            allowed=f"<= {limit:.3g}",
        )


def check_count(n: int, limit: int, what: str) -> None:
    if n > limit:
        raise CapExceeded(
            f"{what}: {n} requested, at most {limit} allowed",
            field=what,
            value=n,
            allowed=f"<= {limit}",
        )
