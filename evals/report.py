"""Reports of an eval run: a terminal summary (rich) and a self-contained HTML page.

The HTML page has no external references: styles are inline and the plots (accuracy by kind,
latency distribution) are PNGs drawn with matplotlib's Agg backend and embedded as base64.
"""

from __future__ import annotations

import base64
import html
import io
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from evals.runner import CaseResult, EvalLog

_SUMMARY_COLUMNS = (
    "runs",
    "errors",
    "case_correct",
    "kind_accuracy",
    "model_accuracy",
    "answer_correctness",
    "grounding",
)
# By tag there are many rows: the columns that say whether that kind of question is read right.
_TAG_COLUMNS = ("runs", "errors", "case_correct", "kind_accuracy", "answer_correctness")
_HEADLINE = (
    "case_correct",
    "kind_accuracy",
    "model_accuracy",
    "params_precision",
    "params_recall",
    "interventions_precision",
    "interventions_recall",
    "sweep_match",
    "calibrate_match",
    "answer_correctness",
    "grounding",
    "citations_correct",
    "mentions_present",
    "refuse_precision",
    "refuse_recall",
    "clarify_precision",
    "clarify_recall",
    "consistency",
    "retrieval_recall_at_k",
    "retrieval_mrr",
)


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


# --- terminal ----------------------------------------------------------------------------------------


def print_summary(log: EvalLog, console: Console | None = None) -> None:
    """Headline metrics, then one table per kind, model, case file and tag, and the skipped cases."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    head = Table(title=f"simqa eval: {log.metrics.get('cases', 0)} cases, {log.metrics.get('runs', 0)} runs")
    head.add_column("metric")
    head.add_column("value", justify="right")
    for name in _HEADLINE:
        if name in log.metrics:
            head.add_row(name, fmt(log.metrics[name]))
    for stage in ("total", *sorted(s for s in log.latency_ms if s != "total")):
        if stage in log.latency_ms:
            row = log.latency_ms[stage]
            head.add_row(f"latency {stage} p50 / p95 ms", f"{fmt(row.get('p50'))} / {fmt(row.get('p95'))}")
    if log.usage:
        head.add_row(
            "tokens prompt / completion",
            f"{log.usage.get('prompt_tokens', 0)} / {log.usage.get('completion_tokens', 0)}",
        )
        if log.usage.get("cost") is not None:
            head.add_row("cost", f"{log.usage['cost']:.4f}")
    console.print(head)
    for title, group_name, groups, columns in (
        ("by kind", "kind", log.by_kind, _SUMMARY_COLUMNS),
        ("by model", "model", log.by_model, _SUMMARY_COLUMNS),
        ("by case file", "file", log.by_file, _SUMMARY_COLUMNS),
        ("by tag", "tag", log.by_tag, _TAG_COLUMNS),
    ):
        if not groups:
            continue
        table = Table(title=title)
        table.add_column(group_name, no_wrap=True, min_width=min(40, max(len(g) for g in groups)))
        for column in columns:
            table.add_column(column, justify="right")
        for group, row in groups.items():
            table.add_row(group, *(fmt(row.get(c)) for c in columns))
        console.print(table)
    if log.skipped:
        reasons = "; ".join(sorted(set(log.skipped.values())))
        console.print(f"skipped {len(log.skipped)} cases ({reasons}): {', '.join(sorted(log.skipped))}")
    if "skipped" in log.retrieval:
        console.print(f"retrieval: {log.retrieval['skipped']}")
    elif log.retrieval:
        console.print(
            "retrieval: "
            + ", ".join(f"{k} {fmt(v)}" for k, v in log.retrieval.items() if not isinstance(v, dict | list))
        )


# --- plots ---------------------------------------------------------------------------------------------


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def accuracy_plot(log: EvalLog) -> str | None:
    """Base64 PNG: case_correct and kind_accuracy per kind."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    kinds = list(log.by_kind)
    if not kinds:
        return None
    fig = Figure(figsize=(7, 3.2))
    ax = fig.add_subplot()
    width = 0.4
    xs = range(len(kinds))
    for offset, name in ((-width / 2, "case_correct"), (width / 2, "kind_accuracy")):
        values = [log.by_kind[k].get(name) or 0.0 for k in kinds]
        ax.bar([x + offset for x in xs], values, width=width, label=name)
    ax.set_xticks(list(xs), kinds)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of runs")
    ax.set_title("Accuracy by kind")
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def latency_plot(log: EvalLog) -> str | None:
    """Base64 PNG: distribution of latency per stage (box plots, ms, log scale when it spans decades)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    stages: dict[str, list[float]] = {}
    for r in log.results:
        timings = (r.answer or {}).get("timings_ms") or {}
        for stage, ms in timings.items():
            stages.setdefault(stage, []).append(float(ms))
        if timings:
            stages.setdefault("total", []).append(float(sum(timings.values())))
    if not stages:
        stages = {"wall": [r.wall_ms for r in log.results]} if log.results else {}
    if not stages:
        return None
    fig = Figure(figsize=(7, 3.2))
    ax = fig.add_subplot()
    names = list(stages)
    ax.boxplot([stages[n] for n in names], tick_labels=names, showfliers=True)
    values = [v for vs in stages.values() for v in vs if v > 0]
    if values and max(values) / max(min(values), 1e-3) > 100:
        ax.set_yscale("log")
    ax.set_ylabel("ms")
    ax.set_title("Latency by stage")
    return _png(fig)


# --- html ------------------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em;color:#222;max-width:1400px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.fail{background:#fff3f3}.pass{background:#f3fff3}pre{white-space:pre-wrap;font-size:.8em;margin:0}
.side{display:grid;grid-template-columns:1fr 1fr;gap:1em}.side>div{border:1px solid #ddd;padding:.5em}
.case{border:1px solid #e2c2c2;margin:1em 0;padding:.6em;border-radius:4px}.muted{color:#777}
img{max-width:100%}
"""

_CHECK_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img');
  var ok = 0;
  imgs.forEach(function (img) { if (img.complete && img.naturalWidth > 0) { ok += 1; } });
  var el = document.getElementById('render-check');
  el.textContent = 'rendered: ' + ok + ' of ' + imgs.length + ' plots';
  el.setAttribute('data-plots-ok', String(ok));
});
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(headers: list[str], rows: list[list[Any]], table_id: str = "") -> str:
    attr = f" id='{_e(table_id)}'" if table_id else ""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(fmt(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _expected_view(result: CaseResult) -> dict[str, Any]:
    exp = result.expected
    keys = ("kind", "accept_kinds", "model", "scenarios", "sweep", "calibrate", "cite", "mentions", "labels")
    return {k: exp[k] for k in keys if exp.get(k) not in (None, [], {})}


def _actual_view(result: CaseResult) -> dict[str, Any]:
    if result.answer is None:
        return {"error": result.error}
    ans = result.answer
    view: dict[str, Any] = {"kind": ans.get("kind"), "model": ans.get("model")}
    view["scenarios"] = [
        {"label": s.get("label"), "params": s.get("params"), "interventions": s.get("interventions")}
        for s in ans.get("scenarios", [])
    ]
    for key in ("sweep", "calibrate"):
        if ans.get(key):
            view[key] = ans[key]
    if ans.get("results"):
        view["results"] = {r["label"]: r["metrics"] for r in ans["results"]}
    if ans.get("citations"):
        view["citations"] = [c.get("source") for c in ans["citations"]]
    view["text"] = ans.get("text")
    return view


def _failure_block(result: CaseResult) -> str:
    failed = [s for s in result.scores if s.value is not None and s.value < 1.0]
    reasons = "".join(f"<li><b>{_e(s.name)}</b>: {_e(s.explanation)}</li>" for s in failed)
    turns = "".join(f"<li class='muted'>{_e(t)}</li>" for t in result.turns)
    repeat = f" (repeat {result.repeat})" if result.repeat else ""
    return (
        f"<div class='case' id='case-{_e(result.case_id)}-{result.repeat}'>"
        f"<b>{_e(result.case_id)}</b>{_e(repeat)} <span class='muted'>{_e(result.case_file)}</span>"
        + (f"<ol>{turns}</ol>" if turns else "")
        + f"<p>{_e(result.question)}</p>"
        + (f"<p class='fail'>error: {_e(result.error)}</p>" if result.error else "")
        + f"<ul>{reasons}</ul>"
        + "<div class='side'>"
        + f"<div><b>expected</b><pre>{_e(json.dumps(_expected_view(result), indent=1))}</pre></div>"
        + f"<div><b>actual</b><pre>{_e(json.dumps(_actual_view(result), indent=1, default=str))}</pre></div>"
        + "</div></div>"
    )


def html_report(log: EvalLog) -> str:
    """The whole report as one HTML string; it references nothing outside itself."""
    metrics = log.metrics
    headline = [[name, metrics[name]] for name in _HEADLINE if name in metrics]
    latency_rows = [[stage, row.get("p50"), row.get("p95"), row.get("n")] for stage, row in log.latency_ms.items()]
    group_headers = ["group", *_SUMMARY_COLUMNS]
    kind_rows = [[k, *(row.get(c) for c in _SUMMARY_COLUMNS)] for k, row in log.by_kind.items()]
    model_rows = [[k, *(row.get(c) for c in _SUMMARY_COLUMNS)] for k, row in log.by_model.items()]
    file_rows = [[k, *(row.get(c) for c in _SUMMARY_COLUMNS)] for k, row in log.by_file.items()]
    tag_rows = [[k, *(row.get(c) for c in _TAG_COLUMNS)] for k, row in log.by_tag.items()]
    skipped_rows = [[case_id, why] for case_id, why in sorted(log.skipped.items())]
    plots = []
    for title, image in (("accuracy by kind", accuracy_plot(log)), ("latency", latency_plot(log))):
        if image:
            plots.append(f"<figure><img alt='{_e(title)}' src='data:image/png;base64,{image}'></figure>")
    failures = log.failures()
    usage = log.usage or {}
    usage_rows = [[k, v] for k, v in usage.items() if not isinstance(v, list | dict)]
    retrieval_rows = [[k, v] for k, v in log.retrieval.items() if not isinstance(v, list | dict)]
    config = log.config.model_dump()
    correct = metrics.get("case_correct")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>simqa eval report {_e(log.created_at)}</title><style>{_CSS}</style></head><body>",
        f"<h1>simqa eval report</h1><p class='muted'>log version {log.version}, {_e(log.created_at)}, "
        f"translator {_e(config.get('translator') or '?')}, {log.wall_s:.1f} s</p>",
        "<section id='summary'><h2>Summary</h2>",
        f"<p id='headline'>{_e(metrics.get('cases', 0))} cases, {_e(metrics.get('runs', 0))} runs, "
        f"{_e(metrics.get('errors', 0))} errors; case correct: <b id='case-correct'>{_e(fmt(correct))}</b></p>",
        _table(["metric", "value"], headline, "metrics"),
        "<p id='render-check' class='muted'>rendered: waiting for load</p>",
        "</section>",
        "<section id='by-kind'><h2>By kind</h2>",
        _table(group_headers, kind_rows, "kind-table"),
        "</section><section id='by-model'><h2>By model</h2>",
        _table(group_headers, model_rows, "model-table"),
        "</section><section id='by-file'><h2>By case file</h2>",
        _table(["case file", *_SUMMARY_COLUMNS], file_rows, "file-table"),
        "</section><section id='by-tag'><h2>By tag</h2>",
        _table(["tag", *_TAG_COLUMNS], tag_rows, "tag-table"),
        *(
            [f"<h2>Skipped ({len(skipped_rows)})</h2>", _table(["case", "why"], skipped_rows, "skipped-table")]
            if skipped_rows
            else []
        ),
        "</section><section id='plots'><h2>Plots</h2>",
        *plots,
        "</section><section id='latency'><h2>Latency (ms)</h2>",
        _table(["stage", "p50", "p95", "n"], latency_rows, "latency-table"),
        "<h2>Tokens and cost</h2>",
        _table(["item", "value"], usage_rows, "usage-table"),
        "<h2>Retrieval</h2>",
        _table(["metric", "value"], retrieval_rows, "retrieval-table") if retrieval_rows else "<p>none</p>",
        "</section>",
        f"<section id='failures'><h2>Failures ({len(failures)})</h2>",
        *(_failure_block(r) for r in failures),
        "</section>",
        "<section id='config'><h2>Configuration</h2>",
        f"<pre>{_e(json.dumps(config, indent=1))}</pre></section>",
        f"<script>{_CHECK_SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts)
