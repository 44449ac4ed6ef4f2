"""`simqa chat`: turns, follow-ups, commands, plots; driven through its input function."""

from __future__ import annotations

import json
from pathlib import Path

from simqa.chat import run_chat


def _script(lines: list[str]):
    it = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(it)
        except StopIteration:
            raise EOFError from None

    return read


def test_chat_follow_up_commands_and_plot(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = run_chat(
        "offline",
        input_fn=_script(
            [
                "R0 2.8 in a town of 40,000: what is the peak?",
                "and if we also cut contacts by 30% from day 20?",
                "/scenario",
                "/runs",
                "/bogus",
                "/save convo.json",
                "/quit",
            ]
        ),
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "simulate · seir · offline" in out
    assert "contact_reduction" in out  # the /scenario of the refined follow-up
    assert "unknown command /bogus" in out
    saved = json.loads((tmp_path / "convo.json").read_text())
    assert len(saved) == 2 and saved[1]["scenarios"][-1]["params"]["population"] == 40000
    plots = list((Path(tmp_path_home()) / "plots").glob("*.png"))
    assert plots and plots[0].stat().st_size > 5000


def test_chat_reports_errors_and_goes_on(capsys):
    assert run_chat("offline", input_fn=_script(["", "What happens if R0 is -2?", "/quit"])) == 0
    out = capsys.readouterr().out
    assert "r0" in out.lower()


def tmp_path_home() -> str:
    import os

    return os.environ["SIMQA_HOME"]


def test_help_is_listed_and_lists_every_command(capsys):
    from simqa.chat import COMMANDS

    assert run_chat("offline", input_fn=_script(["/help", "/quit"])) == 0
    out = capsys.readouterr().out
    banner = out.splitlines()[0]
    assert "/help" in banner and "/save [PATH]" in banner  # a "[PATH]" is text, not console markup
    for name, what in COMMANDS:
        assert name in out and what in out


def test_scenario_after_an_explain_turn_shows_what_the_next_turn_refines(capsys):
    lines = ["R0 2.8 in a town of 40,000: what is the peak?", "what does R0 mean?", "/scenario", "/quit"]
    assert run_chat("offline", input_fn=_script(lines)) == 0
    out = capsys.readouterr().out
    assert "explain · seir" in out
    shown = out.split("the scenario the next question refines (from turn 1):", 1)
    assert len(shown) == 2, "no scenario shown after the explain turn"
    assert '"population": 40000' in shown[1] and '"r0": 2.8' in shown[1]
