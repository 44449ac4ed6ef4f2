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
from sim.interventions import (
    CaseIsolation,
    ContactReduction,
    HouseholdQuarantine,
    InterventionBase,
    SchoolClosure,
    TravelRestriction,
    Vaccination,
    WorkplaceClosure,
)
from sim.models.abm_language import LANGUAGE
from sim.models.abm_population import AGE_GROUPS, N_CONTACT_TYPES, Population, build_population
from sim.models.observed import ABM_FIT_PARAMS, ABM_OBSERVABLES
from sim.output import ModelOutput, replicate_seeds
from sim.params import ModelParams
from sim.registry import ModelSpec

SETTINGS = ("household", "school", "workplace", "community")
HOUSEHOLD, SCHOOL, WORKPLACE, COMMUNITY, IMPORTED = range(5)
INFECTION_SOURCES = (*SETTINGS, "imported")

# Latent and infectious periods are gamma distributed with shape 4 (coefficient of variation 0.5)
# and rounded to whole days (at least 1): exponential periods are unrealistically dispersed and
# distort epidemic timing (Wearing et al. 2005, PLoS Med 2:e174).
DURATION_SHAPE = 4.0

# Household members of a detected case stay home this long: 14 days, WHO 2020 guidance on the
# quarantine of contacts of SARS-CoV-2 cases.
QUARANTINE_DAYS = 14

# Replicate streams are SeedSequence(seed).spawn(replicates) (`sim.output.replicate_seeds`); the
# population has its own stream, keyed above any replicate index, so it does not change with the
# number of replicates, and a range of replicates run on its own gives the numbers of the whole run.
POPULATION_STREAM = 1_000_000

# A replicate "died out" when it ended with fewer than this share ever infected.
DIED_OUT_ATTACK_RATE = 0.01

METRICS = ("peak_infected", "peak_day", "attack_rate", "total_infected")
INTERVENTIONS = frozenset(
    {
        "contact_reduction",
        "vaccination",
        "case_isolation",
        "school_closure",
        "workplace_closure",
        "household_quarantine",
        "travel_restriction",
    }
)
NEVER = np.iinfo(np.int32).max


class AbmParams(ModelParams):
    """Parameters of the agent-based model; every default carries its source."""

    population: int = Field(100_000, ge=100, le=10_000_000, description="number of agents (people)")
    # R0 of about 2.5 for SARS-CoV-2: Anderson et al. 2020, Lancet 395:931 (as the seir model).
    r0: float = Field(
        2.5, gt=0, le=20, description="basic reproduction number: next-generation R0 of the synthetic population"
    )
    days: int = Field(180, ge=1, le=730, description="days simulated; series have days + 1 values (day 0..days)")
    initial_infected: int = Field(
        10, ge=1, le=10_000_000, description="agents infectious on day 0, chosen at random (counted in attack rate)"
    )
    # mean incubation period 5.2 days: Li et al. 2020, NEJM 382:1199; used as the latent period (as seir).
    incubation_days: float = Field(5.2, ge=1, le=30, description="mean days from infection to becoming infectious")
    # 3.7 days: with gamma periods of shape 4 the mean generation time is incubation + 0.625 x
    # infectious = 7.5 days, the mean serial interval of Li et al. 2020, NEJM 382:1199.
    infectious_days: float = Field(3.7, ge=1, le=30, description="mean days a case stays infectious")
    # share of SARS-CoV-2 infections with symptoms, about 0.6-0.7: Buitrago-Garcia et al. 2020,
    # PLoS Med 17:e1003346 (20% asymptomatic throughout, more pre-symptomatic); 0.67 also matches
    # influenza (Carrat et al. 2008, Am J Epidemiol 167:775).
    symptomatic_fraction: float = Field(
        0.67, ge=0, le=1, description="share of infections with symptoms (only these can be detected)"
    )
    # mean days from symptom onset to isolation, Bi et al. 2020, Lancet Infect Dis 20:911 (as seir).
    isolation_delay_days: float = Field(
        2.7, ge=0, le=14, description="mean days from becoming infectious to detection of a symptomatic case"
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
    from scipy import stats  # imported here: it costs ~1 s, and the CLI only needs it to run

    dist = stats.gamma(DURATION_SHAPE, scale=mean_days / DURATION_SHAPE)
    top = max(2, math.ceil(dist.ppf(1 - 1e-12)) + 1)
    days = np.arange(1, top + 1)
    cdf = dist.cdf(days + 0.5)
    pmf = np.diff(np.concatenate([[0.0], cdf]))
    return days, pmf / pmf.sum()


def _draw_durations(rng: np.random.Generator, mean_days: float, size: int) -> np.ndarray:
    raw = rng.gamma(DURATION_SHAPE, mean_days / DURATION_SHAPE, size=size)
    return np.maximum(1, np.rint(raw)).astype(np.int32)


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
    """Solve for `beta` so that the dominant eigenvalue of the next-generation matrix is `r0`.

    K[a, b] = expected infections of type a caused by one type-b case in a fully susceptible
    population. A case with infectious period T infects a given member of its group of size n
    with probability 1 - exp(-beta * weight * T / (n - 1)); averaging over the period's
    distribution and summing over the members of every group gives K, setting by setting.
    """
    types = population.contact_types()
    type_counts = np.bincount(types, minlength=N_CONTACT_TYPES).astype(float)
    present = type_counts > 0
    periods, period_pmf = _duration_pmf(params.infectious_days)
    n = float(population.size)

    settings: list[tuple[np.ndarray, np.ndarray, float]] = []  # (sizes, pair counts, weight)
    if params.well_mixed:
        pairs = np.outer(type_counts, type_counts) - np.diag(type_counts)
        settings.append((np.array([n]), pairs[None], 1.0))
    else:
        for groups, sizes, weight in (
            (population.household, population.household_sizes, params.household_weight),
            (population.school, population.school_sizes, params.school_weight),
            (population.workplace, population.workplace_sizes, params.workplace_weight),
        ):
            if weight > 0:
                unique_sizes, pairs = _group_matrix(groups, sizes, types)
                settings.append((unique_sizes, pairs, weight))
        if params.community_weight > 0:
            pairs = np.outer(type_counts, type_counts) - np.diag(type_counts)
            settings.append((np.array([n]), pairs[None], params.community_weight))

    def setting_matrices(beta: float) -> list[np.ndarray]:
        matrices = []
        for sizes, pairs, weight in settings:
            per_contact = beta * weight / (sizes - 1)
            escape = np.exp(-np.outer(per_contact, periods)) @ period_pmf  # E[exp(-c T)] per size
            k = np.tensordot(1.0 - escape, pairs, axes=1)  # [a, b] = infections of a by all b
            matrices.append(np.divide(k, type_counts[None, :], out=np.zeros_like(k), where=present[None, :]))
        return matrices

    def spectral_radius(beta: float) -> float:
        return float(np.max(np.abs(np.linalg.eigvals(sum(setting_matrices(beta))))))

    high = 1.0
    while spectral_radius(high) < params.r0:
        high *= 4
        if high > 1e6:
            raise ScenarioError(
                f"r0 = {params.r0} cannot be reached on this population: with these setting weights a case can "
                f"infect at most about {spectral_radius(high):.3g} people; lower r0 or give the community a weight",
                field="params.r0",
                value=params.r0,
            )
    from scipy.optimize import brentq

    beta = brentq(lambda b: spectral_radius(b) - params.r0, 0.0, high, xtol=1e-10, rtol=1e-10)

    matrices = setting_matrices(beta)
    total = sum(matrices)
    eigenvalues, eigenvectors = np.linalg.eig(total)
    lead = int(np.argmax(np.abs(eigenvalues)))
    case_mix = np.abs(np.real(eigenvectors[:, lead]))
    case_mix /= case_mix.sum()
    names = (
        ["community"]
        if params.well_mixed
        else [name for name, w in zip(SETTINGS, _weights(params), strict=True) if w > 0]
    )
    shares = {name: 0.0 for name in SETTINGS}
    for name, matrix in zip(names, matrices, strict=True):
        shares[name] = float((matrix @ case_mix).sum() / (total @ case_mix).sum())
    return Calibration(beta=float(beta), setting_share_of_r0=shares)


def _weights(params: AbmParams) -> tuple[float, float, float, float]:
    return (params.household_weight, params.school_weight, params.workplace_weight, params.community_weight)


# --------------------------------------------------------------------------- interventions


@dataclass(frozen=True)
class Schedule:
    """Day-by-day effect of the interventions (arrays of length `days`)."""

    school_multiplier: np.ndarray
    workplace_multiplier: np.ndarray  # contact reduction on the workplaces that stay open
    community_multiplier: np.ndarray
    workplace_closed_fraction: np.ndarray
    isolation_compliance: np.ndarray
    quarantine_compliance: np.ndarray
    import_multiplier: np.ndarray
    vaccination: tuple[tuple[np.ndarray, float], ...]  # (daily rate per day, efficacy) per campaign

    @property
    def isolates(self) -> bool:
        return bool(self.isolation_compliance.any())

    @property
    def quarantines(self) -> bool:
        return bool(self.quarantine_compliance.any())


def intervention_schedule(interventions: Sequence[InterventionBase], days: int) -> Schedule:
    """Several interventions of one type combine: multipliers multiply, closures and compliances
    take the largest active value, vaccination campaigns add up."""
    ones = np.ones(days)
    school, workplace, community, imports = ones.copy(), ones.copy(), ones.copy(), ones.copy()
    closed, isolation, quarantine = np.zeros(days), np.zeros(days), np.zeros(days)
    campaigns = []
    for iv in interventions:
        active = iv.active_mask(days)
        if isinstance(iv, ContactReduction):
            workplace[active] *= 1.0 - iv.effectiveness
            community[active] *= 1.0 - iv.effectiveness
        elif isinstance(iv, SchoolClosure):
            school[active] = 0.0
        elif isinstance(iv, WorkplaceClosure):
            closed[active] = np.maximum(closed[active], iv.fraction)
        elif isinstance(iv, CaseIsolation):
            isolation[active] = np.maximum(isolation[active], iv.compliance)
        elif isinstance(iv, HouseholdQuarantine):
            quarantine[active] = np.maximum(quarantine[active], iv.compliance)
        elif isinstance(iv, TravelRestriction):
            imports[active] *= 1.0 - iv.effectiveness
        elif isinstance(iv, Vaccination):
            campaigns.append((np.where(active, iv.daily_rate, 0.0), float(iv.efficacy)))
        else:  # resolve() rejects unsupported types; a direct caller gets told the same
            raise ValueError(
                f"abm does not support intervention {getattr(iv, 'type', iv)!r}; supported: {sorted(INTERVENTIONS)}"
            )
    return Schedule(school, workplace, community, closed, isolation, quarantine, imports, tuple(campaigns))


# --------------------------------------------------------------------------- one replicate


@dataclass
class Replicate:
    """Per-day series (length days + 1, day 0 = the start) and per-agent outcomes of one replicate."""

    series: dict[str, np.ndarray]
    infected_day: np.ndarray  # int32 per agent, NEVER if never infected; < 0 for the initial cases
    source: np.ndarray  # int8 per agent: HOUSEHOLD..IMPORTED, -1 initial or never infected
    infector: np.ndarray | None  # int32 per agent when recorded: -1 initial, imported or never infected
    initial: np.ndarray  # indices of the initial cases


class _Susceptibles:
    """The susceptible agents as compact arrays in step: agent id, group ids, and the hazard still
    needed to infect (threshold minus cumulative hazard). An agent that leaves (infected or
    protected) gets an infinite remaining hazard and is dropped at the next compaction, done once a
    quarter of the entries are gone, so most days touch each array once."""

    def __init__(self, agents: np.ndarray, groups: tuple[_Groups, _Groups, _Groups], threshold: np.ndarray) -> None:
        self.agent = agents
        self.group_ids = [g.of_agent[agents] for g in groups]
        self.remaining = threshold[agents].copy()
        self.count = int(agents.shape[0])

    def remove(self, positions: np.ndarray) -> None:
        self.remaining[positions] = np.inf
        self.count -= int(positions.shape[0])
        if self.count < 0.75 * self.agent.shape[0]:
            live = self.remaining < np.inf
            self.agent = self.agent[live]
            self.group_ids = [ids[live] for ids in self.group_ids]
            self.remaining = self.remaining[live]


class _Groups:
    """One setting's group index per agent, and the (n - 1) that normalises its hazard."""

    def __init__(self, groups: np.ndarray, sizes: np.ndarray) -> None:
        self.of_agent = groups
        self.n_groups = sizes.shape[0]
        others = sizes.astype(np.float32) - 1
        self.inverse_others = np.divide(1.0, others, out=np.zeros_like(others), where=others > 0)


def simulate_replicate(
    population: Population,
    params: AbmParams,
    schedule: Schedule,
    beta: float,
    seed_sequence: np.random.SeedSequence,
    record_infectors: bool = False,
) -> Replicate:
    """Run one replicate. Draws every per-agent random quantity up front from `seed_sequence`, in a
    fixed order, so that scenarios with the same seed share them (common random numbers)."""
    # children built from the key rather than `spawn()`, which advances the parent: the same
    # sequence object must give the same numbers however often it is used
    disease_seq, attribution_seq = (
        np.random.SeedSequence(seed_sequence.entropy, spawn_key=(*seed_sequence.spawn_key, stream))
        for stream in range(2)
    )
    rng = np.random.default_rng(disease_seq)
    attribution_rng = np.random.default_rng(attribution_seq)  # never feeds back into the dynamics
    n = population.size
    days = params.days

    threshold = rng.exponential(1.0, size=n).astype(np.float32)
    latent = _draw_durations(rng, params.incubation_days, n)
    infectious = _draw_durations(rng, params.infectious_days, n)
    symptomatic = rng.random(n) < params.symptomatic_fraction
    whole_delay = math.floor(params.isolation_delay_days)
    detection_delay = whole_delay + (rng.random(n) < params.isolation_delay_days - whole_delay)
    isolation_draw = rng.random(n).astype(np.float32)
    household_quarantine_draw = rng.random(population.n_households + 1).astype(np.float32)
    workplace_closure_draw = rng.random(population.n_workplaces + 1).astype(np.float32)
    vaccination_order = rng.permutation(n).astype(np.int32)
    efficacy_draw = rng.random(n).astype(np.float32)
    initial = rng.choice(n, size=params.initial_infected, replace=False).astype(np.int32)

    if params.well_mixed:
        none = np.zeros(n, dtype=np.int32)
        empty = np.zeros(1, dtype=np.int32)
        households, schools, workplaces = (_Groups(none, empty), _Groups(none, empty), _Groups(none, empty))
        setting_rate = np.array([0.0, 0.0, 0.0, beta], dtype=np.float64)
    else:
        households = _Groups(population.household, population.household_sizes)
        schools = _Groups(population.school, population.school_sizes)
        workplaces = _Groups(population.workplace, population.workplace_sizes)
        setting_rate = beta * np.array(_weights(params), dtype=np.float64)
    community_inverse_others = 1.0 / max(n - 1, 1)
    import_hazard = params.imported_per_day / n
    any_imports = import_hazard * schedule.import_multiplier > 0
    vaccinating = np.zeros(days, dtype=bool)
    for daily_rate, _ in schedule.vaccination:
        vaccinating |= daily_rate > 0
    # no infections, imports or vaccinations can happen after the last day with any of them
    activity_ahead = np.flip(np.cumsum(np.flip(any_imports | vaccinating))) > 0

    infected_day = np.full(n, NEVER, dtype=np.int32)
    onset_day = np.full(n, NEVER, dtype=np.int32)
    recovery_day = np.full(n, NEVER, dtype=np.int32)
    source = np.full(n, -1, dtype=np.int8)
    infector = np.full(n, -1, dtype=np.int32) if record_infectors else None
    susceptible = np.ones(n, dtype=bool)
    vaccinated = np.zeros(n, dtype=bool)
    quarantine_until = np.zeros(population.n_households + 1, dtype=np.int32)

    infected_day[initial] = -latent[initial]
    onset_day[initial] = 0
    recovery_day[initial] = infectious[initial]
    susceptible[initial] = False
    setting_groups = (households, schools, workplaces)
    pool = _Susceptibles(np.flatnonzero(susceptible).astype(np.int32), setting_groups, threshold)
    exposed_idx = initial.copy()
    infectious_idx = np.empty(0, dtype=np.int32)

    series = {
        name: np.zeros(days + 1, dtype=np.int64)
        for name in (
            "n_susceptible",
            "n_exposed",
            "n_infectious",
            "n_recovered",
            "n_vaccinated",
            "n_protected",
            "new_infections",
            "cum_infections",
            *(f"new_infections_{name}" for name in INFECTION_SOURCES),
        )
    }
    n_recovered = 0
    n_protected = 0
    cum_infections = int(initial.shape[0])
    vaccine_owed = np.zeros(len(schedule.vaccination))
    next_in_line = 0

    def record(slot: int) -> None:
        series["n_susceptible"][slot] = pool.count
        series["n_exposed"][slot] = exposed_idx.shape[0]
        series["n_infectious"][slot] = infectious_idx.shape[0]
        series["n_recovered"][slot] = n_recovered
        series["n_vaccinated"][slot] = int(vaccinated.sum()) if schedule.vaccination else 0
        series["n_protected"][slot] = n_protected
        series["cum_infections"][slot] = cum_infections

    record(0)
    series["n_exposed"][0] = 0  # the initial cases are infectious from day 0
    series["n_infectious"][0] = initial.shape[0]
    for day in range(days):
        # ---- progression: exposed -> infectious -> recovered at the start of the day
        starting = onset_day[exposed_idx] <= day
        if starting.any():
            infectious_idx = np.concatenate([infectious_idx, exposed_idx[starting]])
            exposed_idx = exposed_idx[~starting]
        recovering = recovery_day[infectious_idx] <= day
        if recovering.any():
            n_recovered += int(recovering.sum())
            infectious_idx = infectious_idx[~recovering]

        # ---- vaccination from susceptibles, in a random priority order drawn once
        vaccinated_today = False
        for campaign, (daily_rate, efficacy) in enumerate(schedule.vaccination):
            vaccine_owed[campaign] += daily_rate[day] * n
            doses = int(vaccine_owed[campaign])
            vaccine_owed[campaign] -= doses
            while doses > 0 and next_in_line < n:
                candidates = vaccination_order[next_in_line : next_in_line + doses]
                next_in_line += candidates.shape[0]
                chosen = candidates[susceptible[candidates] & ~vaccinated[candidates]]
                doses -= chosen.shape[0]
                vaccinated[chosen] = True
                protected = chosen[efficacy_draw[chosen] < efficacy]
                susceptible[protected] = False
                n_protected += protected.shape[0]
                vaccinated_today |= protected.shape[0] > 0
            if n_protected and vaccinated_today:
                pool.remove(np.flatnonzero(~susceptible[pool.agent] & (pool.remaining < np.inf)))

        if infectious_idx.shape[0] == 0 and exposed_idx.shape[0] == 0 and not activity_ahead[day]:
            record(day + 1)
            for name, values in series.items():
                if not name.startswith("new_"):
                    values[day + 2 :] = values[day + 1]
            break

        # ---- who transmits outside the household, who can be reached there
        transmits_outside = np.ones(infectious_idx.shape[0], dtype=bool)
        if schedule.isolation_compliance[day] > 0:
            isolated = (
                symptomatic[infectious_idx]
                & (day >= onset_day[infectious_idx] + detection_delay[infectious_idx])
                & (isolation_draw[infectious_idx] < schedule.isolation_compliance[day])
            )
            transmits_outside &= ~isolated
        quarantine_today = schedule.quarantine_compliance[day] > 0
        if quarantine_today:
            detected_today = infectious_idx[
                symptomatic[infectious_idx] & (onset_day[infectious_idx] + detection_delay[infectious_idx] == day)
            ]
            homes = population.household[detected_today]
            homes = homes[household_quarantine_draw[homes] < schedule.quarantine_compliance[day]]
            quarantine_until[homes] = day + QUARANTINE_DAYS
            transmits_outside &= quarantine_until[population.household[infectious_idx]] <= day
        spreaders = infectious_idx[transmits_outside]

        # ---- per-group force of infection, setting by setting
        school_rate = setting_rate[SCHOOL] * schedule.school_multiplier[day]
        workplace_rate = setting_rate[WORKPLACE] * schedule.workplace_multiplier[day]
        community_rate = setting_rate[COMMUNITY] * schedule.community_multiplier[day]
        group_rates: list[np.ndarray | None] = [None, None, None]
        for setting, groups, members, rate in (
            (HOUSEHOLD, households, infectious_idx, setting_rate[HOUSEHOLD]),
            (SCHOOL, schools, spreaders, school_rate),
            (WORKPLACE, workplaces, spreaders, workplace_rate),
        ):
            if rate == 0 or members.shape[0] == 0:
                continue
            counts = np.bincount(groups.of_agent[members], minlength=groups.n_groups)
            per_group = (rate * counts * groups.inverse_others).astype(np.float32)
            if setting == WORKPLACE and schedule.workplace_closed_fraction[day] > 0:
                per_group[workplace_closure_draw < schedule.workplace_closed_fraction[day]] = 0.0
            group_rates[setting] = per_group
        community_hazard = np.float32(community_rate * spreaders.shape[0] * community_inverse_others)
        import_today = np.float32(import_hazard * schedule.import_multiplier[day])

        outside_open = None
        if quarantine_today:
            outside_open = quarantine_until[pool.group_ids[HOUSEHOLD]] <= day

        parts = _hazard_parts(pool.group_ids, outside_open, group_rates, community_hazard, import_today)
        total = parts[0] + parts[1] + parts[2] + parts[3] + parts[4]
        if np.ndim(total) == 0 and total == 0:
            record(day + 1)
            continue
        pool.remaining -= total
        crossed = np.flatnonzero(pool.remaining <= 0)
        new = pool.agent[crossed]

        if new.shape[0]:
            infected_day[new] = day
            onset_day[new] = day + latent[new]
            recovery_day[new] = day + latent[new] + infectious[new]
            susceptible[new] = False
            exposed_idx = np.concatenate([exposed_idx, new])
            cum_infections += new.shape[0]

            # attribute each infection to a setting in proportion to that setting's hazard
            new_groups = [ids[crossed] for ids in pool.group_ids]
            new_open = None if outside_open is None else outside_open[crossed]
            pool.remove(crossed)
            share = np.stack(
                [
                    np.broadcast_to(p, new.shape).astype(np.float64)
                    for p in _hazard_parts(new_groups, new_open, group_rates, community_hazard, import_today)
                ],
                axis=1,
            )
            cumulative = np.cumsum(share, axis=1)
            pick = attribution_rng.random(new.shape[0]) * cumulative[:, -1]
            setting_of_new = (cumulative <= pick[:, None]).sum(axis=1).clip(0, len(INFECTION_SOURCES) - 1)
            source[new] = setting_of_new
            by_source = np.bincount(setting_of_new, minlength=len(INFECTION_SOURCES))
            series["new_infections"][day + 1] = new.shape[0]
            for index, name in enumerate(INFECTION_SOURCES):
                series[f"new_infections_{name}"][day + 1] = by_source[index]
            if infector is not None:
                _record_infectors(
                    infector,
                    new,
                    setting_of_new,
                    infectious_idx,
                    spreaders,
                    (households, schools, workplaces),
                    attribution_rng,
                )
        record(day + 1)

    return Replicate(series=series, infected_day=infected_day, source=source, infector=infector, initial=initial)


def _hazard_parts(
    group_ids: list[np.ndarray],
    outside_open: np.ndarray | None,
    group_rates: list[np.ndarray | None],
    community_hazard: np.float32,
    import_hazard: np.float32,
) -> list[np.ndarray | np.float32]:
    """Today's hazard on the agents of `group_ids` (their household, school, workplace) from each source (household, school, workplace, community,
    imported); `outside_open` is False for agents quarantined at home."""
    parts: list[np.ndarray | np.float32] = []
    for setting, ids in enumerate(group_ids):
        rates = group_rates[setting]
        if rates is None:
            parts.append(np.float32(0.0))
            continue
        part = rates[ids]
        if setting != HOUSEHOLD and outside_open is not None:
            part = part * outside_open
        parts.append(part)
    parts.append(community_hazard if outside_open is None else community_hazard * outside_open)
    parts.append(import_hazard)
    return parts


def _record_infectors(
    infector: np.ndarray,
    new: np.ndarray,
    setting_of_new: np.ndarray,
    infectious_idx: np.ndarray,
    spreaders: np.ndarray,
    groups: tuple[_Groups, _Groups, _Groups],
    rng: np.random.Generator,
) -> None:
    """Give each new infection an infector: a uniformly chosen transmitting member of the group in
    which it was infected (every transmitter of a group exerts the same hazard). Used by tests to
    count secondary cases; costs a sort of the infectious per day."""
    for setting in (HOUSEHOLD, SCHOOL, WORKPLACE, COMMUNITY):
        here = setting_of_new == setting
        if not here.any():
            continue
        members = infectious_idx if setting == HOUSEHOLD else spreaders
        if setting == COMMUNITY:
            infector[new[here]] = members[rng.integers(0, members.shape[0], size=int(here.sum()))]
            continue
        of_agent = groups[setting].of_agent
        order = np.argsort(of_agent[members], kind="stable")
        sorted_members = members[order]
        sorted_groups = of_agent[sorted_members]
        target_groups = of_agent[new[here]]
        first = np.searchsorted(sorted_groups, target_groups, side="left")
        count = np.searchsorted(sorted_groups, target_groups, side="right") - first
        infector[new[here]] = sorted_members[first + (rng.random(count.shape[0]) * count).astype(np.int64)]


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
    params: AbmParams, interventions: Sequence[InterventionBase], seed_sequences: Sequence[np.random.SeedSequence]
) -> ModelOutput:
    """Run the replicates whose seed sequences are given (`sim.output.replicate_seeds`). Each draws
    from its own sequence and the population's stream only, so any range of replicates can run on
    its own, on any worker, and give the numbers it gives inside the whole run."""
    if not seed_sequences:
        raise ValueError("run_replicates needs at least one seed sequence")
    population = population_for(params)
    calibration = calibrate(population, params)
    schedule = intervention_schedule(interventions, params.days)

    replicates = [simulate_replicate(population, params, schedule, calibration.beta, seq) for seq in seed_sequences]
    series = {name: np.stack([rep.series[name] for rep in replicates]) for name in replicates[0].series}
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
    }
    by_setting = {name: series[f"new_infections_{name}"].sum(axis=1).astype(float) for name in INFECTION_SOURCES}
    age_counts = np.bincount(population.age_group, minlength=len(AGE_GROUPS)).astype(float)
    infected_by_age = np.stack(
        [np.bincount(population.age_group[rep.infected_day != NEVER], minlength=len(AGE_GROUPS)) for rep in replicates]
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
        f"transmission calibrated to next-generation R0 = {params.r0:g} on the synthetic population "
        f"(share of R0 by setting: {shares})"
    ]
    if params.well_mixed:
        notes.append("well_mixed = true: households, schools and workplaces are ignored (diagnostic mode)")
    if params.imported_per_day == 0 and any(isinstance(iv, TravelRestriction) for iv in interventions):
        # a travel restriction only cuts imported infections; in a closed population it changes nothing
        notes.append(
            "travel_restriction has no effect here: no infections are imported (imported_per_day is 0); "
            "set imported_per_day to the infections arriving from outside each day for it to act"
        )
    return ModelOutput(metrics=metrics, series=series, breakdowns=breakdowns, notes=notes)


def finalize(params: AbmParams, output: ModelOutput) -> ModelOutput:
    """Notes about all the replicates of a run, once they are joined."""
    died_out = int((output.metrics["attack_rate"] < DIED_OUT_ATTACK_RATE).sum())
    if params.replicates > 1 and died_out:
        note = f"{died_out} of {params.replicates} replicates died out (under {DIED_OUT_ATTACK_RATE:.0%} infected)"
        return replace(output, notes=[*output.notes, note])
    return output


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
    work=lambda p: float(p.population) * p.days * p.replicates,
    run_replicates=run_replicates,
    finalize=finalize,
    observables=ABM_OBSERVABLES,
    fit_params=ABM_FIT_PARAMS,
    language=LANGUAGE,
)
