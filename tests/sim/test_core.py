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
