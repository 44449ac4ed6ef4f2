"""Retrieval for simqa: model cards, past runs and worked examples.

Public API (imported lazily: `import rag` costs nothing until a function is used, and chromadb is
imported only when the Chroma store itself is opened):

- `retrieve(question, *, model=None, k=5, exclude_case=None) -> Retrieved`
- `index_docs(paths=None) -> IndexReport` (what `simqa index` runs)
- `RunStore(path=None)`: the store of past runs and the run cache
- `evaluate_retrieval(cases_path=None) -> RetrievalReport`
- embedding backends: `EmbeddingBackend`, `HashingEmbedding`, `OpenAIEmbedding`
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from rag.types import Chunk, Example, Retrieved, RunHit

if TYPE_CHECKING:
    from rag.embeddings import EmbeddingBackend, HashingEmbedding, OpenAIEmbedding, default_backend
    from rag.evaluate import RetrievalReport, evaluate_retrieval
    from rag.index import IndexReport, index_docs
    from rag.retrieval import retrieve, search_docs, search_runs
    from rag.runstore import RepairReport, RunStore, RunSummary, StoredRun

_LAZY = {
    "retrieve": "rag.retrieval",
    "search_docs": "rag.retrieval",
    "search_runs": "rag.retrieval",
    "index_docs": "rag.index",
    "IndexReport": "rag.index",
    "RunStore": "rag.runstore",
    "RunSummary": "rag.runstore",
    "StoredRun": "rag.runstore",
    "RepairReport": "rag.runstore",
    "evaluate_retrieval": "rag.evaluate",
    "RetrievalReport": "rag.evaluate",
    "EmbeddingBackend": "rag.embeddings",
    "HashingEmbedding": "rag.embeddings",
    "OpenAIEmbedding": "rag.embeddings",
    "default_backend": "rag.embeddings",
}

__all__ = [
    "Chunk",
    "EmbeddingBackend",
    "Example",
    "HashingEmbedding",
    "IndexReport",
    "OpenAIEmbedding",
    "RepairReport",
    "RetrievalReport",
    "Retrieved",
    "RunHit",
    "RunStore",
    "RunSummary",
    "StoredRun",
    "default_backend",
    "evaluate_retrieval",
    "index_docs",
    "retrieve",
    "search_docs",
    "search_runs",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
