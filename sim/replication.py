"""How many replicates an experiment runs when the question does not say.

A stochastic model run once gives one draw of its randomness, not an answer: a comparison or a sweep
of a stochastic model runs `DEFAULT_REPLICATES` replicates of every scenario, a calibration
`CALIBRATION_REPLICATES`, unless the scenario states `replicates` (translators write only what the
question states, so `"replicates" in scenario.params` says whether it was stated), lowered to what
fits the resource cap. A model that is deterministic as stated (seir with one replicate: its ODE)
keeps one run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.caps import max_work
from sim.params import MAX_REPLICATES
from sim.scenario import Scenario, resolve

# 10 replicates for a comparison or a sweep: enough for a central range of outcomes and a paired t
# interval of a difference (9 degrees of freedom). 20 for a calibration: its target is met by the mean
# of the replicates, and a share of replicates ("in 90% of shifts") is resolved to 5 points.
DEFAULT_REPLICATES = 10
CALIBRATION_REPLICATES = 20


@dataclass(frozen=True)
class ReplicatePlan:
    """`replicates`: the override to run with (None: what the scenario says); `note`: why, when the
    engine chose it."""

    replicates: int | None
    note: str | None = None


def plan_replicates(
    base: Scenario, explicit: int | None, what: str, runs: int = 1, need_spread: bool = False
) -> ReplicatePlan:
    """The replicates of each run of an experiment on `base` (`what`: "comparison", "sweep", "calibration").

    explicit: a caller's override (`simqa run --replicates`), used as it is. runs: how many runs
    share the resource cap (the scenarios of a comparison, the values of a sweep). need_spread: the
    experiment needs replicates even where the model is deterministic with one (a probability target).
    """
    if explicit is not None:
        return ReplicatePlan(explicit)
    if "replicates" in base.params:
        return ReplicatePlan(None)
    resolved = resolve(base)
    spec = resolved.spec
    if not (need_spread or spec.is_stochastic(resolved.params)):
        return ReplicatePlan(None)
    wanted = CALIBRATION_REPLICATES if what == "calibration" else DEFAULT_REPLICATES
    one = spec.work_units(resolved.params.model_copy(update={"replicates": 1}))
    fits = math.floor(max_work() / max(one * max(runs, 1), 1e-12))
    chosen = max(1, min(wanted, MAX_REPLICATES, fits))
    why = (
        f"lowered from {wanted} to fit the resource cap"
        if chosen < wanted
        else f"the default for a {what} of a stochastic model"
    )
    each = "each scenario" if what == "comparison" else "each run"
    return ReplicatePlan(chosen, f"replicates not stated: {each} ran {chosen} replicates ({why})")
