"""Indexing the docs: chunk, embed, persist, and keep Chroma in step. Incremental by content hash.

Two copies of the same index, written together by `index_docs`:
- Chroma (`rag.vectorstore`): the store of record, embedded or a shared server;
- a mirror under `$SIMQA_HOME/index/` (the chunks as JSON, their vectors as one .npy), which a
  process loads in milliseconds without importing chromadb (that import alone costs ~2 s, over a
  cold `simqa ask`'s budget). With a Chroma server configured, dense queries go to the server.

A file whose bytes did not change is not re-chunked; a chunk whose content hash did not change is
not re-embedded or re-sent to Chroma.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from rag.chunking import GUIDE, DocFile, chunk_file, doc_files, doc_kind
from rag.embeddings import EmbeddingBackend, default_backend
from rag.errors import StoreError
from rag.hybrid import HybridIndex
from rag.paths import index_dir, simqa_home
from rag.types import Chunk

SNAPSHOT_VERSION = 2  # 2: user docs indexed (kind "guide"), split tables repeat their header


class IndexReport(BaseModel):
    """What `simqa index` changed. Counts are chunks, compared with what the index held before."""

    files: int
    chunks: int
    added: int
    updated: int
    removed: int
    unchanged: int
    runs_synced: int = 0
    store: str = ""
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def __str__(self) -> str:
        return (
            f"{self.files} files, {self.chunks} chunks: {self.added} added, {self.updated} updated, "
            f"{self.removed} removed, {self.unchanged} unchanged"
            + (f"; {self.runs_synced} past runs synced" if self.runs_synced else "")
            + f" ({self.seconds:.2f} s, {self.store})"
        )


def _file_sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


def _snapshot_paths(backend: EmbeddingBackend) -> tuple[Path, Path]:
    base = index_dir() / f"docs-{backend.space_id}"
    return base.with_suffix(".json"), base.with_suffix(".npy")


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise StoreError(
            f"cannot write the docs index {path} ({exc.strerror or exc}): set SIMQA_HOME to a writable folder"
        ) from None


class Snapshot:
    """The persisted mirror: files (sha, size, mtime), chunks, vectors, and what Chroma was synced to."""

    def __init__(
        self,
        files: dict[str, dict[str, Any]],
        chunks: list[Chunk],
        vectors: np.ndarray,
        synced: dict[str, str] | None = None,
    ) -> None:
        self.files = files
        self.chunks = chunks
        self.vectors = vectors
        self.synced = synced or {}

    @classmethod
    def load(cls, backend: EmbeddingBackend) -> Snapshot | None:
        """The mirror, or None when it is missing or inconsistent (it is derived data: rebuilt, not trusted)."""
        meta_path, vec_path = _snapshot_paths(backend)
        try:
            meta = json.loads(meta_path.read_text())
            vectors = np.load(vec_path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        if (
            meta.get("version") != SNAPSHOT_VERSION
            or meta.get("vectors_sha") != hashlib.sha256(vectors.tobytes()).hexdigest()
            or len(meta.get("chunks", [])) != vectors.shape[0]
        ):
            return None
        chunks = [Chunk.model_validate(c) for c in meta["chunks"]]
        return cls(meta["files"], chunks, vectors, meta.get("synced"))

    def save(self, backend: EmbeddingBackend) -> None:
        meta_path, vec_path = _snapshot_paths(backend)
        vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        buf = _npy_bytes(vectors)
        _atomic_write(vec_path, buf)
        meta = {
            "version": SNAPSHOT_VERSION,
            "backend": backend.name,
            "config": backend.config(),
            "vectors_sha": hashlib.sha256(vectors.tobytes()).hexdigest(),
            "files": self.files,
            "chunks": [c.model_dump(exclude={"score"}) for c in self.chunks],
            "synced": self.synced,
        }
        _atomic_write(meta_path, json.dumps(meta).encode())

    def digest(self) -> str:
        h = hashlib.sha256()
        for c in self.chunks:
            h.update(f"{c.chunk_id}\0{c.content_hash}\n".encode())
        return h.hexdigest()[:20]

    def is_fresh(self, files: list[DocFile]) -> bool:
        """Cheap check (one stat per file) that the docs are what the mirror was built from."""
        if {f.source for f in files} != set(self.files):
            return False
        for f in files:
            try:
                st = f.path.stat()
            except OSError:
                return False
            old = self.files[f.source]
            if old.get("size") != st.st_size or old.get("mtime_ns") != st.st_mtime_ns:
                return False
        return True


def _npy_bytes(arr: np.ndarray) -> bytes:
    import io

    out = io.BytesIO()
    np.save(out, arr, allow_pickle=False)
    return out.getvalue()


def _doc_files_from(paths: Iterable[str | Path]) -> list[DocFile]:
    out: list[DocFile] = []
    for raw in paths:
        path = Path(raw)
        found = sorted(path.rglob("*.md")) if path.is_dir() else [path]
        for p in found:
            model = p.stem if p.parent.name == "models" else None
            source = f"docs/models/{p.name}" if model else f"docs/{p.name}"
            out.append(DocFile(p, source, model, doc_kind(p, model)))
    return out


def _store_location() -> str:
    from rag.vectorstore import chroma_url

    return chroma_url() or str(simqa_home() / "chroma")


def index_docs(
    paths: Iterable[str | Path] | None = None,
    *,
    sync_store: bool = True,
    force: bool = False,
    backend: EmbeddingBackend | None = None,
) -> IndexReport:
    """(Re)index the model cards, the methods page and the user docs (or `paths`: files or folders of Markdown).

    sync_store: also bring Chroma in step (skipped when the mirror records that Chroma already holds
      exactly these chunks, unless `force`); retrieval calls this with False for a stale mirror.
    """
    start = time.perf_counter()
    backend = backend or default_backend()
    files = doc_files() if paths is None else _doc_files_from(paths)
    old = Snapshot.load(backend)
    old_by_source: dict[str, list[tuple[Chunk, np.ndarray]]] = {}
    if old is not None:
        for chunk, vec in zip(old.chunks, old.vectors, strict=True):
            old_by_source.setdefault(chunk.source.split("#")[0], []).append((chunk, vec))
    old_hashes = {c.chunk_id: c.content_hash for c in old.chunks} if old is not None else {}

    new_files: dict[str, dict[str, Any]] = {}
    chunks: list[Chunk] = []
    vectors: list[np.ndarray | None] = []
    for doc in files:
        data = doc.path.read_bytes()
        st = doc.path.stat()
        sha = _file_sha(data)
        new_files[doc.source] = {"sha": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "model": doc.model}
        if old is not None and old.files.get(doc.source, {}).get("sha") == sha:
            reused = old_by_source.get(doc.source, [])
            chunks.extend(c for c, _ in reused)
            vectors.extend(v for _, v in reused)
            continue
        previous = {c.chunk_id: (c, v) for c, v in old_by_source.get(doc.source, [])}
        for chunk in chunk_file(doc):
            prior = previous.get(chunk.chunk_id)
            chunks.append(chunk)
            vectors.append(prior[1] if prior is not None and prior[0].content_hash == chunk.content_hash else None)
    todo = [i for i, v in enumerate(vectors) if v is None]
    if todo:
        fresh = backend.embed_array([chunks[i].text for i in todo])
        for i, vec in zip(todo, fresh, strict=True):
            vectors[i] = vec
    dim = vectors[0].shape[0] if vectors else 0  # type: ignore[union-attr]
    matrix = np.stack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)  # type: ignore[arg-type]
    snapshot = Snapshot(new_files, chunks, matrix, old.synced if old is not None else None)

    new_ids = {c.chunk_id for c in chunks}
    added = sum(1 for c in chunks if c.chunk_id not in old_hashes)
    updated = sum(1 for c in chunks if c.chunk_id in old_hashes and old_hashes[c.chunk_id] != c.content_hash)
    removed = sum(1 for cid in old_hashes if cid not in new_ids)
    runs_synced = 0
    store = "mirror only"
    if sync_store:
        store = _store_location()
        digest = snapshot.digest()
        local = not store.startswith("http")
        if local:
            from rag.vectorstore import local_store_problem

            problem = local_store_problem(Path(store))
            if problem is not None:
                raise StoreError(
                    f"the embedded Chroma store is damaged: {problem}; move {store} aside and run `simqa index` "
                    "again to rebuild it (it holds only derived data)"
                )
        up_to_date = not force and local and Path(store).exists() and snapshot.synced.get(store) == digest
        if not up_to_date:
            from rag.vectorstore import DOCS, VectorStore

            vs = VectorStore(backend)
            held = vs.hashes(DOCS)
            # Counts against what the store holds: a fresh (or rebuilt) store reports everything as added.
            added = sum(1 for c in chunks if c.chunk_id not in held)
            updated = sum(1 for c in chunks if c.chunk_id in held and held[c.chunk_id] != c.content_hash)
            removed = sum(1 for cid in held if cid not in new_ids)
            send = [i for i, c in enumerate(chunks) if held.get(c.chunk_id) != c.content_hash]
            vs.upsert(
                DOCS,
                [chunks[i].chunk_id for i in send],
                [chunks[i].text for i in send],
                [_chunk_meta(chunks[i]) for i in send],
                embeddings=matrix[send] if send else None,
            )
            vs.delete(DOCS, [cid for cid in held if cid not in new_ids])
            runs_synced = _sync_runs(vs)
            snapshot.synced = {**snapshot.synced, store: digest}
    if old is None or snapshot.digest() != old.digest() or new_files != old.files or snapshot.synced != old.synced:
        snapshot.save(backend)
    _loaded.pop(backend.space_id, None)
    return IndexReport(
        files=len(files),
        chunks=len(chunks),
        added=added,
        updated=updated,
        removed=removed,
        unchanged=len(chunks) - added - updated,
        runs_synced=runs_synced,
        store=store,
        seconds=round(time.perf_counter() - start, 3),
    )


def _chunk_meta(chunk: Chunk) -> dict[str, Any]:
    return {
        "source": chunk.source,
        "section": chunk.section,
        "model": chunk.model or "",
        "heading": chunk.heading,
        "kind": chunk.kind,
        "content_hash": chunk.content_hash,
    }


def _sync_runs(vs: Any) -> int:
    """Past runs' summaries into Chroma's runs collection (those it does not hold yet)."""
    from rag.runstore import RunStore
    from rag.vectorstore import RUNS

    if not RunStore.exists():
        return 0
    rows = RunStore().index_rows()
    if not rows:
        return 0
    held = vs.hashes(RUNS)
    send = [r for r in rows if r.run_id not in held]
    if send:
        vs.upsert(
            RUNS,
            [r.run_id for r in send],
            [r.summary for r in send],
            [{"model": r.model, "kind": "run", "content_hash": r.run_id} for r in send],
            embeddings=None
            if any(r.vector is None for r in send)
            else np.stack([r.vector for r in send if r.vector is not None]),
        )
    return len(send)


class DocIndex:
    """The docs, searchable: chunks plus a `HybridIndex` over their text and vectors.

    Two indexes: one over the model cards and the methods page (what questions about a model are
    answered from, and what a translator gets as context), one over every doc, the user docs
    included (how-to questions). Each has its own BM25 statistics, so indexing the user docs
    changes nothing in how the cards rank among themselves.
    """

    def __init__(self, chunks: list[Chunk], vectors: np.ndarray, backend: EmbeddingBackend) -> None:
        self.chunks = chunks
        self.backend = backend
        self.hybrid = HybridIndex([c.text for c in chunks], vectors, [c.model for c in chunks], backend)
        self.doc_positions = [i for i, c in enumerate(chunks) if c.kind != GUIDE]
        self.cards = HybridIndex(
            [chunks[i].text for i in self.doc_positions],
            vectors[self.doc_positions] if len(chunks) else vectors,
            [chunks[i].model for i in self.doc_positions],
            backend,
        )

    def search(
        self, question: str, k: int = 5, model: str | None = None, mode: str = "fused", guides: bool = False
    ) -> list[Chunk]:
        """The best `k` chunks; the user docs only with `guides`."""
        if guides:
            hits = self.hybrid.search(question, k, model, mode)  # type: ignore[arg-type]
            return [self.chunks[i].model_copy(update={"score": round(score, 6)}) for i, score in hits]
        hits = self.cards.search(question, k, model, mode)  # type: ignore[arg-type]
        return [self.chunks[self.doc_positions[i]].model_copy(update={"score": round(score, 6)}) for i, score in hits]

    def bm25(self, question: str, n: int, model: str | None = None, guides: bool = False) -> list[tuple[int, float]]:
        """Lexical hits as (position in `chunks`, score)."""
        if guides:
            return self.hybrid.bm25(question, n, model)
        return [(self.doc_positions[i], s) for i, s in self.cards.bm25(question, n, model)]


_loaded: dict[str, tuple[DocIndex, Snapshot]] = {}
_load_lock = threading.Lock()


def doc_index(backend: EmbeddingBackend | None = None) -> DocIndex:
    """The docs index of this process: loaded once from the mirror, rebuilt when a doc changed."""
    backend = backend or default_backend()
    files = doc_files()
    with _load_lock:
        cached = _loaded.get(backend.space_id)
        if cached is not None and cached[1].is_fresh(files):
            return cached[0]
        snapshot = Snapshot.load(backend)
        if snapshot is None or not snapshot.is_fresh(files):
            index_docs(sync_store=False, backend=backend)
            snapshot = Snapshot.load(backend)
            if snapshot is None:
                raise StoreError(
                    f"the docs index under {index_dir()} could not be written or read back; check that "
                    "SIMQA_HOME is writable, then run `simqa index`"
                )
        index = DocIndex(snapshot.chunks, snapshot.vectors, backend)
        _loaded[backend.space_id] = (index, snapshot)
        return index
