"""The run store broken every way a disk can break it: every run an answer cites can be shown, a
repair says truthfully what it kept and what was lost, a missing series file means a rerun, and a
store that cannot be used is one line (exit 3), never a traceback."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

import sim
from rag.runstore import RunStore
from sim.experiments import SweepSpec, sweep
from simqa import Assistant
from simqa.request import Request

from .conftest import home, make_read_only

SWEEP = "attack rate for R0 from 1.5 to 3 in steps of 0.5 in a town of 20,000"


def _ask_json(cli, question: str) -> dict:
    result = cli("ask", "--translator", "offline", "--json", question)
    assert result.code == 0, result.err
    return json.loads(result.out)


def _cited(answer: dict) -> list[str]:
    ids = [r["run_id"] for r in answer["results"]]
    ids += [c["run_id"] for c in answer["citations"] if c.get("run_id")]
    return ids


def test_every_run_a_single_replicate_seir_sweep_cites_can_be_shown(cli) -> None:
    # The seir sweep's vectorised path used to skip the store: `runs show` found none of its runs.
    answer = _ask_json(cli, SWEEP)
    assert answer["kind"] == "sweep" and answer["model"] == "seir" and len(answer["results"]) == 4
    for run_id in _cited(answer):
        shown = cli("runs", "show", run_id, "--series")
        assert shown.code == 0, shown.err
        stored = json.loads(shown.out)
        assert stored["run_id"] == run_id
        result = next(r for r in answer["results"] if r["run_id"] == run_id)
        assert stored["metrics"] == result["metrics"]  # the numbers the answer gave, not a rerun's
    # Asked again, the sweep is served from the store.
    again = Assistant(translator="offline").ask(SWEEP)
    assert all(r.meta.cached for r in again.full_results)


def test_every_kind_of_answer_cites_only_runs_that_can_be_shown() -> None:
    assistant = Assistant(translator="offline")
    store = RunStore()
    for request in (
        {"kind": "simulate", "scenarios": [{"model": "seir", "params": {"r0": 2.2, "population": 9000}}]},
        {
            "kind": "compare",
            "scenarios": [
                {"model": "seir", "params": {"population": 9000}},
                {
                    "label": "distancing",
                    "model": "seir",
                    "params": {"population": 9000},
                    "interventions": [{"type": "contact_reduction", "effectiveness": 0.3}],
                },
            ],
        },
        {
            "kind": "sweep",
            "scenarios": [{"model": "seir", "params": {"population": 9000}}],
            "sweep": {"param": "r0", "values": [1.2, 1.9]},
        },
        {
            "kind": "sweep",
            "scenarios": [{"model": "seir", "params": {"population": 9000}}],
            "sweep": {"param": "contact_reduction.effectiveness", "values": [0.1, 0.4]},
        },
        {
            "kind": "calibrate",
            "scenarios": [{"model": "seir", "params": {"population": 9000}}],
            "calibrate": {"param": "r0", "metric": "attack_rate", "target": 0.5, "lower": 1.1, "upper": 3},
        },
    ):
        outcome = assistant._run(Request.model_validate(request), None)
        assert outcome.results
        for result in outcome.results:
            shown = store.show(result.run_id)
            assert shown is not None, (request["kind"], result.label)
            assert shown.metrics == result.metrics


def test_sweep_without_a_store_still_runs() -> None:
    results = sweep({"model": "seir", "params": {"population": 5000}}, SweepSpec(param="r0", values=[1.5, 2.5]))
    assert [r.label for r in results] == ["r0=1.5", "r0=2.5"]
    assert not RunStore.exists()


def test_runs_sqlite_as_a_folder_is_one_line_exit_3(cli) -> None:
    (home() / "runs.sqlite").mkdir(parents=True)
    cli("ask", "--translator", "offline", "What is the peak with R0 3?").one_line_error(3, "is a folder", "runs.sqlite")
    cli("runs", "list").one_line_error(3, "is a folder")
    cli("runs", "show", "abc").one_line_error(3, "is a folder")
    # The repair moves the folder aside (never deletes it) and says nothing could be counted.
    repaired = cli("runs", "repair")
    assert repaired.code == 0, repaired.err
    assert "kept 0 runs" in repaired.out and "could not be read in full" in repaired.out
    (aside,) = home().glob("runs.sqlite.damaged-*")
    assert aside.is_dir()
    assert cli("runs", "list").code == 0


def test_a_read_only_home_is_one_line_exit_3_and_reads_still_work(cli) -> None:
    answer = _ask_json(cli, "R0 2.4 in a town of 30,000: what is the peak?")
    run_id = answer["results"][0]["run_id"]
    with pytest.MonkeyPatch.context() as patch:
        make_read_only(patch)
        # What needs a write fails in one line that names the fix ...
        cli("ask", "--translator", "offline", "R0 3.3 in a town of 30,000: what is the peak?").one_line_error(
            3, "SIMQA_HOME"
        )
        # ... what only reads goes on: the run already stored is shown, and asked again is served.
        shown = cli("runs", "show", run_id, "--series")
        assert shown.code == 0, shown.err
        assert json.loads(shown.out)["run_id"] == run_id
        listed = cli("runs", "list")
        assert listed.code == 0 and run_id in listed.out
        again = cli("ask", "--translator", "offline", "--json", "R0 2.4 in a town of 30,000: what is the peak?")
        assert again.code == 0, again.err
        assert json.loads(again.out)["results"][0]["run_id"] == run_id


def test_a_home_that_cannot_be_created_is_one_line_exit_3(cli, tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("SIMQA_HOME", str(blocker / "home"))
    for args in (("ask", "--translator", "offline", "What is the peak with R0 3?"), ("runs", "list"), ("index",)):
        cli(*args).one_line_error(3, "SIMQA_HOME")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file modes; the injected read-only home covers it")
def test_a_home_without_write_permission_is_one_line_exit_3(cli) -> None:
    _ask_json(cli, "R0 2.4 in a town of 30,000: what is the peak?")
    RunStore().close()
    folders = [home(), *[p for p in home().rglob("*") if p.is_dir()]]
    for folder in folders:
        folder.chmod(0o555)
    try:
        cli("ask", "--translator", "offline", "R0 3.3 in a town of 30,000: what is the peak?").one_line_error(3)
    finally:
        for folder in folders:
            folder.chmod(0o755)


def _six_runs() -> list[str]:
    store = RunStore()
    ids = []
    for r0 in (1.4, 1.8, 2.2, 2.6, 3.0, 3.4):
        result = sim.run({"model": "seir", "params": {"r0": r0, "population": 8000}})
        store.put(result)
        ids.append(result.run_id)
    db = sqlite3.connect(store.path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    store.close()
    return ids


def test_repair_of_a_store_cut_in_half_says_runs_were_lost(cli) -> None:
    _six_runs()
    path = home() / "runs.sqlite"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    cli("runs", "list").one_line_error(3, "damaged", "simqa runs repair")
    repaired = cli("runs", "repair")
    assert repaired.code == 0, repaired.err
    report = repaired.out
    # It used to say "kept 0 runs, dropped 0" as if nothing had been lost.
    kept = int(report.split("kept ")[1].split(" ")[0])
    dropped = int(report.split("dropped ")[1].split(";")[0].split(" ")[0])
    assert kept + dropped <= 6
    if kept + dropped < 6:
        assert "could not be read in full" in report and "series files belong to no kept run" in report
        orphans = int(report.split("more runs may be lost: ")[1].split(" ")[0])
        assert orphans >= 6 - kept
    assert "moved to" in report
    assert cli("runs", "repair").out.startswith("the run store is healthy")


def test_repair_of_an_emptied_store_is_not_healthy(cli) -> None:
    _six_runs()
    path = home() / "runs.sqlite"
    path.write_bytes(b"")
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    report = cli("runs", "repair").out
    assert not report.startswith("the run store is healthy"), report
    assert "empty (0 bytes)" in report and "kept 0 runs" in report
    assert "6 series files belong to no kept run" in report
    (aside,) = home().glob("runs.sqlite.damaged-*")
    assert aside.stat().st_size == 0  # moved aside as it was found


def test_repair_counts_every_row_it_drops() -> None:
    ids = _six_runs()
    db = sqlite3.connect(home() / "runs.sqlite")
    db.execute("UPDATE runs SET metrics_json = '{}' WHERE run_id IN (?, ?)", (ids[0], ids[3]))
    db.commit()
    db.close()
    report = RunStore().repair()
    assert (report.kept, report.dropped, report.complete) == (4, 2, True)
    assert "kept 4 runs, dropped 2" in str(report)


def test_a_missing_series_file_means_a_rerun(cli) -> None:
    question = "R0 2.7 in a town of 12,000: what is the peak?"
    first = _ask_json(cli, question)
    for series_file in (home() / "series").rglob("*.npz"):
        series_file.unlink()
    # It used to fail this question until a repair; it runs again and puts the file back.
    again = _ask_json(cli, question)
    assert again["results"][0]["run_id"] == first["results"][0]["run_id"]
    assert again["results"][0]["metrics"] == first["results"][0]["metrics"]
    assert list((home() / "series").rglob("*.npz"))
    assert RunStore().check() == []
    shown = cli("runs", "show", first["results"][0]["run_id"], "--series")
    assert shown.code == 0 and json.loads(shown.out)["series"]


def test_a_damaged_series_file_means_a_rerun(cli) -> None:
    question = "R0 2.9 in a town of 12,000: what is the peak?"
    first = _ask_json(cli, question)
    (series_file,) = (home() / "series").rglob("*.npz")
    series_file.write_bytes(b"garbage")
    again = _ask_json(cli, question)
    assert again["results"][0]["metrics"] == first["results"][0]["metrics"]
    assert series_file.with_name(series_file.name + ".damaged").read_bytes() == b"garbage"  # set aside, kept
    assert RunStore().check() == []


def test_a_garbage_store_is_one_line_exit_3_until_repaired(cli) -> None:
    _six_runs()
    path = home() / "runs.sqlite"
    path.write_bytes(os.urandom(40_000))
    cli("ask", "--translator", "offline", "What is the peak with R0 3?").one_line_error(
        3, "damaged", "simqa runs repair"
    )
    repaired = cli("runs", "repair")
    assert "kept 0 runs" in repaired.out and "could not be read in full" in repaired.out
    assert _ask_json(cli, "What is the peak with R0 3?")["results"]
