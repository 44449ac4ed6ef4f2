"""Questions that come with data: read the table, choose the model, plan the fit, write the answer.

`load_table` reads what a person hands over (a CSV or JSON file, a mapping of columns, records,
an array); `plan_fit` turns a translated request plus that table into a `FitPlan`: the model (the
question's, when its observables take the data's columns, else the cheapest model whose
observables do), the values the question states (held fixed), the parameters to free (those the
question names, else the model's declared ones it leaves unstated) and the forecast horizon.
`run_plan` fits, forecasts and runs the fitted scenario; `compose_fit` writes the answer from it.
A translator that learns to read data questions can call `plan_fit` itself.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.fit import REPORTING, FitOutcome, FitSpec, Forecast, default_free, fittable
from sim.observables import DataError, ObservedData, read_observations
from sim.registry import ModelSpec, get_model, model_names
from sim.result import Result
from sim.scenario import Scenario
from simqa.request import Request

MAX_BYTES = 20_000_000  # a data file larger than this is not a table of observations
ARRAY = "<array>"  # the one column of an unnamed array: the model's first observed column

_PERCENT = r"(\d+(?:\.\d+)?)\s*(%|percent|per cent)"
_REPORTED = re.compile(
    r"(?:" + _PERCENT + r"\s+of\s+(?:the\s+)?(?:cases|infections|infected|infectious)\s+(?:are|were|is|get|gets)?\s*"
    r"(?:reported|detected|confirmed|counted|ascertained))"
    r"|(?:report(?:ing|ed)?\s+(?:fraction|rate|share|ratio)\s+(?:of\s+|is\s+|=\s*)?"
    r"(?:" + _PERCENT + r"|(0?\.\d+)))",
    re.IGNORECASE,
)
_ASKS_REPORTING = re.compile(
    r"\b(?:what|which|how (?:many|much))\b[^.?]*\b(?:share|fraction|proportion|percentage|rate)\b[^.?]*\breport",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Table:
    """Columns as given (header -> values, one per row) and where they came from."""

    columns: dict[str, list[Any]]
    source: str

    @property
    def headers(self) -> list[str]:
        return list(self.columns)


@dataclass
class FitPlan:
    model: str
    scenario: Scenario  # the question's stated values (held fixed) and interventions
    spec: FitSpec
    data: ObservedData
    horizon: int | None = None  # the forecast's, when the question states one past the data
    fixed: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class FitRun:
    plan: FitPlan
    outcome: FitOutcome
    forecast: Forecast
    scenario: Scenario  # the stated and fitted values, over the forecast horizon: what follow-ups refine
    result: Result  # that scenario's run


# --------------------------------------------------------------------------- reading the data


def load_table(data: Any, source: str | None = None) -> Table:
    """A `Table` from a path (CSV or JSON), a mapping of columns, a list of records, a table with
    columns (a data frame) or a one-dimensional array of values; a `DataError` otherwise."""
    if isinstance(data, Table):
        return data
    if isinstance(data, str | Path):
        return _read_file(Path(data))
    name = source or "data"
    if isinstance(data, Mapping):
        columns = {}
        for key, values in data.items():
            if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
                raise DataError(
                    f"{name}: column {key!r} must hold a list of values, one per row, got {type(values).__name__}",
                    column=str(key),
                )
            columns[str(key)] = list(values)
        return Table(columns, name)
    if hasattr(data, "columns") and hasattr(data, "__getitem__") and not isinstance(data, Sequence):
        return Table({str(c): list(data[c]) for c in data.columns}, name)  # a data frame
    shape = getattr(data, "shape", None)
    if shape is not None and len(shape) != 1:
        raise DataError(
            f"{name}: an array of shape {tuple(shape)} has no column names; pass a mapping such as "
            "{'day': [...], 'new_cases': [...]}"
        )
    values = list(data) if isinstance(data, Sequence) or shape is not None else None
    if values is None:
        raise DataError(f"{name}: expected a file path, a mapping of columns or an array, got {type(data).__name__}")
    if values and all(isinstance(v, Mapping) for v in values):
        return _records(values, name)
    return Table({ARRAY: values}, name)


def _read_file(path: Path) -> Table:
    where = path.name
    if path.is_dir():
        raise DataError(f"{path} is a folder: give a CSV or JSON file of observations")
    if not path.is_file():
        raise DataError(f"no such data file: {path}")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise DataError(
            f"{where} is {size / 1e6:.0f} MB, too big for a table of observations (at most {MAX_BYTES // 1_000_000} MB)"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{where} is not UTF-8 text: give a CSV or JSON file") from None
    except OSError as exc:
        raise DataError(f"cannot read {where}: {exc.strerror or exc}") from None
    if path.suffix.lower() == ".json" or text.lstrip()[:1] in ("[", "{"):
        return _parse_json(text, where)
    return _parse_csv(text, where)


def _parse_json(text: str, where: str) -> Table:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if isinstance(data, dict):
        return load_table(data, where)
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return _records(data, where)
    raise DataError(
        f'{where}: expected JSON records ([{{"day": 0, "new_cases": 3}}, ...]) or an object of columns '
        '({"day": [...], "new_cases": [...]})'
    )


def _records(rows: Sequence[Mapping[str, Any]], where: str) -> Table:
    headers = list(dict.fromkeys(str(k) for row in rows for k in row))
    columns: dict[str, list[Any]] = {h: [] for h in headers}
    for i, row in enumerate(rows, start=1):
        for h in headers:
            if h not in row:
                raise DataError(f"{where} row {i}, column {h}: the value is missing", row=i, column=h)
            columns[h].append(row[h])
    return Table(columns, where)


def _parse_csv(text: str, where: str) -> Table:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataError(f"{where} is empty: give a header row (e.g. day,new_cases) and one row per step")
    try:
        dialect: Any = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO("\n".join(lines)), dialect)
    rows = list(reader)
    header = [h.strip() for h in rows[0]]
    if any(not h for h in header):
        raise DataError(f"{where}: the header row has an empty column name; name every column (e.g. day,new_cases)")
    if all(_is_number(h) for h in header):
        raise DataError(f"{where}: the first row holds numbers, not column names; add a header such as day,new_cases")
    columns: dict[str, list[Any]] = {h: [] for h in header}
    if len(columns) != len(header):
        raise DataError(f"{where}: a column name appears twice in the header")
    for i, row in enumerate(rows[1:], start=1):
        if len(row) != len(header):
            raise DataError(
                f"{where} row {i} (line {i + 1}): {len(row)} values for {len(header)} columns ({', '.join(header)})",
                row=i,
            )
        for h, value in zip(header, row, strict=True):
            columns[h].append(value)
    return Table(columns, where)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- choosing the model


def _cost(spec: ModelSpec) -> float:
    try:
        return spec.work_units(spec.params())
    except Exception:  # a model without full defaults: last
        return math.inf


def choose_model(table: Table, requested: str | None) -> tuple[str, list[str]]:
    """The model the data go to, and a note when it is not the one the question named.

    The question's model when its observables take the table's columns; otherwise the cheapest
    model whose observables do (the first of a family by rank for columns several models read)."""
    notes: list[str] = []
    if table.headers == [ARRAY]:
        if requested is None or get_model(requested).observables is None:
            raise DataError(
                f"{table.source}: an array has no column names, and the question names no model that takes data; "
                "pass a mapping such as {'day': [...], 'new_cases': [...]}"
            )
        return requested, notes
    fits = [
        name
        for name in model_names()
        if (spec := _spec(name)) is not None
        and spec.observables is not None
        and spec.observables.accepts(table.headers)
    ]
    if requested in fits:
        return requested, notes
    if fits:
        chosen = min(fits, key=lambda name: _cost(get_model(name)))
        if requested is not None:
            notes.append(f"the data's columns ({', '.join(table.headers)}) fit the {chosen} model, not {requested}")
        return chosen, notes
    spec = _spec(requested) if requested else None
    if spec is not None and spec.observables is not None:
        read_observations(spec.observables, table.columns, table.source, requested or "the model")  # says what is wrong
    takes = "; ".join(
        f"{name}: {', '.join(obs.column_names())}"
        for name in model_names()
        if (s := _spec(name)) is not None and (obs := s.observables) is not None
    )
    raise DataError(f"{table.source}: no model takes the columns {', '.join(table.headers)}; models take: {takes}")


def _spec(name: str | None) -> ModelSpec | None:
    if name is None:
        return None
    try:
        return get_model(name)
    except ScenarioError:
        return None


# --------------------------------------------------------------------------- planning the fit


def reporting_fraction(question: str) -> float | None:
    """The share of cases reported, when the question states one ("30% of cases are reported")."""
    match = _REPORTED.search(question)
    if match is None:
        return None
    percent = match.group(1) or match.group(3)
    value = float(percent) / 100 if percent else float(match.group(5))
    return value if 0 < value <= 1 else None


def named_params(question: str, spec: ModelSpec) -> list[str]:
    """The fittable parameters the question names ("which R0 fits?"), by name or with spaces for underscores."""
    text = question.lower()
    names = []
    for name in fittable(spec):
        if name == REPORTING:
            if _ASKS_REPORTING.search(question):
                names.append(name)
            continue
        words = {name.lower(), name.lower().replace("_", " ")}
        if any(re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", text) for w in words):
            names.append(name)
    return names


def plan_fit(request: Request, table: Table, question: str = "") -> FitPlan:
    """The fit a question with data asks for: which model, what is held fixed, what is freed."""
    model, notes = choose_model(table, request.model)
    spec = get_model(model)
    observables = spec.observables
    assert observables is not None
    columns = table.columns
    if table.headers == [ARRAY]:
        columns = {observables.observed[0].name: columns[ARRAY]}
    data = read_observations(observables, columns, table.source, model)
    same_model = request.model == model and request.scenarios
    scenario = request.scenarios[0] if same_model else Scenario(model=model)
    if request.scenarios and not same_model:
        dropped = [k for k in request.scenarios[0].params if k not in spec.params.model_fields]
        kept = {k: v for k, v in request.scenarios[0].params.items() if k in spec.params.model_fields}
        scenario = Scenario(model=model, params=kept)
        if dropped:
            notes.append(f"{', '.join(dropped)} from the question do not apply to {model}")
    params = dict(scenario.params)
    horizon = None
    stated_horizon = params.pop(observables.horizon, None)
    if stated_horizon is not None:
        if stated_horizon > data.last + 1:
            horizon = int(stated_horizon)
        else:
            notes.append(
                f"{observables.horizon} {stated_horizon} is covered by the data ({data.n_rows} rows); the forecast runs "
                "past them"
            )
    params.pop("replicates", None)
    seed = int(params.pop("seed", 0))
    stated = list(params)
    named = [n for n in named_params(question, spec) if n not in stated]
    if request.calibrate is not None and request.calibrate.param in fittable(spec):
        named = list(dict.fromkeys([request.calibrate.param, *named]))
    reporting = reporting_fraction(question)
    if reporting is not None and not observables.reporting:
        notes.append(f"{model} has no reporting fraction; the stated share of reported cases was not used")
        reporting = None
    if reporting is not None and REPORTING in named:
        named.remove(REPORTING)
    free = named or default_free(spec, stated)
    if not free:
        declared = ", ".join(p.name for p in spec.fit_params)
        raise ScenarioError(
            f"the question states every parameter the fit could free ({declared}); leave out the one the data should "
            "fit, or name it (e.g. 'which reproduction number fits these data?')",
            field="fit.free",
        )
    scenario = scenario.model_copy(update={"params": params, "label": "fitted"})
    for p in spec.fit_params:
        if p.default and p.name not in free and p.name not in stated:
            default = spec.params.model_fields[p.name].default
            notes.append(f"{p.name} not stated: held at its default {default}; name it to fit it too")
    if observables.reporting and reporting is None and REPORTING not in free:
        notes.append("every case is taken to be reported (reporting fraction 1); state the share reported if not")
    fit_spec = FitSpec(free=free, reporting=reporting or 1.0, seed=seed)
    return FitPlan(
        model=model,
        scenario=scenario,
        spec=fit_spec,
        data=data,
        horizon=horizon,
        fixed={k: v for k, v in params.items()},
        notes=notes,
    )


def run_plan(plan: FitPlan, cache: Any = None, progress: Any = None) -> FitRun:
    """Fit, forecast with the parameters' uncertainty, and run the fitted scenario over the forecast horizon."""
    from sim.fit import fit, forecast
    from sim.runner import run

    outcome = fit(plan.scenario, plan.data, plan.spec, progress=progress)
    ahead = forecast(outcome, plan.data, horizon=plan.horizon, seed=plan.spec.seed)
    spec = get_model(plan.model)
    assert spec.observables is not None
    params = dict(outcome.scenario.params)
    if spec.observables.horizon in spec.params.model_fields:
        params[spec.observables.horizon] = ahead.horizon
    fitted = outcome.scenario.model_copy(update={"params": params})
    result = run(fitted, cache=cache)
    return FitRun(plan=plan, outcome=outcome, forecast=ahead, scenario=fitted, result=result)


# --------------------------------------------------------------------------- follow-ups of a fit


def _fitted_values(fit_run: FitRun) -> dict[str, Any]:
    return {
        e.name: fit_run.scenario.params[e.name] for e in fit_run.outcome.estimates if e.name in fit_run.scenario.params
    }


def from_fit(request: Request, fit_run: FitRun) -> Request | None:
    """A follow-up of a fit ("and if we close schools from day 45?") as a compare that starts from the
    fitted scenario: a changed scenario gets the fitted one as its baseline (labelled "fitted"), and a
    compare whose baseline is the fitted scenario is labelled so; None when the request does not
    build on the fit."""
    if request.kind not in ("simulate", "compare") or not request.scenarios:
        return None
    values = _fitted_values(fit_run)
    first = request.scenarios[0]
    if any(first.params.get(k) != v for k, v in values.items()):
        return None  # a new value of a fitted parameter, or another question: the translator's reading stands
    notes = [*request.notes, "the baseline is the scenario fitted to the data"]
    if request.model != fit_run.plan.model:
        notes.append(
            f"the fit was of the {fit_run.plan.model} model; the {request.model} scenarios take its fitted values"
        )
    if request.kind == "compare":
        if first.interventions != fit_run.scenario.interventions or first.label == "fitted":
            return None
        scenarios = [first.model_copy(update={"label": "fitted"}), *request.scenarios[1:]]
        if len({s.label for s in scenarios}) != len(scenarios):
            return None
        return request.model_copy(update={"scenarios": scenarios, "notes": notes})
    baseline = first.model_copy(update={"label": "fitted", "interventions": list(fit_run.scenario.interventions)})
    if baseline.interventions == first.interventions:
        return None
    label = first.label if first.label not in ("baseline", "fitted") else "what-if"
    return Request(
        kind="compare",
        model=request.model,
        scenarios=[baseline, first.model_copy(update={"label": label})],
        notes=notes,
    )


def fit_spread(fit_run: FitRun, request: Request) -> list[str]:
    """For a compare that starts from a fit, each change against the fitted baseline over the draws of
    the fitted parameters (their uncertainty carried into the what-if); a note per scenario."""
    from sim.scenario import resolve
    from simqa.compose import headline_metrics, is_day, is_share, metric_label

    if request.kind != "compare" or request.model != fit_run.plan.model or request.scenarios[0].label != "fitted":
        return []
    spec = get_model(request.model)
    if spec.batch_run is None:
        return [
            f"the comparison runs the fitted values; the fit's uncertainty is not carried into it for {request.model} "
            "(no batch runs)"
        ]
    fields = spec.params.model_fields
    draws = [{k: v for k, v in d.items() if k in fields} for d in fit_run.outcome.draws]
    per_scenario = []
    for scenario in request.scenarios:
        resolved = resolve(scenario)
        base = resolved.params.model_dump()
        params = [
            spec.params.model_validate(
                {**base, **{k: (max(1, round(v)) if fields[k].annotation is int else v) for k, v in d.items()}}
            )
            for d in draws
        ]
        outputs = spec.batch_run(params, resolved.interventions)
        per_scenario.append({m: [float(o.metrics[m][0]) for o in outputs] for m in outputs[0].metrics})
    notes = []
    for scenario, metrics in zip(request.scenarios[1:], per_scenario[1:], strict=True):
        parts = []
        day_metrics = [n for n in headline_metrics(request.model) if is_day(n, request.model) and n in metrics]
        for name in headline_metrics(request.model):
            if name not in metrics or name in day_metrics:
                continue
            base_values = per_scenario[0][name]
            if is_share(name, request.model):
                changes = [(b - a) * 100 for a, b in zip(base_values, metrics[name], strict=True)]
                unit = " points"
            else:
                changes = [(b - a) / a * 100 if a else 0.0 for a, b in zip(base_values, metrics[name], strict=True)]
                unit = "%"
            lo, hi = _quantiles(changes)
            parts.append(f"{metric_label(name, request.model)} {lo:+.1f} to {hi:+.1f}{unit}")
        for name in day_metrics:
            shifts = [b - a for a, b in zip(per_scenario[0][name], metrics[name], strict=True)]
            lo, hi = _quantiles(shifts)
            parts.append(f"{name.replace('_', ' ')} {lo:+.0f} to {hi:+.0f} days")
        notes.append(
            f"'{scenario.label}' against the fitted baseline over {len(draws)} draws of the fitted parameters "
            f"(95% ranges): {'; '.join(parts)}"
        )
    return notes


def _quantiles(values: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(values)
    lo = ordered[int(0.025 * (len(ordered) - 1))]
    hi = ordered[round(0.975 * (len(ordered) - 1))]
    return lo, hi


# --------------------------------------------------------------------------- the answer's text


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:#.3g}".rstrip(".")


def _estimate_text(e: Any) -> str:
    if e.lower is None or e.upper is None:
        return f"{e.name} {_number(e.value)}"
    lo = ("below " if e.lower_open else "") + _number(e.lower)
    hi = _number(e.upper) + (" or more" if e.upper_open else "")
    return f"{e.name} = {_number(e.value)} (95% interval {lo} to {hi})"


def _verdict(p_value: float) -> str:
    if p_value >= 0.05:
        return "the data are consistent with the fitted model"
    if p_value >= 0.01:
        return "some misfit: the data stray from the fitted model more than its noise explains"
    return "the model does not reproduce these data well; treat the fitted values with caution"


def compose_fit(question: str, fit_run: FitRun) -> str:
    """The answer from a fit: fitted values with intervals, goodness of fit, and the forecast."""
    from simqa.compose import describe_scenario, format_metric, headline_metrics, is_day, metric_label

    plan, outcome, ahead, result = fit_run.plan, fit_run.outcome, fit_run.forecast, fit_run.result
    spec = get_model(plan.model)
    observables = spec.observables
    assert observables is not None
    data = plan.data
    index = observables.index
    span = f"{index} {data.index[0]} to {data.last}" + (f", day 0 = {data.first_date}" if data.first_date else "")
    columns = ", ".join(outcome.columns)
    lines = [
        f"Fitted the {plan.model} model to {data.n_rows} {index}s of {columns} from {data.source} ({span}) by "
        f"{outcome.method}; 95% intervals by profile likelihood."
    ]
    held = describe_scenario(plan.scenario.model_copy(update={"interventions": []}), list(plan.fixed))
    if plan.fixed:
        lines.append(f"Held as stated: {held}.")
    if plan.scenario.interventions:
        lines.append(f"Interventions in force during the data: {describe_scenario(plan.scenario, [])}.")
    lines.append("Fitted: " + "; ".join(_estimate_text(e) for e in outcome.estimates) + ".")
    g = outcome.goodness
    what = "deviance" if g.statistic == "deviance" else "distance of the data's summaries from the model's"
    lines.append(
        f"Goodness of fit: {what} {g.value:.1f} on {g.df} degrees of freedom (p = {g.p_value:.2g}): {_verdict(g.p_value)}."
    )
    parts = []
    for name in headline_metrics(plan.model):
        value = result.metrics.get(name)
        if not isinstance(value, int | float) or name not in ahead.intervals:
            continue
        lo, hi = ahead.intervals[name]
        words = metric_label(name, plan.model)
        if is_day(name, plan.model):
            parts.append(f"{words} day {round(value)} (95% interval days {round(lo)} to {round(hi)})")
        else:
            parts.append(
                f"{words} {format_metric(name, value)} (95% interval {format_metric(name, lo)} to {format_metric(name, hi)})"
            )
    unit = observables.horizon
    lines.append(
        f"Forecast of the fitted model over {ahead.horizon} {unit}: " + "; ".join(parts) + "."
        if parts
        else f"The fitted model over {ahead.horizon} {unit} gives no headline metrics."
    )
    day_metric = next((n for n in headline_metrics(plan.model) if is_day(n, plan.model)), None)
    peak = result.metrics.get(day_metric) if day_metric else None
    if isinstance(peak, int | float):
        if peak <= data.last:
            lines.append(
                f"The peak falls inside the data (day {round(peak)} of {data.last}): the epidemic has already turned."
            )
        else:
            lines.append(f"The peak is {round(peak) - data.last} days after the last day of the data.")
    lines.append(
        f"Forecast intervals hold 95% of {ahead.draws} runs of the model under values drawn from the fitted "
        "parameters' uncertainty."
    )
    return "\n".join(lines)
