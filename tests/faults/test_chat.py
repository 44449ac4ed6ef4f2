"""`simqa chat` survives any one turn: a failing question, a failing store, a bug, Ctrl-C during an
answer, or `/save` to a path that cannot be written. Every earlier answer is kept and saved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simqa.assistant import Assistant
from simqa.chat import run_chat

from .conftest import home


def _script(lines: list[str]):  # type: ignore[no-untyped-def]
    it = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(it)
        except StopIteration:
            raise EOFError from None

    return read


def _saved(path: Path) -> list[dict]:
    return json.loads(path.read_text())


def test_save_to_bad_paths_keeps_the_conversation(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code = run_chat(
        "offline",
        input_fn=_script(
            [
                "R0 2.8 in a town of 40,000: what is the peak?",
                f"/save {tmp_path}/no/such/folder/convo.json",
                f"/save {folder}",
                f"/save {blocker}/under-a-file.json",
                "and if we also cut contacts by 30% from day 20?",
                "/save good.json",
                "/quit",
            ]
        ),
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("cannot save to") == 3 and "the conversation goes on" in out
    assert "Traceback" not in out
    saved = _saved(tmp_path / "good.json")
    assert len(saved) == 2
    assert saved[1]["scenarios"][-1]["interventions"][0]["type"] == "contact_reduction"
    assert not list(tmp_path.glob(".*.tmp"))  # a failed save leaves nothing half-written


def test_a_save_that_fails_midway_keeps_the_old_file_whole(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_chat("offline", input_fn=_script(["R0 2 in a town of 5,000: what is the peak?", "/save c.json", "/quit"]))
    before = (tmp_path / "c.json").read_text()

    def full_disk(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full_disk)
    run_chat("offline", input_fn=_script(["R0 3 in a town of 5,000: what is the peak?", "/save c.json", "/quit"]))
    assert "No space left on device" in capsys.readouterr().out
    assert (tmp_path / "c.json").read_text() == before


def test_any_failing_turn_leaves_the_chat_and_its_answers(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    real = Assistant._answer

    def flaky(self, question, history, **kwargs):  # type: ignore[no-untyped-def]
        if "bug" in question:
            raise RuntimeError("a bug in one turn")
        if "interrupt" in question:
            raise KeyboardInterrupt
        if "disk" in question:
            raise OSError(5, "Input/output error")
        return real(self, question, history, **kwargs)

    monkeypatch.setattr(Assistant, "_answer", flaky)
    code = run_chat(
        "offline",
        input_fn=_script(
            [
                "R0 2.5 in a town of 20,000: what is the peak?",
                "this turn has a bug",
                "interrupt this turn",
                "the disk fails in this turn",
                "What happens if R0 is -2?",
                "and what if R0 is 3?",
                "/save convo.json",
            ]
        ),
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "RuntimeError: a bug in one turn" in out and "the conversation goes on" in out
    assert "interrupted" in out
    assert "Input/output error" in out
    saved = _saved(tmp_path / "convo.json")
    # The failed turns left no trace; the follow-up still refines the first scenario.
    assert saved[0]["kind"] == "simulate" and len(saved) == 3
    assert saved[-1]["scenarios"][-1]["params"]["population"] == 20000


def test_a_broken_store_fails_its_turn_not_the_chat(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (home() / "runs.sqlite").mkdir(parents=True)
    code = run_chat(
        "offline",
        input_fn=_script(
            ["What is the peak with R0 2.5?", "/runs", "What does r0 mean in the seir model?", "/save c.json"]
        ),
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("store error") == 2 and "is a folder" in out
    saved = _saved(tmp_path / "c.json")
    assert [a["kind"] for a in saved] == ["explain"]  # an explanation needs no store


@pytest.mark.parametrize("mistake", ["/save", "/runs"])
def test_commands_work_with_nothing_asked(tmp_path: Path, capsys, monkeypatch, mistake: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_chat("offline", input_fn=_script([mistake, "/scenario", "/nonsense", "/quit"])) == 0
    out = capsys.readouterr().out
    assert "no scenario yet" in out and "unknown command /nonsense" in out
