"""The Chroma adapter of an `EmbeddingBackend`. Imported only when Chroma is (it costs seconds)."""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from rag.embeddings import EmbeddingBackend, HashingEmbedding, OpenAIEmbedding


@register_embedding_function
class SimqaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Registered under `simqa`; its config names the backend, so Chroma can rebuild it on reopen."""

    def __init__(self, backend: EmbeddingBackend | None = None) -> None:
        self.backend = backend or HashingEmbedding()

    def __call__(self, input: Documents) -> Embeddings:
        import numpy as np

        return [np.asarray(v, dtype=np.float32) for v in self.backend.embed(list(input))]

    @staticmethod
    def name() -> str:
        return "simqa"

    def default_space(self) -> Any:
        return "cosine"

    def supported_spaces(self) -> list[Any]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        return {"backend": self.backend.name, **self.backend.config()}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> SimqaEmbeddingFunction:
        if config.get("backend") == OpenAIEmbedding.name:
            import os

            return SimqaEmbeddingFunction(
                OpenAIEmbedding(model=config["model"], base_url=os.environ.get("SIMQA_EMBEDDINGS_URL"))
            )
        return SimqaEmbeddingFunction(HashingEmbedding(dimension=int(config.get("dimension", 768))))

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        if config.get("backend") not in (HashingEmbedding.name, OpenAIEmbedding.name):
            raise ValueError(f"unknown simqa embedding backend {config.get('backend')!r}")

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if old_config.get("backend") != new_config.get("backend"):
            raise ValueError("changing the embedding backend of a collection needs a new collection")
