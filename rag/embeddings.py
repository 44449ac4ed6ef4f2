"""Embedding backends: one abstract method, `embed(texts) -> list[list[float]]`.

`HashingEmbedding` is the default: it works offline and downloads nothing (Chroma's stock default
downloads an ONNX model on first use, and fails without a network). It hashes words, word pairs
and character n-grams into a fixed number of signed buckets with sublinear term frequency and
L2-normalises: the vectors depend only on the text, never on a corpus, so a new process (or a
Chroma server) reproduces them exactly.

`OpenAIEmbedding` calls any OpenAI-compatible `/embeddings` endpoint when `SIMQA_EMBEDDINGS_URL`
or `SIMQA_EMBEDDINGS_MODEL` is set.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import zlib
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.errors import StoreError
from rag.text import STOPWORDS, _stem, synonym_tokens, words
from sim.errors import MissingDependency

DEFAULT_DIMENSION = 768  # enough buckets that the docs' ~3k distinct features rarely collide
WORD_WEIGHT = 1.0
PAIR_WEIGHT = 0.6  # word pairs carry phrase meaning ("school closure") but are sparser
CHAR_WEIGHT = 0.2  # per char n-gram: a word's ~15 n-grams together weigh about as much as the word (set on the retrieval cases: 0.08-0.35 all pass)


class EmbeddingBackend(ABC):
    """Turns texts into vectors. `name` and `config` identify the vector space (stored with an index)."""

    name: str = "base"

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    def config(self) -> dict[str, Any]:
        return {}

    @property
    def space_id(self) -> str:
        """A short id of the vector space: indexes built in another space are rebuilt, not mixed."""
        parts = [self.name, *(f"{k}={v}" for k, v in sorted(self.config().items()))]
        return re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts))[:60]

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.asarray(self.embed(texts), dtype=np.float32)


def _bucket(feature: str, dimension: int) -> tuple[int, float]:
    h = zlib.crc32(feature.encode())
    return h % dimension, (1.0 if (h >> 31) & 1 else -1.0)


class HashingEmbedding(EmbeddingBackend):
    """Signed feature hashing of words, word pairs and character 3-5-grams; offline and deterministic."""

    name = "simqa-hashing"

    def __init__(self, dimension: int = DEFAULT_DIMENSION) -> None:
        if not 64 <= dimension <= 8192:
            raise ValueError(f"dimension must be between 64 and 8192, got {dimension}")
        self.dimension = dimension
        self._cache: dict[str, np.ndarray] = {}
        self._chars: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def config(self) -> dict[str, Any]:
        return {"dimension": self.dimension}

    def _word_features(self, content: list[str]) -> Counter[str]:
        feats: Counter[str] = Counter()
        for word in content:
            feats["w:" + word] += 1
            for synonym in synonym_tokens(word):
                feats["w:" + synonym] += 1
        for first, second in itertools.pairwise(content):
            feats[f"p:{first} {second}"] += 1
        return feats

    def _char_ngrams(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """Bucket indices and signed weights of one word's char 3-5-grams, cached per word."""
        cached = self._chars.get(word)
        if cached is None:
            padded = f"#{word}#"
            grams = [padded[i : i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1)]
            buckets = [_bucket("c:" + g, self.dimension) for g in grams]
            cached = (
                np.fromiter((b[0] for b in buckets), dtype=np.int64, count=len(buckets)),
                np.fromiter((b[1] * CHAR_WEIGHT for b in buckets), dtype=np.float64, count=len(buckets)),
            )
            if len(self._chars) < 200_000:
                self._chars[word] = cached
        return cached

    def vector(self, text: str) -> np.ndarray:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        content = [_stem(w) for w in words(text) if w not in STOPWORDS]
        indices: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        word_idx, word_w = [], []
        for feature, count in self._word_features(content).items():
            index, sign = _bucket(feature, self.dimension)
            word_idx.append(index)
            word_w.append(sign * (WORD_WEIGHT if feature[0] == "w" else PAIR_WEIGHT) * (1.0 + math.log(count)))
        indices.append(np.asarray(word_idx, dtype=np.int64))
        weights.append(np.asarray(word_w, dtype=np.float64))
        for word in set(content):  # each distinct word's spelling counts once
            idx, w = self._char_ngrams(word)
            indices.append(idx)
            weights.append(w)
        summed = np.bincount(np.concatenate(indices), weights=np.concatenate(weights), minlength=self.dimension)
        vec: np.ndarray = summed.astype(np.float32)
        norm = float(np.linalg.norm(vec))
        if norm > 0:
            vec /= norm
        if len(self._cache) < 4096:
            self._cache[text] = vec
        return vec

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.vector(t).tolist() for t in texts]

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.vector(t) for t in texts])


EMBEDDINGS_TIMEOUT_S = 30.0  # one request to an embeddings endpoint (128 texts) waits at most this long


class OpenAIEmbedding(EmbeddingBackend):
    """Any OpenAI-compatible embeddings endpoint (OpenAI, vLLM, llama.cpp server, Ollama)."""

    name = "openai"

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None, client: Any = None) -> None:
        self.model = model
        self.base_url = base_url
        if client is None:
            try:
                from openai import OpenAI
            except ImportError:
                raise MissingDependency("openai", purpose="OpenAI-compatible embeddings") from None
            # A deadline on every request: the SDK's default waits ten minutes and then retries twice.
            client = OpenAI(
                base_url=base_url,
                api_key=api_key or os.environ.get("OPENAI_API_KEY") or "not-needed",
                timeout=EMBEDDINGS_TIMEOUT_S,
                max_retries=1,
            )
        self._client = client

    def config(self) -> dict[str, Any]:
        return {"model": self.model}

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out: list[list[float]] = []
        batch = 128
        for start in range(0, len(texts), batch):
            try:
                reply = self._client.embeddings.create(model=self.model, input=list(texts[start : start + batch]))
            except Exception as exc:
                raise StoreError(
                    f"the embeddings endpoint {self.base_url or 'api.openai.com'} failed ({type(exc).__name__}: {exc}); "
                    "check SIMQA_EMBEDDINGS_URL / SIMQA_EMBEDDINGS_MODEL / OPENAI_API_KEY, or unset them to use "
                    "the local embedding"
                ) from None
            out.extend(list(item.embedding) for item in sorted(reply.data, key=lambda d: d.index))
        # Normalised so that the dot product is the cosine, as for the local embedding.
        arr = np.asarray(out, dtype=np.float32)
        norms = np.linalg.norm(arr, axis=1, keepdims=True)
        unit = arr / np.where(norms == 0, 1, norms)
        return unit.tolist()


_default: EmbeddingBackend | None = None


def default_backend() -> EmbeddingBackend:
    """The OpenAI-compatible backend when SIMQA_EMBEDDINGS_URL or SIMQA_EMBEDDINGS_MODEL is set, else local."""
    global _default
    url = os.environ.get("SIMQA_EMBEDDINGS_URL")
    model = os.environ.get("SIMQA_EMBEDDINGS_MODEL")
    if url or model:
        key = f"openai-{model}-{url}"
        if _default is None or getattr(_default, "_key", None) != key:
            backend = OpenAIEmbedding(model=model or "text-embedding-3-small", base_url=url)
            backend._key = key  # type: ignore[attr-defined]
            _default = backend
        return _default
    if not isinstance(_default, HashingEmbedding):
        _default = HashingEmbedding()
    return _default


def chroma_embedding_function(backend: EmbeddingBackend) -> Any:
    """`backend` as a Chroma EmbeddingFunction, registered so that a new process reopens the collection."""
    from rag._chroma_ef import SimqaEmbeddingFunction

    return SimqaEmbeddingFunction(backend)
