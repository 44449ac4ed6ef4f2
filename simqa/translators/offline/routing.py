"""Step 3, routing: which model a question is about, from the phrases each model declares.

Every matched phrase votes for the models whose language has it, split among them (a word every
model knows, like "days", says little). A model named outright wins, unless the question says not
to use it ("the SEIR model, not the agent-based one"). Within a family (models of one system, such
as the two epidemic models) the question goes to the first model by rank that understands every
parameter, metric and intervention it names: a generic epidemic question to the cheaper model, one
about school closures to the one that has schools.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sim.language import ModelLanguage
from simqa.translators.offline import cues
from simqa.translators.offline.lexicon import Mention
from simqa.translators.offline.text import Token

# How much one phrase of each kind says about the model it belongs to.
WEIGHTS = {"name": 10.0, "param": 2.0, "value": 2.0, "metric": 2.0, "intervention": 3.0, "breakdown": 3.0,
           "field": 1.0, "field_value": 0.5, "word": 1.0, "exclude": 0.5}  # fmt: skip
# Kinds of phrase a model must understand to take a question from its family.
NEEDED = ("param", "value", "metric", "intervention", "breakdown")


def richer(route: Route, languages: dict[str, ModelLanguage]) -> list[str]:
    """The other models of the route's family, cheapest first: where to look when the first cannot place a value."""
    if route.model is None or route.named:
        return []
    lang = languages[route.model]
    if lang.family is None:
        return []
    return sorted(
        (
            m
            for m, other in languages.items()
            if other.family == lang.family and other.rank > lang.rank and m not in route.refused_names
        ),
        key=lambda m: languages[m].rank,
    )


@dataclass
class Route:
    model: str | None
    scores: dict[str, float] = field(default_factory=dict)
    named: set[str] = field(default_factory=set)
    refused_names: set[str] = field(default_factory=set)
    reason: str = ""


def choose(
    mentions: list[Mention],
    tokens: list[Token],
    languages: dict[str, ModelLanguage],
    prior: str | None = None,
) -> Route:
    scores: dict[str, float] = defaultdict(float)
    named: set[str] = set()
    refused: set[str] = set()
    for m in mentions:
        models = {s.model for s in m.senses if s.model is not None and s.category in WEIGHTS}
        if not models:
            continue
        for s in m.senses:
            if s.model is None or s.category not in WEIGHTS:
                continue
            if s.category == "name":
                if _negated(tokens, m.first):
                    refused.add(s.model)
                    scores[s.model] -= WEIGHTS["name"]
                    continue
                named.add(s.model)
            scores[s.model] += WEIGHTS[s.category] / len(models)
    if prior is not None and prior in languages:
        scores[prior] += 1.5
    for name in refused:
        named.discard(name)
    candidates = {m: v for m, v in scores.items() if v > 0 and m not in refused}
    if not candidates:
        return Route(None, dict(scores), named, refused, "no model's language matches the question")
    best = max(candidates, key=lambda m: (candidates[m], -languages[m].rank))
    family = languages[best].family
    if family is not None:
        members = sorted(
            (m for m in languages if languages[m].family == family and m not in refused),
            key=lambda m: languages[m].rank,
        )
        explicit = [m for m in members if m in named]
        if explicit:
            return Route(explicit[0], dict(scores), named, refused, "named")
        needed = _needed(mentions, set(members), tokens)
        if prior in members and all(prior in models for models in needed):
            return Route(prior, dict(scores), named, refused, "the model of the previous turn")
        for member in members:
            if all(member in models for models in needed):
                return Route(member, dict(scores), named, refused, "first of its family that understands the question")
        best = max(members, key=lambda m: (sum(m in models for models in needed), -languages[m].rank))
    return Route(best, dict(scores), named, refused, "most phrases")


def _needed(mentions: list[Mention], members: set[str], tokens: list[Token]) -> list[set[str]]:
    """For each phrase a family member understands: the members that understand it. A parameter named
    in passing ("a school town of 8000") needs nothing; one with a value next to it ("schools of 1000") does."""
    out = []
    for m in mentions:
        senses = [s for s in m.senses if s.category in NEEDED and s.model in members]
        if all(s.category == "param" for s in senses) and not _with_value(m, tokens):
            continue
        models = {str(s.model) for s in senses}
        if models and models != members:
            out.append(models)
    return out


def _with_value(m: Mention, tokens: list[Token]) -> bool:
    """A value or a change word right next to the phrase ("school size 250", "500 pupils", "bigger schools")."""
    after = [t for t in tokens[m.last : m.last + 4] if t.text not in cues.CONNECTORS][:1]
    before = tokens[max(0, m.first - 1) : m.first]
    return any(t.kind == "num" or t.text in cues.CHANGE_UP or t.text in cues.CHANGE_DOWN for t in after + before)


def _negated(tokens: list[Token], first: int) -> bool:
    before = " ".join(t.text for t in tokens[max(0, first - 3) : first])
    return any(before.endswith(n) or f"{n} the" in before[-len(n) - 5 :] for n in cues.NEGATIONS)
