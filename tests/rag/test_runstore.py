from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from rag.errors import StoreError
from rag.migrations import MIGRATIONS
from rag.runstore import RunStore, canonical_json
from sim.result import Result, RunMeta
from sim.scenario import Scenario


def make_result(i: int, interventions: list[dict[str, Any]] | None = None, model: str = "abm") -> Result:
    """A result built directly (no model runs): its run id is the hash of its canonical scenario."""
    scenario = Scenario(
        label=f"run {i}",
        model=model,
        params={"population": 1000 + i, "r0": 2.5, "days": 5, "replicates": 3, "seed": 7},
        interventions=interventions or [],  # type: ignore[arg-type]
    )
    result = Result(
        label=scenario.label,
        run_id="",
        scenario=scenario,
        metrics={
            "peak_infected": 100.0 + i,
            "attack_rate": 0.5,
            "infections_by_setting": {"school": 3.0, "household": 4.5},
        },
        ci={"peak_infected": (90.0 + i, 110.0 + i)},
        replicate_metrics={"peak_infected": [90.0 + i, 100.0 + i, 110.0 + i], "attack_rate": [0.5, 0.5, 0.5]},
        series={"n_infectious": [0.0, 1.5, float(i), 2.25, 1.0], "cum_infections": [0.0, 1.0, 2.0, 3.0, 4.0 + i]},
        notes=["a note"],
        meta=RunMeta(seed=7, replicates=3, wall_ms=12.5, created_at=f"2024-01-01T00:00:{i % 60:02d}+00:00"),
    )
    run_id = hashlib.sha256(canonical_json(result).encode()).hexdigest()[:16]
    return result.model_copy(update={"run_id": run_id})


def test_put_then_get_gives_the_same_result_marked_cached() -> None:
    store = RunStore()
    result = make_result(1, [{"type": "school_closure", "start_day": 30, "duration_days": 28}])
    assert store.get(result.run_id) is None
    assert store.put(result) is True
    assert store.put(result) is False  # same run id: stored once
    got = store.get(result.run_id)
    assert got is not None and got.meta.cached
    assert got.model_dump(exclude={"meta"}) == result.model_dump(exclude={"meta"})
    assert got.meta.model_dump(exclude={"cached"}) == result.meta.model_dump(exclude={"cached"})
    assert store.get(result.run_id, label="schools closed").label == "schools closed"  # type: ignore[union-attr]
    assert len(store) == 1


def test_run_id_matches_the_engines(monkeypatch: pytest.MonkeyPatch) -> None:
    import sim

    result = sim.run({"model": "seir", "params": {"days": 30}})
    assert hashlib.sha256(canonical_json(result).encode()).hexdigest()[:16] == result.run_id
    store = RunStore()
    store.put(result)
    cached = store.get(sim.prepare({"model": "seir", "params": {"days": 30}}).run_id())
    assert cached is not None and cached.metrics == result.metrics and cached.series == result.series


def test_schema_is_migrated_and_wal() -> None:
    store = RunStore()
    store.put(make_result(1))
    db = sqlite3.connect(store.path)
    names = [r[0] for r in db.execute("SELECT name FROM migrations ORDER BY name")]
    assert names == [m.__name__ for m in MIGRATIONS] == ["m001_create_runs", "m002_run_search"]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    row = db.execute("SELECT canonical_json, seed, engine_version, series_hash FROM runs").fetchone()
    assert '"population":1001' in row[0] and row[1] == 7 and row[2]
    assert (store.series_dir / row[3][:2] / f"{row[3]}.npz").is_file()
    db.close()
    RunStore(store.path)  # reopening applies nothing twice
    assert sqlite3.connect(store.path).execute("SELECT count(*) FROM migrations").fetchone()[0] == 2


def test_list_and_show() -> None:
    store = RunStore()
    for i in range(5):
        store.put(make_result(i, model="seir" if i % 2 else "abm"))
    listed = store.list(limit=3)
    assert [r.label for r in listed] == ["run 4", "run 3", "run 2"]
    assert {r.model for r in store.list(model="seir")} == {"seir"}
    assert len(store.list(model="seir")) == 2
    shown = store.show(listed[0].run_id[:6])
    assert shown is not None and shown.run_id == listed[0].run_id
    assert shown.series["cum_infections"][-1] == 8.0
    assert "population=1004" in shown.summary
    assert store.show("0000000000000000") is None and store.show("not-hex") is None


def _writer_code(path: Path, start: int, count: int) -> str:
    return (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
        "from tests.rag.test_runstore import make_result\n"
        "from rag.runstore import RunStore\n"
        f"store = RunStore({str(path)!r})\n"
        f"for i in range({start}, {start + count}):\n"
        "    store.put(make_result(i))\n"
    )


def test_concurrent_processes_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "runs.sqlite"
    procs = [
        subprocess.Popen([sys.executable, "-c", _writer_code(path, 1000 * w, 15)], stderr=subprocess.PIPE)
        for w in range(4)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    store = RunStore(path)
    assert len(store) == 60
    for w in range(4):
        for i in (1000 * w, 1000 * w + 14):
            assert store.get(make_result(i).run_id) is not None
    assert store.check() == []


def test_concurrent_threads_lose_nothing() -> None:
    store = RunStore()
    failures: list[BaseException] = []

    def write(start: int) -> None:
        try:
            for i in range(start, start + 25):
                store.put(make_result(i))
                store.put(make_result(i % 10))  # the same run from several threads
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(100 * t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert len(store) == 100 + 0  # 4 x 25 distinct; i % 10 repeats ids 0..9, already among t=0's
    assert store.check() == []


def test_garbage_file_is_a_store_error_with_a_repair_path() -> None:
    store = RunStore()
    store.put(make_result(1))
    store.close()
    store.path.write_bytes(b"this is not a database at all" * 200)
    for suffix in ("-wal", "-shm"):
        Path(str(store.path) + suffix).unlink(missing_ok=True)
    with pytest.raises(StoreError, match="simqa runs repair"):
        RunStore(store.path).get(make_result(1).run_id)
    report = RunStore(store.path).repair()
    assert not report.ok_before and report.kept == 0 and report.moved_aside
    assert Path(report.moved_aside).exists()
    fresh = RunStore(store.path)
    assert len(fresh) == 0 and fresh.put(make_result(1))


def test_tampered_row_is_never_served() -> None:
    store = RunStore()
    good, bad = make_result(1), make_result(2)
    store.put(good)
    store.put(bad)
    db = sqlite3.connect(store.path)
    db.execute("UPDATE runs SET metrics_json = replace(metrics_json, '102.0', '999.0') WHERE run_id = ?", (bad.run_id,))
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="checksum"):
        store.get(bad.run_id)
    assert store.get(good.run_id) is not None
    report = store.repair()
    assert (report.kept, report.dropped) == (1, 1)
    repaired = RunStore(store.path)
    assert repaired.get(bad.run_id) is None and repaired.get(good.run_id) is not None


def test_missing_or_damaged_series_file_is_a_cache_miss_and_the_rerun_restores_it() -> None:
    store = RunStore()
    result = make_result(1)
    store.put(result)
    (series_file,) = list(store.series_dir.rglob("*.npz"))
    original = series_file.read_bytes()
    series_file.write_bytes(original[:40])  # half-written
    assert store.check()
    assert store.get(result.run_id) is None  # never served; the damaged file is moved aside
    assert series_file.with_name(series_file.name + ".damaged").exists()
    assert store.put(result) is False  # the run is made again: same id, its series written back
    assert series_file.read_bytes() == original
    assert store.get(result.run_id) is not None and store.check() == []
    series_file.unlink()
    assert store.get(result.run_id) is None
    shown = store.show(result.run_id)
    assert shown is not None and shown.series == {} and "missing" in shown.notes[-1]
    store.put(result)
    assert store.get(result.run_id).series == result.series  # type: ignore[union-attr]


def test_truncated_database_is_detected() -> None:
    store = RunStore()
    for i in range(200):
        store.put(make_result(i))
    db = sqlite3.connect(store.path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    store.close()
    data = store.path.read_bytes()
    store.path.write_bytes(data[: len(data) // 2])
    reopened = RunStore(store.path)
    with pytest.raises(StoreError, match="damaged"):
        for i in range(200):
            reopened.get(make_result(i).run_id)
        reopened.list(limit=1000)
        if reopened.check():
            raise StoreError("damaged: found by check")
