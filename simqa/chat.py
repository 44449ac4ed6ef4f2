"""`simqa chat`: a multi-turn conversation in the terminal; follow-ups refine the last scenario.

Commands: /scenario shows the scenario the next question refines, /runs lists stored runs,
/save [PATH] writes the conversation's Answer JSON, /help lists the commands, /quit ends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.text import Text

from rag.paths import simqa_home
from sim.errors import LLMError, SimqaError
from simqa.assistant import Assistant, Conversation, TranslatorName
from simqa.plot import save_plot
from simqa.render import console, render_answer, runs_table, with_progress

COMMANDS = (
    ("/scenario", "the scenario the next question refines"),
    ("/runs", "the last stored runs"),
    ("/save [PATH]", "write the conversation's answers as JSON"),
    ("/help", "this list"),
    ("/quit", "end (or Ctrl-D)"),
)
HELP = "Commands: " + "  ".join(name for name, _ in COMMANDS)


def _help_text() -> str:
    from sim.registry import model_names

    lines = [f"Ask about a model ({', '.join(model_names())}), or how to use simqa. Commands:"]
    lines += [f"  {name:<14} {what}" for name, what in COMMANDS]
    return "\n".join(lines)


def run_chat(translator: TranslatorName = "auto", input_fn=input) -> int:  # type: ignore[no-untyped-def]
    con = console()
    conv = Assistant(translator=translator).conversation()
    con.print(Text.assemble(("simqa chat", "bold"), f" — ask a question; {HELP}"))
    while True:
        try:
            line = input_fn("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            con.print()
            return 0
        if not line:
            continue
        if line in ("/quit", "/exit", "/q"):
            return 0
        if line == "/help":
            con.print(_help_text(), markup=False)
            continue
        if line == "/scenario":
            turn, scenarios = _scenario_refined_next(conv)
            if not scenarios:
                con.print("no scenario yet: ask a question that runs a model")
            else:
                con.print(f"the scenario the next question refines (from turn {turn}):")
                con.print_json(json.dumps([s.model_dump(mode="json") for s in scenarios]))
            continue
        if line == "/runs":
            from rag.runstore import RunStore

            con.print(runs_table(RunStore().list(limit=10)))
            continue
        if line.startswith("/save"):
            target = Path(line[5:].strip() or "simqa-conversation.json")
            target.write_text(json.dumps([a.model_dump(mode="json") for a in conv.answers], indent=2), encoding="utf-8")
            con.print(f"saved {len(conv.answers)} answers to {target}")
            continue
        if line.startswith("/"):
            con.print(f"unknown command {line.split()[0]}; {HELP}", markup=False)
            continue
        try:
            with with_progress() as progress:
                answer = conv.ask(line, progress=progress)
        except LLMError as exc:
            con.print(f"[red]LLM error:[/red] {exc}")
            continue
        except SimqaError as exc:
            con.print(f"[red]error:[/red] {exc}")
            continue
        plot = None
        if answer.full_results:
            plot = save_plot(answer, simqa_home() / "plots" / f"{answer.full_results[0].run_id}.png")
        render_answer(con, answer, plot)


def _scenario_refined_next(conv: Conversation) -> tuple[int, list[Any]]:
    """The turn number and scenarios of the last turn that ran something: what a follow-up refines,
    even after an explanation or a clarifying question in between."""
    for i in range(len(conv.answers) - 1, -1, -1):
        if conv.answers[i].scenarios:
            return i + 1, list(conv.answers[i].scenarios)
    return 0, []
