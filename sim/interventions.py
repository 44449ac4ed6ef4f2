"""Interventions are data: a pydantic model per type, a discriminated union on `type`.

Each model applies the interventions it supports in its own step function; `active_mask` and `is_active`
turn the timing fields into a per-day on/off mask so that every model reads them the same way.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

MAX_DAY = 3650  # ten years: longer horizons are outside every built-in model's validity


class _Intervention(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_day: int = Field(0, ge=0, le=MAX_DAY, description="first day the intervention acts (day 0 = start)")
    duration_days: int | None = Field(
        None, ge=1, le=MAX_DAY, description="how many days it acts; null = to the end of the run"
    )

    def active_mask(self, days: int) -> np.ndarray:
        """Boolean array of length `days`: True on the days this intervention acts."""
        day = np.arange(days)
        end = MAX_DAY * 10 if self.duration_days is None else self.start_day + self.duration_days
        return (day >= self.start_day) & (day < end)

    def is_active(self, day: float) -> bool:
        end = float("inf") if self.duration_days is None else self.start_day + self.duration_days
        return self.start_day <= day < end


class ContactReduction(_Intervention):
    """Fewer contacts everywhere (distancing, 'lockdown'); scales transmission by 1 - effectiveness."""

    type: Literal["contact_reduction"] = "contact_reduction"
    # rationale: mid-range placeholder (UK lockdown cut contacts 74%: Jarvis et al. 2020, BMC Med 18:124); state yours
    effectiveness: float = Field(0.5, ge=0, le=1, description="share of transmission removed")


class Vaccination(_Intervention):
    """Susceptible people are vaccinated at `daily_rate` of the population per day."""

    type: Literal["vaccination"] = "vaccination"
    # rationale: 1% of the population a day, about the peak pace of 2021 COVID-19 campaigns (US ~3.4M doses/day, CDC)
    daily_rate: float = Field(0.01, ge=0, le=0.2, description="fraction of the population vaccinated per day")
    # two-dose mRNA vs symptomatic infection 95% (Polack et al. 2020, NEJM 383:2603), rounded down: all-or-nothing
    efficacy: float = Field(0.9, ge=0, le=1, description="share of vaccinated people fully protected")


class CaseIsolation(_Intervention):
    """Symptomatic cases isolate; a complying case stops transmitting after detection."""

    type: Literal["case_isolation"] = "case_isolation"
    # rationale: a mid-range placeholder (Ferguson et al. 2020, Imperial Report 9, assumed 70%); state yours
    compliance: float = Field(0.5, ge=0, le=1, description="share of cases that isolate")


class SchoolClosure(_Intervention):
    """Schools close: no transmission in the school setting (abm only)."""

    type: Literal["school_closure"] = "school_closure"


class WorkplaceClosure(_Intervention):
    """A share of workplaces close: their workers have no workplace contacts (abm only)."""

    type: Literal["workplace_closure"] = "workplace_closure"
    # rationale: a mid-range placeholder between no closure and a full one; state the value you mean
    fraction: float = Field(0.5, ge=0, le=1, description="share of workplaces closed")


class HouseholdQuarantine(_Intervention):
    """Households of detected cases stay home: their members' outside contacts stop (abm only)."""

    type: Literal["household_quarantine"] = "household_quarantine"
    # voluntary household quarantine: 50% of households comply (Ferguson et al. 2020, Imperial Report 9, Table 2)
    compliance: float = Field(0.5, ge=0, le=1, description="share of households that comply")


class TravelRestriction(_Intervention):
    """Fewer imported infections from outside the population (abm only)."""

    type: Literal["travel_restriction"] = "travel_restriction"
    # the Wuhan travel ban cut international case importations by ~80% (Chinazzi et al. 2020, Science 368:395)
    effectiveness: float = Field(0.8, ge=0, le=1, description="share of imported infections prevented")


Intervention = Annotated[
    ContactReduction
    | Vaccination
    | CaseIsolation
    | SchoolClosure
    | WorkplaceClosure
    | HouseholdQuarantine
    | TravelRestriction,
    Field(discriminator="type"),
]

INTERVENTION_TYPES: dict[str, type[_Intervention]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        ContactReduction,
        Vaccination,
        CaseIsolation,
        SchoolClosure,
        WorkplaceClosure,
        HouseholdQuarantine,
        TravelRestriction,
    )
}

InterventionBase = _Intervention
