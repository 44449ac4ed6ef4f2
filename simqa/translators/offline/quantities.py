"""Step 2, quantities: every value a question states, read by dimension, with its place in the text.

Dimensions (what a reader may do with the value):
  number       a plain number: "2.5", "12k", "two hundred thousand", "10^12", "a trillion", "NaN"
  share        a fraction: "30%", "half", "a third", "seven in ten", "ten percentage points" (points=True)
  factor       a multiplier: "twice", "double", "3x", "three times as many", "halve"
  duration     a length of time: "4 weeks", "a fortnight", "90 min", "an hour and a half", "11am to 9pm"
  day          a point in time, in days from the start: "day 30", "week 3" (day 14)
  speed        "15 km/h", "10 mph";  length  "5 km";  temperature  "12 degrees", "50 °F"
  clock        a time of day ("11am"), only as part of a duration
  money        "$5" (no model takes money: a question stating it is asked about it)
A rate is a number or share with `per` set: "150 orders/h", "5 infections a day", "1% of people a day".

Units are converted with `pint`; a month is 30 days and a year 365 days (the calendar reading a
question means, not pint's astronomical year). Each dimension has a corpus of phrase -> value
examples in `corpus/` beside this file, which the tests run.

Runs: several values of one thing in a row ("10, 20 or 30", "from 1.5 to 3 in steps of 0.5",
"between 20 and 100", "R0 2 vs R0 3") are grouped into a `Run`, so a reader can take them as a list,
a range or a step.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from simqa.translators.offline.cues import APPROX, ARTICLES
from simqa.translators.offline.text import Token

SMALL_NUMBERS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}  # fmt: skip
SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "mn": 1e6, "bn": 1e9,
          "quadrillion": 1e15}  # fmt: skip
# Suffixes written straight after digits: "10k", "2m", "3bn".
ADJACENT_SCALES = {"k": 1e3, "m": 1e6, "mn": 1e6, "mm": 1e6, "b": 1e9, "bn": 1e9, "mil": 1e6, "tn": 1e12}
FRACTIONS = {"half": 0.5, "halves": 0.5, "third": 1 / 3, "thirds": 1 / 3, "quarter": 0.25, "quarters": 0.25,
             "fifth": 0.2, "fifths": 0.2, "tenth": 0.1, "tenths": 0.1}  # fmt: skip
FACTORS = {"halve": 0.5, "halved": 0.5, "halving": 0.5, "double": 2.0, "doubled": 2.0, "doubling": 2.0,
           "doubles": 2.0, "twice": 2.0, "triple": 3.0, "tripled": 3.0, "tripling": 3.0, "triples": 3.0,
           "thrice": 3.0, "quadruple": 4.0, "quadrupled": 4.0, "quadrupling": 4.0}  # fmt: skip
SPECIAL = {"nan": math.nan, "infinity": math.inf, "infinite": math.inf, "inf": math.inf}

# Written unit -> (dimension, pint unit). Time units are durations; "°" and "degrees" temperatures.
UNITS: dict[str, tuple[str, str]] = {
    **{w: ("duration", "day") for w in ("day", "days", "d")},
    **{w: ("duration", "week") for w in ("week", "weeks", "wk", "wks", "w")},
    **{w: ("duration", "fortnight") for w in ("fortnight", "fortnights")},
    **{w: ("duration", "calendar_month") for w in ("month", "months", "mo", "mos")},
    **{w: ("duration", "calendar_year") for w in ("year", "years", "yr", "yrs")},
    **{w: ("duration", "hour") for w in ("hour", "hours", "hr", "hrs", "h")},
    **{w: ("duration", "minute") for w in ("minute", "minutes", "min", "mins")},
    **{w: ("duration", "second") for w in ("second", "seconds", "sec", "secs")},
    **{w: ("length", "km") for w in ("km", "kms", "kilometre", "kilometres", "kilometer", "kilometers")},
    **{w: ("length", "mile") for w in ("mile", "miles", "mi")},
    **{w: ("length", "meter") for w in ("metre", "metres", "meter", "meters")},
    **{w: ("length", "mm") for w in ("mm", "millimetres", "millimeters")},
    **{w: ("speed", "km/h") for w in ("kmh", "kph", "kmph")},
    **{w: ("speed", "mph") for w in ("mph",)},
    **{w: ("temperature", "degC") for w in ("celsius", "centigrade")},
    **{w: ("temperature", "degF") for w in ("fahrenheit",)},
}
# Single letters that are units only straight after digits ("30d", "4w", "2h").
ADJACENT_ONLY = {"d", "w", "h", "mo", "x"}
TIME_UNITS = {"day": "day", "week": "week", "fortnight": "fortnight", "month": "calendar_month",
              "year": "calendar_year", "hour": "hour", "minute": "minute"}  # fmt: skip
# "day 30", "week 3": a point in time; the first day of week n is day 7(n - 1), counting day 0 as week 1's first.
INDEX_UNITS = {"day": 1.0, "week": 7.0, "month": 30.0}
PER_WORDS = {
    "hour": "hour", "hr": "hour", "h": "hour", "day": "day", "week": "week", "minute": "minute", "min": "minute",
    "month": "calendar_month",
}  # fmt: skip
ADVERB_RATES = {"hourly": "hour", "daily": "day", "weekly": "week", "nightly": "day"}
MONEY_SYMBOLS = {"$", "€", "£"}
MONEY_WORDS = {"dollars", "dollar", "euros", "euro", "pounds", "usd", "eur", "gbp", "bucks"}


@dataclass(frozen=True)
class Quantity:
    """A value stated in a question: what it is, in which unit, and where it is.

    value: as written in `unit` (a percent is already a share: "30%" is 0.3).
    per: for a rate, the time unit it is per ("hour" in "150 orders/h").
    first, last: token range [first, last) of the value and its unit; `per_tokens` hold the rate's "per hour".
    """

    value: float
    dimension: str
    unit: str | None
    first: int
    last: int
    start: int
    end: int
    text: str
    per: str | None = None
    per_tokens: tuple[int, ...] = ()
    points: bool = False
    approx: bool = False
    whole: bool = False
    written_percent: bool = False
    derived: str | None = None

    def to(self, unit: str) -> float:
        """The value in `unit` (a unit of the same dimension); a bare number is taken as already in it."""
        if self.unit is None or self.unit == unit:
            return self.value
        return convert(self.value, self.unit, unit)

    def per_to(self, unit: str) -> float:
        """A rate's value per `unit` of time ("5 a day" is 35 per week)."""
        if self.per is None or self.per == unit:
            return self.value
        return self.value / convert(1.0, self.per, unit)

    @property
    def finite(self) -> bool:
        return math.isfinite(self.value)


@dataclass
class Run:
    """Values of one thing in a row: a list ("10, 20 or 30") or a range ("from 1 to 3 in steps of 0.5")."""

    members: list[Quantity]
    kind: str  # "list" or "range"
    step: Quantity | None = None
    steps: int | None = None  # "from 1 to 3 in 5 steps": how many values, not their spacing
    first: int = 0
    last: int = 0
    separators: set[str] = field(default_factory=set)

    def values(self) -> list[Quantity]:
        return list(self.members)


# --------------------------------------------------------------------------- units


@lru_cache(maxsize=1)
def _registry() -> Any:
    import pint

    registry: Any = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    registry.define("calendar_month = 30 * day")
    registry.define("calendar_year = 365 * day")
    return registry


@lru_cache(maxsize=4096)
def convert(value: float, from_unit: str, to_unit: str) -> float:
    """`value` in `from_unit` expressed in `to_unit` (pint; offsets for temperatures)."""
    if from_unit == to_unit:
        return value
    registry = _registry()
    return float(registry.Quantity(value, from_unit).to(to_unit).magnitude)


def same_dimension(unit_a: str, unit_b: str) -> bool:
    try:
        registry = _registry()
        return bool(registry.Quantity(1, unit_a).dimensionality == registry.Quantity(1, unit_b).dimensionality)
    except Exception:
        return False


# --------------------------------------------------------------------------- the parser


_KM_WORDS = ("km", "kms", "kilometres", "kilometers", "kilometre", "kilometer")
_TIMES_COMPARATIVES = frozenset(
    [
        "as",
        "more",
        "larger",
        "bigger",
        "higher",
        "the",
        "that",
        "longer",
        "faster",
        "slower",
        "greater",
        "fewer",
        "less",
        "smaller",
        "lower",
        "over",
    ]
)


class _Reader:
    def __init__(self, tokens: list[Token], text: str, reserved: set[int]) -> None:
        self.t = tokens
        self.text = text
        self.reserved = reserved
        self.n = len(tokens)

    def word(self, i: int) -> str | None:
        if 0 <= i < self.n and self.t[i].kind == "word" and i not in self.reserved:
            return self.t[i].text
        return None

    def sym(self, i: int, char: str) -> bool:
        return 0 <= i < self.n and self.t[i].kind == "sym" and self.t[i].text == char

    def glued(self, i: int) -> bool:
        """Token i starts where token i - 1 ends ("10k", "30%")."""
        return 0 < i < self.n and self.t[i].start == self.t[i - 1].end

    # -- one number ----------------------------------------------------------------------------

    def number(self, i: int) -> tuple[float, int, str | None] | None:
        """(value, next token, hint) for a number at token i: digits or words, scales, fractions."""
        if i >= self.n or i in self.reserved:
            return None
        w = self.word(i)
        fraction = self._fraction_at(i)
        if fraction is not None:
            return fraction
        if w in SPECIAL:
            return SPECIAL[w], i + 1, None
        if w in ("a", "an") and self.word(i + 1) == "single" and self.word(i + 2) is not None:
            return 1.0, i + 2, None  # "from a single case"
        if self.t[i].kind == "num":
            value, j = self._digits(i)
        elif w in ("a", "an") and self.word(i + 1) in (
            "hundred",
            "thousand",
            "million",
            "billion",
            "trillion",
            "dozen",
        ):
            value, j = 1.0, i + 1
        elif w is not None:
            words = self._words(i)
            if words is None:
                return None
            value, j = words
        else:
            return None
        value, j = self._scaled(value, j)
        return self._tail(i, value, j)

    def _fraction_at(self, i: int) -> tuple[float, int, str | None] | None:
        """ "a quarter", "a quarter million", "half", "half a million", "half a dozen", "half a day"."""
        w = self.word(i)
        if w in ("a", "an", "one") and self.word(i + 1) in ("half", "third", "quarter", "fifth", "tenth"):
            if self.word(i + 2) in SCALES:  # "a quarter million"
                return FRACTIONS[self.word(i + 1) or ""] * SCALES[self.word(i + 2) or ""], i + 3, None
            return FRACTIONS[self.word(i + 1) or ""], i + 2, "fraction"
        if w != "half":
            return None
        nxt, after = self.word(i + 1), self.word(i + 2)
        if nxt in ("a", "an") and after in SCALES:
            return 0.5 * SCALES[after or ""], i + 3, None
        if nxt in ("a", "an") and after == "dozen":
            return 6.0, i + 3, None
        if nxt in ("a", "an") and (after in UNITS or after in ("percent",)):
            return 0.5, i + 2, None  # "half a day", "half a percent": the unit follows
        return 0.5, i + 1, "fraction"

    def _digits(self, i: int) -> tuple[float, int]:
        """A number in digits with its exponent or glued scale: "10^12", "10**12", "1e12", "10k"."""
        t = self.t
        value = float(t[i].text.replace(",", ""))
        j = i + 1
        if self.sym(j, "^") and j + 1 < self.n and t[j + 1].kind == "num":
            return value ** float(t[j + 1].text.replace(",", "")), j + 2
        if self.sym(j, "*") and self.sym(j + 1, "*") and j + 2 < self.n and t[j + 2].kind == "num":
            return value ** float(t[j + 2].text.replace(",", "")), j + 3
        if not self.glued(j):
            if self.word(j) == "k" and self.word(j + 1) is not None and self.word(j + 1) not in UNITS:
                return value * 1e3, j + 1  # "35 k members"
            return value, j
        if self.word(j) == "e" and j + 1 < self.n and t[j + 1].kind == "num":
            return value * 10 ** float(t[j + 1].text), j + 2
        if t[j].kind == "ident" and re.fullmatch(r"e\d+", t[j].text):
            return value * 10 ** float(t[j].text[1:]), j + 1  # "1e12"
        if t[j].kind in ("word", "ident") and t[j].text in ADJACENT_SCALES:
            return value * ADJACENT_SCALES[t[j].text], j + 1
        return value, j

    def _scaled(self, value: float, j: int) -> tuple[float, int]:
        """Scale words after a number: "1.2 million", "two hundred thousand", "a thousand and fifty"."""
        total, current = 0.0, value
        while True:
            nw = self.word(j)
            if nw == "hundred":
                current *= 100
                j += 1
            elif nw == "dozen":
                current *= 12
                j += 1
            elif nw in SCALES:
                total += current * SCALES[nw or ""]
                current = 0.0
                j += 1
                k = j + 1 if self.word(j) == "and" else j
                more = self._words(k) if self.word(k) else None
                if more is None:
                    break
                current, j = more
            else:
                break
        return total + current, j

    def _tail(self, i: int, value: float, j: int) -> tuple[float, int, str | None]:
        """What ends a number in words: "two point five", "two and a half", "two thirds"."""
        in_words = self.t[i].kind == "word"
        if in_words and self.word(j) == "point" and (self.word(j + 1) or "") in SMALL_NUMBERS:
            digits, k = "", j + 1
            while (d := SMALL_NUMBERS.get(self.word(k) or "")) is not None and d < 10:
                digits += str(d)
                k += 1
            value, j = float(f"{int(value)}.{digits}"), k
        if self.word(j) == "and" and self.word(j + 1) in ("a", "an") and self.word(j + 2) == "half":
            return value + 0.5, j + 3, None
        if in_words and 1 <= value < 10 and self.word(j) in FRACTIONS:  # "two thirds"
            return value * FRACTIONS[self.word(j) or ""], j + 1, "fraction"
        return value, j, None

    def _words(self, i: int) -> tuple[float, int] | None:
        """A number in words from token i: 'twenty five', 'one hundred and twenty'."""
        current: float | None = None
        j = i
        while j < self.n:
            w = self.word(j)
            if w is None:
                break
            if w in SMALL_NUMBERS:
                if current is not None and current % 10 == 0 and current >= 20 and SMALL_NUMBERS[w] < 10:
                    current += SMALL_NUMBERS[w]
                elif current is None or current % 100 == 0:
                    current = (current or 0.0) + SMALL_NUMBERS[w]
                else:
                    break
                j += 1
            elif w in TENS:
                if current is not None and current % 100 != 0:
                    break
                current = (current or 0.0) + TENS[w]
                j += 1
            elif w == "hundred" and current is not None:
                current *= 100
                j += 1
            elif (
                w == "and"
                and current is not None
                and current % 100 == 0
                and ((self.word(j + 1) or "") in SMALL_NUMBERS or (self.word(j + 1) or "") in TENS)
            ):
                j += 1
            else:
                break
        return None if current is None else (current, j)

    # -- what follows a number ---------------------------------------------------------------------

    def unit_after(self, j: int) -> tuple[str | None, str | None, int, bool]:
        """(dimension, unit, next token, percentage points) for what is written after a number."""
        if j >= self.n or j in self.reserved:
            return None, None, j, False
        if self.word(j) is not None and self.sym(j + 1, "="):
            return None, None, j, False  # "init=25 days=200": a name that takes the next value, not a unit
        for reader in (self._share_after, self._degrees_after, self._distance_after, self._factor_after):
            found = reader(j)
            if found is not None:
                return found
        w = self.word(j)
        if w in MONEY_WORDS:
            return "money", None, j + 1, False
        if w in UNITS:
            if w in ADJACENT_ONLY and not self.glued(j):
                return None, None, j, False  # "5 h" is not "5h"
            dimension, unit = UNITS[w]
            return dimension, unit, j + 1, False
        if w in ("am", "pm", "a.m", "p.m") or (w in ("a", "p") and self.sym(j + 1, ".")):
            return "clock", w, j + 1, False
        return None, None, j, False

    def _share_after(self, j: int) -> tuple[str | None, str | None, int, bool] | None:
        """ "%", "percent", "per cent", "percentage points", "pp"."""
        w = self.word(j)
        if self.sym(j, "%") or w in ("percent", "pct") or (w == "per" and self.word(j + 1) == "cent"):
            k = j + (2 if w == "per" else 1)
            if self.word(k) == "percentage" and self.word(k + 1) in ("points", "point"):
                return "share", None, k + 2, True
            return "share", None, k, False
        if w == "percentage" and self.word(j + 1) in ("points", "point"):
            return "share", None, j + 2, True
        if w in ("points", "pts", "pp") and self.word(j - 2) != "in":
            return "share", None, j + 1, True
        return None

    def _degrees_after(self, j: int) -> tuple[str | None, str | None, int, bool] | None:
        """ "°C", "degrees fahrenheit", "28C" written together; a "c" or "f" on its own is not a unit."""
        if self.sym(j, "°") or self.word(j) in ("degrees", "degree", "deg"):
            scale = self.word(j + 1)
            if scale in ("c", "celsius", "centigrade"):
                return "temperature", "degC", j + 2, False
            if scale in ("f", "fahrenheit"):
                return "temperature", "degF", j + 2, False
            return "temperature", "degC", j + 1, False
        if self.word(j) in ("c", "f") and self.glued(j) and not (j + 1 < self.n and self.t[j + 1].is_word):
            return "temperature", "degC" if self.word(j) == "c" else "degF", j + 1, False  # "28C", "60F"
        if self.t[j].kind == "ident" and self.t[j].text in ("c", "f"):
            return None, None, j, False
        return None

    def _distance_after(self, j: int) -> tuple[str | None, str | None, int, bool] | None:
        """A length or a speed: "8 km", "3 miles", "15 km/h", "20 miles an hour", "5 m/s"."""
        w = self.word(j)
        if w not in _KM_WORDS and w not in ("miles", "mile", "mi", "m"):
            return None
        unit = "km" if w in _KM_WORDS else "mile"
        if self.sym(j + 1, "/") and self.word(j + 2) in ("h", "hr", "hour"):
            return "speed", f"{unit}/hour", j + 3, False
        if self.word(j + 1) in ("per", "an", "a") and self.word(j + 2) in ("hour", "hr", "h"):
            return "speed", f"{unit}/hour", j + 3, False
        if self.sym(j + 1, "/") and self.word(j + 2) == "s" and w == "m":
            return "speed", "m/s", j + 3, False
        if w == "m":
            return None, None, j, False
        return "length", unit, j + 1, False

    def _factor_after(self, j: int) -> tuple[str | None, str | None, int, bool] | None:
        """ "3x", "2 times as many", "tenfold"; "3 times" alone counts occasions."""
        w = self.word(j)
        if w not in ("x", "times", "fold") or (w == "x" and not self.glued(j)):
            return None
        if w == "times" and self.word(j + 1) not in _TIMES_COMPARATIVES:
            return None, None, j, False
        return "factor", None, j + 1, False

    def per_after(self, j: int) -> tuple[str | None, tuple[int, ...]]:
        """A rate written after a value (and up to four words it counts): "orders per hour", "a day"."""
        breaks = {",", ".", ";", ":", "?", "!", "(", ")"}
        k = j
        skipped = 0
        while k < self.n and skipped <= 4:
            tok = self.t[k]
            if k in self.reserved or (tok.kind == "sym" and tok.text in breaks) or tok.kind == "num":
                return None, ()
            w = tok.text if tok.kind in ("word", "sym") else None
            if w in ADVERB_RATES:
                return ADVERB_RATES[w], (k,)
            if w == "/" and self.word(k + 1) in PER_WORDS:
                return PER_WORDS[self.word(k + 1) or ""], (k, k + 1)
            if (
                w in ("per", "a", "an", "each", "every")
                and self.word(k + 1) in PER_WORDS
                and (k > j or w != "a" or skipped == 0)
            ):
                if w in ("a", "an") and self.word(k + 1) not in ("hour", "day", "week", "month", "minute"):
                    return None, ()
                return PER_WORDS[self.word(k + 1) or ""], (k, k + 1)
            if w is None or w in ("and", "or", "to", "for", "in", "from", "over", "with", "at", "than", "but", "by"):
                return None, ()
            skipped += 1
            k += 1
        return None, ()


def find_quantities(tokens: list[Token], text: str, reserved: set[int] | None = None) -> list[Quantity]:
    """Every quantity stated in the tokens, in order (see the module docstring for dimensions)."""
    r = _Reader(tokens, text, reserved or set())
    found: list[Quantity] = []
    i = 0
    while i < r.n:
        if i in r.reserved:
            i += 1
            continue
        q, nxt = _quantity_at(r, i, found)
        if q is None:
            i += 1
            continue
        found.append(q)
        i = max(nxt, i + 1, *(k + 1 for k in q.per_tokens))
    return _without_ages(r, _alternatives_share_units(r, _combine_relative(r, _combine_clock_ranges(r, found))))


def _without_ages(r: _Reader, found: list[Quantity]) -> list[Quantity]:
    """ "5-17 year olds", "people over 65 years old": ages name a group of people, not a value to run."""
    ages: set[int] = set()
    for k, q in enumerate(found):
        if q.dimension == "duration" and q.unit == "calendar_year" and r.word(q.last) in ("old", "olds"):
            ages.add(k)
            before = found[k - 1] if k > 0 else None
            if (
                before is not None
                and before.dimension == "number"
                and all(t.text in ("-", "to", "and") for t in r.t[before.last : q.first])
            ):
                ages.add(k - 1)  # "5-17 year olds", "18 to 64 year olds"
    return [q for k, q in enumerate(found) if k not in ages]


# Words between a value and its alternative: "25 km/h instead of 18", "15 km/h rather than 20";
# "instead of" and "rather than" may follow words that go with the first value ("2 days after
# symptoms instead of 4.6"), the others only the value itself ("less than 15" is a limit).
_ALTERNATIVE_JOINS = (("instead", "of"), ("rather", "than"))
_BARE_ALTERNATIVE_JOINS = (("than",), ("vs",), ("versus",), ("not",))


def _alternatives_share_units(r: _Reader, found: list[Quantity]) -> list[Quantity]:
    """A bare number offered as the alternative of a value with a unit is in that unit ("25 km/h
    instead of 18" is 18 km/h), as the bare values of a list are ("2, 3 or 5 days")."""
    out = list(found)
    for k in range(1, len(out)):
        a, b = out[k - 1], out[k]
        if b.dimension != "number" or b.per or a.dimension in ("factor", "clock", "money"):
            continue
        if a.dimension == "number" and not a.per:
            continue  # nothing to share: "3 instead of 2.5"
        between = tuple(t.text for t in r.t[a.last : b.first])
        after = r.t[b.last] if b.last < r.n else None
        joined = between in _BARE_ALTERNATIVE_JOINS or any(
            between[-2:] == join and len(between) <= 5 and all(w.isalpha() for w in between[:-2])
            for join in _ALTERNATIVE_JOINS
        )
        if joined and (after is None or not after.is_word or after.text in ARTICLES):
            out[k] = _like(b, a)
    return out


def _slash_fraction(r: _Reader, i: int) -> tuple[Quantity, int] | None:
    """ "3/4 of their usual contacts", "1/3 of the staff": a share written as a fraction (not "10/20/30")."""
    t = r.t
    if i + 2 >= r.n or t[i].kind != "num" or not r.sym(i + 1, "/") or t[i + 2].kind != "num":
        return None
    if not (r.glued(i + 1) and r.glued(i + 2)) or r.sym(i + 3, "/") or (i > 0 and r.sym(i - 1, "/")):
        return None
    if not (t[i].text.isdigit() and t[i + 2].text.isdigit()):
        return None
    top, bottom = int(t[i].text), int(t[i + 2].text)
    if not 0 < top < bottom <= 12 or r.word(i + 3) != "of":
        return None
    return _make(r, i, i + 3, top / bottom, "share", None), i + 3


def _make(r: _Reader, first: int, last: int, value: float, dimension: str, unit: str | None, **extra: Any) -> Quantity:
    start, end = r.t[first].start, r.t[last - 1].end
    approx = first > 0 and r.t[first - 1].text in APPROX
    return Quantity(value, dimension, unit, first, last, start, end, r.text[start:end], approx=approx, **extra)


def _quantity_at(r: _Reader, i: int, found: list[Quantity]) -> tuple[Quantity | None, int]:
    """The quantity starting at token i, if any, and the token after it."""
    if r.sym(i, "$") or r.sym(i, "€") or r.sym(i, "£"):  # "$5"
        parsed = r.number(i + 1)
        if parsed:
            return _make(r, i, parsed[1], parsed[0], "money", None), parsed[1]
        return None, i + 1
    slashed = _slash_fraction(r, i)
    if slashed is not None:
        return slashed
    first = i
    sign = _sign_at(r, i)
    if sign is None:
        return None, i + 1
    negative, i = sign
    worded = _worded_quantity_at(r, first, i, found)
    if worded is not None:
        return worded
    if r.word(i) == "one" and (r.word(i + 1) in _ONE_PRONOUN_AFTER or r.word(i - 1) in _ONE_PRONOUN_BEFORE):
        return None, i + 1  # "one of 8 weeks", "the same one": a pronoun, not a number
    parsed = r.number(i)
    if parsed is None:
        return None, i + 1
    value, j, hint = parsed
    if hint is None and not negative:
        share = _share_in_at(r, first, value, j)
        if share is not None:
            return share
    return _number_with_unit(r, first, i, -value if negative else value, j, hint)


_ONE_PRONOUN_AFTER = ("of", "with", "that", "which", "where", "who", "whose", "more", "another")
_ONE_PRONOUN_BEFORE = ("the", "this", "that", "which", "each", "any", "every", "no", "another", "same", "other", "a")


def _sign_at(r: _Reader, i: int) -> tuple[bool, int] | None:
    """(negative, where the number starts) for "-2" and "minus 3"; None for a hyphen that joins words
    ("day 10-20")."""
    t = r.t
    if r.sym(i, "-") and i + 1 < r.n and t[i + 1].kind == "num" and r.glued(i + 1):
        prev = t[i - 1] if i > 0 else None
        if prev is None or prev.end < t[i].start or prev.text in ("=", ":", "(", "of"):
            return True, i + 1
        return None
    if r.word(i) in ("minus", "negative") and r.number(i + 1) is not None and r.word(i + 1) not in ("a", "an"):
        return True, i + 1
    return False, i


def _worded_quantity_at(r: _Reader, first: int, i: int, found: list[Quantity]) -> tuple[Quantity | None, int] | None:
    """Quantities that start with a word: factor verbs ("halve contacts", "twice as long"), a unit with
    an article ("a week", "an hour and a half"; not the "an hour" of a rate), a point in time ("day 30")."""
    w = r.word(i)
    if w in FACTORS:
        return _make(r, i, i + 1, FACTORS[w], "factor", None), i + 1
    if w in ("a", "an", "one") and r.word(i + 1) in ("day", "week", "month", "year", "hour", "minute", "fortnight"):
        if w != "one" and (_after_value(r, i, found) or r.word(i - 1) in ("per", "each", "every")):
            return None, i + 2
        time_unit = TIME_UNITS[r.word(i + 1) or ""]
        value, last = 1.0, i + 2
        if r.word(last) == "and" and r.word(last + 1) in ("a", "an") and r.word(last + 2) == "half":
            value, last = 1.5, last + 3
        return _make(r, first, last, value, "duration", time_unit), last
    if w in INDEX_UNITS and _number_starts(r, i + 1):
        point = r.number(i + 1)
        if point is not None and point[2] is None and r.unit_after(point[1])[0] is None:
            value, last, _ = point
            day = value if w == "day" else (value - 1) * INDEX_UNITS[w]
            return _make(r, first, last, day, "day", "day", whole=float(value).is_integer()), last
    return None


def _number_starts(r: _Reader, k: int) -> bool:
    return k < r.n and (r.t[k].kind == "num" or (r.word(k) or "") in SMALL_NUMBERS or (r.word(k) or "") in TENS)


def _share_in_at(r: _Reader, first: int, value: float, j: int) -> tuple[Quantity, int] | None:
    """ "seven in ten", "1 in 5", "3 out of 4": a share (not "5 in 10 steps")."""
    if r.word(j) not in ("in", "out"):
        return None
    k = j + (2 if r.word(j) == "out" and r.word(j + 1) == "of" else 1)
    if r.word(k) in ("every", "each") and _number_starts(r, k + 1):
        k += 1  # "3 out of every 4 cases"
    if not _number_starts(r, k):
        return None
    denominator = r.number(k)
    if denominator is None or denominator[2] is not None:
        return None
    size, end = denominator[0], denominator[1]
    if r.word(end) in ("steps", "step", "increments", "days", "weeks") or not max(value, 1) <= size <= 1000:
        return None
    if r.unit_after(end)[0] is not None:
        return None
    return _make(r, first, end, value / size, "share", None), end


def _number_with_unit(r: _Reader, first: int, i: int, value: float, j: int, hint: str | None) -> tuple[Quantity, int]:
    """A number and what is written after it: its unit, a share, a clock time, a rate."""
    t = r.t
    whole = t[i].kind == "num" and "." not in t[i].text and hint is None
    dimension: str | None
    unit: str | None
    dimension, unit, last, points = r.unit_after(j)
    if dimension is None and hint == "fraction":
        # "half as many staff", "a third as much demand": a factor, like "twice as many"
        dimension = "factor" if r.word(last) == "as" and r.word(last + 1) is not None else "share"
        if r.word(last) == "of" and r.word(last + 1) in ("a", "an") and r.word(last + 2) in UNITS:
            unit_dimension, unit_name = UNITS[r.word(last + 2) or ""]
            if unit_dimension == "duration":  # "a quarter of an hour", "half of a day"
                return _make(r, first, last + 3, value, "duration", unit_name), last + 3
    if dimension == "share" and hint != "fraction":
        value /= 100.0
    if dimension == "clock":
        hour = value % 12 + (12 if unit and unit.startswith("p") else 0)
        return _make(r, first, last, hour, "clock", None), last
    if dimension is None:
        dimension, unit = "number", None
    per: str | None = None
    per_tokens: tuple[int, ...] = ()
    if dimension in ("number", "share"):
        per, per_tokens = r.per_after(last)
    q = _make(
        r,
        first,
        last,
        value,
        dimension,
        unit,
        per=per,
        per_tokens=per_tokens,
        points=points,
        whole=whole and dimension == "number",
        written_percent=dimension == "share" and hint is None,
    )
    return q, last


def _after_value(r: _Reader, i: int, found: list[Quantity]) -> bool:
    """Token i follows a quantity within three words ('120 orders an hour': a rate, not a duration)."""
    if not found:
        return False
    last = found[-1]
    between = r.t[last.last : i]
    if len(between) > 3:
        return False
    return not any(
        t.text
        in (
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
            "by",
            "until",
            "lasting",
            "of",
        )
        for t in between
    )


_MORE_THAN = {"more", "higher", "greater", "bigger", "larger", "above"}
_LESS_THAN = {"less", "fewer", "lower", "smaller", "below"}


def _combine_relative(r: _Reader, found: list[Quantity]) -> list[Quantity]:
    """ "30% more than 200 orders": one value, 260."""
    out: list[Quantity] = []
    i = 0
    while i < len(found):
        q = found[i]
        if q.dimension == "share" and not q.points and i + 1 < len(found):
            nxt = found[i + 1]
            between = [t.text for t in r.t[q.last : nxt.first]]
            if (
                len(between) == 2
                and between[1] == "than"
                and between[0] in _MORE_THAN | _LESS_THAN
                and (nxt.dimension != "share")
            ):
                sign = 1 if between[0] in _MORE_THAN else -1
                combined = replace(
                    nxt,
                    value=nxt.value * (1 + sign * q.value),
                    first=q.first,
                    start=q.start,
                    text=r.text[q.start : nxt.end],
                    whole=False,
                    derived=f"{q.text} {between[0]} than {nxt.value:g}",
                )
                out.append(combined)
                i += 2
                continue
        out.append(q)
        i += 1
    return out


def _combine_clock_ranges(r: _Reader, found: list[Quantity]) -> list[Quantity]:
    """ "from 11am to 9pm": one duration of 10 hours in place of two times of day."""
    out: list[Quantity] = []
    i = 0
    while i < len(found):
        q = found[i]
        if q.dimension == "clock" and i + 1 < len(found) and found[i + 1].dimension == "clock":
            between = [t.text for t in r.t[q.last : found[i + 1].first]]
            if between and all(b in ("to", "until", "till", "-", "and") for b in between):
                nxt = found[i + 1]
                hours = (nxt.value - q.value) % 24 or 24
                first = q.first - 1 if q.first > 0 and r.t[q.first - 1].text in ("from", "between") else q.first
                out.append(_make(r, first, nxt.last, hours, "duration", "hour"))
                i += 2
                continue
        out.append(q)
        i += 1
    return out


# --------------------------------------------------------------------------- runs


def find_runs(tokens: list[Token], quantities: list[Quantity]) -> list[Run]:
    """Values of one thing in a row (lists and ranges, with their step); single values are not runs."""
    runs: list[Run] = []
    i = 0
    while i < len(quantities):
        members = [quantities[i]]
        joins: list[set[str]] = []
        j = i
        while j + 1 < len(quantities):
            seps = _joined(tokens, quantities[j], quantities[j + 1], members[0])
            if seps is None or (joins and joins[-1] & _RANGE_WORDS) or (joins and seps & _RANGE_WORDS):
                break  # a range has two ends: "from 1 to 5, 50 riders" is a range and another value
            joins.append(seps)
            members.append(quantities[j + 1])
            j += 1
        # "2.5M people, 100 seed infections": commas alone make a list only of three values or more
        if len(members) < 3 or not all(
            q.dimension == members[-1].dimension or q.dimension == "number" for q in members
        ):
            while joins and joins[-1] <= {","}:
                joins.pop()
                members.pop()
                j -= 1
        separators: set[str] = set().union(*joins) if joins else set()
        if len(members) >= 2 and _accept_run(tokens, members, separators):
            run = Run(members=members, kind="list", separators=separators)
            before = tokens[members[0].first - 1].text if members[0].first > 0 else ""
            if separators & {"to", "through", "-", "until", "till"} or (before == "between" and "and" in separators):
                run.kind = "range"
            run.first = members[0].first - (1 if before in ("from", "between") else 0)
            run.last = members[-1].last
            _read_step(tokens, quantities, j + 1, run)
            runs.append(_share_units(run))
            i = j + 1 + (1 if run.step is not None and run.step in quantities[j + 1 : j + 2] else 0)
            continue
        i += 1
    return runs


_RANGE_WORDS = {"to", "through", "-", "until", "till"}
_SEPARATOR_WORDS = {
    ",",
    "and",
    "or",
    "vs",
    "versus",
    "v",
    "through",
    "to",
    "then",
    "-",
    "/",
    "until",
    "till",
    "against",
    "compared",
    "with",
}


def _joined(tokens: list[Token], a: Quantity, b: Quantity, head: Quantity) -> set[str] | None:
    """The separators between two values of one run, or None when something else stands between them."""
    if a.dimension != b.dimension and "number" not in (a.dimension, b.dimension):
        return None
    if {a.dimension, b.dimension} & {"factor", "money", "clock"}:
        return None
    between = [t for t in tokens[a.last : b.first] if t.index not in a.per_tokens]  # "8 a day to 2 a day"
    if not between or len(between) > 6:
        return None
    seps = {t.text for t in between if t.text in _SEPARATOR_WORDS}
    if "compared" in seps:
        seps -= {"to", "with"}  # "R0 3 compared to R0 2": two values to compare, not a range
    if not seps:
        return None
    rest = [t for t in between if t.text not in _SEPARATOR_WORDS and t.text not in ARTICLES and t.text != "."]
    if any(t.kind == "num" for t in rest) or ({"compared", "with"} & seps and not {"compared"} & seps):
        return None
    if rest:
        # a repeated name or noun: "R0 2 vs R0 3", "40 riders or 55 riders" (not "100 riders and 250 orders")
        words = [t.stem for t in rest]
        before = [t.stem for t in tokens[max(0, head.first - len(words)) : head.first]]
        after = [t.stem for t in tokens[a.last : a.last + len(words)]]
        after_b = [t.stem for t in tokens[b.last : b.last + len(words)]]
        if words != before and not (words == after and after_b == words):
            return None
    return seps


def _accept_run(tokens: list[Token], members: list[Quantity], separators: set[str]) -> bool:
    """ "R0 2 and 5 days" is two values, not a list: a pair joined by "and" needs one unit for both."""
    if separators <= {"and", ","} and len(members) == 2 and "," not in separators:
        first = tokens[members[0].first - 1].text if members[0].first > 0 else ""
        if first == "between":
            return True
        return (
            members[0].dimension == members[1].dimension
            and members[0].unit == members[1].unit
            and (members[0].dimension != "number")
        )
    return not (separators <= {","} and len(members) < 3)


def _read_step(tokens: list[Token], quantities: list[Quantity], after: int, run: Run) -> None:
    """ "in steps of 0.5", "by 0.5", "step 5", "in 5-minute steps", "increments of 10", "every 5"."""
    if after >= len(quantities):
        return
    q = quantities[after]
    reserved = {k for m in run.members for k in m.per_tokens}
    between = [t.text for t in tokens[run.last : q.first] if t.index not in reserved]
    following = [t.text for t in tokens[q.last : q.last + 1]]
    step_words = {"step", "steps", "by", "increments", "increment", "every", "stepping"}
    stepped = set(between) & step_words or (following and following[0] in ("steps", "step", "increments"))
    if len(between) <= 6 and stepped and not set(between) & {",", ".", ";", "?", "and", "with"}:
        if between and between[-1] in ("to", "and", "or"):
            return
        run.last = q.last + (1 if following and following[0] in ("steps", "step", "increments") else 0)
        if q.dimension == "number" and between[-1:] == ["in"] and following[:1] == ["steps"] and q.whole:
            run.steps = int(q.value)  # "in 100000 steps": a count of values
            return
        run.step = q


def _share_units(run: Run) -> Run:
    """Bare numbers in a run take the unit its other values are written in ("2, 3 or 5 days")."""
    per = next((m.per for m in run.members if m.per), None)
    if per is not None:  # "0.5%, 1% or 2% of people per day"
        run.members = [m if m.per else replace(m, per=per) for m in run.members]
    with_unit = [m for m in run.members if m.dimension != "number"]
    if not with_unit or len(with_unit) == len(run.members):
        if run.step is not None and run.step.dimension == "number" and with_unit:
            run.step = _like(run.step, with_unit[-1])
        return run
    model = with_unit[-1]
    run.members = [_like(m, model) if m.dimension == "number" else m for m in run.members]
    if run.step is not None and run.step.dimension == "number":
        run.step = _like(run.step, model)
    return run


def _like(q: Quantity, model: Quantity) -> Quantity:
    value = q.value / 100.0 if model.dimension == "share" and model.written_percent and not model.points else q.value
    return replace(
        q,
        value=value,
        dimension=model.dimension,
        unit=model.unit,
        per=model.per,
        points=model.points,
        written_percent=model.written_percent,
        whole=False,
    )


def expand(run: Run, whole: bool = False) -> list[float] | None:
    """The values a run names: its members, or the range's steps (whole numbers for "1 through 4")."""
    values = [m.value for m in run.members]
    if run.kind != "range" or len(values) != 2:
        return values
    low, high = values
    if run.step is not None:
        step = abs(run.step.to(run.members[0].unit) if run.members[0].unit else run.step.value)
        if step <= 0 or not math.isfinite(step):
            return None
        count = math.floor((abs(high - low) + 1e-9) / step) + 1
        if count > 10_000:
            return None
        sign = 1 if high >= low else -1
        return [round(low + sign * k * step, 10) for k in range(count)]
    if whole and float(low).is_integer() and float(high).is_integer() and abs(high - low) <= 50:
        sign = 1 if high >= low else -1
        return [low + sign * k for k in range(int(abs(high - low)) + 1)]
    return None
