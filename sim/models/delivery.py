"""Last-mile meal delivery: a discrete-event simulation of couriers serving orders in a square city.

Orders arrive as a Poisson process during a shift. Each order has a restaurant and a customer,
both uniform in a square of side `city_km`; the food is ready a gamma-distributed preparation
time after the order is placed. An arriving order goes to the nearest idle courier (straight-line
distance); if none is idle it waits in a first-come-first-served queue, and the next courier to
finish takes the head of the queue (plus, when `max_batch` > 1, further queued orders whose
restaurant and customer are close to the head order's). The courier rides to the restaurant, waits for the food, rides to the
customer and stays there idle. The simulation runs past the shift until every order is delivered.

Random numbers: each replicate gets its own `SeedSequence` child, split into an order stream
(arrivals, locations, preparation and service times) and a courier stream (start positions). The
order stream does not depend on the number of couriers, so comparing fleet sizes uses common
random numbers; courier start positions are drawn row by row, so a larger fleet keeps the smaller
fleet's couriers where they were and adds new ones.

`service_model="exponential"` replaces the spatial trip by an exponential service time with mean
`service_minutes`: the model is then exactly an M/M/c queue (FIFO), which the tests check against
the Erlang C formula. It exists for validation, not for questions about delivery.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from sim.models.delivery_language import LANGUAGE
from sim.models.observed import DELIVERY_FIT_PARAMS, DELIVERY_OBSERVABLES
from sim.output import ModelOutput, replicate_seeds
from sim.params import ModelParams
from sim.registry import ModelSpec

# Preparation times of the Grubhub meal-delivery instances (Reyes et al. 2018, github.com/grubhub/mdrplib,
# instance_characteristics.txt of seed 0): median 15 min, mean 17.04 min, sd 8.94 min (skewed to the
# right). Lognormal with the source's coefficient of variation, 8.94 / 17.04 = 0.525, so that
# sigma = sqrt(ln(1 + 0.525^2)) = 0.493; `prep_minutes` is its median. At the default median of 15 min
# the mean is 16.94 min and the sd 8.89 min, within 0.6% of the source's; a gamma of that spread
# with median 15 would have mean 16.46. A changed `prep_minutes` scales the whole distribution.
PREP_MEDIAN_MINUTES = 15.0
PREP_CV = 8.94 / 17.04
PREP_SIGMA = math.sqrt(math.log1p(PREP_CV**2))

# A courier building a batch looks this far into the queue for the best companion order (nearest
# restaurant to the last pickup plus nearest customer to the first drop-off): far enough to find a
# good match under load, near enough that old orders are not skipped for long.
BATCH_LOOKAHEAD = 20

# The couriers "did not keep up" when, at the end of the shift, more than 5 minutes' worth of orders
# have their food ready and still no courier. Queued orders whose food is still being prepared do
# not count: a courier sent now would only wait at the counter, so their wait costs nothing, and
# a queue of them is the normal state of a busy fleet (300 orders/h, 90 couriers: ~56 queued at
# closing; p90 37.7 min against 37.2 min with 120 couriers).
BACKLOG_NOTE_HOURS = 5 / 60

SERIES_STEP_MINUTES = 1.0  # queue_length and n_busy are sampled at the start of every minute of the shift

MIN_FLEET_COST = 200  # work units per order for fleets up to this size (see _work)


class DeliveryParams(ModelParams):
    """Parameters of the delivery model. Distances in km, times in minutes unless named otherwise."""

    orders_per_hour: float = Field(
        default=120.0,  # rationale: a busy city zone at the dinner peak; scale couriers with it
        gt=0,
        le=5000,
        description="mean rate of orders placed during the shift (Poisson arrivals), orders per hour",
    )
    couriers: int = Field(
        default=60,  # Grubhub instances: 0.48-0.60 courier-hours per order (Reyes et al. 2018, mdrplib seeds 0-1)
        ge=1,
        le=2000,
        description="couriers on shift; all start idle at random places and work until every order is delivered",
    )
    hours: float = Field(
        default=6.0,  # rationale: one lunch-to-dinner shift
        gt=0,
        le=24,
        description="length of the shift during which orders are placed, hours",
    )
    prep_minutes: float = Field(
        default=PREP_MEDIAN_MINUTES,  # median preparation in the Grubhub instances (Reyes et al. 2018), see above
        ge=0,
        le=120,
        description="median restaurant preparation time, minutes (lognormal, coefficient of variation 0.525)",
    )
    speed_kmh: float = Field(
        default=18.0,  # Grubhub instances: 2.2 km straight-line restaurant-to-customer in 7.4 min (Reyes et al. 2018)
        gt=0,
        le=80,
        description="courier speed along the straight line between two points (road detours included), km/h",
    )
    city_km: float = Field(
        default=4.0,  # mean straight-line distance of two uniform points is 0.5214 x side = 2.1 km, as in the instances
        gt=0,
        le=100,
        description="side of the square city in which restaurants and customers lie, km",
    )
    max_batch: int = Field(
        default=1,  # rationale: one order per trip is the plain baseline; batching is the what-if
        ge=1,
        le=10,
        description="most orders a courier carries on one trip; batches form only from queued orders",
    )
    sla_minutes: float = Field(
        default=30.0,  # the common 30-minute delivery promise (e.g. Domino's former "30 minutes or less")
        gt=0,
        le=240,
        description="promised time from order placed to delivered; later orders count as late, minutes",
    )
    service_model: Literal["spatial", "exponential"] = Field(
        default="spatial",
        description=(
            "validation switch: 'spatial' simulates trips; 'exponential' replaces each trip by an "
            "exponential service time of mean service_minutes, making the model an M/M/c queue"
        ),
    )
    service_minutes: float = Field(
        default=20.0,  # rationale: about one delivery trip; used only when service_model is "exponential"
        gt=0,
        le=240,
        description="mean service time of the exponential validation model, minutes (ignored when spatial)",
    )
    warmup_minutes: float = Field(
        default=0.0,  # a shift starts with idle couriers, and that start is part of the shift
        ge=0,
        le=1440,
        description=(
            "orders placed in the first warmup_minutes of the shift are simulated but left out of the delivery "
            "times, late rate and mean wait: for comparing with steady-state queueing formulas"
        ),
    )

    @model_validator(mode="after")
    def _warmup_within_shift(self) -> DeliveryParams:
        if self.warmup_minutes >= self.hours * 60:
            raise ValueError(
                f"warmup_minutes ({self.warmup_minutes:g}) must be shorter than the shift ({self.hours * 60:g} "
                "minutes); lower warmup_minutes or lengthen hours"
            )
        return self


@dataclass
class OrderStream:
    """The random inputs of one replicate that do not depend on the fleet (common random numbers)."""

    arrival: np.ndarray  # minutes since the start of the shift, sorted
    restaurant_xy: np.ndarray  # (n, 2) km
    customer_xy: np.ndarray  # (n, 2) km
    ready: np.ndarray  # minute the food is ready = arrival + preparation
    service: np.ndarray  # exponential service time (used by the validation model only), minutes


@dataclass
class ReplicateTrace:
    """What happened to every order and courier in one replicate, for metrics and tests."""

    orders: OrderStream
    assigned: np.ndarray  # minute a courier took the order
    delivered: np.ndarray  # minute the order reached the customer
    courier: np.ndarray  # index of the courier that delivered it
    delivery_count: np.ndarray  # how many times each order was handed over (1 when correct)
    trip_start: np.ndarray  # one entry per trip: minute the courier left
    trip_end: np.ndarray  # minute the courier became free again
    trip_courier: np.ndarray  # which courier made the trip
    shift_minutes: float
    couriers: int


def draw_orders(params: DeliveryParams, rng: np.random.Generator) -> OrderStream:
    """Pre-draw a replicate's orders. Every array is always drawn, in the same order, so the stream
    is the same whatever the fleet size, batch size or service model."""
    shift_minutes = params.hours * 60.0
    n = int(rng.poisson(params.orders_per_hour * params.hours))
    arrival = np.sort(rng.uniform(0.0, shift_minutes, n))
    restaurant_xy = rng.uniform(0.0, params.city_km, (n, 2))
    customer_xy = rng.uniform(0.0, params.city_km, (n, 2))
    prep = params.prep_minutes * np.exp(PREP_SIGMA * rng.standard_normal(n))
    service = rng.standard_exponential(n) * params.service_minutes
    return OrderStream(arrival, restaurant_xy, customer_xy, arrival + prep, service)


def draw_courier_positions(params: DeliveryParams, rng: np.random.Generator) -> np.ndarray:
    """Start positions (couriers, 2); drawn row by row, so the first k rows do not depend on the fleet size."""
    return rng.uniform(0.0, params.city_km, (params.couriers, 2))


class _Dispatch:
    """One replicate's event loop and its state. Two events: an order arrives (it goes to the nearest
    idle courier, or joins the queue), a courier comes free (it takes the head of the queue and, with
    batching, companions for it, or waits idle)."""

    __slots__ = (
        "arrival",
        "assigned",
        "busy_penalty",
        "courier_of",
        "cust_x",
        "cust_y",
        "delivered",
        "delivery_count",
        "exponential",
        "free_at",
        "max_batch",
        "minutes_per_km",
        "orders",
        "params",
        "pos_vec",
        "pos_x",
        "pos_y",
        "queue",
        "ready",
        "rest_x",
        "rest_y",
        "service",
        "trip_courier",
        "trip_end",
        "trip_start",
    )

    def __init__(self, params: DeliveryParams, orders: OrderStream, courier_xy: np.ndarray) -> None:
        n = orders.arrival.size
        n_couriers = courier_xy.shape[0]
        self.params = params
        self.orders = orders
        self.minutes_per_km = 60.0 / params.speed_kmh
        self.exponential = params.service_model == "exponential"
        self.max_batch = 1 if self.exponential else params.max_batch

        # Python lists: scalar reads from numpy arrays cost ~10x more inside the loop
        self.arrival = orders.arrival.tolist()
        self.ready = orders.ready.tolist()
        self.service = orders.service.tolist()
        self.rest_x, self.rest_y = orders.restaurant_xy[:, 0].tolist(), orders.restaurant_xy[:, 1].tolist()
        self.cust_x, self.cust_y = orders.customer_xy[:, 0].tolist(), orders.customer_xy[:, 1].tolist()

        # positions kept twice: numpy for the vectorised nearest-idle search, lists for scalar arithmetic
        # (complex numbers: one subtraction and one abs give every distance)
        self.pos_vec = courier_xy[:, 0] + 1j * courier_xy[:, 1]
        self.pos_x, self.pos_y = courier_xy[:, 0].tolist(), courier_xy[:, 1].tolist()
        self.busy_penalty = np.zeros(n_couriers)  # +inf for busy couriers, so argmin finds the nearest idle one

        self.assigned = [math.nan] * n
        self.delivered = [math.nan] * n
        self.courier_of = [-1] * n
        self.delivery_count = [0] * n
        self.trip_start: list[float] = []
        self.trip_end: list[float] = []
        self.trip_courier: list[int] = []
        self.free_at: list[tuple[float, int]] = []  # heap of (minute the courier becomes free, courier)
        self.queue: deque[int] = deque()

    def run(self) -> ReplicateTrace:
        """The event loop, until every order is delivered: the next event is the earliest of the next
        arrival and the next courier to come free (the courier first on a tie)."""
        arrival, free_at, queue, busy_penalty = self.arrival, self.free_at, self.queue, self.busy_penalty
        n = len(arrival)
        n_idle = busy_penalty.shape[0]
        next_order = 0
        while next_order < n or free_at:
            if free_at and (next_order >= n or free_at[0][0] <= arrival[next_order]):
                now, courier = heapq.heappop(free_at)
                if queue:
                    self.start_trip(courier, now, self.take_batch())
                else:
                    busy_penalty[courier] = 0.0
                    n_idle += 1
                continue
            order = next_order
            next_order += 1
            if n_idle == 0:
                queue.append(order)
                continue
            if self.exponential:  # location plays no part: any idle courier, the lowest index
                courier = int(busy_penalty.argmin())
            else:
                distance = np.abs(self.pos_vec - complex(self.rest_x[order], self.rest_y[order])) + busy_penalty
                courier = int(distance.argmin())
            busy_penalty[courier] = math.inf
            n_idle -= 1
            self.start_trip(courier, arrival[order], [order])
        return self.trace()

    def start_trip(self, courier: int, now: float, batch: list[int]) -> None:
        """The courier takes the batch: the exponential service time of its one order (validation
        model), or the ride: pickups in the order the batch was built, then drop-offs, always at the
        nearest customer next; it is free again at the last customer."""
        for order in batch:
            self.assigned[order] = now
            self.courier_of[order] = courier
        if self.exponential:
            order = batch[0]
            clock = now + self.service[order]
            self.delivered[order] = clock
            self.delivery_count[order] += 1
        else:
            rest_x, rest_y, cust_x, cust_y = self.rest_x, self.rest_y, self.cust_x, self.cust_y
            minutes_per_km = self.minutes_per_km
            x, y = self.pos_x[courier], self.pos_y[courier]
            clock = now
            for order in batch:
                rx, ry = rest_x[order], rest_y[order]
                clock += math.hypot(rx - x, ry - y) * minutes_per_km
                clock = max(clock, self.ready[order])  # wait at the counter until the food is ready
                x, y = rx, ry
            remaining = list(batch)
            while remaining:
                k = 0
                if len(remaining) > 1:
                    k = min(
                        range(len(remaining)),
                        key=lambda i: math.hypot(cust_x[remaining[i]] - x, cust_y[remaining[i]] - y),
                    )
                order = remaining.pop(k)
                cx, cy = cust_x[order], cust_y[order]
                clock += math.hypot(cx - x, cy - y) * minutes_per_km
                x, y = cx, cy
                self.delivered[order] = clock
                self.delivery_count[order] += 1
            self.pos_x[courier], self.pos_y[courier] = x, y
            self.pos_vec[courier] = complex(x, y)
        self.trip_start.append(now)
        self.trip_end.append(clock)
        self.trip_courier.append(courier)
        heapq.heappush(self.free_at, (clock, courier))

    def take_batch(self) -> list[int]:
        """The head of the queue (first come, first served) and, up to `max_batch`, the queued orders
        nearest it: restaurant nearest the last pickup plus customer nearest the first drop-off."""
        queue, rest_x, rest_y, cust_x, cust_y = self.queue, self.rest_x, self.rest_y, self.cust_x, self.cust_y
        batch = [queue.popleft()]
        while len(batch) < self.max_batch and queue:
            last, first = batch[-1], batch[0]
            lx, ly = rest_x[last], rest_y[last]
            fx, fy = cust_x[first], cust_y[first]
            candidates = list(islice(queue, BATCH_LOOKAHEAD))
            k = min(
                range(len(candidates)),
                key=lambda i: (
                    math.hypot(rest_x[candidates[i]] - lx, rest_y[candidates[i]] - ly)
                    + math.hypot(cust_x[candidates[i]] - fx, cust_y[candidates[i]] - fy)
                ),
            )
            del queue[k]
            batch.append(candidates[k])
        return batch

    def trace(self) -> ReplicateTrace:
        return ReplicateTrace(
            orders=self.orders,
            assigned=np.asarray(self.assigned),
            delivered=np.asarray(self.delivered),
            courier=np.asarray(self.courier_of),
            delivery_count=np.asarray(self.delivery_count),
            trip_start=np.asarray(self.trip_start),
            trip_end=np.asarray(self.trip_end),
            trip_courier=np.asarray(self.trip_courier, dtype=int),
            shift_minutes=self.params.hours * 60.0,
            couriers=self.pos_vec.shape[0],
        )


def simulate_replicate(params: DeliveryParams, orders: OrderStream, courier_xy: np.ndarray) -> ReplicateTrace:
    """Run the event loop of one replicate until every order is delivered."""
    return _Dispatch(params, orders, courier_xy).run()


def replicate_streams(
    params: DeliveryParams, seed_sequences: Sequence[np.random.SeedSequence] | None = None
) -> list[tuple[np.random.Generator, np.random.Generator]]:
    """(order stream, courier stream) generators of each replicate: those of `seed_sequences`
    (`sim.output.replicate_seeds`), by default every replicate of `params.seed`."""
    if seed_sequences is None:
        seed_sequences = replicate_seeds(params.seed, 0, params.replicates)
    streams = []
    for child in seed_sequences:
        # the children `child.spawn(2)` gives, built from the key so that a sequence used twice
        # gives the same streams twice
        order_seq, courier_seq = (
            np.random.SeedSequence(child.entropy, spawn_key=(*child.spawn_key, k), pool_size=child.pool_size)
            for k in range(2)
        )
        streams.append((np.random.default_rng(order_seq), np.random.default_rng(courier_seq)))
    return streams


def series_times(shift_minutes: float) -> np.ndarray:
    """The minutes at which the series are sampled: 0, 1, ... up to the end of the shift."""
    return np.arange(0.0, shift_minutes, SERIES_STEP_MINUTES)


def count_open(starts: np.ndarray, ends: np.ndarray, times: np.ndarray) -> np.ndarray:
    """How many intervals [start, end) contain each time."""
    opened = np.searchsorted(np.sort(starts), times, side="right")
    closed = np.searchsorted(np.sort(ends), times, side="right")
    return opened - closed


def ready_unassigned_at(trace: ReplicateTrace, minute: float) -> int:
    """Orders placed by `minute` whose food is ready by then and which no courier has taken yet: the
    orders really waiting for a courier (a queued order still being prepared is not held up)."""
    orders = trace.orders
    waiting = (orders.arrival <= minute) & (orders.ready <= minute) & (trace.assigned > minute)
    return int(np.sum(waiting))


def summarise_trace(trace: ReplicateTrace, sla_minutes: float, warmup_minutes: float = 0.0) -> dict[str, float]:
    """The scalar metrics of one replicate; delivery times, late rate and mean wait of the orders placed
    after `warmup_minutes`."""
    n = trace.orders.arrival.size
    shift = trace.shift_minutes
    busy_in_shift = np.minimum(trace.trip_end, shift) - np.minimum(trace.trip_start, shift)
    utilization = float(busy_in_shift.sum() / (trace.couriers * shift))
    counted = trace.orders.arrival >= warmup_minutes
    if not counted.any():
        return {
            "p50_minutes": 0.0,
            "p90_minutes": 0.0,
            "late_rate": 0.0,
            "utilization": utilization,
            "delivered": float(trace.delivery_count.sum()),
            "orders_placed": float(n),
            "mean_wait_minutes": 0.0,
        }
    minutes_to_door = (trace.delivered - trace.orders.arrival)[counted]
    p50, p90 = np.percentile(minutes_to_door, [50, 90])
    return {
        "p50_minutes": float(p50),
        "p90_minutes": float(p90),
        "late_rate": float(np.mean(minutes_to_door > sla_minutes)),
        "utilization": utilization,
        "delivered": float(trace.delivery_count.sum()),
        "orders_placed": float(n),
        "mean_wait_minutes": float(np.mean((trace.assigned - trace.orders.arrival)[counted])),
    }


def simulate_each(
    params: DeliveryParams, seed_sequences: Sequence[np.random.SeedSequence] | None = None
) -> Iterator[ReplicateTrace]:
    """Each replicate's trace in turn (one at a time: a trace holds every order of its replicate)."""
    for order_rng, courier_rng in replicate_streams(params, seed_sequences):
        orders = draw_orders(params, order_rng)
        courier_xy = draw_courier_positions(params, courier_rng)
        yield simulate_replicate(params, orders, courier_xy)


def simulate(params: DeliveryParams) -> list[ReplicateTrace]:
    """Every replicate's trace."""
    return list(simulate_each(params))


def run_replicates(
    params: DeliveryParams, interventions: Sequence[Any], seed_sequences: Sequence[np.random.SeedSequence]
) -> ModelOutput:
    """Run the replicates whose seed sequences are given (`sim.output.replicate_seeds`); each draws
    from its own sequence only, so any range of replicates can run on its own, on any worker."""
    if not seed_sequences:
        raise ValueError("run_replicates needs at least one seed sequence")
    shift = params.hours * 60.0
    times = series_times(shift)
    per_replicate, queue_length, n_busy = [], [], []
    ready_unassigned_at_end, overtime = [], []
    for trace in simulate_each(params, seed_sequences):
        per_replicate.append(summarise_trace(trace, params.sla_minutes, params.warmup_minutes))
        queue_length.append(count_open(trace.orders.arrival, trace.assigned, times))
        n_busy.append(count_open(trace.trip_start, trace.trip_end, times))
        ready_unassigned_at_end.append(ready_unassigned_at(trace, shift))
        overtime.append(trace.trip_end.max() - shift if trace.trip_end.size else 0.0)
    metrics = {name: np.array([row[name] for row in per_replicate]) for name in METRICS}
    series = {"queue_length": np.array(queue_length, dtype=float), "n_busy": np.array(n_busy, dtype=float)}
    facts = {
        "orders_ready_unassigned_at_end": np.array(ready_unassigned_at_end),
        "overtime_minutes": np.array(overtime),
    }
    return ModelOutput(metrics=metrics, series=series, replicate_facts=facts)


def finalize(params: DeliveryParams, output: ModelOutput) -> ModelOutput:
    """Notes about all the replicates of a run, once they are joined."""
    notes = list(output.notes)
    empty = int((output.metrics["orders_placed"] == 0).sum())
    if empty:
        notes.append(f"{empty} of {params.replicates} replicates had no orders; their delivery times count as 0")
    ready_unassigned = np.mean(output.replicate_facts["orders_ready_unassigned_at_end"])
    # orders being prepared or ridden at closing time are normal and need no note; only a backlog of
    # ready food without a courier means the fleet fell behind
    if ready_unassigned > params.orders_per_hour * BACKLOG_NOTE_HOURS:
        notes.append(
            f"the couriers did not keep up: when the shift ended {ready_unassigned:.0f} orders (mean over "
            f"replicates) had their food ready and were still waiting for a courier; the couriers worked on until "
            f"every order was delivered, {np.mean(output.replicate_facts['overtime_minutes']):.0f} minutes after "
            f"the end of the shift"
        )
    return replace(output, notes=notes)


def run(params: DeliveryParams, interventions: Sequence[Any] = ()) -> ModelOutput:
    """Run `params.replicates` replicates; no interventions are supported."""
    seeds = replicate_seeds(params.seed, 0, params.replicates)
    return finalize(params, run_replicates(params, interventions, seeds))


METRICS = (
    "p50_minutes",
    "p90_minutes",
    "late_rate",
    "utilization",
    "delivered",
    "orders_placed",
    "mean_wait_minutes",
)


def _work(params: DeliveryParams) -> float:
    # each order scans the fleet once for the nearest idle courier; below ~200 couriers the fixed
    # Python cost of handling an order dominates, so small fleets are counted as 200
    fleet_cost = max(params.couriers, MIN_FLEET_COST)
    return params.orders_per_hour * params.hours * fleet_cost * params.replicates


SPEC = ModelSpec(
    name="delivery",
    params=DeliveryParams,
    run=run,
    description=(
        "E-commerce last-mile meal delivery (discrete-event): Poisson orders, restaurants and customers "
        "in a square city, nearest-idle-courier dispatch, a FIFO queue when all couriers are busy, "
        "optional batching; delivery-time percentiles, late rate and courier utilisation."
    ),
    metrics=METRICS,
    card=Path(__file__).resolve().parents[2] / "docs" / "models" / "delivery.md",
    interventions=frozenset(),
    breakdowns=(),
    time_unit="minute",
    work=_work,
    run_replicates=run_replicates,
    finalize=finalize,
    observables=DELIVERY_OBSERVABLES,
    fit_params=DELIVERY_FIT_PARAMS,
    language=LANGUAGE,
)
