"""The compartmental SEIR epidemic model.

One replicate: the deterministic ODE, solved with `scipy.integrate.solve_ivp`.
Several replicates: a stochastic chain-binomial with the same mean behaviour, vectorised over
replicates with numpy (one array of shape (replicates,) per compartment, no loop over replicates).
`incubation_days = 0` removes the exposed compartment and makes it an SIR model.

Compartments: S (susceptible, split into never-vaccinated and vaccinated-but-unprotected),
E (exposed: infected, not yet infectious), I (infectious), R (recovered), V (protected by a
vaccine, removed from transmission). The model card is docs/models/seir.md.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import Field, model_validator
from scipy.integrate import solve_ivp

from sim.interventions import (
    MAX_DAY,
    CaseIsolation,
    ContactReduction,
    InterventionBase,
    InterventionHooks,
    Vaccination,
)
from sim.models.epidemic import horizon_notes, outbreak_summary
from sim.models.epidemic_language import RUN_METRICS
from sim.models.observed import SEIR_FIT_PARAMS, SEIR_OBSERVABLES
from sim.models.seir_language import LANGUAGE
from sim.output import ModelOutput
from sim.params import ModelParams
from sim.registry import ModelSpec

MAX_POPULATION = 10_000_000_000  # more than the world's population: larger means a mistyped number

# Case isolation only stops the transmission that happens after a case is isolated (Fraser et al.
# 2004, PNAS 101:6146). In this model infectiousness starts at symptom onset, so isolation starts
# this long after the start of the infectious period: cases found by symptom-based surveillance were
# isolated on average 4.6 days (95% CI 4.1-5.0) after symptom onset, Bi et al. 2020, Lancet Infect Dis
# 20:911 (contact tracing cut it by 1.9 days; neither model traces contacts).
ISOLATION_DELAY_DAYS = 4.6

# An unstated horizon runs until the epidemic is over, at most this long (ten years: without births
# or waning immunity nothing happens after one wave that a longer run would show).
MAX_HORIZON_DAYS = MAX_DAY
# The ODE's epidemic is over once fewer than half a person is exposed or infectious.
OVER_PEOPLE = 0.5
# The ODE is solved in stretches of at most this many days, checking after each whether it is over.
SEGMENT_DAYS = 100

# Per-step probabilities of leaving E or I in the chain-binomial are rate * dt; keeping them at or
# under this bound keeps the geometric waiting times close in shape to the ODE's exponential ones.
MAX_STEP_PROBABILITY = 0.25

# ODE tolerances: relative, and absolute in people (the state is solved as population shares).
ODE_RTOL = 1e-9
ODE_ATOL_PEOPLE = 1e-6

# ODE state layout, one row per parameter set: never-vaccinated susceptible, vaccinated but
# unprotected susceptible, exposed, infectious, recovered, vaccine-protected, cumulative infections,
# cumulative people vaccinated.
S_UNVACCINATED, S_UNPROTECTED, EXPOSED, INFECTIOUS, RECOVERED, PROTECTED, CUM_INFECTIONS, CUM_VACCINATED = range(8)
N_STATE = 8

METRICS = ("peak_infected", "peak_day", "attack_rate", "total_infected", "end_day")


class SEIRParams(ModelParams):
    """Parameters of the SEIR model; every default carries its source."""

    population: int = Field(
        default=100_000, ge=1, le=MAX_POPULATION, description="people in the population (a town of 100,000 by default)"
    )
    # R0 of about 2.5 for SARS-CoV-2: Anderson et al. 2020, Lancet 395:931.
    r0: float = Field(default=2.5, gt=0, le=20, description="basic reproduction number: infections caused by one case")
    # mean incubation period 5.2 days: Li et al. 2020, NEJM 382:1199; used as the latent period.
    incubation_days: float = Field(
        default=5.2, ge=0, le=30, description="mean days from infection to becoming infectious; 0 makes it an SIR model"
    )
    # 2.3 = 7.5 - 5.2: with the mean serial interval of 7.5 days (Li et al. 2020, NEJM 382:1199)
    # and exponential periods, the mean generation time is incubation_days + infectious_days.
    infectious_days: float = Field(default=2.3, gt=0, le=30, description="mean days a case stays infectious")
    initial_infected: int = Field(
        default=10, ge=1, le=MAX_POPULATION, description="people infectious on day 0 (counted in the attack rate)"
    )
    days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_HORIZON_DAYS,
        description=(
            "days simulated (series have days + 1 values, day 0..days); unstated: until the epidemic is over "
            f"(no one exposed or infectious; the ODE: under half a person), at most {MAX_HORIZON_DAYS}"
        ),
    )

    @model_validator(mode="after")
    def _initial_within_population(self) -> SEIRParams:
        if self.initial_infected > self.population:
            raise ValueError(
                f"initial_infected ({self.initial_infected}) must be <= population ({self.population}); "
                "lower initial_infected or raise population"
            )
        return self


def substeps_per_day(params: SEIRParams) -> int:
    """Chain-binomial steps per day: 1 for ordinary periods, more when a period is under ~2 days."""
    fastest_rate = 1.0 / params.infectious_days
    if params.incubation_days > 0:
        fastest_rate = max(fastest_rate, 1.0 / params.incubation_days)
    return max(1, math.ceil(fastest_rate / MAX_STEP_PROBABILITY - 1e-12))


@dataclass(frozen=True)
class Schedule:
    """Day-by-day effect of the interventions on one parameter set (arrays of length `days`).

    transmission_multiplier: product of (1 - effect) of every contact reduction and case isolation
    vaccination_rate: share of the population vaccinated per day (summed over campaigns)
    vaccination_efficacy: dose-weighted share of vaccinated people protected
    """

    transmission_multiplier: np.ndarray
    vaccination_rate: np.ndarray
    vaccination_efficacy: np.ndarray

    @property
    def vaccinates(self) -> bool:
        return bool(np.any(self.vaccination_rate > 0))


def isolation_share(infectious_days: float) -> float:
    """Share of a case's transmission that isolation can stop: the expected share of an exponential
    infectious period left after the isolation delay, exp(-delay / infectious_days)."""
    return math.exp(-ISOLATION_DELAY_DAYS / infectious_days)


@dataclass
class InterventionPlan:
    """What the interventions' hooks write, day by day (arrays of length `days`); `isolation_share`
    is the parameter set's share of a case's transmission that isolation can stop."""

    isolation_share: float
    transmission_multiplier: np.ndarray
    vaccination_rate: np.ndarray
    protected_rate: np.ndarray  # share of the population protected per day: rate x efficacy, summed

    @classmethod
    def empty(cls, params: SEIRParams, days: int) -> InterventionPlan:
        return cls(isolation_share(params.infectious_days), np.ones(days), np.zeros(days), np.zeros(days))


# Several interventions combine multiplicatively on transmission; vaccination campaigns add up.
HOOKS: InterventionHooks[InterventionPlan] = InterventionHooks("seir")


@HOOKS.on(ContactReduction)
def _contact_reduction(iv: ContactReduction, plan: InterventionPlan, active: np.ndarray) -> None:
    plan.transmission_multiplier[active] *= 1.0 - iv.effectiveness


@HOOKS.on(CaseIsolation)
def _case_isolation(iv: CaseIsolation, plan: InterventionPlan, active: np.ndarray) -> None:
    plan.transmission_multiplier[active] *= 1.0 - iv.compliance * plan.isolation_share


@HOOKS.on(Vaccination)
def _vaccination(iv: Vaccination, plan: InterventionPlan, active: np.ndarray) -> None:
    plan.vaccination_rate[active] += iv.daily_rate
    plan.protected_rate[active] += iv.daily_rate * iv.efficacy


INTERVENTIONS = HOOKS.supported


def intervention_schedule(params: SEIRParams, interventions: Sequence[InterventionBase], days: int) -> Schedule:
    """Turn interventions into per-day rates (through each one's hook, `HOOKS`)."""
    plan = HOOKS.apply(interventions, InterventionPlan.empty(params, days), days)
    rate = plan.vaccination_rate
    efficacy = np.divide(plan.protected_rate, rate, out=np.zeros(days), where=rate > 0)
    return Schedule(plan.transmission_multiplier, rate, efficacy)


# --------------------------------------------------------------------------- deterministic ODE


def _ode_rhs(
    t: float,
    y_flat: np.ndarray,
    beta: np.ndarray,
    sigma: np.ndarray,
    gamma: np.ndarray,
    is_sir: np.ndarray,
    multiplier: np.ndarray,
    vaccination_rate: np.ndarray,
    efficacy: np.ndarray,
) -> np.ndarray:
    """Derivatives of K stacked parameter sets; state rows are population shares."""
    y = y_flat.reshape(-1, N_STATE)
    s_u, s_f, e, i = y[:, S_UNVACCINATED], y[:, S_UNPROTECTED], y[:, EXPOSED], y[:, INFECTIOUS]
    force = multiplier * beta * i
    infect_u = force * s_u
    infect_f = force * s_f
    infections = infect_u + infect_f
    # the continuous analogue of "min(S, daily_rate * population) per day"
    vaccinated = np.minimum(vaccination_rate, np.maximum(s_u, 0.0))
    progress = sigma * e
    becoming_infectious = np.where(is_sir, infections, progress)
    recovering = gamma * i
    dy = np.empty_like(y)
    dy[:, S_UNVACCINATED] = -infect_u - vaccinated
    dy[:, S_UNPROTECTED] = -infect_f + (1.0 - efficacy) * vaccinated
    dy[:, EXPOSED] = np.where(is_sir, 0.0, infections - progress)
    dy[:, INFECTIOUS] = becoming_infectious - recovering
    dy[:, RECOVERED] = recovering
    dy[:, PROTECTED] = efficacy * vaccinated
    dy[:, CUM_INFECTIONS] = infections
    dy[:, CUM_VACCINATED] = vaccinated
    return dy.reshape(-1)


@dataclass(frozen=True)
class Trajectory:
    """One parameter set's ODE solution in people, shape (days + 1, 8), from day 0 to the last day
    solved (at least the stated horizon, and on to the end of the epidemic or the cap); `over_day`:
    the first day with under half a person exposed or infectious, None if it never came."""

    people: np.ndarray
    over_day: int | None


def solve_deterministic(
    params_list: Sequence[SEIRParams],
    interventions_list: Sequence[Sequence[InterventionBase]],
    run_on: bool = True,
) -> list[Trajectory]:
    """Solve the ODE of K parameter sets (each with its interventions) in one stacked system.

    The K systems are independent rows of one state vector, so one solver call advances all of them.
    Interventions make the rates piecewise constant by day; the solve is split at the days where
    any rate changes so the solver never steps across a jump, and in stretches of `SEGMENT_DAYS`,
    stopping after the first stretch at whose end every set is over and past its stated horizon.
    LSODA switches to a stiff method by itself for very short periods; its Jacobian is declared
    banded (each row only couples the 8 states of its own set), so K sets cost K, not K^2.
    run_on=False: stop at the longest stated horizon (a fit needs no more); every set must state `days`.
    """
    k = len(params_list)
    horizon = MAX_HORIZON_DAYS
    population = np.array([p.population for p in params_list], dtype=float)
    r0 = np.array([p.r0 for p in params_list])
    infectious_days = np.array([p.infectious_days for p in params_list])
    incubation_days = np.array([p.incubation_days for p in params_list])
    is_sir = incubation_days == 0
    gamma = 1.0 / infectious_days
    beta = r0 * gamma
    sigma = np.divide(1.0, incubation_days, out=np.zeros(k), where=~is_sir)
    needed = max(p.days or 0 for p in params_list)

    schedules = [intervention_schedule(p, ivs, horizon) for p, ivs in zip(params_list, interventions_list, strict=True)]
    multiplier = np.stack([s.transmission_multiplier for s in schedules])  # (K, horizon)
    vaccination_rate = np.stack([s.vaccination_rate for s in schedules])
    efficacy = np.stack([s.vaccination_efficacy for s in schedules])
    rates = np.concatenate([multiplier, vaccination_rate, efficacy])
    changes = np.flatnonzero(np.any(rates[:, 1:] != rates[:, :-1], axis=0)) + 1
    stops = [needed] if not run_on and needed else []  # a fit stops exactly at its horizon
    bounds = sorted({0, *changes.tolist(), *range(SEGMENT_DAYS, horizon, SEGMENT_DAYS), *stops, horizon})

    y0 = np.zeros((k, N_STATE))
    initial_share = np.array([p.initial_infected for p in params_list]) / population
    y0[:, S_UNVACCINATED] = 1.0 - initial_share
    y0[:, INFECTIOUS] = initial_share
    y0[:, CUM_INFECTIONS] = initial_share
    atol = np.repeat(ODE_ATOL_PEOPLE / population, N_STATE)

    pieces = [y0[None]]
    over_day = np.full(k, -1)
    state = y0.reshape(-1)
    for start, end in itertools.pairwise(bounds):
        args = (beta, sigma, gamma, is_sir, multiplier[:, start], vaccination_rate[:, start], efficacy[:, start])
        solution = solve_ivp(
            _ode_rhs,
            (start, end),
            state,
            method="LSODA",
            t_eval=np.arange(start + 1, end + 1),
            args=args,
            rtol=ODE_RTOL,
            atol=atol,
            lband=N_STATE - 1,
            uband=N_STATE - 1,
        )
        if not solution.success:  # pragma: no cover - LSODA fails only on broken input
            raise RuntimeError(f"seir ODE solver failed between day {start} and {end}: {solution.message}")
        piece = solution.y.T.reshape(end - start, k, N_STATE)
        pieces.append(piece)
        state = solution.y[:, -1]
        active = (piece[:, :, EXPOSED] + piece[:, :, INFECTIOUS]) * population  # (days, K), people
        for j in np.flatnonzero(over_day < 0):
            below = np.flatnonzero(active[:, j] < OVER_PEOPLE)
            if below.size:
                over_day[j] = start + 1 + int(below[0])
        if end >= needed and (np.all(over_day >= 0) or not run_on):
            break
    people = np.concatenate(pieces) * population[None, :, None]
    return [Trajectory(people[:, j], int(over_day[j]) if over_day[j] >= 0 else None) for j in range(k)]


def _output_from_states(
    states: np.ndarray, vaccinates: bool, notes: list[str], end_day: np.ndarray | None = None
) -> ModelOutput:
    """ModelOutput from states of shape (replicates, days+1, 8), in people; `end_day`: per replicate,
    the last day of its run (default: the last day of the states)."""
    susceptible = states[..., S_UNVACCINATED] + states[..., S_UNPROTECTED]
    infectious = states[..., INFECTIOUS]
    cumulative = states[..., CUM_INFECTIONS]
    population = states[:, 0, :CUM_INFECTIONS].sum(axis=1)
    new_infections = np.diff(cumulative, axis=1, prepend=0.0)  # day 0 holds the initial infected
    series = {
        "n_susceptible": susceptible,
        "n_exposed": states[..., EXPOSED],
        "n_infectious": infectious,
        "n_recovered": states[..., RECOVERED],
        "new_infections": new_infections,
        "cum_infections": cumulative,
    }
    if vaccinates:
        series["n_vaccinated"] = states[..., CUM_VACCINATED]
        series["n_protected"] = states[..., PROTECTED]
    if end_day is None:
        end_day = np.full(states.shape[0], states.shape[1] - 1)
    metrics = {
        "peak_infected": infectious.max(axis=1),
        "peak_day": infectious.argmax(axis=1).astype(float),
        "attack_rate": cumulative[:, -1] / population,
        "total_infected": cumulative[:, -1],
        "end_day": np.asarray(end_day, dtype=float),
    }
    return ModelOutput(metrics=metrics, series=series, notes=notes)


DETERMINISTIC_NOTE = (
    "deterministic ODE (replicates = 1): the expected course, with no random variation; the seed has no effect"
)


def _ode_output(params: SEIRParams, trajectory: Trajectory, vaccinates: bool) -> ModelOutput:
    """What `run` reports for one ODE trajectory: up to the stated horizon, or to the end of the epidemic."""
    people = trajectory.people
    last = len(people) - 1
    end = params.days if params.days is not None else (trajectory.over_day if trajectory.over_day is not None else last)
    shown = people[: end + 1]
    over_by_end = trajectory.over_day is not None and trajectory.over_day <= end
    final = trajectory.over_day if trajectory.over_day is not None else last
    active_at_end = shown[-1, EXPOSED] + shown[-1, INFECTIOUS]
    notes = [
        DETERMINISTIC_NOTE,
        *horizon_notes(
            stated_days=params.days,
            cap=MAX_HORIZON_DAYS,
            end_day=np.array([end]),
            over=np.array([over_by_end]),
            active_at_end=np.array([active_at_end]),
            attack_at_end=np.array([shown[-1, CUM_INFECTIONS] / params.population]),
            attack_final=np.array([people[final, CUM_INFECTIONS] / params.population]),
            final_day=np.array([final]),
            final_over=np.array([trajectory.over_day is not None]),
        ),
    ]
    return _output_from_states(shown[None], vaccinates, notes, np.array([end]))


def batch_run(
    params_list: Sequence[SEIRParams], interventions_list: Sequence[Sequence[InterventionBase]]
) -> list[ModelOutput]:
    """Deterministic runs of many parameter sets in one vectorised ODE solve (sweeps, calibration
    scans), each with its own interventions. Each output is what `run` gives for that set with
    replicates == 1."""
    if not params_list:
        return []
    outputs = []
    trajectories = solve_deterministic(params_list, interventions_list)
    for params, interventions, trajectory in zip(params_list, interventions_list, trajectories, strict=True):
        vaccinates = intervention_schedule(params, interventions, MAX_HORIZON_DAYS).vaccinates
        outputs.append(_ode_output(params, trajectory, vaccinates))
    return outputs


# --------------------------------------------------------------------------- stochastic chain-binomial


@dataclass(frozen=True)
class Ensemble:
    """A chain-binomial ensemble: `states` of shape (replicates, days+1, 8) in whole people up to the
    last day reported; `over_day` per replicate (-1: not over by the cap); `final` the states after
    running on to the end (shape (replicates, 8)), and `final_day` the day the run on stopped."""

    states: np.ndarray
    over_day: np.ndarray
    final: np.ndarray
    final_day: int


def simulate_stochastic(params: SEIRParams, schedule: Schedule, rng: np.random.Generator) -> Ensemble:
    """Chain-binomial ensemble, all replicates advanced together as numpy arrays.

    Each step of dt days, from the states at its start: S -> E with probability
    1 - exp(-multiplier * beta * dt * I / N); E -> I with probability sigma * dt; I -> R with
    probability gamma * dt. The linear exit probabilities make the number of steps spent in E and I
    geometric with exactly the ODE's means, so R0 and the mean generation time are the ODE's; the
    exponential infection probability makes the final-size relation the ODE's too.
    Vaccination doses are given at the start of each day, as whole people (the fractional quota
    carries over to the next day). The run goes on until every replicate is over (no one exposed or
    infectious) and the stated horizon is reached, at most `MAX_HORIZON_DAYS`; days past the stated
    horizon only give the final states.
    """
    replicates, population = params.replicates, params.population
    substeps = substeps_per_day(params)
    dt = 1.0 / substeps
    infection_pressure = params.r0 / params.infectious_days * dt / population
    p_recover = dt / params.infectious_days
    is_sir = params.incubation_days == 0
    p_progress = 0.0 if is_sir else dt / params.incubation_days
    vaccinates = schedule.vaccinates
    dose_quota = np.diff(np.floor(np.cumsum(schedule.vaccination_rate * population)), prepend=0.0).astype(np.int64)
    record_until = params.days if params.days is not None else MAX_HORIZON_DAYS
    stored = np.int32 if population < 2**31 else np.int64

    state = np.zeros((N_STATE, replicates), dtype=np.int64)
    state[S_UNVACCINATED] = population - params.initial_infected
    state[INFECTIOUS] = params.initial_infected
    state[CUM_INFECTIONS] = params.initial_infected
    s_u, s_f, exposed, infectious, recovered, protected, cumulative, vaccinated = state  # views

    history = [state.astype(stored)]
    over_day = np.full(replicates, -1)
    day = 0
    while day < MAX_HORIZON_DAYS:
        if dose_quota[day] > 0:
            doses = np.minimum(s_u, dose_quota[day])
            shielded = rng.binomial(doses, schedule.vaccination_efficacy[day])
            s_u -= doses
            s_f += doses - shielded
            protected += shielded
            vaccinated += doses
        pressure = schedule.transmission_multiplier[day] * infection_pressure
        for _ in range(substeps):
            p_infect = -np.expm1(-pressure * infectious)
            infected = rng.binomial(s_u, p_infect)
            if vaccinates:
                infected_unprotected = rng.binomial(s_f, p_infect)
                s_f -= infected_unprotected
                cumulative += infected_unprotected
                all_infected = infected + infected_unprotected
            else:
                all_infected = infected
            recovering = rng.binomial(infectious, p_recover)
            if is_sir:
                becoming_infectious = all_infected
            else:
                becoming_infectious = rng.binomial(exposed, p_progress)
                exposed += all_infected - becoming_infectious
            s_u -= infected
            cumulative += infected
            infectious += becoming_infectious - recovering
            recovered += recovering
        day += 1
        over_day[(over_day < 0) & (exposed == 0) & (infectious == 0)] = day
        all_over = bool(np.all(over_day >= 0))
        if day <= record_until:
            history.append(state.astype(stored))
        if all_over and (params.days is None or day >= params.days or not vaccinates):
            break
    if params.days is not None and len(history) < params.days + 1:
        history.extend([history[-1]] * (params.days + 1 - len(history)))  # every replicate ended: nothing changes
    states = np.stack(history).transpose(2, 0, 1).astype(float)
    return Ensemble(states=states, over_day=over_day, final=state.T.astype(float), final_day=day)


def _ensemble_output(params: SEIRParams, ensemble: Ensemble, vaccinates: bool) -> ModelOutput:
    states = ensemble.states
    last = states.shape[1] - 1
    over = ensemble.over_day >= 0
    if params.days is not None:
        end_day = np.full(params.replicates, params.days)
    else:
        end_day = np.where(over, ensemble.over_day, last)
    at_end = states[:, -1]
    output = _output_from_states(states, vaccinates, [], end_day)
    notes = horizon_notes(
        stated_days=params.days,
        cap=MAX_HORIZON_DAYS,
        end_day=end_day,
        over=over & (ensemble.over_day <= end_day),
        active_at_end=at_end[:, EXPOSED] + at_end[:, INFECTIOUS],
        attack_at_end=at_end[:, CUM_INFECTIONS] / params.population,
        attack_final=ensemble.final[:, CUM_INFECTIONS] / params.population,
        final_day=np.where(over, ensemble.over_day, ensemble.final_day),
        final_over=over,
    )
    outbreaks = outbreak_summary(output.metrics["attack_rate"], ended=over & (ensemble.over_day <= end_day))
    if outbreaks is not None:
        notes.append(outbreaks.note)
        output.run_metrics.update(outbreaks.metrics)
        output.run_intervals.update(outbreaks.intervals)
    output.notes = notes
    return output


def run(params: SEIRParams, interventions: Sequence[InterventionBase]) -> ModelOutput:
    """Deterministic ODE when replicates == 1, stochastic chain-binomial ensemble otherwise."""
    if params.replicates == 1:
        return batch_run([params], [interventions])[0]
    schedule = intervention_schedule(params, interventions, MAX_HORIZON_DAYS)
    rng = np.random.default_rng(np.random.SeedSequence(params.seed))
    return _ensemble_output(params, simulate_stochastic(params, schedule, rng), schedule.vaccinates)


@lru_cache(maxsize=256)
def expected_epidemic_days(
    population: int, r0: float, incubation_days: float, infectious_days: float, initial_infected: int
) -> int:
    """The day the ODE epidemic of these parameters is over (no interventions), at most the cap: the
    length a run with no stated horizon is expected to take, for the resource caps."""
    params = SEIRParams(
        population=population,
        r0=r0,
        incubation_days=incubation_days,
        infectious_days=infectious_days,
        initial_infected=initial_infected,
    )
    over = solve_deterministic([params], [[]])[0].over_day
    return MAX_HORIZON_DAYS if over is None else over


def run_days(params: SEIRParams) -> int:
    """Days a run is expected to simulate: the stated horizon, or on to the end of the epidemic."""
    expected = expected_epidemic_days(
        params.population, params.r0, params.incubation_days, params.infectious_days, params.initial_infected
    )
    return max(params.days or 0, expected)


def work_units(params: SEIRParams) -> float:
    """Compartment updates: 6 per replicate, day and chain-binomial sub-step, over the days the run is
    expected to take (the ODE's own cost is small whatever its length: one day counts as one)."""
    if params.replicates == 1:
        return float(6 * (params.days or MAX_HORIZON_DAYS))
    return float(params.replicates * run_days(params) * 6 * substeps_per_day(params))


SPEC = ModelSpec(
    name="seir",
    params=SEIRParams,
    run=run,
    description=(
        "Compartmental SEIR epidemic model of a well-mixed population: deterministic ODE, or a stochastic "
        "chain-binomial ensemble when replicates > 1; contact reduction, vaccination and case isolation."
    ),
    metrics=METRICS,
    card=Path(__file__).resolve().parents[2] / "docs" / "models" / "seir.md",
    interventions=INTERVENTIONS,
    time_unit="day",
    work=work_units,
    batch_run=batch_run,
    stochastic=lambda params: params.replicates > 1,
    observables=SEIR_OBSERVABLES,
    fit_params=SEIR_FIT_PARAMS,
    language=LANGUAGE,
    run_metrics=RUN_METRICS,
)
