"""Numbers in prose: '12,345', '1.2k', '45%', '3.4 million', '-2', '1.2-3.0' -> values with their precision.

The grounding rule (`simqa.compose.ungrounded_numbers`) reads an answer's text with this and traces
every number back to a result, an input or the question, allowing for the rounding the text applied.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_SCALES = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "millions": 1e6,
    "bn": 1e9,
    "billion": 1e9,
}

_NUMBER = re.compile(
    r"(?P<sign>[-−–])?"  # minus, unicode minus or en dash (a range separator when glued to a number)
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)"
    r"(?P<frac>\.\d+)?"
    r"(?:[eE](?P<exp>[-+]?\d+))?"
    r"(?P<pct>\s?(?:%|percent\b|per cent\b))?"
    r"(?P<scale>\s?(?:thousand|millions?|billion|bn|mn|[kKmM])\b)?"
)


@dataclass(frozen=True)
class Number:
    """One number found in text. `tolerance` is half a unit of its last shown digit, in `value` units."""

    value: float
    text: str
    percent: bool
    tolerance: float
    start: int


def extract_numbers(text: str) -> list[Number]:
    """Every number in `text`, skipping those glued to words (x2, a_3, COVID-19, run ids)."""
    found: list[Number] = []
    for match in _NUMBER.finditer(text):
        start = match.start("int")
        before = text[start - 1] if start > 0 else " "
        sign = match.group("sign")
        if sign:
            before_sign = text[match.start() - 1] if match.start() > 0 else " "
            if before_sign.isalpha() or before_sign == "_":
                continue  # a hyphenated name: COVID-19, SEIR-2
            negative = not before_sign.isdigit()  # "1.2-3.0" is a range, not a negative number
        else:
            if before.isalnum() or before in "_.":
                continue  # part of an identifier (x2, a_3) or a longer number
            negative = False
        end = match.end()
        glued = end < len(text) and (text[end].isalpha() or text[end] == "_")
        if glued and not match.group("scale") and not match.group("pct"):
            continue  # "1st", "2nd", "3a9f..." (ids, ordinals)
        digits = match.group("int").replace(",", "")
        frac = match.group("frac") or ""
        decimals = len(frac) - 1 if frac else 0
        value = float(digits + frac)
        exp = match.group("exp")
        if exp:
            value *= 10.0 ** int(exp)
        tolerance = 0.5 * 10.0**-decimals * (10.0 ** int(exp) if exp else 1.0)
        if not frac and not exp and len(digits) > 2:
            # "about 1,200" for 1,234: trailing zeros are rounding, up to 5% of the number.
            trailing_zeros = len(digits) - len(digits.rstrip("0"))
            tolerance = max(tolerance, min(0.5 * 10.0**trailing_zeros, 0.05 * value))
        scale_word = (match.group("scale") or "").strip()
        percent = bool(match.group("pct"))
        if scale_word and not percent:
            scale = _SCALES.get(scale_word.lower(), 1.0)
            value *= scale
            tolerance *= scale
        if negative:
            value = -value
        if not math.isfinite(value):
            continue
        found.append(
            Number(value=value, text=match.group(0).strip(), percent=percent, tolerance=tolerance, start=start)
        )
    return found


def matches(number: Number, source: float) -> bool:
    """Whether `number` (as the text shows it) is `source` rounded, or `source` as a percentage."""
    if not math.isfinite(source):
        return False
    candidates = [number.value, abs(number.value)]
    slack = 1e-9 + 1e-9 * abs(source)
    for value in candidates:
        if abs(value - source) <= number.tolerance + slack:
            return True
        # Three significant figures ("0.333" for 1/3, "12.3k") are fine prose.
        if source != 0 and abs(value - source) <= 0.005 * abs(source) + slack:
            return True
        if number.percent and abs(value / 100 - source) <= number.tolerance / 100 + 0.0005 * max(1, abs(source)):
            return True
    return False
