"""Explanations quote the card sections that define what was asked, as readable prose."""

from __future__ import annotations

from rag.types import Chunk
from simqa import Assistant
from simqa.explain import quote


def test_a_named_parameter_is_answered_from_its_parameters_row():
    answer = Assistant(translator="offline").ask("what is max_batch exactly?")
    assert answer.kind == "explain" and answer.results == []
    assert answer.citations[0].source == "docs/models/delivery.md#parameters"
    first = answer.text.split("\n\n")[0]
    assert "max_batch (unit: orders per trip; bounds: >= 1, <= 10; default: 1" in first
    assert "| " not in answer.text  # no raw Markdown table


def test_general_question_leads_with_the_overview_and_names_each_model():
    answer = Assistant(translator="offline").ask(
        "what's the difference between the seir model and the agent based one?"
    )
    sources = [c.source for c in answer.citations]
    assert any(s.startswith("docs/models/seir.md") for s in sources)
    assert any(s.startswith("docs/models/abm.md") for s in sources)


def test_quote_keeps_only_rows_about_the_terms():
    chunk = Chunk(
        chunk_id="c",
        source="docs/models/x.md#parameters",
        heading="X > Parameters",
        text="X > Parameters\n| name | unit | default |\n|---|---|---|\n| `a_b` | days | 1 |\n| `c` | km | 2 |",
    )
    assert quote(chunk, terms=["a b"]) == "a_b (unit: days; default: 1)."
    assert quote(chunk) == "a_b (unit: days; default: 1). c (unit: km; default: 2)."
