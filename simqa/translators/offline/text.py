"""Step 1, text: normalise a question, drop instructions aimed at the assistant, split it into tokens.

Tokens keep their place in the normalised text, so every later step can quote what it read.
Words carry their stem (Snowball English), which is what phrases are matched on: "schools" and
"school", "isolating" and "isolation" are the same word to the reader.

A misspelt word (not an English word, not a word of any model's language) is read as the nearest
word of the models' language within one or two edits ("shcools" -> "schools"); real words are never
changed. The list of real words is the English dictionary that ships with `pyspellchecker`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from simqa.translators.offline import cues

# Look-alike characters replaced one for one, so that spans in the normalised text are spans in the question.
_LOOKALIKES = str.maketrans(
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
        "\t": " ",
        "\n": " ",
        "\r": " ",
        "_": " ",
    }
)

_TOKEN = re.compile(
    r"(?P<ordinal>\d+(?:st|nd|rd|th)\b)"
    r"|(?P<ident>[a-z]+[_-]?\d+[a-z\d]*(?:-\d+)?)"
    r"|(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"|(?P<word>[a-z]+(?:'[a-z]+)?)"
    r"|(?P<sym>[^\sa-z\d])"
)
# Words that stay words when digits follow a hyphen ("day-30" is day 30, not an identifier).
_NOT_IDENTIFIERS = frozenset(
    {
        "day",
        "days",
        "week",
        "weeks",
        "month",
        "months",
        "year",
        "years",
        "hour",
        "hours",
        "minute",
        "minutes",
        "min",
        "mins",
        "top",
        "over",
        "under",
        "by",
        "to",
        "x",
        "e",
        "and",
        "or",
        "vs",
        "of",
        "at",
        "about",
        "around",
        "step",
        "steps",
    }
)


@dataclass(frozen=True)
class Token:
    """One token of the normalised question.

    kind: "word", "num" (digits), "ident" (letters with digits: "p90", "covid19"),
    "ordinal" ("90th"), "sym" (one other character).
    """

    text: str
    kind: str
    start: int
    end: int
    stem: str
    index: int = 0

    @property
    def is_word(self) -> bool:
        return self.kind in ("word", "ident", "ordinal")


def normalise(question: str) -> str:
    """Lower case with look-alike characters replaced one for one."""
    return question.translate(_LOOKALIKES).lower()


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of a word; short words and identifiers stay as they are."""
    if len(word) <= 3 or not word.isalpha():
        return word
    return str(_stemmer().stemWord(word))


def tokenize(text: str) -> list[Token]:
    """Tokens of a normalised text. A hyphen between words is a space ("agent-based", "6-week")."""
    tokens: list[Token] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "sym"
        raw = m.group()
        if kind == "ident":
            letters = re.match(r"[a-z]+", raw)
            if letters and letters.group() in _NOT_IDENTIFIERS:
                # "day-30": a word and a number; re-tokenise the two parts
                word = letters.group()
                tokens.append(Token(word, "word", m.start(), m.start() + len(word), stem(word)))
                rest = raw[len(word) :].lstrip("_-")
                offset = m.end() - len(rest)
                # "day-30" is a number; "over-65s" names a group (like "the 1990s"), not a quantity
                tokens.append(Token(rest, "num" if rest.isdigit() else "ident", offset, m.end(), rest))
                continue
            raw = raw.replace("_", "").replace("-", "")
        if kind == "sym" and raw == "-" and _between_words(text, m.start()):
            continue
        tokens.append(Token(raw, kind, m.start(), m.end(), stem(raw) if kind == "word" else raw))
    return [replace(t, index=i) for i, t in enumerate(tokens)]


def _between_words(text: str, at: int) -> bool:
    """A hyphen joining two words, or a number and a word ("agent-based", "6-week"): read as a space."""
    before = text[at - 1] if at > 0 else " "
    after = text[at + 1] if at + 1 < len(text) else " "
    return (before.isalpha() or before.isdigit()) and after.isalpha()


# --------------------------------------------------------------------------- instructions and harm


def drop_injections(text: str) -> tuple[str, bool]:
    """The text with instructions aimed at the assistant blanked out, and whether there were any.

    A marked-up block (`<system>...</system>`) goes whole; in a sentence that turns into an
    instruction only what comes before the clause that starts it is kept, so nothing the
    instruction states is ever read. Blanking keeps every other character where it was.
    """
    found = False
    for block in cues.INJECTED_BLOCK.finditer(text):
        found = True
        text = _blank(text, block.start(), block.end())
    for sentence in cues.SENTENCE.finditer(text):
        start, end = sentence.span()
        m = cues.INJECTION.search(text, start, end)
        if m is None:
            continue
        found = True
        cut = m.start()
        clauses = [c for c in cues.CLAUSE_START.finditer(text, start, cut)]
        cut = clauses[-1].start() if clauses else start
        text = _blank(text, cut, end)
    return text, found


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def is_harmful(text: str) -> bool:
    """A request to build, enhance or release a pathogen or to hurt people: refused whatever could run."""
    return cues.HARMFUL.search(text) is not None


# --------------------------------------------------------------------------- spelling


@lru_cache(maxsize=1)
def _english() -> frozenset[str]:
    """Real English words (pyspellchecker's dictionary, shipped with the package: nothing is downloaded)."""
    try:
        from spellchecker import SpellChecker
    except ImportError:  # pragma: no cover - a dependency of simqa
        return frozenset()
    return frozenset(SpellChecker(distance=1).word_frequency.dictionary)


@lru_cache(maxsize=1)
def _ranks() -> dict[str, int]:
    try:
        from spellchecker import SpellChecker
    except ImportError:  # pragma: no cover - a dependency of simqa
        return {}
    counts = SpellChecker(distance=1).word_frequency.dictionary
    return {w: i for i, (w, _) in enumerate(sorted(counts.items(), key=lambda kv: -kv[1])[:5000])}


def common_rank(word: str) -> int | None:
    """How common an English word is (0 = most common), for the 5,000 most common words; else None."""
    return _ranks().get(word)


class Speller:
    """Reads misspelt words as the nearest word of the models' language ("infectous" -> "infectious")."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.vocabulary = sorted({w for w in vocabulary if w.isalpha() and len(w) >= 4})
        self._known = frozenset(self.vocabulary)

    def correct(self, word: str) -> str | None:
        """The word meant, or None when `word` is a real word or nothing is near enough."""
        if len(word) < 5 or not word.isalpha() or word in self._known or word in _english() or word in cues.WORDS:
            return None
        from rapidfuzz.distance import DamerauLevenshtein

        limit = 1 if len(word) < 8 else 2
        best: list[str] = []
        best_distance = limit + 1
        for candidate in self.vocabulary:
            if abs(len(candidate) - len(word)) > limit or candidate[0] != word[0]:
                continue
            d = DamerauLevenshtein.distance(word, candidate, score_cutoff=limit)
            if d > limit:
                continue
            if d < best_distance:
                best, best_distance = [candidate], d
            elif d == best_distance:
                best.append(candidate)
        return best[0] if len(best) == 1 else None

    def fix(self, tokens: list[Token]) -> tuple[list[Token], list[tuple[str, str]]]:
        """Tokens with misspelt words read as meant, and the (written, read) pairs."""
        fixed, changes = [], []
        for t in tokens:
            meant = self.correct(t.text) if t.kind == "word" else None
            if meant is None:
                fixed.append(t)
            else:
                changes.append((t.text, meant))
                fixed.append(replace(t, text=meant, stem=stem(meant)))
        return fixed, changes
