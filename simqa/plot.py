"""Plots of what people would rather see than read: a PNG per answer, and a terminal sparkline.

simulate / compare: the key series over time, one line per scenario. sweep: the same, beside the
headline metric against the swept value. calibrate: the key series of the run at the answer, beside
the search (the metric at every value tried, the target, and the answer). fit: the data against the
fitted model, and the forecast band of the fitted model run on (two panels per observed column).
Terminal sparklines of one answer share one scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.result import Result

if TYPE_CHECKING:
    from simqa.answer import Answer

KEY_SERIES = ("n_infectious", "queue_length", "new_trips", "new_infections")
_BLOCKS = "▁▂▃▄▅▆▇█"
MAX_LINES = 12


def key_series(result: Result) -> str | None:
    for name in KEY_SERIES:
        if name in result.series:
            return name
    return next(iter(result.series), None)


def value_range(series: Sequence[Sequence[float]]) -> tuple[float, float]:
    """The lowest and highest value over several series: the one scale of a table of sparklines."""
    values = [v for s in series for v in s]
    return (min(values), max(values)) if values else (0.0, 1.0)


def sparkline(values: Sequence[float], width: int = 60, lo: float | None = None, hi: float | None = None) -> str:
    """A one-line chart of `values` resampled to `width` characters (the maximum of each bin).

    lo / hi: the scale, shared by the rows of one table so that their heights compare (default:
    the series' own range).
    """
    if not values:
        return ""
    n = len(values)
    step = max(1, -(-n // width))
    points = [max(values[i : i + step]) for i in range(0, n, step)]
    lo = min(points) if lo is None else lo
    hi = max(points) if hi is None else hi
    span = hi - lo or 1.0
    top = len(_BLOCKS) - 1
    return "".join(_BLOCKS[max(0, min(top, int((v - lo) / span * top + 0.5)))] for v in points)


def _series_axis(ax: Any, results: Sequence[Result]) -> None:
    name = key_series(results[0])
    if name is None:
        return
    for res in results[:MAX_LINES]:
        series = res.series.get(name)
        if series:
            ax.plot(range(len(series)), series, label=res.label, linewidth=1.6)
    ax.set_xlabel(results[0].time_unit)
    ax.set_ylabel(name.replace("_", " "))
    ax.grid(alpha=0.3)
    if len(results) > 1:
        ax.legend(fontsize=8)


def param_value(result: Result, param: str) -> float:
    """The value of a model parameter, or of an intervention field (`type.field`)."""
    from sim.target import Target

    value = Target.parse(param, result.scenario.model).value_in(result.scenario)
    return math.nan if value is None else value


def save_plot(answer: Answer, path: Path) -> Path | None:
    """Write the answer's plot to `path` (PNG); None when the answer ran nothing to plot."""
    results = answer.full_results
    if not results or key_series(results[0]) is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from simqa.compose import headline_metrics

    model = answer.model or results[0].scenario.model
    if answer.kind == "fit" and answer.fit_run is not None:
        fig = _fit_figure(plt, answer.fit_run)
    elif answer.kind == "calibrate" and answer.calibrate is not None and answer.calibration is not None:
        cal = answer.calibrate
        fig, (left, ax) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=110)
        value = answer.calibration.value
        at_answer = min(results, key=lambda r: abs(param_value(r, cal.param) - value))
        _series_axis(left, [at_answer])
        left.set_title(f"the answer: {at_answer.label}", fontsize=10)
        points = sorted((param_value(r, cal.param), r.scalar(cal.metric)) for r in results)
        ax.plot([p[0] for p in points], [p[1] for p in points], "o-", color="0.5", label="runs of the search")
        ax.axhline(cal.target, color="tab:red", linestyle="--", label=f"target ({cal.relation} {cal.target:g})")
        ax.plot([answer.calibration.value], [answer.calibration.achieved], "o", color="tab:blue", ms=10, label="answer")
        for values, set_scale in (([p[0] for p in points], ax.set_xscale), ([p[1] for p in points], ax.set_yscale)):
            if min(values) > 0 and max(values) / min(values) > 50:  # a search over orders of magnitude
                set_scale("log")
        ax.set_xlabel(cal.param)
        ax.set_ylabel(cal.metric.replace("_", " "))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title("the search", fontsize=10)
        fig.suptitle(f"{model}: calibrating {cal.param}")
    elif answer.kind == "sweep" and answer.sweep is not None:
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=110)
        _series_axis(left, results)
        metric = headline_metrics(model)[0]
        values = [r.scalar(metric) for r in results]
        right.plot(answer.sweep.values[: len(values)], values, "o-")
        right.set_xlabel(answer.sweep.param)
        right.set_ylabel(metric.replace("_", " "))
        right.grid(alpha=0.3)
        fig.suptitle(f"{model}: sweep of {answer.sweep.param}")
    else:
        fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
        _series_axis(ax, results)
        ax.set_title(f"{model}: {answer.kind}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _fit_figure(plt: Any, fit_run: Any) -> Any:
    """Per observed column, two panels: the data against the model at the estimate (with the model's
    own 95% range for a stochastic model), and the forecast band (95% of runs under the parameters'
    uncertainty) beside the data over the whole horizon."""
    outcome, forecast, data = fit_run.outcome, fit_run.forecast, fit_run.plan.data
    names = outcome.columns
    fig, axes = plt.subplots(len(names), 2, figsize=(12, 3.8 * len(names)), dpi=110, squeeze=False)
    steps = list(forecast.steps)
    days = [int(i) for i in data.index]
    unit = forecast.horizon_param[:-1] if forecast.horizon_param.endswith("s") else "step"
    for row, name in enumerate(names):
        near, far = axes[row]
        band = forecast.band.get(name)
        for ax, window in ((near, True), (far, False)):
            if band:
                keep = [i for i, step in enumerate(steps) if not window or step <= data.last]
                xs = [steps[i] for i in keep]
                ax.fill_between(
                    xs,
                    [band["lower"][i] for i in keep],
                    [band["upper"][i] for i in keep],
                    color="tab:blue",
                    alpha=0.18,
                    label="fitted model, 95% band",
                )
            if window and name in outcome.fitted_range:
                low, high = outcome.fitted_range[name]
                ax.fill_between(days, low, high, color="tab:orange", alpha=0.2, label="model's own 95% range")
            if name in outcome.fitted:
                ax.plot(days, outcome.fitted[name], color="tab:orange", linewidth=1.8, label="at the estimate")
            ax.plot(days, data.columns[name], "o", color="black", ms=3, label=f"data ({data.source})")
            ax.grid(alpha=0.3)
            ax.set_xlabel(unit)
        near.set_ylabel(name.replace("_", " "))
        near.set_title("data and fit", fontsize=9)
        far.set_title(f"forecast over {forecast.horizon} {forecast.horizon_param}", fontsize=9)
        far.axvline(data.last, color="0.6", linewidth=0.8)
        near.legend(fontsize=8)
    fitted = ", ".join(
        f"{e.name} {e.value:.3g}"
        + (f" [{e.lower:.3g}, {e.upper:.3g}]" if e.lower is not None and e.upper is not None else "")
        for e in outcome.estimates
    )
    fig.suptitle(f"{outcome.model} fitted to {data.source}: {fitted} (95% intervals)", fontsize=10)
    return fig
