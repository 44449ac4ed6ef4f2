"""The HTML report: self-contained, and it renders in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from evals.dataset import load_cases
from evals.report import html_report, print_summary
from evals.runner import EvalLog, run_eval, write_log
from evals.testing import BrokenAssistant
from simqa.answer import Answer

CASES = [c for c in load_cases() if c.id in ("seir-sim-001", "del-cmp-001", "exp-001", "ref-001", "inv-002")]
FAILING = "seir-sim-001"


@pytest.fixture(scope="module")
def log() -> EvalLog:
    failing = next(c for c in CASES if c.id == FAILING)

    class Spoiling(BrokenAssistant):
        def ask(self, question: str, *, exclude_case: str | None = None) -> Answer:
            answer = super().ask(question, exclude_case=exclude_case)
            if exclude_case == "del-cmp-001":  # a wrong answer, shown side by side with the expected one
                answer = answer.model_copy(update={"kind": "simulate", "scenarios": answer.scenarios[:1]})
            return answer

    return run_eval(CASES, lambda: Spoiling(CASES, fail_on=[failing.question]), progress=False, with_retrieval=False)


def test_report_is_self_contained_and_shows_summary_failures_and_plots(log: EvalLog) -> None:
    page = html_report(log)
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:|//)""", page), "the report must open offline"
    assert "<link" not in page and "@import" not in page
    assert page.count("data:image/png;base64,") == 2  # accuracy by kind, latency
    assert "id='summary'" in page and "id='kind-table'" in page
    assert f"id='case-{FAILING}-0'" in page and "boom" in page  # the raised error is shown
    assert "id='case-del-cmp-001-0'" in page and "<b>expected</b>" in page and "<b>actual</b>" in page
    assert "id='case-ref-001-0'" not in page  # passing cases are not listed as failures


def test_report_shows_case_correct_by_case_file_and_by_tag(log: EvalLog) -> None:
    page = html_report(log)
    by_file = page[page.index("id='file-table'") : page.index("</table>", page.index("id='file-table'"))]
    for name, row in log.by_file.items():
        assert f"<td>{name}</td><td>{row['runs']}</td>" in by_file, name
    assert log.by_file["delivery.yaml"]["case_correct"] == 0.0 and log.by_file["scope.yaml"]["case_correct"] == 1.0
    by_tag = page[page.index("id='tag-table'") : page.index("</table>", page.index("id='tag-table'"))]
    assert set(log.by_tag) == {t for c in CASES for t in c.tags}
    for tag, row in log.by_tag.items():
        assert (
            f"<td>{tag}</td><td>{row['runs']}</td><td>{row['errors']}</td><td>{row['case_correct']:.3f}</td>" in by_tag
        )


def test_report_escapes_text_from_answers(log: EvalLog) -> None:
    hostile = log.model_copy(deep=True)
    hostile.results[0].question = "<script>alert(1)</script>"
    hostile.results[0].scores[0].value = 0.0
    page = html_report(hostile)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_terminal_summary_has_tables_per_kind_and_model(log: EvalLog) -> None:
    console = Console(record=True, width=200)
    print_summary(log, console)
    text = console.export_text()
    assert "by kind" in text and "by model" in text and "case_correct" in text
    assert "delivery" in text and "refuse" in text
    assert "by case file" in text and "by tag" in text and "delivery.yaml" in text
    assert all(tag in text for tag in log.by_tag)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_report_renders_in_headless_chromium(log: EvalLog, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed but CI is set: `apt-get install -y chromium` in the CI image")
        pytest.skip("chromium not installed (Debian: apt-get install -y chromium); CI installs it and runs this test")
    _, report = write_log(log, tmp_path)
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            report.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'id="summary"' in dom and "Summary" in dom
    correct = log.metrics["case_correct"]
    assert f'id="case-correct">{correct:.3f}<' in dom
    assert 'id="file-table"' in dom and "<td>delivery.yaml</td>" in dom and 'id="tag-table"' in dom
    # The page's own script ran after load and found both embedded PNGs decoded.
    assert 'data-plots-ok="2"' in dom, re.findall(r"render-check[^<]*", dom)
