from __future__ import annotations

import json
import subprocess
import sys

import httpx
import numpy as np
import pytest

from rag.embeddings import EmbeddingBackend, HashingEmbedding, OpenAIEmbedding, default_backend
from rag.errors import StoreError


def test_local_embedding_is_normalised_and_related_texts_are_closer() -> None:
    emb = HashingEmbedding()
    vecs = emb.embed_array(
        ["a vaccination campaign from day 10", "vaccinate one percent of people each day", "courier speed in km/h"]
    )
    assert vecs.shape == (3, emb.dimension)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.1
    # Domain synonyms meet: "lockdown" and "contact reduction" share a feature.
    lockdown, reduction, couriers = emb.embed_array(["lockdown", "contact reduction", "couriers"])
    assert lockdown @ reduction > lockdown @ couriers


def test_local_embedding_is_the_same_in_another_process() -> None:
    text = "school closure for four weeks"
    code = f"import json; from rag.embeddings import HashingEmbedding; print(json.dumps(HashingEmbedding().embed([{text!r}])[0]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    other = np.asarray(json.loads(out.stdout), dtype=np.float32)
    assert np.array_equal(other, HashingEmbedding().embed_array([text])[0])


def test_backend_base_class_needs_embed() -> None:
    with pytest.raises(TypeError):
        EmbeddingBackend()  # type: ignore[abstract]


def _fake_openai(calls: list[dict]) -> object:
    from openai import OpenAI

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        calls.append(body)
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, 0.0]}
            for i, t in enumerate(body["input"])
        ]
        return httpx.Response(
            200,
            json={
                "object": "list",
                "data": data[::-1],
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            },
        )

    return OpenAI(
        base_url="http://embeddings.test/v1",
        api_key="k",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),  # type: ignore[arg-type]
    )


def test_openai_backend_orders_and_normalises() -> None:
    calls: list[dict] = []
    backend = OpenAIEmbedding(model="emb-1", client=_fake_openai(calls))
    vecs = backend.embed(["abc", "a"])
    assert calls[0]["model"] == "emb-1" and calls[0]["input"] == ["abc", "a"]
    assert np.allclose(vecs[0], np.array([3.0, 1.0, 0.0]) / np.sqrt(10))
    assert np.allclose(vecs[1], np.array([1.0, 1.0, 0.0]) / np.sqrt(2))


def test_openai_backend_failure_is_a_store_error() -> None:
    from openai import OpenAI

    client = OpenAI(
        base_url="http://embeddings.test/v1",
        api_key="k",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500, json={"error": "x"}))),  # type: ignore[arg-type]
    )
    with pytest.raises(StoreError, match="SIMQA_EMBEDDINGS_URL"):
        OpenAIEmbedding(model="m", client=client).embed(["x"])


def test_default_backend_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.embeddings

    rag.embeddings._default = None
    assert isinstance(default_backend(), HashingEmbedding)
    monkeypatch.setenv("SIMQA_EMBEDDINGS_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("SIMQA_EMBEDDINGS_MODEL", "nomic-embed-text")
    backend = default_backend()
    assert isinstance(backend, OpenAIEmbedding) and backend.model == "nomic-embed-text"
    rag.embeddings._default = None


def test_chroma_embedding_function_round_trips_its_config() -> None:
    from chromadb.utils.embedding_functions import config_to_embedding_function

    from rag.embeddings import chroma_embedding_function

    ef = chroma_embedding_function(HashingEmbedding(dimension=256))
    rebuilt = config_to_embedding_function({"name": ef.name(), "config": ef.get_config()})
    assert rebuilt.get_config() == {"backend": "simqa-hashing", "dimension": 256}
    assert np.allclose(rebuilt(["peak day"])[0], ef(["peak day"])[0])
