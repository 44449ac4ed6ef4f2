from __future__ import annotations

from rag.chunking import MIN_CHUNK_CHARS, chunk_markdown, slugify
from tests.rag.conftest import SEIR_CARD


def test_slug_is_githubs() -> None:
    assert slugify("What it represents and what it does not") == "what-it-represents-and-what-it-does-not"
    assert slugify("Compare and common random numbers") == "compare-and-common-random-numbers"
    assert slugify("`r0` (basic reproduction number)") == "r0-basic-reproduction-number"
    assert slugify("Retrodiction / calibration") == "retrodiction--calibration"


def test_sources_sections_and_models() -> None:
    chunks = chunk_markdown(SEIR_CARD, "docs/models/seir.md", "seir")
    sources = [c.source for c in chunks]
    assert "docs/models/seir.md#overview" in sources
    assert "docs/models/seir.md#r0" in sources
    assert "docs/models/seir.md#incubation_days" in sources
    r0 = next(c for c in chunks if c.source.endswith("#r0"))
    # A subsection belongs to its level-2 section, and its heading path says where it sits.
    assert r0.section == "docs/models/seir.md#parameters"
    assert r0.heading == "SEIR model (`seir`) > Parameters > r0"
    assert "basic reproduction number" in r0.text
    assert all(c.model == "seir" for c in chunks)
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_heading_without_body_is_merged_not_orphaned() -> None:
    chunks = chunk_markdown(SEIR_CARD, "docs/models/seir.md", "seir")
    for chunk in chunks:
        body = [line for line in chunk.text.splitlines()[1:] if line.strip() and not line.lstrip().startswith("#")]
        assert body, f"chunk {chunk.chunk_id} is a heading without a body"
    # The "## Parameters" heading has no text of its own: it travels with its first subsection.
    assert not any(c.source == "docs/models/seir.md#parameters" for c in chunks)
    assert "## Parameters" in next(c for c in chunks if c.source.endswith("#r0")).text


def test_trailing_heading_and_duplicate_anchors() -> None:
    text = "# T\n\n## Notes\n\nfirst notes section body.\n\n## Notes\n\nsecond notes section body.\n\n## Empty\n"
    chunks = chunk_markdown(text, "docs/x.md", None)
    assert [c.source for c in chunks] == ["docs/x.md#notes", "docs/x.md#notes-1"]
    assert "## Empty" in chunks[-1].text


def test_long_section_is_split_without_tiny_tails() -> None:
    paragraph = "The courier picks up the order and rides to the customer at the configured speed. "
    text = "# D\n\n## Parameters\n\n" + "\n\n".join(paragraph * 4 for _ in range(12)) + "\n\nEnd."
    chunks = chunk_markdown(text, "docs/models/d.md", "d")
    assert len(chunks) > 2
    assert all(c.source == "docs/models/d.md#parameters" for c in chunks)
    assert [c.chunk_id for c in chunks] == [f"docs/models/d.md#parameters:{i}" for i in range(len(chunks))]
    assert all(len(c.text) >= MIN_CHUNK_CHARS for c in chunks)
    assert chunks[-1].text.rstrip().endswith("End.")


def test_content_hash_tracks_text() -> None:
    a = chunk_markdown(SEIR_CARD, "docs/models/seir.md", "seir")
    b = chunk_markdown(SEIR_CARD.replace("default 2.5", "default 3.0"), "docs/models/seir.md", "seir")
    changed = [x.chunk_id for x, y in zip(a, b, strict=True) if x.content_hash != y.content_hash]
    assert changed == ["docs/models/seir.md#r0:0"]
