"""Nothing lost: every run id in the answers of the project's own eval can be shown by
`simqa runs show` (eval runs are stored, but not offered to retrieval as similar past runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rag.runstore import RunStore

# One or more cases of every kind that runs, on every built-in model, and a conversation.
SAMPLE = ["seir-swp-001", "seir-swp-002", "seir-cal-001", "seir-cmp-001", "del-swp-003", "del-cmp-002", "conv-001"]


def _run_ids(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "run_id" and isinstance(item, str):
                found.add(item)
            else:
                found |= _run_ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= _run_ids(item)
    return found


def _eval_then_show_every_run(cli, out: Path, *extra: str) -> int:  # type: ignore[no-untyped-def]
    result = cli("eval", "--translator", "offline", "--no-progress", "--no-retrieval", "--out", str(out), *extra)
    assert result.code == 0, result.err[-2000:]
    log = json.loads((out / "log.json").read_text())
    assert not [r["case_id"] for r in log["results"] if r["error"]]
    cited = _run_ids([r["answer"] for r in log["results"]])
    assert cited
    for run_id in sorted(cited):
        shown = cli("runs", "show", run_id, "--series")
        assert shown.code == 0, (run_id, shown.err)
        assert json.loads(shown.out)["run_id"] == run_id
    # Kept, not offered: none of them is a "similar past run" for a later question.
    assert RunStore().index_rows() == []
    return len(cited)


def test_runs_of_a_sample_of_the_eval_can_be_shown(cli, tmp_path: Path) -> None:
    assert _eval_then_show_every_run(cli, tmp_path / "eval", "--tags", *SAMPLE) >= len(SAMPLE)


@pytest.mark.slow
def test_runs_of_the_whole_eval_can_be_shown(cli, tmp_path: Path) -> None:
    assert _eval_then_show_every_run(cli, tmp_path / "eval") > 300


def test_a_run_kept_unsearchable_becomes_searchable_when_a_user_asks_it() -> None:
    from simqa import Assistant

    question = "R0 2.1 in a town of 15,000: what is the peak?"
    Assistant(translator="offline", index_runs=False).ask(question)
    assert len(RunStore()) == 1 and RunStore().index_rows() == []
    Assistant(translator="offline").ask(question)
    assert len(RunStore().index_rows()) == 1
