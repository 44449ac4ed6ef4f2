from __future__ import annotations

from pathlib import Path

import yaml

import rag
from rag.evaluate import DEFAULT_CASES, load_cases


def test_scores_on_known_cases(docs: Path, tmp_path: Path) -> None:
    cases = [
        {
            "id": "a",
            "question": "share of orders delivered after the promised time",
            "expected": ["docs/models/delivery.md#metrics"],
        },
        {"id": "b", "question": "basic reproduction number r0", "expected": ["docs/models/seir.md#parameters"]},
        {"id": "c", "question": "zebra giraffe", "expected": ["docs/models/nothing.md#none"]},
    ]
    path = tmp_path / "cases.yaml"
    path.write_text(yaml.safe_dump(cases))
    report = rag.evaluate_retrieval(path)
    assert report.cases == 3 and set(report.scores) == {"fused", "bm25", "dense"}
    for score in report.scores.values():
        # Two answerable cases found, the impossible one missed: recall is exactly 2/3.
        assert score.recall_at_k == round(2 / 3, 4)
        assert score.misses == ["c"]
        assert 0 < score.mrr <= round(2 / 3, 4)
    assert "recall@5" in report.table()


def test_the_shipped_cases_point_at_real_sections() -> None:
    """Every expected anchor of evals/retrieval_cases.yaml exists in the real docs (cards change)."""
    from rag.chunking import chunk_file, doc_files

    sections = {c.section for f in doc_files() for c in chunk_file(f)}
    cases = load_cases(DEFAULT_CASES)
    assert len(cases) >= 60
    missing = {e for c in cases for e in c["expected"] if e not in sections}
    assert not missing, f"retrieval cases point at sections that do not exist: {sorted(missing)}"
