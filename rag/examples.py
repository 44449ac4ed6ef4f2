"""Worked examples: the labelled eval cases, as few-shot examples for the translators.

The cases are read as plain YAML (rag does not import `evals`): a file holds one case, a list of
cases, or `{cases: [...]}`. Each becomes an `Example` whose `request` has the fields of the
Answer JSON a translator must produce: kind, model, scenarios, sweep, calibrate.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import yaml

from rag.embeddings import EmbeddingBackend, default_backend
from rag.hybrid import HybridIndex
from rag.paths import cases_dir
from rag.types import Example

REQUEST_FIELDS = ("kind", "model", "scenarios", "sweep", "calibrate")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _case_dicts(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = yaml.load(text, Loader=_LOADER)  # libyaml's safe loader: 6x faster on a cold `simqa ask`
    if isinstance(data, dict) and isinstance(data.get("cases"), list):
        data = data["cases"]
    if isinstance(data, dict):
        data = [data]
    return [d for d in (data or []) if isinstance(d, dict)]


def case_files(root: Path | None = None) -> list[Path]:
    root = root or cases_dir()
    if not root.is_dir():
        return []
    return sorted([*root.glob("*.yaml"), *root.glob("*.yml"), *root.glob("*.jsonl")])


def load_examples(root: Path | None = None) -> list[Example]:
    """Every case with an `id` and a `question`; one with malformed YAML is skipped, not fatal."""
    examples: list[Example] = []
    seen: set[str] = set()
    for path in case_files(root):
        try:
            cases = _case_dicts(path)
        except (yaml.YAMLError, ValueError, OSError):
            continue
        for case in cases:
            case_id, question = case.get("id"), case.get("question")
            if not case_id or not question or case_id in seen:
                continue
            seen.add(str(case_id))
            request = {name: case.get(name) for name in REQUEST_FIELDS}
            request["scenarios"] = request["scenarios"] or []
            if case.get("turns"):
                request["turns"] = list(case["turns"])
            examples.append(Example(case_id=str(case_id), question=str(question), request=request))
    return examples


class ExampleIndex:
    def __init__(self, examples: list[Example], backend: EmbeddingBackend) -> None:
        self.examples = examples
        texts = [" ".join([*e.request.get("turns", []), e.question]) for e in examples]
        self.hybrid = HybridIndex(
            texts, backend.embed_array(texts), [e.request.get("model") for e in examples], backend
        )

    def search(
        self, question: str, k: int = 3, model: str | None = None, exclude_case: str | None = None
    ) -> list[Example]:
        # One extra candidate, so that excluding the case under evaluation still leaves k.
        hits = self.hybrid.search(question, k + 1, model)
        out = [self.examples[i].model_copy(update={"score": round(s, 6)}) for i, s in hits]
        return [e for e in out if e.case_id != exclude_case][:k]


_cache: dict[tuple[str, str], tuple[tuple[tuple[str, int, int], ...], ExampleIndex]] = {}
_lock = threading.Lock()


def example_index(backend: EmbeddingBackend | None = None, root: Path | None = None) -> ExampleIndex:
    """Built once per process, rebuilt when a case file changes."""
    backend = backend or default_backend()
    files = case_files(root)
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    key = (backend.space_id, str(root or cases_dir()))
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        index = ExampleIndex(load_examples(root), backend)
        _cache[key] = (stamp, index)
        return index
