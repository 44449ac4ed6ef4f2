"""Shared fixtures: every test runs with its own SIMQA_HOME, so no test touches a user's stores."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMQA_HOME", str(tmp_path_factory.mktemp("simqa-home")))
    for var in (
        "OPENAI_API_KEY",
        "SIMQA_LLM_BASE_URL",
        "SIMQA_LLM_MODEL",
        "SIMQA_LLM_TIMEOUT",
        "SIMQA_LLM_BUDGET",
        "SIMQA_LLM_COOLDOWN",
        "SIMQA_LLM_MAX_RETRIES",
        "SIMQA_CHROMA_URL",
        "SIMQA_DASK_ADDRESS",
    ):
        monkeypatch.delenv(var, raising=False)
