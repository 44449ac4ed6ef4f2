"""The agent-based epidemic model: a synthetic population mixing in households, schools,
workplaces and the community, one day at a time.

Transmission is frequency-dependent inside every group: a susceptible agent in a group of n
people with I infectious members receives a hazard of beta * weight(setting) * I / (n - 1) per
day. Per-group infectious counts come from `np.bincount`, the hazard of every susceptible from
one gather per setting: there is no Python loop over agents, only over days (and settings).

Common random numbers (the Sellke construction): every agent draws once per replicate an Exp(1)
threshold, its latent and infectious durations, whether it will have symptoms and whether it
would comply with isolation; it is infected on the first day its cumulative hazard passes its
threshold. Two scenarios run with the same seed therefore differ only through the interventions,
and an intervention that only lowers hazards can never add infections.

`beta` is calibrated so that the dominant eigenvalue of the next-generation matrix of the
synthetic population equals `r0` (docs/models/abm.md#calibrating-r0). The population is in
sim/models/abm_population.py; the model card is docs/models/abm.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import Field, model_validator

from sim.errors import ScenarioError
from sim.interventions import InterventionBase
from sim.models.abm_day import (
    DURATION_SHAPE,
    HOOKS,
    INFECTION_SOURCES,
    MAX_HORIZON_DAYS,
    NEVER,
    SETTINGS,
    intervention_schedule,
    setting_weights,
    simulate_replicate,
)
from sim.models.abm_language import LANGUAGE
from sim.models.abm_population import AGE_GROUPS, N_CONTACT_TYPES, Population, build_population
from sim.models.abm_r0 import GroupSetting, generation_corrections, reproduction_matrix, spectral_radius
from sim.models.epidemic import horizon_notes, outbreak_summary
from sim.models.epidemic_language import RUN_METRICS
from sim.models.observed import ABM_FIT_PARAMS, ABM_OBSERVABLES
from sim.models.seir import expected_epidemic_days
from sim.output import ModelOutput, replicate_seeds, stack_series
from sim.params import ModelParams
from sim.registry import ModelSpec

# Replicate streams are SeedSequence(seed).spawn(replicates) (`sim.output.replicate_seeds`); the
# population has its own stream, keyed above any replicate index, so it does not change with the
# number of replicates, and a range of replicates run on its own gives the numbers of the whole run.
POPULATION_STREAM = 1_000_000

METRICS = ("peak_infected", "peak_day", "attack_rate", "total_infected", "end_day")
INTERVENTIONS = HOOKS.supported
CORRECTION_ROUNDS = 1


class AbmParams(ModelParams):
    """Parameters of the agent-based model; every default carries its source."""

    population: int = Field(100_000, ge=100, le=10_000_000, description="number of agents (people)")
    # R0 of about 2.5 for SARS-CoV-2: Anderson et al. 2020, Lancet 395:931 (as the seir model).
    r0: float = Field(
        2.5, gt=0, le=20, description="basic reproduction number: next-generation R0 of the synthetic population"
    )
    days: int | None = Field(
        None,
        ge=1,
        le=MAX_HORIZON_DAYS,
        description=(
            "days simulated (series have days + 1 values, day 0..days); unstated: until the epidemic is over "
            f"(no one exposed or infectious, nothing imported), at most {MAX_HORIZON_DAYS}"
        ),
    )
    initial_infected: int = Field(
        10, ge=1, le=10_000_000, description="agents infectious on day 0, chosen at random (counted in attack rate)"
    )
    # mean incubation period 5.2 days: Li et al. 2020, NEJM 382:1199; used as the latent period (as seir).
    incubation_days: float = Field(5.2, ge=1, le=30, description="mean days from infection to becoming infectious")
    # 3.7 days: with gamma periods of shape 4 the mean generation time is incubation + 0.625 x
    # infectious = 7.5 days, the mean serial interval of Li et al. 2020, NEJM 382:1199.
    infectious_days: float = Field(3.7, ge=1, le=30, description="mean days a case stays infectious")
    # share of SARS-CoV-2 infections with symptoms: 20% (95% CI 17-25%) stayed asymptomatic throughout,
    # Buitrago-Garcia et al. 2020, PLoS Med 17:e1003346 (living systematic review and meta-analysis).
    symptomatic_fraction: float = Field(
        0.8, ge=0, le=1, description="share of infections with symptoms (only these can be detected)"
    )
    # cases found by symptom-based surveillance were isolated on average 4.6 days after symptom onset,
    # Bi et al. 2020, Lancet Infect Dis 20:911 (2.7 with contact tracing, which the model does not do); as seir.
    isolation_delay_days: float = Field(
        4.6, ge=0, le=14, description="mean days from becoming infectious to detection of a symptomatic case"
    )
    # 2.53 persons per household: US Census Bureau, 2020 (America's Families and Living Arrangements).
    mean_household_size: float = Field(2.5, ge=1.5, le=6.0, description="mean people per household")
    # mean US public school enrolment about 500 (526 in 2017-18): NCES, Digest of Education Statistics.
    school_size: int = Field(500, ge=10, le=5000, description="pupils per school (children aged 5-17)")
    # 136.8 M employees in 7.96 M establishments = 17.2: US Census Bureau, Statistics of US Businesses 2019.
    workplace_size: float = Field(17.0, ge=1, le=1000, description="mean workers per workplace (lognormal sizes)")
    # employment rate ages 15-64, United States 2019: 71.4%, OECD Employment Outlook 2020.
    employment_rate: float = Field(0.71, ge=0, le=1, description="share of adults aged 18-64 who work in a workplace")
    # Relative per-contact-day transmission in each setting. The defaults put about one third of
    # infections in households, one third in schools and workplaces and one third in the community
    # at R0 = 2.5, as in Ferguson et al. 2006, Nature 442:448 (checked in docs/models/abm.md).
    household_weight: float = Field(1.0, ge=0, le=10, description="relative transmission in households")
    school_weight: float = Field(1.5, ge=0, le=10, description="relative transmission in schools")
    workplace_weight: float = Field(1.2, ge=0, le=10, description="relative transmission in workplaces")
    community_weight: float = Field(0.7, ge=0, le=10, description="relative transmission in the community")
    # a closed population by default; a town's imports depend on its travel links (no general value)
    imported_per_day: float = Field(
        0.0, ge=0, le=1000, description="expected infections per day imported from outside while all are susceptible"
    )
    well_mixed: bool = Field(
        False, description="diagnostic: ignore households, schools and workplaces; everyone mixes in one community"
    )

    @model_validator(mode="after")
    def _consistent(self) -> AbmParams:
        if self.initial_infected > self.population:
            raise ValueError(
                f"initial_infected ({self.initial_infected}) must be <= population ({self.population}); "
                "lower initial_infected or raise population"
            )
        weights = (self.household_weight, self.school_weight, self.workplace_weight, self.community_weight)
        if not self.well_mixed and max(weights) == 0:
            raise ValueError("at least one of household/school/workplace/community_weight must be > 0")
        return self


# --------------------------------------------------------------------------- durations


def _duration_pmf(mean_days: float) -> tuple[np.ndarray, np.ndarray]:
    """Days and probabilities of a gamma(shape 4) duration rounded to whole days, at least 1."""
    # The gamma's CDF and its inverse straight from scipy.special (what scipy.stats.gamma calls),
    # which a run imports anyway: scipy.stats itself would add most of a second to a cold run.
    from scipy.special import gammainc, gammaincinv

    scale = mean_days / DURATION_SHAPE
    top = max(2, math.ceil(scale * float(gammaincinv(DURATION_SHAPE, 1 - 1e-12))) + 1)
    days = np.arange(1, top + 1)
    cdf = gammainc(DURATION_SHAPE, (days + 0.5) / scale)
    pmf = np.diff(np.concatenate([[0.0], cdf]))
    return days, pmf / pmf.sum()


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class Calibration:
    """The transmission scale that gives `r0`, and each setting's share of R0 at that scale."""

    beta: float
    setting_share_of_r0: dict[str, float]


def _group_matrix(groups: np.ndarray, sizes: np.ndarray, types: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For one setting: per group size, the number of ordered (infector type b, infectee type a)
    pairs of distinct members, summed over the groups of that size. Shape (n_sizes, types, types)."""
    n_groups = sizes.shape[0]
    member = groups < n_groups - 1  # the last group is "none"
    counts = np.bincount(
        groups[member].astype(np.int64) * N_CONTACT_TYPES + types[member], minlength=(n_groups - 1) * N_CONTACT_TYPES
    ).reshape(n_groups - 1, N_CONTACT_TYPES)
    unique_sizes, size_index = np.unique(sizes[:-1], return_inverse=True)
    by_size = np.argsort(size_index, kind="stable")
    bounds = np.searchsorted(size_index[by_size], np.arange(unique_sizes.shape[0] + 1))
    pairs = np.zeros((unique_sizes.shape[0], N_CONTACT_TYPES, N_CONTACT_TYPES))
    for k in range(unique_sizes.shape[0]):
        # infections of type a caused by type b: sum over groups of C[g, b] * (C[g, a] - [a == b])
        block = counts[by_size[bounds[k] : bounds[k + 1]]].astype(float)
        pairs[k] = block.T @ block - np.diag(block.sum(axis=0))
    keep = unique_sizes >= 2
    return unique_sizes[keep].astype(float), pairs[keep]


def calibrate(population: Population, params: AbmParams) -> Calibration:
    """Solve for `beta` so that R0, the growth per generation of the early epidemic, is `r0`
    (sim/models/abm_r0.py): each case infects the community and starts an outbreak in each of its
    groups but the one it was infected in, where the outbreak it belongs to is followed generation
    by generation. A case with infectious period T infects a given member of its group of size n
    with probability 1 - exp(-beta * weight * T / (n - 1)), T drawn as the simulation draws it.
    """
    key = (
        id(population),
        params.r0,
        params.infectious_days,
        params.well_mixed,
        *setting_weights(params),
    )
    hit = _calibrations.get(key)
    if hit is not None and hit[0] is population:
        return hit[1]
    calibration = _calibrate(population, params)
    if len(_calibrations) > 64:
        _calibrations.clear()
    _calibrations[key] = (population, calibration)
    return calibration


_calibrations: dict[tuple[object, ...], tuple[Population, Calibration]] = {}


def _calibrate(population: Population, params: AbmParams) -> Calibration:
    types = population.contact_types()
    type_counts = np.bincount(types, minlength=N_CONTACT_TYPES).astype(float)
    present = type_counts > 0
    periods, period_pmf = _duration_pmf(params.infectious_days)
    n = float(population.size)
    everyone = np.outer(type_counts, type_counts) - np.diag(type_counts)

    groups: list[GroupSetting] = []
    community_weight = 1.0 if params.well_mixed else params.community_weight
    if not params.well_mixed:
        for name, members, sizes, weight in (
            ("household", population.household, population.household_sizes, params.household_weight),
            ("school", population.school, population.school_sizes, params.school_weight),
            ("workplace", population.workplace, population.workplace_sizes, params.workplace_weight),
        ):
            if weight > 0:
                unique_sizes, pairs = _group_matrix(members, sizes, types)
                if unique_sizes.size:
                    groups.append(GroupSetting(name, unique_sizes, pairs, weight))

    def community(beta: float) -> np.ndarray:
        per_contact = beta * community_weight / (n - 1)
        escape = float(np.exp(-per_contact * periods) @ period_pmf)
        k = (1.0 - escape) * everyone
        return np.divide(k, type_counts[None, :], out=np.zeros_like(k), where=present[None, :])

    def growth_at_r0(beta: float) -> float:
        matrix = reproduction_matrix(beta, params.r0, groups, community(beta), type_counts, periods, period_pmf)
        return spectral_radius(matrix)

    high = 1.0
    while growth_at_r0(high) < 1.0:
        high *= 4
        if high > 1e6:
            reachable = spectral_radius(
                reproduction_matrix(high, 1.0, groups, community(high), type_counts, periods, period_pmf)
            )
            raise ScenarioError(
                f"r0 = {params.r0} cannot be reached on this population: with these setting weights a case can "
                f"infect at most about {reachable:.3g} people; lower r0 or give the community a weight",
                field="params.r0",
                value=params.r0,
            )
    from scipy.optimize import brentq

    beta = brentq(lambda b: growth_at_r0(b) - 1.0, 0.0, high, xtol=1e-10, rtol=1e-10)
    # Groups larger than the exact chain allows: correct its mean by sampled outbreaks at this beta and
    # solve again (the correction changes little with beta: a second round moves beta by under 0.1%).
    for _ in range(CORRECTION_ROUNDS):
        groups = [
            replace(
                g,
                corrections=generation_corrections(
                    g.sizes,
                    beta * g.weight / (g.sizes - 1),
                    periods,
                    period_pmf,
                    params.incubation_days,
                    params.infectious_days,
                ),
            )
            for g in groups
        ]
        low, high = 0.5 * beta, 2.0 * beta
        while growth_at_r0(low) > 1.0 and low > 1e-12:
            low /= 2
        while growth_at_r0(high) < 1.0 and high < 1e6:
            high *= 2
        beta = brentq(lambda b: growth_at_r0(b) - 1.0, low, high, xtol=1e-10, rtol=1e-10)

    matrix = reproduction_matrix(beta, params.r0, groups, community(beta), type_counts, periods, period_pmf)
    eigenvalues, eigenvectors = np.linalg.eig(matrix)
    lead = int(np.argmax(np.abs(eigenvalues)))
    mix = np.abs(np.real(eigenvectors[:, lead]))
    infections = (matrix @ mix).reshape(len(groups) + 1, N_CONTACT_TYPES).sum(axis=1)
    shares = {name: 0.0 for name in SETTINGS}
    shares["community"] = float(infections[0] / infections.sum())
    for index, group in enumerate(groups, start=1):
        shares[group.name] = float(infections[index] / infections.sum())
    return Calibration(beta=float(beta), setting_share_of_r0=shares)


# --------------------------------------------------------------------------- run


@lru_cache(maxsize=4)
def _cached_population(
    size: int, mean_household_size: float, school_size: int, workplace_size: float, employment_rate: float, seed: int
) -> Population:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(POPULATION_STREAM,)))
    return build_population(size, mean_household_size, school_size, workplace_size, employment_rate, rng)


def population_for(params: AbmParams) -> Population:
    """The synthetic population of `params`: built once per (structure parameters, seed), reused
    by every replicate and by later runs with the same structure (scenario comparisons)."""
    return _cached_population(
        params.population,
        params.mean_household_size,
        params.school_size,
        params.workplace_size,
        params.employment_rate,
        params.seed,
    )


def run_replicates(
    params: AbmParams,
    interventions: Sequence[InterventionBase],
    seed_sequences: Sequence[np.random.SeedSequence],
    run_on: bool = True,
) -> ModelOutput:
    """Run the replicates whose seed sequences are given (`sim.output.replicate_seeds`). Each draws
    from its own sequence and the population's stream only, so any range of replicates can run on
    its own, on any worker, and give the numbers it gives inside the whole run. run_on=False: stop at
    the stated horizon (a fit needs no more; the final attack rate is then the horizon's)."""
    if not seed_sequences:
        raise ValueError("run_replicates needs at least one seed sequence")
    population = population_for(params)
    calibration = calibrate(population, params)
    schedule = intervention_schedule(interventions, MAX_HORIZON_DAYS)

    replicates = [
        simulate_replicate(population, params, schedule, calibration.beta, seq, run_on=run_on) for seq in seed_sequences
    ]
    series = {name: stack_series(name, [rep.series[name] for rep in replicates]) for name in replicates[0].series}
    if not schedule.vaccination:
        del series["n_vaccinated"], series["n_protected"]

    n = population.size
    total_infected = series["cum_infections"][:, -1].astype(float)
    peak_day = series["n_infectious"].argmax(axis=1)
    metrics = {
        "peak_infected": series["n_infectious"].max(axis=1).astype(float),
        "peak_day": peak_day.astype(float),
        "attack_rate": total_infected / n,
        "total_infected": total_infected,
        "end_day": np.array([rep.end_day for rep in replicates], dtype=float),
    }
    facts = {
        "over": np.array([rep.over for rep in replicates], dtype=float),
        "active_at_end": np.array([rep.active_at_end for rep in replicates], dtype=float),
        "final_attack_rate": np.array([rep.final_infected for rep in replicates], dtype=float) / n,
        "final_day": np.array([rep.final_day for rep in replicates], dtype=float),
        "final_over": np.array([rep.final_over for rep in replicates], dtype=float),
    }
    reported_until = params.days if params.days is not None else NEVER  # run-on infections are not reported
    by_setting = {name: series[f"new_infections_{name}"].sum(axis=1).astype(float) for name in INFECTION_SOURCES}
    age_counts = np.bincount(population.age_group, minlength=len(AGE_GROUPS)).astype(float)
    infected_by_age = np.stack(
        [
            np.bincount(population.age_group[rep.infected_day < reported_until], minlength=len(AGE_GROUPS))
            for rep in replicates
        ]
    ).astype(float)
    breakdowns = {
        "infections_by_setting": by_setting,
        "infections_by_age": {label: infected_by_age[:, i] for i, label in enumerate(AGE_GROUPS)},
        "attack_rate_by_age": {
            label: infected_by_age[:, i] / max(age_counts[i], 1.0) for i, label in enumerate(AGE_GROUPS)
        },
    }

    shares = ", ".join(f"{k} {v:.0%}" for k, v in calibration.setting_share_of_r0.items() if v > 0)
    notes = [
        f"transmission calibrated to R0 = {params.r0:g}, the growth per generation of the early epidemic, on the "
        "synthetic population "
        f"(share of R0 by setting: {shares})"
    ]
    if params.well_mixed:
        notes.append("well_mixed = true: households, schools and workplaces are ignored (diagnostic mode)")
    if params.imported_per_day == 0 and schedule.restricts_imports:
        # a travel restriction only cuts imported infections; in a closed population it changes nothing
        notes.append(
            "travel_restriction has no effect here: no infections are imported (imported_per_day is 0); "
            "set imported_per_day to the infections arriving from outside each day for it to act"
        )
    return ModelOutput(metrics=metrics, series=series, breakdowns=breakdowns, notes=notes, replicate_facts=facts)


def finalize(params: AbmParams, output: ModelOutput) -> ModelOutput:
    """Notes about all the replicates of a run, once they are joined: where the run stopped, and
    the outbreak probability when some replicates died out."""
    facts = output.replicate_facts
    over = facts["over"] > 0
    notes = list(output.notes) + horizon_notes(
        stated_days=params.days,
        cap=MAX_HORIZON_DAYS,
        end_day=output.metrics["end_day"],
        over=over,
        active_at_end=facts["active_at_end"],
        attack_at_end=output.metrics["attack_rate"],
        attack_final=facts["final_attack_rate"],
        final_day=facts["final_day"],
        final_over=facts["final_over"] > 0,
    )
    outbreaks = outbreak_summary(output.metrics["attack_rate"], ended=over)
    run_metrics, run_intervals = dict(output.run_metrics), dict(output.run_intervals)
    if outbreaks is not None:
        notes.append(outbreaks.note)
        run_metrics.update(outbreaks.metrics)
        run_intervals.update(outbreaks.intervals)
    return replace(output, notes=notes, run_metrics=run_metrics, run_intervals=run_intervals)


def run_days(params: AbmParams) -> int:
    """Days a run is expected to simulate: the stated horizon, or on to the end of the epidemic, as
    long as the seir ODE's epidemic with the same r0 and periods takes (at most the cap; with imports
    the epidemic does not end by itself, so the cap)."""
    if params.imported_per_day > 0 and params.days is None:
        return MAX_HORIZON_DAYS
    expected = expected_epidemic_days(
        params.population, params.r0, params.incubation_days, params.infectious_days, params.initial_infected
    )
    return min(MAX_HORIZON_DAYS, max(params.days or 0, expected))


def work_units(params: AbmParams) -> float:
    """Agent-days: agents x days run x replicates."""
    return float(params.population) * run_days(params) * params.replicates


def run(params: AbmParams, interventions: Sequence[InterventionBase]) -> ModelOutput:
    seeds = replicate_seeds(params.seed, 0, params.replicates)
    return finalize(params, run_replicates(params, interventions, seeds))


SPEC = ModelSpec(
    name="abm",
    params=AbmParams,
    run=run,
    description=(
        "Agent-based epidemic model: a synthetic population with age groups, households, schools, workplaces "
        "and a community; setting-specific interventions (school and workplace closure, household quarantine, "
        "travel restrictions); results by setting and age group."
    ),
    metrics=METRICS,
    card=Path(__file__).resolve().parents[2] / "docs" / "models" / "abm.md",
    interventions=INTERVENTIONS,
    breakdowns=("infections_by_setting", "infections_by_age", "attack_rate_by_age"),
    time_unit="day",
    work=work_units,
    run_replicates=run_replicates,
    finalize=finalize,
    observables=ABM_OBSERVABLES,
    fit_params=ABM_FIT_PARAMS,
    language=LANGUAGE,
    run_metrics=RUN_METRICS,
)
