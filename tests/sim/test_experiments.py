"""compare, sweep and calibrate: against known answers (toy model, seir final size)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from pydantic import Field
from scipy.optimize import brentq

import sim
from sim.experiments import CalibrateSpec, SweepSpec, calibrate, compare, sweep
from tests.sim.toy import SPEC


@pytest.fixture(autouse=True)
def toy_model():
    sim.register(SPEC)
    yield
    sim.registry.unregister("toy")


def test_compare_uses_common_random_numbers_and_reports_paired_interval():
    base = {"label": "baseline", "model": "toy", "params": {"noise": 0.5, "replicates": 30, "seed": 2}}
    half = {**base, "label": "half", "interventions": [{"type": "contact_reduction", "effectiveness": 0.5}]}
    out = compare([base, half])
    assert [r.label for r in out.results] == ["baseline", "half"]
    diff = next(d for d in out.differences if d.metric == "level")
    # Same noise in both (common random numbers): the difference is exactly the effect, -1.0.
    assert diff.difference == pytest.approx(-1.0)
    assert diff.ci == pytest.approx((-1.0, -1.0))
    assert diff.relative == pytest.approx(-1.0 / out.results[0].scalar("level"))


def test_compare_needs_two_distinct_labels():
    with pytest.raises(sim.ScenarioError, match="at least two"):
        compare([{"model": "toy"}])
    with pytest.raises(sim.ScenarioError, match="distinct"):
        compare([{"model": "toy"}, {"model": "toy", "params": {"rate": 2}}])


def test_sweep_labels_and_values():
    results = sweep({"model": "toy"}, SweepSpec(param="servers", values=[1, 2, 5]))
    assert [r.label for r in results] == ["servers=1", "servers=2", "servers=5"]
    assert [r.scalar("level") for r in results] == pytest.approx([10, 5, 2])
    assert results[0].scenario.params["servers"] == 1 and isinstance(results[0].scenario.params["servers"], int)


def test_sweep_over_intervention_field_adds_it_when_missing():
    results = sweep({"model": "toy"}, SweepSpec(param="contact_reduction.effectiveness", values=[0, 0.5]))
    assert [r.scalar("level") for r in results] == pytest.approx([2.0, 1.0])


def test_sweep_rejects_fractional_integer_and_unknown_param():
    with pytest.raises(sim.ScenarioError, match="whole numbers"):
        sweep({"model": "toy"}, SweepSpec(param="servers", values=[1.5]))
    with pytest.raises(sim.ScenarioError, match="cannot sweep unknown parameter 'srvers'"):
        sweep({"model": "toy"}, SweepSpec(param="srvers", values=[1]))


def test_calibrate_continuous_root():
    # level = rate * 10 / 5 = 2 * rate: level 3 at rate 1.5
    out = calibrate({"model": "toy"}, CalibrateSpec(param="rate", metric="level", target=3.0))
    assert out.met and out.value == pytest.approx(1.5, rel=1e-3)
    assert out.results[-1].scalar("level") == pytest.approx(out.achieved)


def test_calibrate_integer_le_finds_fewest_servers():
    # level = 10 * rate / servers with rate 4: level <= 3 needs servers >= 40/3, i.e. 14
    out = calibrate(
        {"model": "toy", "params": {"rate": 4}}, CalibrateSpec(param="servers", metric="level", target=3, relation="le")
    )
    assert out.met and out.value == 14
    assert out.achieved <= 3 and 40 / 13 > 3


def test_calibrate_ge_on_increasing_metric():
    out = calibrate({"model": "toy"}, CalibrateSpec(param="rate", metric="level", target=5, relation="ge"))
    assert out.met and out.achieved >= 5 and out.value == pytest.approx(2.5, rel=1e-2)


def test_calibrate_unreachable_reports_closest():
    out = calibrate({"model": "toy"}, CalibrateSpec(param="rate", metric="level", target=50))
    assert not out.met
    assert out.value == 10 and out.achieved == pytest.approx(20)
    assert "no rate between 0 and 10 gives level = 50" in out.note


def test_calibrate_limit_on_a_flat_metric_finds_where_the_limit_stops_holding():
    # level = 10 * rate / servers with 5 servers: level <= 0 holds only at rate 0 (flat at the target
    # nowhere but one end): the answer is the largest rate that meets the limit, within the tolerance.
    out = calibrate({"model": "toy"}, CalibrateSpec(param="rate", metric="level", target=0.0, relation="le"))
    assert out.met and out.value == pytest.approx(0.0, abs=1e-4)
    out = calibrate({"model": "toy"}, CalibrateSpec(param="rate", metric="level", target=4.0, relation="le"))
    assert out.met and out.value == pytest.approx(2.0, rel=1e-5) and out.achieved <= 4.0


def test_calibrate_an_intervention_field():
    # level = 2 * (1 - effectiveness): level 0.5 at effectiveness 0.75
    out = calibrate(
        {"model": "toy"}, CalibrateSpec(param="contact_reduction.effectiveness", metric="level", target=0.5)
    )
    assert out.met and out.value == pytest.approx(0.75, rel=1e-4)
    iv = out.results[-1].scenario.interventions[0]
    assert iv.type == "contact_reduction" and iv.effectiveness == pytest.approx(out.value)
    with pytest.raises(sim.ScenarioError, match="intervention field"):
        calibrate({"model": "toy"}, CalibrateSpec(param="contact_reduction.type", metric="level", target=1))


def test_calibrate_unknown_metric_and_param():
    with pytest.raises(sim.ScenarioError, match="unknown metric 'lvl'"):
        calibrate({"model": "toy"}, CalibrateSpec(param="rate", metric="lvl", target=1))
    with pytest.raises(sim.ScenarioError, match="cannot calibrate unknown parameter"):
        calibrate({"model": "toy"}, CalibrateSpec(param="seed", metric="level", target=1))


def test_calibrate_seir_r0_for_half_attack_rate_matches_final_size():
    # Final-size equation 1 - a = exp(-R0 a): a = 0.5 at R0 = 2 ln 2.
    out = calibrate(
        {"model": "seir", "params": {"population": 1_000_000, "initial_infected": 1, "days": 1500}},
        CalibrateSpec(param="r0", metric="attack_rate", target=0.5, lower=1.05, upper=4),
    )
    assert out.met
    assert out.value == pytest.approx(2 * math.log(2), rel=0.01)
    assert brentq(lambda a: 1 - a - math.exp(-out.value * a), 1e-6, 1) == pytest.approx(0.5, abs=0.01)


def test_seir_vectorised_sweep_matches_single_runs():
    spec = SweepSpec(param="r0", values=[1.5, 2.5])
    batch = sweep({"model": "seir"}, spec)
    single = [sim.run({"model": "seir", "params": {"r0": v}}) for v in spec.values]
    for b, s in zip(batch, single, strict=True):
        assert b.scalar("attack_rate") == pytest.approx(s.scalar("attack_rate"), rel=1e-5)


class _DictCache:
    def __init__(self):
        self.store, self.puts = {}, 0

    def get(self, run_id):
        return self.store.get(run_id)

    def put(self, result):
        self.puts += 1
        self.store[result.run_id] = result


def test_cache_returns_stored_result_without_running():
    cache = _DictCache()
    first = sim.run({"model": "toy", "params": {"noise": 0.3, "replicates": 4}}, cache=cache)
    again = sim.run({"model": "toy", "params": {"noise": 0.3, "replicates": 4}}, cache=cache)
    assert cache.puts == 1 and again.meta.cached and not first.meta.cached
    assert again.metrics == first.metrics
    out = compare(
        [{"model": "toy", "params": {"noise": 0.3, "replicates": 4}}, {"model": "toy", "label": "b"}], cache=cache
    )
    assert out.results[0].meta.cached and cache.puts == 2


# --------------------------------------------------------------------------- targets of any shape


class HumpParams(sim.ModelParams):
    x: float = Field(5.0, ge=0, le=10)
    spread: float = Field(0.0, ge=0, le=1)


def _hump(params: Any, interventions: Any) -> sim.ModelOutput:
    """height = 1 - ((x - 5) / 5)^2: 0.64 at x = 2 and at x = 8 (a target met on both sides of a peak);
    with `spread`, replicate noise around it on fixed random numbers."""
    rng = np.random.default_rng(params.seed)
    noise = rng.normal(0, params.spread, params.replicates)
    return sim.ModelOutput(metrics={"height": 1 - ((params.x - 5) / 5) ** 2 + noise})


HUMP = sim.ModelSpec(
    name="hump",
    params=HumpParams,
    run=_hump,
    description="a metric with a peak in its parameter",
    metrics=("height",),
    stochastic=lambda p: p.spread > 0,
)


@pytest.fixture
def hump_model():
    sim.register(HUMP)
    yield
    sim.registry.unregister("hump")


def test_calibrate_finds_both_sides_of_a_non_monotone_target(hump_model):
    out = calibrate({"model": "hump"}, CalibrateSpec(param="x", metric="height", target=0.64))
    assert out.met
    assert [s.value for s in out.solutions] == pytest.approx([2.0, 8.0], abs=1e-5)
    assert all(s.achieved == pytest.approx(0.64, abs=1e-6) for s in out.solutions)
    assert "2 values of x" in out.note
    # a limit on both sides: height <= 0.64 holds from 0 to 2 and from 8 to 10
    out = calibrate({"model": "hump"}, CalibrateSpec(param="x", metric="height", target=0.64, relation="le"))
    assert [round(s.value, 4) for s in out.solutions] == [2.0, 8.0]
    assert [(round(a, 3), round(b, 3)) for a, b in out.meeting_ranges] == [(0.0, 2.0), (8.0, 10.0)]


def test_calibrate_honours_the_range_and_reports_the_closest_when_nothing_meets(hump_model):
    out = calibrate({"model": "hump"}, CalibrateSpec(param="x", metric="height", target=0.64, lower=5, upper=10))
    assert [s.value for s in out.solutions] == pytest.approx([8.0], abs=1e-5)
    assert "no other x between 5 and 10" in out.note
    out = calibrate({"model": "hump"}, CalibrateSpec(param="x", metric="height", target=1.5))
    assert not out.met and out.value == pytest.approx(5.0) and out.achieved == pytest.approx(1.0)
    assert "no x between 0 and 10 gives height = 1.5" in out.note


def test_stochastic_target_is_met_across_replicates_and_reports_the_share(hump_model):
    # replicates not stated: the calibration runs 20 of each value and meets the mean; the share of
    # replicates that meet the limit one by one is reported (about half at the edge, by symmetry)
    out = calibrate(
        {"model": "hump", "params": {"spread": 0.05}},
        CalibrateSpec(param="x", metric="height", target=0.64, relation="le", upper=5),
    )
    assert out.replicates == 20 and out.met
    assert out.value == pytest.approx(2.0, abs=0.2)
    assert out.share_meeting is not None and 0.2 <= out.share_meeting <= 0.8


def test_a_probability_target_needs_that_share_of_replicates(hump_model):
    # "height at most 0.64 in 90% of runs": with noise sd 0.05 the mean must sit 1.28 sd below 0.64
    plain = calibrate(
        {"model": "hump", "params": {"spread": 0.05}},
        CalibrateSpec(param="x", metric="height", target=0.64, relation="le", upper=5),
    )
    sure = calibrate(
        {"model": "hump", "params": {"spread": 0.05}},
        CalibrateSpec(param="x", metric="height", target=0.64, relation="le", upper=5, probability=0.9),
    )
    assert sure.met and sure.share_meeting is not None and sure.share_meeting >= 0.9
    assert sure.value < plain.value  # further from the peak
    assert sure.achieved < 0.64 - 0.05  # the mean sits well below the limit
    with pytest.raises(ValueError, match="probability goes with a limit"):
        CalibrateSpec(param="x", metric="height", target=0.64, probability=0.9)


def test_a_probability_target_on_a_deterministic_run_says_it_needs_replicates(hump_model):
    with pytest.raises(sim.ScenarioError, match="needs replicates > 1"):
        calibrate(
            {"model": "hump", "params": {"replicates": 1}},
            CalibrateSpec(param="x", metric="height", target=0.64, relation="le", probability=0.9),
        )


def test_seir_half_attack_rate_with_no_horizon_stated_is_two_ln_two():
    # no `days`: the epidemic runs to its end, so the final-size relation gives R0 = 2 ln 2 (with the
    # default 10 initial cases in 100,000 a hair lower)
    out = calibrate({"model": "seir"}, CalibrateSpec(param="r0", metric="attack_rate", target=0.5))
    assert out.met and len(out.solutions) == 1
    assert out.value == pytest.approx(2 * math.log(2), rel=0.005)
    final = out.results[-1]
    assert final.scalar("attack_rate") == pytest.approx(0.5, abs=1e-4)
    assert any("the attack rate is final" in n for n in final.notes)


def test_seir_peak_day_has_one_r0_above_the_threshold_and_a_jump_below():
    out = calibrate(
        {"model": "seir", "params": {"population": 1_000_000}},
        CalibrateSpec(param="r0", metric="peak_day", target=60, lower=0.5, upper=10),
    )
    assert out.met and len(out.solutions) == 1
    rerun = sim.run({"model": "seir", "params": {"population": 1_000_000, "r0": out.value}})
    assert abs(rerun.scalar("peak_day") - 60) <= 1
    assert "no other r0 between 0.5 and 10" in out.note


def test_a_calibration_searches_only_values_the_scenario_accepts_beside_its_others():
    """initial_infected's own bound is far above the population, which caps it: the search stops at
    the population instead of failing on a scenario that cannot run, and its answer reruns as found."""
    scenario = {"model": "seir", "params": {"population": 20_000}}
    out = calibrate(scenario, CalibrateSpec(param="initial_infected", metric="peak_day", target=40, relation="le"))
    assert out.upper == 20_000 and out.lower == 1
    assert out.met
    rerun = sim.run({"model": "seir", "params": {"population": 20_000, "initial_infected": int(out.value)}})
    assert rerun.metrics["peak_day"] <= 40
    fewer = sim.run({"model": "seir", "params": {"population": 20_000, "initial_infected": int(out.value) - 1}})
    assert fewer.metrics["peak_day"] > 40  # the fewest: one case less peaks later
