"""Fits against known truth: data drawn from a model with known parameters, the fit recovers them
inside its 95% intervals, and over many data sets the intervals cover the truth about 95% of the
time with little bias (the slow coverage tests).

The seir data come from a plain four-equation SEIR ODE written here (scipy's solve_ivp), not from
the model's own code, so an error in how the model produces its observables would show.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import sim
from sim.errors import ScenarioError
from sim.fit import FitSpec, fit, forecast
from sim.models.abm import AbmParams
from sim.models.delivery import DeliveryParams
from sim.models.observed import abm_simulate, delivery_simulate
from sim.observables import ObservedData

# the issue's epidemic: R0 1.8 in 200,000 people, 10 infectious on day 0, incubation 3 days, infectious 5 days
TRUTH = {"population": 200_000, "r0": 1.8, "initial_infected": 10, "incubation_days": 3.0, "infectious_days": 5.0}
STATED = {k: v for k, v in TRUTH.items() if k != "r0"}


def plain_seir_new_cases(
    population: float,
    r0: float,
    initial: float,
    incubation: float,
    infectious: float,
    days: int,
    multiplier: tuple[int, float] | None = None,
) -> np.ndarray:
    """People becoming infectious on each day d (from d to d + 1), from the textbook SEIR equations;
    `multiplier` = (from_day, factor) scales transmission from that day on."""
    beta, sigma, gamma = r0 / infectious, 1 / incubation, 1 / infectious

    def rhs(t: float, y: np.ndarray) -> list[float]:
        s, e, i, _ = y
        scale = multiplier[1] if multiplier and t >= multiplier[0] else 1.0
        infections = scale * beta * s * i / population
        return [-infections, infections - sigma * e, sigma * e - gamma * i, sigma * e]

    bounds = [0, multiplier[0], days] if multiplier else [0, days]
    y = [population - initial, 0.0, initial, 0.0]
    cumulative = [0.0]
    for a, b in itertools.pairwise(bounds):
        sol = solve_ivp(rhs, (a, b), y, t_eval=np.arange(a + 1, b + 1), rtol=1e-10, atol=1e-8, method="LSODA")
        cumulative += list(sol.y[3])
        y = sol.y[:, -1]
    return np.diff(np.array(cumulative))


def _cases(counts: np.ndarray, first: int = 0) -> ObservedData:
    return ObservedData(index=np.arange(first, first + counts.size), columns={"new_cases": counts.astype(float)})


def _seir(params: dict) -> dict:
    return {"model": "seir", "params": params}


def _covers(estimate, truth: float) -> bool:
    return estimate.lower <= truth <= estimate.upper


def test_noise_free_counts_give_the_true_r0():
    expected = plain_seir_new_cases(1e7, 2.0, 1000, 4.0, 3.0, 50)
    stated = {"population": 10_000_000, "initial_infected": 1000, "incubation_days": 4.0, "infectious_days": 3.0}
    out = fit(_seir(stated), _cases(np.round(expected)), FitSpec(free=["r0"]))
    r0 = out.estimate("r0")
    assert r0.value == pytest.approx(2.0, rel=2e-3)
    assert _covers(r0, 2.0) and r0.upper - r0.lower < 0.02
    assert out.likelihood == "Poisson"
    assert out.goodness.statistic == "deviance" and out.goodness.p_value > 0.05
    assert out.scenario.params["r0"] == pytest.approx(r0.value, rel=1e-5)
    assert out.scenario.params["population"] == 10_000_000  # stated values stay as stated


def test_the_issue_epidemic_with_poisson_noise():
    rng = np.random.default_rng(1)
    counts = rng.poisson(plain_seir_new_cases(2e5, 1.8, 10, 3.0, 5.0, 40))
    out = fit(_seir(STATED), _cases(counts), FitSpec(free=["r0"]))
    r0 = out.estimate("r0")
    assert abs(r0.value / 1.8 - 1) < 0.07
    assert _covers(r0, 1.8)
    assert not (r0.lower_open or r0.upper_open)

    ahead = forecast(out, _cases(counts))
    truth = sim.run(_seir({**TRUTH, "days": ahead.horizon}))
    low, high = ahead.intervals["peak_day"]
    assert low <= truth.scalar("peak_day") <= high
    assert low > 39  # the peak is after the data
    assert ahead.band["new_cases"]["upper"][-1] >= ahead.band["new_cases"]["lower"][-1]
    assert len(ahead.band["new_cases"]["median"]) == ahead.horizon


def test_r0_and_initial_cases_together():
    rng = np.random.default_rng(5)
    counts = rng.poisson(plain_seir_new_cases(2e5, 1.8, 10, 3.0, 5.0, 60))
    stated = {k: v for k, v in STATED.items() if k != "initial_infected"}
    out = fit(_seir(stated), _cases(counts), FitSpec(free=["r0", "initial_infected"]))
    assert _covers(out.estimate("r0"), 1.8)
    assert _covers(out.estimate("initial_infected"), 10)
    assert isinstance(out.scenario.params["initial_infected"], int)  # a whole number in the fitted scenario
    # R0 and the initial cases trade off (a larger start, a slower growth): the draws say so
    draws = np.array([[d["r0"], d["initial_infected"]] for d in out.draws])
    assert np.corrcoef(np.log(draws).T)[0, 1] < -0.3


def test_overdispersed_counts_are_fitted_with_a_negative_binomial():
    rng = np.random.default_rng(2)
    expected = plain_seir_new_cases(2e5, 1.8, 10, 3.0, 5.0, 60)
    alpha = 0.2  # variance mu + 0.2 mu^2
    counts = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * expected))
    out = fit(_seir(STATED), _cases(counts), FitSpec(free=["r0"]))
    assert out.likelihood.startswith("negative binomial")
    assert out.dispersion == pytest.approx(alpha, rel=0.6)
    assert _covers(out.estimate("r0"), 1.8)
    assert any("negative binomial" in note for note in out.notes)
    poisson = fit(_seir(STATED), _cases(counts), FitSpec(free=["r0"], likelihood="poisson"))
    width = out.estimate("r0").upper - out.estimate("r0").lower
    assert width > 1.5 * (poisson.estimate("r0").upper - poisson.estimate("r0").lower)


def test_a_reporting_fraction_scales_the_counts():
    rng = np.random.default_rng(3)
    counts = rng.binomial(rng.poisson(plain_seir_new_cases(2e5, 1.8, 10, 3.0, 5.0, 50)), 0.3)
    out = fit(_seir(STATED), _cases(counts), FitSpec(free=["r0"], reporting=0.3))
    assert _covers(out.estimate("r0"), 1.8)
    assert out.reporting == 0.3
    # taken as fully reported, the same counts need a slower epidemic from the same 10 cases
    naive = fit(_seir(STATED), _cases(counts), FitSpec(free=["r0"]))
    assert naive.estimate("r0").upper < 1.8


def test_an_intervention_in_force_during_the_data_is_part_of_the_fit():
    rng = np.random.default_rng(4)
    counts = rng.poisson(plain_seir_new_cases(2e5, 2.2, 10, 3.0, 5.0, 70, multiplier=(40, 0.6)))
    scenario = {
        **_seir({**STATED}),
        "interventions": [{"type": "contact_reduction", "start_day": 40, "effectiveness": 0.4}],
    }
    out = fit(scenario, _cases(counts), FitSpec(free=["r0"]))
    assert _covers(out.estimate("r0"), 2.2)
    assert out.scenario.interventions[0].type == "contact_reduction"


def test_what_a_fit_cannot_free_is_an_error_naming_what_it_can():
    data = _cases(np.arange(10))
    with pytest.raises(ScenarioError, match=r"cannot fit .population.*it can fit: r0, initial_infected, reporting"):
        fit(_seir({}), data, FitSpec(free=["population"]))
    with pytest.raises(ScenarioError, match="days <= 730"):
        fit({"model": "abm", "params": {"population": 1000}}, _cases(np.ones(800)), FitSpec(free=["r0"]))


def test_a_model_without_observables_cannot_be_fitted():
    from tests.sim.toy import SPEC as TOY_SPEC

    sim.register(TOY_SPEC)
    try:
        with pytest.raises(ScenarioError, match="cannot be fitted to data"):
            fit({"model": TOY_SPEC.name, "params": {}}, _cases(np.arange(10)), FitSpec(free=["rate"]))
    finally:
        sim.registry.unregister(TOY_SPEC.name)


def test_abm_fit_recovers_r0_with_the_models_own_noise():
    truth = AbmParams(population=3000, r0=2.2, initial_infected=20)
    days = ObservedData(index=np.arange(35), columns={})
    counts = abm_simulate(truth, [{}], (), days, 1, 2024)["new_cases"][0, 0]
    out = fit(
        {"model": "abm", "params": {"population": 3000, "initial_infected": 20}},
        _cases(counts),
        FitSpec(free=["r0"], replicates=16),
    )
    r0 = out.estimate("r0")
    assert _covers(r0, 2.2)
    assert out.goodness.statistic == "mahalanobis"
    assert out.likelihood.startswith("synthetic")
    assert len(out.fitted["new_cases"]) == 35 and len(out.fitted_range["new_cases"][0]) == 35
    assert out.box["r0"][0] < r0.lower < r0.upper < out.box["r0"][1]


def test_delivery_fit_finds_the_preparation_time_from_delivered_minutes():
    truth = DeliveryParams(couriers=30, hours=5, orders_per_hour=60.0, prep_minutes=20.0)
    hours = ObservedData(index=np.arange(5), columns={})
    columns = delivery_simulate(truth, [{}], (), hours, 1, 77)
    data = ObservedData(index=np.arange(5), columns={k: v[0, 0] for k, v in columns.items()})
    out = fit(
        {"model": "delivery", "params": {"couriers": 30, "orders_per_hour": 60.0}},
        data,
        FitSpec(free=["prep_minutes"], replicates=16),
    )
    prep = out.estimate("prep_minutes")
    assert _covers(prep, 20.0)
    assert prep.upper / prep.lower < 1.5  # delivered minutes pin the kitchen's time down
    assert out.scenario.params["hours"] == 5.0


# --------------------------------------------------------------------------- coverage (slow)

N_DATA_SETS = 100


def _assert_calibrated(estimates: list[float], covered: list[bool], truth: float, name: str) -> None:
    coverage = float(np.mean(covered))
    bias = float(np.mean(estimates)) / truth - 1
    assert 0.90 <= coverage <= 0.99, f"{name}: 95% intervals cover the truth in {coverage:.0%} of data sets"
    assert abs(bias) < 0.02, f"{name}: mean estimate off by {bias:+.1%}"


@pytest.mark.slow
def test_seir_intervals_cover_the_truth():
    rng = np.random.default_rng(7)
    expected = plain_seir_new_cases(2e5, 1.8, 10, 3.0, 5.0, 40)
    estimates, covered = [], []
    for _ in range(N_DATA_SETS):
        out = fit(_seir(STATED), _cases(rng.poisson(expected)), FitSpec(free=["r0"]))
        estimates.append(out.estimate("r0").value)
        covered.append(_covers(out.estimate("r0"), 1.8))
    _assert_calibrated(estimates, covered, 1.8, "seir r0")


def _shared_box(first, widen: float) -> dict[str, tuple[float, float]]:
    """The first data set's settled design box, widened on the log scale: every data set is then
    fitted on the same design, whose runs are simulated once (the bank)."""
    box = {}
    for name, (lo, hi) in first.box.items():
        centre, half = math.sqrt(lo * hi), math.sqrt(hi / lo) ** widen
        box[name] = (centre / half, centre * half)
    return box


@pytest.mark.slow
def test_abm_intervals_cover_the_truth():
    truth = AbmParams(population=5000, r0=2.0, initial_infected=20)
    days = ObservedData(index=np.arange(40), columns={})
    data_sets = abm_simulate(truth, [{}], (), days, N_DATA_SETS, 99)["new_cases"][0]
    scenario = {"model": "abm", "params": {"population": 5000, "initial_infected": 20}}
    spec = FitSpec(free=["r0"], seed=1)
    box = _shared_box(fit(scenario, _cases(data_sets[0]), spec), 1.25)
    bank: dict = {}
    estimates, covered = [], []
    for counts in data_sets:
        out = fit(scenario, _cases(counts), spec, box=box, bank=bank)
        estimates.append(out.estimate("r0").value)
        covered.append(_covers(out.estimate("r0"), 2.0))
    _assert_calibrated(estimates, covered, 2.0, "abm r0")


@pytest.mark.slow
def test_delivery_intervals_cover_the_truth():
    truth = {"orders_per_hour": 60.0, "prep_minutes": 15.0}
    hours = ObservedData(index=np.arange(6), columns={})
    runs = delivery_simulate(DeliveryParams(couriers=45, hours=6, **truth), [{}], (), hours, N_DATA_SETS, 99)
    scenario = {"model": "delivery", "params": {"couriers": 45}}
    spec = FitSpec(free=list(truth), seed=1)

    def data(r: int) -> ObservedData:
        return ObservedData(index=np.arange(6), columns={k: v[0, r] for k, v in runs.items()})

    box = _shared_box(fit(scenario, data(0), spec), 1.25)
    bank: dict = {}
    results = {name: ([], []) for name in truth}
    for r in range(N_DATA_SETS):
        out = fit(scenario, data(r), spec, box=box, bank=bank)
        for name, value in truth.items():
            results[name][0].append(out.estimate(name).value)
            results[name][1].append(_covers(out.estimate(name), value))
    for name, value in truth.items():
        _assert_calibrated(*results[name], value, f"delivery {name}")
