"""Interventions are data: a pydantic model per type, a discriminated union on `type`.

Every model applies them through one lifecycle, in the spirit of starsim's `Intervention.step`: the
model makes a fresh plan of the per-day quantities its day steps read (transmission multipliers,
compliances, doses); the hook of each intervention changes the plan on the days the intervention is
active (`InterventionHooks.apply`); the day steps then read the plan. A new intervention is one data
class here plus one hook in each model it acts in, registered on that model's `InterventionHooks`
(`@HOOKS.on(NewIntervention)`); the types a model supports are the ones it has hooks for.
`active_mask` and `is_active` turn the timing fields into a per-day on/off mask so that every model
reads them the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, Generic, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sim.language import FieldLanguage, InterventionLanguage, TimingLanguage

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

PlanT = TypeVar("PlanT")
InterventionT = TypeVar("InterventionT", bound=_Intervention)


class InterventionHooks(Generic[PlanT]):
    """One model's hooks: for each intervention type it supports, the function that changes the
    model's plan on the days the intervention is active, `hook(intervention, plan, active)` with
    `active` the boolean mask of `active_mask(days)`. Interventions apply in the order given."""

    def __init__(self, model: str) -> None:
        self.model = model
        self._hooks: dict[type[_Intervention], Callable[[Any, PlanT, np.ndarray], None]] = {}

    def on(
        self, kind: type[InterventionT]
    ) -> Callable[
        [Callable[[InterventionT, PlanT, np.ndarray], None]], Callable[[InterventionT, PlanT, np.ndarray], None]
    ]:
        """Register the decorated function as this model's hook for `kind`."""

        def register(
            hook: Callable[[InterventionT, PlanT, np.ndarray], None],
        ) -> Callable[[InterventionT, PlanT, np.ndarray], None]:
            self._hooks[kind] = hook
            return hook

        return register

    @property
    def supported(self) -> frozenset[str]:
        """The `type` names of the interventions this model has hooks for."""
        return frozenset(kind.model_fields["type"].default for kind in self._hooks)

    def apply(self, interventions: Iterable[_Intervention], plan: PlanT, days: int) -> PlanT:
        """Run every intervention's hook on `plan` (changed in place and returned)."""
        for intervention in interventions:
            hook = self._hooks.get(type(intervention))
            if hook is None:  # resolve() rejects unsupported types; a direct caller gets told the same
                kind = getattr(intervention, "type", type(intervention).__name__)
                raise ValueError(
                    f"{self.model} does not support intervention {kind!r}; supported: {sorted(self.supported)}"
                )
            hook(intervention, plan, intervention.active_mask(days))
        return plan


# --------------------------------------------------------------------------- language
# How people name each intervention and its fields (see sim.language). A model's language lists
# the interventions it supports from here, so every model reads them the same way.

TIMING_LANGUAGE = TimingLanguage(
    start_field="start_day",
    duration_field="duration_days",
    start=(
        "from",
        "starting",
        "starting on",
        "starting from",
        "starting at",
        "start on",
        "start at",
        "starts on",
        "starts",
        "started on",
        "beginning",
        "beginning on",
        "begins on",
        "begin on",
        "on",
        "at",
        "after",
        "since",
        "as of",
        "as from",
        "kicking in on",
        "kicks in on",
        "introduced on",
        "in",
    ),
    until=(
        "until",
        "till",
        "til",
        "to",
        "through",
        "up to",
        "up until",
        "ending on",
        "ending",
        "ends on",
        "and",
        "reopen on",
        "reopen them on",
        "reopening on",
        "reopened on",
        "lifted on",
        "lift it on",
        "end it on",
    ),
    elapsed_before=("starting", "starting after", "beginning", "beginning after", "kicking in after"),
    elapsed_after=("in", "into", "mark", "after the start", "after the first case", "into the outbreak"),
    length=("for", "lasting", "over", "during", "for a period of", "for the first", "for the same"),
    to_end=(
        "until the end",
        "to the end",
        "till the end",
        "onwards",
        "onward",
        "for the rest",
        "for the rest of the run",
        "for the rest of the epidemic",
        "indefinitely",
        "permanently",
        "for good",
        "from then on",
        "until the end of the run",
        "until the end of the simulation",
        "until it ends",
        "to the end of the run",
        "with no end",
    ),
)

_REDUCE_VERBS = (
    "cut",
    "reduce",
    "lower",
    "decrease",
    "limit",
    "drop",
    "bring down",
    "brought down",
    "get down",
    "halve",
)

# How people say that a share of those asked to do something does it ("80% going along with it").
COMPLYING = (
    "compliance",
    "comply",
    "complying",
    "adherence",
    "adhere",
    "uptake",
    "going along",
    "go along",
    "going along with it",
    "follow it",
    "following it",
    "stick to it",
    "sticking to it",
)

INTERVENTION_LANGUAGE: dict[str, InterventionLanguage] = {
    "contact_reduction": InterventionLanguage(
        phrases=(
            "lockdown",
            "lock down",
            "locking down",
            "distancing",
            "social distancing",
            "physical distancing",
            "contact reduction",
            "contact reductions",
            "reduction in contacts",
            "reduction of contacts",
            "fewer contacts",
            "less contact",
            "less mixing",
            "contacts down",
            "contacts ... down",
            "contacts ... cut",
            "contacts ... reduced",
            "contacts ... fall",
            "contacts ... drop",
            "of their usual contacts",
            "of their normal contacts",
            "of usual contacts",
            "of normal contacts",
            *(f"{verb} ... contacts" for verb in _REDUCE_VERBS),
            *(f"{verb} ... contact" for verb in _REDUCE_VERBS),
            *(f"{verb} ... mixing" for verb in _REDUCE_VERBS),
            *(f"{verb} ... transmission" for verb in _REDUCE_VERBS),
            *(f"{verb} ... interactions" for verb in _REDUCE_VERBS),
            "masks",
            "mask wearing",
            "mask mandate",
            "face coverings",
            "curfew",
            "circuit breaker",
            "stay at home order",
            "stay home order",
            "shelter in place",
            "restrictions on contacts",
        ),
        strength="effectiveness",
        fields={
            "effectiveness": FieldLanguage(
                phrases=("effective", "effectiveness", "strength", "strict", "efficacy"),
                reduces=True,
            )
        },
    ),
    "vaccination": InterventionLanguage(
        phrases=(
            "vaccinate",
            "vaccinating",
            "vaccination",
            "vaccinations",
            "vaccine",
            "vaccines",
            "vaccination campaign",
            "vaccine rollout",
            "immunise",
            "immunize",
            "immunisation",
            "immunization",
            "jab",
            "jabs",
            "inoculate",
        ),
        strength="daily_rate",
        fields={
            "daily_rate": FieldLanguage(
                phrases=(
                    "a day",
                    "per day",
                    "daily",
                    "each day",
                    "every day",
                    "of people a day",
                    "of the population a day",
                    "of people per day",
                    "of the population per day",
                    "of the population every day",
                    "rate",
                ),
                share_of="population",
            ),
            "efficacy": FieldLanguage(phrases=("effective", "efficacy", "protection", "protects", "protective")),
        },
    ),
    "case_isolation": InterventionLanguage(
        phrases=(
            "case isolation",
            "isolation of cases",
            "isolate ... cases",
            "isolating ... cases",
            "isolate",
            "isolating",
            "isolation",
            "self isolate",
            "self isolation",
            "self isolating",
            "cases ... isolate",
            "cases ... isolating",
            "test and isolate",
            "testing and isolation",
            "quarantine ... cases",
            "quarantine the sick",
        ),
        strength="compliance",
        fields={"compliance": FieldLanguage(phrases=(*COMPLYING, "of cases"))},
    ),
    "school_closure": InterventionLanguage(
        phrases=(
            "school closure",
            "school closures",
            "schools closed",
            "schools closing",
            "schools shut",
            "close ... schools",
            "closing ... schools",
            "closed ... schools",
            "shut ... schools",
            "shutting ... schools",
            "schools ... close",
            "schools ... closed",
            "schools ... shut",
            "keep ... schools closed",
            "no school",
            "no schools",
            "without schools",
            "school holidays",
            "schools go online",
            "remote schooling",
        ),
    ),
    "workplace_closure": InterventionLanguage(
        phrases=(
            "workplace closure",
            "workplace closures",
            "workplaces closed",
            "workplaces shut",
            "close ... workplaces",
            "closing ... workplaces",
            "closed ... workplaces",
            "shut ... workplaces",
            "shutting ... workplaces",
            "workplaces ... close",
            "workplaces ... closed",
            "workplaces ... shut",
            "close ... offices",
            "shut ... offices",
            "offices ... closed",
            "close ... businesses",
            "shut ... businesses",
            "businesses ... closed",
            "work from home",
            "working from home",
            "remote working",
            "home working",
        ),
        strength="fraction",
        fields={
            "fraction": FieldLanguage(
                phrases=(
                    "of workplaces",
                    "of all workplaces",
                    "of the workplaces",
                    "of offices",
                    "of businesses",
                    "fraction",
                ),
                values={"all": 1.0, "every": 1.0, "entire": 1.0, "whole": 1.0},
            )
        },
    ),
    "household_quarantine": InterventionLanguage(
        phrases=(
            "household quarantine",
            "quarantine ... households",
            "quarantining ... households",
            "quarantine ... household",
            "households ... quarantine",
            "households ... quarantined",
            "quarantine ... families",
            "quarantine ... homes",
            "home quarantine",
            "family quarantine",
            "household isolation",
            "households ... stay home",
            "quarantine ... contacts",
            "quarantine ... housemates",
            "households of ... cases",
            "households ... home",
        ),
        strength="compliance",
        fields={"compliance": FieldLanguage(phrases=(*COMPLYING, "of households", "of families"))},
    ),
    "travel_restriction": InterventionLanguage(
        phrases=(
            "travel restriction",
            "travel restrictions",
            "travel ban",
            "travel bans",
            "restrict ... travel",
            "restricting ... travel",
            "ban ... travel",
            "banning ... travel",
            "limit ... travel",
            "close ... borders",
            "closing ... borders",
            "border closure",
            "border closures",
            "border controls",
            "stop ... imports",
            "cut ... imports",
            "reduce ... imports",
            "block ... imports",
        ),
        strength="effectiveness",
        fields={
            "effectiveness": FieldLanguage(
                phrases=(
                    "effective",
                    "effectiveness",
                    "stop",
                    "stops",
                    "block",
                    "blocks",
                    "of imports",
                    "fewer imports",
                    "of them",
                ),
                reduces=True,
            )
        },
    ),
}
