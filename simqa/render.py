"""Terminal rendering with rich: answers, result tables, progress for long runs, runs tables."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from simqa.answer import Answer
from simqa.compose import format_metric, headline_metrics
from simqa.plot import key_series, sparkline

PROGRESS_AFTER_S = 1.0  # runs shorter than this show no progress bar


def console() -> Console:
    return Console(highlight=False)


@contextmanager
def with_progress() -> Iterator[Any]:
    """A progress callback `(done, total)` that shows a bar once work has lasted over a second.

    Single runs report nothing until they finish, so a spinner covers them after the same delay.
    """
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeRemainingColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("running"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} tasks"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task("runs", total=None)
    started = time.monotonic()
    shown = threading.Event()
    done = threading.Event()

    def show_later() -> None:
        if not done.wait(PROGRESS_AFTER_S):
            shown.set()
            progress.start()

    timer = threading.Thread(target=show_later, daemon=True)
    timer.start()

    def update(completed: int, total: int) -> None:
        progress.update(task, completed=completed, total=total)
        if not shown.is_set() and time.monotonic() - started > PROGRESS_AFTER_S:
            shown.set()
            progress.start()

    try:
        yield update
    finally:
        done.set()
        timer.join()
        if shown.is_set():
            progress.stop()


def results_table(answer: Answer) -> Table | None:
    if not answer.results or answer.model is None:
        return None
    names = [n for n in headline_metrics(answer.model) if n in answer.results[0].metrics]
    table = Table(show_header=True, header_style="bold")
    table.add_column("scenario", no_wrap=True)
    for n in names:
        table.add_column(n, justify="right")
    for r in answer.results:
        cells = []
        for n in names:
            v = r.metrics[n]
            cell = format_metric(n, float(v)) if not isinstance(v, dict) else ""
            if n in r.ci:
                lo, hi = r.ci[n]
                cell += f"\n[dim]{format_metric(n, lo)}–{format_metric(n, hi)}[/dim]"
            cells.append(cell)
        table.add_row(escape(r.label), *cells)
    return table


def render_answer(con: Console, answer: Answer, plot_path: Path | None = None) -> None:
    style = {"refuse": "red", "clarify": "yellow"}.get(answer.kind, "cyan")
    title = f"{answer.kind}" + (f" · {answer.model}" if answer.model else "") + f" · {answer.translator}"
    # The text may be the LLM's: shown as text, never read as rich markup ("[link=...]", "[/]").
    con.print(Panel(Text(answer.text), title=Text(title), border_style=style, expand=False))
    table = results_table(answer)
    if table is not None and len(answer.results) > 1 and answer.kind != "calibrate":  # the plot shows a search
        con.print(table)
    for res in answer.full_results[:4]:
        name = key_series(res)
        if name:
            con.print(Text(f"{res.label:>16} {name}", style="dim"), sparkline(res.series[name], 50))
    if plot_path is not None:
        con.print(f"[dim]plot saved: {plot_path}[/dim]")
    if answer.citations:
        sources = ", ".join(dict.fromkeys(c.source for c in answer.citations))
        con.print(Text(f"sources: {sources}", style="dim"))
    for note in answer.notes:
        con.print(Text(f"note: {note}", style="dim"))


def runs_table(rows: list[Any]) -> Table:
    table = Table(show_header=True, header_style="bold")
    for col in ("run id", "model", "created", "summary"):
        table.add_column(col)
    for row in rows:
        get = row.get if isinstance(row, dict) else lambda k, r=row: getattr(r, k, "")
        cells = (str(get("run_id")), str(get("model")), str(get("created_at")), str(get("summary"))[:80])
        table.add_row(*(Text(cell) for cell in cells))
    return table
