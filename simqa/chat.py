"""`simqa chat`: a multi-turn conversation in the terminal; follow-ups refine the last scenario.

Commands: /data FILE fits the model of the next question to the observations in FILE (CSV or JSON
records), /scenario shows the scenario the next question refines, /runs lists stored runs,
/save [PATH] writes the conversation's Answer JSON, /help lists the commands, /quit ends.

A conversation survives any one turn: a question that fails (a bad value, a failing service, a
bug), a `/save` to a path that cannot be written, or Ctrl-C during an answer prints one line and
the conversation goes on with every earlier answer kept.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from rag.errors import StoreError
from rag.paths import make_home
from sim.errors import SimqaError
from simqa.assistant import Assistant, Conversation, TranslatorName
from simqa.errors import LLMError
from simqa.plot import save_plot
from simqa.render import console, render_answer, runs_table, with_progress

COMMANDS = (
    ("/scenario", "the scenario the next question refines"),
    ("/runs", "the last stored runs"),
    ("/save [PATH]", "write the conversation's answers as JSON"),
    ("/help", "this list"),
    ("/data FILE", "fit the next question's model to the data in FILE (CSV or JSON)"),
    ("/quit", "end (or Ctrl-D)"),
)
HELP = "Commands: " + "  ".join(name for name, _ in COMMANDS)
DEFAULT_SAVE = "simqa-conversation.json"


def _help_text() -> str:
    from sim.registry import model_names

    lines = [f"Ask about a model ({', '.join(model_names())}), or how to use simqa. Commands:"]
    lines += [f"  {name:<14} {what}" for name, what in COMMANDS]
    return "\n".join(lines)


def run_chat(translator: TranslatorName = "auto", input_fn=input, settings: Any = None) -> int:  # type: ignore[no-untyped-def]
    con = console()
    conv = Assistant(translator=translator, settings=settings).conversation()
    con.print(Text.assemble(("simqa chat", "bold"), f" — ask a question; {HELP}"))
    pending: dict[str, Any] = {"data": None}  # a table loaded with /data, for the next question
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
        try:
            if line == "/data" or line.startswith("/data "):
                _load_data(con, line[5:].strip(), pending)
            elif line.startswith("/"):
                _command(con, conv, line)
            else:
                data, pending["data"] = (
                    pending["data"],
                    None,
                )  # data go with one question; follow-ups start from its fit
                _turn(con, conv, line, data)
        except KeyboardInterrupt:
            con.print("[yellow]interrupted:[/yellow] that turn was dropped; the conversation goes on")
        except LLMError as exc:
            con.print(f"[red]LLM error:[/red] {escape(str(exc))}")
        except StoreError as exc:
            con.print(f"[red]store error:[/red] {escape(str(exc))}")
        except SimqaError as exc:
            con.print(f"[red]error:[/red] {escape(str(exc))}")
        except Exception as exc:  # a bug in one turn must not end the conversation and lose it
            con.print(
                f"[red]error:[/red] that turn failed ({escape(type(exc).__name__)}: {escape(str(exc))}); this is a "
                "bug in simqa, please report it; the conversation goes on"
            )


def _load_data(con: Console, path: str, pending: dict[str, Any]) -> None:
    if not path:
        con.print("usage: /data FILE (a CSV or JSON file of observations, e.g. day,new_cases)")
        return
    from simqa.fitting import load_table

    table = load_table(path)  # a file that cannot be read: one line, and the conversation goes on
    pending["data"] = table
    rows = len(next(iter(table.columns.values()), []))
    con.print(
        f"loaded {rows} rows of {', '.join(table.headers)} from {table.source}; the next question fits a model to them",
        markup=False,
    )


def _turn(con: Console, conv: Conversation, line: str, data: Any = None) -> None:
    with with_progress() as progress:
        answer = conv.ask(line, data=data, progress=progress)
    plot = None
    if answer.full_results:
        try:
            home = make_home(conv.assistant.settings.home)
            plot = save_plot(answer, home / "plots" / f"{answer.full_results[0].run_id}.png")
        except (OSError, StoreError) as exc:
            answer.notes.append(f"the plot could not be saved ({getattr(exc, 'strerror', None) or exc})")
    render_answer(con, answer, plot)


def _command(con: Console, conv: Conversation, line: str) -> None:
    if line == "/help":
        con.print(_help_text(), markup=False)
    elif line == "/scenario":
        turn, scenarios = _scenario_refined_next(conv)
        if not scenarios:
            con.print("no scenario yet: ask a question that runs a model")
        else:
            con.print(f"the scenario the next question refines (from turn {turn}):")
            con.print_json(json.dumps([s.model_dump(mode="json") for s in scenarios]))
    elif line == "/runs":
        con.print(runs_table(conv.assistant.settings.run_store().list(limit=10)))
    elif line == "/save" or line.startswith("/save "):
        target = Path(line[5:].strip() or DEFAULT_SAVE).expanduser()
        try:
            _save(conv, target)
        except OSError as exc:
            con.print(
                f"[red]cannot save to {escape(str(target))}[/red] ({escape(exc.strerror or str(exc))}): give a file "
                "path in a folder you can write to; nothing was lost, the conversation goes on"
            )
            return
        con.print(f"saved {len(conv.answers)} answers to {escape(str(target))}")
    else:
        con.print(f"unknown command {line.split()[0]}; {HELP}", markup=False)


def _save(conv: Conversation, target: Path) -> None:
    """Write the answers whole or not at all: a failed save never leaves a cut file behind."""
    data = json.dumps([a.model_dump(mode="json") for a in conv.answers], indent=2)
    if target.is_dir():
        raise IsADirectoryError(21, "it is a folder", str(target))
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _scenario_refined_next(conv: Conversation) -> tuple[int, list[Any]]:
    """The turn number and scenarios of the last turn that ran something: what a follow-up refines,
    even after an explanation or a clarifying question in between."""
    for i in range(len(conv.answers) - 1, -1, -1):
        if conv.answers[i].scenarios:
            return i + 1, list(conv.answers[i].scenarios)
    return 0, []
