"""One check of a `Request`, used by both translators: the shape, the bounds, the caps, nothing invented.

`finish(draft)` turns a translator's draft (the Request's fields as plain data) into a `Request`
that can run, or into a `clarify` (a value the model cannot take, probably mistyped) or a `refuse`
(a value that can never be right: negative, a share over 100%) that names the parameter, the value
and the allowed range. `invented(request, stated)` lists what a request sets that the question did
not state, so a translator can drop it with a note.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from sim.caps import check_work
from sim.errors import ScenarioError
from sim.registry import get_model
from sim.scenario import parse_scenario
from simqa.request import RUN_KINDS, Request


def finish(draft: dict[str, Any]) -> Request:
    """The validated request for a draft, or a clarify/refuse naming the bound it breaks."""
    model = draft.get("model")
    try:
        for scenario in draft.get("scenarios") or []:
            parse_scenario(scenario)
        request = Request.model_validate(draft)
    except ValidationError as exc:
        return _bound_request(_validation_error(exc), model, draft)
    except ScenarioError as exc:
        return _bound_request(exc, model, draft)
    if request.kind not in RUN_KINDS:
        return request
    try:
        check_runnable(request)
    except ScenarioError as exc:
        return _bound_request(exc, request.model, draft)
    return request


def check_runnable(request: Request) -> None:
    """Every scenario resolves within its model's bounds, what a sweep or calibration names exists,
    and the whole request fits the resource caps; a `ScenarioError` naming the bound otherwise."""
    from sim.experiments import check_target
    from sim.scenario import resolve

    resolved = [resolve(sc) for sc in request.scenarios]
    total = sum(r.spec.work_units(r.params) for r in resolved)
    if request.sweep is not None:
        check_target(request.scenarios[0], request.sweep.param, "sweep")
        for value in (min(request.sweep.values), max(request.sweep.values)):
            _check_value(request.scenarios[0], request.sweep.param, value)
        total *= len(request.sweep.values)
    if request.calibrate is not None:
        cal = request.calibrate
        check_target(request.scenarios[0], cal.param, "calibrate")
        spec = resolved[0].spec
        if cal.metric not in spec.metrics:
            raise ScenarioError(
                f"the {spec.name} model has no metric {cal.metric!r}",
                field="calibrate.metric",
                value=cal.metric,
                allowed=", ".join(spec.metrics),
            )
        language = spec.words.metrics.get(cal.metric)
        if not math.isfinite(cal.target):
            raise ScenarioError(
                f"the target {cal.target} is not a number",
                field=cal.metric,
                value=cal.target,
                allowed="a finite number",
            )
        if language is not None and language.share and not 0 <= cal.target <= 1:
            raise ScenarioError(
                f"{cal.metric} is a share", field=cal.metric, value=cal.target, allowed=">= 0 and <= 1 (0% to 100%)"
            )
        if cal.target < 0:
            raise ScenarioError(f"{cal.metric} cannot be negative", field=cal.metric, value=cal.target, allowed=">= 0")
    check_work(total, "this question")


def _check_value(scenario: Any, param: str, value: float) -> None:
    from sim.experiments import with_value
    from sim.scenario import resolve

    try:
        resolve(with_value(scenario, param, value))
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ScenarioError(f"{param} = {value!r} is invalid: {err['msg']}", field=param, value=value) from None


def invented(request: Request, stated_interventions: Iterable[str]) -> list[str]:
    """Interventions a request runs that the question never named (a translator's invention)."""
    named = set(stated_interventions)
    out: list[str] = []
    for scenario in request.scenarios:
        for iv in scenario.interventions:
            if iv.type not in named and iv.type not in out:
                out.append(iv.type)
    return out


# --------------------------------------------------------------------------- messages


def _validation_error(exc: ValidationError) -> ScenarioError:
    """The first error of a request's shape, as a ScenarioError naming the field."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    message = str(err["msg"]).removeprefix("Value error, ")
    return ScenarioError(message, field=".".join(loc) or None, value=err.get("input"))


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return f"{len(value):,} values"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return repr(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:,.6g}" if abs(value) >= 1000 else f"{value:.6g}"


def _is_share(model: str | None, field_name: str) -> bool:
    if model is None:
        return False
    try:
        language = get_model(model).words
    except ScenarioError:
        return False
    leaf = field_name.split(".")[-1]
    param = language.params.get(leaf)
    if param is not None:
        return param.dimension == "share"
    for iv in language.interventions.values():
        f = iv.fields.get(leaf)
        if f is not None:
            return f.dimension == "share"
    return False


def _rest_of_draft(draft: dict[str, Any], field_name: str) -> str:
    """What else the question stated, as read, so a clarify about one value loses none of the others."""
    stated: list[str] = []
    for scenario in draft.get("scenarios") or []:
        if not isinstance(scenario, dict):
            continue
        for name, value in (scenario.get("params") or {}).items():
            if name != field_name and isinstance(value, int | float | str) and not isinstance(value, bool):
                stated.append(f"{name} = {_shown(value)}")
        for iv in scenario.get("interventions") or []:
            if not isinstance(iv, dict):
                continue
            for name, value in iv.items():
                path = f"{iv.get('type')}.{name}"
                if name != "type" and path != field_name and value is not None and not isinstance(value, bool):
                    stated.append(f"{path} = {_shown(value)}")
    stated = list(dict.fromkeys(stated))
    return f" The rest I read as: {', '.join(stated)}." if stated else ""


def _as_percents(allowed: str) -> str:
    """ "float >= 0 and <= 0.2" read as percents: " i.e. 0% to 20%"."""
    bounds = re.findall(r"(>=|>|<=|<)\s*(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)", allowed)
    low = next((float(v) for op, v in bounds if op.startswith(">")), None)
    high = next((float(v) for op, v in bounds if op.startswith("<")), None)
    if low is None or high is None:
        return ""
    return f" i.e. {low * 100:.4g}% to {high * 100:.4g}%"


def _impossible(model: str | None, field_name: str, value: Any) -> str | None:
    """Why a value can never be right (negative, a share over 100%), or None."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return None
    if value < 0:
        return "it cannot be negative"
    if _is_share(model, field_name) and value > 1:
        return f"it is a share, and {value:.4g} is {value * 100:.4g}%: a share cannot be over 100%"
    return None


def _bound_request(exc: ScenarioError, model: str | None, draft: dict[str, Any]) -> Request:
    field_name = (exc.field or "").removeprefix("params.")
    if field_name.startswith("interventions"):
        field_name = field_name.split("].", 1)[-1] if "]." in field_name else field_name.removeprefix("interventions.")
    value = exc.value
    allowed = exc.allowed or ""
    notes = list(draft.get("notes") or [])
    reason = _impossible(model, field_name, value)
    shown = _shown(value)
    if reason is not None:
        message = (
            f"{field_name} = {shown} is impossible ({reason}), so nothing was run: the {model} model allows "
            f"{field_name} {allowed}".rstrip()
            + "."
        )
        return Request(kind="refuse", model=model, message=message, notes=notes)
    if exc.field == "work":
        message = f"That run is too large ({exc}). Can I use fewer people, days, replicates or values?"
    elif field_name.endswith("start_day") and "run ends" in str(exc):
        message = f"{exc}. When should it start, or for how many days should the run go on?"
    elif field_name in ("params", "", "scenario"):
        message = f"Those values do not fit together: {exc}. Which values did you mean?"
    elif exc.field == "interventions.type":
        message = f"{exc}. Shall I drop that intervention, or use a model that has it?"
    else:
        share = _is_share(model, field_name) and isinstance(value, int | float) and not isinstance(value, bool)
        percent = f" ({value * 100:.4g}%)" if share and math.isfinite(float(value)) else ""
        message = (
            f"{field_name} = {shown}{percent} is outside what the {model} model allows "
            f"({allowed or exc}{_as_percents(allowed) if share else ''}). Which {field_name} did you mean?"
        ) + _rest_of_draft(draft, field_name)
    return Request(kind="clarify", model=model, message=message[:2000], notes=notes)
