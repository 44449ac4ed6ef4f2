"""Scorers: plain functions `name(case, answer) -> Score`, each named in the log with its arguments.

Per-case scorers (`CASE_SCORERS`) look at one answer; aggregate scorers (`refusal_metrics`,
`consistency`, `latency`, `usage_and_cost`, `retrieval`) look at a whole run. A score's `value` is
in 0..1, or None when the check does not apply to the case (e.g. citations for a sweep).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from evals.case import Case, MetricLabel
from simqa.answer import Answer
from simqa.numbers import extract_numbers

RUN_KINDS = ("simulate", "compare", "sweep", "calibrate")
NUMBER_REL_TOL = 0.01  # a stated number matches within 1% (translations round "a third" to 0.33)
NUMBER_ABS_TOL = 1e-9
# Parameters a translator may set on its own for the run's sake; they count only when the question states them.
RUN_CONTROL_PARAMS = ("replicates", "seed")


class Score(BaseModel):
    """One scorer's verdict on one answer."""

    name: str
    value: float | None = Field(None, ge=0, le=1, description="0..1; None when the check does not apply")
    explanation: str = ""
    args: dict[str, Any] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        return None if self.value is None else self.value >= 1.0 - 1e-12


Scorer = Callable[[Case, Answer], Score]


def _na(name: str, why: str, **args: Any) -> Score:
    return Score(name=name, value=None, explanation=why, args=args)


def numbers_equal(expected: Any, actual: Any, rel_tol: float = NUMBER_REL_TOL) -> bool:
    """Numbers within `rel_tol` (relative); anything else by equality. True == 1 is not a match."""
    if isinstance(expected, bool) or isinstance(actual, bool) or expected is None or actual is None:
        return expected == actual and type(expected) is type(actual)
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(float(expected), float(actual), rel_tol=rel_tol, abs_tol=NUMBER_ABS_TOL)
    return bool(expected == actual)


# --- kind and model -------------------------------------------------------------------------------


def kind_accuracy(case: Case, answer: Answer) -> Score:
    accepted = case.accepted_kinds()
    ok = answer.kind in accepted
    return Score(
        name="kind_accuracy",
        value=1.0 if ok else 0.0,
        explanation=f"kind {answer.kind!r}" + ("" if ok else f", expected {' or '.join(accepted)}"),
    )


def model_accuracy(case: Case, answer: Answer) -> Score:
    if case.kind not in RUN_KINDS or case.model is None:
        return _na("model_accuracy", "no model expected for this kind")
    ok = answer.model == case.model
    return Score(
        name="model_accuracy",
        value=1.0 if ok else 0.0,
        explanation=f"model {answer.model!r}" + ("" if ok else f", expected {case.model!r}"),
    )


def alternative_reading(case: Case, answer: Answer) -> bool:
    """The answer runs an accepted alternative kind, not the primary one ("close schools for 4 weeks
    from day 30" is a compare that also accepts a simulate). Such an answer is checked only on what
    it shares with the primary reading: the kind, the model, and the parameters and interventions of
    the primary's last scenario against its own last scenario; not the primary's scenario count,
    sweep or calibration."""
    return (
        answer.kind != case.kind
        and answer.kind in case.accept_kinds
        and answer.kind in RUN_KINDS
        and case.kind in RUN_KINDS
    )


def _scenario_pairs(case: Case, answer: Answer) -> list[tuple[int | None, int | None]]:
    """Expected and answered scenarios matched by position; for an alternative kind, the last of each."""
    if alternative_reading(case, answer):
        return [(len(case.scenarios) - 1, len(answer.scenarios) - 1 if answer.scenarios else None)]
    return _pairs(len(case.scenarios), len(answer.scenarios))


# --- parameters and interventions ----------------------------------------------------------------


_defaults_cache: dict[str, dict[str, Any] | None] = {}


def model_defaults(model: str | None) -> dict[str, Any] | None:
    """The documented defaults of a model's parameters, or None if the model cannot be loaded."""
    if model is None:
        return None
    if model not in _defaults_cache:
        try:
            from sim import get_model

            params_cls = get_model(model).params
            _defaults_cache[model] = {name: info.default for name, info in params_cls.model_fields.items()}
        except Exception:
            _defaults_cache[model] = None
    return _defaults_cache[model]


def intervention_defaults(iv_type: str) -> dict[str, Any]:
    from sim.interventions import INTERVENTION_TYPES

    cls = INTERVENTION_TYPES.get(iv_type)
    if cls is None:
        return {}
    return {name: info.default for name, info in cls.model_fields.items() if name != "type"}


class FieldCounts(BaseModel):
    """Field-level matches: `true_positive` stated and set right, `false_positive` set but not
    stated (or set wrong), `false_negative` stated but missing or wrong."""

    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    mismatches: list[str] = Field(default_factory=list)

    def add(self, other: FieldCounts) -> None:
        self.true_positive += other.true_positive
        self.false_positive += other.false_positive
        self.false_negative += other.false_negative
        self.mismatches.extend(other.mismatches)

    @property
    def precision(self) -> float | None:
        n = self.true_positive + self.false_positive
        return None if n == 0 else self.true_positive / n

    @property
    def recall(self) -> float | None:
        n = self.true_positive + self.false_negative
        return None if n == 0 else self.true_positive / n


def _count_fields(
    expected: dict[str, Any], actual: dict[str, Any], defaults: dict[str, Any] | None, where: str, ignore: Iterable[str]
) -> FieldCounts:
    """Stated fields against what the answer set; the answer's fields equal to defaults are not 'set'."""
    counts = FieldCounts()
    ignored = set(ignore) - set(expected)
    for name, value in expected.items():
        if name in actual and numbers_equal(value, actual[name]):
            counts.true_positive += 1
        else:
            counts.false_negative += 1
            got = actual.get(name, "<missing>")
            counts.mismatches.append(f"{where}{name}: expected {value!r}, got {got!r}")
            if name in actual and (defaults is None or not numbers_equal(defaults.get(name), actual[name])):
                counts.false_positive += 1  # a wrong value is also a value set that was not asked for
    for name, value in actual.items():
        if name in expected or name in ignored:
            continue
        is_default = defaults is not None and name in defaults and numbers_equal(defaults[name], value)
        if not is_default:
            counts.false_positive += 1
            counts.mismatches.append(f"{where}{name}: set to {value!r}, not stated in the question")
    return counts


def _pairs(expected_n: int, actual_n: int) -> list[tuple[int | None, int | None]]:
    return [(i if i < expected_n else None, i if i < actual_n else None) for i in range(max(expected_n, actual_n))]


def _p_r_score(name: str, counts: FieldCounts, what: str) -> Score:
    precision, recall = counts.precision, counts.recall
    if precision is None and recall is None:
        return Score(
            name=name,
            value=1.0,
            explanation=f"no {what} stated and none set",
            args={"rel_tol": NUMBER_REL_TOL},
            details={"precision": None, "recall": None, **counts.model_dump(exclude={"mismatches"})},
        )
    ok = not counts.false_positive and not counts.false_negative
    return Score(
        name=name,
        value=1.0 if ok else 0.0,
        explanation="all match" if ok else "; ".join(counts.mismatches[:6]),
        args={"rel_tol": NUMBER_REL_TOL},
        details={"precision": precision, "recall": recall, **counts.model_dump()},
    )


def searched_field(case: Case) -> str | None:
    """The parameter or intervention field a sweep varies or a calibration searches: its value in
    the base scenario does not matter (`r0`, `contact_reduction.effectiveness`)."""
    if case.kind == "sweep" and case.sweep:
        return str(case.sweep.get("param"))
    if case.kind == "calibrate" and case.calibrate:
        return str(case.calibrate.get("param"))
    return None


def _answer_searched_field(case: Case, answer: Answer) -> str | None:
    """An alternative kind that sweeps or calibrates varies its own field, which its base scenario
    does not share with the primary reading."""
    if not alternative_reading(case, answer):
        return None
    if answer.kind == "sweep" and answer.sweep is not None:
        return answer.sweep.param
    if answer.kind == "calibrate" and answer.calibrate is not None:
        return answer.calibrate.param
    return None


def params_match(case: Case, answer: Answer) -> Score:
    """Field-level precision/recall of the parameters the question states, scenario by scenario."""
    if not case.scenarios:
        return _na("params_match", "the case runs nothing")
    searched = {f for f in (searched_field(case), _answer_searched_field(case, answer)) if f is not None}
    counts = FieldCounts()
    for i, j in _scenario_pairs(case, answer):
        expected = case.scenarios[i].params if i is not None else {}
        actual = answer.scenarios[j].params if j is not None else {}
        expected = {k: v for k, v in expected.items() if k not in searched}
        actual = {k: v for k, v in actual.items() if k not in searched}
        model = answer.scenarios[j].model if j is not None else case.model
        counts.add(
            _count_fields(
                expected, actual, model_defaults(model), f"scenario {i if i is not None else j}: ", RUN_CONTROL_PARAMS
            )
        )
    return _p_r_score("params_match", counts, "parameters")


def _intervention_counts(expected: list[dict[str, Any]], actual: list[dict[str, Any]], where: str) -> FieldCounts:
    counts = FieldCounts()
    unmatched = list(range(len(actual)))
    for exp in expected:
        iv_type = exp.get("type")
        j = next((k for k in unmatched if actual[k].get("type") == iv_type), None)
        fields = {k: v for k, v in exp.items() if k != "type"}
        if j is None:
            counts.false_negative += 1 + len(fields)
            counts.mismatches.append(f"{where}intervention {iv_type!r} missing")
            continue
        unmatched.remove(j)
        counts.true_positive += 1  # the type itself
        act = {k: v for k, v in actual[j].items() if k != "type"}
        counts.add(_count_fields(fields, act, intervention_defaults(str(iv_type)), f"{where}{iv_type}.", ()))
    for k in unmatched:
        iv_type = actual[k].get("type")
        act = {f: v for f, v in actual[k].items() if f != "type"}
        defaults = intervention_defaults(str(iv_type))
        extra = sum(1 for f, v in act.items() if not (f in defaults and numbers_equal(defaults[f], v)))
        counts.false_positive += 1 + extra
        counts.mismatches.append(f"{where}intervention {iv_type!r} not asked for")
    return counts


def _without_searched(
    expected: list[dict[str, Any]], actual: list[dict[str, Any]], searched: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Drop a swept intervention field; the bare intervention it belongs to may be there or not
    (the engine adds it for the sweep)."""
    from sim.target import split_path

    iv_type, field = split_path(searched) if searched is not None else (None, "")
    if iv_type is None:
        return expected, actual

    def strip(ivs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in iv.items() if not (iv.get("type") == iv_type and k == field)} for iv in ivs]

    expected, actual = strip(expected), strip(actual)
    defaults = intervention_defaults(iv_type)

    def bare(iv: dict[str, Any], stated_only: bool) -> bool:
        fields = {k: v for k, v in iv.items() if k != "type"}
        if stated_only:
            return not fields
        return all(k in defaults and numbers_equal(defaults[k], v) for k, v in fields.items())

    has_actual = any(iv.get("type") == iv_type for iv in actual)
    has_expected = any(iv.get("type") == iv_type for iv in expected)
    if not has_actual:
        expected = [iv for iv in expected if not (iv.get("type") == iv_type and bare(iv, True))]
    if not has_expected:
        actual = [iv for iv in actual if not (iv.get("type") == iv_type and bare(iv, False))]
    return expected, actual


def interventions_match(case: Case, answer: Answer) -> Score:
    """Field-level precision/recall of interventions: the type, then each stated field (timing included)."""
    if not case.scenarios:
        return _na("interventions_match", "the case runs nothing")
    searched = [f for f in (searched_field(case), _answer_searched_field(case, answer)) if f is not None]
    counts = FieldCounts()
    for i, j in _scenario_pairs(case, answer):
        expected = case.scenarios[i].interventions if i is not None else []
        actual = [iv.model_dump(mode="json") for iv in answer.scenarios[j].interventions] if j is not None else []
        for field in searched:
            expected, actual = _without_searched(expected, actual, field)
        counts.add(_intervention_counts(expected, actual, f"scenario {i if i is not None else j}: "))
    return _p_r_score("interventions_match", counts, "interventions")


def scenario_count(case: Case, answer: Answer) -> Score:
    if case.kind not in RUN_KINDS:
        return _na("scenario_count", "the case runs nothing")
    if alternative_reading(case, answer):
        return _na("scenario_count", f"an accepted {answer.kind}: the {case.kind}'s scenario count is not required")
    ok = len(answer.scenarios) == len(case.scenarios)
    return Score(
        name="scenario_count",
        value=1.0 if ok else 0.0,
        explanation=f"{len(answer.scenarios)} scenarios" + ("" if ok else f", expected {len(case.scenarios)}"),
    )


# --- sweep and calibration -----------------------------------------------------------------------


def sweep_match(case: Case, answer: Answer) -> Score:
    if case.sweep is None:
        return _na("sweep_match", "no sweep expected")
    if alternative_reading(case, answer):
        return _na("sweep_match", f"an accepted {answer.kind}: the sweep is not required")
    if answer.sweep is None:
        return Score(
            name="sweep_match", value=0.0, explanation="no sweep in the answer", args={"rel_tol": NUMBER_REL_TOL}
        )
    problems = []
    if answer.sweep.param != case.sweep["param"]:
        problems.append(f"param {answer.sweep.param!r}, expected {case.sweep['param']!r}")
    want = sorted(float(v) for v in case.sweep.get("values", []))
    got = sorted(float(v) for v in answer.sweep.values)
    if len(want) != len(got) or not all(numbers_equal(a, b) for a, b in zip(want, got, strict=True)):
        problems.append(f"values {got}, expected {want}")
    return Score(
        name="sweep_match",
        value=0.0 if problems else 1.0,
        explanation="; ".join(problems) or "param and values match",
        args={"rel_tol": NUMBER_REL_TOL},
    )


def calibrate_match(case: Case, answer: Answer) -> Score:
    if case.calibrate is None:
        return _na("calibrate_match", "no calibration expected")
    if alternative_reading(case, answer):
        return _na("calibrate_match", f"an accepted {answer.kind}: the calibration is not required")
    if answer.calibrate is None:
        return Score(
            name="calibrate_match",
            value=0.0,
            explanation="no calibration in the answer",
            args={"rel_tol": NUMBER_REL_TOL},
        )
    got = answer.calibrate.model_dump()
    problems = []
    for key, want in case.calibrate.items():
        if key == "relation" or not isinstance(want, int | float):
            if got.get(key) != want:
                problems.append(f"{key} {got.get(key)!r}, expected {want!r}")
        elif not numbers_equal(want, got.get(key)):
            problems.append(f"{key} {got.get(key)!r}, expected {want!r}")
    if "relation" not in case.calibrate and got.get("relation") != "eq":
        problems.append(f"relation {got.get('relation')!r}, expected 'eq'")
    return Score(
        name="calibrate_match",
        value=0.0 if problems else 1.0,
        explanation="; ".join(problems) or "param, metric, target and relation match",
        args={"rel_tol": NUMBER_REL_TOL},
    )


# --- clarify / refuse / explain ------------------------------------------------------------------


def mentions_present(case: Case, answer: Answer) -> Score:
    """The words a clarify/refuse message must contain ('a|b' accepts either), case-insensitive."""
    if not case.mentions:
        return _na("mentions_present", "no mentions expected")
    text = " ".join([answer.text, *answer.notes]).lower()
    missing = [m for m in case.mentions if not any(alt.strip().lower() in text for alt in m.split("|"))]
    found = len(case.mentions) - len(missing)
    return Score(
        name="mentions_present",
        value=found / len(case.mentions),
        explanation="all mentioned" if not missing else f"missing {missing}",
    )


def _normalise_source(source: str) -> tuple[str, str]:
    path, _, anchor = source.partition("#")
    return path.strip().lstrip("./"), anchor.strip().lower().replace("_", "-").replace(" ", "-")


def citation_present(cite: str, sources: Sequence[str]) -> bool:
    """`docs/models/seir.md` is met by any section of that file; `...#parameters` by that section
    (or a sub-section whose anchor starts with it)."""
    want_path, want_anchor = _normalise_source(cite)
    for source in sources:
        path, anchor = _normalise_source(source)
        if path.endswith(want_path) and (
            not want_anchor or anchor == want_anchor or anchor.startswith(want_anchor + "-")
        ):
            return True
    return False


def citations_correct(case: Case, answer: Answer) -> Score:
    if not case.cite:
        return _na("citations_correct", "no citations expected")
    sources = [c.source for c in answer.citations]
    missing = [c for c in case.cite if not any(citation_present(alt, sources) for alt in c.split("|"))]
    return Score(
        name="citations_correct",
        value=(len(case.cite) - len(missing)) / len(case.cite),
        explanation="all cited" if not missing else f"missing {missing}; cited {sources}",
    )


# --- answer correctness and grounding ------------------------------------------------------------


def label_keys(case: Case) -> list[str]:
    """The keys of `case.labels`, in scenario order (compare: the first is the baseline)."""
    if case.kind == "calibrate":
        return ["calibration"]
    if case.kind == "sweep" and case.sweep is not None:
        return [f"{case.sweep['param']}={format_value(v)}" for v in case.sweep["values"]]
    keys = []
    for i, scenario in enumerate(case.scenarios):
        keys.append(scenario.label or ("baseline" if i == 0 else f"scenario_{i + 1}"))
    return keys


def format_value(value: float) -> str:
    """As the engine labels sweep results (`r0=1.5`, `couriers=20`)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def within(label: MetricLabel, value: float) -> bool:
    return math.isclose(value, label.value, rel_tol=label.rel_tol, abs_tol=label.abs_tol)


def _actual_metrics(case: Case, answer: Answer) -> dict[str, dict[str, float]]:
    """The answer's metrics keyed like `case.labels`: by position, or by sweep label."""
    out: dict[str, dict[str, float]] = {}
    if case.kind == "calibrate":
        if answer.calibration is not None and answer.calibrate is not None:
            out["calibration"] = {
                "value": answer.calibration.value,
                answer.calibrate.metric: answer.calibration.achieved,
            }
        return out
    keys = label_keys(case)
    results = answer.results
    by_label = {r.label: r for r in results}
    for i, key in enumerate(keys):
        result = by_label.get(key) if case.kind == "sweep" else None
        if result is None and i < len(results):
            result = results[i]
        if result is None:
            continue
        out[key] = {m: float(v) for m, v in result.metrics.items() if isinstance(v, int | float)}
    return out


def _calibration_ok(case: Case, metric: str, label: MetricLabel, got: float) -> bool:
    """A calibrated metric is right when it matches the label, or meets the relation at least as
    closely as the label does (search bounds and steps differ between runs of the search)."""
    if within(label, got) or case.calibrate is None or metric != case.calibrate.get("metric"):
        return within(label, got)
    target = float(case.calibrate["target"])
    relation = case.calibrate.get("relation", "eq")
    slack = label.abs_tol + label.rel_tol * abs(target)
    meets = {"le": got <= target + slack, "ge": got >= target - slack}.get(relation, True)
    return meets and abs(got - target) <= abs(label.value - target) + slack


def answer_correctness(case: Case, answer: Answer) -> Score:
    """Share of labelled metric values that the answer's results reproduce within the label's tolerance."""
    if not case.labels:
        return _na("answer_correctness", "no labels (run `simqa eval relabel`)")
    labels = case.labels
    if alternative_reading(case, answer):
        # only the primary's last scenario is shared, and only a simulate or compare has its labels
        single = ("simulate", "compare")
        last = label_keys(case)[-1]
        if case.kind not in single or answer.kind not in single or not answer.results or last not in labels:
            return _na("answer_correctness", f"an accepted {answer.kind}: no label of the {case.kind} to compare")
        labels = {last: labels[last]}
        actual = {last: {m: float(v) for m, v in answer.results[-1].metrics.items() if isinstance(v, int | float)}}
    else:
        actual = _actual_metrics(case, answer)
    total = ok = 0
    problems = []
    for key, metrics in labels.items():
        for metric, label in metrics.items():
            total += 1
            got = actual.get(key, {}).get(metric)
            if got is not None and (
                _calibration_ok(case, metric, label, got) if key == "calibration" else within(label, got)
            ):
                ok += 1
            else:
                shown = "missing" if got is None else f"{got:.4g}"
                problems.append(f"{key}.{metric}: expected {label.value:.4g}, got {shown}")
    return Score(
        name="answer_correctness",
        value=ok / total if total else None,
        explanation="all within tolerance" if not problems else "; ".join(problems[:5]),
        details={"checked": total, "within": ok},
    )


def grounding(case: Case, answer: Answer) -> Score:
    """Share of numbers in the answer text traced to the answer's results, inputs or question, by the
    rule the assistant enforces on an LLM-written text (`simqa.compose.ungrounded_numbers`)."""
    from simqa.compose import ungrounded_numbers

    if not answer.results:
        return _na("grounding", "the answer ran nothing")
    numbers = extract_numbers(answer.text)
    if not numbers:
        return _na("grounding", "the text states no numbers")
    untraced = ungrounded_numbers(answer)
    traced = len(numbers) - len(untraced)
    return Score(
        name="grounding",
        value=traced / len(numbers),
        explanation=f"{traced}/{len(numbers)} numbers traced" + (f"; untraced: {untraced[:8]}" if untraced else ""),
        details={"numbers": len(numbers), "traced": traced, "untraced": untraced},
    )


# --- the verdict -------------------------------------------------------------------------------------

# The checks that decide whether a case is correct: what the translation got right.
CORRECTNESS_CHECKS: tuple[Scorer, ...] = (
    kind_accuracy,
    model_accuracy,
    scenario_count,
    params_match,
    interventions_match,
    sweep_match,
    calibrate_match,
    mentions_present,
    citations_correct,
)


def case_correct(case: Case, answer: Answer) -> Score:
    """1 when every applicable check passes: kind, model, scenarios, parameters, interventions,
    sweep, calibration, and for clarify/refuse/explain the mentions and citations."""
    failed = []
    for check in CORRECTNESS_CHECKS:
        score = check(case, answer)
        if score.passed is False:
            failed.append(f"{score.name}: {score.explanation}")
    return Score(
        name="case_correct",
        value=0.0 if failed else 1.0,
        explanation="all checks pass" if not failed else " | ".join(failed),
        args={"checks": [c.__name__ for c in CORRECTNESS_CHECKS]},
    )


CASE_SCORERS: tuple[Scorer, ...] = (
    case_correct,
    *CORRECTNESS_CHECKS,
    answer_correctness,
    grounding,
)


def score_answer(case: Case, answer: Answer, scorers: Sequence[Scorer] = CASE_SCORERS) -> list[Score]:
    """Every scorer on one answer; a scorer that crashes gives value None and says why."""
    scores = []
    for scorer in scorers:
        try:
            scores.append(scorer(case, answer))
        except Exception as exc:
            scores.append(_na(scorer.__name__, f"scorer error: {type(exc).__name__}: {exc}"))
    return scores


def failed_scores(scorers: Sequence[Scorer], error: str) -> list[Score]:
    """The scores of a case whose answer never came: every check that would have applied fails."""
    return [Score(name=s.__name__, value=0.0, explanation=f"no answer: {error}") for s in scorers]


# --- aggregate scorers ------------------------------------------------------------------------------


class Outcome(BaseModel):
    """What an aggregate scorer sees of one case run."""

    case_id: str
    kind: str
    accepted_kinds: list[str]
    model: str | None
    answer_kind: str | None
    signature: str | None
    timings_ms: dict[str, float] = Field(default_factory=dict)
    usage: dict[str, int] = Field(default_factory=dict)
    translator: str | None = None


def _precision_recall(outcomes: Sequence[Outcome], kind: str) -> dict[str, float | int | None]:
    """Precision: of the answers of this kind, how many were acceptable; recall: of the cases whose
    expected kind it is, how many were answered with an acceptable kind."""
    predicted = [o for o in outcomes if o.answer_kind == kind]
    expected = [o for o in outcomes if o.kind == kind]
    tp_pred = sum(1 for o in predicted if kind in o.accepted_kinds)
    tp_exp = sum(1 for o in expected if o.answer_kind in o.accepted_kinds)
    return {
        f"{kind}_precision": tp_pred / len(predicted) if predicted else None,
        f"{kind}_recall": tp_exp / len(expected) if expected else None,
        f"{kind}_predicted": len(predicted),
        f"{kind}_expected": len(expected),
    }


def refusal_metrics(outcomes: Sequence[Outcome]) -> dict[str, float | int | None]:
    """Refusal and clarification precision and recall over a run."""
    return {**_precision_recall(outcomes, "refuse"), **_precision_recall(outcomes, "clarify")}


def consistency(outcomes: Sequence[Outcome]) -> dict[str, float | int | None]:
    """Share of cases run more than once whose repeats all gave the same request."""
    by_case: dict[str, list[str | None]] = {}
    for o in outcomes:
        by_case.setdefault(o.case_id, []).append(o.signature)
    repeated = {k: v for k, v in by_case.items() if len(v) > 1}
    if not repeated:
        return {"consistency": None, "consistency_cases": 0}
    agree = sum(1 for sigs in repeated.values() if len(set(sigs)) == 1 and sigs[0] is not None)
    return {"consistency": agree / len(repeated), "consistency_cases": len(repeated)}


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None


def latency(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float | None]]:
    """p50 / p95 of each stage in `answer.timings_ms`, and of their total."""
    stages: dict[str, list[float]] = {}
    for o in outcomes:
        if not o.timings_ms:
            continue
        for stage, ms in o.timings_ms.items():
            stages.setdefault(stage, []).append(float(ms))
        stages.setdefault("total", []).append(float(sum(o.timings_ms.values())))
    return {stage: {"p50": percentile(v, 50), "p95": percentile(v, 95), "n": len(v)} for stage, v in stages.items()}


def usage_and_cost(outcomes: Sequence[Outcome], prices: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
    """Token totals; cost when a price table gives per-million-token prices for the translator's model.

    `prices`: {"gpt-4o-mini": {"prompt_per_million": 0.15, "completion_per_million": 0.6}}; keys
    match the translator (`llm:gpt-4o-mini`) with or without the `llm:` prefix.
    """
    prompt = sum(int(o.usage.get("prompt_tokens", 0)) for o in outcomes)
    completion = sum(int(o.usage.get("completion_tokens", 0)) for o in outcomes)
    out: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion, "cost": None}
    if prices:
        cost = 0.0
        unpriced = set()
        for o in outcomes:
            tokens = int(o.usage.get("prompt_tokens", 0)) + int(o.usage.get("completion_tokens", 0))
            if not tokens:
                continue
            name = (o.translator or "").removeprefix("llm:")
            price = prices.get(o.translator or "") or prices.get(name)
            if price is None:
                unpriced.add(name)
                continue
            cost += int(o.usage.get("prompt_tokens", 0)) * float(price.get("prompt_per_million", 0)) / 1e6
            cost += int(o.usage.get("completion_tokens", 0)) * float(price.get("completion_per_million", 0)) / 1e6
        out["cost"] = cost
        if unpriced:
            out["unpriced_models"] = sorted(unpriced)
    return out


def retrieval(path: str | None = None) -> dict[str, Any]:
    """Retrieval recall@k and MRR from `rag.evaluate_retrieval`; a failure is reported, not raised."""
    from rag import evaluate_retrieval

    try:
        report = evaluate_retrieval(path) if path is not None else evaluate_retrieval()
    except Exception as exc:  # a broken index must not lose the rest of the eval's report
        return {"skipped": f"rag.evaluate_retrieval failed: {type(exc).__name__}: {exc}"}
    data = report.model_dump(mode="json") if isinstance(report, BaseModel) else report
    if not isinstance(data, dict):
        return {"result": data}
    out = dict(data)
    # Flatten per-mode scores ({"scores": {"fused": {"recall_at_k": .., "mrr": ..}}}) for tables and compare.
    scores = data.get("scores")
    if isinstance(scores, dict):
        for mode, row in scores.items():
            if isinstance(row, dict):
                for key in ("recall_at_k", "mrr"):
                    if isinstance(row.get(key), int | float):
                        out[f"{mode}_{key}"] = float(row[key])
        headline = scores.get("fused") or next(iter(scores.values()), None)
        if isinstance(headline, dict):
            out["recall_at_k"] = headline.get("recall_at_k")
            out["mrr"] = headline.get("mrr")
    return out
