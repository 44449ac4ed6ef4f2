"""Phrases of every model's declared language and of questions in general, matched in a question.

A `Lexicon` is built once from the registered models' `ModelSpec.language` (sim.language) and the
question cues (cues.py). Matching is on word stems; "..." in a phrase lets up to a few words stand
between its parts ("close ... schools" matches "close all the primary schools"). Where phrases
overlap, the longest wins; phrases that match the same words keep all their senses (the reader
decides between "infected" as the initial cases and "infected" as a metric).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from dataclasses import field as dataclass_field
from typing import Any

from sim.language import InterventionLanguage, ModelLanguage, ParamLanguage
from simqa.translators.offline import cues
from simqa.translators.offline.quantities import FACTORS, FRACTIONS, SCALES, SMALL_NUMBERS, TENS
from simqa.translators.offline.text import Token, stem

GAP = "..."
MAX_GAP = 7  # tokens a "..." may stand for
_HARD_BREAKS = frozenset({".", "?", "!", ";", ":"})
_NUMBER_WORDS = frozenset({*SMALL_NUMBERS, *TENS, *SCALES, *FRACTIONS, *FACTORS, "hundred", "dozen", "single"})

# Between phrases of equal length, the one that names more wins: "close ... workplaces" over "of workplaces".
_PRIORITY = {
    "name": 0,
    "intervention": 1,
    "value": 1,
    "exclude": 1,
    "param": 2,
    "metric": 2,
    "breakdown": 2,
    "field": 3,
    "field_value": 4,
    "noun": 4,
    "word": 5,
}

# Layers are matched independently: a cue ("how many") never hides a model's phrase ("how many get infected").
MODEL, TIMING, CUE, RELATION, CHANGE, SUBJECT = "model", "timing", "cue", "relation", "change", "subject"


@dataclass(frozen=True)
class Sense:
    """What a matched phrase may mean.

    category: "name", "word", "param", "value", "metric", "intervention", "field", "field_value",
      "breakdown", "exclude", "start", "until", "length", "to_end", "elapsed_before", "elapsed_after",
      "cue", "relation", "up", "down".
    key: the parameter, metric, intervention, breakdown, exclusion, cue or relation it names.
    """

    category: str
    key: str
    model: str | None = None
    field: str | None = None
    value: Any = None
    phrase: str = dataclass_field(default="", compare=False)


@dataclass
class Mention:
    """A phrase found in the question: its token range, its anchor tokens, and what it may mean."""

    first: int
    last: int
    anchors: tuple[int, ...]
    senses: list[Sense]
    text: str = ""
    gap: int = 0

    def of(self, category: str, model: str | None = None) -> list[Sense]:
        return [s for s in self.senses if s.category == category and (model is None or s.model in (None, model))]

    def has(self, category: str, key: str | None = None, model: str | None = None) -> bool:
        return any(key is None or s.key == key for s in self.of(category, model))

    def keys(self, category: str, model: str | None = None) -> set[str]:
        return {s.key for s in self.of(category, model)}


@dataclass
class _Phrase:
    parts: list[list[str]]  # anchor word stems, split at the gaps
    sense: Sense
    layer: str
    literal: bool  # contains numbers: matched before quantities are read
    ing: set[tuple[int, int]] = field(default_factory=set)  # (part, word) positions written as "-ing" verbs


@dataclass
class Lexicon:
    phrases: dict[str, list[_Phrase]] = field(default_factory=lambda: defaultdict(list))
    vocabulary: set[str] = field(default_factory=set)
    stems: set[str] = field(default_factory=set)

    def add(self, text: str, sense: Sense, layer: str = MODEL) -> None:
        words = _phrase_words(text)
        if not words:
            return
        parts: list[list[str]] = [[]]
        for w in words:
            if w == GAP:
                parts.append([])
            else:
                parts[-1].append(w)
        parts = [p for p in parts if p]
        if not parts:
            return
        literal = any(any(ch.isdigit() for ch in w) or w in _NUMBER_WORDS for p in parts for w in p)
        stems = [[_stem_of(w) for w in p] for p in parts]
        ing = {(i, j) for i, p in enumerate(parts) for j, w in enumerate(p) if w.endswith("ing")}
        self.phrases[stems[0][0]].append(_Phrase(stems, sense, layer, literal, ing))
        self.vocabulary.update(w for w in words if w.isalpha())
        self.stems.update(st for part in stems for st in part)

    # -- matching ----------------------------------------------------------------------------------

    def match(
        self, tokens: list[Token], layer: str, blocked: set[int], literal: bool | None = None, max_gap: int = MAX_GAP
    ) -> list[Mention]:
        """Mentions of `layer` phrases in the tokens, longest first, not overlapping, avoiding `blocked` tokens."""
        found: list[tuple[int, int, tuple[int, ...], int, _Phrase]] = []
        for i, tok in enumerate(tokens):
            if i in blocked or not (tok.is_word or tok.kind == "num" or tok.text in ("%", "/", "=", "'")):
                continue
            for phrase in self.phrases.get(tok.stem, ()):
                if phrase.layer != layer or (literal is not None and phrase.literal != literal):
                    continue
                hit = _match_at(tokens, i, phrase.parts, blocked, max_gap)
                if hit is not None and phrase.ing and _plural_for_verb(tokens, hit[0], phrase):
                    continue
                if hit is not None:
                    anchors, gap = hit
                    found.append((i, anchors[-1] + 1, anchors, gap, phrase))
        found += self._coordinated(tokens, found, layer, blocked, literal)
        found.sort(key=lambda f: (-len(f[2]), _PRIORITY.get(f[4].sense.category, 5), f[3], f[0]))
        taken: set[int] = set()
        mentions: dict[tuple[int, int, tuple[int, ...]], Mention] = {}
        for first, last, anchors, gap, phrase in found:
            key = (first, last, anchors)
            if key in mentions:
                if phrase.sense not in mentions[key].senses:
                    mentions[key].senses.append(phrase.sense)
                continue
            if taken & set(anchors):
                _name_by_its_field(mentions, taken & set(anchors), phrase.sense)
                continue
            taken.update(anchors)
            text = " ".join(tokens[a].text for a in anchors)
            mentions[key] = Mention(first, last, anchors, [phrase.sense], text, gap)
        return sorted(mentions.values(), key=lambda m: m.first)

    def _coordinated(
        self, tokens: list[Token], found: list[Any], layer: str, blocked: set[int], literal: bool | None
    ) -> list[Any]:
        """ "close schools and workplaces": the second object takes the verb of the first ("close ... workplaces")."""
        extra = []
        for _first, last, _anchors, _gap, phrase in found:
            if len(phrase.parts) < 2:
                continue
            j = last
            if j >= len(tokens) or tokens[j].text not in ("and", "or", ","):
                continue
            j += 1
            while j < len(tokens) and (tokens[j].text in ("the", "all", "our", "of", "a", "an", "and") or j in blocked):
                j += 1  # "close schools and 30% of workplaces": the value is the second object's
            if j > last + 1 and j - 1 in blocked:
                continue  # a value must be followed by "of" to be the object's share
            value_end = max((k + 1 for k in range(last + 1, j) if k in blocked), default=None)
            if j >= len(tokens) or j in blocked:
                continue
            verb = phrase.parts[0]
            for other in self.phrases.get(verb[0], ()):
                if other.layer != layer or len(other.parts) < 2 or other.parts[0] != verb or other is phrase:
                    continue
                if literal is not None and other.literal != literal:
                    continue
                if other.parts[1] and _match_part(tokens, j, other.parts[1], blocked):
                    start = j if value_end is None else value_end  # "of workplaces", as the share's own phrase
                    span = tuple(range(start, j + len(other.parts[1])))
                    extra.append((start, span[-1] + 1, span, 0, other))
        return extra


def _name_by_its_field(mentions: dict[Any, Mention], overlap: set[int], sense: Sense) -> None:
    """ "shutting half of all workplaces": an intervention's phrase whose words a phrase of its own field
    took ("of all workplaces") is named by that field phrase too."""
    if sense.category != "intervention":
        return
    owners = [m for m in mentions.values() if overlap & set(m.anchors)]
    own_fields = all(
        all(s.category == "field" and s.key == sense.key and s.model == sense.model for s in m.senses) for m in owners
    )
    if owners and own_fields and overlap <= {a for m in owners for a in m.anchors}:
        owners[0].senses.append(sense)


def _match_at(
    tokens: list[Token], i: int, parts: list[list[str]], blocked: set[int], max_gap: int
) -> tuple[tuple[int, ...], int] | None:
    anchors: list[int] = []
    j = i
    gap_total = 0
    for n, part in enumerate(parts):
        if n > 0:
            # find the next part within MAX_GAP tokens, not across a sentence break
            k, skipped = j, 0
            while skipped <= max_gap:
                if k >= len(tokens) or tokens[k].text in _HARD_BREAKS:
                    return None
                if _match_part(tokens, k, part, blocked):
                    break
                if k in blocked:  # a value counts as one word of the gap, however it is written
                    while k + 1 < len(tokens) and k + 1 in blocked:
                        k += 1
                k += 1
                skipped += 1
            else:
                return None
            gap_total += skipped
            j = k
        if not _match_part(tokens, j, part, blocked):
            return None
        anchors.extend(range(j, j + len(part)))
        j += len(part)
    return tuple(anchors), gap_total


def _match_part(tokens: list[Token], j: int, part: list[str], blocked: set[int]) -> bool:
    if j + len(part) > len(tokens):
        return False
    for k, word in enumerate(part):
        tok = tokens[j + k]
        if j + k in blocked or tok.stem != word:
            return False
    return True


def _plural_for_verb(tokens: list[Token], anchors: tuple[int, ...], phrase: _Phrase) -> bool:
    """ "distances" is not "distancing": a plural noun does not match a word the phrase writes as a verb."""
    flat = [(i, j) for i, part in enumerate(phrase.parts) for j in range(len(part))]
    for (i, j), a in zip(flat, anchors, strict=False):
        text = tokens[a].text
        if (i, j) in phrase.ing and text.endswith("s") and not text.endswith("ings"):
            return True
    return False


def _phrase_words(text: str) -> list[str]:
    """A phrase as its words: lower case, hyphens as spaces, '...' kept as a gap, symbols as words."""
    text = text.lower().replace("-", " ")
    return re.findall(r"\.\.\.|\d+(?:st|nd|rd|th)\b|[a-z]+\d+[a-z\d]*|\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)?|[%/=°']", text)


def _stem_of(word: str) -> str:
    return stem(word) if word.isalpha() else word


# --------------------------------------------------------------------------- building


Entry = tuple[str, Sense, str]  # a phrase, what it means, and its layer


def build(languages: dict[str, ModelLanguage]) -> Lexicon:
    """The lexicon of every registered model's language plus the question cues."""
    lex = Lexicon()
    for model, lang in languages.items():
        for phrase, sense, layer in _model_entries(model, lang):
            for variant in _variants(phrase):
                lex.add(variant, sense, layer)
    for phrase, sense, layer in _cue_entries():
        lex.add(phrase, sense, layer)
    return lex


def _variants(phrase: str) -> Iterator[str]:
    """A declared phrase and its paraphrases: "infected at the start" is also "infected at the outset"."""
    yield phrase
    padded = f" {phrase} "
    for words, synonyms in cues.PHRASE_SYNONYMS.items():
        if f" {words} " in padded:
            for synonym in synonyms:
                yield padded.replace(f" {words} ", f" {synonym} ").strip()


def _model_entries(model: str, lang: ModelLanguage) -> Iterator[Entry]:
    for phrase in lang.names:
        yield phrase, Sense("name", model, model, phrase=phrase), MODEL
    for phrase in lang.words:
        yield phrase, Sense("word", model, model, phrase=phrase), MODEL
    for name, p in lang.params.items():
        yield from _param_entries(model, name, p)
    for name, m in lang.metrics.items():
        for phrase in m.phrases:
            yield phrase, Sense("metric", name, model, phrase=phrase), MODEL
        for phrase in m.complement:
            yield phrase, Sense("metric", name, model, value="complement", phrase=phrase), MODEL
    for name, iv in lang.interventions.items():
        yield from _intervention_entries(model, name, iv)
    for name, b in lang.breakdowns.items():
        for phrase in b.phrases:
            yield phrase, Sense("breakdown", name, model, phrase=phrase), MODEL
    for exclusion in lang.excludes:
        for phrase in exclusion.phrases:
            yield phrase, Sense("exclude", exclusion.name, model, phrase=phrase), MODEL
    if lang.timing is not None:
        t = lang.timing
        for category, phrases in (
            ("start", t.start),
            ("until", t.until),
            ("length", t.length),
            ("to_end", t.to_end),
            ("elapsed_before", t.elapsed_before),
            ("elapsed_after", t.elapsed_after),
        ):
            for phrase in phrases:
                yield phrase, Sense(category, category, model, phrase=phrase), TIMING


def _param_entries(model: str, name: str, p: ParamLanguage) -> Iterator[Entry]:
    for phrase in p.phrases:
        yield phrase, Sense("param", name, model, phrase=phrase), MODEL
    for phrase, value in p.values.items():
        yield phrase, Sense("value", name, model, value=value, phrase=phrase), MODEL
    for phrase in p.nouns:
        yield phrase, Sense("noun", name, model, phrase=phrase), MODEL
    for phrase in p.more:
        yield phrase, Sense("up", name, model, phrase=phrase), CHANGE
    for phrase in p.less:
        yield phrase, Sense("down", name, model, phrase=phrase), CHANGE
    for phrase in p.subjects:
        yield phrase, Sense("subject", name, model, phrase=phrase), SUBJECT


def _intervention_entries(model: str, name: str, iv: InterventionLanguage) -> Iterator[Entry]:
    for phrase in iv.phrases:
        yield phrase, Sense("intervention", name, model, phrase=phrase), MODEL
    for field_name, f in iv.fields.items():
        for phrase in f.phrases:
            yield phrase, Sense("field", name, model, field=field_name, phrase=phrase), MODEL
        for phrase, value in f.values.items():
            yield phrase, Sense("field_value", name, model, field=field_name, value=value, phrase=phrase), MODEL


def _cue_entries() -> Iterator[Entry]:
    """The question's own language: cues, relations and the generic change words."""
    for name, phrases in cues.PHRASES.items():
        for phrase in phrases:
            yield phrase, Sense("cue", name, phrase=phrase), CUE
    for relation, phrases in cues.RELATIONS.items():
        for phrase in phrases:
            yield phrase, Sense("relation", relation, phrase=phrase), RELATION
    for phrase in cues.CHANGE_UP:
        yield phrase, Sense("up", "*", phrase=phrase), CHANGE
    for phrase in cues.CHANGE_DOWN:
        yield phrase, Sense("down", "*", phrase=phrase), CHANGE


def words_of(languages: Iterable[ModelLanguage]) -> Iterator[str]:
    """Every word of the given languages (what the speller may read a misspelling as)."""
    for lang in languages:
        for phrase in lang.all_phrases():
            yield from (w for w in _phrase_words(phrase) if w.isalpha())
