"""Step 4, reading: what each stated value is, in the language the chosen model declares.

Every value (a quantity, or a run of them) gets at most one role: a parameter's value, a change to a
parameter ("15 more riders", "20% more transmissible"), an intervention's strength or timing, a
calibration target, the bounds of a search. Candidate roles are scored by where the value stands
relative to the phrases that name them (a name right before a value, a noun right after it, nothing
in between that belongs elsewhere) and by whether the value's dimension fits; the best-scored roles
are taken first. What is left is reported, never dropped: the building step asks about it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

from sim.language import Dimension, ModelLanguage
from simqa.translators.offline import cues
from simqa.translators.offline.lexicon import Mention, Sense
from simqa.translators.offline.quantities import Quantity, Run, expand, same_dimension
from simqa.translators.offline.text import Token

# Phrases ending in these words introduce the value after them ("starting from 40", "a fleet of 90").
_INTRODUCERS = frozenset(
    {"from", "with", "of", "for", "after", "in", "at", "to", "by", "within", "than", "on", "over", "during", "until"}
)
_DEBUG = bool(os.environ.get("SIMQA_DEBUG_READING"))
_SITUATION = frozenset({"in", "for", "with", "at", "when", "while", "given", "we", "our", "currently", "now"})


@dataclass
class Unit:
    """What a role takes: one quantity, or a run of them."""

    quantity: Quantity | None = None
    run: Run | None = None

    @property
    def members(self) -> list[Quantity]:
        return self.run.members if self.run else [self.quantity] if self.quantity else []

    @property
    def first(self) -> int:
        return self.run.first if self.run else self.quantity.first if self.quantity else 0

    @property
    def last(self) -> int:
        return self.run.last if self.run else self.quantity.last if self.quantity else 0

    @property
    def head(self) -> Quantity:
        return self.members[0]

    @property
    def text(self) -> str:
        return ", ".join(m.text for m in self.members)


@dataclass
class Item:
    """An intervention the question names, with what it states about it."""

    type: str
    mention: Mention | None
    fields: dict[str, Any] = field(default_factory=dict)
    sweeps: dict[str, list[float]] = field(default_factory=dict)
    start: float | None = None
    duration: float | None = None
    until: float | None = None
    to_end: bool = False
    same: bool = False
    negated: bool = False
    implicit: bool = False
    timing_at: int | None = None
    same_timing: bool = False
    alternative_to: int | None = None
    at: int | None = None
    counts: dict[str, list[float]] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)
    field_at: dict[str, int] = field(default_factory=dict)

    @property
    def first(self) -> int:
        return self.mention.first if self.mention else 10**9

    @property
    def position(self) -> int:
        return self.at if self.at is not None else self.first


@dataclass
class Statement:
    """A parameter's value as the question states it (`values` holds several for a list or a range)."""

    param: str
    values: list[Any]
    first: int
    last: int
    text: str
    run: Run | None = None
    mention: Mention | None = None
    positions: list[int] = field(default_factory=list)
    share: bool = False  # stated as a share of the parameter's `share_of` ("0.1% of the town")


@dataclass
class Change:
    """A parameter changed from its stated or default value: x `factor`, + `delta`, or `to` a value."""

    param: str
    first: int
    last: int
    text: str
    factor: float | None = None
    delta: float | None = None
    to: float | None = None


@dataclass
class Target:
    """A value a metric should reach (a calibration target); `share` when stated as a share of a parameter."""

    metric: str
    value: float
    relation: str
    first: int
    last: int
    text: str
    mention: Mention | None = None
    share: bool = False


@dataclass
class Asked:
    """What a calibration searches: a parameter or an intervention field, with the question's bounds."""

    param: str | None = None
    intervention: str | None = None
    field: str | None = None
    lower: float | None = None
    upper: float | None = None
    first: int = 0
    superlative: str | None = None

    @property
    def target(self) -> str:
        return f"{self.intervention}.{self.field}" if self.intervention else str(self.param)


@dataclass
class Reading:
    model: str
    language: ModelLanguage
    tokens: list[Token]
    mentions: list[Mention]
    cues: list[Mention]
    relations: list[Mention]
    changes_layer: list[Mention]
    timing: list[Mention]
    quantities: list[Quantity]
    runs: list[Run]
    subjects: list[Mention] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    probability: float | None = None
    asked: Asked | None = None
    asked_candidates: list[Asked] = field(default_factory=list)
    unplaced: list[Unit] = field(default_factory=list)
    vague: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    breakdowns: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def cue(self, name: str) -> list[Mention]:
        return [m for m in self.cues if m.has("cue", name)]

    def has_cue(self, name: str) -> bool:
        return bool(self.cue(name))

    def text_of(self, first: int, last: int) -> str:
        return " ".join(t.text for t in self.tokens[first:last])


# --------------------------------------------------------------------------- fitting values to declarations


def fit(q: Quantity, dimension: Dimension, unit: str | None) -> tuple[bool, float, float]:
    """(fits, value in the declared unit, bonus) for a quantity offered to a declared dimension."""
    rule = _FITS.get(dimension)
    if rule is None or q.dimension in ("money", "clock"):
        return False, q.value, 0.0
    return rule(q, unit)


def _fit_count(q: Quantity, unit: str | None) -> tuple[bool, float, float]:
    v = q.value
    whole = not math.isfinite(v) or float(v).is_integer()
    return (q.dimension == "number" and not q.per and whole), v, 0.0


def _fit_number(q: Quantity, unit: str | None) -> tuple[bool, float, float]:
    return (q.dimension == "number" and not q.per), q.value, 0.0


def _fit_share(q: Quantity, unit: str | None) -> tuple[bool, float, float]:
    if q.dimension == "share":
        return True, q.value, 1.0
    if q.dimension == "number" and 0 <= q.value <= 1 and not q.per:
        return True, q.value, -1.0
    return False, q.value, 0.0


def _fit_rate(q: Quantity, unit: str | None) -> tuple[bool, float, float]:
    if q.dimension != "number":
        return False, q.value, 0.0
    if q.per and unit:
        return True, q.per_to(unit), 2.0
    return True, q.value, -1.0


def _fit_day(q: Quantity, unit: str | None) -> tuple[bool, float, float]:
    if q.dimension == "day":
        return True, q.value, 2.0
    return (q.dimension == "number" and q.value >= 0), q.value, -1.0


def _fit_measure(dimension: str) -> Any:
    """A measured dimension: in its own unit converted, or a bare number taken as the declared unit."""

    def rule(q: Quantity, unit: str | None) -> tuple[bool, float, float]:
        if q.dimension == dimension and unit and q.unit:
            try:
                return True, q.to(unit), 1.5
            except Exception:
                return False, q.value, 0.0
        if q.dimension == "number" and not q.per:
            return True, q.value, -2.5
        return False, q.value, 0.0

    return rule


_FITS: dict[str, Any] = {
    "count": _fit_count,
    "number": _fit_number,
    "share": _fit_share,
    "rate": _fit_rate,
    "day": _fit_day,
    **{d: _fit_measure(d) for d in ("duration", "speed", "length", "temperature")},
}


def _metric_fit(q: Quantity, language: ModelLanguage, metric: str) -> tuple[bool, float, float]:
    m = language.metrics[metric]
    if m.share:
        return fit(q, "share", None)
    if m.dimension == "day":
        return fit(q, "day", "day")
    if m.dimension == "duration":
        return fit(q, "duration", m.unit or "minute")
    if m.share_of and q.dimension == "share" and not q.points:
        return True, q.value, -0.5  # "10% of the town infectious at once": converted once its size is known
    ok, value, bonus = fit(q, "count", None)
    if not ok and q.dimension == "number" and not q.per:
        return True, q.value, -0.5  # "5.5 trips per day on average"
    return ok, value, bonus


# --------------------------------------------------------------------------- proximity


def _cost(tokens: list[Token], first: int, last: int, busy: dict[int, int], mention_tokens: dict[int, int]) -> float:
    """The cost of the tokens between a value and a phrase: other values and phrases, clause breaks."""
    cost = 0.0
    seen_mentions: set[int] = set()
    seen_units: set[int] = set()
    for k in range(first, last):
        t = tokens[k]
        if k in busy:
            if busy[k] not in seen_units:
                seen_units.add(busy[k])
                cost += 3.0
            continue
        if k in mention_tokens:
            if mention_tokens[k] not in seen_mentions:
                seen_mentions.add(mention_tokens[k])
                cost += 2.0
            continue
        w = t.text
        if w in (".", "?", "!", ";"):
            cost += 6.0
        elif w == ",":
            cost += 2.5
        elif w == ":":
            cost += 1.5
        elif w in ("(", ")"):
            cost += 0.5
        elif w in cues.SOFT_BREAKS:
            cost += 1.5
        elif w in cues.ARTICLES:
            cost += 0.2
        elif w in cues.CONNECTORS:
            cost += 0.3
        else:
            cost += 0.8
    return cost


def proximity(r: _Linker, unit: Unit, mention: Mention) -> float:
    """How strongly a value and a phrase belong together: 12 inside, 10 name-then-value, 9 value-then-noun."""
    if mention.first <= unit.first and unit.last <= mention.last and unit.first > mention.anchors[0]:
        return 12.0  # "isolating seven in ten cases": the value sits in the phrase's gap
    if unit.first <= mention.first and mention.last <= unit.last:
        return 9.0  # "two million people vs two hundred thousand": the noun sits inside the run
    busy = {k: v for k, v in r.busy.items() if not unit.first <= k < unit.last}
    if mention.last <= unit.first:
        base = 10.0
        return base - _cost(r.tokens, mention.last, unit.first, busy, r.mention_tokens_except(mention))
    if unit.last <= mention.first:
        last_word = r.tokens[mention.anchors[-1]].text
        base = 3.0 if last_word in _INTRODUCERS else 10.0 if unit.last == mention.first else 9.0
        return base - _cost(r.tokens, unit.last, mention.first, busy, r.mention_tokens_except(mention))
    return -100.0


# --------------------------------------------------------------------------- the linker


@dataclass
class _Candidate:
    score: float
    unit: Unit
    slot: tuple[Any, ...]
    apply: Any  # a callable taking the Reading


class _Linker:
    def __init__(self, reading: Reading) -> None:
        self.r = reading
        self.tokens = reading.tokens
        in_runs = {(q.first, q.last) for run in reading.runs for q in run.members}
        in_runs |= {(run.step.first, run.step.last) for run in reading.runs if run.step is not None}
        self.units = [Unit(run=run) for run in reading.runs] + [
            Unit(quantity=q) for q in reading.quantities if (q.first, q.last) not in in_runs
        ]
        self.units.sort(key=lambda u: u.first)
        self.busy: dict[int, int] = {}
        for n, u in enumerate(self.units):
            for k in range(u.first, u.last):
                self.busy[k] = n
            for q in u.members:
                for k in q.per_tokens:
                    self.busy[k] = n
        self._mention_tokens: dict[int, int] = {}
        for n, m in enumerate(reading.mentions):
            for a in m.anchors:
                self._mention_tokens[a] = n

    def mention_tokens_except(self, mention: Mention) -> dict[int, int]:
        own = set(mention.anchors)
        return {k: v for k, v in self._mention_tokens.items() if k not in own}


def read(
    reading: Reading, previous_items: list[str] | None = None, previous_metrics: list[str] | None = None
) -> Reading:
    """Fill `reading` with what every stated value is (see the module docstring).

    previous_items, previous_metrics: what the previous turn of a conversation named, for a
    follow-up that refers to it ("60% compliance" after a question about case isolation, "to get
    that under 35 minutes" after a question about the p90).
    """
    r = reading
    model = r.model
    linker = _Linker(r)
    r.items = _items(r, previous_items or [])
    r.metrics = list(dict.fromkeys(k for m in r.mentions for k in m.keys("metric", model)))
    r.breakdowns = list(dict.fromkeys(k for m in r.mentions for k in m.keys("breakdown", model)))
    r.excluded = list(dict.fromkeys(k for m in r.mentions for k in m.keys("exclude", model)))
    asked = _asked(r)
    r.asked_candidates = asked
    candidates: list[_Candidate] = []
    for unit in linker.units:
        candidates += _param_candidates(r, linker, unit, asked)
        candidates += _change_candidates(r, linker, unit)
        candidates += _item_candidates(r, linker, unit)
        if asked or previous_metrics:
            candidates += _target_candidates(r, linker, unit, asked)
            candidates += _probability_candidates(r, unit)
        candidates += _rate_candidates(r, linker, unit)
        if previous_metrics and asked and not r.metrics:
            candidates += _previous_target_candidates(r, unit, previous_metrics)
    candidates.sort(key=lambda c: -c.score)
    if _DEBUG:
        for c in candidates:
            print(f"  cand {c.score:6.2f} {c.unit.text!r:20} {c.slot}")
    taken_units: set[int] = set()
    taken_slots: dict[tuple[Any, ...], _Candidate] = {}
    seen_units: set[int] = set()
    # the same value again for a taken role: placed, unless another intervention's own role wants it
    repeated: dict[int, tuple[Any, ...]] = {}
    for c in candidates:
        if c.score < 0.5 or id(c.unit) in taken_units:
            continue
        if id(c.unit) in repeated and not _another_interventions_role(r, repeated[id(c.unit)], c.slot):
            continue
        best_for_unit = id(c.unit) not in seen_units
        seen_units.add(id(c.unit))
        if c.slot in taken_slots:
            # a second value for a role already taken, at the unit's best: an alternative ("20 km/h vs
            # 25 km/h", "from day 10 versus from day 40") or the same value again ("3 km by 3 km"), which
            # may still be another role's own ("quarantine at 75% vs isolation at 75%")
            first = taken_slots[c.slot]
            if best_for_unit and _same_value(first.unit, c.unit):
                repeated[id(c.unit)] = c.slot
            elif best_for_unit and _alternative(r, first.unit, c.unit) and _add_alternative(r, first, c):
                taken_units.add(id(c.unit))
            continue
        taken_units.add(id(c.unit))
        taken_slots[c.slot] = c
        c.apply(r)
    r.unplaced = [u for u in linker.units if id(u) not in taken_units and id(u) not in repeated]
    _value_phrases(r)
    _factor_verbs(r)
    _shares_of(r)
    _apply_field_changes(r)
    merge_items(r, offers_choice(r))
    _share_timing(r)
    r.asked = _finish_asked(r, asked)
    r.vague = _vague(r)
    _named_without_value(r)
    return r


def _named_without_value(r: Reading) -> None:
    """ "cold windy weather with 10 degrees": "windy" names the wind but states no speed; the answer says so."""
    from sim.registry import get_model

    fields = get_model(r.model).params.model_fields
    given = {s.param for s in r.statements} | {c.param for c in r.changes} | set(r.vague)
    if r.asked is not None and r.asked.param:
        given.add(r.asked.param)
    for m in r.mentions:
        senses = m.of("param", r.model)
        if len(senses) != 1 or m.of("metric", r.model) or m.of("intervention", r.model) or m.of("value", r.model):
            continue
        name = senses[0].key
        if name in given or name not in fields or r.language.params[name].key or r.language.params[name].horizon:
            continue  # a horizon's words ("simulate", "over") place a duration; alone they name none
        given.add(name)
        default = fields[name].default
        used = "left it unset, as the model does by default" if default is None else f"used the default {default}"
        r.notes.append(f"'{m.text}' names {name} but states no value: {used}")


def _shares_of(r: Reading) -> None:
    """Counts stated for shares and shares stated for counts, converted with the parameter they are of."""

    def base(name: str) -> float:
        stated = [s for s in r.statements if s.param == name and len(s.values) == 1]
        if stated:
            return float(stated[0].values[0])
        from sim.registry import get_model

        return float(get_model(r.model).params.model_fields[name].default)

    for item in r.items:
        for name, counts in item.counts.items():
            of = r.language.interventions[item.type].fields[name].share_of
            if of and base(of) > 0:
                values = [c / base(of) for c in counts]
                if len(values) == 1:
                    item.fields[name] = values[0]
                else:
                    item.sweeps[name] = values
                r.notes.append(
                    f"read {', '.join(f'{c:g}' for c in counts)} people a day as "
                    f"{', '.join(f'{v:.4g}' for v in values)} of the {of} a day"
                )
    for s in r.statements:
        of = r.language.params[s.param].share_of
        if s.share and of and base(of) > 0:
            share = s.values[0]
            s.values = [max(1, round(share * base(of)))]
            s.share = False
            r.notes.append(f"read {share * 100:g}% of the {of} as {s.param} = {s.values[0]:,}")
    for t in r.targets:
        of = r.language.metrics[t.metric].share_of
        if t.share and of:
            t.value = t.value * base(of)
            t.share = False


# -- alternatives ------------------------------------------------------------------------------

_ALTERNATIVE_WORDS = frozenset(
    {"vs", "versus", "or", "instead", "rather", "compared", "against", "than", "one", "ones"}
)


def _same_value(a: Unit, b: Unit) -> bool:
    if a.run is not None or b.run is not None:
        return False
    qa, qb = a.head, b.head
    return qa.dimension == qb.dimension and qa.unit == qb.unit and qa.value == qb.value


def _alternative(r: Reading, a: Unit, b: Unit) -> bool:
    """Two values of one role offered as alternatives: joined by "vs", "or", "instead of", "one of"..."""
    lo, hi = (a, b) if a.first < b.first else (b, a)
    between = {t.text for t in r.tokens[lo.last : hi.first]}
    if between & _ALTERNATIVE_WORDS:
        return True
    compares = any(
        r.tokens[m.first].text in ("compare", "comparing", "difference", "between", "versus", "vs")
        for m in [*r.cue("options"), *r.cue("explain"), *r.cue("what_if")]
    )
    before = {t.text for t in r.tokens[max(0, lo.first - 6) : lo.first]}
    return "and" in between and (compares or "between" in before)


def _add_alternative(r: Reading, first: _Candidate, other: _Candidate) -> bool:
    slot = first.slot
    if slot[0] == "param":
        statement = next((s for s in r.statements if s.first == first.unit.first), None)
        if statement is None or len(other.unit.members) != 1:
            return False
        before = len(r.statements)
        other.apply(r)
        added = r.statements[before:]
        if not added:
            return False
        r.statements = r.statements[:before]
        pairs = sorted(
            zip(
                [*statement.positions[: len(statement.values)], other.unit.first],
                [*statement.values, *added[0].values],
                strict=False,
            )
        )
        statement.positions = [p for p, _ in pairs]  # in the order the question states them
        statement.values = [v for _, v in pairs]
        return True
    if slot[0] in ("start", "duration", "until", "field", "timing"):
        n = slot[1]
        original = r.items[n]
        joined = _same_alternative(r, n, slot, other.unit.first)
        if joined is not None:  # "versus one of 40% for 4 weeks": both values describe one alternative
            _apply_to_item(r, _Candidate(other.score, other.unit, (slot[0], joined, *slot[2:]), None), other, joined)
            return True
        copy = Item(
            type=original.type,
            mention=original.mention,
            fields=dict(original.fields),
            sweeps=dict(original.sweeps),
            start=original.start,
            duration=original.duration,
            until=original.until,
            to_end=original.to_end,
            alternative_to=n,
            at=other.unit.first,
        )
        r.items.append(copy)
        index = len(r.items) - 1
        remapped = _Candidate(other.score, other.unit, (slot[0], index, *slot[2:]), None)
        _apply_to_item(r, remapped, other, index)
        return True
    return False


def _another_interventions_role(r: Reading, taken: tuple[Any, ...], slot: tuple[Any, ...]) -> bool:
    """A slot of an intervention of another type than the one a repeated value was first meant for
    ("quarantine at 75% vs isolation at 75%"), not the same one named again ("40% ... each")."""
    if slot[0] not in ("field", "start", "duration", "until", "timing") or taken[0] != slot[0]:
        return False
    return r.items[slot[1]].type != r.items[taken[1]].type


def _same_alternative(r: Reading, n: int, slot: tuple[Any, ...], first: int) -> int | None:
    """An alternative of item n already begun in the same stretch of the question as the value at
    token `first` (nothing offering another option between), which does not yet state what `slot` sets."""
    for k, item in enumerate(r.items):
        if item.alternative_to != n or item.at is None:
            continue
        between = {t.text for t in r.tokens[min(item.at, first) : max(item.at, first)]}
        if between & {"vs", "versus", "or", ";", "against"}:
            continue
        if _not_stated_yet(item, r.items[n], slot):
            return k
    return None


def _not_stated_yet(item: Item, original: Item, slot: tuple[Any, ...]) -> bool:
    """What `slot` sets is unset on the alternative, or still what it copied from the original."""
    if slot[0] == "field":
        return item.fields.get(slot[2]) in (None, original.fields.get(slot[2]))
    if slot[0] == "timing":
        return item.start in (None, original.start) and item.duration in (None, original.duration)
    attr = {"duration": "duration", "start": "start", "until": "until"}[slot[0]]
    return getattr(item, attr) in (None, getattr(original, attr))


def _apply_to_item(r: Reading, remapped: _Candidate, other: _Candidate, index: int) -> None:
    slot = remapped.slot
    q = other.unit.head
    if slot[0] == "start":
        _set_start(index, q)(r)
    elif slot[0] == "until":
        _set_until(index, q)(r)
    elif slot[0] == "duration":
        _set_duration(index, q)(r)
    elif slot[0] == "timing":
        _set_span(index, other.unit)(r)
    elif slot[0] == "field":
        _set_field(index, slot[2], other.unit)(r)


# -- interventions -----------------------------------------------------------------------------


def _items(r: Reading, previous_items: list[str]) -> list[Item]:
    items: list[Item] = []
    for m in r.mentions:
        types = [k for k in m.keys("intervention", r.model)]
        if not types:
            continue
        negated = _before_words(r.tokens, m.first, 3) & {"no", "without", "not"} != set()
        same = "same" in _before_words(r.tokens, m.first, 3)
        previous = next((i for i in reversed(items) if i.type == types[0]), None)
        if previous is not None and previous.mention is not None and not same and not negated:
            between = {t.text for t in r.tokens[previous.mention.last : m.first]}
            if m.first - previous.mention.last <= 3 and not between & {",", "or", "vs", "versus", ";", "("}:
                previous.mention = _joined_mention(previous.mention, m)  # "a lockdown cutting contacts by 50%"
                continue
        items.append(Item(type=types[0], mention=m, negated=negated, same=same))
    # a field named without its intervention ("60% compliance"): the only intervention that has it
    for m in r.mentions:
        if any(i.type == s.key for s in m.of("field", r.model) for i in items):
            continue  # "a vaccine that's 95% effective": the field of the intervention named
        for s in m.of("field", r.model):
            if any(i.type == s.key for i in items):
                continue
            owners = [k for k, iv in r.language.interventions.items() if s.field in iv.fields]
            if previous_items:
                owners = [k for k in owners if k in previous_items] or owners
            valued = any(
                (0 <= m.first - q.last <= 1 or 0 <= q.first - m.last <= 1) and q.dimension == "share"
                for q in r.quantities
            )  # "60% compliance": a field with its value, not "the effect"
            if len(owners) == 1 and valued and not any(i.type == owners[0] for i in items):
                items.append(Item(type=owners[0], mention=None, implicit=True))
    return items


def _joined_mention(a: Mention, b: Mention) -> Mention:
    return Mention(a.first, b.last, (*a.anchors, *b.anchors), a.senses, f"{a.text} {b.text}", a.gap + b.first - a.last)


def offers_choice(r: Reading) -> bool:
    """The question asks to choose between options ("which helps most", "A or B", "versus")."""
    strong = [m for m in r.cue("options") if r.tokens[m.first].text not in ("each", "most", "either")]
    if [m for m in strong if r.tokens[m.first].text != "or"]:
        return True
    return bool(strong) and (len([i for i in r.items if not i.negated]) + len(r.changes)) >= 2


def merge_items(r: Reading, choice: bool) -> None:
    """Mentions of one intervention in a question without options are one intervention."""
    if choice:
        _merge_topic(r)
        return
    merged: list[Item] = []
    originals = {i for i, item in enumerate(r.items) if any(o.alternative_to == i for o in r.items)}
    for n, item in enumerate(r.items):
        if item.alternative_to is not None or n in originals:
            merged.append(item)  # alternatives stay apart; what the others state reaches them below
            continue
        same = next(
            (
                m
                for m in merged
                if m.type == item.type
                and m.negated == item.negated
                and m.alternative_to is None
                and r.items.index(m) not in originals
            ),
            None,
        )
        if same is None:
            merged.append(item)
            continue
        for name, value in item.fields.items():
            same.fields.setdefault(name, value)
        for name, values in item.sweeps.items():
            same.sweeps.setdefault(name, values)
        for attr in ("start", "duration", "until", "timing_at"):
            if getattr(same, attr) is None:
                setattr(same, attr, getattr(item, attr))
        same.to_end = same.to_end or item.to_end
    r.items = merged


def _merge_topic_bare(item: Item) -> bool:
    return not (
        item.negated
        or item.fields
        or item.sweeps
        or item.alternative_to is not None
        or item.start is not None
        or item.duration is not None
        or item.until is not None
        or item.to_end
    )


def _merge_topic_later(r: Reading, item: Item) -> list[Item]:
    """The items of the same type stated in a later sentence than `item`."""
    if item.mention is None:
        return []
    end = next(
        (t.index for t in r.tokens[item.mention.last :] if t.text in (".", "?", "!", ";")),
        None,
    )
    if end is None:
        return []
    return [o for o in r.items if o is not item and o.type == item.type and not o.negated and o.first > end]


def _merge_topic(r: Reading) -> None:
    """ "What difference do workplace closures make? Compare none with half of them closed from day 15":
    an intervention named bare in one sentence and stated in a later one is the one option, not two."""
    if any(item.alternative_to is not None for item in r.items):
        return  # alternatives point at items by place: keep every item where it is
    for item in list(r.items):
        if _merge_topic_bare(item) and len(_merge_topic_later(r, item)) == 1:
            r.items.remove(item)


def _pronoun_anchors(r: Reading, n: int) -> list[Mention]:
    """ "versus one of 8 weeks": "one" stands for the intervention named before it."""
    out = []
    busy = {k for q in r.quantities for k in range(q.first, q.last)}
    for k, t in enumerate(r.tokens):
        if t.text not in ("one", "ones") or k in busy:
            continue
        if not {x.text for x in r.tokens[max(0, k - 3) : k]} & {"versus", "vs", "or", "with", "than", "instead", "and"}:
            continue
        before = [i for i, item in enumerate(r.items) if item.mention is not None and item.mention.last <= k]
        if before and max(before, key=lambda i: r.items[i].first) == n:
            out.append(Mention(k, k + 1, (k,), [], t.text))
    return out


def _item_candidates(r: Reading, linker: _Linker, unit: Unit) -> list[_Candidate]:
    out: list[_Candidate] = []
    for n, item in enumerate(r.items):
        if item.negated:
            continue  # "versus no lockdown": nothing stated is about it
        anchors = _item_anchors(r, n, item)
        out += _item_field_candidates(r, linker, unit, n, item, anchors)
        if item.mention is not None:
            out += _item_timing_candidates(r, linker, unit, n, item.mention, anchors)
    return out


def _item_anchors(r: Reading, n: int, item: Item) -> list[Mention]:
    """Where an item is mentioned: its name, the pronouns for it, and a field phrase right after it
    ("... households with 70% compliance for 60 days")."""
    anchor = item.mention
    if anchor is None:
        return []
    fields = [
        fm
        for fm in r.mentions
        if any(s.key == item.type for s in fm.of("field", r.model)) and 0 <= fm.first - anchor.last <= 6
    ]
    return [anchor, *_pronoun_anchors(r, n), *fields]


def _item_field_candidates(
    r: Reading, linker: _Linker, unit: Unit, n: int, item: Item, anchors: list[Mention]
) -> list[_Candidate]:
    """The value as the item's strength or one of its named fields."""
    out: list[_Candidate] = []
    iv = r.language.interventions[item.type]
    for field_name, flang in iv.fields.items():
        ok = all(fit(m, flang.dimension, flang.unit)[0] for m in unit.members)
        counts = flang.share_of is not None and all(
            m.dimension == "number" and m.per and m.value > 1 for m in unit.members
        )
        if not ok and not counts:
            continue
        bonus = 1.0 if counts else fit(unit.head, flang.dimension, flang.unit)[2]
        if field_name != iv.strength:
            bonus -= 1.0
        best = max(proximity(linker, unit, a) for a in anchors) + bonus if anchors else -100.0
        if any(a.intervention == item.type and a.field == field_name for a in r.asked_candidates):
            bonus -= 4.0  # "what case-isolation compliance brings ... to 50%": the compliance is asked for
            best -= 4.0
        for fm in r.mentions:
            if any(s.key == item.type and s.field == field_name for s in fm.of("field", r.model)):
                best = max(best, proximity(linker, unit, fm) + bonus + 2.5)
        if best > -50:
            out.append(_Candidate(best, unit, ("field", n, field_name), _set_field(n, field_name, unit)))
    return out


def _item_timing_candidates(
    r: Reading, linker: _Linker, unit: Unit, n: int, anchor: Mention, anchors: list[Mention]
) -> list[_Candidate]:
    """The value as the item's start, end, span or length, or a sweep over them."""
    near = max(proximity(linker, unit, a) for a in anchors)
    run = unit.run
    if all(m.dimension == "day" for m in unit.members):
        start_word = _timing_word_before(r, unit.first, "start")
        score = near + (1.0 if start_word else 0)
        if start_word and len({i.type for i in r.items}) == 1:
            score = max(score, 3.0)  # "from day 20", however far from the one intervention it starts
        if run is not None and run.kind == "range" and len(unit.members) == 2:
            return [_Candidate(score + 1, unit, ("timing", n), _set_span(n, unit))]
        if run is not None and len(unit.members) >= 3:  # "close on day 10, 20, 30 or 40": a sweep
            return [_Candidate(score + 0.5, unit, ("start", n), _sweep_timing(n, "start", unit))]
        if run is not None:  # "from day 10 versus from day 40": one option per start
            return [_Candidate(score + 0.5, unit, ("start", n), _set_starts(n, unit))]
        if _timing_word_before(r, unit.first, "until"):
            return [_Candidate(score + 1, unit, ("until", n), _set_until(n, unit.head))]
        return [_Candidate(score + 0.5, unit, ("start", n), _set_start(n, unit.head))]
    if not all(m.dimension == "duration" for m in unit.members):
        return []
    if (
        run is None
        and not _measured_at(r, unit.first)
        and not _timing_word_before(r, unit.first, "length")  # "for 3 weeks in a town": a length
        and (_timing_word_before(r, unit.first, "elapsed_before") or _timing_word_after(r, unit.last, "elapsed_after"))
    ):  # "starting 2 weeks in", "at the 3-week mark": the time since the start, so the first day
        return [_Candidate(near + 4.0, unit, ("start", n), _set_start_after(n, unit.head))]
    length_word = _timing_word_before(r, unit.first, "length")
    if run is not None:
        score = near + (1.5 if length_word else 0.0)
        return [_Candidate(score, unit, ("duration", n), _sweep_timing(n, "duration", unit))]
    adjacent = unit.last <= anchor.first and anchor.first - unit.last <= 1  # "a 6-week lockdown"
    score = near + (1.5 if length_word or adjacent else 0.0)
    return [_Candidate(score, unit, ("duration", n), _set_duration(n, unit.head))]


def _set_field(n: int, field_name: str, unit: Unit) -> Any:
    def apply(r: Reading) -> None:
        item = r.items[n]
        flang = r.language.interventions[item.type].fields[field_name]
        if flang.share_of and all(m.dimension == "number" and m.per and m.value > 1 for m in unit.members):
            item.counts[field_name] = [
                m.value for m in unit.members
            ]  # people a day: a share once the size of what it is a share of is known
            return
        values = [fit(m, flang.dimension, flang.unit)[1] for m in unit.members]
        if flang.reduces and _what_is_left(r, unit):
            values = [round(1 - v, 10) for v in values]  # "contacts down to 70% of normal": 30% taken away
        if unit.run is not None:
            expanded = expand(unit.run) or values
            item.sweeps[field_name] = expanded
        else:
            item.fields[field_name] = values[0]
        item.field_at[field_name] = unit.first

    return apply


def _what_is_left(r: Reading, unit: Unit) -> bool:
    """ "to 70% of normal", "at 60% of usual": the share states what is left, not what is taken."""
    before = r.tokens[unit.first - 1].text if unit.first > 0 else ""
    after = " ".join(t.text for t in r.tokens[unit.last : unit.last + 3])
    return before in ("to", "at", "had", "have", "keep", "kept", "with", "only", "just") and any(
        after.startswith(w)
        for w in (
            "of normal",
            "of usual",
            "of the usual",
            "of what",
            "of before",
            "of current",
            "of pre",
            "of the normal",
            "of their usual",
            "of its usual",
            "of baseline",
        )
    )


def _set_start(n: int, q: Quantity) -> Any:
    def apply(r: Reading) -> None:
        r.items[n].start = q.value
        r.items[n].timing_at = q.first

    return apply


def _set_start_after(n: int, q: Quantity) -> Any:
    """A length of time since the run began as the first day ("2 weeks in" starts on day 14)."""

    def apply(r: Reading) -> None:
        days = q.to("day")
        r.items[n].start = int(days) if float(days).is_integer() else days
        r.items[n].timing_at = q.first

    return apply


def _sweep_timing(n: int, which: str, unit: Unit) -> Any:
    """Several starts or lengths of one intervention: a sweep of that timing field."""

    def apply(r: Reading) -> None:
        timing = r.language.timing
        if timing is None:
            return
        item = r.items[n]
        name = timing.start_field if which == "start" else timing.duration_field
        values = [m.value if which == "start" else m.to("day") for m in unit.members]
        values = [int(v) if float(v).is_integer() else v for v in values]
        if len(values) == 2:
            if which == "start":
                _set_starts(n, unit)(r)
                return
            item.duration = values[0]
            r.items.append(
                Item(
                    type=item.type,
                    mention=item.mention,
                    fields=dict(item.fields),
                    start=item.start,
                    duration=values[1],
                    alternative_to=n,
                    at=unit.members[1].first,
                )
            )
            return
        item.sweeps[name] = values
        item.timing_at = unit.first

    return apply


def _set_starts(n: int, unit: Unit) -> Any:
    def apply(r: Reading) -> None:
        first, *others = unit.members
        _set_start(n, first)(r)
        for q in others:
            original = r.items[n]
            joined = _same_alternative(r, n, ("start", n), q.first)
            if joined is not None:  # "a lockdown of 50% from day 20 vs one of 30% from day 40"
                r.items[joined].start, r.items[joined].timing_at = q.value, q.first
                continue
            r.items.append(
                Item(
                    type=original.type,
                    mention=original.mention,
                    fields=dict(original.fields),
                    start=q.value,
                    duration=original.duration,
                    to_end=original.to_end,
                    alternative_to=n,
                    at=q.first,
                    timing_at=q.first,
                )
            )

    return apply


def _set_until(n: int, q: Quantity) -> Any:
    def apply(r: Reading) -> None:
        r.items[n].until = q.value
        r.items[n].timing_at = q.first

    return apply


def _set_span(n: int, unit: Unit) -> Any:
    def apply(r: Reading) -> None:
        a, b = unit.members[0].value, unit.members[1].value
        r.items[n].start, r.items[n].until = min(a, b), max(a, b)
        r.items[n].timing_at = unit.first

    return apply


def _set_duration(n: int, q: Quantity) -> Any:
    def apply(r: Reading) -> None:
        r.items[n].duration = q.to("day")
        if r.items[n].timing_at is None:
            r.items[n].timing_at = q.first
        if "same" in _before_words(r.tokens, q.first, 2):
            r.items[n].same_timing = True  # "for the same 6 weeks": and from the same day

    return apply


def _timing_word_before(r: Reading, first: int, category: str) -> bool:
    return any(m.last in (first, first - 1) and m.has(category) for m in r.timing)


def _measured_at(r: Reading, first: int) -> bool:
    """ "the attack rate 3 weeks in", "infected after 60 days": a time right after a metric is when it is read."""
    return any(first - 3 < m.last <= first and m.of("metric", r.model) for m in r.mentions)


def _timing_word_after(r: Reading, last: int, category: str) -> bool:
    """A timing word right after a value; "in" only at the end of a phrase ("2 weeks in," but not
    "3 weeks in a town of 15000")."""
    for m in r.timing:
        if m.first != last or not m.has(category):
            continue
        nxt = r.tokens[m.last].text if m.last < len(r.tokens) else ""
        if r.tokens[m.first].text == "in" and m.last - m.first == 1 and (nxt.isalnum() and nxt not in ("for", "and")):
            continue
        return True
    return False


def _share_timing(r: Reading) -> None:
    """Timing stated once for several interventions ("Starting on day 20, which cuts ...: A, B or C?",
    "both from day 20 for 4 weeks"), "the same 6 weeks", and "until day 60" as a duration."""
    _inherit_from_original(r)
    _until_as_duration(r)
    _to_the_end(r)
    _spread_stated_timing(r)
    _spread_each_fields(r)
    _spread_both_fields(r)
    _same_as_before(r)


def _inherit_from_original(r: Reading) -> None:
    """An alternative keeps what the original states besides its own difference."""
    for item in r.items:
        if item.alternative_to is None or item.alternative_to >= len(r.items):
            continue
        original = r.items[item.alternative_to]
        for name, value in original.fields.items():
            item.fields.setdefault(name, value)
        if item.duration is None and item.until is None and not item.to_end:
            item.duration, item.to_end = original.duration, original.to_end
        if item.start is None:
            item.start = original.start


def _until_as_duration(r: Reading) -> None:
    for item in r.items:
        if item.until is not None:
            start = item.start if item.start is not None else 0.0
            if item.until > start:
                item.duration = item.until - start


def _to_the_end(r: Reading) -> None:
    for m in r.timing:
        if m.has("to_end"):
            nearest = _nearest_item(r, m.first)
            if nearest is not None:
                nearest.to_end = True
                nearest.duration = None


def _spread_stated_timing(r: Reading) -> None:
    """One timing before all interventions, or after all of them when they are taken together
    ("close schools and workplaces for 4 weeks from day 30"), is the timing of each."""
    explicit = [i for i in r.items if i.mention is not None]
    if len(explicit) < 2:
        return
    first_at = min(i.first for i in explicit)
    last_at = max(i.mention.last for i in explicit if i.mention is not None)
    together = not offers_choice(r)
    for source in list(explicit):
        if source.timing_at is None:
            continue
        at = source.timing_at
        named = {k for i in explicit if i.mention is not None for k in range(i.mention.first, i.mention.last)}
        words = {t.text for t in r.tokens[max(0, at - 3) : at] if t.index not in named}  # not "every workplace"
        after_all = at >= last_at and (together or bool(words & {"both", "each", "all", "every"}))
        if at >= last_at and not after_all and source.start is not None:
            # "a 4-week lockdown and an 8-week lockdown from day 20": the start of every option of that kind
            for item in explicit:
                if item is not source and item.type == source.type and item.start is None:
                    item.start = source.start
        if at < first_at or after_all:
            for item in explicit:
                if item is source or item.timing_at is not None:
                    continue
                item.start, item.duration, item.to_end = source.start, source.duration, source.to_end
                item.timing_at = source.timing_at


def _spread_each_fields(r: Reading) -> None:
    """ "... versus one of 8 weeks, 40% contact reduction each": fields stated once for every item of a type."""
    for item in list(r.items):
        if item.mention is None or item.start is not None or item.duration is not None or not item.fields:
            continue
        around = {t.text for t in r.tokens[item.mention.last : item.mention.last + 2]}
        around |= _before_words(r.tokens, item.mention.first, 2)
        others = [i for i in r.items if i is not item and i.type == item.type]
        bare = others and all(not i.fields for i in others)
        if (around & {"each", "both", "all"} or bare) and others:
            for other in others:
                for name, value in item.fields.items():
                    other.fields.setdefault(name, value)
            r.items.remove(item)


def _spread_both_fields(r: Reading) -> None:
    """ "lockdown from day 20 vs lockdown from day 35, both 50% effective"."""
    for item in list(r.items):
        for name, at in item.field_at.items():
            if _before_words(r.tokens, at, 2) & {"both", "each", "all"}:
                for other in r.items:
                    if other is not item and other.type == item.type and not other.negated:
                        other.fields.setdefault(name, item.fields.get(name))


def _same_as_before(r: Reading) -> None:
    """ "for the same 6 weeks", "the same measure from day 40": what an earlier item states."""
    stated = [i for i in r.items if i.start is not None or i.duration is not None or i.fields]
    for item in r.items:
        earlier = [s for s in reversed(stated) if s.first < item.first]
        if item.same_timing and item.start is None:
            source: Item | None = next((s for s in earlier if s.start is not None), None)
            if source is not None:
                item.start = source.start
        if item.same:
            source = next((s for s in earlier if s.type == item.type), None) or next(iter(earlier), None)
            if source is None:
                continue
            if source.type == item.type:
                item.fields = {**source.fields, **item.fields}
            if item.duration is None:
                item.duration = source.duration
            if item.start is None:
                item.start = source.start


def _nearest_item(r: Reading, at: int) -> Item | None:
    explicit = [i for i in r.items if i.mention is not None]
    before = [i for i in explicit if i.first <= at]
    if before:
        return max(before, key=lambda i: i.first)
    return min(explicit, key=lambda i: i.first) if explicit else None


# -- parameters --------------------------------------------------------------------------------


def _param_senses(r: Reading) -> list[tuple[Mention, Sense]]:
    return [(m, s) for m in r.mentions for s in m.of("param", r.model)]


def _noun_senses(r: Reading) -> list[tuple[Mention, Sense]]:
    return [(m, s) for m in r.mentions for s in m.of("noun", r.model)]


def _param_candidates(r: Reading, linker: _Linker, unit: Unit, asked: list[Asked]) -> list[_Candidate]:
    out: list[_Candidate] = []
    lang = r.language
    for mention, sense in _param_senses(r):
        p = lang.params[sense.key]
        fits = [fit(m, p.dimension, p.unit) for m in unit.members]
        if p.share_of and unit.run is None and unit.head.dimension == "share" and not fits[0][0]:
            of_it = unit.last < len(r.tokens) and r.tokens[unit.last].text == "of"  # "0.1% of the town ..."
            score = proximity(linker, unit, mention) - (1.0 if of_it else 3.0)
            out.append(
                _Candidate(score, unit, _param_slot(sense.key, unit), _set_param_share(sense.key, unit, mention))
            )
            continue
        if not all(f[0] for f in fits):
            continue
        score = proximity(linker, unit, mention) + fits[0][2] - _out_of_bounds(r, sense.key, fits[0][1])
        is_range = unit.run is not None and unit.run.kind == "range"
        if is_range and any(a.param == sense.key for a in asked):
            score += 2.0  # "R0 between 1.1 and 2": the bounds of the search
        elif any(a.param == sense.key and a.first == mention.first for a in asked):
            score -= 4.0  # "what R0 would leave 30k infected": the R0 is asked for, 30k is the target
        out.append(_Candidate(score, unit, _param_slot(sense.key, unit), _set_param(sense.key, unit, mention)))
    for mention, sense in _noun_senses(r):  # "200 runs": only right after the value
        p = lang.params[sense.key]
        if unit.last > mention.first or not all(fit(m, p.dimension, p.unit)[0] for m in unit.members):
            continue
        score = proximity(linker, unit, mention)
        out.append(_Candidate(score, unit, _param_slot(sense.key, unit), _set_param(sense.key, unit, mention)))
    named = _assigned_field(r, unit)  # "size=6", "base_rate: 2": the field's own name
    if named is not None:
        out.append(_Candidate(20.0, unit, _param_slot(named, unit), _set_param(named, unit, None)))
    # a value whose unit names its parameter ("15 km/h", "50 °F"), or a duration that is the run's length
    for name, p in lang.params.items():
        if p.dimension not in ("speed", "length", "temperature", "duration", "rate") or not p.unit:
            continue
        if not all(m.dimension == p.dimension or (p.dimension == "rate" and m.per) for m in unit.members):
            continue
        if p.dimension == "rate" and not all(m.per for m in unit.members):
            continue
        same_kind = [n for n, other in lang.params.items() if other.dimension == p.dimension]
        if p.dimension == "duration":
            if not p.horizon:
                continue
            score = 2.5
        else:
            score = 5.0 if len(same_kind) == 1 else 2.0
        out.append(_Candidate(score, unit, _param_slot(name, unit), _set_param(name, unit, None)))
    return out


def _assigned_field(r: Reading, unit: Unit) -> str | None:
    """The parameter whose field name stands right before the value with "=" or ":" ("days=200")."""
    k = unit.first - 1
    if k < 1 or r.tokens[k].text not in ("=", ":"):
        return None
    for name in r.language.params:
        words = name.split("_")
        first = k - len(words)
        if first >= 0 and [t.text for t in r.tokens[first:k]] == words:
            return name
    return None


def _param_slot(name: str, unit: Unit) -> tuple[str, ...]:
    """A parameter takes one value and one list of values ("Against 25 °C, how do 5 °C and 32 °C compare")."""
    return ("param_run", name) if unit.run is not None else ("param", name)


def _whole_number_param(r: Reading, name: str) -> bool:
    from sim.registry import get_model

    info = get_model(r.model).params.model_fields.get(name)
    return info is not None and info.annotation is int


def _out_of_bounds(r: Reading, name: str, value: float) -> float:
    """A penalty for a value the parameter cannot take: it is more likely meant for something else."""
    from sim.registry import get_model
    from sim.scenario import describe_allowed

    info = get_model(r.model).params.model_fields.get(name)
    if info is None or not isinstance(value, int | float) or not math.isfinite(value):
        return 0.0
    for meta in info.metadata:
        for attr, ok in (
            ("gt", lambda b: value > b),
            ("ge", lambda b: value >= b),
            ("lt", lambda b: value < b),
            ("le", lambda b: value <= b),
        ):
            bound = getattr(meta, attr, None)
            if bound is not None and not ok(bound):
                return 1.5
    _ = describe_allowed
    return 0.0


def _set_param(name: str, unit: Unit, mention: Mention | None) -> Any:
    def apply(r: Reading) -> None:
        p = r.language.params[name]
        values = [fit(m, p.dimension, p.unit)[1] for m in unit.members]
        if unit.run is not None and unit.run.kind == "range" and len(values) == 2:
            values = _range_values(r, unit.run, values, p)
        if p.dimension == "count" or _whole_number_param(r, name):
            values = [int(v) if isinstance(v, float) and math.isfinite(v) and v.is_integer() else v for v in values]
        positions = [m.first for m in unit.members] if len(unit.members) == len(values) else [unit.first] * len(values)
        for m in unit.members:
            if m.derived:
                r.notes.append(f"{name} = {_num(values[0])} ({m.derived})")
        r.statements.append(Statement(name, values, unit.first, unit.last, unit.text, unit.run, mention, positions))

    return apply


def _set_param_share(name: str, unit: Unit, mention: Mention | None) -> Any:
    """A count stated as a share of another parameter: converted once that one is known (`_shares_of`)."""

    def apply(r: Reading) -> None:
        q = unit.head
        r.statements.append(
            Statement(name, [q.value], unit.first, unit.last, unit.text, None, mention, [unit.first], share=True)
        )

    return apply


RANGE_POINTS = 5  # values tried over a range given without a step ("vary R0 between 1.5 and 3")


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _range_values(r: Reading, run: Run, ends: list[float], p: Any) -> list[float]:
    """The values a range names for a parameter: its steps; the whole numbers of a short count range
    ("max batch 1 through 4"); the two ends for a change ("doubling riders from 30 to 60"); or
    RANGE_POINTS evenly spaced values when asked to vary over it."""
    low, high = ends
    if run.steps is not None:
        count = max(run.steps, 2)  # too many for a sweep: the request's check asks for fewer
        return [round(low + (high - low) * k / (count - 1), 10) for k in range(count)]
    if run.step is not None:
        step = abs(fit(run.step, p.dimension, p.unit)[1])
        if step > 0 and math.isfinite(step) and abs(high - low) / step <= 10_000:
            count = math.floor(abs(high - low) / step + 1e-9) + 1
            sign = 1 if high >= low else -1
            return [round(low + sign * k * step, 10) for k in range(count)]
        return ends
    before = {t.text for t in r.tokens[max(0, run.first - 4) : run.first + 1]}
    changing = any(c.last <= run.first + 1 and c.first >= run.first - 4 for c in r.changes_layer)
    if "as" in before:  # "how does the peak change as R0 goes from 1 to 4": the peak along the range
        return [round(low + (high - low) * k / (RANGE_POINTS - 1), 10) for k in range(RANGE_POINTS)]
    if changing or before & cues.CHANGE_FROM_VERBS:
        return ends  # "doubling riders from 30 to 60", "if we go from 40 to 50 riders": two situations
    if p.dimension == "count" and float(low).is_integer() and float(high).is_integer() and abs(high - low) <= 20:
        sign = 1 if high >= low else -1
        return [low + sign * k for k in range(int(abs(high - low)) + 1)]
    if r.has_cue("sweep"):
        return [round(low + (high - low) * k / (RANGE_POINTS - 1), 10) for k in range(RANGE_POINTS)]
    return ends


def _rate_candidates(r: Reading, linker: _Linker, unit: Unit) -> list[_Candidate]:
    """ "1,000 orders over a 5-hour shift": a count of what a rate counts, over a stated duration."""
    out: list[_Candidate] = []
    if unit.run is not None or unit.quantity is None or unit.quantity.dimension != "number" or unit.quantity.per:
        return out
    q = unit.quantity
    for name, p in r.language.params.items():
        if p.dimension != "rate" or not p.counted or not p.unit:
            continue
        after = r.tokens[q.last : q.last + 2]
        if not after or after[0].stem not in {t for w in p.counted for t in [_stem(w)]}:
            continue
        duration = next((d for d in r.quantities if d.dimension == "duration" and 0 < d.first - q.last <= 6), None)
        if duration is None:
            continue
        between = {t.text for t in r.tokens[q.last : duration.first]}
        if not between & {"over", "in", "during", "across", "per", "within", "a", "each"}:
            continue
        per = duration.to(p.unit)
        if per <= 0:
            continue
        rate = Quantity(q.value / per, "number", None, q.first, q.last, q.start, q.end, q.text, per=p.unit)
        derived = Unit(quantity=rate)

        def apply(
            r: Reading, name: str = name, derived: Unit = derived, duration: Quantity = duration, per_unit: str = p.unit
        ) -> None:
            _set_param(name, derived, None)(r)
            r.notes.append(f"read {q.text} over {duration.text} as a rate of {derived.head.value:g} per {per_unit}")

        out.append(_Candidate(11.0, unit, ("param", name), apply))
    return out


def _stem(word: str) -> str:
    from simqa.translators.offline.text import stem

    return stem(word)


# -- changes -----------------------------------------------------------------------------------


_BEFORE_AMOUNT = frozenset(
    {
        "by",
        "about",
        "around",
        "roughly",
        "some",
        "another",
        "nearly",
        "almost",
        "to",
        "into",
        "a",
        "an",
        "the",
        "up",
        "down",
        "in",
    }
)
_AFTER_AMOUNT = frozenset({"as", "a", "an", "the", "of", "our", "their", "its", "more", "times", "all"})


def _change_candidates(r: Reading, linker: _Linker, unit: Unit) -> list[_Candidate]:
    """A value that moves a parameter: "up 40 percent", "15 more riders", "twice as long", "to 8 hours"."""
    if unit.run is not None:
        return []
    q = unit.head
    near = _change_words_near(r, q)
    to_word = q.first > 0 and r.tokens[q.first - 1].text in ("to", "into") and any(c.last <= q.first for c in near)
    to_word = to_word or _comparative_describes(r, q, near)
    declared, generic = _change_directions(r, q, near)
    if not near and q.dimension != "factor":
        return []
    out, changed = _named_change_candidates(r, linker, unit, near, declared, generic, to_word)
    out += _field_change_candidates(r, linker, unit, q, near, generic, to_word)
    unnamed = [name for name in declared if name not in changed and name in r.language.params]
    choice = _unnamed_change_choice(r, q, unnamed, declared)
    if choice is not None:
        p = r.language.params[choice]
        change = _amount(q, p.dimension, p.unit, declared[choice], to_word)
        if change is not None:
            out.append(_Candidate(9.0, unit, ("change", choice), _add_change(choice, q, change, r)))
    return out


def _change_words_near(r: Reading, q: Quantity) -> list[Mention]:
    """The change words next to a value, with only filler or the parameter's name between them."""
    tokens = r.tokens
    relation_tokens = _relation_and_intervention_tokens(r)
    param_tokens = {a for m, _ in _param_senses(r) for a in m.anchors}
    near: list[Mention] = []
    for c in r.changes_layer:
        if set(c.anchors) & relation_tokens:
            continue  # "more than 50" is a target, "cut contacts" an intervention: not a change
        if c.last <= q.first:
            between, filler = tokens[c.last : q.first], _BEFORE_AMOUNT
        elif c.first >= q.last:
            if q.dimension != "factor" and _plain_adjective(r, tokens[c.anchors[-1]].text):
                continue  # "an 8 km wide city" describes the value; "50% wider" changes it
            between, filler = tokens[q.last : c.first], _AFTER_AMOUNT
            if q.dimension not in ("share", "factor") and any(t.index in param_tokens for t in between):
                continue  # "our 60 staff grew to 80": the value is what grows ("a third of them quit": how much)
        else:
            continue
        if len(between) <= 4 and all(t.text in filler or t.index in param_tokens for t in between):
            near.append(c)
    return near


def _change_directions(r: Reading, q: Quantity, near: list[Mention]) -> tuple[dict[str, str], str | None]:
    """The direction each parameter's own words give ("faster": speed up, prep down), and the direction
    of a generic word ("more", "twice as long")."""
    generic: str | None = None
    declared: dict[str, str] = {}
    for c in near:
        for s in c.senses:
            if s.category not in ("up", "down") or s.model not in (None, r.model):
                continue
            if s.key != "*":
                declared.setdefault(s.key, s.category)
            elif generic is None:
                generic = s.category
    tokens = r.tokens
    if q.dimension == "factor" and q.last + 1 < len(tokens) and tokens[q.last].text == "as":
        for c in r.changes_layer:
            if c.first == q.last + 1:
                for s in c.senses:
                    if s.key != "*" and s.model == r.model:
                        declared.setdefault(s.key, s.category)
        generic = generic or cues.AS_ADJECTIVES.get(tokens[q.last + 1].text)
    return declared, generic


def _named_change_candidates(
    r: Reading,
    linker: _Linker,
    unit: Unit,
    near: list[Mention],
    declared: dict[str, str],
    generic: str | None,
    to_word: bool,
) -> tuple[list[_Candidate], set[str]]:
    """A change of each named parameter the value can move, and the parameters so changed."""
    q = unit.head
    out: list[_Candidate] = []
    best: dict[str, float] = {}
    for mention, sense in _param_senses(r):
        if declared and sense.key not in declared:
            continue
        p = r.language.params[sense.key]
        change = _amount(q, p.dimension, p.unit, declared.get(sense.key, generic), to_word)
        if change is None:
            continue
        score = max([proximity(linker, unit, mention)] + [_cue_proximity(r, c, mention) for c in near])
        score += 2.5 + (1.0 if sense.key in declared else 0.0)
        if score > best.get(sense.key, -100):
            best[sense.key] = score
            out.append(_Candidate(score, unit, ("change", sense.key), _add_change(sense.key, q, change, r)))
    return out, set(best)


def _unnamed_change_choice(r: Reading, q: Quantity, unnamed: list[str], declared: dict[str, str]) -> str | None:
    """A word several inputs declare, none named: the one it describes nearby, or the one it raises
    ("25% faster riders": their speed, not the kitchens')."""
    if len(unnamed) <= 1:
        return unnamed[0] if unnamed else None
    window = range(max(0, q.first - 8), q.last + 4)
    described = [
        name for name in unnamed if any(m.first in window and m.has("subject", name, r.model) for m in r.subjects)
    ]
    if len(described) == 1:
        return described[0]
    raising = [name for name in unnamed if declared[name] == "up"]
    return raising[0] if len(raising) == 1 else None


def _field_change_candidates(
    r: Reading, linker: _Linker, unit: Unit, q: Quantity, near: list[Mention], direction: str | None, to_word: bool
) -> list[_Candidate]:
    """ "what if the vaccine rate doubles": a change to an intervention field, from its default."""
    from sim.interventions import INTERVENTION_TYPES

    out: list[_Candidate] = []
    for n, item in enumerate(r.items):
        if item.negated or item.mention is None:
            continue
        iv = r.language.interventions[item.type]
        for fm in r.mentions:
            for s in fm.of("field", r.model):
                if s.key != item.type or s.field is None or s.field not in iv.fields:
                    continue
                flang = iv.fields[s.field]
                change = _amount(q, flang.dimension, flang.unit, direction, to_word)
                cls = INTERVENTION_TYPES.get(item.type)
                if change is None or cls is None or s.field not in cls.model_fields:
                    continue
                score = max([proximity(linker, unit, fm)] + [_cue_proximity(r, c, fm) for c in near]) + 2.0
                out.append(
                    _Candidate(
                        score,
                        unit,
                        ("field_change", n, s.field),
                        _change_field(n, s.field, cls.model_fields[s.field].default, change),
                    )
                )
    return out


def _change_field(n: int, name: str, default: float, change: dict[str, float]) -> Any:
    def apply(r: Reading) -> None:
        r.items[n].changes[name] = (default, change)

    return apply


def _apply_field_changes(r: Reading) -> None:
    """A changed field: from its stated value, as a second option ("1% a day; what if the rate doubles?"),
    or from its default when none is stated."""
    for n, item in enumerate(list(r.items)):
        for name, (default, change) in item.changes.items():
            stated = name in item.fields
            value = float(item.fields.get(name, default))
            if "to" in change:
                value = change["to"]
            elif "factor" in change:
                value *= change["factor"]
            else:
                value += change["delta"]
            value = round(value, 10)
            if not stated:
                item.fields[name] = value
                r.notes.append(f"{item.type}.{name} = {value:g} (changed from the default {default:g})")
                continue
            r.notes.append(f"{item.type}.{name} = {value:g} (changed from the stated {item.fields[name]:g})")
            r.items.append(
                Item(
                    type=item.type,
                    mention=item.mention,
                    fields={**item.fields, name: value},
                    start=item.start,
                    duration=item.duration,
                    until=item.until,
                    to_end=item.to_end,
                    alternative_to=n,
                    at=(item.mention.last if item.mention else None),
                )
            )
        item.changes = {}


def _comparative_describes(r: Reading, q: Quantity, near: list[Mention]) -> bool:
    """ "faster 25 km/h scooters": a comparative right before a value in its own unit describes the new
    thing, so the value is its new setting; "25 km/h faster" and "faster by 5 km/h" change it."""
    if q.unit is None or q.dimension in ("share", "factor") or q.first == 0:
        return False
    before = r.tokens[q.first - 1].text
    if not any(c.last == q.first and before in (r.tokens[a].text for a in c.anchors) for c in near):
        return False
    declared = {w for p in r.language.params.values() for w in (*p.more, *p.less)}
    stems = {before[:-2], before[:-1], before[:-3], before[:-3] + "y"} if before.endswith("er") else set()
    return bool(stems & declared) and not any(c.first >= q.last for c in near)


def _plain_adjective(r: Reading, word: str) -> bool:
    """ "wide" when "wider" is also a change word: the plain form describes, the comparative changes."""
    forms = {word + "er", word + "r", word + word[-1:] + "er", word[:-1] + "ier"}
    declared = {w for p in r.language.params.values() for w in (*p.more, *p.less)}
    return bool(forms & declared)


def _relation_and_intervention_tokens(r: Reading) -> set[int]:
    """Tokens a change word cannot belong to: relations ("more than"), interventions ("cut contacts"),
    and words followed by a metric ("cut our late rate": the metric changes, not an input)."""
    tokens = {a for m in r.relations for a in m.anchors}
    tokens |= {a for m in r.mentions if m.of("intervention", r.model) for a in m.anchors}
    metric_starts = {m.first for m in r.mentions if m.of("metric", r.model)}
    for c in r.changes_layer:
        if any(c.last <= k <= c.last + 2 for k in metric_starts):
            tokens |= set(c.anchors)
    return tokens


def _cue_proximity(r: Reading, cue: Mention, mention: Mention) -> float:
    if mention.last <= cue.first:
        gap = r.tokens[mention.last : cue.first]
    elif cue.last <= mention.first:
        gap = r.tokens[cue.last : mention.first]
    else:
        return 10.0
    cost = sum(
        0.3 if t.text in cues.CONNECTORS or t.text in cues.ARTICLES else 2.5 if t.text in cues.CLAUSE_MARKS else 0.8
        for t in gap
    )
    return 10.0 - cost


def _amount(
    q: Quantity, dimension: str, unit: str | None, direction: str | None, to_word: bool
) -> dict[str, float] | None:
    if q.dimension == "factor":
        k = q.value
        if direction == "down" and k > 1:
            return {"factor": 1 / k}
        return {"factor": k}
    if to_word and direction is not None:
        ok, value, _ = fit(q, dimension, unit)  # type: ignore[arg-type]
        return {"to": value} if ok else None
    if direction is None:
        return None
    sign = 1.0 if direction == "up" else -1.0
    if q.dimension == "share" and q.points:
        return {"delta": sign * q.value} if dimension == "share" else None
    if q.dimension == "share":
        return {"factor": 1 + sign * q.value}
    ok, value, _ = fit(q, dimension, unit)  # type: ignore[arg-type]
    if not ok:
        return None
    return {"delta": sign * value}


def _add_change(name: str, q: Quantity, change: dict[str, float], r: Reading) -> Any:
    def apply(reading: Reading) -> None:
        reading.changes.append(Change(name, q.first, q.last, q.text, **change))

    return apply


# -- targets -----------------------------------------------------------------------------------


def _target_candidates(r: Reading, linker: _Linker, unit: Unit, asked: list[Asked]) -> list[_Candidate]:
    out: list[_Candidate] = []
    if unit.run is not None:
        return out
    q = unit.head
    relation = _relation(r, q)
    for m in r.mentions:
        for s in m.of("metric", r.model):
            ok, value, bonus = _metric_fit(q, r.language, s.key)
            if not ok:
                continue
            if s.value == "complement":
                value = round(1 - value, 10)  # "95% of orders arrive within ...": 5% late
                relation = {"ge": "le", "le": "ge"}.get(relation, relation)
            score = proximity(linker, unit, m) + bonus
            if relation != "eq":
                score += 1.5
            if q.first > 0 and any(t.last == q.first for t in r.timing):
                score -= 3.0  # "from day 10": when an intervention starts, not a target
            if asked:
                score += 1.0
            out.append(_Candidate(score, unit, ("target",), _add_target(s.key, value, relation, q, m)))
    return out


_CHANCE_WORDS = ("probability", "chance", "certainty", "confidence", "likelihood")


def _probability_candidates(r: Reading, unit: Unit) -> list[_Candidate]:
    """ "in 90% of shifts", "with 90% probability": the share of replicates a limit must hold in, read
    from the model's own words for a replicate."""
    q = unit.head
    if unit.run is not None or q.dimension != "share" or not 0 < q.value < 1:
        return []
    words = r.tokens
    after = [t.text for t in words[q.last : q.last + 3]]
    replicate = r.language.params.get("replicates")
    nouns = {w for p in ((*replicate.phrases, *replicate.nouns) if replicate else ()) for w in p.split()[-1:]}
    of_replicates = len(after) >= 2 and after[0] == "of" and (after[1] in nouns or after[1:3] == ["the", "runs"])
    chance = bool(after) and after[0] in _CHANCE_WORDS
    if not (of_replicates or chance):
        return []

    def apply(reading: Reading) -> None:
        reading.probability = q.value

    return [_Candidate(20.0, unit, ("probability",), apply)]


def _previous_target_candidates(r: Reading, unit: Unit, metrics: list[str]) -> list[_Candidate]:
    """ "how many riders to get that under 35 minutes": the metric the previous turn asked about."""
    out: list[_Candidate] = []
    if unit.run is not None:
        return out
    q = unit.head
    for metric in metrics:
        ok, value, bonus = _metric_fit(q, r.language, metric)
        if ok:
            relation = _relation(r, q)
            out.append(_Candidate(5.0 + bonus, unit, ("target",), _add_target_plain(metric, value, relation, q)))
    return out


def _add_target_plain(metric: str, value: float, relation: str, q: Quantity) -> Any:
    def apply(r: Reading) -> None:
        r.targets.append(Target(metric, value, relation, q.first, q.last, q.text))

    return apply


def _add_target(metric: str, value: float, relation: str, q: Quantity, m: Mention) -> Any:
    def apply(r: Reading) -> None:
        share = bool(r.language.metrics[metric].share_of) and q.dimension == "share"
        r.targets.append(Target(metric, value, relation, q.first, q.last, q.text, m, share))

    return apply


def _relation_near(r: Reading, q: Quantity) -> bool:
    return any(q.first - 4 <= m.last <= q.first or q.last <= m.first <= q.last + 1 for m in r.relations)


def _relation(r: Reading, q: Quantity) -> str:
    """le / ge / eq for a target value, from the words around it ("under 35", "25% or less", "at least")."""
    relation = "eq"
    best = 99
    for m in r.relations:
        rel = next(iter(m.keys("relation")), "eq")
        if m.last <= q.first and q.first - m.last <= 3:
            d = q.first - m.last
        elif q.last <= m.first and m.first - q.last <= 1 and rel != "eq":
            d = m.first - q.last
        else:
            continue
        if d < best or (d == best and rel != "eq"):
            relation, best = rel, d
    if relation in ("le", "ge"):
        window = " ".join(t.text for t in r.tokens[max(0, q.first - 8) : q.first])
        if any(f" {w} " in f" {window} " for w in cues.RELATION_INVERTERS):
            relation = "ge" if relation == "le" else "le"
    return relation


# -- value phrases -----------------------------------------------------------------------------


def _factor_verbs(r: Reading) -> None:
    """ "halve contacts from day 15": a reduction named with a factor verb takes away that share."""
    from simqa.translators.offline.quantities import FACTORS

    for item in r.items:
        if item.mention is None:
            continue
        iv = r.language.interventions[item.type]
        strength = iv.strength
        if strength is None or strength in item.fields or not iv.fields[strength].reduces:
            continue
        factors = [FACTORS[r.tokens[a].text] for a in item.mention.anchors if r.tokens[a].text in FACTORS]
        if factors and 0 < factors[0] < 1:
            item.fields[strength] = round(1 - factors[0], 10)


def _value_phrases(r: Reading) -> None:
    """Values stated by a phrase ("overcast", "single orders", "SIR"), and field values ("all workplaces")."""
    for m in r.mentions:
        for s in m.of("value", r.model):
            if s.key in r.language.params:
                r.statements.append(Statement(s.key, [s.value], m.first, m.last, m.text, None, m, [m.first]))
                break
    for item in r.items:
        if item.mention is None:
            continue
        iv = r.language.interventions[item.type]
        for m in r.mentions:
            for s in m.of("field_value", r.model):
                if s.key != item.type or s.field in item.fields or s.field in item.sweeps:
                    continue
                inside = item.mention.first <= m.first and m.last <= item.mention.last
                adjacent = 0 <= item.mention.first - m.last <= 2
                if inside or adjacent:
                    item.fields[str(s.field)] = s.value
        _ = iv


# -- calibration -------------------------------------------------------------------------------


# What "how long", "how fast"... ask for: the dimensions of the inputs they can name.
_HOW_DIMENSIONS = {
    "how long": ("duration",),
    "how fast": ("speed",),
    "how quick": ("speed",),
    "how slow": ("speed",),
    "how big": ("count", "number", "length"),
    "how large": ("count", "number", "length"),
    "how many": ("count", "number", "rate"),
    "how high": ("number", "count", "share", "rate"),
    "how low": ("number", "count", "share", "rate"),
}


_ASKED_FILLERS = frozenset(
    {
        "the",
        "a",
        "an",
        "number",
        "of",
        "value",
        "level",
        "amount",
        "average",
        "mean",
        "daily",
        "total",
        "share",
        "size",
        "per",
        "much",
        "many",
        "possible",
        "our",
        "we",
        "kind",
    }
)


def _asked(r: Reading) -> list[Asked]:
    """What a calibration would search: an input right after "what", "which", "how many", "fewest"...,
    or right before "needed" ("R0 needed for a 30% attack rate")."""
    found: list[Asked] = []
    lang = r.language
    for c in r.cue("calibrate"):
        head = " ".join(r.tokens[a].text for a in c.anchors)
        one_word = c.last - c.first == 1 and head not in ("what", "which", "search", "fit", "fits", "calibrate")
        superlative = head if one_word else None
        dimensions = _HOW_DIMENSIONS.get(head)
        for m in _mentions_after_cue(r, c, dimensions):
            asked = _asked_at(r, m, head, dimensions)
            if asked is not None:
                asked.superlative = superlative
                found.append(asked)
        if dimensions and not any(a.first > c.first for a in found):
            # "how fast must riders go": the model's only input of that dimension
            only = [
                n
                for n, p in lang.params.items()
                if p.dimension in dimensions and dimensions != ("count", "number", "rate")
            ]
            if len(only) == 1:
                found.append(Asked(param=only[0], first=c.last, superlative=superlative))
    if not found:
        found += _asked_by_pronoun(r)
    for m in r.mentions:  # "R0 needed for ...", "riders required to ..."
        after = r.tokens[m.last].text if m.last < len(r.tokens) else ""
        if after in ("needed", "required", "necessary"):
            named = m.keys("param", r.model)
            if named:
                found.append(Asked(param=sorted(named, key=lambda p: _param_order(r, p))[0], first=m.first))
    return found


def _asked_by_pronoun(r: Reading) -> list[Asked]:
    """ "Looking at R0 values from 1.2 to 3, which one leaves half infected?": "which one", or "how many"
    with no noun of its own, asks for the input named before it with a range or a list of values."""
    tokens = r.tokens
    named = {a for m in [*r.mentions, *r.changes_layer, *r.relations] for a in m.anchors}
    for k in range(len(tokens) - 2):
        pair = (tokens[k].text, tokens[k + 1].text)
        which_one = pair[0] in ("which", "what") and pair[1] in cues.PRONOUN_VALUES
        # "Between 10,000 and 50,000 members, how many give 120,000 trips?": how many of them
        how_many = pair == ("how", "many") and tokens[k + 2].is_word and k + 2 not in named
        if not (which_one or how_many):
            continue
        before = sorted((m for m in r.mentions if m.last <= k), key=lambda m: -m.first)
        for m in before:
            params = m.keys("param", r.model)
            ranged = [run for run in r.runs if 0 <= run.first - m.last <= 3 or 0 <= m.first - run.last <= 1]
            if params and ranged:
                return [Asked(param=sorted(params, key=lambda p: _param_order(r, p))[0], first=m.first)]
    return []


def _mentions_after_cue(r: Reading, c: Mention, dimensions: tuple[str, ...] | None) -> list[Mention]:
    """The mentions a calibration cue can ask for: close after it, with no value or stop between
    ("gets infected most if R0 is 2.2": "most" does not ask for the R0)."""
    reach = 4 if dimensions else 3
    out = []
    for m in sorted(r.mentions, key=lambda m: m.first):
        if not (c.last <= m.first <= c.last + reach):
            continue
        between = r.tokens[c.last : m.first]
        if any(t.kind == "num" or t.text in (",", ".", "?", ";", ":") for t in between):
            continue
        if not dimensions and any(t.text not in _ASKED_FILLERS for t in between):
            continue
        out.append(m)
        if m.of("metric", r.model) and not m.of("param", r.model):
            break  # "how big is the peak with R0 2.1": the cue asks for the result it names first
    return out


def _asked_at(r: Reading, m: Mention, head: str, dimensions: tuple[str, ...] | None) -> Asked | None:
    """The input a mention after a calibration cue names: a parameter, an intervention's length
    ("how long must schools stay closed"), or an intervention field."""
    lang = r.language
    params = [p for p in m.keys("param", r.model) if not dimensions or lang.params[p].dimension in dimensions]
    if params and head in ("how many", "how much") and _result_asked(r, m):
        return None  # "how many people will have been infected": a result asked for, not an input
    ivs = m.keys("intervention", r.model)
    fields = m.of("field", r.model)
    if params:
        return Asked(param=sorted(params, key=lambda p: _param_order(r, p))[0], first=m.first)
    if ivs and dimensions == ("duration",) and lang.timing is not None:
        return Asked(intervention=sorted(ivs)[0], field=lang.timing.duration_field, first=m.first)
    if dimensions:
        return None
    if ivs:
        iv_type = sorted(ivs)[0]
        named_field = _field_after(r, m, iv_type) or lang.interventions[iv_type].strength
        return Asked(intervention=iv_type, field=named_field, first=m.first) if named_field else None
    if fields:
        return Asked(intervention=fields[0].key, field=fields[0].field, first=m.first)
    return None


def _result_asked(r: Reading, m: Mention) -> bool:
    """A metric right at or after the mention, with no value of its own and no target link after."""
    metric_near = any(
        o.of("metric", r.model) and (o is m or 0 <= o.first - m.last <= 4) and not _metric_valued(r, o)
        for o in r.mentions
    )
    return metric_near and not any(m.last <= t.first <= m.last + 5 for t in r.cue("target_link"))


def _metric_valued(r: Reading, m: Mention) -> bool:
    """A value the metric could take stands right around its phrase ("p90 under 35 minutes")."""
    for q in r.quantities:
        near = 0 <= q.first - m.last <= 4 or 0 <= m.first - q.last <= 2
        if near and any(_metric_fit(q, r.language, s.key)[0] for s in m.of("metric", r.model)):
            return True
    return False


def _param_order(r: Reading, name: str) -> int:
    return list(r.language.params).index(name)


def _field_after(r: Reading, m: Mention, iv_type: str) -> str | None:
    for other in r.mentions:
        if 0 <= other.first - m.last <= 1 or 0 <= m.first - other.last <= 1:
            for s in other.of("field", r.model):
                if s.key == iv_type:
                    return s.field
    return None


def _finish_asked(r: Reading, asked: list[Asked]) -> Asked | None:
    """The searched input: one the question names without a value (a range is its bounds)."""
    for a in asked:
        if a.param is not None:
            stated = [s for s in r.statements if s.param == a.param]
            ranges = [s for s in stated if s.run is not None and s.run.kind == "range"]
            if stated and not ranges:
                continue
            if ranges:
                lo, hi = ranges[0].run.members[0], ranges[0].run.members[-1]  # type: ignore[union-attr]
                p = r.language.params[a.param]
                a.lower, a.upper = sorted((fit(lo, p.dimension, p.unit)[1], fit(hi, p.dimension, p.unit)[1]))
                r.statements = [s for s in r.statements if s is not ranges[0]]
            return a
        item = next((i for i in r.items if i.type == a.intervention), None)
        if item is not None and a.field in item.fields:
            continue
        return a
    return None


# -- vague changes -----------------------------------------------------------------------------


def _vague(r: Reading) -> list[str]:
    """Parameters a question changes without saying by how much ("add more riders", "change R0")."""
    out: list[str] = []
    stated = {s.param for s in r.statements} | {c.param for c in r.changes}
    relation_tokens = _relation_and_intervention_tokens(r)
    change_cues = [
        c
        for c in r.changes_layer
        if not set(c.anchors) & relation_tokens and not _plain_adjective(r, r.tokens[c.anchors[-1]].text)
    ]
    change_cues += r.cue("change_verb")
    for c in change_cues:
        if _asks_the_effect(r, c):
            continue
        for mention, sense in _param_senses(r):
            if sense.key in stated or sense.key in out:
                continue
            specific = any(s.key == sense.key for s in c.senses if s.category in ("up", "down"))
            near = 0 <= mention.first - c.last <= 2 or 0 <= c.first - mention.last <= 1
            if specific or near:
                busy = any(
                    q.first >= min(c.first, mention.first) - 1 and q.last <= max(c.last, mention.last) + 3
                    for q in r.quantities
                )
                if not busy:
                    out.append(sense.key)
    return out


def _asks_the_effect(r: Reading, c: Mention) -> bool:
    """ "how much smaller is the epidemic", "how many fewer infections", "which gives the smaller epidemic":
    the effect asked about, not a change."""
    before = [t.text for t in r.tokens[max(0, c.first - 2) : c.first]]
    if before[-1:] == ["the"]:
        return True  # "which gives the smaller epidemic": options compared, not a change asked for
    return before[-1:] == ["how"] or (len(before) == 2 and before[0] == "how" and before[1] in ("much", "many", "far"))


def _before_words(tokens: list[Token], first: int, n: int) -> set[str]:
    return {t.text for t in tokens[max(0, first - n) : first]}


def same_unit(a: str, b: str) -> bool:
    return same_dimension(a, b)
