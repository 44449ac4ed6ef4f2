"""Terminal rendering with rich: answers, result tables, progress for long runs, runs tables."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from simqa.answer import Answer
from simqa.compose import format_metric, headline_metrics
from simqa.plot import key_series, sparkline, value_range

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
        table.add_row(Text(r.label), *cells)  # a label may be the LLM's: text, not markup
    return table


def render_answer(con: Console, answer: Answer, plot_path: Path | None = None) -> None:
    style = {"refuse": "red", "clarify": "yellow"}.get(answer.kind, "cyan")
    title = f"{answer.kind}" + (f" · {answer.model}" if answer.model else "") + f" · {answer.translator}"
    # The text is data, not rich markup: "simqa[dask]" must print as written.
    con.print(Panel(Text(answer.text), title=title, border_style=style, expand=False))
    table = results_table(answer)
    if table is not None and len(answer.results) > 1 and answer.kind != "calibrate":  # the plot shows a search
        con.print(table)
    for line in sparkline_rows(answer):
        con.print(line)
    if plot_path is not None:
        con.print(Text(f"plot saved: {plot_path}", style="dim"))
    if answer.citations:
        sources = ", ".join(dict.fromkeys(c.source for c in answer.citations))
        con.print(Text(f"sources: {sources}", style="dim"))
    for note in answer.notes:
        con.print(Text(f"note: {note}", style="dim"))


SPARK_WIDTH = 40  # with the label, the series name and its maximum, a row fits 80 columns
SPARK_ROWS = 4


def sparkline_rows(answer: Answer) -> list[Text]:
    """One sparkline per scenario, all on one scale so their heights compare.

    A calibration shows the run at the answer, then the search: the metric at every value tried,
    in the order of the value.
    """
    results = answer.full_results
    if not results:
        return []
    if answer.kind == "calibrate" and answer.calibrate is not None and answer.calibration is not None:
        return _calibration_rows(answer)
    shown = results[:SPARK_ROWS]
    name = key_series(shown[0])
    if name is None:
        return []
    series = [r.series.get(name, []) for r in shown]
    lo, hi = value_range(series)
    return [_spark_row(r.label, name, values, lo, hi) for r, values in zip(shown, series, strict=True)]


def _spark_row(label: str, name: str, values: Sequence[float], lo: float, hi: float) -> Text:
    row = Text(f"{label:>16} {name} ", style="dim")
    row.append(sparkline(values, SPARK_WIDTH, lo=lo, hi=hi))
    if values:
        row.append(f" max {format_metric(name, max(values))}", style="dim")
    return row


def _calibration_rows(answer: Answer) -> list[Text]:
    from simqa.plot import param_value

    cal, found = answer.calibrate, answer.calibration
    assert cal is not None and found is not None
    results = answer.full_results
    at_answer = min(results, key=lambda r: abs(param_value(r, cal.param) - found.value))
    rows = []
    name = key_series(at_answer)
    if name is not None:
        values = at_answer.series.get(name, [])
        lo, hi = value_range([values])
        rows.append(_spark_row(f"answer {at_answer.label}", name, values, lo, hi))
    points = sorted((param_value(r, cal.param), r.scalar(cal.metric)) for r in results)
    ys = [y for _, y in points]
    lo, hi = value_range([[*ys, cal.target]])
    search = Text(f"{'search':>16} {cal.metric} ", style="dim")
    search.append(sparkline(ys, max(len(ys), 1), lo=lo, hi=hi))
    search.append(f" {len(points)} runs", style="dim")
    rows.append(search)
    rows.append(
        Text(
            f"{'':>16} by {cal.param} from {_number(points[0][0])} to {_number(points[-1][0])}; "
            f"target {cal.relation} {format_metric(cal.metric, cal.target)}",
            style="dim",
        )
    )
    return rows


def _number(value: float) -> str:
    return f"{value:g}"


def run_summary(run: Any) -> Group:
    """`simqa runs show`: a stored run in a screen or two; `--series` prints everything."""
    from simqa.compose import format_param

    created = str(run.created_at).replace("T", " ")[:16]
    head = Text(f"run {run.run_id} · {run.model} · '{run.label}'", style="bold")
    reps = f"{run.replicates} replicate{'s' if run.replicates != 1 else ''}"
    facts = Text(f"created {created} · engine {run.engine_version} · seed {run.seed} · {reps} · {run.wall_ms:,.0f} ms")
    params = run.scenario.get("params", {})
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    table.add_row("parameters", ", ".join(f"{k} {format_param(v)}" for k, v in params.items()))
    interventions = run.scenario.get("interventions", [])
    table.add_row("interventions", "; ".join(_intervention(iv) for iv in interventions) or "none")
    for name, value in run.metrics.items():
        if isinstance(value, dict):
            cell = ", ".join(f"{k} {_count(v)}" for k, v in value.items())
        else:
            cell = format_metric(name, float(value))
            if name in run.ci:
                lo, hi = run.ci[name]
                cell += f" ({format_metric(name, lo)} to {format_metric(name, hi)})"
        table.add_row(name, cell)
    for note in run.notes:
        table.add_row("note", Text(note))
    lengths = sorted({len(v) for v in run.series.values()})
    if run.series:
        each = f"{lengths[0]} values each" if len(lengths) == 1 else "values"
        table.add_row("series", f"{', '.join(run.series)} ({each}; --series prints them)")
    return Group(head, facts, table)


def _count(value: Any) -> str:
    return f"{value:,.0f}" if isinstance(value, int | float) and abs(value) >= 1 else f"{value:.3g}"


def _intervention(iv: dict[str, Any]) -> str:
    from simqa.compose import format_param

    fields = ", ".join(f"{k} {format_param(v)}" for k, v in iv.items() if k != "type" and v is not None)
    return f"{iv.get('type')} ({fields})" if fields else str(iv.get("type"))


def runs_table(rows: list[Any], width: int | None = None) -> Table:
    """`simqa runs list`: one row per run, within 80 columns; long cells wrap between words, never cut."""
    table = Table(show_header=True, header_style="bold", width=width, pad_edge=False, box=box.SIMPLE_HEAD)
    table.add_column("run id", no_wrap=True)
    table.add_column("model", no_wrap=True)
    table.add_column("created", no_wrap=True)
    table.add_column("scenario", overflow="fold", ratio=1)
    for row in rows:
        get = row.get if isinstance(row, dict) else lambda k, r=row: getattr(r, k, "")
        created = str(get("created_at")).replace("T", " ")[:16]
        cells = (str(get("run_id")), str(get("model")), created, _scenario_cell(get("label"), get("scenario")))
        table.add_row(*(Text(cell) for cell in cells))
    return table


def _scenario_cell(label: Any, scenario: Any) -> str:
    """The label, the parameters that differ from the defaults, and the interventions."""
    from simqa.compose import format_param

    parts = [str(label)]
    if isinstance(scenario, dict) and scenario.get("model"):
        from sim.registry import get_model

        try:
            fields = get_model(scenario["model"]).params.model_fields
        except Exception:  # a run of a plugin that is no longer installed still lists
            fields = {}
        changed = [
            f"{k} {format_param(v)}"
            for k, v in scenario.get("params", {}).items()
            if k not in fields or fields[k].default != v
        ]
        parts.append(", ".join(changed) if changed else "defaults")
        parts += [str(iv.get("type")) for iv in scenario.get("interventions", [])]
    return "; ".join(parts)
