"""The offline translator: a deterministic, no-network reading of a question into a validated `Request`.

One module per step, each reading only the models' declared language (`ModelSpec.language`) and
the language of questions (cues.py); no step names a model, a parameter or a metric:

1. text.py        normalise, drop instructions aimed at the assistant, tokens with stems, spelling
2. quantities.py  every stated value by dimension (numbers, shares, durations, rates, speeds, ...)
3. lexicon.py     the declared phrases found in the question; routing.py: which model it is about
4. reading.py     what each value is: a parameter, a change, an intervention's strength or timing, a target
5. building.py    the kind of answer and the request; followups.py: refining the previous turn
6. simqa.check    bounds, caps and shape, shared with the LLM translator

Limits (a question over them is a user mistake, answered with one line): MAX_QUESTION_CHARS
characters; a question stating more than MAX_VALUES values is asked to state fewer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import sim
from sim.errors import ScenarioError
from sim.language import ModelLanguage
from simqa.check import finish
from simqa.translators.base import Translation, TranslationContext, Translator
from simqa.translators.offline import building, cues, followups, lexicon, routing
from simqa.translators.offline.quantities import find_quantities, find_runs
from simqa.translators.offline.reading import Reading, read
from simqa.translators.offline.text import Speller, drop_injections, is_harmful, normalise, tokenize

MAX_QUESTION_CHARS = 20_000
MAX_VALUES = 60


@dataclass
class _Languages:
    names: tuple[str, ...]
    languages: dict[str, ModelLanguage]
    lexicon: lexicon.Lexicon
    speller: Speller


_cache_lock = threading.Lock()
_cache: _Languages | None = None


def languages() -> _Languages:
    """The registered models' languages and the lexicon built from them (rebuilt when models change)."""
    global _cache
    names = tuple(sim.model_names())
    with _cache_lock:
        if _cache is not None and _cache.names == names:
            return _cache
        langs: dict[str, ModelLanguage] = {}
        for name in names:
            try:
                langs[name] = sim.get_model(name).words
            except ScenarioError:
                continue
        lex = lexicon.build(langs)
        from simqa.translators.offline.quantities import UNITS

        vocabulary = set(lexicon.words_of(langs.values())) | lex.vocabulary | set(UNITS)
        _cache = _Languages(names, langs, lex, Speller(vocabulary))
        return _cache


@dataclass
class Parsed:
    """The question as read before a model is chosen: tokens, values and every phrase found."""

    text: str
    tokens: list[Any]
    quantities: list[Any]
    runs: list[Any]
    mentions: list[Any]
    cues: list[Any]
    relations: list[Any]
    changes: list[Any]
    timing: list[Any]
    subjects: list[Any]
    injected: bool
    fixes: list[tuple[str, str]]


def parse(question: str, keep_instructions: bool = False) -> Parsed:
    """Steps 1 to 3 for one question (no model chosen yet). `keep_instructions` reads text aimed at
    the assistant too (what a user typed, for grounding checks); the translator never does."""
    if len(question) > MAX_QUESTION_CHARS:
        raise ScenarioError(
            f"the question is {len(question):,} characters long; questions are limited to "
            f"{MAX_QUESTION_CHARS:,} characters: ask about one situation at a time",
            field="question",
            value=len(question),
            allowed=f"<= {MAX_QUESTION_CHARS:,} characters",
        )
    langs = languages()
    text, injected = (normalise(question), False) if keep_instructions else drop_injections(normalise(question))
    tokens, fixes = langs.speller.fix(tokenize(text))
    lex = langs.lexicon
    literal = lex.match(tokens, lexicon.MODEL, set(), literal=True)
    reserved = {a for m in literal for a in m.anchors}
    quantities = [q for q in find_quantities(tokens, text, reserved) if not _counts_the_question(q, tokens)]
    runs = find_runs(tokens, quantities)
    valued = {k for q in quantities for k in range(q.first, q.last)} | {k for q in quantities for k in q.per_tokens}
    blocked = reserved | valued
    mentions = sorted(literal + lex.match(tokens, lexicon.MODEL, blocked, literal=False), key=lambda m: m.first)
    # "a 4-week lockdown and an 8-week lockdown": values each next to their own intervention are not one list
    named = {a for m in mentions if any(s.category == "intervention" for s in m.senses) for a in m.anchors}
    runs = [
        run
        for run in runs
        if not any(
            a in named for q, nxt in zip(run.members, run.members[1:], strict=False) for a in range(q.last, nxt.first)
        )
    ]
    return Parsed(
        text=text,
        tokens=tokens,
        quantities=quantities,
        runs=runs,
        mentions=mentions,
        cues=lex.match(tokens, lexicon.CUE, set(), max_gap=12),
        relations=lex.match(tokens, lexicon.RELATION, valued),
        changes=lex.match(tokens, lexicon.CHANGE, blocked),
        timing=lex.match(tokens, lexicon.TIMING, blocked),
        subjects=lex.match(tokens, lexicon.SUBJECT, blocked),
        injected=injected,
        fixes=fixes,
    )


def _counts_the_question(q: Any, tokens: list[Any]) -> bool:
    """ "Three options for next month: ...", "two ideas": a count of the question's own parts, not a value."""
    nxt = tokens[q.last].text if q.last < len(tokens) else ""
    return q.dimension == "number" and not q.per and nxt in cues.QUESTION_PARTS


def reading_for(
    parsed: Parsed, model: str, previous_items: list[str] | None = None, previous_metrics: list[str] | None = None
) -> Reading:
    """Step 4 for a chosen model: the phrases of that model only, every value given its role."""
    lang = languages().languages[model]

    def own(mentions: list[Any]) -> list[Any]:
        return [m for m in mentions if any(s.model in (None, model) for s in m.senses)]

    r = Reading(
        model=model,
        language=lang,
        tokens=parsed.tokens,
        mentions=own(parsed.mentions),
        cues=parsed.cues,
        relations=parsed.relations,
        changes_layer=own(parsed.changes),
        timing=own(parsed.timing),
        subjects=own(parsed.subjects),
        quantities=parsed.quantities,
        runs=parsed.runs,
    )
    return read(r, previous_items, previous_metrics)


class OfflineTranslator(Translator):
    """Reads a question with the models' declared language; no network, same question same request."""

    name = "offline"

    def translate(self, question: str, context: TranslationContext | None = None) -> Translation:
        context = context or TranslationContext()
        notes: list[str] = []
        draft = self._draft(question, context, notes)
        draft.setdefault("notes", [])
        draft["notes"] = list(dict.fromkeys([*draft["notes"], *notes]))
        return Translation(request=finish(draft), translator="offline", notes=[])

    def _draft(self, question: str, context: TranslationContext, notes: list[str]) -> dict[str, Any]:
        parsed = parse(question)
        if parsed.injected:
            notes.append("ignored text that tried to instruct the assistant; only the question is translated")
        if parsed.fixes:
            notes.append("read misspelt words as: " + ", ".join(f"{a} -> {b}" for a, b in parsed.fixes)[:200])
        screened = _screen(parsed)
        if screened is not None:
            return screened
        langs = languages()
        turn = _route(question, parsed, context, langs)
        route = turn.route
        foreign = _foreign(parsed, route, langs) if route.named and not _explain_cue(parsed) else []
        if foreign and route.model is not None:
            kind, name, owners = foreign[0]
            return _refuse(
                route.model,
                (
                    f"The {route.model} model has no {kind} {name!r} (it belongs to {', '.join(owners)}), so it cannot "
                    f"answer that. The {route.model} model takes: {', '.join(langs.languages[route.model].params)}."
                ),
            )
        if route.model is None:
            if _explain_cue(parsed) and not parsed.quantities:
                return {"kind": "explain", "model": None, "message": question.strip()[:2000]}
            return _no_model(parsed, langs)
        r = _read(parsed, turn, route.model, context, langs)
        notes.extend(r.notes)
        outside = _outside(question, parsed, r, turn, langs, notes)
        if outside is not None:
            return outside
        previous = context.previous
        if turn.follow and previous is not None and _same_or_family(previous.model, r.model):
            refined = followups.refine(r, previous, turn.previous_metrics)
            if refined is not None:
                return refined
        noted = len(r.notes)
        draft = building.build(r, question)
        notes.extend(r.notes[noted:])
        if draft["kind"] in ("simulate", "compare", "sweep", "calibrate"):
            notes.extend(building.key_default_notes(r, draft))
        if draft["kind"] == "simulate" and not _states_anything(r) and not (r.metrics or r.breakdowns):
            return {
                "kind": "clarify",
                "model": r.model,
                "message": (
                    f"What would you like to know about the {r.model} model? Name a situation (values to use) or a "
                    f"result: it reports {_reports(r.language)}."
                ),
            }
        return draft


@dataclass
class _Turn:
    """Where a question stands in the conversation: the model it is routed to, whether it refines the
    previous turn, and what that turn named."""

    route: routing.Route
    follow: bool
    previous_question: str | None
    previous_items: list[str] | None = None
    previous_metrics: list[str] = field(default_factory=list)


def _screen(parsed: Parsed) -> dict[str, Any] | None:
    """A question refused or sent back before any model is chosen: harmful or off task, nothing left
    once instructions are set aside, or more values than one question can place."""
    if is_harmful(parsed.text) or cues.OFF_TASK.search(parsed.text):
        return _refuse(
            None,
            "I only answer questions about what the simulation models represent; I can't help with that request.",
        )
    if not any(t.is_word for t in parsed.tokens):
        return _refuse(
            None,
            "There is no question left to answer once the instructions aimed at the assistant "
            "are set aside. Ask about a model, e.g. 'what is the peak with R0 3?'",
        )
    if len(parsed.quantities) > MAX_VALUES:
        return {
            "kind": "clarify",
            "message": (
                f"The question states {len(parsed.quantities)} values; I can place at most {MAX_VALUES} in one "
                "question. Which few values should I use?"
            ),
        }
    return None


def _route(question: str, parsed: Parsed, context: TranslationContext, langs: _Languages) -> _Turn:
    """The model the question is about; a follow-up keeps the previous turn's model unless it names another."""
    previous_turn = context.history[-1] if context.history else None
    prior = previous_turn.request.model if previous_turn else None
    follow = previous_turn is not None and (
        followups.looks_like_follow_up(question) or followups.refers_back(parsed.tokens) or _no_own_model(parsed, langs)
    )
    route = routing.choose(parsed.mentions, parsed.tokens, langs.languages, prior if follow else None)
    return _Turn(route, follow, previous_turn.question if previous_turn else None)


def _read(parsed: Parsed, turn: _Turn, model: str, context: TranslationContext, langs: _Languages) -> Reading:
    """The reading for the routed model, or for a richer model of its family that places more of the
    question's values; a change after a run is a follow-up of that run."""
    if turn.previous_question is not None:
        r_prev = reading_for(parse(turn.previous_question), model) if model in langs.languages else None
        if r_prev is not None:
            turn.previous_items = [i.type for i in r_prev.items]
            turn.previous_metrics = r_prev.metrics
    items, metrics = (turn.previous_items, turn.previous_metrics) if turn.follow else (None, None)
    r = reading_for(parsed, model, items, metrics)
    for other in routing.richer(turn.route, langs.languages) if (r.unplaced or r.vague) else []:
        # a value the cheaper model cannot place may be one a richer model of its family has
        richer = reading_for(parsed, other, items, metrics)
        if len(richer.unplaced) + len(richer.vague) < len(r.unplaced) + len(r.vague):
            r = richer
            break
    previous = context.previous
    changes_only = (r.changes or r.items or r.vague) and len(r.statements) <= 1
    if not turn.follow and turn.previous_question is not None and changes_only and previous is not None:
        # "what if we add 10 more riders?" after a run: a change to that run
        turn.follow = _same_or_family(previous.model, r.model)
    r.excluded = r.excluded or _family_exclusions(parsed, r, langs)
    return r


def _same_or_family(previous: str | None, model: str) -> bool:
    return previous == model or followups._same_family(previous, model)


def _outside(
    question: str, parsed: Parsed, r: Reading, turn: _Turn, langs: _Languages, notes: list[str]
) -> dict[str, Any] | None:
    """An explanation, or a refusal of what the model leaves out, does not know, or is not about."""
    if building.is_explain(r):
        return {"kind": "explain", "model": _explained_model(r, turn.route), "message": question.strip()[:2000]}
    if r.excluded and not _exclusion_in_passing(r):
        return _refuse_excluded(r)
    if r.excluded:
        notes.append(
            f"the {r.model} model does not represent {' or '.join(r.excluded)}; that part of the question was not used"
        )
    if not turn.follow and _weakly_routed(parsed, turn.route, langs):
        return _refuse(
            None,
            (
                f"That is outside what the simulation models represent (it is about "
                f"{', '.join(repr(w) for w in _content_words(parsed, langs)[:3])}). The models are: "
                f"{', '.join(langs.names)}; ask about one of them."
            ),
        )
    unknown = building.asks_unknown(r, parsed.mentions)
    return _refuse_unknown(r, unknown) if unknown is not None else None


def _foreign(parsed: Parsed, route: routing.Route, langs: _Languages) -> list[tuple[str, str, list[str]]]:
    """What the question names for a model it names explicitly, that only other models have
    ("with the X model, what lockdown strength ..." where X has no lockdown): (kind, name, models that have it)."""
    out = []
    for m in parsed.mentions:
        own = [s for s in m.senses if s.model == route.model]
        if own:
            continue
        for category, kind in (("intervention", "intervention"), ("metric", "metric")):
            senses = [s for s in m.senses if s.category == category]
            if senses:
                owners = sorted({str(s.model) for s in senses})
                out.append((kind, senses[0].key, owners))
                break
    return out


def _family_exclusions(parsed: Parsed, r: Reading, langs: _Languages) -> list[str]:
    """What another model of the same family leaves out and this one does not even name ("teachers")."""
    family = r.language.family
    if family is None:
        return []
    members = {name for name, lang in langs.languages.items() if lang.family == family}
    out = []
    for m in parsed.mentions:
        senses = [s for s in m.senses if s.category == "exclude" and s.model in members]
        own = [s for s in m.senses if s.model == r.model and s.category != "exclude"]
        if senses and not own:
            out.append(senses[0].key)
            r.mentions.append(m)  # so that the check of where it stands sees it
    return list(dict.fromkeys(out))


def _exclusion_in_passing(r: Reading) -> bool:
    """ "Flu season: R0 1.4 ... when's the peak?": what the model leaves out is named, but the question asks
    for a result the model has, in another sentence. Otherwise the question is about what it leaves out."""
    metrics = [m for m in r.mentions if m.of("metric", r.model) or m.of("breakdown", r.model)]
    excluded = [m for m in r.mentions if any(s.category == "exclude" for s in m.senses)]
    if not metrics:
        return False

    def sentence(k: int) -> int:
        return sum(1 for t in r.tokens[:k] if t.text in (".", "?", "!", ";", ":"))

    return all(sentence(e.first) != sentence(m.first) for e in excluded for m in metrics)


def _explain_cue(parsed: Parsed) -> bool:
    return any(m.has("cue", "explain") for m in parsed.cues)


def _states_anything(r: Reading) -> bool:
    return bool(r.statements or r.changes or r.items or r.targets)


def _no_own_model(parsed: Parsed, langs: _Languages) -> bool:
    route = routing.choose(parsed.mentions, parsed.tokens, langs.languages)
    return route.model is None or max(route.scores.values(), default=0) < 2.0


def _explained_model(r: Reading, route: routing.Route) -> str | None:
    own = [
        m
        for m in r.mentions
        if m.of("name", r.model)
        or m.of("param", r.model)
        or m.of("metric", r.model)
        or m.of("intervention", r.model)
        or m.of("breakdown", r.model)
        or m.of("word", r.model)
    ]
    return r.model if own else None


def _refuse(model: str | None, message: str) -> dict[str, Any]:
    return {"kind": "refuse", "model": model, "message": message}


def _reports(lang: ModelLanguage) -> str:
    return ", ".join(name.replace("_", " ") for name in lang.metrics)


def _refuse_excluded(r: Reading) -> dict[str, Any]:
    names = " or ".join(r.excluded[:2])
    said = [m.text for m in r.mentions if any(s.category == "exclude" for s in m.senses)]
    quoted = f" (you asked about {', '.join(repr(w) for w in dict.fromkeys(said))})" if said else ""
    return _refuse(
        None,
        (
            f"The {r.model} model does not represent {names}{quoted}, so it cannot answer that; I won't run it on "
            f"something it leaves out. It reports: {_reports(r.language)}."
        ),
    )


def _refuse_unknown(r: Reading, thing: str) -> dict[str, Any]:
    return _refuse(
        None, (f"None of the models reports '{thing}'. The {r.model} model reports: {_reports(r.language)}.")
    )


def _content_words(parsed: Parsed, langs: _Languages) -> list[str]:
    """Words that name something (not question words, not the models' own words): "bank", "tellers"."""
    known = langs.lexicon.vocabulary
    cue_words = {w for phrases in cues.PHRASES.values() for p in phrases for w in p.split()}
    out = []
    for t in parsed.tokens:
        if t.kind != "word" or len(t.text) < 4 or t.text in known or t.stem in langs.lexicon.stems:
            continue
        if t.text in cues.VAGUE_WORDS or t.text in cues.ASK_FILLERS or t.text in cues.CONNECTORS:
            continue
        if t.text in cue_words or t.text in cues.WORDS or _common(t.text):
            continue
        out.append(t.text)
    return out


def _common(word: str) -> bool:
    from simqa.translators.offline.text import common_rank

    rank = common_rank(word)
    return rank is not None and rank < 800


def _weakly_routed(parsed: Parsed, route: routing.Route, langs: _Languages) -> bool:
    """A model chosen on one or two weak words while the question names other things ("a rumour
    spreads among 10k users", "a bank with 5 tellers"): not a question about that model."""
    if route.named or route.model is None:
        return False
    if route.scores.get(route.model, 0.0) >= 1.5:
        return False
    return len(_content_words(parsed, langs)) >= 1


def _no_model(parsed: Parsed, langs: _Languages) -> dict[str, Any]:
    """Nothing routes: out of scope (refuse) when the question has content, too vague (clarify) otherwise."""
    excluded = [s.key for m in parsed.mentions for s in m.senses if s.category == "exclude"]
    content = _content_words(parsed, langs)
    models = ", ".join(langs.names)
    if excluded:
        return _refuse(None, f"None of the models represents {excluded[0]}; they cover: {models}.")
    if not content or followups.refers_back(parsed.tokens):
        stated = ", ".join(f"'{q.text}'" for q in parsed.quantities)
        heard = f"I see {stated}, but not which system it is about. " if stated else ""
        return {
            "kind": "clarify",
            "message": f"{heard}The models are: {models}. Which system do you mean, and what would you like to know?",
        }
    return _refuse(
        None,
        (
            f"That is outside what the simulation models represent ({', '.join(repr(w) for w in content[:3])}). "
            f"They are: {models}; ask about one of them."
        ),
    )


__all__ = ["MAX_QUESTION_CHARS", "MAX_VALUES", "OfflineTranslator", "parse", "reading_for"]
