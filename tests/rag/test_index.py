from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import rag
from rag.embeddings import default_backend
from rag.index import Snapshot, doc_index
from rag.vectorstore import DOCS, VectorStore


def _plugin_cards(docs: Path) -> int:
    """Cards of installed plugins, which ship beside their code (not in the docs folder)."""
    import sim

    cards = [sim.get_model(name).card for name in sim.model_names()]
    return sum(
        1
        for card in cards
        if card is not None
        and not str(card).startswith(str(docs))
        and card.exists()
        and "docs" not in card.parts[-3:-1]
    )


def test_index_from_scratch_then_nothing_changes(docs: Path) -> None:
    first = rag.index_docs()
    assert first.files == 3 + _plugin_cards(docs)
    assert first.added == first.chunks > 0
    assert (first.updated, first.removed, first.unchanged) == (0, 0, 0)
    second = rag.index_docs()
    assert (second.added, second.updated, second.removed) == (0, 0, 0)
    assert second.unchanged == first.chunks and not second.changed
    # Chroma holds exactly the chunks of the mirror.
    held = VectorStore(default_backend()).hashes(DOCS)
    assert held == {c.chunk_id: c.content_hash for c in doc_index().chunks}


def test_index_is_incremental(docs: Path) -> None:
    before = rag.index_docs()
    card = docs / "models" / "seir.md"
    card.write_text(card.read_text().replace("Default 5.2 days.", "Default 5.2 days (Li et al. 2020)."))
    (docs / "models" / "delivery.md").unlink()
    after = rag.index_docs()
    snapshot = Snapshot.load(default_backend())
    assert snapshot is not None and not [c for c in snapshot.chunks if c.model == "delivery"]
    assert after.updated == 1 and after.added == 0
    assert after.removed == before.chunks - after.chunks
    assert after.unchanged == after.chunks - 1
    held = VectorStore(default_backend()).hashes(DOCS)
    assert not any("delivery" in cid for cid in held)
    assert len(held) == after.chunks
    assert "Li et al. 2020" in next(c.text for c in doc_index().chunks if c.source.endswith("#incubation_days"))


def test_retrieval_follows_an_edited_card_without_reindexing(docs: Path) -> None:
    assert rag.search_docs("quarantine of travellers at the airport")[0].model is not None
    (docs / "models" / "seir.md").write_text(
        (docs / "models" / "seir.md").read_text() + "\n## Airports\n\nTravellers at the airport quarantine.\n"
    )
    top = rag.search_docs("quarantine of travellers at the airport")[0]
    assert top.source == "docs/models/seir.md#airports"


def test_a_new_process_reopens_the_chroma_collection(docs: Path) -> None:
    report = rag.index_docs()
    code = (
        "from rag.vectorstore import VectorStore, DOCS\n"
        "from rag.embeddings import default_backend\n"
        "import chromadb\n"
        "vs = VectorStore(default_backend())\n"
        "col = vs.client.get_collection(vs.collection(DOCS).name)\n"  # no embedding function given: from config
        "got = col.query(query_texts=['share of orders delivered late'], n_results=1)\n"
        "print(col.count(), got['metadatas'][0][0]['source'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, source = out.stdout.split()
    assert int(count) == report.chunks
    assert source == "docs/models/delivery.md#metrics"


def test_a_damaged_mirror_is_rebuilt_not_trusted(docs: Path) -> None:
    rag.index_docs()
    from rag.index import _snapshot_paths

    _, vectors = _snapshot_paths(default_backend())
    vectors.write_bytes(vectors.read_bytes()[:-16])
    assert Snapshot.load(default_backend()) is None
    report = rag.index_docs()
    assert report.chunks > 0 and Snapshot.load(default_backend()) is not None


def test_user_docs_are_indexed_and_searched_for_how_to_questions(docs: Path) -> None:
    (docs / "llm.md").write_text(
        "# Using an LLM\n\n## Local servers\n\nTo connect simqa to a local Ollama server, set "
        "`SIMQA_LLM_BASE_URL` to `http://127.0.0.1:11434/v1` and `SIMQA_LLM_MODEL` to a pulled model.\n"
    )
    question = "how do I connect to a local Ollama server?"
    top = rag.search_docs(question, guides=True)[0]
    assert top.source == "docs/llm.md#local-servers" and top.kind == "guide" and top.model is None
    # questions about a model, and a translator's context, see the cards and the methods page only
    assert all(c.kind == "doc" for c in rag.search_docs(question, k=10))
    assert all(c.kind == "doc" for c in rag.retrieve(question, k=10).docs)
    assert rag.index_docs().files == 4 + _plugin_cards(docs)  # two cards, the methods page, the user doc
