"""`simqa chat`: a multi-turn conversation in the terminal; follow-ups refine the last scenario.

Commands: /scenario shows the last scenario run, /runs lists stored runs, /save [PATH] writes the
conversation's Answer JSON, /quit ends.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.text import Text

from rag.paths import simqa_home
from sim.errors import LLMError, SimqaError
from simqa.assistant import Assistant, TranslatorName
from simqa.plot import save_plot
from simqa.render import console, render_answer, runs_table, with_progress

HELP = "Ask about a model (seir, abm, delivery, plugins). Commands: /scenario  /runs  /save [PATH]  /quit"


def run_chat(translator: TranslatorName = "auto", input_fn=input) -> int:  # type: ignore[no-untyped-def]
    con = console()
    conv = Assistant(translator=translator).conversation()
    con.print(f"[bold]simqa chat[/bold] — {HELP}")
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
            con.print(HELP)
            continue
        if line == "/scenario":
            last = conv.answers[-1] if conv.answers else None
            if last is None or not last.scenarios:
                con.print("no scenario yet")
            else:
                con.print_json(json.dumps([s.model_dump(mode="json") for s in last.scenarios]))
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
            con.print(Text(f"unknown command {line.split()[0]}; {HELP}"))
            continue
        try:
            with with_progress() as progress:
                answer = conv.ask(line, progress=progress)
        except LLMError as exc:
            con.print(Text.assemble(("LLM error: ", "red"), str(exc)))
            continue
        except SimqaError as exc:
            con.print(Text.assemble(("error: ", "red"), str(exc)))
            continue
        plot = None
        if answer.full_results:
            plot = save_plot(answer, simqa_home() / "plots" / f"{answer.full_results[0].run_id}.png")
        render_answer(con, answer, plot)
