"""One replicate of the agent-based epidemic model, day by day, as named steps over a small state.

A day runs these steps, in this order (`_run_days`):

1. `_progress`: the exposed whose latent period ends become infectious, the infectious whose
   period ends recover (at the start of the day);
2. `_vaccinate`: each campaign's doses of the day go to susceptibles in a random priority order;
3. the end check: no one exposed or infectious and nothing to come, the epidemic is over;
4. `_isolate`: detected symptomatic cases who comply stop transmitting outside their household;
5. `_quarantine`: the households of cases detected today stay home, if they comply;
6. `_force_of_infection`: each group's hazard on its members, setting by setting, and the community's;
7. `_infect`: every susceptible's remaining hazard falls by today's; those that reach 0 are infected;
8. the attribution step (`_attribute`): each new infection to a setting, in proportion to the
   setting's share of the hazard on that agent (a test that counts secondary cases attributes with
   `_InfectorRecorder`, which also picks each infection's infector);
9. the day's counts are recorded.

Interventions act through the plan (`Schedule`) that their hooks write before the first day
(`HOOKS`, the lifecycle of `sim.interventions`); the steps read it. The model is in sim/models/abm.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.interventions import (
    CaseIsolation,
    ContactReduction,
    HouseholdQuarantine,
    InterventionBase,
    InterventionHooks,
    SchoolClosure,
    TravelRestriction,
    Vaccination,
    WorkplaceClosure,
)
from sim.models.abm_population import Population

if TYPE_CHECKING:
    from sim.models.abm import AbmParams

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

# An unstated horizon runs until the epidemic is over, at most two years (the model has no waning
# immunity or seasonality: a second year is outside its validity).
MAX_HORIZON_DAYS = 730

NEVER = np.iinfo(np.int32).max

SERIES = (
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


def setting_weights(params: AbmParams) -> tuple[float, float, float, float]:
    return (params.household_weight, params.school_weight, params.workplace_weight, params.community_weight)


def draw_durations(rng: np.random.Generator, mean_days: float, size: int) -> np.ndarray:
    raw = rng.gamma(DURATION_SHAPE, mean_days / DURATION_SHAPE, size=size)
    return np.maximum(1, np.rint(raw)).astype(np.int32)


# --------------------------------------------------------------------------- interventions: the plan and its hooks


@dataclass
class Schedule:
    """The plan the day steps read: the interventions' effect, day by day (arrays of length `days`)."""

    school_multiplier: np.ndarray
    workplace_multiplier: np.ndarray  # contact reduction on the workplaces that stay open
    community_multiplier: np.ndarray
    workplace_closed_fraction: np.ndarray
    isolation_compliance: np.ndarray
    quarantine_compliance: np.ndarray
    import_multiplier: np.ndarray
    vaccination: list[tuple[np.ndarray, float]] = field(default_factory=list)  # (daily rate per day, efficacy)
    restricts_imports: bool = False  # some intervention acts on imported infections only

    @classmethod
    def empty(cls, days: int) -> Schedule:
        ones, zeros = np.ones(days), np.zeros(days)
        return cls(ones.copy(), ones.copy(), ones.copy(), zeros.copy(), zeros.copy(), zeros.copy(), ones.copy())

    @property
    def isolates(self) -> bool:
        return bool(self.isolation_compliance.any())

    @property
    def quarantines(self) -> bool:
        return bool(self.quarantine_compliance.any())


# Several interventions of one type combine: multipliers multiply, closures and compliances take
# the largest active value, vaccination campaigns add up.
HOOKS: InterventionHooks[Schedule] = InterventionHooks("abm")


@HOOKS.on(ContactReduction)
def _contact_reduction(iv: ContactReduction, plan: Schedule, active: np.ndarray) -> None:
    plan.workplace_multiplier[active] *= 1.0 - iv.effectiveness
    plan.community_multiplier[active] *= 1.0 - iv.effectiveness


@HOOKS.on(SchoolClosure)
def _school_closure(iv: SchoolClosure, plan: Schedule, active: np.ndarray) -> None:
    plan.school_multiplier[active] = 0.0


@HOOKS.on(WorkplaceClosure)
def _workplace_closure(iv: WorkplaceClosure, plan: Schedule, active: np.ndarray) -> None:
    plan.workplace_closed_fraction[active] = np.maximum(plan.workplace_closed_fraction[active], iv.fraction)


@HOOKS.on(CaseIsolation)
def _case_isolation(iv: CaseIsolation, plan: Schedule, active: np.ndarray) -> None:
    plan.isolation_compliance[active] = np.maximum(plan.isolation_compliance[active], iv.compliance)


@HOOKS.on(HouseholdQuarantine)
def _household_quarantine(iv: HouseholdQuarantine, plan: Schedule, active: np.ndarray) -> None:
    plan.quarantine_compliance[active] = np.maximum(plan.quarantine_compliance[active], iv.compliance)


@HOOKS.on(TravelRestriction)
def _travel_restriction(iv: TravelRestriction, plan: Schedule, active: np.ndarray) -> None:
    plan.import_multiplier[active] *= 1.0 - iv.effectiveness
    plan.restricts_imports = True


@HOOKS.on(Vaccination)
def _vaccination(iv: Vaccination, plan: Schedule, active: np.ndarray) -> None:
    plan.vaccination.append((np.where(active, iv.daily_rate, 0.0), float(iv.efficacy)))


def intervention_schedule(interventions: Sequence[InterventionBase], days: int = MAX_HORIZON_DAYS) -> Schedule:
    """The plan of `interventions` over `days` days."""
    return HOOKS.apply(interventions, Schedule.empty(days), days)


# --------------------------------------------------------------------------- what one replicate holds


@dataclass
class Replicate:
    """Per-day series (length days + 1, day 0 = the start) and per-agent outcomes of one replicate."""

    series: dict[str, np.ndarray]
    infected_day: np.ndarray  # int32 per agent, NEVER if never infected; < 0 for the initial cases
    source: np.ndarray  # int8 per agent: HOUSEHOLD..IMPORTED, -1 initial or never infected
    infector: np.ndarray | None  # int32 per agent when recorded: -1 initial, imported or never infected
    initial: np.ndarray  # indices of the initial cases
    end_day: int = 0  # the last day reported: the stated horizon, or the day the epidemic was over
    over: bool = True  # the epidemic was over by `end_day`
    active_at_end: int = 0  # agents exposed or infectious on `end_day`
    final_infected: int = 0  # agents ever infected once the run went on to the end (or the cap)
    final_day: int = 0  # the day the run on stopped
    final_over: bool = True  # the epidemic was over when the run on stopped


class _Groups:
    """One setting's group index per agent, and the (n - 1) that normalises its hazard."""

    def __init__(self, groups: np.ndarray, sizes: np.ndarray) -> None:
        self.of_agent = groups
        self.n_groups = sizes.shape[0]
        others = sizes.astype(np.float32) - 1
        self.inverse_others = np.divide(1.0, others, out=np.zeros_like(others), where=others > 0)


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


@dataclass(frozen=True)
class _Draws:
    """Every random quantity of one replicate's dynamics, drawn up front in this fixed order, so that
    scenarios with the same seed share them (common random numbers)."""

    threshold: np.ndarray  # Exp(1) per agent: infected once its cumulative hazard passes it (Sellke)
    latent: np.ndarray
    infectious: np.ndarray
    symptomatic: np.ndarray
    detection_delay: np.ndarray  # whole days from becoming infectious to detection
    isolation: np.ndarray  # an agent isolates when this is under the day's compliance
    household_quarantine: np.ndarray  # per household, likewise
    workplace_closure: np.ndarray  # per workplace: closed when under the day's closed fraction
    vaccination_order: np.ndarray
    efficacy: np.ndarray  # protected by a dose when under the campaign's efficacy
    initial: np.ndarray  # the initial cases

    @classmethod
    def draw(cls, rng: np.random.Generator, population: Population, params: AbmParams) -> _Draws:
        n = population.size
        threshold = rng.exponential(1.0, size=n).astype(np.float32)
        latent = draw_durations(rng, params.incubation_days, n)
        infectious = draw_durations(rng, params.infectious_days, n)
        symptomatic = rng.random(n) < params.symptomatic_fraction
        whole_delay = math.floor(params.isolation_delay_days)
        detection_delay = whole_delay + (rng.random(n) < params.isolation_delay_days - whole_delay)
        return cls(
            threshold=threshold,
            latent=latent,
            infectious=infectious,
            symptomatic=symptomatic,
            detection_delay=detection_delay,
            isolation=rng.random(n).astype(np.float32),
            household_quarantine=rng.random(population.n_households + 1).astype(np.float32),
            workplace_closure=rng.random(population.n_workplaces + 1).astype(np.float32),
            vaccination_order=rng.permutation(n).astype(np.int32),
            efficacy=rng.random(n).astype(np.float32),
            initial=rng.choice(n, size=params.initial_infected, replace=False).astype(np.int32),
        )


@dataclass(frozen=True)
class _World:
    """What stays fixed through one replicate: the population, the plan, the draws, the rates."""

    population: Population
    params: AbmParams
    schedule: Schedule
    draws: _Draws
    groups: tuple[_Groups, _Groups, _Groups]  # household, school, workplace
    setting_rate: np.ndarray  # beta x weight, per setting
    community_inverse_others: float
    import_hazard: float
    activity_ahead: np.ndarray  # per day: imports or vaccinations on this day or later
    imports_ahead: np.ndarray  # per day: imports on this day or later
    attribution_rng: np.random.Generator  # never feeds back into the dynamics
    days: int  # days reported: the stated horizon, or (unstated) the cap

    @classmethod
    def build(
        cls,
        population: Population,
        params: AbmParams,
        schedule: Schedule,
        beta: float,
        seed_sequence: np.random.SeedSequence,
    ) -> _World:
        # children built from the key rather than `spawn()`, which advances the parent: the same
        # sequence object must give the same numbers however often it is used
        disease_seq, attribution_seq = (
            np.random.SeedSequence(seed_sequence.entropy, spawn_key=(*seed_sequence.spawn_key, stream))
            for stream in range(2)
        )
        draws = _Draws.draw(np.random.default_rng(disease_seq), population, params)
        n = population.size
        if params.well_mixed:
            none, empty = np.zeros(n, dtype=np.int32), np.zeros(1, dtype=np.int32)
            groups = (_Groups(none, empty), _Groups(none, empty), _Groups(none, empty))
            setting_rate = np.array([0.0, 0.0, 0.0, beta], dtype=np.float64)
        else:
            groups = (
                _Groups(population.household, population.household_sizes),
                _Groups(population.school, population.school_sizes),
                _Groups(population.workplace, population.workplace_sizes),
            )
            setting_rate = beta * np.array(setting_weights(params), dtype=np.float64)
        import_hazard = params.imported_per_day / n
        any_imports = import_hazard * schedule.import_multiplier > 0
        vaccinating = np.zeros(MAX_HORIZON_DAYS, dtype=bool)
        for daily_rate, _ in schedule.vaccination:
            vaccinating |= daily_rate > 0
        return cls(
            population=population,
            params=params,
            schedule=schedule,
            draws=draws,
            groups=groups,
            setting_rate=setting_rate,
            community_inverse_others=1.0 / max(n - 1, 1),
            import_hazard=import_hazard,
            # no infections, imports or vaccinations can happen after the last day with any of them;
            # once no one is exposed or infectious and nothing is imported, the epidemic is over
            activity_ahead=np.flip(np.cumsum(np.flip(any_imports | vaccinating))) > 0,
            imports_ahead=np.flip(np.cumsum(np.flip(any_imports))) > 0,
            attribution_rng=np.random.default_rng(attribution_seq),
            # what is reported: the stated horizon, or (unstated) up to the end of the epidemic, at most
            # the cap; the days may run on past a stated horizon, only to measure the final attack rate
            days=params.days if params.days is not None else MAX_HORIZON_DAYS,
        )


@dataclass
class _State:
    """What changes from day to day: per-agent dates and flags, who is exposed and infectious, the
    susceptibles still to be reached, the counts and the series."""

    infected_day: np.ndarray
    onset_day: np.ndarray
    recovery_day: np.ndarray
    source: np.ndarray
    susceptible: np.ndarray
    vaccinated: np.ndarray
    quarantine_until: np.ndarray  # per household: the first day its members go out again
    pool: _Susceptibles
    exposed: np.ndarray  # agent indices
    infectious: np.ndarray  # agent indices
    series: dict[str, np.ndarray]
    vaccine_owed: np.ndarray  # per campaign: the fraction of a dose carried to the next day
    cum_infections: int
    n_recovered: int = 0
    n_protected: int = 0
    next_in_line: int = 0  # position in the vaccination order
    end_day: int = 0
    over: bool = False
    active_at_end: int = 0

    @classmethod
    def start(cls, world: _World) -> _State:
        n = world.population.size
        draws, initial = world.draws, world.draws.initial
        infected_day = np.full(n, NEVER, dtype=np.int32)
        onset_day = np.full(n, NEVER, dtype=np.int32)
        recovery_day = np.full(n, NEVER, dtype=np.int32)
        susceptible = np.ones(n, dtype=bool)
        infected_day[initial] = -draws.latent[initial]
        onset_day[initial] = 0
        recovery_day[initial] = draws.infectious[initial]
        susceptible[initial] = False
        state = cls(
            infected_day=infected_day,
            onset_day=onset_day,
            recovery_day=recovery_day,
            source=np.full(n, -1, dtype=np.int8),
            susceptible=susceptible,
            vaccinated=np.zeros(n, dtype=bool),
            quarantine_until=np.zeros(world.population.n_households + 1, dtype=np.int32),
            pool=_Susceptibles(np.flatnonzero(susceptible).astype(np.int32), world.groups, draws.threshold),
            exposed=initial.copy(),
            infectious=np.empty(0, dtype=np.int32),
            series={name: np.zeros(world.days + 1, dtype=np.int64) for name in SERIES},
            vaccine_owed=np.zeros(len(world.schedule.vaccination)),
            cum_infections=int(initial.shape[0]),
            end_day=world.days,
        )
        state.record(0, world)
        state.series["n_exposed"][0] = 0  # the initial cases are infectious from day 0
        state.series["n_infectious"][0] = initial.shape[0]
        return state

    @property
    def n_active(self) -> int:
        """Agents exposed or infectious."""
        return int(self.exposed.shape[0] + self.infectious.shape[0])

    def record(self, slot: int, world: _World) -> None:
        series = self.series
        series["n_susceptible"][slot] = self.pool.count
        series["n_exposed"][slot] = self.exposed.shape[0]
        series["n_infectious"][slot] = self.infectious.shape[0]
        series["n_recovered"][slot] = self.n_recovered
        series["n_vaccinated"][slot] = int(self.vaccinated.sum()) if world.schedule.vaccination else 0
        series["n_protected"][slot] = self.n_protected
        series["cum_infections"][slot] = self.cum_infections


@dataclass(frozen=True)
class _Exposure:
    """Today's sources of hazard: who transmits outside the household, who can be reached outside
    it, and the hazard of each group, of the community and of imports."""

    spreaders: np.ndarray  # the infectious who transmit outside their household
    outside_open: np.ndarray | None  # per pool entry: False for agents quarantined at home; None: no one is
    group_rates: list[np.ndarray | None]  # per setting (household, school, workplace): hazard per group
    community_hazard: np.float32
    import_hazard: np.float32

    def parts(self, group_ids: list[np.ndarray], outside_open: np.ndarray | None) -> list[np.ndarray | np.float32]:
        """The hazard on the agents of `group_ids` (their household, school, workplace) from each
        source (household, school, workplace, community, imported); `outside_open` as above."""
        parts: list[np.ndarray | np.float32] = []
        for setting, ids in enumerate(group_ids):
            rates = self.group_rates[setting]
            if rates is None:
                parts.append(np.float32(0.0))
                continue
            part = rates[ids]
            if setting != HOUSEHOLD and outside_open is not None:
                part = part * outside_open
            parts.append(part)
        community = self.community_hazard
        parts.append(community if outside_open is None else community * outside_open)
        parts.append(self.import_hazard)
        return parts


@dataclass(frozen=True)
class _NewInfections:
    """Today's new infections: the agents, their group ids and whether they could be reached outside."""

    agents: np.ndarray
    group_ids: list[np.ndarray]
    outside_open: np.ndarray | None
    exposure: _Exposure


# --------------------------------------------------------------------------- the day's steps


def _progress(state: _State, day: int) -> None:
    """Exposed -> infectious -> recovered, at the start of the day."""
    starting = state.onset_day[state.exposed] <= day
    if starting.any():
        state.infectious = np.concatenate([state.infectious, state.exposed[starting]])
        state.exposed = state.exposed[~starting]
    recovering = state.recovery_day[state.infectious] <= day
    if recovering.any():
        state.n_recovered += int(recovering.sum())
        state.infectious = state.infectious[~recovering]


def _vaccinate(world: _World, state: _State, day: int) -> None:
    """Each campaign's doses of the day go to susceptibles not yet vaccinated, in a random priority
    order drawn once; a dose protects when the agent's efficacy draw is under the campaign's efficacy."""
    n = world.population.size
    order, efficacy_draw = world.draws.vaccination_order, world.draws.efficacy
    susceptible, vaccinated = state.susceptible, state.vaccinated
    vaccinated_today = False
    for campaign, (daily_rate, efficacy) in enumerate(world.schedule.vaccination):
        state.vaccine_owed[campaign] += daily_rate[day] * n
        doses = int(state.vaccine_owed[campaign])
        state.vaccine_owed[campaign] -= doses
        while doses > 0 and state.next_in_line < n:
            candidates = order[state.next_in_line : state.next_in_line + doses]
            state.next_in_line += candidates.shape[0]
            chosen = candidates[susceptible[candidates] & ~vaccinated[candidates]]
            doses -= chosen.shape[0]
            vaccinated[chosen] = True
            protected = chosen[efficacy_draw[chosen] < efficacy]
            susceptible[protected] = False
            state.n_protected += protected.shape[0]
            vaccinated_today |= protected.shape[0] > 0
        if state.n_protected and vaccinated_today:
            pool = state.pool
            pool.remove(np.flatnonzero(~susceptible[pool.agent] & (pool.remaining < np.inf)))


def _end_early(world: _World, state: _State, day: int) -> None:
    """The epidemic is over before the last day reported: record the day, carry the counts forward."""
    state.over, state.end_day = True, day + 1 if world.params.days is None else world.days
    state.record(day + 1, world)
    for name, values in state.series.items():
        if not name.startswith("new_"):
            values[day + 2 :] = values[day + 1]


def _isolate(world: _World, state: _State, day: int) -> np.ndarray:
    """Per infectious agent: whether it transmits outside its household today (not isolated)."""
    transmits_outside = np.ones(state.infectious.shape[0], dtype=bool)
    compliance = world.schedule.isolation_compliance[day]
    if compliance > 0:
        draws, infectious = world.draws, state.infectious
        isolated = (
            draws.symptomatic[infectious]
            & (day >= state.onset_day[infectious] + draws.detection_delay[infectious])
            & (draws.isolation[infectious] < compliance)
        )
        transmits_outside &= ~isolated
    return transmits_outside


def _quarantine(world: _World, state: _State, day: int, transmits_outside: np.ndarray) -> np.ndarray | None:
    """The households of the cases detected today stay home when they comply; their infectious
    members stop transmitting outside (in `transmits_outside`). Returns, per pool entry, whether the
    susceptible can be reached outside its household (None when no household quarantines today)."""
    compliance = world.schedule.quarantine_compliance[day]
    if compliance <= 0:
        return None
    draws, infectious, household = world.draws, state.infectious, world.population.household
    detected_today = infectious[
        draws.symptomatic[infectious] & (state.onset_day[infectious] + draws.detection_delay[infectious] == day)
    ]
    homes = household[detected_today]
    homes = homes[draws.household_quarantine[homes] < compliance]
    state.quarantine_until[homes] = day + QUARANTINE_DAYS
    transmits_outside &= state.quarantine_until[household[infectious]] <= day
    return state.quarantine_until[state.pool.group_ids[HOUSEHOLD]] <= day


def _force_of_infection(
    world: _World, state: _State, day: int, spreaders: np.ndarray, outside_open: np.ndarray | None
) -> _Exposure:
    """Per group, setting by setting: rate x infectious members x 1 / (n - 1); the community's from
    every spreader; imports. Closed workplaces have none."""
    schedule, setting_rate = world.schedule, world.setting_rate
    households, schools, workplaces = world.groups
    group_rates: list[np.ndarray | None] = [None, None, None]
    for setting, groups, members, rate in (
        (HOUSEHOLD, households, state.infectious, setting_rate[HOUSEHOLD]),
        (SCHOOL, schools, spreaders, setting_rate[SCHOOL] * schedule.school_multiplier[day]),
        (WORKPLACE, workplaces, spreaders, setting_rate[WORKPLACE] * schedule.workplace_multiplier[day]),
    ):
        if rate == 0 or members.shape[0] == 0:
            continue
        counts = np.bincount(groups.of_agent[members], minlength=groups.n_groups)
        per_group = (rate * counts * groups.inverse_others).astype(np.float32)
        if setting == WORKPLACE and schedule.workplace_closed_fraction[day] > 0:
            per_group[world.draws.workplace_closure < schedule.workplace_closed_fraction[day]] = 0.0
        group_rates[setting] = per_group
    community_rate = setting_rate[COMMUNITY] * schedule.community_multiplier[day]
    return _Exposure(
        spreaders=spreaders,
        outside_open=outside_open,
        group_rates=group_rates,
        community_hazard=np.float32(community_rate * spreaders.shape[0] * world.community_inverse_others),
        import_hazard=np.float32(world.import_hazard * schedule.import_multiplier[day]),
    )


def _infect(world: _World, state: _State, day: int, exposure: _Exposure) -> _NewInfections | None:
    """Every susceptible's remaining hazard falls by today's; those that reach 0 are infected today."""
    pool = state.pool
    parts = exposure.parts(pool.group_ids, exposure.outside_open)
    total = parts[0] + parts[1] + parts[2] + parts[3] + parts[4]
    if np.ndim(total) == 0 and total == 0:
        return None
    pool.remaining -= total
    crossed = np.flatnonzero(pool.remaining <= 0)
    new = pool.agent[crossed]
    if not new.shape[0]:
        return None
    draws = world.draws
    state.infected_day[new] = day
    state.onset_day[new] = day + draws.latent[new]
    state.recovery_day[new] = day + draws.latent[new] + draws.infectious[new]
    state.susceptible[new] = False
    state.exposed = np.concatenate([state.exposed, new])
    state.cum_infections += new.shape[0]
    if day < world.days:
        state.series["new_infections"][day + 1] = new.shape[0]
    infections = _NewInfections(
        agents=new,
        group_ids=[ids[crossed] for ids in pool.group_ids],
        outside_open=None if exposure.outside_open is None else exposure.outside_open[crossed],
        exposure=exposure,
    )
    pool.remove(crossed)
    return infections


def _attribute(world: _World, state: _State, day: int, infections: _NewInfections) -> np.ndarray:
    """Each new infection to a setting (HOUSEHOLD..IMPORTED) drawn in proportion to that setting's
    hazard on the agent; returns the settings."""
    new = infections.agents
    share = np.stack(
        [
            np.broadcast_to(p, new.shape).astype(np.float64)
            for p in infections.exposure.parts(infections.group_ids, infections.outside_open)
        ],
        axis=1,
    )
    cumulative = np.cumsum(share, axis=1)
    pick = world.attribution_rng.random(new.shape[0]) * cumulative[:, -1]
    setting_of_new = (cumulative <= pick[:, None]).sum(axis=1).clip(0, len(INFECTION_SOURCES) - 1)
    state.source[new] = setting_of_new
    if day < world.days:
        by_source = np.bincount(setting_of_new, minlength=len(INFECTION_SOURCES))
        for index, name in enumerate(INFECTION_SOURCES):
            state.series[f"new_infections_{name}"][day + 1] = by_source[index]
    return setting_of_new


Attribution = Callable[[_World, _State, int, _NewInfections], np.ndarray]


class _InfectorRecorder:
    """An attribution step that also gives each new infection an infector: a uniformly chosen
    transmitting member of the group in which it was infected (every transmitter of a group exerts
    the same hazard). For tests that count secondary cases; costs a sort of the infectious per day."""

    def __init__(self, n: int) -> None:
        self.infector = np.full(n, -1, dtype=np.int32)

    def __call__(self, world: _World, state: _State, day: int, infections: _NewInfections) -> np.ndarray:
        setting_of_new = _attribute(world, state, day, infections)
        new, rng = infections.agents, world.attribution_rng
        for setting in (HOUSEHOLD, SCHOOL, WORKPLACE, COMMUNITY):
            here = setting_of_new == setting
            if not here.any():
                continue
            members = state.infectious if setting == HOUSEHOLD else infections.exposure.spreaders
            if setting == COMMUNITY:
                self.infector[new[here]] = members[rng.integers(0, members.shape[0], size=int(here.sum()))]
                continue
            of_agent = world.groups[setting].of_agent
            order = np.argsort(of_agent[members], kind="stable")
            sorted_members = members[order]
            sorted_groups = of_agent[sorted_members]
            target_groups = of_agent[new[here]]
            first = np.searchsorted(sorted_groups, target_groups, side="left")
            count = np.searchsorted(sorted_groups, target_groups, side="right") - first
            self.infector[new[here]] = sorted_members[first + (rng.random(count.shape[0]) * count).astype(np.int64)]
        return setting_of_new


# --------------------------------------------------------------------------- the replicate


def _run_days(world: _World, state: _State, attribute: Attribution, run_on: bool) -> int:
    """Run the days until the epidemic is over (or the stated horizon, with run_on False, or the
    cap); returns the last day run."""
    days = world.days
    day = 0
    for day in range(MAX_HORIZON_DAYS):
        if day == days:  # the end of a stated horizon: running on only to see where the epidemic ends
            state.active_at_end = state.n_active
            if not run_on:
                break
        _progress(state, day)
        _vaccinate(world, state, day)
        if state.n_active == 0 and not world.imports_ahead[day]:
            if day < days and (world.params.days is None or not world.activity_ahead[day]):
                _end_early(world, state, day)
                break
            if day >= days:
                break
        transmits_outside = _isolate(world, state, day)
        outside_open = _quarantine(world, state, day, transmits_outside)
        exposure = _force_of_infection(world, state, day, state.infectious[transmits_outside], outside_open)
        infections = _infect(world, state, day, exposure)
        if infections is not None:
            attribute(world, state, day, infections)
        if day < days:
            state.record(day + 1, world)
    return day


def _replicate(world: _World, state: _State, last_day: int, infector: np.ndarray | None = None) -> Replicate:
    """The replicate's outcome once its days are run."""
    over, active_at_end = state.over, state.active_at_end
    if world.params.days is not None:
        over = active_at_end == 0  # no one exposed or infectious on the last day reported
    elif not over:
        active_at_end = state.n_active  # still going at the cap
    final_over = state.n_active == 0
    series = state.series
    if world.params.days is None:
        series = {name: values[: state.end_day + 1] for name, values in series.items()}
    return Replicate(
        series=series,
        infected_day=state.infected_day,
        source=state.source,
        infector=infector,
        initial=world.draws.initial,
        end_day=state.end_day,
        over=over,
        active_at_end=active_at_end,
        final_infected=state.cum_infections,
        final_day=last_day + 1 if final_over else MAX_HORIZON_DAYS,
        final_over=final_over,
    )


def simulate_replicate(
    population: Population,
    params: AbmParams,
    schedule: Schedule,
    beta: float,
    seed_sequence: np.random.SeedSequence,
    run_on: bool = True,
) -> Replicate:
    """Run one replicate. Draws every per-agent random quantity up front from `seed_sequence`, in a
    fixed order, so that scenarios with the same seed share them (common random numbers). run_on
    False: stop at the stated horizon."""
    world = _World.build(population, params, schedule, beta, seed_sequence)
    state = _State.start(world)
    last_day = _run_days(world, state, _attribute, run_on)
    return _replicate(world, state, last_day)


def trace_infectors(
    population: Population,
    params: AbmParams,
    schedule: Schedule,
    beta: float,
    seed_sequence: np.random.SeedSequence,
) -> Replicate:
    """`simulate_replicate` with `Replicate.infector` recorded: who infected whom (the dynamics are
    the same; the attributions to settings of later days differ, as the infectors draw from their stream)."""
    world = _World.build(population, params, schedule, beta, seed_sequence)
    state = _State.start(world)
    recorder = _InfectorRecorder(population.size)
    last_day = _run_days(world, state, recorder, run_on=True)
    return _replicate(world, state, last_day, infector=recorder.infector)
