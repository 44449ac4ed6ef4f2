"""The SEIR model against known truths: final size, conservation, branching-process extinction."""

# The core's pydantic models (ModelParams, the interventions) give defaults as positional Field
# arguments, which mypy without the pydantic plugin reads as required constructor arguments.
# mypy: disable-error-code="call-arg"

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy.optimize import brentq

import sim
from sim.interventions import CaseIsolation, ContactReduction, InterventionBase, Vaccination
from sim.models.seir import SEIRParams, batch_run, run, substeps_per_day

COMPARTMENTS = ("n_susceptible", "n_exposed", "n_infectious", "n_recovered")


def final_size(r0: float, population: int, initial_infected: int) -> float:
    """Attack rate a (initial infected included) from the final-size relation of SIR/SEIR with S0 = N - I0:
    ln(S0 / S_inf) = R0 (1 - S_inf / N), i.e. 1 - a = (S0 / N) exp(-R0 a)."""
    s0 = (population - initial_infected) / population
    return brentq(lambda a: 1 - a - s0 * math.exp(-r0 * a), 1e-12, 1.0)


def people(output: sim.ModelOutput) -> np.ndarray:
    total = sum(output.series[name] for name in COMPARTMENTS)
    return np.asarray(total + output.series.get("n_protected", 0.0))


@pytest.mark.parametrize("incubation_days", [5.2, 0.0], ids=["seir", "sir"])
@pytest.mark.parametrize("r0", [1.2, 1.5, 2.5, 4.0])
def test_deterministic_attack_rate_matches_final_size_equation(r0: float, incubation_days: float) -> None:
    params = SEIRParams(population=1_000_000, r0=r0, incubation_days=incubation_days, initial_infected=10, days=3650)
    output = run(params, [])
    expected = final_size(r0, params.population, params.initial_infected)
    assert output.metrics["attack_rate"][0] == pytest.approx(expected, rel=5e-3)
    assert output.series["n_infectious"][0, -1] < 1.0  # the epidemic is over, so the relation applies


def test_sir_and_seir_share_the_final_size_but_not_the_timing() -> None:
    seir = run(SEIRParams(incubation_days=5.2), [])
    sir = run(SEIRParams(incubation_days=0.0), [])
    assert np.all(sir.series["n_exposed"] == 0)
    assert sir.metrics["peak_day"][0] < seir.metrics["peak_day"][0]  # no latent delay: faster growth


def test_series_lengths_and_new_infections_add_up() -> None:
    output = run(SEIRParams(days=60, replicates=3), [])
    for name in (*COMPARTMENTS, "new_infections", "cum_infections"):
        assert output.series[name].shape == (3, 61)
    np.testing.assert_array_equal(np.cumsum(output.series["new_infections"], axis=1), output.series["cum_infections"])
    assert np.all(output.series["new_infections"][:, 0] == 10)  # day 0 holds the initial infected


@pytest.mark.parametrize("replicates", [1, 20])
def test_people_are_conserved_every_day(replicates: int) -> None:
    interventions = [
        Vaccination(start_day=5, daily_rate=0.02, efficacy=0.7),
        ContactReduction(start_day=20, duration_days=15, effectiveness=0.4),
    ]
    params = SEIRParams(population=50_000, replicates=replicates, days=200)
    output = run(params, interventions)
    np.testing.assert_allclose(people(output), params.population, rtol=1e-9)
    assert np.all(output.series["n_susceptible"] >= -1e-6)
    assert np.all(np.diff(output.series["cum_infections"], axis=1) >= -1e-6)
    # all-or-nothing: doses stop once the never-vaccinated susceptibles are used up
    assert np.all(output.series["n_vaccinated"] <= params.population + 1e-6)
    assert np.all(output.series["n_protected"] <= output.series["n_vaccinated"] + 1e-6)


def test_stochastic_mean_approaches_the_ode_for_a_large_population() -> None:
    deterministic = run(SEIRParams(population=1_000_000), [])
    ensemble = run(SEIRParams(population=1_000_000, replicates=200, seed=7), [])
    ode_attack = deterministic.metrics["attack_rate"][0]
    ode_peak = deterministic.metrics["peak_infected"][0]
    assert ensemble.metrics["attack_rate"].mean() == pytest.approx(ode_attack, rel=0.01)
    assert ensemble.metrics["peak_infected"].mean() == pytest.approx(ode_peak, rel=0.03)
    # no replicate died out: one kind of outcome, and no outbreak probability to report
    assert "major_outbreak_probability" not in ensemble.run_metrics


def extinction_probability(r0: float, exit_probability: float) -> float:
    """Extinction probability of the scheme's branching process started by one infectious person.

    A case stays infectious for M steps, M ~ geometric(p) on 1, 2, ... with p = dt / infectious_days,
    and while the population is still all susceptible infects Poisson(beta dt) people per step,
    beta dt = R0 p. With z = exp(R0 p (s - 1)), the offspring pgf is G(s) = p z / (1 - (1 - p) z);
    q is the smallest root of q = G(q) (-> 1 / R0 as p -> 0, the ODE's exponential period).
    """

    def pgf(s: float) -> float:
        z = math.exp(r0 * exit_probability * (s - 1))
        return exit_probability * z / (1 - (1 - exit_probability) * z)

    return brentq(lambda s: pgf(s) - s, 0.0, 1 - 1e-9)


def test_small_outbreaks_die_out_with_the_branching_process_probability() -> None:
    params = SEIRParams(population=10_000, r0=1.5, initial_infected=1, replicates=1000)
    exit_probability = 1.0 / substeps_per_day(params) / params.infectious_days
    expected = extinction_probability(params.r0, exit_probability)
    died_out = 0
    for seed in (1, 2):
        output = run(params.model_copy(update={"seed": seed}), [])
        attack = output.metrics["attack_rate"]
        # minor outbreaks stay tiny, major ones take over half the population: nothing in between
        assert np.all((attack < 0.01) | (attack > 0.3))
        count = int(np.sum(attack < 0.01))
        assert any(f"{count} of 1000 replicates died out" in note for note in output.notes)
        assert output.run_metrics["major_outbreak_probability"] == pytest.approx(1 - count / 1000)
        died_out += count
    n = 2000
    tolerance = 3.5 * math.sqrt(expected * (1 - expected) / n)
    assert died_out / n == pytest.approx(expected, abs=tolerance)


def test_major_outbreak_probability_and_size_match_the_branching_process_and_final_size() -> None:
    """Two initial cases: a major outbreak unless both lines die out, 1 - q^2; a major outbreak's
    size is the final-size solution; both come with intervals, and the mean of the two kinds is
    not presented as one outcome."""
    params = {"population": 20_000, "r0": 1.5, "initial_infected": 2, "replicates": 400, "seed": 4}
    result = sim.run({"model": "seir", "params": params})
    q = extinction_probability(1.5, 1.0 / substeps_per_day(SEIRParams(**params)) / 2.3)
    probability = result.scalar("major_outbreak_probability")
    assert probability == pytest.approx(1 - q**2, abs=3.5 * math.sqrt(q**2 * (1 - q**2) / 400))
    lo, hi = result.ci["major_outbreak_probability"]
    assert lo < probability < hi and hi - lo < 0.12  # a Wilson 95% interval at n = 400
    size = result.scalar("major_outbreak_attack_rate")
    assert size == pytest.approx(final_size(1.5, 20_000, 2), abs=0.01)
    size_lo, size_hi = result.ci["major_outbreak_attack_rate"]
    assert size_lo <= size <= size_hi and size_lo > 0.3
    assert "major_outbreak_probability" not in result.replicate_metrics  # a value of the replicates together


def test_interventions_never_increase_infections() -> None:
    params = SEIRParams(population=200_000, initial_infected=50, days=400)
    cases: dict[str, list[InterventionBase]] = {
        "contact_reduction": [ContactReduction(start_day=20, duration_days=40, effectiveness=0.5)],
        "vaccination": [Vaccination(start_day=10, daily_rate=0.005, efficacy=0.9)],
        "case_isolation": [CaseIsolation(start_day=0, compliance=0.8)],
    }
    cases["all"] = [iv for ivs in cases.values() for iv in ivs]
    baseline = run(params, [])
    base_cum = baseline.series["cum_infections"][0]
    base_attack = baseline.metrics["attack_rate"][0]
    for name, interventions in cases.items():
        mitigated = run(params, interventions)
        assert np.all(mitigated.series["cum_infections"][0] <= base_cum * (1 + 1e-9)), name
        assert mitigated.metrics["attack_rate"][0] < base_attack, name
        assert mitigated.metrics["peak_infected"][0] < baseline.metrics["peak_infected"][0], name
    all_attack = run(params, cases["all"]).metrics["attack_rate"][0]
    assert all_attack < min(run(params, ivs).metrics["attack_rate"][0] for ivs in list(cases.values())[:3])

    # stochastic, same seed: each replicate's attack rate falls
    stochastic = params.model_copy(update={"replicates": 50, "seed": 3})
    base_replicates = run(stochastic, []).metrics["attack_rate"]
    for name, interventions in cases.items():
        mitigated_replicates = run(stochastic, interventions).metrics["attack_rate"]
        assert mitigated_replicates.max() < base_replicates.min(), name


def test_intervention_strength_orders_outcomes() -> None:
    params = SEIRParams(days=3650)
    attack = [
        run(params, [ContactReduction(start_day=0, effectiveness=e)]).metrics["attack_rate"][0] for e in (0.0, 0.2, 0.4)
    ]
    assert attack[0] > attack[1] > attack[2]
    # contact reduction of e is R0 * (1 - e): the final-size equation still holds
    assert attack[2] == pytest.approx(final_size(2.5 * 0.6, params.population, params.initial_infected), rel=5e-3)
    peaks = [run(params, [CaseIsolation(compliance=c)]).metrics["peak_infected"][0] for c in (0.0, 0.5, 1.0)]
    assert peaks[0] > peaks[1] > peaks[2]
    doses = run(params, [Vaccination(start_day=0, daily_rate=0.01, efficacy=0.9, duration_days=10)])
    # 10 days at 1% a day, all to never-vaccinated susceptibles
    assert doses.series["n_vaccinated"][0, -1] == pytest.approx(0.1 * params.population, rel=1e-6)
    assert doses.series["n_protected"][0, -1] == pytest.approx(0.09 * params.population, rel=1e-6)


def test_contact_reduction_stops_transmission_when_complete() -> None:
    output = run(SEIRParams(incubation_days=0.0), [ContactReduction(start_day=0, effectiveness=1.0)])
    assert output.metrics["total_infected"][0] == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("params", "field", "allowed"),
    [
        ({"r0": -2}, "params.r0", r"> 0.*<= 20"),
        ({"population": 5e10}, "params.population", r">= 1.*<= 10000000000"),
        ({"infectious_days": 0}, "params.infectious_days", r"> 0.*<= 30"),
        ({"days": 4000}, "params.days", r">= 1.*<= 3650"),
    ],
)
def test_out_of_bounds_values_are_rejected_with_the_allowed_range(params: dict, field: str, allowed: str) -> None:
    with pytest.raises(sim.ScenarioError) as info:
        sim.run({"model": "seir", "params": params})
    assert info.value.field == field
    assert re.search(allowed, str(info.value))
    assert re.search(allowed, info.value.allowed or "")


def test_unknown_parameter_is_rejected_naming_the_allowed_ones() -> None:
    with pytest.raises(sim.ScenarioError) as info:
        sim.run({"model": "seir", "params": {"R_naught": 3}})
    assert "R_naught" in str(info.value)
    assert "r0" in (info.value.allowed or "")


def test_initial_infected_over_population_is_rejected() -> None:
    with pytest.raises(sim.ScenarioError, match=r"initial_infected \(20\) must be <= population \(10\)"):
        sim.run({"model": "seir", "params": {"population": 10, "initial_infected": 20}})


def test_unsupported_intervention_is_rejected() -> None:
    with pytest.raises(sim.ScenarioError, match="does not support intervention 'school_closure'"):
        sim.run({"model": "seir", "interventions": [{"type": "school_closure", "start_day": 3}]})


def test_same_seed_same_numbers_other_seed_other_numbers() -> None:
    scenario = {"model": "seir", "params": {"replicates": 10, "population": 20_000, "days": 120}}
    first = sim.run(scenario, seed=11)
    again = sim.run(scenario, seed=11)
    other = sim.run(scenario, seed=12)
    assert first.metrics == again.metrics
    assert first.replicate_metrics == again.replicate_metrics
    assert first.replicate_metrics["total_infected"] != other.replicate_metrics["total_infected"]


def test_batch_run_equals_single_runs() -> None:
    params_list = [
        SEIRParams(r0=r0, incubation_days=inc, infectious_days=inf, population=pop, days=days)
        for r0, inc, inf, pop, days in [
            (1.3, 5.2, 2.3, 100_000, 180),
            (2.5, 0.0, 4.0, 1_000, 90),
            (4.0, 3.0, 7.0, 5_000_000, 365),
            (0.8, 10.0, 1.0, 50, 30),
        ]
    ]
    interventions = [
        ContactReduction(start_day=15, duration_days=20, effectiveness=0.3),
        Vaccination(start_day=40, daily_rate=0.003, efficacy=0.6),
    ]
    batch = batch_run(params_list, [interventions] * len(params_list))
    assert len(batch) == len(params_list)
    for params, together in zip(params_list, batch, strict=True):
        alone = run(params, interventions)
        assert together.series.keys() == alone.series.keys()
        for name, values in alone.series.items():
            assert together.series[name].shape == (1, params.days + 1)
            np.testing.assert_allclose(together.series[name], values, rtol=1e-6, atol=1e-6 * params.population)
        for name, values in alone.metrics.items():
            np.testing.assert_allclose(together.metrics[name], values, rtol=1e-6)


def test_batch_run_takes_a_thousand_parameter_sets_in_one_call() -> None:
    r0_values = np.linspace(0.5, 5.0, 1000)
    outputs = batch_run([SEIRParams(r0=r0, days=365) for r0 in r0_values], [[]] * len(r0_values))
    attack = np.array([o.metrics["attack_rate"][0] for o in outputs])
    assert np.all(np.diff(attack) >= -1e-9)  # a higher R0 never infects fewer people
    for i in (600, 999):  # R0 ~ 3.2 and 5: finished within 365 days, so the final-size relation holds
        assert attack[i] == pytest.approx(final_size(r0_values[i], 100_000, 10), rel=5e-3)


def test_work_estimate_counts_replicates_days_and_compartments() -> None:
    spec = sim.get_model("seir")
    assert spec.work_units(SEIRParams(replicates=100, days=365)) == 100 * 365 * 6 * 2
    assert spec.batch_run is batch_run


@pytest.mark.parametrize("r0", [1.3, 2.5])
def test_with_no_horizon_stated_the_epidemic_runs_to_its_end_and_meets_the_final_size(r0: float) -> None:
    params = SEIRParams(population=1_000_000, r0=r0)  # no `days`
    output = run(params, [])
    assert output.metrics["attack_rate"][0] == pytest.approx(final_size(r0, params.population, 10), rel=1e-3)
    end = int(output.metrics["end_day"][0])
    assert output.series["n_infectious"].shape == (1, end + 1)
    last = output.series["n_exposed"][0, -1] + output.series["n_infectious"][0, -1]
    before = output.series["n_exposed"][0, -2] + output.series["n_infectious"][0, -2]
    assert last < 0.5 <= before  # the first day under half a person
    assert any(f"on day {end}; the attack rate is final" in note for note in output.notes)


def test_a_stated_horizon_that_cuts_the_epidemic_says_by_how_much_it_grows() -> None:
    whole = run(SEIRParams(r0=2.0), [])
    cut = run(SEIRParams(r0=2.0, days=60), [])
    assert cut.series["n_infectious"].shape == (1, 61) and cut.metrics["end_day"][0] == 60
    still = cut.series["n_exposed"][0, -1] + cut.series["n_infectious"][0, -1]
    note = next(n for n in cut.notes if "not final" in n)
    assert f"{round(still):,} people were still exposed or infectious" in note
    assert f"to {whole.metrics['attack_rate'][0]:.1%}" in note  # what running on to the end gives
    assert f"until the epidemic is over (day {int(whole.metrics['end_day'][0])})" in note
    # an epidemic over before a stated horizon needs no such note
    assert not any("not final" in n for n in run(SEIRParams(r0=2.0, days=400), []).notes)


def test_a_stochastic_ensemble_runs_until_every_replicate_is_over() -> None:
    output = run(SEIRParams(population=20_000, r0=2.0, replicates=30, seed=2), [])
    end_days = output.metrics["end_day"]
    assert output.series["n_infectious"].shape[1] == int(end_days.max()) + 1
    final = output.series["n_exposed"][:, -1] + output.series["n_infectious"][:, -1]
    assert np.all(final == 0)
    for replicate, end in enumerate(end_days.astype(int)):  # each replicate is over on its own end day
        active = output.series["n_exposed"][replicate] + output.series["n_infectious"][replicate]
        assert active[end] == 0 and active[end - 1] > 0
