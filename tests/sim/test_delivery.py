"""The delivery model against known truths: Erlang C, Little's law, conservation, monotonicity."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from scipy.special import gammaln

import sim
from sim.models.delivery import (
    SPEC,
    DeliveryParams,
    count_open,
    series_times,
    simulate,
    summarise_trace,
)


def make_params(**values: Any) -> DeliveryParams:
    """Validated parameters from keywords (through model_validate, which mypy does not check against
    the base class's positional Field defaults)."""
    return DeliveryParams.model_validate(values)


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (Erlang C), offered load a = lambda/mu < c."""
    k = np.arange(servers)
    head = np.exp(k * math.log(offered_load) - gammaln(k + 1)).sum()
    tail = math.exp(servers * math.log(offered_load) - gammaln(servers + 1)) * servers / (servers - offered_load)
    return float(tail / (head + tail))


def test_erlang_c_helper_matches_textbook_values() -> None:
    # M/M/1: P(wait) = rho; M/M/2 with a = 1: C = 1/3 (both closed forms)
    assert erlang_c(1, 0.8) == pytest.approx(0.8)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)


def mean_wait_after_warmup(params: DeliveryParams, warmup_minutes: float) -> np.ndarray:
    """Per-replicate mean wait (placed -> courier assigned) of orders placed after the warm-up."""
    waits = []
    for trace in simulate(params):
        late_enough = trace.orders.arrival >= warmup_minutes
        waits.append(np.mean((trace.assigned - trace.orders.arrival)[late_enough]))
    return np.asarray(waits)


def test_exponential_service_is_an_mmc_queue_matching_erlang_c() -> None:
    servers, service_minutes, utilisation = 5, 2.0, 0.8
    mu = 1 / service_minutes  # per minute
    lam = utilisation * servers * mu  # 2 orders per minute
    params = make_params(
        service_model="exponential",
        couriers=servers,
        service_minutes=service_minutes,
        orders_per_hour=lam * 60,
        hours=24,
        replicates=30,
        seed=11,
    )
    expected_wq = erlang_c(servers, lam / mu) / (servers * mu - lam)  # 1.108 minutes
    # the queue relaxes in about 1 / (c mu (1 - sqrt(rho))^2) = 36 minutes; skip the first 2 hours
    waits = mean_wait_after_warmup(params, warmup_minutes=120)
    standard_error = waits.std(ddof=1) / math.sqrt(waits.size)
    assert abs(waits.mean() - expected_wq) < 4 * standard_error
    assert standard_error < 0.1 * expected_wq  # the check is sharp enough to catch a wrong queue
    # the model's own warm-up leaves the same orders out of its mean wait
    warmed = sim.run({"model": "delivery", "params": {**params.model_dump(), "warmup_minutes": 120}})
    np.testing.assert_allclose(warmed.replicate_metrics["mean_wait_minutes"], waits, rtol=1e-9)
    # without it the queue starts empty: the first hours wait less than the steady state
    cold = sim.run({"model": "delivery", "params": {**params.model_dump(), "hours": 6}})
    assert cold.scalar("mean_wait_minutes") < expected_wq


def test_warmup_must_end_within_the_shift() -> None:
    with pytest.raises(sim.ScenarioError, match="warmup_minutes"):
        sim.run({"model": "delivery", "params": {"hours": 2, "warmup_minutes": 120}})


def test_mm1_wait_probability_and_utilization() -> None:
    service_minutes, rho = 2.0, 0.5
    lam = rho / service_minutes
    params = make_params(
        service_model="exponential",
        couriers=1,
        service_minutes=service_minutes,
        orders_per_hour=lam * 60,
        hours=24,
        replicates=60,
        seed=3,
    )
    traces = simulate(params)
    waited = np.concatenate([(t.assigned > t.orders.arrival)[t.orders.arrival >= 60] for t in traces])
    # M/M/1: an arrival waits with probability rho; mean wait rho / (mu - lambda) = 2 minutes
    assert waited.mean() == pytest.approx(rho, abs=0.02)
    waits = mean_wait_after_warmup(params, warmup_minutes=60)
    standard_error = waits.std(ddof=1) / math.sqrt(waits.size)
    assert abs(waits.mean() - rho / (1 / service_minutes - lam)) < 4 * standard_error
    utilization = np.array([summarise_trace(t, params.sla_minutes)["utilization"] for t in traces])
    assert utilization.mean() == pytest.approx(rho, abs=0.01)


def test_utilization_is_offered_load_per_courier() -> None:
    params = make_params(
        service_model="exponential", couriers=5, service_minutes=2.0, orders_per_hour=120, hours=12, replicates=10
    )
    result = sim.run({"model": "delivery", "params": params.model_dump()})
    assert result.scalar("utilization") == pytest.approx(0.8, abs=0.02)  # lambda / (c mu)


def test_more_couriers_never_delay_any_order_in_the_fifo_queue() -> None:
    # With FIFO and service times tied to orders (common random numbers), the Kiefer-Wolfowitz workload
    # recursion shows each order's wait is non-increasing in the number of servers, so every order's
    # time to door, hence p90 and late_rate, are too. This is exact, not statistical.
    base = dict(service_model="exponential", service_minutes=20.0, orders_per_hour=15, hours=6, seed=5)
    previous = None
    p90s, late_rates = [], []
    for couriers in (3, 4, 5, 6, 8):
        (trace,) = simulate(make_params(couriers=couriers, **base))
        minutes_to_door = trace.delivered - trace.orders.arrival
        if previous is not None:
            assert np.all(minutes_to_door <= previous + 1e-9)
        previous = minutes_to_door
        summary = summarise_trace(trace, sla_minutes=30)
        p90s.append(summary["p90_minutes"])
        late_rates.append(summary["late_rate"])
    assert all(b <= a for a, b in itertools.pairwise(p90s))
    assert all(b <= a for a, b in itertools.pairwise(late_rates))
    assert p90s[-1] < p90s[0]  # and the fleet size matters at all


def test_more_couriers_do_not_raise_p90_or_late_rate_in_the_city_on_average() -> None:
    # Nearest-idle dispatch is not provably monotone (a different courier may take an order and end
    # elsewhere), so this compares replicate averages on shared random numbers with a small margin.
    p90s, late_rates = [], []
    for couriers in (30, 40, 50, 60, 80):
        result = sim.run({"model": "delivery", "params": {"couriers": couriers, "replicates": 10, "seed": 2}})
        p90s.append(result.scalar("p90_minutes"))
        late_rates.append(result.scalar("late_rate"))
    for fewer, more in itertools.pairwise(p90s):
        assert more <= fewer + 0.25
    for fewer, more in itertools.pairwise(late_rates):
        assert more <= fewer + 0.005
    assert p90s[0] > p90s[-1] + 3  # 30 couriers are too few for 120 orders an hour


def test_every_order_is_delivered_once_and_no_faster_than_physics() -> None:
    # an overloaded fleet with batching exercises the queue and multi-order trips
    params = make_params(couriers=25, max_batch=3, replicates=3, seed=9)
    for trace in simulate(params):
        n = trace.orders.arrival.size
        assert n > 500
        assert np.all(trace.delivery_count == 1)
        assert np.all(trace.assigned >= trace.orders.arrival)
        direct_ride = np.hypot(*(trace.orders.customer_xy - trace.orders.restaurant_xy).T) * 60 / params.speed_kmh
        # the food leaves the restaurant when ready at the earliest, and the ride is at least straight
        assert np.all(trace.delivered >= trace.orders.ready + direct_ride - 1e-9)
        assert trace.trip_start.size < n  # some trips carried several orders
        for courier in range(params.couriers):  # a courier is never on two trips at once
            mine = trace.trip_courier == courier
            starts, ends = trace.trip_start[mine], trace.trip_end[mine]
            order = np.argsort(starts)
            assert np.all(starts[order][1:] >= ends[order][:-1] - 1e-9)
    result = sim.run({"model": "delivery", "params": params.model_dump()})
    assert result.replicate_metrics["delivered"] == result.replicate_metrics["orders_placed"]
    assert all(0.0 <= u <= 1.0 for u in result.replicate_metrics["utilization"])
    assert result.scalar("utilization") > 0.95  # overloaded: nearly always busy
    backlog = sim.run({"model": "delivery", "params": {"couriers": 20, "replicates": 2}})
    assert any("did not keep up" in note for note in backlog.notes)
    assert not any("did not keep up" in note for note in sim.run({"model": "delivery"}).notes)


def queued_at_end(params: DeliveryParams) -> np.ndarray:
    """Per replicate: orders placed during the shift that no courier had taken when it ended."""
    return np.array(
        [
            np.sum((trace.orders.arrival <= trace.shift_minutes) & (trace.assigned > trace.shift_minutes))
            for trace in simulate(params)
        ]
    )


def test_orders_still_being_prepared_at_closing_are_no_backlog() -> None:
    # a fleet that keeps up (p90 37.7 min against 37.2 with 120 couriers, the floor of preparation and
    # riding) still has a queue of orders at closing whose food is being prepared; that is normal and
    # must not read as falling behind
    scenario = {"orders_per_hour": 300, "couriers": 90, "replicates": 1, "seed": 0}
    five_minutes_of_orders = 300 * 5 / 60
    assert queued_at_end(make_params(**scenario))[0] > 2 * five_minutes_of_orders  # a real queue
    result = sim.run({"model": "delivery", "params": scenario})
    floor = sim.run({"model": "delivery", "params": {**scenario, "couriers": 120}}).scalar("p90_minutes")
    assert result.scalar("p90_minutes") < floor + 1
    assert not any("did not keep up" in note for note in result.notes)


def test_the_backlog_note_counts_orders_whose_food_is_ready() -> None:
    # with no preparation time every queued order is ready, so the note's count is the whole queue
    params = make_params(prep_minutes=0, couriers=20, hours=2, replicates=2, seed=5)
    expected = queued_at_end(params).mean()
    assert expected > 50  # overloaded: 2 orders a minute on trips of ~13.5 min keep ~27 couriers busy
    result = sim.run({"model": "delivery", "params": params.model_dump()})
    (note,) = [note for note in result.notes if "did not keep up" in note]
    assert f"when the shift ended {expected:.0f} orders" in note
    assert "food ready" in note


def test_series_shapes_and_units() -> None:
    result = sim.run({"model": "delivery", "params": {"hours": 2, "replicates": 3}})
    assert result.time_unit == "minute"
    assert len(result.series["queue_length"]) == 120
    assert len(result.series["n_busy"]) == 120
    assert max(result.series["n_busy"]) <= 60
    output = SPEC.run(make_params(hours=2, replicates=3), ())
    assert output.series["queue_length"].shape == (3, 120)
    assert output.metrics["p90_minutes"].shape == (3,)


def test_same_seed_same_numbers_other_seed_other_numbers() -> None:
    scenario = {"model": "delivery", "params": {"replicates": 3, "seed": 42, "max_batch": 2, "couriers": 40}}
    first, second = sim.run(scenario), sim.run(scenario)
    assert first.replicate_metrics == second.replicate_metrics
    assert first.series == second.series
    other = sim.run(scenario, seed=43)
    assert other.replicate_metrics["p90_minutes"] != first.replicate_metrics["p90_minutes"]


def test_order_stream_does_not_depend_on_the_fleet() -> None:
    (small,) = simulate(make_params(couriers=10, seed=4, hours=1))
    (large,) = simulate(make_params(couriers=200, seed=4, hours=1))
    np.testing.assert_array_equal(small.orders.arrival, large.orders.arrival)
    np.testing.assert_array_equal(small.orders.ready, large.orders.ready)


@pytest.mark.parametrize(
    ("params", "field", "allowed"),
    [
        ({"couriers": 0}, "params.couriers", ">= 1"),
        ({"orders_per_hour": -5}, "params.orders_per_hour", "> 0"),
        ({"max_batch": 11}, "params.max_batch", "<= 10"),
        ({"drones": 3}, "params.drones", "orders_per_hour"),
    ],
)
def test_invalid_scenarios_name_the_field_and_bound(params: dict, field: str, allowed: str) -> None:
    with pytest.raises(sim.ScenarioError) as info:
        sim.run({"model": "delivery", "params": params})
    assert info.value.field == field
    assert allowed in (info.value.allowed or "")
    assert field in str(info.value)


def test_oversized_requests_are_refused_before_running() -> None:
    huge = {"orders_per_hour": 5000, "hours": 24, "couriers": 2000, "replicates": 100}
    with pytest.raises(sim.CapExceeded):
        sim.run({"model": "delivery", "params": huge})


def test_interventions_are_refused() -> None:
    with pytest.raises(sim.ScenarioError, match="does not support"):
        sim.run({"model": "delivery", "interventions": [{"type": "contact_reduction"}]})


@pytest.mark.parametrize("service_model", ["exponential", "spatial"])
def test_littles_law_for_the_queue(service_model: str) -> None:
    # time-average queue length = arrival rate x mean wait; the series samples the queue each minute
    params = make_params(
        service_model=service_model,
        couriers=5 if service_model == "exponential" else 45,
        service_minutes=2.0,
        orders_per_hour=120,
        hours=24 if service_model == "exponential" else 12,
        replicates=5,
        seed=8,
    )
    queue_means, little_products = [], []
    for trace in simulate(params):
        queue = count_open(trace.orders.arrival, trace.assigned, series_times(trace.shift_minutes))
        arrival_rate = trace.orders.arrival.size / trace.shift_minutes
        queue_means.append(queue.mean())
        little_products.append(arrival_rate * np.mean(trace.assigned - trace.orders.arrival))
    assert min(queue_means) > 0.2  # a real queue, not an empty one
    assert np.mean(queue_means) == pytest.approx(np.mean(little_products), rel=0.05)
