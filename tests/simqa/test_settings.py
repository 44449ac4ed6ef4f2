"""Settings are read once, at the edge: `~` in SIMQA_HOME is expanded, `--dask` is passed along
(the environment is not written), and only the settings module reads the environment."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

import pytest

from simqa.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_home_expands_the_tilde_and_defaults_to_dot_simqa() -> None:
    assert Settings.from_env({"SIMQA_HOME": "~/elsewhere"}).home == Path.home() / "elsewhere"
    assert Settings.from_env({}).home == Path.home() / ".simqa"


def test_the_dask_flag_wins_over_the_environment() -> None:
    env = {"SIMQA_DASK_ADDRESS": "tcp://env:8786"}
    assert Settings.from_env(env).dask_address == "tcp://env:8786"
    assert Settings.from_env(env, dask_address="tcp://flag:8786").dask_address == "tcp://flag:8786"
    assert Settings.from_env({}).dask_address is None


def test_llm_settings_come_from_their_documented_variables() -> None:
    env = {"SIMQA_LLM_BASE_URL": "http://127.0.0.1:9/v1/", "SIMQA_LLM_MODEL": "m", "SIMQA_LLM_TIMEOUT": "7"}
    llm = Settings.from_env(env).llm
    assert (llm.base_url, llm.model, llm.timeout_s, llm.configured) == ("http://127.0.0.1:9/v1", "m", 7.0, True)
    assert not Settings.from_env({}).llm.configured


def test_cli_passes_dask_to_the_executor_without_writing_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sim.executors
    from simqa.cli import main

    asked: list[Any] = []

    def executor_for(address: str | None, workers: int = 1) -> Any:
        asked.append(address)
        return sim.executors.InProcessExecutor()

    monkeypatch.setattr(sim.executors, "executor_for", executor_for)
    monkeypatch.delenv("SIMQA_DASK_ADDRESS", raising=False)
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"model": "seir", "params": {"population": 1000, "days": 30}}))
    assert main(["--dask", "tcp://127.0.0.1:8786", "run", str(scenario), "--no-series"]) == 0
    assert asked == ["tcp://127.0.0.1:8786"]
    assert "SIMQA_DASK_ADDRESS" not in os.environ
    assert json.loads(capsys.readouterr().out)["kind"] == "simulate"


def test_a_malformed_variable_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from simqa.cli import main

    monkeypatch.setenv("SIMQA_WORKERS", "many")
    assert main(["runs", "list"]) == 2
    err = capsys.readouterr().err
    assert "SIMQA_WORKERS must be a whole number" in err and len(err.strip().splitlines()) == 1


def test_the_assistant_keeps_its_runs_under_the_settings_home(tmp_path: Path) -> None:
    from simqa import Assistant

    home = tmp_path / "home"
    answer = Assistant(translator="offline", retrieval=False, settings=Settings(home=home)).ask(
        "What is the attack rate with R0 2 in a town of 10000?"
    )
    assert answer.results and (home / "runs.sqlite").is_file()


def _reads_environ(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.Attribute)
        and node.attr in ("environ", "getenv")
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
        for node in ast.walk(tree)
    )


def test_only_the_settings_module_reads_the_environment() -> None:
    offline = ROOT / "simqa" / "translators" / "offline"
    readers = sorted(
        str(path.relative_to(ROOT))
        for package in ("simqa", "evals")
        for path in (ROOT / package).rglob("*.py")
        if offline not in path.parents and _reads_environ(path)
    )
    assert readers == ["simqa/settings.py"]
