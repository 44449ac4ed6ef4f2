"""The LLM translator: question + retrieved context -> a validated, grounded `Request`.

The model fills a JSON object whose schema (`request_schema`) mirrors `Request`, with every
scenario parameter and intervention field present and nullable (null = the documented default),
so it is accepted by OpenAI strict mode. The reply is data: parsed as JSON, validated by `sim`
(names, bounds, supported interventions, resource caps) and grounded (`simqa.grounding`: every
value must be stated in the conversation or be a default). On an error the error text goes back
to the model, at most `MAX_CORRECTIONS` times; then an `LLMError` (the assistant falls back to
the offline translator under `auto`). A value the user stated that breaks a bound becomes a
`clarify` naming the bound, never a run. Nothing the model writes is executed.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from prompts.loader import load
from sim.caps import check_work
from sim.errors import CapExceeded, ScenarioError
from sim.interventions import INTERVENTION_TYPES
from sim.registry import ModelSpec, get_model, model_names
from sim.runner import prepare
from sim.scenario import Scenario, describe_allowed, resolve
from sim.target import Target, split_path
from simqa.errors import LLMError
from simqa.grounding import (
    UngroundedValue,
    conversation_text,
    drop_ungrounded,
    gather_evidence,
    grounding_feedback,
    ungrounded_values,
)
from simqa.llm_client import LLMClient, LLMConfig, parse_json_object
from simqa.request import Request
from simqa.translators.base import Translation, TranslationContext, Translator

MAX_CORRECTIONS = 2  # error texts sent back before giving up
MAX_REPLY_TOKENS = 400  # a request is under 200 tokens; a model that loops stops here
MAX_ANSWER_TOKENS = 250  # the written answer: about 120 words
MAX_DOC_CHARS = 600  # retrieved documentation in the prompt (the models' declarations carry the rest)
MAX_EXAMPLES = 4
KINDS = ("simulate", "compare", "sweep", "calibrate", "explain", "clarify", "refuse")
SCHEMA_NAME = "simqa_request"


@dataclass(frozen=True)
class _Correction:
    """What was wrong with a reply, to send back to the model."""

    error: str
    about_grounding: bool = False


class LLMTranslator(Translator):
    name = "llm"

    def __init__(
        self,
        config: LLMConfig | None = None,
        *,
        client: LLMClient | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        if client is None:
            if config is None:
                from simqa.settings import Settings

                config = Settings.from_env().llm
            client = LLMClient(config, cache_dir=cache_dir)
        self.client = client

    @property
    def label(self) -> str:
        return f"llm:{self.client.config.model}"

    # ------------------------------------------------------------------ translate

    def translate(self, question: str, context: TranslationContext) -> Translation:
        try:
            return self._translate(question, context)
        except LLMError:
            raise
        except Exception as exc:  # a reply of a shape nothing above foresaw: never a traceback
            raise LLMError(
                f"the LLM's reply could not be read ({type(exc).__name__}: {' '.join(str(exc).split())[:160]})"
            ) from None

    def _translate(self, question: str, context: TranslationContext) -> Translation:
        models = route(question, context, _loadable_models())
        schema = request_schema(tuple(models))
        loose = request_schema(tuple(models), strict=False)
        messages = build_messages(question, context, models)
        budget = context.budget if context.budget is not None else self.client.budget()
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        grounding_sent = False
        error = ""
        for attempt in range(MAX_CORRECTIONS + 1):
            reply = self.client.chat(
                messages,
                schema=schema,
                loose_schema=loose,
                schema_name=SCHEMA_NAME,
                budget=budget,
                max_tokens=MAX_REPLY_TOKENS,
            )
            for key in usage:
                usage[key] += reply.usage.get(key, 0)
            may_send_grounding = not grounding_sent and attempt < MAX_CORRECTIONS
            verdict = self._judge(reply.content, reply.refusal, question, context, may_send_grounding)
            if not isinstance(verdict, _Correction):
                request, notes = verdict
                return Translation(request=request, translator=self.label, usage=usage, notes=notes)
            grounding_sent = grounding_sent or verdict.about_grounding
            error = verdict.error
            messages = [
                *messages,
                {"role": "assistant", "content": reply.content},
                {"role": "user", "content": correction(error)},
            ]
        raise LLMError(
            f"the LLM's reply did not validate after {MAX_CORRECTIONS} corrections (last error: {error[:300]})"
        )

    def _judge(
        self,
        content: str,
        refusal: str | None,
        question: str,
        context: TranslationContext,
        may_send_grounding: bool,
    ) -> tuple[Request, list[str]] | _Correction:
        """The final request (with notes) a reply gives, or the correction to send back."""
        if refusal:
            return Request(kind="refuse", message=refusal[:2000]), []
        ungrounded: list[UngroundedValue] = []
        repairs: list[str] = []
        try:
            request = parse_reply(content, gather_evidence(question, context.history).stated, repairs)
            ungrounded = ungrounded_values(request, question, context.history)
            check_caps(request)
        except CapExceeded as exc:
            if not ungrounded:  # the user's own numbers ask too much: say so, run nothing
                return Request(kind="refuse", model=request.model, message=f"This is too large to run: {exc}"), []
            return _Correction(f"{exc}; and {grounding_feedback(ungrounded)}", about_grounding=True)
        except ScenarioError as exc:
            answer = _out_of_bounds_answer(exc, question, context)
            return (answer, []) if answer is not None else _Correction(str(exc))
        except ValueError as exc:  # malformed JSON, a request of the wrong shape
            return _Correction(str(exc))
        request, iv_notes = drop_unnamed_interventions(request, question, context.history)
        iv_notes = repairs + iv_notes
        if not ungrounded:
            return request, iv_notes
        ungrounded = (
            ungrounded_values(request, question, context.history) if len(iv_notes) > len(repairs) else ungrounded
        )
        if not ungrounded:
            return request, iv_notes
        if may_send_grounding:
            return _Correction(grounding_feedback(ungrounded), about_grounding=True)
        settled, notes = self._settle_ungrounded(request, ungrounded)
        return settled, iv_notes + notes

    def _settle_ungrounded(self, request: Request, ungrounded: list[UngroundedValue]) -> tuple[Request, list[str]]:
        """Values still ungrounded after feedback: defaults where there are some, a question where not."""
        target = next((u for u in ungrounded if u.location == "calibrate.target"), None)
        if target is not None:
            return (
                Request(
                    kind="clarify",
                    model=request.model,
                    message=f"Which value of {target.field} should the calibration aim for? "
                    "The question does not state a target.",
                ),
                [f"the LLM set a calibration target of {target.value:g} that the question does not state"],
            )
        grounded, notes = drop_ungrounded(request, ungrounded)
        notes += [
            f"the sweep values of {u.field} were chosen by the LLM, not stated in the question"
            for u in ungrounded
            if u.location == "sweep.values"
        ]
        try:
            check_request(grounded)
            check_caps(grounded)
        except ScenarioError as exc:
            raise LLMError(
                f"the LLM set values the question does not state, and their defaults do not fit: {exc}"
            ) from None
        return grounded, notes

    # ------------------------------------------------------------------ answer text

    def compose(self, question: str, request: Request, outcome: Any, budget: Any = None) -> str:
        """An answer written by the LLM from the results (the caller checks its numbers are grounded).

        budget: the answer's LLM budget, shared with the translation (a fresh one when None).
        """
        scenario = request.model_dump(mode="json", include={"kind", "model", "scenarios", "sweep", "calibrate"})
        results: dict[str, Any] = {
            "results": [
                {"label": r.label, "metrics": r.metrics, "ci": r.ci, "run_id": r.run_id}
                for r in getattr(outcome, "results", [])
            ],
        }
        differences = getattr(outcome, "differences", None)
        if differences:
            results["differences"] = [d.model_dump(mode="json") for d in differences]
        calibration = getattr(outcome, "calibration", None)
        if calibration is not None:
            results["calibration"] = calibration.model_dump(mode="json", exclude={"results"})
        prompt = load("compose").render(
            question=wrap_text(question),
            scenario=wrap_text(json.dumps(scenario, indent=1)),
            results=wrap_text(json.dumps(results, indent=1)),
        )
        reply = self.client.chat(
            [{"role": "system", "content": prompt}, {"role": "user", "content": question}],
            budget=budget,
            max_tokens=MAX_ANSWER_TOKENS,
        )
        text = reply.content.strip()
        if not text:
            raise LLMError("the LLM wrote an empty answer")
        return text


# ---------------------------------------------------------------------- interventions the question names


_GENERIC_TYPE_WORDS = frozenset({"closure", "reduction", "restriction", "case", "cases"})


def _type_words(iv_type: str) -> str:
    """An intervention type -> a pattern for the stems of its name's distinctive words, the loosest naming."""
    words = [w for w in iv_type.split("_") if len(w) > 3 and w not in _GENERIC_TYPE_WORDS]
    stems = [word[:6] if len(word) > 6 else word for word in words]
    return "|".join(rf"\b{re.escape(stem)}\w*" for stem in stems)


@lru_cache(maxsize=1)
def _intervention_cues() -> dict[str, tuple[re.Pattern[str], tuple[frozenset[str], ...]]]:
    """For each intervention type: the stems of its own name's distinctive words, and the word
    stems of each phrase the models declare for it (`ModelSpec.language`, `sim.interventions`)."""
    phrases: dict[str, list[str]] = {t: [] for t in INTERVENTION_TYPES}
    try:
        from sim.interventions import INTERVENTION_LANGUAGE

        for iv_type, entry in INTERVENTION_LANGUAGE.items():
            phrases.setdefault(iv_type, []).extend(entry.phrases)
    except ImportError:  # an engine without declared intervention language: the type's own words remain
        pass
    for name in _loadable_models():
        language = getattr(get_model(name), "language", None)
        for iv_type, entry in (getattr(language, "interventions", None) or {}).items():
            phrases.setdefault(iv_type, []).extend(getattr(entry, "phrases", ()))
    cues = {}
    for iv_type in INTERVENTION_TYPES:
        own = re.compile(_type_words(iv_type) or r"(?!)", re.IGNORECASE)
        cues[iv_type] = (own, tuple(frozenset(_stems(p)) for p in phrases.get(iv_type, ()) if _stems(p)))
    return cues


def named_interventions(question: str, history: Sequence[Any] = ()) -> set[str]:
    """The intervention types the conversation names: in its words, or in an earlier request.

    A declared phrase names its intervention when each of its words (by stem) is in the text.
    """
    text = conversation_text(question, history)
    words = _stems(text)
    named = {
        t for t, (own, phrases) in _intervention_cues().items() if own.search(text) or any(p <= words for p in phrases)
    }
    for turn in history:
        named |= {iv.type for s in turn.request.scenarios for iv in s.interventions}
    return named


def drop_unnamed_interventions(
    request: Request, question: str, history: Sequence[Any] = ()
) -> tuple[Request, list[str]]:
    """`request` without the interventions the conversation never names, with one note per type dropped.

    An intervention a sweep or a calibration searches over stays (it is named by that). Scenarios
    that become copies of an earlier one go; a compare left with one scenario becomes a simulate.
    """
    if not any(s.interventions for s in request.scenarios):
        return request, []
    named = named_interventions(question, history)
    for spec in (request.sweep, request.calibrate):
        iv_type, _ = split_path(getattr(spec, "param", "") or "")
        if iv_type is not None:
            named.add(iv_type)
    dropped: list[str] = []
    scenarios: list[dict[str, Any]] = []
    for scenario in request.scenarios:
        data = scenario.model_dump(mode="python", exclude_unset=False)
        kept = []
        for iv in scenario.interventions:
            if iv.type in named:
                kept.append(iv.model_dump(mode="python", include=iv.model_fields_set | {"type"}))
            elif iv.type not in dropped:
                dropped.append(iv.type)
        data["interventions"] = kept
        if any(_same_scenario(data, earlier) for earlier in scenarios):
            continue
        scenarios.append(data)
    if not dropped:
        return request, []
    update: dict[str, Any] = {"scenarios": scenarios}
    if request.kind == "compare" and len(scenarios) < 2:
        update["kind"] = "simulate"
    result = Request.model_validate({**request.model_dump(mode="python", exclude={"scenarios"}), **update})
    notes = [
        f"the LLM added a {iv_type} intervention the question does not name; it was dropped" for iv_type in dropped
    ]
    return result, notes


def _same_scenario(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return a["model"] == b["model"] and a["params"] == b["params"] and a["interventions"] == b["interventions"]


# ---------------------------------------------------------------------- parsing and validation


def parse_reply(content: str, stated: set[float] | None = None, notes: list[str] | None = None) -> Request:
    """A validated `Request` from the model's JSON reply (nulls mean defaults).

    stated: the values the conversation states. When given, two slips small models make are
      repaired instead of sent back, each with a note in `notes`: a value out of bounds that the
      conversation does not state goes back to its default (it was invented anyway), and a kind
      that does not fit the scenarios is read from them (`repair_kind`).
    Raises ScenarioError for a scenario that cannot run (naming the field and bound), ValueError
    for anything else wrong with the reply.
    """
    data = parse_json_object(content)
    if stated is not None:
        notes = notes if notes is not None else []
        _repair_shape(data, notes)
    data.pop("notes", None)  # notes are simqa's to write, never the model's
    for key in ("model", "sweep", "calibrate", "message"):
        if data.get(key, 0) is None:
            data.pop(key)
    scenarios = data.get("scenarios") or []
    if not isinstance(scenarios, list):
        raise ValueError("scenarios must be a list of scenario objects")
    cleaned = []
    for i, scenario in enumerate(scenarios):
        if not isinstance(scenario, dict):
            raise ValueError(f"scenarios[{i}] must be an object with label, model, params, interventions")
        scenario = _without_nulls(scenario)
        if "model" not in scenario and isinstance(data.get("model"), str):
            scenario["model"] = data["model"]  # the request names the model once; the scenario left it null
        if scenario.get("label") is None:
            scenario["label"] = "baseline" if i == 0 else f"scenario {i + 1}"
        for _ in range(MAX_REPAIRS + 1):
            try:
                resolve(scenario)
                break
            except ScenarioError as exc:
                if stated is None or notes is None or not _drop_invented(scenario, exc, stated, notes, i):
                    raise ScenarioError(
                        f"scenarios[{i}]: {exc}", field=exc.field, value=exc.value, allowed=exc.allowed
                    ) from None
        cleaned.append(scenario)
    data["scenarios"] = cleaned
    if isinstance(data.get("calibrate"), dict):
        data["calibrate"] = {k: v for k, v in data["calibrate"].items() if v is not None}
    try:
        request = Request.model_validate(data)
    except ValidationError as exc:
        raise ValueError(_short(exc)) from None
    check_request(request)
    return request


MAX_REPAIRS = 8  # invented out-of-bounds values dropped from one scenario before it is sent back


def _is_stated(value: Any, stated: set[float]) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return any(abs(float(value) - s) <= 1e-9 * max(1.0, abs(s)) for s in stated)


def _drop_invented(scenario: dict[str, Any], exc: ScenarioError, stated: set[float], notes: list[str], i: int) -> bool:
    """Drop the number `exc` names when it breaks a bound of a known field and the conversation does
    not state it; False when it cannot (unknown names and values of the wrong type are sent back)."""
    value = exc.value
    if exc.field is None or isinstance(value, bool) or not isinstance(value, int | float) or _is_stated(value, stated):
        return False
    params_field = re.fullmatch(r"params\.(\w+)", exc.field)
    iv_field = re.fullmatch(r"interventions\[(\d+)\]\.\w+\.(\w+)", exc.field)
    if params_field:
        name = params_field.group(1)
        try:
            known = name in get_model(str(scenario.get("model"))).params.model_fields
        except ScenarioError:
            known = False
        if not known or not isinstance(scenario.get("params"), dict) or name not in scenario["params"]:
            return False
        scenario["params"].pop(name)
    elif iv_field and isinstance(scenario.get("interventions"), list):
        j, name = int(iv_field.group(1)), iv_field.group(2)
        ivs = scenario["interventions"]
        if j >= len(ivs) or not isinstance(ivs[j], dict) or name not in ivs[j]:
            return False
        ivs[j].pop(name)
    else:
        return False
    notes.append(
        f"the LLM set scenarios[{i}].{exc.field} = {exc.value!r}, out of bounds and not stated in the question; "
        "the default was used"
    )
    return True


def _repair_shape(data: dict[str, Any], notes: list[str]) -> None:
    """Read the kind from the scenarios where the LLM's kind does not fit them (see `parse_reply`)."""
    kind = data.get("kind")
    scenarios = data.get("scenarios")
    n = len(scenarios) if isinstance(scenarios, list) else 0
    fixed = kind
    if kind in ("explain", "clarify", "refuse") and n:
        if data.get("message"):
            data["scenarios"] = []  # the message is the answer: nothing to run
            notes.append(f"the LLM's {kind} came with scenarios to run; they were left out")
            return
        fixed = "simulate" if n == 1 else "compare"
    elif kind == "compare" and n == 1:
        fixed = "simulate"
    elif kind == "simulate" and n > 1:
        fixed = "compare"
    elif (kind == "sweep" and not isinstance(data.get("sweep"), dict) and n) or (
        kind == "calibrate" and not isinstance(data.get("calibrate"), dict) and n
    ):
        fixed = "simulate" if n == 1 else "compare"
    if fixed != kind:
        data["kind"] = fixed
        notes.append(f"the LLM's kind {kind!r} did not fit its {n} scenario(s); read as {fixed!r}")


def check_request(request: Request) -> None:
    """Everything `sim` would reject before running, raised now as a ScenarioError (caps: `check_caps`)."""
    labels = [s.label for s in request.scenarios]
    if request.kind == "compare" and len(set(labels)) != len(labels):
        raise ScenarioError(f"scenario labels must be distinct, got {labels}", field="scenarios.label")
    for scenario in request.scenarios:
        resolve(scenario)
    if request.sweep is not None:
        _check_sweep(request.scenarios[0], request.sweep.param, request.sweep.values)
    if request.calibrate is not None:
        _check_calibrate(request.scenarios[0], request)


def check_caps(request: Request) -> None:
    """CapExceeded when the request's work is over the resource cap (a sweep counts each value)."""
    work = 0.0
    for scenario in request.scenarios:
        resolved = prepare(scenario)
        work += resolved.spec.work_units(resolved.params)
    if request.sweep is not None:
        work *= len(request.sweep.values)
    check_work(work, "this request")


def _check_sweep(scenario: Scenario, param: str, values: Sequence[float]) -> None:
    target = Target.parse(param, scenario.model, "sweep")
    for value in values:
        resolve(target.apply(scenario, value))


def _check_calibrate(scenario: Scenario, request: Request) -> None:
    assert request.calibrate is not None
    cal = request.calibrate
    spec = get_model(scenario.model)
    target = Target.parse(cal.param, spec, "calibrate")
    if not target.numeric:
        raise ScenarioError(
            f"calibrate.param {cal.param!r} is not a number ({target.allowed()}): calibrate a numeric parameter "
            "or intervention field",
            field="calibrate.param",
            value=cal.param,
        )
    if cal.metric not in spec.metrics:
        raise ScenarioError(
            f"calibrate.metric {cal.metric!r} is not a metric of {spec.name}; allowed: {', '.join(spec.metrics)}",
            field="calibrate.metric",
            value=cal.metric,
        )
    for bound in (cal.lower, cal.upper):
        if bound is not None:
            resolve(target.apply(scenario, bound))


def _out_of_bounds_answer(exc: ScenarioError, question: str, context: TranslationContext) -> Request | None:
    """A clarify (bound) or refuse (cap) when the value that broke it is the user's own, else None."""
    evidence = gather_evidence(question, context.history)
    value = exc.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not any(abs(float(value) - s) <= 1e-9 * max(1.0, abs(s)) for s in evidence.stated):
        return None
    name = (exc.field or "value").split(".")[-1]
    bound = f" (allowed: {exc.allowed})" if exc.allowed else ""
    return Request(
        kind="clarify",
        message=f"{name} = {value:g} is outside the range the model accepts{bound}. "
        f"Which value of {name} within that range should I use?",
    )


def correction(error: str) -> str:
    return (
        f"Your reply could not be used: {error}\n"
        "Reply again with the whole corrected JSON object, following the rules of the first message."
    )


def _without_nulls(scenario: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in scenario.items() if v is not None}
    if isinstance(out.get("params"), dict):
        out["params"] = {k: v for k, v in out["params"].items() if v is not None}
    if isinstance(out.get("interventions"), list):
        out["interventions"] = [
            {k: v for k, v in iv.items() if v is not None} if isinstance(iv, dict) else iv
            for iv in out["interventions"]
        ]
    return out


def _short(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "request"
        parts.append(f"{where}: {err['msg']}")
    more = f" (and {exc.error_count() - limit} more)" if exc.error_count() > limit else ""
    return "; ".join(parts) + more


# ---------------------------------------------------------------------- the prompt


def _loadable_models() -> list[str]:
    """Registered models whose spec loads (a broken plugin must not take the translator down)."""
    names = []
    for name in model_names():
        try:
            get_model(name)
        except Exception:
            continue
        names.append(name)
    return names


# A small local model gets about 2,000 prompt tokens in all, the reply schema included: the prompt
# describes only the models the question routes to (a short menu when routing is unsure), from what
# each model declares, with a few retrieved worked examples and no more documentation than this.
MAX_MENU = 3  # models described when routing is unsure
MAX_PROMPT_EXAMPLES = 3
MAX_EXAMPLE_CHARS = 420
_GENERIC_WORDS = frozenset(
    [
        "days",
        "day",
        "per",
        "hour",
        "hours",
        "rate",
        "rates",
        "minutes",
        "minute",
        "size",
        "weight",
        "fraction",
        "delay",
        "mean",
        "initial",
        "seed",
        "replicates",
        "total",
        "model",
        "models",
        "number",
        "share",
        "time",
        "people",
    ]
)
# Stems of words that name nothing (a declared phrase such as "the <name> one" holds some).
_STOP_STEMS = frozenset(
    {
        *[
            "the",
            "and",
            "with",
            "how",
            "many",
            "get",
            "are",
            "will",
            "run",
            "what",
            "for",
            "from",
            "per",
            "day",
            "days",
            "after",
            "start",
            "when",
            "who",
            "which",
        ],
        *[
            "this",
            "that",
            "one",
            "all",
            "any",
            "its",
            "our",
            "was",
            "were",
            "has",
            "have",
            "had",
            "can",
            "could",
            "would",
            "should",
            "not",
            "out",
            "into",
            "over",
        ],
        *["under", "more", "less", "much", "some", "than", "then", "them", "they", "there", "simul", "model"],
    }
)


def _stems(text: str) -> set[str]:
    words = re.findall(r"[a-z][a-z0-9]+", text.lower().replace("_", " "))
    stems = {w[:5] for w in words if len(w) > 2 or any(ch.isdigit() for ch in w)}
    return stems - _STOP_STEMS


@lru_cache(maxsize=32)
def _model_cues(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(stems that name the model or its domain, stems of its parameters, metrics and interventions)."""
    spec = get_model(name)
    own = {name[:5]}
    domain: set[str] = set()
    language = getattr(spec, "language", None)
    if language is not None:
        for phrase in getattr(language, "names", ()):
            own |= _stems(phrase)
        for phrase in getattr(language, "words", ()):
            domain |= _stems(phrase)
        for group in ("params", "metrics", "interventions"):
            for entry in (getattr(language, group, None) or {}).values():
                for phrase in getattr(entry, "phrases", ()):
                    domain |= _stems(phrase)
    words = [*spec.params.model_fields, *spec.metrics, *spec.interventions]
    for word in words:
        domain |= {
            w[:5] for w in word.split("_") if (len(w) > 3 or any(c.isdigit() for c in w)) and w not in _GENERIC_WORDS
        }
    return frozenset(own), frozenset(domain - own)


def route(question: str, context: TranslationContext, models: Sequence[str]) -> list[str]:
    """The model the question goes to, or a short menu (best first) when the words do not decide.

    Scores: a word naming the model 3, a word of its domain, parameters, metrics or interventions
    1, the model of the conversation's last run 3; ties go to the model its family ranks first.
    """
    words = _stems(conversation_text(question, context.history[-1:]))
    previous = context.previous.model if context.previous is not None else None
    shared = frozenset().union(*(_model_cues(n)[1] for n in models)) if models else frozenset()
    scores: dict[str, float] = {}
    for name in models:
        own, domain = _model_cues(name)
        own = own - shared  # a name's word that is also some model's parameter word routes no more than that
        score = 3.0 * len(words & own) + len(words & domain)
        score += 3.0 if name == previous else 0.0
        scores[name] = score
    # ties: the declared rank, then the simpler model (fewer parameters) first
    ranked = sorted(models, key=lambda n: (-scores[n], _rank(n), len(get_model(n).params.model_fields), n))
    if not ranked or scores[ranked[0]] <= 0:
        return ranked[:MAX_MENU]
    best = scores[ranked[0]]
    close = [n for n in ranked if scores[n] >= best - 1 and scores[n] > 0]
    return close[:MAX_MENU]


def _rank(name: str) -> int:
    language = getattr(get_model(name), "language", None)
    return int(getattr(language, "rank", 0) or 0)


def build_messages(question: str, context: TranslationContext, models: Sequence[str]) -> list[dict[str, str]]:
    """System prompt (rules, the routed models, worked examples), the conversation so far, the question."""
    system = load("translate").render(
        models=describe_models(models),
        interventions=describe_interventions(models),
        examples=format_examples(context, models),
    )
    messages = [{"role": "system", "content": system}]
    for turn in context.history:
        messages.append({"role": "user", "content": turn.question})
        messages.append(
            {"role": "assistant", "content": json.dumps(compact_request(turn.request.model_dump(mode="json")))}
        )
    messages.append({"role": "user", "content": question})
    return messages


def _bounds(cls: Any, field_name: str) -> str:
    """`describe_allowed` without the type: ">= 1 and <= 730" -> "1..730"."""
    text = describe_allowed(cls, field_name)
    low = re.search(r"(>=?)\s*(-?[\d.e+]+)", text)
    high = re.search(r"<=?\s*(-?[\d.e+]+)", text)
    if low is None and high is None:
        choices = re.findall(r"'([^']+)'", text)
        return "|".join(choices) if choices else ""
    lo = (low.group(2) if low.group(1) == ">=" else f">{low.group(2)}") if low else ""
    return f"{lo}..{high.group(1) if high else ''}"


def describe_models(models: Sequence[str]) -> str:
    """One block per model: what it is, its parameters (bounds, default, unit), metrics, interventions."""
    blocks = []
    for name in models:
        spec = get_model(name)
        language = getattr(spec, "language", None)
        param_language = getattr(language, "params", None) or {}
        description = spec.description.split(";")[0].split(". ")[0]
        lines = [f"model {name}: {description}"]
        params = []
        for field_name, info in spec.params.model_fields.items():
            unit = getattr(param_language.get(field_name), "unit", None)
            default = (
                info.default
                if not isinstance(info.default, float) or not info.default.is_integer()
                else int(info.default)
            )
            params.append(f"{field_name} {_bounds(spec.params, field_name)} ={default}" + (f" {unit}" if unit else ""))
        lines.append("  params: " + "; ".join(params))
        lines.append("  metrics: " + ", ".join(spec.metrics))
        if spec.interventions:
            lines.append("  interventions: " + ", ".join(sorted(spec.interventions)))
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def describe_interventions(models: Sequence[str] | None = None) -> str:
    """The interventions the models support: what names them, and their fields (bounds, default)."""
    supported = _supported_interventions(models)
    lines = []
    for iv_type in supported:
        cls = INTERVENTION_TYPES[iv_type]
        fields = [
            f"{f} {_bounds(cls, f)} ={info.default}"
            for f, info in cls.model_fields.items()
            if f not in ("type", "start_day", "duration_days")
        ]
        words = _intervention_words(iv_type, models)
        lines.append(f"- {iv_type}" + (f" ({words})" if words else "") + (": " + "; ".join(fields) if fields else ""))
    if not lines:
        return "(none)"
    return "every intervention has start_day (0..) and duration_days (null: to the end)\n" + "\n".join(lines)


def _supported_interventions(models: Sequence[str] | None) -> list[str]:
    names = list(models) if models is not None else _loadable_models()
    supported = {t for n in names for t in get_model(n).interventions}
    return [t for t in INTERVENTION_TYPES if t in supported]


def _intervention_words(iv_type: str, models: Sequence[str] | None) -> str:
    for name in models or ():
        language = getattr(get_model(name), "language", None)
        entry = (getattr(language, "interventions", None) or {}).get(iv_type)
        if entry is not None and getattr(entry, "phrases", None):
            return ", ".join(entry.phrases[:3])
    cls = INTERVENTION_TYPES[iv_type]
    doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
    first = re.split(r"[;:]|\. ", doc)[0].strip().rstrip(".")
    return first if len(first) <= 60 else first[:60].rsplit(" ", 1)[0]


_REQUEST_KEYS = ("kind", "model", "scenarios", "sweep", "calibrate", "message")


def compact_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """A request without nulls, empty lists, notes and per-scenario model names: what an example shows."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None and v != [] and k != "notes"}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    out = clean({k: v for k, v in request.items() if k in _REQUEST_KEYS})
    for scenario in out.get("scenarios", []):
        if isinstance(scenario, dict) and scenario.get("model") == out.get("model"):
            scenario.pop("model", None)
    return out


_TAG = re.compile(r"<(/?)(context|example)", re.IGNORECASE)


def wrap_text(text: str) -> str:
    """Retrieved text with any context/example tags defused, so it cannot close its wrapper."""
    return _TAG.sub(lambda m: f"&lt;{m.group(1)}{m.group(2)}", text)


def format_docs(context: TranslationContext, models: Sequence[str] | None = None) -> str:
    """Retrieved documentation about the routed models, at most `MAX_DOC_CHARS`, wrapped as context."""
    chunks = [c for c in context.docs if models is None or c.model in (None, *models)]
    if not chunks:
        return "(none retrieved)"
    blocks: list[str] = []
    used = 0
    for chunk in chunks:
        text = wrap_text(chunk.text.strip())
        if used + len(text) > MAX_DOC_CHARS:
            text = text[: max(0, MAX_DOC_CHARS - used)]
        if not text:
            break
        used += len(text)
        source = chunk.source.replace('"', "'")
        blocks.append(f'<context source="{source}">\n{text}\n</context>')
    return "\n".join(blocks)


def format_examples(context: TranslationContext, models: Sequence[str] | None = None) -> str:
    """A few retrieved worked examples (question, then its request), those of the routed models first."""
    if not context.examples:
        return "(none retrieved)"
    routed = set(models or ())
    ranked = sorted(context.examples, key=lambda e: e.request.get("model") not in routed)
    blocks = []
    for example in ranked[:MAX_PROMPT_EXAMPLES]:
        request = json.dumps(compact_request(example.request), separators=(",", ":"))
        body = wrap_text(f"Question: {example.question}\nRequest: {request}")[:MAX_EXAMPLE_CHARS]
        blocks.append(f'<context example="{example.case_id}">\n{body}\n</context>')
    return "\n".join(blocks)


# ---------------------------------------------------------------------- the reply schema


@lru_cache(maxsize=32)
def request_schema(models: tuple[str, ...] | None = None, strict: bool = True) -> dict[str, Any]:
    """The JSON schema of the translator's reply for these models (default: every loadable one).

    strict (OpenAI strict mode, vLLM, Ollama): every object closes (`additionalProperties: false`)
    and requires all its properties; what may be left out is nullable (null = the default).
    Not strict (json_object mode, the schema in the prompt): parameters and intervention fields
    may be left out, so a small local model writes only what the question states. Scenario
    parameters are one object with the union of the models' parameters (`sim` rejects one the
    chosen model lacks); interventions are those the models support. The descriptions live in the
    prompt; bounds are enforced by validation, not by keywords some servers reject.
    """
    names = list(models) if models is not None else _loadable_models()
    specs = [get_model(n) for n in names]
    metrics = sorted({m for s in specs for m in s.metrics})
    interventions = _supported_interventions(names)
    model_enum = {"type": "string", "enum": names}
    iv_items: dict[str, Any] = (
        {"anyOf": [{"$ref": f"#/$defs/{t}"} for t in interventions]} if interventions else {"type": "null"}
    )
    defs: dict[str, Any] = {
        "params": _params_schema(specs, strict),
        "scenario": _closed(
            {
                "label": {"type": "string"},
                "params": {"$ref": "#/$defs/params"},
                "interventions": {"type": "array", "items": iv_items},
            }
        ),
        "sweep": _closed({"param": {"type": "string"}, "values": {"type": "array", "items": {"type": "number"}}}),
        "calibrate": _closed(
            {
                "param": {"type": "string"},
                "metric": {"type": "string", "enum": metrics},
                "target": {"type": "number"},
                "relation": {"type": "string", "enum": ["eq", "le", "ge"]},
                "lower": {"type": ["number", "null"]},
                "upper": {"type": ["number", "null"]},
            },
            required=None if strict else ["param", "metric", "target", "relation"],
        ),
    }
    for iv_type in interventions:
        cls = INTERVENTION_TYPES[iv_type]
        props: dict[str, Any] = {"type": {"type": "string", "enum": [iv_type]}}
        for field_name, info in cls.model_fields.items():
            if field_name != "type":
                props[field_name] = _nullable(_value_schema(info.annotation))
        defs[iv_type] = _closed(props, required=None if strict else ["type"])
    root = _closed(
        {
            "kind": {"type": "string", "enum": list(KINDS)},
            "model": {"anyOf": [model_enum, {"type": "null"}]},
            "scenarios": {"type": "array", "items": {"$ref": "#/$defs/scenario"}},
            "sweep": {"anyOf": [{"$ref": "#/$defs/sweep"}, {"type": "null"}]},
            "calibrate": {"anyOf": [{"$ref": "#/$defs/calibrate"}, {"type": "null"}]},
            "message": {"type": ["string", "null"]},
        },
        required=None if strict else ["kind", "model", "scenarios"],
    )
    root["$defs"] = defs
    return root


def _params_schema(specs: Sequence[ModelSpec], strict: bool = True) -> dict[str, Any]:
    """One object with the union of the models' parameters, each nullable (null = that model's default)."""
    fragments: dict[str, list[dict[str, Any]]] = {}
    for spec in specs:
        for field_name, info in spec.params.model_fields.items():
            fragment = _value_schema(info.annotation)
            if fragment not in fragments.setdefault(field_name, []):
                fragments[field_name].append(fragment)
    props = {}
    for field_name, options in fragments.items():
        schema = options[0] if len(options) == 1 else {"anyOf": options}
        props[field_name] = _nullable(schema)
    return _closed(props, required=None if strict else [])


def _value_schema(annotation: Any) -> dict[str, Any]:
    """The JSON schema of one field's values (without null), from its Python annotation."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        choices = list(typing.get_args(annotation))
        kind = "string" if all(isinstance(c, str) for c in choices) else "number"
        return {"type": kind, "enum": choices}
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _value_schema(args[0])
        options = [_value_schema(a) for a in args]
        return {"anyOf": options}
    simple = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if annotation in simple:
        return {"type": simple[annotation]}
    return {"type": ["number", "string", "boolean"]}  # a plugin's exotic type: validation decides


def _nullable(schema: Mapping[str, Any], description: str | None = None) -> dict[str, Any]:
    out: dict[str, Any]
    kind = schema.get("type")
    if "enum" in schema or "anyOf" in schema or kind is None:
        options = list(schema["anyOf"]) if "anyOf" in schema else [dict(schema)]
        out = {"anyOf": [*options, {"type": "null"}]}
    else:
        kinds = kind if isinstance(kind, list) else [kind]
        out = {"type": [*kinds, "null"]}
    if description:
        out["description"] = description
    return out


def _closed(
    properties: dict[str, Any], description: str | None = None, required: list[str] | None = None
) -> dict[str, Any]:
    """An object schema that allows no other property; `required` None: every property (strict mode)."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema
