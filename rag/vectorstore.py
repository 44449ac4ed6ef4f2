"""Chroma, the vector store: `PersistentClient` under SIMQA_HOME, or a server at SIMQA_CHROMA_URL.

chromadb is imported here only, and only when a store is opened: importing it costs seconds, and a
warm in-process query does not need it (see `rag.index`).
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from rag.embeddings import EmbeddingBackend, chroma_embedding_function
from rag.errors import StoreError
from rag.paths import simqa_home
from sim.errors import MissingDependency

DOCS = "docs"
RUNS = "runs"


DEFAULT_TIMEOUT_S = 15.0  # a Chroma server call waits at most this long (connect, then each read)
SQLITE_HEADER = b"SQLite format 3\x00"


def chroma_url() -> str | None:
    return os.environ.get("SIMQA_CHROMA_URL") or None


def chroma_timeout_s() -> float:
    """The deadline of one call to a Chroma server: `SIMQA_CHROMA_TIMEOUT_S`, default 15 s."""
    raw = os.environ.get("SIMQA_CHROMA_TIMEOUT_S")
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (0 < value <= 3600):
        raise StoreError(f"SIMQA_CHROMA_TIMEOUT_S must be a number of seconds above 0 and at most 3600, got {raw!r}")
    return value


def local_store_problem(path: Path) -> str | None:
    """What is wrong with the embedded store's folder at `path`, without opening Chroma (that costs
    seconds): None when it is a folder whose database is SQLite and passes SQLite's quick check."""
    if not path.exists():
        return None  # nothing yet: indexing creates it
    if not path.is_dir():
        return f"{path} is a file, not Chroma's folder"
    db_path = path / "chroma.sqlite3"
    if not db_path.exists():
        return f"{db_path} is missing"
    try:
        with open(db_path, "rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        return f"{db_path} is unreadable ({exc.strerror or exc})"
    if header != SQLITE_HEADER:
        return f"{db_path} is not a SQLite database"
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            verdict = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
        finally:
            db.close()
    except sqlite3.Error as exc:
        return f"{db_path} is damaged ({exc})"
    return None if verdict == ["ok"] else f"{db_path} is damaged ({verdict[0]})"


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
        deadline = chroma_timeout_s()
        try:
            if self.url:
                parsed = urlparse(self.url)
                self.client = _with_deadline(
                    lambda: chromadb.HttpClient(
                        host=parsed.hostname or "127.0.0.1",
                        port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                        ssl=parsed.scheme == "https",
                        settings=settings,
                    ),
                    deadline,
                )
                _set_session_deadline(self.client, deadline)
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
            if _is_timeout(exc):
                return (
                    f"the Chroma server at {self.url} did not answer within {chroma_timeout_s():g} s; check that it "
                    "is a Chroma server and not overloaded, raise SIMQA_CHROMA_TIMEOUT_S, or unset SIMQA_CHROMA_URL "
                    "to use the embedded store"
                )
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
            self._collections[kind] = self._call(
                lambda: self.client.get_or_create_collection(
                    name=name,
                    embedding_function=chroma_embedding_function(self.backend),
                    metadata={"hnsw:space": "cosine"},
                )
            )
        return self._collections[kind]

    def _call(self, fn: Callable[[], Any]) -> Any:
        """One call to Chroma, with a deadline when it goes to a server; whatever it raises (a
        timeout, a refused connection, a damaged file) becomes a `StoreError` that says what to do."""
        try:
            return _with_deadline(fn, chroma_timeout_s()) if self.url else fn()
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(self._hint(exc)) from None

    def hashes(self, kind: str) -> dict[str, str]:
        """id -> content hash of everything in the collection."""
        col = self.collection(kind)
        got = self._call(lambda: col.get(include=["metadatas"]))
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
            self._call(
                functools.partial(
                    col.upsert,
                    ids=list(ids[start:stop]),
                    documents=list(texts[start:stop]),
                    metadatas=[_clean_meta(m) for m in metadatas[start:stop]],
                    embeddings=None if embeddings is None else embeddings[start:stop],
                )
            )

    def delete(self, kind: str, ids: Sequence[str]) -> None:
        if ids:
            col = self.collection(kind)
            self._call(lambda: col.delete(ids=list(ids)))

    def query(
        self, kind: str, embedding: Sequence[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, str, dict[str, Any], float]]:
        """(id, text, metadata, cosine similarity) of the nearest `k`."""
        col = self.collection(kind)
        got = self._call(
            lambda: col.query(
                query_embeddings=[list(embedding)],
                n_results=k,
                where=where or None,
                include=["documents", "metadatas", "distances"],
            )
        )
        return [
            (i, d or "", dict(m or {}), 1.0 - float(dist))
            for i, d, m, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
            )
        ]

    def count(self, kind: str) -> int:
        col = self.collection(kind)
        return int(self._call(col.count))


def _clean_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Chroma metadata takes str, int, float, bool only; None is left out."""
    return {k: v for k, v in meta.items() if isinstance(v, str | int | float | bool)}


def _with_deadline(fn: Callable[[], Any], seconds: float) -> Any:
    """`fn()`, or a `TimeoutError` after `seconds`.

    chromadb's HTTP client waits for a reply without limit (its httpx client has `timeout=None`),
    and its constructor already calls the server. So each call runs in a daemon thread: one that
    never returns is left behind (it cannot keep the process alive) and the caller goes on.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="simqa-chroma-call", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _set_session_deadline(client: Any, seconds: float) -> None:
    """Give the client's own HTTP session the deadline too, so that a call left behind by
    `_with_deadline` ends by itself (where chromadb keeps its session where it does today)."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is not None and hasattr(session, "timeout"):
        import httpx

        session.timeout = httpx.Timeout(seconds)


def _is_timeout(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError) or "timeout" in type(seen).__name__.lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False
