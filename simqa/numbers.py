"""Numbers as people write them: "10k", "1.2 million", "half a million", "two and a half weeks", "30%".

`find_quantities` finds every stated quantity with its unit and its place in the text;
`stated_values` lists every value a text states plus its standard conversions, which is what the
grounding checks compare against ("4 weeks" states 4 and 28 days; "30%" states 30 and 0.3).

Conversions used by `stated_values` (documented here because grounding depends on them):
- week -> days x7; fortnight = 2 weeks; month -> days x30, x31, x28 and x30.44 (365/12), weeks x4;
  year -> days x365, weeks x52, months x12; day -> hours x24; hour <-> minutes x60.
- a time point "day 30" states 30; "week 3" states 3, 21 (day 3x7) and 14 (the first day of week 3,
  counting day 0 as the first day of week 1); "month 2" likewise with 30 days.
- percent -> the number and the fraction (/100); fractions ("half", "a third") -> the fraction and
  the percent; both also state the complement (1 - f: "reduce contacts to 70%" is a 30% cut).
- "30% more" / "increase by 30%" -> the factor 1.3; "10% fewer" / "10% lower" -> 0.9;
  "30% more than 200" -> 260 as well.
- "halve" -> 0.5, "double"/"twice" -> 2, "triple" -> 3, "quadruple" -> 4.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

# --------------------------------------------------------------------------- vocabulary

SMALL_NUMBERS: dict[str, int] = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "mn": 1e6, "bn": 1e9}
# Suffixes written straight after digits: "10k", "2m", "3bn".
ADJACENT_SCALES = {"k": 1e3, "m": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9}
FRACTION_WORDS = {
    "half": 0.5,
    "halves": 0.5,
    "third": 1 / 3,
    "thirds": 1 / 3,
    "quarter": 0.25,
    "quarters": 0.25,
    "fifth": 0.2,
    "fifths": 0.2,
    "tenth": 0.1,
    "tenths": 0.1,
}
FACTOR_WORDS = {
    "halve": 0.5,
    "halved": 0.5,
    "halving": 0.5,
    "halves": 0.5,
    "double": 2.0,
    "doubled": 2.0,
    "doubling": 2.0,
    "doubles": 2.0,
    "twice": 2.0,
    "triple": 3.0,
    "tripled": 3.0,
    "tripling": 3.0,
    "triples": 3.0,
    "thrice": 3.0,
    "quadruple": 4.0,
    "quadrupled": 4.0,
    "quadrupling": 4.0,
    "quadruples": 4.0,
}

UNIT_WORDS = {
    "%": "%",
    "percent": "%",
    "pct": "%",
    "percentage": "%",
    "day": "day",
    "days": "day",
    "d": "day",
    "week": "week",
    "weeks": "week",
    "wk": "week",
    "wks": "week",
    "w": "week",
    "month": "month",
    "months": "month",
    "mo": "month",
    "year": "year",
    "years": "year",
    "yr": "year",
    "yrs": "year",
    "hour": "hour",
    "hours": "hour",
    "hr": "hour",
    "hrs": "hour",
    "h": "hour",
    "minute": "minute",
    "minutes": "minute",
    "min": "minute",
    "mins": "minute",
    "km": "km",
    "kms": "km",
    "kilometre": "km",
    "kilometres": "km",
    "kilometer": "km",
    "kilometers": "km",
    "kmh": "km/h",
    "kph": "km/h",
    "people": "people",
    "persons": "people",
    "person": "people",
    "residents": "people",
    "inhabitants": "people",
    "individuals": "people",
    "citizens": "people",
    "agents": "people",
    "x": "x",
    "times": "x",
    "fold": "x",
    "order": "order",
    "orders": "order",
    "courier": "courier",
    "couriers": "courier",
    "driver": "courier",
    "drivers": "courier",
    "rider": "courier",
    "riders": "courier",
}
# Units that, written before a number, name a point in time: "day 30", "week 3".
INDEX_UNITS = {"day": "day", "week": "week", "month": "month", "year": "year"}
# Unit-less single letters that only count as units straight after digits ("30d", "4w", "2h").
ADJACENT_ONLY_UNITS = {"d", "w", "h", "x", "mo"}

DAYS_PER = {"day": 1.0, "week": 7.0, "month": 30.0, "year": 365.0}

_TOKEN = re.compile(
    r"(?P<ident>[a-z_]+\d[a-z\d_]*|covid-19|sars-cov-2)"
    r"|(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\d])|\.\d+)"
    r"|(?P<word>[a-z]+)"
    r"|(?P<sym>%|/|-|\S)"
)


@dataclass(frozen=True)
class Quantity:
    """A number stated in a text: its value, its normalised unit, and where it is.

    unit: "%", "fraction" ("half", "a third"), "x" (a factor: "double", "1.5x"), "day", "week",
    "month", "year", "hour", "minute", "km", "km/h", "people", "order", "courier", or None.
    index: True for a point in time written unit-first ("day 30", "week 3"), not a length.
    """

    value: float
    unit: str | None
    start: int
    end: int
    text: str
    index: bool = False


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    start: int
    end: int


def normalise(text: str) -> str:
    """Lower case, with look-alike characters replaced one for one (spans stay valid)."""
    table = str.maketrans(
        {
            "₀": "0",
            "–": "-",
            "—": "-",
            "−": "-",
            "’": "'",
            "‘": "'",
            "“": '"',
            "”": '"',
            "\u00a0": " ",
            "×": "x",
        }
    )
    return text.translate(table).lower()


def _tokens(text: str) -> list[_Tok]:
    return [_Tok(m.lastgroup or "sym", m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _num(tok: str) -> float:
    return float(tok.replace(",", ""))


def _word_value(word: str) -> float | None:
    if word in SMALL_NUMBERS:
        return float(SMALL_NUMBERS[word])
    if word in TENS:
        return float(TENS[word])
    return None


class _Parser:
    """Reads one number starting at a token: digits or words, scales, "and a half", fractions."""

    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks

    def word(self, i: int) -> str | None:
        return self.toks[i].text if 0 <= i < len(self.toks) and self.toks[i].kind == "word" else None

    def is_sym(self, i: int, sym: str) -> bool:
        return 0 <= i < len(self.toks) and self.toks[i].kind == "sym" and self.toks[i].text == sym

    def adjacent(self, i: int) -> bool:
        """Token i starts right where token i-1 ends (no space): '10k', '30%'."""
        return 0 < i < len(self.toks) and self.toks[i].start == self.toks[i - 1].end

    def number(self, i: int) -> tuple[float, int, str | None] | None:
        """(value, next token index, unit hint) for a number starting at token i, or None."""
        toks, n = self.toks, len(self.toks)
        if i >= n:
            return None
        w = self.word(i)
        # Lone fractions: "a third", "half", "two thirds", "three quarters", "a fifth", "a tenth".
        if w in ("a", "an", "one") and self.word(i + 1) in ("half", "third", "quarter", "fifth", "tenth"):
            frac = FRACTION_WORDS[self.word(i + 1) or ""]
            # "half a million" is handled by the "half" branch; "a half" alone is 0.5
            return frac, i + 2, "fraction"
        if w == "half":
            if self.word(i + 1) in ("a", "an") and (self.is_sym(i + 2, "%") or self.word(i + 2) in ("percent", "per")):
                return 0.5, i + 2, None  # "half a percent": the unit follows
            if self.word(i + 1) in ("a", "an") and self.word(i + 2) in SCALES:
                return 0.5 * SCALES[self.word(i + 2) or ""], i + 3, None
            if self.word(i + 1) in ("a", "an") and self.word(i + 2) in ("dozen",):
                return 6.0, i + 3, None
            if self.word(i + 1) in ("a", "an") and UNIT_WORDS.get(self.word(i + 2) or "") in DAYS_PER | {
                "hour": 1,
                "minute": 1,
            }:
                return 0.5, i + 2, None  # "half a day": the unit follows
            return 0.5, i + 1, "fraction"
        value: float | None = None
        j = i
        if toks[i].kind == "num":
            value = _num(toks[i].text)
            j = i + 1
            # "10k", "2m", "3bn": a scale suffix glued to the digits
            if j < n and self.adjacent(j) and toks[j].kind == "word" and toks[j].text in ADJACENT_SCALES:
                value *= ADJACENT_SCALES[toks[j].text]
                j += 1
        elif w in ("a", "an") and self.word(i + 1) in ("hundred", "thousand", "million", "billion", "dozen"):
            value, j = 1.0, i + 1
        elif w is not None:
            value, j = self._words(i)
            if value is None:
                return None
        else:
            return None
        # scale words after digits or words: "1.2 million", "two hundred thousand"
        total = 0.0
        current = value
        while True:
            nw = self.word(j)
            if nw == "hundred":
                current *= 100
                j += 1
            elif nw in SCALES:
                total += current * SCALES[nw or ""]
                current = 0.0
                j += 1
                # "one million two hundred thousand", "a thousand and fifty"
                k = j + 1 if self.word(j) == "and" else j
                more, after = self._words(k) if self.word(k) else (None, k)
                if more is not None:
                    current, j = more, after
                    continue
                break
            elif nw == "dozen":
                current *= 12
                j += 1
            else:
                break
        value = total + current
        # "two point five": digits spoken after "point"
        if toks[i].kind == "word" and self.word(j) == "point" and _word_value(self.word(j + 1) or "") is not None:
            digits = ""
            k = j + 1
            while (d := _word_value(self.word(k) or "")) is not None and d < 10:
                digits += str(int(d))
                k += 1
            if digits:
                value, j = float(f"{int(value)}.{digits}"), k
        # "two and a half", "2 and a half", "an hour and a half" is handled by the caller
        if self.word(j) == "and" and self.word(j + 1) in ("a", "an") and self.word(j + 2) == "half":
            value += 0.5
            j += 3
        elif (
            self.word(j) in ("thirds", "quarters", "third", "quarter", "fifths", "fifth", "tenths", "tenth")
            and toks[i].kind == "word"
            and value < 10
            and value >= 1
        ):
            value *= FRACTION_WORDS[self.word(j) or ""]
            return value, j + 1, "fraction"
        return value, j, None

    def _words(self, i: int) -> tuple[float | None, int]:
        """A number written in words from token i: 'twenty-five', 'one hundred and twenty', 'a dozen'."""
        total = 0.0
        current: float | None = None
        j = i
        while j < len(self.toks):
            w = self.word(j)
            if w is None:
                # hyphenated tens: twenty-five
                if self.is_sym(j, "-") and current is not None and self.word(j + 1) in SMALL_NUMBERS:
                    j += 1
                    continue
                break
            v = _word_value(w)
            if v is not None:
                current = (current or 0.0) + v
                j += 1
            elif w == "hundred" and current is not None:
                current *= 100
                j += 1
            elif w == "dozen":
                current = (current or 1.0) * 12
                j += 1
            elif w == "and" and current is not None and self._word_number_follows(j + 1):
                j += 1
            else:
                break
        if current is None and total == 0.0:
            return None, i
        return total + (current or 0.0), j

    def _word_number_follows(self, i: int) -> bool:
        w = self.word(i)
        return w is not None and _word_value(w) is not None


def _unit_after(p: _Parser, j: int) -> tuple[str | None, int]:
    """The unit written after a number ending before token j: '%', 'per cent', 'weeks', 'km/h'."""
    toks, n = p.toks, len(p.toks)
    k = j
    if k < n and p.is_sym(k, "-") and p.word(k + 1) in UNIT_WORDS:  # "4-week closure"
        k += 1
    if k >= n:
        return None, j
    t = toks[k]
    if t.kind == "sym" and t.text == "%":
        return "%", k + 1
    if t.kind != "word":
        return None, j
    w = t.text
    if w == "per" and p.word(k + 1) == "cent":
        return "%", k + 2
    if w == "fortnight" or w == "fortnights":
        return "fortnight", k + 1
    if w in ("km", "kilometres", "kilometers", "kms") and (
        (p.is_sym(k + 1, "/") and p.word(k + 2) in ("h", "hr", "hour"))
        or (p.word(k + 1) in ("per", "an", "a") and p.word(k + 2) in ("hour", "hr", "h"))
    ):
        return "km/h", k + 3
    if w in UNIT_WORDS:
        if w in ADJACENT_ONLY_UNITS and not p.adjacent(k):
            return None, j
        return UNIT_WORDS[w], k + 1
    return None, j


def _preceded_by_quantity(p: _Parser, i: int, found: list[Quantity]) -> bool:
    """True when token i follows a quantity within three words ('2,000 people a day': a rate)."""
    if not found:
        return False
    last = found[-1]
    words_between = [t for t in p.toks[:i] if t.start >= last.end]
    breaks = (
        ",",
        ".",
        ";",
        "and",
        "for",
        "from",
        "over",
        "in",
        "within",
        "during",
        "after",
        "of",
        "by",
        "until",
        "lasting",
    )
    if len(words_between) > 3:
        return False
    texts = [t.text for t in words_between]
    if "of" in texts:
        # "1% of the population a day" is a rate; "2 weeks of lockdown a day" is not a quantity's rate
        whole = {"the", "people", "population", "residents", "inhabitants", "persons", "everyone", "them", "all", "pop"}
        texts = texts[: texts.index("of")] + (["of"] if not set(texts[texts.index("of") + 1 :]) <= whole else [])
    return not any(t in breaks for t in texts)


def find_quantities(text: str) -> list[Quantity]:
    """Every quantity stated in `text`, in order, with normalised units (see `Quantity`)."""
    low = normalise(text)
    toks = _tokens(low)
    p = _Parser(toks)
    found: list[Quantity] = []
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        w = p.word(i)
        # A sign: "-2" after a space or '=' (not the hyphen of "5-10")
        negative = False
        if t.kind == "sym" and t.text == "-" and i + 1 < n and toks[i + 1].kind == "num" and p.adjacent(i + 1):
            prev = toks[i - 1] if i > 0 else None
            if prev is None or (prev.end < t.start) or prev.text in ("=", ":", "("):
                negative = True
                i += 1
                t = toks[i]
        # "minus 3", "negative 2": a sign written as a word
        if (
            w in ("minus", "negative")
            and i + 1 < n
            and p.number(i + 1) is not None
            and p.word(i + 1) not in ("a", "an")
        ):
            value, j, hint = p.number(i + 1) or (0.0, i + 1, None)
            unit, j2 = _unit_after(p, j)
            end = toks[j2 - 1].end
            if unit == "fortnight":
                value, unit = value * 2, "week"
            found.append(Quantity(-value, unit or hint, t.start, end, text[t.start : end]))
            i = j2
            continue
        # Factor verbs: "halve contacts", "double the orders"
        if w in FACTOR_WORDS and not (w == "halves" and found):
            found.append(Quantity(FACTOR_WORDS[w], "x", t.start, t.end, text[t.start : t.end]))
            i += 1
            continue
        # "a month", "a week", "an hour", "a fortnight" (not the rate in "120 orders an hour")
        if w in ("a", "an", "one") and p.word(i + 1) in ("day", "week", "month", "year", "hour", "minute", "fortnight"):
            if w != "one" and (_preceded_by_quantity(p, i, found) or p.word(i - 1) in ("per", "each", "every")):
                i += 2
                continue
            unit_word = p.word(i + 1) or ""
            end_tok = toks[i + 1]
            # "an hour and a half"
            value = 1.0
            k = i + 2
            if p.word(k) == "and" and p.word(k + 1) in ("a", "an") and p.word(k + 2) == "half":
                value, end_tok = 1.5, toks[k + 2]
            point_unit = UNIT_WORDS.get(unit_word, unit_word)
            if point_unit == "fortnight":
                value, point_unit = value * 2, "week"
            found.append(Quantity(value, point_unit, t.start, end_tok.end, text[t.start : end_tok.end]))
            i = toks.index(end_tok) + 1
            continue
        # "day 30", "week 3", "day fourteen": a point in time
        if (
            w in INDEX_UNITS
            and i + 1 < n
            and (toks[i + 1].kind == "num" or _word_value(p.word(i + 1) or "") is not None)
        ):
            point = p.number(i + 1)
            after_unit, _ = _unit_after(p, point[1]) if point else ("?", 0)
            if point is not None and after_unit is None and point[2] is None:
                value, j, _ = point
                end = toks[j - 1].end
                found.append(Quantity(value, INDEX_UNITS[w], t.start, end, text[t.start : end], index=True))
                i = j
                continue
        parsed = p.number(i)
        if parsed is None:
            i += 1
            continue
        value, j, hint = parsed
        if negative:
            value = -value
        start = t.start if not negative else toks[i - 1].start
        unit, j2 = _unit_after(p, j)
        if unit is None and hint == "fraction":
            unit = "fraction"
        elif unit == "fortnight":
            value, unit = value * 2, "week"
        elif hint == "fraction" and unit is not None:
            pass  # "half a day" -> 0.5 day
        if unit is None and p.word(j) in ("per", "a", "an") and p.word(j + 1) == "cent":
            unit, j2 = "%", j + 2
        end = toks[j2 - 1].end
        found.append(Quantity(value, unit, start, end, text[start:end]))
        i = j2
        # "... weeks and a half"
        continue
    return [q for q in found if not _is_noise(q, low)]


def _is_noise(q: Quantity, low: str) -> bool:
    """Words that read as numbers but are not: 'one of', 'no one', 'at one point'."""
    word = low[q.start : q.end]
    if word == "one" and (low[q.end : q.end + 3] == " of" or low[max(0, q.start - 3) : q.start] == "no "):
        return True
    return word in ("one",) and low[q.end : q.end + 1] in ("'",)


def parse_number(text: str) -> float | None:
    """The single number written in `text` ("10k", "half a million", "two and a half"), or None."""
    quantities = find_quantities(text)
    if not quantities:
        return None
    q = quantities[0]
    if q.unit == "%":
        return q.value
    return q.value


# --------------------------------------------------------------------------- stated values

_MORE = re.compile(r"^\s*(?:more|higher|greater|larger|bigger|extra|additional|increase|up|faster|longer)\b")
_LESS = re.compile(r"^\s*(?:fewer|less|lower|smaller|reduction|decrease|down|cut|slower|shorter)\b")
_INCREASE_BEFORE = re.compile(
    r"(?:increase[sd]?|rais(?:e|es|ed|ing)|grow(?:s|n)?|up|boost(?:ed)?)\s+(?:\w+\s+){0,3}by\s*$"
)
_DECREASE_BEFORE = re.compile(
    r"(?:decrease[sd]?|reduc(?:e|es|ed|ing)|cut(?:s|ting)?|lower(?:ed)?|drop(?:s|ped)?)\s+(?:\w+\s+){0,3}by\s*$"
)


def _conversions(q: Quantity) -> set[float]:
    v = q.value
    out = {v}
    unit = q.unit
    if unit == "%":
        out |= {v / 100.0, 1.0 - v / 100.0}
    elif unit == "fraction":
        out |= {v * 100.0, 1.0 - v}
    elif unit == "week":
        out |= {v * 7.0}
        if q.index:
            out.add((v - 1) * 7.0)
    elif unit == "month":
        out |= {v * 30.0, v * 31.0, v * 28.0, v * 365.0 / 12.0, v * 4.0}
        if q.index:
            out.add((v - 1) * 30.0)
    elif unit == "year":
        out |= {v * 365.0, v * 52.0, v * 12.0}
    elif unit == "day":
        out |= {v * 24.0}
    elif unit == "hour":
        out |= {v * 60.0, v / 24.0}
    elif unit == "minute":
        out |= {v / 60.0}
    return out


def stated_values(text: str) -> set[float]:
    """Every value `text` states, plus its standard conversions (see the module docstring)."""
    low = normalise(text)
    values: set[float] = set()
    quantities = find_quantities(text)
    for idx, q in enumerate(quantities):
        values |= _conversions(q)
        if q.unit in ("%", "fraction"):
            share = q.value / 100.0 if q.unit == "%" else q.value
            after = low[q.end : q.end + 40]
            before = low[max(0, q.start - 40) : q.start]
            more = bool(_MORE.match(after)) or bool(_INCREASE_BEFORE.search(before))
            less = bool(_LESS.match(after)) or bool(_DECREASE_BEFORE.search(before))
            if more:
                values.add(1.0 + share)
            if less:
                values.add(1.0 - share)
            # "30% more than 200" -> 260
            m = re.match(r"^\s*\w+\s+than\s+", after)
            if m and idx + 1 < len(quantities) and quantities[idx + 1].start <= q.end + m.end() + 1:
                base = quantities[idx + 1].value
                if more:
                    values.add(base * (1.0 + share))
                if less:
                    values.add(base * (1.0 - share))
            # "10% of a 1 million population" -> 100,000
            m = re.match(r"^\s*of\s+(?:an?\s+|the\s+)?", after)
            if m and idx + 1 < len(quantities) and quantities[idx + 1].start <= q.end + m.end() + 1:
                values.add(share * quantities[idx + 1].value)
    # "from day 10 to day 40" -> 30 days between two stated points in time
    points = [q for q in quantities if q.index]
    for a, b in itertools.pairwise(points):
        if a.unit == b.unit and b.value > a.value:
            values |= _conversions(Quantity(b.value - a.value, a.unit, a.start, b.end, text[a.start : b.end]))
    # "no incubation period", "without vaccination", "an SIR model" state a zero
    if _ZERO_WORDS.search(low):
        values.add(0.0)
    return {v for v in values if math.isfinite(v)}


_ZERO_WORDS = re.compile(r"\b(no|without|zero|none|sir)\b")


def is_grounded(value: float, text: str, rel_tol: float = 1e-6) -> bool:
    """True when `value` is (close to) a value `text` states, allowing the documented conversions."""
    return any(math.isclose(value, v, rel_tol=rel_tol, abs_tol=1e-9) for v in stated_values(text))
