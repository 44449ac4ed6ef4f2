"""Retrieval quality on labelled cases: question -> the doc section(s) that answer it.

`evals/retrieval_cases.yaml` holds a list of `{id, question, expected: [docs/models/seir.md#parameters],
model?: seir, guides?: true}` (`guides`: a how-to question, searched in the user docs too). A retrieved chunk answers a case when its source or its level-2 section is one of
`expected` (a chunk under `### r0` in `## Parameters` answers `#parameters`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from rag.paths import PACKAGE_ROOT

DEFAULT_CASES = PACKAGE_ROOT / "evals" / "retrieval_cases.yaml"
MODES = ("fused", "bm25", "dense")


class ModeScore(BaseModel):
    mode: str
    recall_at_k: float  # share of cases with an answering chunk in the top k
    mrr: float  # mean reciprocal rank of the first answering chunk in the top 10 (0 when absent)
    misses: list[str] = Field(default_factory=list)  # ids of cases with nothing in the top k


class RetrievalReport(BaseModel):
    cases: int
    k: int
    scores: dict[str, ModeScore]

    def table(self) -> str:
        lines = [f"retrieval on {self.cases} cases | recall@{self.k} | MRR@10", "---|---|---"]
        for mode, s in self.scores.items():
            lines.append(f"{mode} | {s.recall_at_k:.3f} | {s.mrr:.3f}")
        return "\n".join(lines)


def load_cases(path: str | Path | None = None) -> list[dict[str, Any]]:
    data = yaml.safe_load(Path(path or DEFAULT_CASES).read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("cases", [])
    return [c for c in data if isinstance(c, dict) and c.get("question") and c.get("expected")]


def _answers(chunk: Any, expected: set[str]) -> bool:
    return chunk.source in expected or chunk.section in expected or chunk.source.split("#")[0] in expected


def evaluate_retrieval(cases_path: str | Path | None = None, k: int = 5) -> RetrievalReport:
    """Recall@k and MRR of the fused retriever beside BM25 alone and dense alone."""
    from rag.retrieval import search_docs

    cases = load_cases(cases_path)
    scores: dict[str, ModeScore] = {}
    depth = max(k, 10)
    for mode in MODES:
        hits = 0
        rr = 0.0
        misses = []
        for case in cases:
            expected = set(case["expected"]) if isinstance(case["expected"], list) else {case["expected"]}
            found = search_docs(
                case["question"],
                k=depth,
                model=case.get("model"),
                mode=mode,  # type: ignore[arg-type]
                guides=bool(case.get("guides")),
            )
            rank = next((i for i, c in enumerate(found, start=1) if _answers(c, expected)), None)
            if rank is not None and rank <= k:
                hits += 1
            else:
                misses.append(str(case.get("id", case["question"])))
            if rank is not None:
                rr += 1.0 / rank
        n = max(len(cases), 1)
        scores[mode] = ModeScore(mode=mode, recall_at_k=round(hits / n, 4), mrr=round(rr / n, 4), misses=misses)
    return RetrievalReport(cases=len(cases), k=k, scores=scores)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="recall@k and MRR of the retrievers on labelled cases")
    parser.add_argument("--cases", default=None)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--misses", action="store_true", help="list the cases each retriever missed")
    args = parser.parse_args()
    report = evaluate_retrieval(args.cases, args.k)
    print(report.table())
    if args.misses:
        for mode, s in report.scores.items():
            print(f"{mode} missed: {', '.join(s.misses) or 'none'}")


if __name__ == "__main__":
    main()
