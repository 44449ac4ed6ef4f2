"""What a sweep or a calibration varies: a model parameter (`r0`) or an intervention field
(`contact_reduction.effectiveness`), as one type that every caller reads the same way.

`Target.parse(path, model)` checks the path against the model (its parameters, the interventions it
supports, the fields of that intervention); the target then reads its value from a scenario, sets it
(adding the intervention with its defaults when the scenario lacks it), gives its bounds and says
whether it takes whole numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel

from sim.errors import ScenarioError
from sim.interventions import INTERVENTION_TYPES
from sim.registry import ModelSpec, get_model
from sim.scenario import Scenario, describe_allowed, parse_scenario

RUN_CONTROLS = ("replicates", "seed")  # how a run is repeated, not what it describes


def split_path(path: str) -> tuple[str | None, str]:
    """(intervention type, field) of `contact_reduction.effectiveness`; (None, name) of a parameter."""
    if "." in path:
        iv_type, _, field = path.partition(".")
        return iv_type, field
    return None, path


@dataclass(frozen=True)
class Target:
    """One parameter or one intervention field of a model, named by `path`."""

    path: str
    model: str
    intervention: str | None  # the intervention type, or None for a model parameter
    field: str
    owner: type[BaseModel]  # the model's Params, or the intervention's class

    @classmethod
    def parse(cls, path: str, model: str | ModelSpec, role: str = "vary") -> Target:
        """The target `path` names in `model`; a ScenarioError saying what is allowed otherwise.

        role: the word for what the caller does with it ("sweep", "calibrate"), used in messages.
        """
        spec = model if isinstance(model, ModelSpec) else get_model(model)
        iv_type, field = split_path(path)
        where = f"{role}.param"
        if iv_type is None:
            names = [f for f in spec.params.model_fields if f not in RUN_CONTROLS]
            if field not in names:
                allowed = ", ".join(names)
                raise ScenarioError(
                    f"cannot {role} unknown parameter {path!r}; allowed: {allowed}",
                    field=where,
                    value=path,
                    allowed=allowed,
                )
            return cls(path=path, model=spec.name, intervention=None, field=field, owner=spec.params)
        iv_cls = INTERVENTION_TYPES.get(iv_type)
        if iv_cls is None or iv_type not in spec.interventions:
            supported = ", ".join(sorted(spec.interventions)) or "none"
            raise ScenarioError(
                f"cannot {role} {path!r}: name a model parameter or an intervention field like "
                f"'contact_reduction.effectiveness' ({spec.name} supports the interventions {supported})",
                field=where,
                value=path,
                allowed=supported,
            )
        fields = [f for f in iv_cls.model_fields if f != "type"]
        if field not in fields:
            allowed = ", ".join(fields)
            raise ScenarioError(
                f"cannot {role} {path!r}: name a model parameter or an intervention field like "
                f"'contact_reduction.effectiveness' ({iv_type} has the fields {allowed})",
                field=where,
                value=path,
                allowed=allowed,
            )
        return cls(path=path, model=spec.name, intervention=iv_type, field=field, owner=iv_cls)

    # -- what kind of value it takes ----------------------------------------------------------------

    @property
    def whole(self) -> bool:
        """True when the field takes whole numbers (`couriers`, `start_day`)."""
        annotation = self.owner.model_fields[self.field].annotation
        return annotation is int or annotation == (int | None)

    @property
    def numeric(self) -> bool:
        annotation = self.owner.model_fields[self.field].annotation
        return annotation in (int, float) or annotation in (int | None, float | None)

    def allowed(self) -> str:
        """The field's bounds in words ('float > 0 and <= 20')."""
        return describe_allowed(self.owner, self.field)

    def bounds(self) -> tuple[float, float]:
        """The closed range the field allows (an open bound is moved in by one step: 1 for whole
        numbers, 1e-3 otherwise); infinite where the field has no bound."""
        lo, hi = -math.inf, math.inf
        step = 1.0 if self.whole else 1e-3
        for meta in self.owner.model_fields[self.field].metadata:
            if getattr(meta, "ge", None) is not None:
                lo = float(meta.ge)
            if getattr(meta, "gt", None) is not None:
                lo = float(meta.gt) + step
            if getattr(meta, "le", None) is not None:
                hi = float(meta.le)
            if getattr(meta, "lt", None) is not None:
                hi = float(meta.lt) - step
        return lo, hi

    def coerce(self, value: float) -> int | float:
        """`value` as the field takes it; a ScenarioError for a fraction where whole numbers are needed."""
        if self.whole:
            if not float(value).is_integer():
                raise ScenarioError(
                    f"{self.path} takes whole numbers, got {value:g}", field=self.path, value=value, allowed="integer"
                )
            return int(value)
        return float(value)

    def label(self, value: float) -> str:
        """How a run at `value` is labelled: `r0=1.5`, `couriers=20`."""
        return f"{self.path}={format_value(value)}"

    # -- reading and writing a scenario -------------------------------------------------------------

    def value_in(self, scenario: Scenario) -> float | None:
        """The value the scenario gives the target; None when it does not state it."""
        if self.intervention is None:
            value = scenario.params.get(self.field)
            return None if value is None else float(value)
        for iv in scenario.interventions:
            if iv.type == self.intervention:
                value = getattr(iv, self.field)
                return None if value is None else float(value)
        return None

    def apply(self, scenario: Scenario, value: float) -> Scenario:
        """A copy of `scenario` with the target set to `value`. An intervention the scenario lacks is
        added with its defaults; every intervention of that type gets the value. A value outside the
        intervention field's bounds is a ScenarioError (a parameter's bounds are checked by `resolve`)."""
        value = self.coerce(value)
        if self.intervention is None:
            return scenario.model_copy(update={"params": {**scenario.params, self.field: value}})
        interventions = [iv.model_dump() for iv in scenario.interventions]
        matching = [iv for iv in interventions if iv["type"] == self.intervention]
        for iv in matching:
            iv[self.field] = value
        if not matching:
            interventions.append({"type": self.intervention, self.field: value})
        return parse_scenario({**scenario.model_dump(), "interventions": interventions})


def format_value(value: float) -> str:
    """A value as labels write it: `20`, `1.5`."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
