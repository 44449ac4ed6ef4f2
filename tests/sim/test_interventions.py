"""The interventions' lifecycle: one data class, one hook per model it acts in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pytest

from sim.interventions import (
    CaseIsolation,
    ContactReduction,
    InterventionBase,
    InterventionHooks,
    Vaccination,
    WorkplaceClosure,
)
from sim.models import abm_day, seir


@dataclass
class _Plan:
    multiplier: np.ndarray


class _HalveContacts(InterventionBase):
    type: Literal["halve_contacts"] = "halve_contacts"


def test_a_new_intervention_is_a_data_class_and_a_hook() -> None:
    hooks: InterventionHooks[_Plan] = InterventionHooks("toy")

    @hooks.on(_HalveContacts)
    def _halve(iv: _HalveContacts, plan: _Plan, active: np.ndarray) -> None:
        plan.multiplier[active] *= 0.5

    assert hooks.supported == frozenset({"halve_contacts"})
    plan = hooks.apply(
        [_HalveContacts(start_day=2, duration_days=3), _HalveContacts(start_day=4)], _Plan(np.ones(8)), days=8
    )
    assert plan.multiplier.tolist() == [1, 1, 0.5, 0.5, 0.25, 0.5, 0.5, 0.5]


def test_an_intervention_without_a_hook_is_refused_naming_the_supported_ones() -> None:
    hooks: InterventionHooks[_Plan] = InterventionHooks("toy")
    with pytest.raises(ValueError, match=r"toy does not support intervention 'contact_reduction'; supported: \[\]"):
        hooks.apply([ContactReduction()], _Plan(np.ones(3)), days=3)


def test_each_model_supports_exactly_the_interventions_it_has_hooks_for() -> None:
    assert seir.HOOKS.supported == frozenset({"contact_reduction", "vaccination", "case_isolation"})
    assert abm_day.HOOKS.supported == frozenset(
        {
            "contact_reduction",
            "vaccination",
            "case_isolation",
            "school_closure",
            "workplace_closure",
            "household_quarantine",
            "travel_restriction",
        }
    )


def test_seir_hooks_multiply_transmission_and_add_campaigns() -> None:
    params = seir.SEIRParams(infectious_days=2.3)
    schedule = seir.intervention_schedule(
        params,
        [
            ContactReduction(start_day=0, duration_days=4, effectiveness=0.5),
            CaseIsolation(start_day=2, compliance=1.0),
            Vaccination(start_day=1, duration_days=2, daily_rate=0.01, efficacy=0.6),
            Vaccination(start_day=2, daily_rate=0.03, efficacy=1.0),
        ],
        days=6,
    )
    isolated = 1.0 - seir.isolation_share(2.3)
    assert schedule.transmission_multiplier == pytest.approx(
        [0.5, 0.5, 0.5 * isolated, 0.5 * isolated, isolated, isolated]
    )
    assert schedule.vaccination_rate == pytest.approx([0, 0.01, 0.04, 0.03, 0.03, 0.03])
    # dose-weighted efficacy on the day both campaigns run: (0.01 x 0.6 + 0.03 x 1) / 0.04
    assert schedule.vaccination_efficacy == pytest.approx([0, 0.6, 0.9, 1.0, 1.0, 1.0])


def test_abm_hooks_combine_closures_by_the_largest_and_campaigns_one_by_one() -> None:
    plan = abm_day.intervention_schedule(
        [
            WorkplaceClosure(start_day=0, duration_days=2, fraction=0.3),
            WorkplaceClosure(start_day=1, fraction=0.6),
            Vaccination(start_day=1, daily_rate=0.01),
            Vaccination(start_day=3, daily_rate=0.02),
        ],
        days=5,
    )
    assert plan.workplace_closed_fraction.tolist() == [0.3, 0.6, 0.6, 0.6, 0.6]
    assert [rate.tolist() for rate, _ in plan.vaccination] == [[0, 0.01, 0.01, 0.01, 0.01], [0, 0, 0, 0.02, 0.02]]
    assert not plan.restricts_imports
