"""Explanations: answers quoted from the model cards; nothing runs.

Retrieval ranks chunks by similarity, which is not the same as "the section that defines what was
asked". So the sections that define a term the question names (a metric, a parameter, an
intervention of the model) come first, then the card's overview for general questions ("how does
the seir model work?"), then the rest of what retrieval found. A question about several models
quotes each of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from rag.types import Chunk
from sim.errors import StoreError
from sim.registry import get_model
from simqa.answer import Citation
from simqa.request import Request

MAX_QUOTES = 3
QUOTE_CHARS = 700
GENERAL_QUESTION = re.compile(
    r"\b(how (does|do|is)\b.*\b(work|built|simulate)|what (is|does) the \w+ model\b|(explain|describe|tell me about) the"
    r" \w+ model|difference between|when should i use|which model)",
    re.IGNORECASE,
)
MODEL_WORDS = {
    "seir": ("seir", "sir ", "compartmental"),
    "abm": ("abm", "agent-based", "agent based", "agent model"),
    "delivery": ("delivery", "courier", "rider", "orders"),
}
NO_DOCS = (
    "I found no documentation on that. Run `simqa index` to index the model cards, or ask about "
    "a model's parameters, interventions or metrics."
)


def explain(
    question: str, request: Request, found: Iterable[Chunk], notes: list[str] | None = None
) -> tuple[str, list[Citation]]:
    """The answer text quoting up to three card sections, and their citations.

    When the vector store fails (a Chroma server down or silent), the cards are searched by
    keywords alone and a line saying so is added to `notes`.
    """
    search = _DocSearch(notes if notes is not None else [])
    text = f" {question.lower()} "
    models = (
        [request.model] if request.model else [m for m, words in MODEL_WORDS.items() if any(w in text for w in words)]
    )
    candidates = list(found)
    scopes: list[str | None] = [*models] or [None]
    for scope in scopes:
        candidates += search(question, model=scope, k=5)
    wanted: list[Chunk] = []
    for model in models:
        for section, term in _defined_terms(model, text):
            wanted += _section(search(term, model=model, k=10), section)
        if GENERAL_QUESTION.search(question) or len(models) > 1:
            wanted += _section(search("overview", model=model, k=10), "overview")
    allowed = {None, *models} if models else None
    chunks = _pick([*wanted, *candidates], allowed, models)
    if not chunks:
        return NO_DOCS, []
    terms = [term for model in models for _, term in _defined_terms(model, text)]
    parts = [f"From {c.source}:\n{quote(c, terms=terms)}" for c in chunks]
    return "\n\n".join(parts), [Citation(source=c.source, chunk_id=c.chunk_id) for c in chunks]


class _DocSearch:
    """Doc search for one explanation: fused (keywords and vectors), or keywords alone from the
    first failure of the vector store on, so a silent server costs one deadline, not one each."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes
        self.mode: Literal["fused", "bm25"] = "fused"

    def __call__(self, query: str, *, model: str | None, k: int) -> list[Chunk]:
        from rag import search_docs

        if self.mode == "fused":
            try:
                return search_docs(query, model=model, k=k)
            except StoreError as exc:
                self.mode = "bm25"
                self.notes.append(f"the vector store failed ({exc}); the model cards were searched by keywords alone")
        try:
            return search_docs(query, model=model, k=k, mode="bm25")
        except StoreError as exc:
            note = f"retrieval unavailable: {exc}"
            if note not in self.notes:
                self.notes.append(note)
            return []


def _defined_terms(model: str, text: str) -> list[tuple[str, str]]:
    """(card section, term) for each metric, parameter or intervention of `model` named in `text`."""
    spec = get_model(model)
    groups = {
        "metrics": spec.metrics,
        "parameters": [p for p in spec.params.model_fields if p not in ("replicates", "seed")],
        "interventions": sorted(spec.interventions),
    }
    found = []
    for section, names in groups.items():
        for name in names:
            if name in text or f" {name.replace('_', ' ')} " in text:
                found.append((section, name.replace("_", " ")))
    return found


def _section(chunks: list[Chunk], section: str) -> list[Chunk]:
    return [c for c in chunks if c.source.endswith(f"#{section}")][:1]


def _pick(chunks: list[Chunk], allowed: set[str | None] | None, models: list[str]) -> list[Chunk]:
    """Up to MAX_QUOTES distinct chunks in order, with at least one from each named model."""
    seen: dict[str, Chunk] = {}
    for c in chunks:
        if (allowed is None or c.model in allowed) and c.chunk_id not in seen:
            seen[c.chunk_id] = c
    ordered = list(seen.values())
    picked = [next(c for c in ordered if c.model == m) for m in models if any(c.model == m for c in ordered)]
    picked = picked if len(models) > 1 else []
    for c in ordered:
        if len(picked) >= MAX_QUOTES:
            break
        if c not in picked:
            picked.append(c)
    return picked[:MAX_QUOTES]


def quote(chunk: Chunk, limit: int = QUOTE_CHARS, terms: Iterable[str] = ()) -> str:
    """The chunk's prose: without the heading breadcrumb and heading lines, from a sentence start.

    Table rows read as "name: unit; bounds; default; source", and only the rows about `terms` are
    kept when the question named some.
    """
    lines = chunk.text.splitlines()
    if chunk.heading and lines and lines[0].strip() == chunk.heading:
        lines = lines[1:]
    rows = [line for line in lines if line.lstrip().startswith("|")]
    wanted = [t.replace(" ", "_") for t in terms]
    about = [r for r in rows if any(t in r for t in wanted)]
    kept: list[str] = []
    from_rows: set[str] = set()
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("|"):
            if set(stripped) <= set("|-: ") or (about and line not in about) or line is rows[0]:
                continue  # separators, the header row, rows about other things
            cells = [c.strip().strip("`") for c in stripped.strip("|").split("|")]
            header = [c.strip() for c in rows[0].strip().strip("|").split("|")]
            named = [f"{h}: {c}" if h else c for h, c in zip(header[1:], cells[1:], strict=False) if c]
            stripped = f"{cells[0]} ({'; '.join(named)})."
            from_rows.add(stripped)
        kept.append(stripped)
    body = " ".join(kept)
    starts_mid_sentence = bool(kept) and kept[0] not in from_rows and body[:1].islower()
    if starts_mid_sentence:
        cut = body.find(". ")
        body = body[cut + 2 :] if 0 <= cut < 200 else body
    if len(body) > limit:
        end = body.rfind(". ", 0, limit)
        body = body[: end + 1] if end > limit // 2 else body[:limit].rsplit(" ", 1)[0] + " …"
    return body
