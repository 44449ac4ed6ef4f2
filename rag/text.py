"""Tokens for BM25 and features for the local embedding: one normaliser for both, so a query and a
document that say the same thing in the words of this domain meet.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "me",
        "my",
        "about",
        "any",
        "also",
        "should",
        "could",
        "did",
        "been",
        "being",
        "them",
        "they",
        "us",
        "very",
        "just",
        "more",
        "most",
        "much",
        "many",
        "some",
        "such",
        "only",
        "own",
        "same",
        "other",
        "up",
        "down",
        "out",
        "over",
        "under",
        "again",
    ]
)

# A small map of the domain's synonyms to one canonical token, emitted next to the word itself.
# Written for the vocabulary of the model cards (epidemics, last-mile delivery), not for the eval
# questions: each entry is a common way people say the thing the cards name.
SYNONYMS: dict[str, str] = {
    "lockdown": "contact_reduction",
    "distancing": "contact_reduction",
    "vaccine": "vaccination",
    "vaccinate": "vaccination",
    "vaccinated": "vaccination",
    "immunisation": "vaccination",
    "immunization": "vaccination",
    "jab": "vaccination",
    "isolate": "isolation",
    "isolating": "isolation",
    "quarantined": "quarantine",
    "schools": "school",
    "workplaces": "workplace",
    "office": "workplace",
    "offices": "workplace",
    "border": "travel",
    "borders": "travel",
    "r0": "reproduction",
    "r_0": "reproduction",
    "couriers": "courier",
    "driver": "courier",
    "drivers": "courier",
    "rider": "courier",
    "riders": "courier",
    "lateness": "late",
    "delay": "late",
    "delays": "late",
    "sla": "late",
    "deadline": "late",
    "infections": "infected",
    "infection": "infected",
    "cases": "infected",
    "sick": "infected",
    "highest": "peak",
    "maximum": "peak",
    "max": "peak",
    "uncertainty": "interval",
    "confidence": "interval",
    "intervals": "interval",
    "calibrate": "calibration",
    "fit": "calibration",
    "retrodiction": "calibration",
    "references": "reference",
    "citation": "reference",
    "source": "reference",
    "sources": "reference",
    "limits": "validity",
    "limitations": "validity",
    "valid": "validity",
    "assumption": "validity",
    "assumptions": "validity",
    "latent": "incubation",
    "orders": "order",
    "deliveries": "order",
    "utilisation": "utilization",
    "busy": "utilization",
}


def _stem(word: str) -> str:
    """A light suffix stripper (plural and common verb endings); char n-grams do the rest."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                return word
            return word[: len(word) - len(suffix)] + keep
    return word


def words(text: str) -> list[str]:
    """Lower-cased words; `snake_case` names also give their parts (`peak_infected` -> peak, infected)."""
    out: list[str] = []
    for raw in re.split(r"[^A-Za-z0-9_.]+", text.lower()):
        raw = raw.strip("._")
        if not raw:
            continue
        if "_" in raw:
            out.append(raw)
            out.extend(p for p in raw.split("_") if p)
        else:
            out.extend(_WORD.findall(raw))
    return out


def synonym_tokens(word: str) -> list[str]:
    """The canonical token of a synonym, and its parts when it is a snake_case name."""
    canonical = SYNONYMS.get(word)
    if canonical is None or canonical == word:
        return []
    return [canonical, *canonical.split("_")] if "_" in canonical else [canonical]


def tokens(text: str) -> list[str]:
    """BM25 tokens: words without stopwords, stemmed, plus canonical synonyms."""
    out: list[str] = []
    for word in words(text):
        if word in STOPWORDS:
            continue
        out.append(_stem(word))
        out.extend(synonym_tokens(word))
    return out
