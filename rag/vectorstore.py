"""Chroma, the vector store: `PersistentClient` under SIMQA_HOME, or a server at SIMQA_CHROMA_URL.

chromadb is imported here only, and only when a store is opened: importing it costs seconds, and a
warm in-process query does not need it (see `rag.index`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

from rag.embeddings import EmbeddingBackend, chroma_embedding_function
from rag.paths import simqa_home
from sim.errors import MissingDependency, StoreError

DOCS = "docs"
RUNS = "runs"


def chroma_url() -> str | None:
    return os.environ.get("SIMQA_CHROMA_URL") or None


class VectorStore:
    """One Chroma collection per kind of source and embedding space (`simqa_docs__<space>`)."""

    def __init__(self, backend: EmbeddingBackend, url: str | None = None) -> None:
        try:
            import chromadb
            from chromadb.config import Settings
        except ImportError:
            raise MissingDependency("chromadb", purpose="the vector store") from None
        self.backend = backend
        self.url = url if url is not None else chroma_url()
        settings = Settings(anonymized_telemetry=False)
        try:
            if self.url:
                parsed = urlparse(self.url)
                self.client = chromadb.HttpClient(
                    host=parsed.hostname or "127.0.0.1",
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=settings,
                )
                self.where = self.url
            else:
                path = simqa_home() / "chroma"
                self.client = chromadb.PersistentClient(path=str(path), settings=settings)
                self.where = str(path)
        except Exception as exc:
            raise StoreError(self._hint(exc)) from None
        self._collections: dict[str, Any] = {}

    def _hint(self, exc: BaseException) -> str:
        if self.url:
            return (
                f"cannot reach the Chroma server at {self.url} ({type(exc).__name__}: {exc}); start it with "
                "`chroma run --path DIR --port PORT`, or unset SIMQA_CHROMA_URL to use the embedded store"
            )
        where = simqa_home() / "chroma"
        return (
            f"the embedded Chroma store at {where} is unreadable ({type(exc).__name__}: {exc}); move that folder "
            "aside and run `simqa index` to rebuild it (it holds only derived data)"
        )

    def collection(self, kind: str) -> Any:
        if kind not in self._collections:
            name = f"simqa_{kind}__{self.backend.space_id}"[:63].rstrip("-_.")
            try:
                self._collections[kind] = self.client.get_or_create_collection(
                    name=name,
                    embedding_function=chroma_embedding_function(self.backend),
                    metadata={"hnsw:space": "cosine"},
                )
            except Exception as exc:
                raise StoreError(self._hint(exc)) from None
        return self._collections[kind]

    def hashes(self, kind: str) -> dict[str, str]:
        """id -> content hash of everything in the collection."""
        got = self.collection(kind).get(include=["metadatas"])
        return {i: str((m or {}).get("content_hash", "")) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def upsert(
        self,
        kind: str,
        ids: Sequence[str],
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
        embeddings: Any = None,
    ) -> None:
        col = self.collection(kind)
        batch = 1000
        for start in range(0, len(ids), batch):
            stop = start + batch
            col.upsert(
                ids=list(ids[start:stop]),
                documents=list(texts[start:stop]),
                metadatas=[_clean_meta(m) for m in metadatas[start:stop]],
                embeddings=None if embeddings is None else embeddings[start:stop],
            )

    def delete(self, kind: str, ids: Sequence[str]) -> None:
        if ids:
            self.collection(kind).delete(ids=list(ids))

    def query(
        self, kind: str, embedding: Sequence[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, str, dict[str, Any], float]]:
        """(id, text, metadata, cosine similarity) of the nearest `k`."""
        col = self.collection(kind)
        got = col.query(
            query_embeddings=[list(embedding)],
            n_results=k,
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        return [
            (i, d or "", dict(m or {}), 1.0 - float(dist))
            for i, d, m, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
            )
        ]

    def count(self, kind: str) -> int:
        return int(self.collection(kind).count())


def _clean_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Chroma metadata takes str, int, float, bool only; None is left out."""
    return {k: v for k, v in meta.items() if isinstance(v, str | int | float | bool)}
