"""What the epidemic models (seir, abm) report the same way: the horizon of a run, and the two kinds
of outcome of a stochastic epidemic (it dies out early, or it becomes a major outbreak).

Horizon: when the question states no `days`, a run goes on until the epidemic is over (no one
exposed or infectious; the ODE: under half a person), at most to the model's cap, and `end_day` is
the day it ended. When `days` is stated the run still goes on past it, only to measure by how much
the attack rate would grow if the epidemic were followed to its end; the results stop at `days`.

Outbreaks: with replicates, an epidemic that starts from a few cases either dies out while it is
still small or takes off. A mean over both kinds (and its central range) describes neither, so when
some replicates die out the results add the probability of a major outbreak (with a Wilson 95%
interval) and the attack rate of a major outbreak (mean and central 95% range over the major ones).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# A replicate "died out" (a minor outbreak) when it ended with fewer than this share of the
# population ever infected; above it, a major outbreak.
MINOR_OUTBREAK_ATTACK_RATE = 0.01
# Normal quantile of the two-sided 95% Wilson score interval of a probability.
Z_95 = 1.959963984540054


def whole(x: float) -> int:
    """People as whole people (half a person and more is one)."""
    return math.floor(float(x) + 0.5)


def people_text(x: float) -> str:
    n = whole(x)
    return f"{n:,} {'person' if n == 1 else 'people'}"


def wilson_interval(successes: int, trials: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a binomial probability (Wilson 1927, JASA 22:209)."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denom = 1 + Z_95**2 / trials
    centre = (p + Z_95**2 / (2 * trials)) / denom
    half = Z_95 * math.sqrt(p * (1 - p) / trials + Z_95**2 / (4 * trials**2)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Outbreaks:
    """The run-level summary of which replicates died out and how large the others were."""

    metrics: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    note: str


def outbreak_summary(attack_rates: np.ndarray, ended: np.ndarray | None = None) -> Outbreaks | None:
    """The probability of a major outbreak and the attack rate of a major outbreak, when at least one
    replicate died out; None when every replicate took off (or only one ran).

    ended: per replicate, whether it was over at the end (a replicate still going is not counted as
    having died out, however small).
    """
    attack = np.asarray(attack_rates, dtype=float)
    n = attack.size
    minor = attack < MINOR_OUTBREAK_ATTACK_RATE
    if ended is not None:
        minor &= np.asarray(ended, dtype=bool)
    died_out = int(minor.sum())
    if n < 2 or died_out == 0:
        return None
    major = n - died_out
    lo, hi = wilson_interval(major, n)
    metrics = {"major_outbreak_probability": major / n}
    intervals = {"major_outbreak_probability": (lo, hi)}
    early = f"died out early (under {MINOR_OUTBREAK_ATTACK_RATE:.0%} of the population infected)"
    if major == 0:
        note = (
            f"all {n} replicates {early}: no major outbreak in {n} replicates (probability 0%, 95% CI 0% to {hi:.0%})"
        )
    else:
        note = (
            f"{died_out} of {n} replicates {early}, so the mean attack rate mixes two kinds of outcome: a major "
            f"outbreak happened in {major} of {n} replicates (probability {major / n:.0%}, 95% CI {lo:.0%} to {hi:.0%})"
        )
    if major:
        sizes = attack[~minor]
        size_lo, size_hi = np.percentile(sizes, [2.5, 97.5]) if major > 1 else (sizes[0], sizes[0])
        metrics["major_outbreak_attack_rate"] = float(sizes.mean())
        intervals["major_outbreak_attack_rate"] = (float(size_lo), float(size_hi))
        note += (
            f"; a major outbreak infects {sizes.mean():.1%} of the population "
            f"({size_lo:.1%} to {size_hi:.1%} over the major ones)"
        )
    return Outbreaks(metrics=metrics, intervals=intervals, note=note)


def horizon_notes(
    stated_days: int | None,
    cap: int,
    end_day: np.ndarray,
    over: np.ndarray,
    active_at_end: np.ndarray,
    attack_at_end: np.ndarray,
    attack_final: np.ndarray,
    final_day: np.ndarray,
    final_over: np.ndarray,
) -> list[str]:
    """Notes on where the run stopped, per replicate arrays (one value for the ODE).

    end_day: the last day reported; over: whether the epidemic was over by then; active_at_end:
    people still exposed or infectious then; attack_at_end: the attack rate then; attack_final,
    final_day, final_over: the same after running on (to the end of the epidemic, at most the cap).
    """
    n = end_day.size
    several = n > 1
    if stated_days is None:
        if over.all():
            when = (
                f"on day {int(end_day[0])}"
                if not several or end_day.min() == end_day.max()
                else f"between day {int(end_day.min())} and day {int(end_day.max())} (replicate by replicate)"
            )
            return [
                f"no horizon stated: the run went on until the epidemic was over (no one exposed or infectious) "
                f"{when}; the attack rate is final"
            ]
        going = int((~over).sum())
        which = f"{going} of {n} replicates were" if several else "the epidemic was"
        return [
            f"no horizon stated: {which} not over by day {cap}, the longest run allowed; "
            f"{people_text(float(np.mean(active_at_end)))} {'(mean) ' if several else ''}were still exposed or "
            "infectious, so the attack rate is not final"
        ]
    if over.all():
        return []
    going = int((~over).sum())
    still = (
        f"in {going} of {n} replicates people were still exposed or infectious "
        f"({people_text(float(np.sum(active_at_end)))} in all)"
        if several
        else f"{people_text(float(active_at_end[0]))} were still exposed or infectious"
    )
    grown_from, grown_to = float(np.mean(attack_at_end)), float(np.mean(attack_final))
    until = (
        f"until the epidemic is over (day {int(final_day.max())}{' for the last replicate' if several else ''})"
        if final_over.all()
        else f"to day {cap}, the longest run allowed (still not over)"
    )
    growth = (grown_to - grown_from) * 100
    mean = " (mean over replicates)" if several else ""
    return [
        f"the attack rate is not final: on day {stated_days}, the end of the run, {still}; run on {until}, "
        f"the attack rate{mean} grows by {growth:.2g} percentage points, from {grown_from:.1%} to {grown_to:.1%}"
    ]
