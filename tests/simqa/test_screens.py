"""What fits a screen: sparklines on one scale, calibrations showing the answer and the search,
`runs list` in 80 columns, `runs show` in a screen, `--version`, `--json --plot PATH`, stable orders."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

import simqa
from simqa import Assistant
from simqa.cli import main
from simqa.plot import sparkline
from simqa.render import render_answer, runs_table, sparkline_rows

BLOCKS = "▁▂▃▄▅▆▇█"
SCHOOLS = "If we close schools for 4 weeks from day 30 in a town of 10,000, how much lower is the peak?"


def _printed(renderable: object, width: int = 80) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, highlight=False, color_system=None).print(renderable)
    return out.getvalue().splitlines()


def test_a_sparkline_on_a_shared_scale_keeps_its_height() -> None:
    assert sparkline([0, 14], 2) == "▁█"  # alone, a queue of 14 reaches the top
    assert sparkline([0, 14], 2, lo=0, hi=170) == "▁▂"  # beside a queue of 170 it does not
    assert sparkline([0, 170], 2, lo=0, hi=170) == "▁█"


def test_the_sparklines_of_one_answer_share_one_scale() -> None:
    answer = Assistant(translator="offline").ask(SCHOOLS)
    assert answer.kind == "compare" and len(answer.full_results) == 2
    rows = [row.plain for row in sparkline_rows(answer)]
    peaks = [max(r.series["n_infectious"]) for r in answer.full_results]
    lows = [min(r.series["n_infectious"]) for r in answer.full_results]
    lo, hi = min(lows), max(peaks)
    for row, peak in zip(rows, peaks, strict=True):
        bars = "".join(ch for ch in row if ch in BLOCKS)
        tallest = max(BLOCKS.index(ch) for ch in bars)
        assert tallest == int((peak - lo) / (hi - lo) * 7 + 0.5)  # its own peak against the shared top
    assert sum("█" in row for row in rows) == 1  # only the higher epidemic reaches the top


def test_a_calibration_shows_the_run_at_the_answer_and_the_search() -> None:
    answer = Assistant(translator="offline").ask("What R0 gives an attack rate of 50%?")
    assert answer.kind == "calibrate" and answer.calibration is not None
    rows = [row.plain for row in sparkline_rows(answer)]
    at = min(answer.full_results, key=lambda r: abs(r.scenario.params["r0"] - answer.calibration.value))
    assert rows[0].strip().startswith(f"answer {at.label} n_infectious")
    search = rows[1]
    assert search.strip().startswith("search attack_rate")
    assert sum(ch in BLOCKS for ch in search) == len(answer.full_results)  # one bar per run of the search
    assert "target eq 50.0%" in rows[2] and "by r0" in rows[2]


def test_runs_list_fits_80_columns_and_cuts_no_word(capsys: pytest.CaptureFixture[str]) -> None:
    Assistant(translator="offline").ask(
        "what if 90 couriers handle 150 orders per hour with 25 minutes of preparation?"
    )
    Assistant(translator="offline").ask(SCHOOLS)
    from rag.runstore import RunStore

    lines = _printed(runs_table(RunStore().list()))
    assert lines and all(len(line) <= 80 for line in lines)
    text = " ".join(lines)
    for word in ("orders_per_hour 150", "prep_minutes 25", "couriers 90", "school_closure", "population 10,000"):
        assert word in text, f"{word!r} cut or missing in:\n" + "\n".join(lines)


def test_runs_show_of_a_seir_run_fits_60_lines(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    answer = Assistant(translator="offline").ask("What if R0 is 3 in a town of 50,000?")
    run_id = answer.results[0].run_id
    assert main(["runs", "show", run_id[:8]]) == 0
    summary = capsys.readouterr().out.splitlines()
    assert len(summary) <= 60 and all(len(line) <= 80 for line in summary)
    assert run_id in summary[0] and any("peak_infected" in line for line in summary)
    assert main(["runs", "show", run_id, "--series"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert len(full["series"]["n_infectious"]) == full["scenario"]["params"]["days"] + 1
    assert main(["runs", "show", run_id, "--json"]) == 0
    assert "series" not in json.loads(capsys.readouterr().out)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"simqa {simqa.__version__}"


def test_json_can_save_the_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "peak.png"
    assert main(["ask", "--translator", "offline", "--json", "--plot", str(target), SCHOOLS]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["plot"] == str(target) and target.stat().st_size > 5000
    assert main(["ask", "--translator", "offline", "--json", "--plot", str(tmp_path / "p.svg"), SCHOOLS]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ".png" in err[0]


def test_a_cached_answer_prints_its_breakdown_in_the_models_order() -> None:
    question = "what are the infections by age group in the agent-based model with 20000 people?"
    fresh = Assistant(translator="offline").ask(question)
    cached = Assistant(translator="offline").ask(question)
    assert fresh.results[0].run_id == cached.results[0].run_id
    model_order = list(fresh.full_results[0].metrics["infections_by_age"])  # type: ignore[arg-type]
    assert list(cached.results[0].metrics["infections_by_age"]) == model_order  # type: ignore[arg-type]
    assert cached.text == fresh.text


def test_answer_text_is_printed_as_written_not_as_markup() -> None:
    answer = Assistant(translator="offline").ask("How do I run simqa on a dask cluster?")
    lines = _printed_answer(answer)
    assert 'pip install "simqa[dask]"' in "\n".join(lines)


def _printed_answer(answer: object) -> list[str]:
    out = io.StringIO()
    render_answer(Console(file=out, width=100, highlight=False, color_system=None), answer)  # type: ignore[arg-type]
    return [re.sub(r"[│╭╮╰╯─]", "", line).strip() for line in out.getvalue().splitlines()]
