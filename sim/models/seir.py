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
from pathlib import Path

import numpy as np
from pydantic import Field, model_validator
from scipy.integrate import solve_ivp

from sim.interventions import CaseIsolation, ContactReduction, InterventionBase, Vaccination
from sim.models.observed import SEIR_FIT_PARAMS, SEIR_OBSERVABLES
from sim.models.seir_language import LANGUAGE
from sim.output import ModelOutput
from sim.params import ModelParams
from sim.registry import ModelSpec

MAX_POPULATION = 10_000_000_000  # more than the world's population: larger means a mistyped number

# Case isolation only stops the transmission that happens after a case is isolated (Fraser et al.
# 2004, PNAS 101:6146). In this model infectiousness starts at symptom onset, so isolation starts
# this long after the start of the infectious period: mean time from symptom onset to isolation
# with contact-based surveillance, Bi et al. 2020, Lancet Infect Dis 20:911 (2.7 days).
ISOLATION_DELAY_DAYS = 2.7

# A stochastic replicate "died out" when it ended with no one infected or infectious and fewer
# than this share of the population ever infected: a minor outbreak, not an epidemic.
DIED_OUT_ATTACK_RATE = 0.01

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

SERIES = ("n_susceptible", "n_exposed", "n_infectious", "n_recovered", "new_infections", "cum_infections")
VACCINATION_SERIES = ("n_vaccinated", "n_protected")
METRICS = ("peak_infected", "peak_day", "attack_rate", "total_infected")
INTERVENTIONS = frozenset({"contact_reduction", "vaccination", "case_isolation"})


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
    days: int = Field(
        default=180, ge=1, le=3650, description="days simulated; series have days + 1 values (day 0..days)"
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


def intervention_schedule(params: SEIRParams, interventions: Sequence[InterventionBase], days: int) -> Schedule:
    """Turn interventions into per-day rates. Several combine multiplicatively on transmission."""
    multiplier = np.ones(days)
    rate = np.zeros(days)
    protected_rate = np.zeros(days)
    for iv in interventions:
        active = iv.active_mask(days)
        if isinstance(iv, ContactReduction):
            multiplier[active] *= 1.0 - iv.effectiveness
        elif isinstance(iv, CaseIsolation):
            multiplier[active] *= 1.0 - iv.compliance * isolation_share(params.infectious_days)
        elif isinstance(iv, Vaccination):
            rate[active] += iv.daily_rate
            protected_rate[active] += iv.daily_rate * iv.efficacy
        else:  # resolve() rejects unsupported types; a direct caller gets told the same
            kind = getattr(iv, "type", type(iv).__name__)
            raise ValueError(f"seir does not support intervention {kind!r}; supported: {sorted(INTERVENTIONS)}")
    efficacy = np.divide(protected_rate, rate, out=np.zeros(days), where=rate > 0)
    return Schedule(multiplier, rate, efficacy)


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


def solve_deterministic(
    params_list: Sequence[SEIRParams], interventions: Sequence[InterventionBase]
) -> list[np.ndarray]:
    """Solve the ODE of K parameter sets in one stacked system; one (days+1, 8) array of people each.

    The K systems are independent rows of one state vector, so one solver call advances all of them.
    Interventions make the rates piecewise constant by day; the solve is split at the days where
    any rate changes so the solver never steps across a jump (without interventions: one call).
    LSODA switches to a stiff method by itself for very short periods; its Jacobian is declared
    banded (each row only couples the 8 states of its own set), so K sets cost K, not K^2.
    """
    k = len(params_list)
    horizon = max(p.days for p in params_list)
    population = np.array([p.population for p in params_list], dtype=float)
    r0 = np.array([p.r0 for p in params_list])
    infectious_days = np.array([p.infectious_days for p in params_list])
    incubation_days = np.array([p.incubation_days for p in params_list])
    is_sir = incubation_days == 0
    gamma = 1.0 / infectious_days
    beta = r0 * gamma
    sigma = np.divide(1.0, incubation_days, out=np.zeros(k), where=~is_sir)

    schedules = [intervention_schedule(p, interventions, horizon) for p in params_list]
    multiplier = np.stack([s.transmission_multiplier for s in schedules])  # (K, horizon)
    vaccination_rate = np.stack([s.vaccination_rate for s in schedules])
    efficacy = np.stack([s.vaccination_efficacy for s in schedules])
    rates = np.concatenate([multiplier, vaccination_rate, efficacy])
    changes = np.flatnonzero(np.any(rates[:, 1:] != rates[:, :-1], axis=0)) + 1
    bounds = [0, *changes.tolist(), horizon]

    y0 = np.zeros((k, N_STATE))
    initial_share = np.array([p.initial_infected for p in params_list]) / population
    y0[:, S_UNVACCINATED] = 1.0 - initial_share
    y0[:, INFECTIOUS] = initial_share
    y0[:, CUM_INFECTIONS] = initial_share
    atol = np.repeat(ODE_ATOL_PEOPLE / population, N_STATE)

    trajectory = np.empty((horizon + 1, k, N_STATE))
    trajectory[0] = y0
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
        trajectory[start + 1 : end + 1] = solution.y.T.reshape(end - start, k, N_STATE)
        state = solution.y[:, -1]
    people = trajectory * population[None, :, None]
    return [people[: p.days + 1, j] for j, p in enumerate(params_list)]


def _output_from_states(states: np.ndarray, vaccinates: bool, notes: list[str]) -> ModelOutput:
    """ModelOutput from states of shape (replicates, days+1, 8), in people."""
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
    metrics = {
        "peak_infected": infectious.max(axis=1),
        "peak_day": infectious.argmax(axis=1).astype(float),
        "attack_rate": cumulative[:, -1] / population,
        "total_infected": cumulative[:, -1],
    }
    return ModelOutput(metrics=metrics, series=series, notes=notes)


def batch_run(params_list: Sequence[SEIRParams], interventions: Sequence[InterventionBase]) -> list[ModelOutput]:
    """Deterministic runs of many parameter sets in one vectorised ODE solve (used by sweeps).

    `interventions` apply to every set. Each output is what `run` gives for that set with
    replicates == 1.
    """
    if not params_list:
        return []
    outputs = []
    for params, states in zip(params_list, solve_deterministic(params_list, interventions), strict=True):
        vaccinates = intervention_schedule(params, interventions, params.days).vaccinates
        notes = ["deterministic ODE (replicates = 1): no random variation, the seed has no effect"]
        outputs.append(_output_from_states(states[None], vaccinates, notes))
    return outputs


# --------------------------------------------------------------------------- stochastic chain-binomial


def simulate_stochastic(params: SEIRParams, schedule: Schedule, rng: np.random.Generator) -> np.ndarray:
    """Chain-binomial ensemble; states of shape (replicates, days+1, 8) in whole people.

    Each step of dt days, from the states at its start: S -> E with probability
    1 - exp(-multiplier * beta * dt * I / N); E -> I with probability sigma * dt; I -> R with
    probability gamma * dt. The linear exit probabilities make the number of steps spent in E and I
    geometric with exactly the ODE's means, so R0 and the mean generation time are the ODE's; the
    exponential infection probability makes the final-size relation the ODE's too.
    Vaccination doses are given at the start of each day, as whole people (the fractional quota
    carries over to the next day).
    """
    replicates, population, days = params.replicates, params.population, params.days
    substeps = substeps_per_day(params)
    dt = 1.0 / substeps
    infection_pressure = params.r0 / params.infectious_days * dt / population
    p_recover = dt / params.infectious_days
    is_sir = params.incubation_days == 0
    p_progress = 0.0 if is_sir else dt / params.incubation_days
    vaccinates = schedule.vaccinates
    dose_quota = np.diff(np.floor(np.cumsum(schedule.vaccination_rate * population)), prepend=0.0).astype(np.int64)

    state = np.zeros((N_STATE, replicates), dtype=np.int64)
    state[S_UNVACCINATED] = population - params.initial_infected
    state[INFECTIOUS] = params.initial_infected
    state[CUM_INFECTIONS] = params.initial_infected
    s_u, s_f, exposed, infectious, recovered, protected, cumulative, vaccinated = state  # views

    history = np.empty((days + 1, N_STATE, replicates), dtype=np.int64)
    history[0] = state
    for day in range(days):
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
        history[day + 1] = state
        if not vaccinates and np.count_nonzero(exposed) == 0 and np.count_nonzero(infectious) == 0:
            history[day + 2 :] = state  # every replicate has ended: nothing changes any more
            break
    return history.transpose(2, 0, 1).astype(float)


def _died_out_note(states: np.ndarray) -> str:
    population = states[0, 0, :CUM_INFECTIONS].sum()
    ended = states[:, -1, EXPOSED] + states[:, -1, INFECTIOUS] == 0
    minor = states[:, -1, CUM_INFECTIONS] < DIED_OUT_ATTACK_RATE * population
    died_out = int(np.sum(ended & minor))
    return (
        f"{died_out} of {states.shape[0]} replicates died out early "
        f"(ended with fewer than {DIED_OUT_ATTACK_RATE:.0%} of the population infected)"
    )


def run(params: SEIRParams, interventions: Sequence[InterventionBase]) -> ModelOutput:
    """Deterministic ODE when replicates == 1, stochastic chain-binomial ensemble otherwise."""
    if params.replicates == 1:
        return batch_run([params], interventions)[0]
    schedule = intervention_schedule(params, interventions, params.days)
    rng = np.random.default_rng(np.random.SeedSequence(params.seed))
    states = simulate_stochastic(params, schedule, rng)
    return _output_from_states(states, schedule.vaccinates, [_died_out_note(states)])


def work_units(params: SEIRParams) -> float:
    """Compartment updates: 6 per replicate, day and chain-binomial sub-step."""
    return float(params.replicates * params.days * 6 * substeps_per_day(params))


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
    observables=SEIR_OBSERVABLES,
    fit_params=SEIR_FIT_PARAMS,
    language=LANGUAGE,
)
