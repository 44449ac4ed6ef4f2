"""Scenarios: which model, which parameters, which interventions. Validated before anything runs."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import ScenarioError, brief
from sim.interventions import INTERVENTION_TYPES, Intervention, InterventionBase
from sim.params import ModelParams
from sim.registry import ModelSpec, get_model
from sim.version import ENGINE_VERSION


class Scenario(BaseModel):
    """One configuration to run. `params` holds only what differs from the model's defaults
    (or all of them, once resolved); unknown names are an error, never ignored."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field("baseline", max_length=80)
    model: str
    params: dict[str, Any] = Field(default_factory=dict)
    interventions: list[Intervention] = Field(default_factory=list)


@dataclass(frozen=True)
class ResolvedScenario:
    """A scenario whose parameters passed the model's validation, defaults filled."""

    spec: ModelSpec
    label: str
    params: ModelParams
    interventions: tuple[InterventionBase, ...]

    def to_scenario(self) -> Scenario:
        return Scenario(
            label=self.label,
            model=self.spec.name,
            params=self.params.model_dump(),
            interventions=list(self.interventions),  # type: ignore[arg-type]
        )

    def canonical_json(self) -> str:
        """The identity of a run: model, every parameter, interventions, engine version.

        The label is presentation only, so two identically configured scenarios share a run id.
        """
        body = {
            "model": self.spec.name,
            "params": self.params.model_dump(mode="json"),
            "interventions": [iv.model_dump(mode="json") for iv in self.interventions],
            "engine_version": ENGINE_VERSION,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    def run_id(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]


def describe_allowed(params_cls: type[BaseModel], name: str) -> str:
    """Human-readable bounds of one field, from its pydantic metadata ('> 0 and <= 20')."""
    info = params_cls.model_fields.get(name)
    if info is None:
        return ""
    parts = []
    for meta in info.metadata:
        for attr, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            val = getattr(meta, attr, None)
            if val is not None:
                parts.append(f"{sym} {val}")
    kind = getattr(info.annotation, "__name__", str(info.annotation))
    bounds = " and ".join(parts)
    return f"{kind} {bounds}".strip()


def _first_error(exc: ValidationError, prefix: str, cls: type[BaseModel] | None) -> ScenarioError:
    err = exc.errors()[0]
    loc = [_loc_part(p) for p in err["loc"]]
    if not loc and err["type"] == "value_error":
        # A check across fields (or of the whole input): its message names what is wrong.
        message = str(err["msg"]).removeprefix("Value error, ")
        return ScenarioError(f"invalid {prefix or 'scenario'}: {message}", field=prefix or None)
    field_name = loc[-1] if loc else "?"
    where = ".".join([prefix, *loc]) if prefix else ".".join(loc)
    value = err.get("input")
    if err["type"] == "extra_forbidden" and cls is not None:
        allowed = ", ".join(cls.model_fields)
        return ScenarioError(
            f"unknown parameter {where!r}; allowed: {allowed}", field=where, value=value, allowed=allowed
        )
    allowed = describe_allowed(cls, field_name) if cls is not None else ""
    hint = f" (allowed: {allowed})" if allowed else ""
    return ScenarioError(
        f"{where} = {brief(value)} is invalid: {err['msg']}{hint}", field=where, value=value, allowed=allowed or None
    )


def parse_scenario(data: Scenario | dict[str, Any]) -> Scenario:
    """A `Scenario` from JSON-like data; a `ScenarioError` naming the bad field otherwise."""
    if isinstance(data, Scenario):
        return data
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _scenario_error(exc) from None


def resolve(scenario: Scenario | dict[str, Any]) -> ResolvedScenario:
    """Validate a scenario against its model: unknown names, bounds, supported interventions."""
    scenario = parse_scenario(scenario)
    spec = get_model(scenario.model)
    try:
        params = spec.params.model_validate(scenario.params)
    except ValidationError as exc:
        raise _first_error(exc, "params", spec.params) from None
    for iv in scenario.interventions:
        if iv.type not in spec.interventions:
            allowed = ", ".join(sorted(spec.interventions)) or "none"
            raise ScenarioError(
                f"model {spec.name!r} does not support intervention {iv.type!r}; supported: {allowed}",
                field="interventions.type",
                value=iv.type,
                allowed=allowed,
            )
    days = getattr(params, "days", None)
    for iv in scenario.interventions:
        if isinstance(days, int) and iv.start_day >= days:
            # It would change nothing: say so rather than answer with numbers identical to no intervention.
            raise ScenarioError(
                f"{iv.type} starts on day {iv.start_day}, but the run ends on day {days}; "
                f"start it before day {days} or run for more days",
                field=f"interventions.{iv.type}.start_day",
                value=iv.start_day,
                allowed=f"< days ({days})",
            )
    return ResolvedScenario(spec=spec, label=scenario.label, params=params, interventions=tuple(scenario.interventions))


def _loc_part(part: Any) -> str:
    """One step of an error's location; a key a user wrote can be any length, the message is not."""
    text = str(part)
    return text if len(text) <= 40 else f"{text[:40]}…"


def _scenario_error(exc: ValidationError) -> ScenarioError:
    err = exc.errors()[0]
    loc = [_loc_part(p) for p in err["loc"]]
    if loc and loc[0] == "interventions" and len(loc) >= 3 and err["type"] not in ("union_tag_invalid",):
        iv_type = loc[2]
        cls = INTERVENTION_TYPES.get(iv_type)
        return _first_error_at(err, f"interventions[{loc[1]}].{iv_type}", loc[3:], cls)
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        allowed = ", ".join(INTERVENTION_TYPES)
        tag = (err.get("ctx") or {}).get("tag", err.get("input"))
        return ScenarioError(
            f"unknown intervention type {brief(tag)}; allowed: {allowed}",
            field="interventions.type",
            value=tag,
            allowed=allowed,
        )
    return _first_error(exc, "", Scenario)


def _first_error_at(err: Any, where: str, rest: list[str], cls: type[BaseModel] | None) -> ScenarioError:
    field_name = rest[-1] if rest else "?"
    full = ".".join([where, *rest])
    value = err.get("input")
    if err["type"] == "extra_forbidden" and cls is not None:
        allowed = ", ".join(cls.model_fields)
        return ScenarioError(f"unknown field {full!r}; allowed: {allowed}", field=full, value=value, allowed=allowed)
    allowed = describe_allowed(cls, field_name) if cls is not None else ""
    hint = f" (allowed: {allowed})" if allowed else ""
    return ScenarioError(
        f"{full} = {brief(value)} is invalid: {err['msg']}{hint}", field=full, value=value, allowed=allowed or None
    )
