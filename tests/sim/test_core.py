"""The engine's machinery: validation messages, registry, caps, determinism, run ids."""

from __future__ import annotations

import json

import pytest

import sim
from sim import ScenarioError
from sim.caps import CapExceeded
from tests.sim.toy import SPEC


@pytest.fixture(autouse=True)
def toy_model():
    sim.register(SPEC)
    yield
    sim.registry.unregister("toy")


def test_unknown_model_names_known_ones():
    with pytest.raises(ScenarioError) as err:
        sim.run({"model": "sir-with-typo"})
    assert "unknown model 'sir-with-typo'" in str(err.value)
    assert "seir" in str(err.value) and "toy" in str(err.value)
    assert err.value.field == "model"


def test_unknown_parameter_lists_allowed():
    with pytest.raises(ScenarioError) as err:
        sim.run({"model": "toy", "params": {"rte": 2}})
    msg = str(err.value)
    assert "unknown parameter 'params.rte'" in msg
    assert "rate" in msg and "servers" in msg


def test_out_of_bounds_names_field_value_and_bound():
    with pytest.raises(ScenarioError) as err:
        sim.run({"model": "toy", "params": {"rate": -2}})
    assert err.value.field == "params.rate"
    assert err.value.value == -2
    assert err.value.allowed == "float >= 0 and <= 10"
    assert "-2" in str(err.value)


def test_unsupported_intervention_is_an_error():
    with pytest.raises(ScenarioError) as err:
        sim.run({"model": "toy", "interventions": [{"type": "school_closure"}]})
    assert "does not support intervention 'school_closure'" in str(err.value)


def test_unknown_intervention_type_lists_allowed():
    with pytest.raises(ScenarioError) as err:
        sim.run({"model": "toy", "interventions": [{"type": "curfew"}]})
    assert "unknown intervention type 'curfew'" in str(err.value)
    assert "contact_reduction" in str(err.value)


def test_intervention_field_bound():
    with pytest.raises(ScenarioError) as err:
        sim.run({"model": "toy", "interventions": [{"type": "contact_reduction", "effectiveness": 1.5}]})
    assert "effectiveness" in str(err.value) and "1.5" in str(err.value) and "<= 1" in str(err.value)


def test_cap_refuses_before_running(monkeypatch):
    monkeypatch.setenv("SIMQA_MAX_WORK", "100")
    with pytest.raises(CapExceeded) as err:
        sim.run({"model": "toy", "params": {"replicates": 50}})
    assert "over the cap" in str(err.value)


def test_same_seed_same_numbers_and_run_id():
    a = sim.run({"model": "toy", "params": {"noise": 0.5, "replicates": 10, "seed": 4}})
    b = sim.run({"model": "toy", "params": {"noise": 0.5, "replicates": 10, "seed": 4}})
    c = sim.run({"model": "toy", "params": {"noise": 0.5, "replicates": 10, "seed": 5}})
    assert a.metrics == b.metrics and a.run_id == b.run_id
    assert a.metrics != c.metrics and a.run_id != c.run_id


def test_run_id_ignores_label_but_not_defaults_spelled_out():
    a = sim.resolve({"model": "toy", "label": "x"})
    b = sim.resolve({"model": "toy", "label": "y", "params": {"rate": 1.0}})
    assert a.run_id() == b.run_id()
    assert sim.resolve({"model": "toy", "params": {"rate": 2.0}}).run_id() != a.run_id()


def test_interval_is_central_95_percent_of_replicates():
    res = sim.run({"model": "toy", "params": {"noise": 1.0, "replicates": 400, "seed": 1}})
    lo, hi = res.ci["level"]
    values = sorted(res.replicate_metrics["level"])
    inside = sum(lo <= v <= hi for v in values) / len(values)
    assert 0.94 <= inside <= 0.96
    # 2 +/- 1.96 sd for a normal with sd 1
    assert lo == pytest.approx(2 - 1.96, abs=0.25) and hi == pytest.approx(2 + 1.96, abs=0.25)


def test_single_replicate_has_no_interval():
    res = sim.run({"model": "toy"})
    assert res.ci == {} and res.metrics["level"] == pytest.approx(2.0)


def test_result_json_roundtrip():
    res = sim.run({"model": "toy", "params": {"replicates": 3, "noise": 0.1}})
    again = sim.Result.model_validate(json.loads(res.model_dump_json()))
    assert again == res


def test_broken_plugin_does_not_hide_builtins(monkeypatch):
    assert {"seir", "abm", "delivery"} <= set(sim.model_names())


def test_params_must_subclass_modelparams():
    from pydantic import BaseModel

    class Bare(BaseModel):
        x: int = 1

    bad = sim.ModelSpec(name="bad", params=Bare, run=SPEC.run, description="", metrics=())  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match="must subclass"):
        sim.register(bad)


def test_boolean_for_a_number_is_an_error():
    with pytest.raises(ScenarioError, match="rate must be a number, got true"):
        sim.run({"model": "toy", "params": {"rate": True}})


def test_intervention_after_the_run_ends_is_an_error():
    with pytest.raises(ScenarioError, match="starts on day 200, but the run ends on day 180") as err:
        sim.run(
            {
                "model": "seir",
                "params": {"days": 180},
                "interventions": [{"type": "contact_reduction", "start_day": 200}],
            }
        )
    assert err.value.allowed == "< days (180)"


def test_target_parses_applies_and_bounds_parameters_and_intervention_fields():
    from sim.target import Target

    r0 = Target.parse("r0", "seir", "sweep")
    assert (r0.intervention, r0.field, r0.whole) == (None, "r0", False)
    assert r0.bounds() == (pytest.approx(0.001), 20.0)
    scenario = sim.Scenario(model="seir")
    assert r0.value_in(scenario) is None and r0.value_in(r0.apply(scenario, 3)) == 3.0
    effectiveness = Target.parse("contact_reduction.effectiveness", "seir", "calibrate")
    added = effectiveness.apply(scenario, 0.4)  # the intervention is added with its defaults
    assert [iv.type for iv in added.interventions] == ["contact_reduction"]
    assert effectiveness.value_in(added) == 0.4 and effectiveness.bounds() == (0.0, 1.0)
    couriers = Target.parse("couriers", "delivery")
    assert couriers.whole and couriers.label(20.0) == "couriers=20"
    with pytest.raises(ScenarioError, match="takes whole numbers"):
        couriers.apply(sim.Scenario(model="delivery"), 2.5)
    with pytest.raises(ScenarioError, match=r"effectiveness = 1.5 is invalid"):
        effectiveness.apply(scenario, 1.5)
    with pytest.raises(ScenarioError, match="supports the interventions"):
        Target.parse("school_closure.start_day", "seir", "sweep")
    with pytest.raises(ScenarioError, match="cannot sweep unknown parameter 'seed'"):
        Target.parse("seed", "seir", "sweep")


def test_run_request_dispatches_every_kind_with_the_same_defaults():
    from sim.dispatch import run_request

    seir = {"model": "seir", "params": {"population": 1000}}
    assert len(run_request("simulate", [seir]).results) == 1
    compared = run_request("compare", [seir, {**seir, "label": "r0 3", "params": {"population": 1000, "r0": 3}}])
    assert len(compared.differences) > 0 and compared.notes == []  # the seir ODE: deterministic, one run
    swept = run_request("sweep", [seir], sweep_spec={"param": "r0", "values": [1.5, 2]})
    assert [r.label for r in swept.results] == ["r0=1.5", "r0=2"]
    found = run_request("calibrate", [seir], calibrate_spec={"param": "r0", "metric": "attack_rate", "target": 0.5})
    assert found.calibration is not None and found.calibration.met
    delivery = {"model": "delivery", "params": {"hours": 1, "orders_per_hour": 30, "couriers": 10}}
    stochastic = run_request("sweep", [delivery], sweep_spec={"param": "couriers", "values": [5, 10]})
    assert {r.meta.replicates for r in stochastic.results} == {10}
    assert stochastic.notes == [
        "replicates not stated: each run ran 10 replicates (the default for a sweep of a stochastic model)"
    ]
    stated = {**delivery, "params": {**delivery["params"], "replicates": 3}}
    assert (
        run_request("sweep", [stated], sweep_spec={"param": "couriers", "values": [5]}).results[0].meta.replicates == 3
    )
    with pytest.raises(ScenarioError, match="runs nothing"):
        run_request("explain", [seir])
