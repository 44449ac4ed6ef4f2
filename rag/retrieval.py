"""`retrieve(question)`: doc chunks, similar past runs and similar worked examples, in one call."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from rag.chunking import GUIDE
from rag.embeddings import EmbeddingBackend, default_backend
from rag.errors import StoreError
from rag.examples import example_index
from rag.hybrid import CANDIDATES, HybridIndex, Mode, rrf
from rag.index import doc_index
from rag.types import Chunk, Retrieved, RunHit

RUNS_K = 3  # past runs returned with the docs
EXAMPLES_K = 3  # worked examples returned


def retrieve(
    question: str,
    *,
    model: str | None = None,
    k: int = 5,
    exclude_case: str | None = None,
    mode: Mode = "fused",
    run_store: Any = None,
) -> Retrieved:
    """The `k` best doc chunks, up to 3 similar past runs and 3 worked examples for `question`.

    model: keep only that model's documents, runs and examples (and those of no model, such as the
      methods page); exclude_case: leave this eval case out of the examples (no leakage in evals).
    mode: "fused" (BM25 and dense by reciprocal rank fusion), or one of them alone.
    run_store: the `rag.runstore.RunStore` whose runs are searched (the caller's); by default the
      one under SIMQA_HOME, when it exists.
    """
    backend = default_backend()
    docs = search_docs(question, k=k, model=model, mode=mode, backend=backend)
    runs = search_runs(question, k=RUNS_K, model=model, backend=backend, store=run_store)
    examples = example_index(backend).search(question, EXAMPLES_K, model=model, exclude_case=exclude_case)
    return Retrieved(docs=docs, runs=runs, examples=examples)


def search_docs(
    question: str,
    *,
    k: int = 5,
    model: str | None = None,
    mode: Mode = "fused",
    backend: EmbeddingBackend | None = None,
    guides: bool = False,
) -> list[Chunk]:
    """The `k` best chunks of the model cards and the methods page; with `guides`, of the user
    docs (docs/llm.md, docs/cli.md, ...) too, for questions on how to use simqa."""
    backend = backend or default_backend()
    from rag.vectorstore import chroma_url

    index = doc_index(backend)
    if chroma_url() and mode != "bm25":
        return _search_docs_server(question, index, k, model, mode, backend, guides)
    return index.search(question, k, model, mode, guides=guides)


def _search_docs_server(
    question: str, index: Any, k: int, model: str | None, mode: Mode, backend: EmbeddingBackend, guides: bool
) -> list[Chunk]:
    """Dense neighbours from the shared Chroma server, fused with local BM25."""
    from rag.vectorstore import DOCS, chroma_url

    url = chroma_url() or ""
    failed = _server_down.get(url)
    if failed is not None and time.monotonic() - failed[0] < SERVER_RETRY_S:
        raise StoreError(str(failed[1]))  # it failed moments ago: do not wait for its deadline again
    filters: list[dict[str, Any]] = [{"model": {"$in": [model, ""]}}] if model else []
    if not guides:
        filters.append({"kind": {"$ne": GUIDE}})
    where = filters[0] if len(filters) == 1 else {"$and": filters} if filters else None
    depth = max(CANDIDATES, k)
    try:
        store = _server_store(backend)
        count = store.count(DOCS)
        hits = store.query(DOCS, backend.embed_array([question])[0].tolist(), min(depth, count), where) if count else []
    except StoreError as exc:
        _server_down[url] = (time.monotonic(), exc)
        raise
    _server_down.pop(url, None)
    by_id = {c.chunk_id: c for c in index.chunks}
    found: dict[str, Chunk] = {}
    dense_ranking: list[tuple[str, float]] = []
    for cid, text, meta, sim in hits:
        found[cid] = by_id.get(cid) or Chunk(
            chunk_id=cid,
            text=text,
            source=str(meta.get("source", "")),
            section=str(meta.get("section", "")),
            model=str(meta.get("model") or "") or None,  # "" and a missing key both mean no model
            heading=str(meta.get("heading", "")),
            kind=str(meta.get("kind", "doc")),
        )
        dense_ranking.append((cid, sim))
    if mode == "dense":
        ranking = dense_ranking[:k]
    else:
        lexical = [(index.chunks[i].chunk_id, s) for i, s in index.bm25(question, depth, model, guides)]
        for cid, _ in lexical:
            found.setdefault(cid, by_id[cid])
        ranking = rrf([lexical, dense_ranking], k)
    return [found[cid].model_copy(update={"score": round(score, 6)}) for cid, score in ranking]


_stores: dict[str, Any] = {}
SERVER_RETRY_S = 60.0  # after a Chroma server fails, calls fail at once for this long, then try it again
_server_down: dict[str, tuple[float, Exception]] = {}


def _server_store(backend: EmbeddingBackend) -> Any:
    from rag.vectorstore import VectorStore, chroma_url

    key = f"{chroma_url()}|{backend.space_id}"
    if key not in _stores:
        _stores[key] = VectorStore(backend)
    return _stores[key]


_runs_lock = threading.Lock()
_runs_cache: dict[str, tuple[int, HybridIndex, list[Any]]] = {}


def search_runs(
    question: str,
    *,
    k: int = RUNS_K,
    model: str | None = None,
    backend: EmbeddingBackend | None = None,
    store: Any = None,
) -> list[RunHit]:
    """Past runs in `store` (by default the run store under SIMQA_HOME) whose summaries are like the
    question; none when no run was ever stored."""
    from rag.runstore import RunStore

    if store is None:
        if not RunStore.exists():
            return []
        store = RunStore()
    elif not store.path.exists():
        return []
    backend = backend or default_backend()
    rows = store.index_rows()
    if not rows:
        return []
    with _runs_lock:
        cached = _runs_cache.get(str(store.path))
        if cached is None or cached[0] != id(rows):
            vectors = np.stack(
                [r.vector if r.vector is not None else backend.embed_array([r.summary])[0] for r in rows]
            )
            hybrid = HybridIndex([r.summary for r in rows], vectors, [r.model for r in rows], backend)
            cached = (id(rows), hybrid, rows)
            _runs_cache[str(store.path)] = cached
    _, hybrid, rows = cached
    hits = hybrid.search(question, k, model)
    return [
        RunHit(
            run_id=rows[i].run_id,
            summary=rows[i].summary,
            model=rows[i].model,
            scenario=rows[i].scenario,
            metrics=rows[i].metrics,
            score=round(score, 6),
        )
        for i, score in hits
    ]
