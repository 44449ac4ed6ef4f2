"""Offline evaluation: labelled cases, scorers, the eval runner and its reports.

`simqa eval` runs it; in Python: `load_cases()`, `run_eval(cases, factory)`, `relabel(paths)`,
`compare_runs(a, b)`. See docs/evals.md. Names are imported on first use.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evals.case import Case, ExpectedScenario, MetricLabel
    from evals.dataset import load_cases
    from evals.labels import relabel
    from evals.runner import EvalLog, compare_runs, load_log, run_eval
    from evals.scorers import CASE_SCORERS, Score

_LAZY = {
    "CASE_SCORERS": "evals.scorers",
    "Case": "evals.case",
    "EvalLog": "evals.runner",
    "ExpectedScenario": "evals.case",
    "MetricLabel": "evals.case",
    "Score": "evals.scorers",
    "compare_runs": "evals.runner",
    "load_cases": "evals.dataset",
    "load_log": "evals.runner",
    "relabel": "evals.labels",
    "run_eval": "evals.runner",
}

__all__ = [
    "CASE_SCORERS",
    "Case",
    "EvalLog",
    "ExpectedScenario",
    "MetricLabel",
    "Score",
    "compare_runs",
    "load_cases",
    "load_log",
    "relabel",
    "run_eval",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'evals' has no attribute {name!r}")
