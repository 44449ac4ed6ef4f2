"""Retrieval latency and indexing time (issue 3), and quality on evals/retrieval_cases.yaml.

Run: .venv/bin/python benchmarks/bench_retrieval.py [--chunks 10000] [--queries 200]

- Query latency at N synthetic chunks (sentences drawn from the real model cards, so the
  vocabulary and lengths are realistic), warm: "ours" is `rag`'s in-process path (BM25 with
  bm25s + dense over the numpy mirror of the vectors, fused by RRF); "peer" is the same question
  sent to an embedded Chroma `PersistentClient` collection holding the same vectors (its HNSW
  query, dense only) plus the same BM25 and fusion.
- Indexing the real docs from scratch (chunk, embed, write the mirror and Chroma) and a no-change
  re-index, each in a fresh process so import costs count.
- A cold `retrieve` in a fresh process (after `simqa index`), against the cost of importing chromadb.
Everything runs under a temporary SIMQA_HOME.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERIES = [
    "how is the peak measured",
    "what does r0 mean in the compartmental model",
    "share of orders delivered late",
    "close schools for four weeks",
    "does vaccination protect everyone",
    "courier utilization and waiting at the restaurant",
    "validity limits of the agent based model",
    "what is the central 95% range",
]


def synthetic_chunks(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """(text, model) pairs: 3-8 sentences drawn from the real cards, plus a random topic word."""
    from rag.chunking import chunk_file, doc_files

    sentences: list[str] = []
    for f in doc_files():
        for c in chunk_file(f):
            sentences.extend(s.strip() for s in c.text.replace("\n", " ").split(". ") if len(s) > 30)
    rng = random.Random(seed)
    models = ["seir", "abm", "delivery", "plugin_a", "plugin_b"]
    return [
        (". ".join(rng.sample(sentences, rng.randint(3, 8))) + f" topic{rng.randint(0, 999)}", rng.choice(models))
        for _ in range(n)
    ]


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def bench_queries(n_chunks: int, n_queries: int) -> list[tuple[str, float, float | None]]:
    import numpy as np

    from rag.embeddings import HashingEmbedding
    from rag.hybrid import HybridIndex, rrf

    data = synthetic_chunks(n_chunks)
    backend = HashingEmbedding()
    t0 = time.perf_counter()
    vectors = backend.embed_array([t for t, _ in data])
    embed_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = HybridIndex([t for t, _ in data], vectors, [m for _, m in data], backend)
    build_s = time.perf_counter() - t0
    rows: list[tuple[str, float, float | None]] = [
        (f"embed {n_chunks} chunks (s)", embed_s, None),
        (f"build BM25 over {n_chunks} chunks (s)", build_s, None),
    ]
    questions = [QUERIES[i % len(QUERIES)] + f" variant {i}" for i in range(n_queries)]

    def timed(fn, warm: int = 5) -> list[float]:  # type: ignore[no-untyped-def]
        for q in questions[:warm]:
            fn(q)
        out = []
        for q in questions:
            backend._cache.clear()  # every query embeds its text, as a new question would
            t = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - t) * 1000)
        return out

    fused = timed(lambda q: index.search(q, 5))
    bm25 = timed(lambda q: index.search(q, 5, mode="bm25"))
    dense = timed(lambda q: index.search(q, 5, mode="dense"))
    filtered = timed(lambda q: index.search(q, 5, model="seir"))

    import chromadb
    from chromadb.config import Settings

    from rag.embeddings import chroma_embedding_function

    with tempfile.TemporaryDirectory() as tmp:
        client = chromadb.PersistentClient(path=tmp, settings=Settings(anonymized_telemetry=False))
        col = client.create_collection(
            "bench", embedding_function=chroma_embedding_function(backend), metadata={"hnsw:space": "cosine"}
        )
        ids = [str(i) for i in range(n_chunks)]
        for s in range(0, n_chunks, 2000):
            col.add(
                ids=ids[s : s + 2000],
                embeddings=vectors[s : s + 2000],
                documents=[t for t, _ in data[s : s + 2000]],
                metadatas=[{"model": m} for _, m in data[s : s + 2000]],
            )

        def chroma_fused(q: str) -> None:
            got = col.query(query_embeddings=[backend.embed_array([q])[0]], n_results=50, include=["distances"])
            dense_rank = [(int(i), 1 - d) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]  # type: ignore[index]
            rrf([index.bm25(q, 50), dense_rank], 5)

        def chroma_dense(q: str) -> None:
            col.query(query_embeddings=[backend.embed_array([q])[0]], n_results=5, include=["distances"])

        peer_fused = timed(chroma_fused)
        peer_dense = timed(chroma_dense)
        # How well the in-process dense top 5 agrees with Chroma's approximate (HNSW) top 5.
        overlap = []
        for q in questions[:50]:
            ours = {i for i, _ in index.search(q, 5, mode="dense")}
            got = col.query(query_embeddings=[backend.embed_array([q])[0]], n_results=5, include=[])
            overlap.append(len(ours & {int(i) for i in got["ids"][0]}) / 5)
    rows += [
        (f"fused query p50 at {n_chunks} chunks (ms)", statistics.median(fused), statistics.median(peer_fused)),
        (f"fused query p95 at {n_chunks} chunks (ms)", percentile(fused, 95), percentile(peer_fused, 95)),
        (f"dense query p50 at {n_chunks} chunks (ms)", statistics.median(dense), statistics.median(peer_dense)),
        (f"bm25 query p50 at {n_chunks} chunks (ms)", statistics.median(bm25), None),
        (f"fused + model filter p50 at {n_chunks} chunks (ms)", statistics.median(filtered), None),
        ("dense top-5 overlap, exact vs Chroma HNSW", float(np.mean(overlap)), None),
    ]
    return rows


def in_fresh_process(code: str, env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT, capture_output=True)
    return time.perf_counter() - t


def bench_indexing() -> list[tuple[str, float, float | None]]:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "SIMQA_HOME": home}
        env.pop("SIMQA_CHROMA_URL", None)
        timing = "import time; t = time.perf_counter(); import rag; r = rag.index_docs(); print(r)"
        scratch = in_fresh_process(timing, env)
        again = in_fresh_process(timing, env)
        cold = in_fresh_process("import rag; rag.retrieve('how is the peak measured?')", env)
        chroma = in_fresh_process("import chromadb", env)
        python = in_fresh_process("pass", env)
    return [
        ("index the docs from scratch, fresh process (s)", scratch, None),
        ("no-change re-index, fresh process (s)", again, None),
        ("cold retrieve: python + import + load + query (s)", cold, chroma),
        ("python start-up alone (s)", python, None),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=10000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["SIMQA_HOME"] = home
        rows = bench_queries(args.chunks, args.queries)
    rows += bench_indexing()
    print("scenario | ours | peer | ratio")
    print("---|---|---|---")
    for name, ours, peer in rows:
        ratio = f"{peer / ours:.1f}x" if peer else ""
        print(f"{name} | {ours:.3f} | {'' if peer is None else f'{peer:.3f}'} | {ratio}")
    print("(peer: embedded Chroma HNSW for the dense half; for the cold row, `import chromadb` alone)")

    from rag.evaluate import evaluate_retrieval

    with tempfile.TemporaryDirectory() as home:
        os.environ["SIMQA_HOME"] = home
        print()
        print(evaluate_retrieval().table())


if __name__ == "__main__":
    main()
