"""Answer text from results: the template composer and the grounding check.

Every number in an answer must trace to a result, an input of the scenario that ran, or the
question. The template composer only prints such numbers; an LLM-written answer is checked with
`ungrounded_numbers` and replaced by the template answer when it fails.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sim.dispatch import RequestOutcome
from sim.errors import SimqaError
from sim.experiments import CalibrationOutcome, Difference
from sim.language import MetricLanguage
from sim.registry import get_model
from sim.result import INTERVAL_LEVEL, Result
from sim.scenario import Scenario
from simqa.numbers import extract_numbers, matches
from simqa.request import Request

if TYPE_CHECKING:
    from simqa.answer import Answer


def _metric_languages() -> dict[str, MetricLanguage]:
    """Every registered model's metric declarations, by metric name (the first model to declare one wins)."""
    from sim.registry import model_names

    out: dict[str, MetricLanguage] = {}
    for model in model_names():
        try:
            metrics = get_model(model).words.metrics
        except SimqaError:
            continue
        for name, lang in metrics.items():
            out.setdefault(name, lang)
    return out


def metric_language(name: str, model: str | None = None) -> MetricLanguage:
    """How a metric is written (share, day, unit, label), from the model that declares it."""
    if model is not None:
        try:
            lang = get_model(model).words.metrics.get(name)
            if lang is not None:
                return lang
        except SimqaError:
            pass
    return _metric_languages().get(name) or MetricLanguage(phrases=(name.replace("_", " "),))


def metric_label(name: str, model: str | None = None) -> str:
    return metric_language(name, model).label or name.replace("_", " ")


def is_share(name: str, model: str | None = None) -> bool:
    return metric_language(name, model).share


def is_day(name: str, model: str | None = None) -> bool:
    return metric_language(name, model).dimension == "day"


# What running a request produced (`sim.run_request`).
Outcome = RequestOutcome


def headline_metrics(model: str) -> tuple[str, ...]:
    """The metrics an answer's summary of a run lists: the headline first, then the others it shows."""
    metrics = get_model(model).words.metrics
    shown = [name for name, lang in metrics.items() if lang.shown]
    return tuple(sorted(shown, key=lambda n: not metrics[n].headline))


def _thousands(x: float) -> str:
    return f"{round(x):,}"


def format_metric(name: str, value: float) -> str:
    """A metric as people read it: shares as percent, counts with separators, minutes with one decimal."""
    if not math.isfinite(value):
        return "n/a"
    lang = metric_language(name)
    if lang.share:
        return f"{value * 100:.1f}%"
    if lang.dimension == "day":
        return f"day {round(value)}"
    if lang.dimension == "duration" and lang.unit:
        return f"{value:.1f} {_unit_word(lang.unit)}"
    if lang.dimension == "count":
        return _thousands(value)  # whole things: "19.6 people" is not an answer
    if abs(value) >= 100:
        return _thousands(value)
    return f"{value:.3g}"


def _unit_word(unit: str) -> str:
    return {"minute": "min", "hour": "h", "day": "days"}.get(unit, unit)


def _format_interval(name: str, lo: float, hi: float) -> str:
    if is_day(name):
        return f"days {round(lo)}–{round(hi)}"
    return f"{format_metric(name, lo)} to {format_metric(name, hi)}"


def format_param(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    return _thousands(float(value)) if abs(value) >= 10_000 else str(int(value))


def describe_scenario(scenario: Scenario, stated: Iterable[str] = ()) -> str:
    """'size 100,000, rate 2.5; a closure from day 30 for 28 days'. Stated params first."""
    params = scenario.params
    try:
        key = [k for k, p in get_model(scenario.model).words.params.items() if p.key]
    except SimqaError:
        key = []
    keys = [k for k in stated if k in params] + [k for k in key if k in params and k not in stated]
    parts = [f"{k} {format_param(params[k])}" for k in dict.fromkeys(keys)]
    for iv in scenario.interventions:
        fields = {k: v for k, v in iv.model_dump().items() if k not in ("type", "start_day", "duration_days")}
        detail = ", ".join(f"{k} {format_param(v)}" for k, v in fields.items())
        timing = f"from day {iv.start_day}" + (
            f" for {iv.duration_days} days" if iv.duration_days is not None else " to the end"
        )
        parts.append(f"{iv.type}{' (' + detail + ')' if detail else ''} {timing}")
    return ", ".join(parts) if parts else "default parameters"


def _metrics_sentence(result: Result, model: str) -> str:
    """The headline metrics with their ranges. A metric a run reports in place of others takes their
    place (when some replicates died out, the probability of a major outbreak and the size of one
    replace the mean attack rate and total, which would average two kinds of outcome)."""
    bits = []
    names = list(headline_metrics(model))
    for name, lang in _declared_metrics(model).items():
        if lang.replaces and name in result.metrics:
            names = [n for n in names if n not in lang.replaces and n != name] + [name]
    for name in names:
        if name not in result.metrics or isinstance(result.metrics[name], dict):
            continue
        value = result.scalar(name)
        text = f"{metric_label(name, model)} {format_metric(name, value)}"
        if name in result.ci:
            lo, hi = result.ci[name]
            interval = metric_language(name, model).interval
            text += f" ({interval + ' ' if interval else ''}{_format_interval(name, lo, hi)})"
        bits.append(text)
    return "; ".join(bits)


def _declared_metrics(model: str) -> dict[str, MetricLanguage]:
    try:
        return dict(get_model(model).words.metrics)
    except SimqaError:
        return {}


def _interval_note(results: list[Result], compared: bool = False) -> str:
    reps = results[0].meta.replicates if results else 1
    if reps == 1 and results and not _stochastic(results[0]):
        return ""  # a deterministic model: its note says there is no random variation
    if reps > 1:
        text = (
            f"Ranges in brackets hold the central {round(INTERVAL_LEVEL * 100)}% of the outcomes of {reps} replicates "
            f"(seed {results[0].meta.seed})"
        )
        if compared:
            text += "; a CI of a difference is the 95% confidence interval of the mean paired difference"
        return text + "."
    return "One run (replicates = 1): ask for replicates to see the spread of outcomes."


def _stochastic(result: Result) -> bool:
    try:
        from sim.scenario import resolve

        resolved = resolve(result.scenario)
    except Exception:  # a plugin that is gone: say what a stochastic run would
        return True
    return resolved.spec.is_stochastic(resolved.params)


def _breakdown_sentence(result: Result) -> str:
    parts = []
    try:
        breakdowns = get_model(result.scenario.model).words.breakdowns
    except SimqaError:
        breakdowns = {}
    for name, lang in breakdowns.items():
        if not lang.counts:
            continue
        value = result.metrics.get(name)
        if isinstance(value, dict) and value:
            total = sum(value.values()) or 1.0
            shares = ", ".join(f"{k} {v / total * 100:.1f}%" for k, v in value.items())
            parts.append(f"{name.replace('_', ' ')}: {shares}")
    return ("; ".join(parts) + ".") if parts else ""


def compose_template(question: str, request: Request, outcome: Outcome, stated: Iterable[str] = ()) -> str:
    """The answer a careful analyst would write from these results, and nothing more."""
    kind, model = request.kind, request.model or ""
    stated = list(stated)
    if kind in ("clarify", "refuse"):
        return request.message or ""
    if not outcome.results:
        return request.message or "Nothing was run."
    lines: list[str] = []
    if kind == "simulate":
        res = outcome.results[0]
        lines.append(f"Ran the {model} model with {describe_scenario(res.scenario, stated)}.")
        sentence = _metrics_sentence(res, model)
        lines.append(sentence[:1].upper() + sentence[1:] + ".")
        breakdown = _breakdown_sentence(res)
        if breakdown:
            lines.append(breakdown.capitalize())
    elif kind == "compare":
        base = outcome.results[0]
        lines.append(
            f"Compared {len(outcome.results)} scenarios of the {model} model on common random numbers; "
            f"baseline '{base.label}': {describe_scenario(base.scenario, stated)}."
        )
        lines.append(f"Baseline: {_metrics_sentence(base, model)}.")
        for res in outcome.results[1:]:
            lines.append(f"'{res.label}' ({describe_scenario(res.scenario, stated)}): {_metrics_sentence(res, model)}.")
            diffs = [d for d in outcome.differences if d.label == res.label and d.metric in headline_metrics(model)]
            lines.append(_change_sentence(diffs))
    elif kind == "sweep" and request.sweep is not None:
        lines.append(
            f"Swept {request.sweep.param} over {len(outcome.results)} values in the {model} model "
            f"({describe_scenario(request.scenarios[0], stated)})."
        )
        for res in outcome.results:
            lines.append(f"- {res.label}: {_metrics_sentence(res, model)}")
    elif kind == "calibrate" and outcome.calibration is not None:
        lines += _calibration_lines(outcome.calibration, model, outcome.results[-1])
    lines.append(_interval_note(outcome.results, bool(outcome.differences)))
    lines += _notes(kind, outcome.results)
    lines += [n[:1].upper() + n[1:].rstrip(".") + "." for n in outcome.notes]
    return "\n".join(line for line in lines if line)


def _calibration_lines(cal: CalibrationOutcome, model: str, final: Result) -> list[str]:
    """The answer of a calibration: the value, what it reaches, how often across replicates, and the
    other values that meet the target (or the closest value when none does)."""
    relation = {"eq": "of", "le": "of at most", "ge": "of at least"}[cal.relation]
    target = format_metric(cal.metric, cal.target)
    words = metric_label(cal.metric, model)
    value = format_param(_round_sig(cal.value, 4))
    lines = []
    if cal.met and cal.probability is not None and cal.share_meeting is not None:
        lines.append(
            f"{cal.param} = {value} meets {words} {relation} {target} in {_percent(cal.share_meeting)} of "
            f"{cal.replicates} replicates (target: in at least {_percent(cal.probability)}); the mean is "
            f"{format_metric(cal.metric, cal.achieved)}. Found in {len(cal.results)} runs of the {model} model."
        )
    elif cal.met:
        share = ""
        if cal.share_meeting is not None:
            share = (
                f" as the mean over {cal.replicates} replicates; {_percent(cal.share_meeting)} of the replicates "
                "meet it one by one"
            )
        lines.append(
            f"{cal.param} = {value} gives {words} {format_metric(cal.metric, cal.achieved)} (target {relation} "
            f"{target}){share}, found in {len(cal.results)} runs of the {model} model."
        )
    else:
        lines.append(f"The target {cal.metric} {relation} {target} could not be met.")
    if cal.note:
        lines.append(cal.note[:1].upper() + cal.note[1:] + ".")
    lines.append(f"At {cal.param} = {value}: {_metrics_sentence(final, model)}.")
    return lines


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _change_sentence(diffs: list[Difference]) -> str:
    """'Against the baseline: peak 8.2% lower (-826 people, 95% CI -900 to -750); attack rate 0.3 points lower.'"""
    parts = []
    for d in diffs:
        name = metric_label(d.metric)
        if is_day(d.metric):
            days = round(d.difference)
            when = " ".join(w for w in name.split() if w not in ("on", "at", "in", "by"))  # "peak on" -> "peak"
            parts.append(
                f"{when} {abs(days)} days {'earlier' if days < 0 else 'later'}" if days else f"same {when} day"
            )
            continue
        if d.difference == 0:
            continue
        word = "lower" if d.difference < 0 else "higher"
        if is_share(d.metric):
            # Shares change in percentage points: "late rate 939% higher" would mislead.
            text = f"{name} {abs(d.difference) * 100:.1f} percentage points {word}"
        elif d.relative is not None:
            text = f"{name} {abs(d.relative) * 100:.1f}% {word} ({_signed(d.metric, d.difference)})"
        else:
            text = f"{name} {word} by {_signed(d.metric, abs(d.difference))}"
        if d.ci is not None and d.ci[0] != d.ci[1]:
            lo, hi = d.ci
            scale, unit = (100, " points") if is_share(d.metric) else (1, "")
            text += f" [95% CI of the difference {_plain(lo * scale)} to {_plain(hi * scale)}{unit}]"
        parts.append(text)
    if not parts or all(p.startswith("same ") for p in parts):
        return "Against the baseline: no change in the headline numbers."
    return f"Against the baseline: {'; '.join(parts)}."


def _signed(metric: str, value: float) -> str:
    text = format_metric(metric, abs(value))
    return f"-{text}" if value < 0 else f"+{text}"


def _plain(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _notes(kind: str, results: list[Result]) -> list[str]:
    """The runs' notes: once when every run has it, else prefixed with the run's label.

    calibrate: only the run at the answer (the search's other runs are not the answer).
    """
    runs = results[-1:] if kind == "calibrate" else results
    out: list[str] = []
    for note in dict.fromkeys(n for r in runs for n in r.notes):
        holders = [r.label for r in runs if note in r.notes]
        text = note[:1].upper() + note[1:].rstrip(".") + "."
        out.append(text if len(holders) == len(runs) or len(runs) == 1 else f"{', '.join(holders)}: {text}")
    for r in runs:
        try:
            words = get_model(r.scenario.model).words
        except SimqaError:
            continue
        horizon = next((n for n, p in words.params.items() if p.horizon and p.unit == "day"), None)
        day_metrics = [n for n, m in words.metrics.items() if m.dimension == "day"]
        end_metric = next((n for n in day_metrics if words.metrics[n].run_end), None)
        peak_metric = next((n for n in day_metrics if not words.metrics[n].run_end), None)
        days = r.scenario.params.get(horizon) if horizon else None
        end = r.metrics.get(end_metric) if end_metric else None
        last = days if isinstance(days, int | float) else end
        peak = r.metrics.get(peak_metric) if peak_metric else None
        label = f"{r.label}: " if len(runs) > 1 else ""
        if not isinstance(last, int | float) or not isinstance(peak, int | float):
            continue
        if peak >= last - max(1, 0.02 * last):
            out.append(
                f"{label}The peak falls at the end of the run (day {round(peak)} of {round(last)}): infections may "
                "still be rising when the run ends, so the true peak may be later and higher; ask for more days."
            )
        if days is None:
            latest_end = max(r.replicate_metrics.get(end_metric or "") or [last])
            for iv in r.scenario.interventions:
                if iv.start_day >= latest_end:
                    out.append(
                        f"{label}{iv.type} starts on day {iv.start_day}, after the epidemic was over (by day "
                        f"{round(latest_end)}): it changes nothing in this run."
                    )
    return out


def _round_sig(x: float, digits: int = 3) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, -math.floor(math.log10(abs(x))) + digits - 1)


# --- grounding ---------------------------------------------------------------------------------
#
# One rule, used twice: the assistant keeps an LLM-written answer text only when
# `ungrounded_numbers(answer, text)` is empty, and the eval's grounding scorer reports the share of
# numbers in an answer's text that the same function traces. Both read only the Answer JSON.


def answer_sources(answer: Answer) -> list[float]:
    """Every number `answer`'s text may state: its results (metrics, intervals, each breakdown part's
    share, numbers in breakdown labels), differences (with magnitudes and a share's change in
    percentage points), the calibration and the request's target and bounds, sweep values, the
    parameters and intervention fields of the scenarios that ran (with each intervention's end day),
    the numbers the question, the labels and the notes state (`stated_values` conversions included),
    counts and the 95% level. A day count may also be written in weeks."""
    from simqa.translators.offline.stated import stated_values

    values: list[float] = []
    days: list[float] = []
    _result_sources(answer, values)
    _calibration_sources(answer, values)
    _scenario_sources(answer.scenarios, values, days)
    labels = [r.label for r in answer.results] + [sc.label for sc in answer.scenarios]  # "orders -1/3"
    texts = [answer.question, *labels, *answer.notes, *(n for r in answer.results for n in r.notes)]
    for text in texts:
        values.extend(n.value for n in extract_numbers(text))
        values.extend(stated_values(text))
    values.extend([len(answer.scenarios), len(answer.results), round(INTERVAL_LEVEL * 100)])
    values.extend(d / 7 for d in days)  # "for 4 weeks" for duration_days 28
    finite = [float(v) for v in values if math.isfinite(v)]
    return finite + [abs(v) for v in finite if v < 0]  # "1,234 fewer" for a difference of -1,234


def _numbers(x: Any) -> list[float]:
    """Every finite number in `x` (nested dicts, lists and tuples); booleans and None are not numbers."""
    if isinstance(x, bool) or x is None:
        return []
    if isinstance(x, int | float):
        return [float(x)] if math.isfinite(float(x)) else []
    if isinstance(x, dict):
        return [v for item in x.values() for v in _numbers(item)]
    if isinstance(x, list | tuple):
        return [v for item in x for v in _numbers(item)]
    return []


def _result_sources(answer: Answer, values: list[float]) -> None:
    for result in answer.results:
        values += _numbers(result.metrics) + _numbers(list(result.ci.values()))
        for breakdown in result.metrics.values():
            if isinstance(breakdown, dict):
                total = sum(float(v) for v in breakdown.values())
                if total > 0:  # "household 33%": each part's share of the breakdown
                    values += [float(v) / total for v in breakdown.values()]
                for part in breakdown:  # age groups "18-64", "65+" are labels, not results
                    values += [n.value for n in extract_numbers(str(part))]
    for d in answer.differences:
        values += _numbers([d.baseline, d.value, d.difference, d.relative, d.ci])
        if is_share(d.metric):  # a share's change, written in percentage points
            values += [100 * x for x in _numbers([d.difference, d.ci])]


def _calibration_sources(answer: Answer, values: list[float]) -> None:
    cal = answer.calibration
    if cal is not None:
        values += _numbers([cal.value, cal.achieved, cal.lower, cal.upper, cal.replicates])
        values += _numbers([[s.value, s.achieved] for s in cal.solutions] + [list(r) for r in cal.meeting_ranges])
        values += [
            x for share in (cal.share_meeting, cal.probability) if share is not None for x in (share, 100 * share)
        ]
    if answer.calibrate is not None:
        values += _numbers([answer.calibrate.target, answer.calibrate.lower, answer.calibrate.upper])
    if answer.sweep is not None:
        values += _numbers(answer.sweep.values)


def _scenario_sources(scenarios: Iterable[Scenario], values: list[float], days: list[float]) -> None:
    for scenario in scenarios:
        values += _numbers(scenario.params)
        days += _numbers([v for k, v in scenario.params.items() if "day" in k])
        for iv in scenario.interventions:
            fields = iv.model_dump()
            values += _numbers(fields)
            days += _numbers([v for k, v in fields.items() if "day" in k])
            if iv.duration_days is not None:
                values.append(float(iv.start_day + iv.duration_days))  # "from day 30 to day 58"


def ungrounded_numbers(answer: Answer, text: str | None = None) -> list[str]:
    """The numbers in `text` (by default the answer's own) that trace to none of `answer_sources`,
    allowing the rounding the text shows (`simqa.numbers.matches`)."""
    sources = answer_sources(answer)
    shown = extract_numbers(answer.text if text is None else text)
    return [n.text for n in shown if not any(matches(n, s) for s in sources)]
