"""A model the translator has never seen is read from its declared language alone: no line of the
translator names it. The warehouse model here exists only in this test."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest
from pydantic import Field

import sim
from sim import ModelOutput, ModelParams, ModelSpec
from sim.language import Exclusion, MetricLanguage, ModelLanguage, ParamLanguage
from simqa.translators.base import TranslationContext, Turn
from simqa.translators.offline import OfflineTranslator


class WarehouseParams(ModelParams):
    pickers: int = Field(10, ge=1, le=500)
    orders_per_day: float = Field(800.0, gt=0, le=100_000)
    shift_hours: float = Field(8.0, gt=0, le=24)
    pick_minutes: float = Field(4.0, gt=0, le=60)


def _run(params: Any, interventions: Sequence[Any]) -> ModelOutput:
    capacity = params.pickers * params.shift_hours * 60 / params.pick_minutes
    backlog = max(0.0, params.orders_per_day - capacity)
    on_time = min(1.0, capacity / params.orders_per_day)
    return ModelOutput(metrics={"backlog": np.array([backlog]), "on_time_share": np.array([on_time])}, series={})


LANGUAGE = ModelLanguage(
    names=("warehouse model",),
    words=("warehouse", "picking", "pick", "parcels", "stock"),
    params={
        "pickers": ParamLanguage(
            phrases=("pickers", "picker", "warehouse staff"),
            dimension="count",
            key=True,
            more=("hire",),
            less=("lay off",),
        ),
        "orders_per_day": ParamLanguage(
            phrases=("orders a day", "orders per day", "orders", "order volume"),
            dimension="rate",
            unit="day",
            counted=("orders",),
        ),
        "shift_hours": ParamLanguage(phrases=("shift", "shifts"), dimension="duration", unit="hour", horizon=True),
        "pick_minutes": ParamLanguage(
            phrases=("pick time", "to pick an order", "per pick"),
            dimension="duration",
            unit="minute",
            less=("faster", "quicker"),
            more=("slower",),
        ),
    },
    metrics={
        "backlog": MetricLanguage(
            phrases=("backlog", "orders left over", "unpicked orders"),
            dimension="count",
            better="lower",
            headline=True,
            label="orders left at the end of the day",
        ),
        "on_time_share": MetricLanguage(
            phrases=("on time", "on-time share", "share picked on time"), dimension="share", share=True, better="higher"
        ),
    },
    excludes=(Exclusion(name="trucks and loading docks", phrases=("trucks", "truck", "loading docks", "forklifts")),),
)

SPEC = ModelSpec(
    name="warehouse",
    params=WarehouseParams,
    run=_run,
    description="Order picking in a warehouse over one shift: backlog and the share picked on time.",
    metrics=("backlog", "on_time_share"),
    language=LANGUAGE,
)


@pytest.fixture(autouse=True)
def warehouse() -> Iterator[None]:
    sim.register(SPEC)
    yield
    sim.registry.unregister("warehouse")


def ask(question: str, history: list[tuple[str, Any]] | None = None) -> Any:
    context = TranslationContext(history=[Turn(q, r) for q, r in (history or [])])
    return OfflineTranslator().translate(question, context).request


def test_a_stated_situation() -> None:
    req = ask("In the warehouse we have 12 pickers and get 900 orders a day: what's the backlog?")
    assert (req.kind, req.model) == ("simulate", "warehouse")
    assert req.scenarios[0].params == {"pickers": 12, "orders_per_day": 900.0}


def test_units_and_relative_changes_come_from_the_declaration() -> None:
    req = ask("What if picking were 25% faster in the warehouse, with a 10-hour shift?")
    assert req.kind == "compare" and req.model == "warehouse"
    assert req.scenarios[0].params == {"shift_hours": 10.0}
    assert req.scenarios[1].params["pick_minutes"] == pytest.approx(3.0)  # 4 minutes, 25% less


def test_a_calibration_on_a_share_the_model_declares() -> None:
    req = ask("How many pickers do we need so that at least 95% of the warehouse orders are picked on time?")
    assert req.kind == "calibrate"
    assert (req.calibrate.param, req.calibrate.metric, req.calibrate.target, req.calibrate.relation) == (
        "pickers",
        "on_time_share",
        pytest.approx(0.95),
        "ge",
    )


def test_a_sweep_and_a_follow_up() -> None:
    first = ask("warehouse backlog for 5, 10 and 15 pickers")
    assert first.kind == "sweep" and first.sweep.param == "pickers" and first.sweep.values == [5, 10, 15]
    follow = ask("same thing with 2,000 orders a day", [("warehouse backlog for 5, 10 and 15 pickers", first)])
    assert follow.kind == "sweep" and follow.scenarios[0].params == {"orders_per_day": 2000.0}


def test_what_it_leaves_out_is_refused_and_a_definition_explained() -> None:
    refused = ask("How many trucks does the warehouse need at the loading docks?")
    assert refused.kind == "refuse" and "trucks" in refused.message
    assert ask("what does the warehouse backlog mean?").kind == "explain"


def test_a_value_with_no_role_is_asked_about() -> None:
    req = ask("warehouse with 12 pickers and 7")
    assert req.kind == "clarify" and "'7'" in req.message
