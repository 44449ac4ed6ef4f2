"""Plots of what people would rather see than read: a PNG of the key series, and a terminal sparkline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.result import Result

KEY_SERIES = ("n_infectious", "queue_length", "new_trips", "new_infections")
_BLOCKS = "▁▂▃▄▅▆▇█"


def key_series(result: Result) -> str | None:
    for name in KEY_SERIES:
        if name in result.series:
            return name
    return next(iter(result.series), None)


def sparkline(values: Sequence[float], width: int = 60) -> str:
    """A one-line chart of `values` resampled to `width` characters."""
    if not values:
        return ""
    n = len(values)
    step = max(1, -(-n // width))
    points = [max(values[i : i + step]) for i in range(0, n, step)]
    lo, hi = min(points), max(points)
    span = hi - lo or 1.0
    return "".join(_BLOCKS[min(len(_BLOCKS) - 1, int((v - lo) / span * (len(_BLOCKS) - 1) + 0.5))] for v in points)


def save_plot(results: Sequence[Result], path: Path, title: str = "") -> Path | None:
    """One line per result for its key series; for a sweep of many values, every result on one axis."""
    if not results:
        return None
    name = key_series(results[0])
    if name is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    for res in results[:12]:
        series = res.series.get(name)
        if series:
            ax.plot(range(len(series)), series, label=res.label, linewidth=1.6)
    ax.set_xlabel(results[0].time_unit)
    ax.set_ylabel(name.replace("_", " "))
    ax.set_title(title or f"{results[0].scenario.model}: {name.replace('_', ' ')}")
    ax.grid(alpha=0.3)
    if len(results) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
