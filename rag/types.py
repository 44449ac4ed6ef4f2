"""What retrieval returns: doc chunks, similar past runs, similar worked examples."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Chunk(BaseModel):
    """A piece of a model card or doc page. `source` is `docs/models/seir.md#parameters`.

    `section` is the level-2 section the chunk belongs to (the same as `source` unless the chunk
    sits under a deeper heading); `content_hash` identifies its text and metadata for re-indexing.
    """

    chunk_id: str
    text: str
    source: str
    model: str | None = None
    heading: str = ""
    kind: str = "doc"  # "doc" (model cards, methods), "guide" (user docs: how to use simqa) or "run"
    score: float = 0.0
    section: str = ""
    content_hash: str = ""


class RunHit(BaseModel):
    """A past run found by similarity: its id, a one-line summary, and its scenario."""

    run_id: str
    summary: str
    model: str
    scenario: dict[str, Any]
    metrics: dict[str, Any] = Field(default_factory=dict)
    score: float = 0.0


class Example(BaseModel):
    """A labelled question with the request that answers it (a few-shot example for translators)."""

    case_id: str
    question: str
    request: dict[str, Any]
    score: float = 0.0


class Retrieved(BaseModel):
    docs: list[Chunk] = Field(default_factory=list)
    runs: list[RunHit] = Field(default_factory=list)
    examples: list[Example] = Field(default_factory=list)
