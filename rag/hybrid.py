"""Hybrid search over one small corpus: BM25 (bm25s) and dense vectors, fused by reciprocal rank.

Everything is in memory and numpy; building the BM25 index of 10,000 chunks takes a fraction of a
second and a query a few milliseconds, so the indexes are rebuilt from the persisted chunks and
vectors when a process starts rather than stored a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeVar

import numpy as np

from rag.embeddings import EmbeddingBackend
from rag.text import tokens

Key = TypeVar("Key")
Mode = Literal["fused", "bm25", "dense"]
RRF_K = 60  # the constant of Cormack et al. 2009 (SIGIR), "Reciprocal rank fusion outperforms..."
CANDIDATES = 50  # how deep each ranking is read before fusion


class HybridIndex:
    """Texts with their vectors and one optional model name each; `search` gives (position, score)."""

    def __init__(
        self, texts: Sequence[str], vectors: np.ndarray, models: Sequence[str | None], backend: EmbeddingBackend
    ) -> None:
        if len(texts) != len(models) or (len(texts) and vectors.shape[0] != len(texts)):
            raise ValueError("texts, vectors and models must align")
        self.size = len(texts)
        self.backend = backend
        # Stored transposed (one row per dimension): a query of the local embedding has few non-zero
        # dimensions, and reading only those rows is exact and several times faster than a full
        # product at 10,000 chunks (the product is bound by memory bandwidth).
        self.vectors_by_dim = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).T)
        self.models = np.array([m or "" for m in models], dtype=object)
        self._bm25 = None
        if self.size:
            import bm25s

            corpus = [tokens(t) or ["_empty_"] for t in texts]
            self._bm25 = bm25s.BM25()
            self._bm25.index(corpus, show_progress=False)
        self._mask_cache: dict[str | None, np.ndarray | None] = {}

    def _allowed(self, model: str | None) -> np.ndarray | None:
        """Positions a model filter keeps: that model's texts and those of no model (methods)."""
        if model is None:
            return None
        if model not in self._mask_cache:
            self._mask_cache[model] = np.flatnonzero((self.models == model) | (self.models == ""))
        return self._mask_cache[model]

    @staticmethod
    def _top(scores: np.ndarray, allowed: np.ndarray | None, n: int) -> list[tuple[int, float]]:
        if allowed is not None:
            sub = scores[allowed]
            if sub.size == 0:
                return []
            n = min(n, sub.size)
            part = np.argpartition(-sub, n - 1)[:n]
            order = part[np.argsort(-sub[part], kind="stable")]
            return [(int(allowed[i]), float(sub[i])) for i in order]
        n = min(n, scores.size)
        part = np.argpartition(-scores, n - 1)[:n]
        order = part[np.argsort(-scores[part], kind="stable")]
        return [(int(i), float(scores[i])) for i in order]

    def bm25(self, query: str, n: int, model: str | None = None) -> list[tuple[int, float]]:
        if self._bm25 is None:
            return []
        ids = self._bm25.get_tokens_ids(tokens(query))
        if not ids:
            return []
        scores = np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)
        return [hit for hit in self._top(scores, self._allowed(model), n) if hit[1] > 0]

    def dense(self, query: str, n: int, model: str | None = None) -> list[tuple[int, float]]:
        if not self.size:
            return []
        q = self.backend.embed_array([query])[0]
        nonzero = np.flatnonzero(q)
        sparse = nonzero.size * 3 < q.size
        scores = q[nonzero] @ self.vectors_by_dim[nonzero] if sparse else q @ self.vectors_by_dim
        return self._top(scores, self._allowed(model), n)

    def search(self, query: str, k: int = 5, model: str | None = None, mode: Mode = "fused") -> list[tuple[int, float]]:
        if mode == "bm25":
            return self.bm25(query, k, model)
        if mode == "dense":
            return self.dense(query, k, model)
        depth = max(CANDIDATES, k)
        return rrf([self.bm25(query, depth, model), self.dense(query, depth, model)], k)


def rrf(rankings: Sequence[Sequence[tuple[Key, float]]], k: int) -> list[tuple[Key, float]]:
    """Reciprocal rank fusion: sum of 1 / (RRF_K + rank) over the rankings a document appears in.

    Ties (a document first in one ranking, another first in the other) keep the first ranking's order.
    """
    fused: dict[Key, float] = {}
    for ranking in rankings:
        for rank, (pos, _) in enumerate(ranking, start=1):
            fused[pos] = fused.get(pos, 0.0) + 1.0 / (RRF_K + rank)
    best = sorted(fused.items(), key=lambda item: -item[1])  # stable: insertion order breaks ties
    return best[:k]
