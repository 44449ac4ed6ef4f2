"""The public API: everything in `__all__` exists, and nothing public is missing from it."""

from __future__ import annotations

import simqa


def test_all_names_resolve():
    for name in simqa.__all__:
        assert getattr(simqa, name) is not None, name


def test_all_is_the_documented_surface():
    assert set(simqa.__all__) == {
        "Answer",
        "Assistant",
        "CalibrateSpec",
        "CapExceeded",
        "Citation",
        "Conversation",
        "LLMError",
        "MissingDependency",
        "Request",
        "ResultSummary",
        "Scenario",
        "ScenarioError",
        "SimqaError",
        "StoreError",
        "SweepSpec",
        "__version__",
    }


def test_errors_share_one_root():
    for name in ("CapExceeded", "LLMError", "MissingDependency", "ScenarioError", "StoreError"):
        assert issubclass(getattr(simqa, name), simqa.SimqaError)
