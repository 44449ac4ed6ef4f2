"""The run store: every run's scenario, metrics, intervals and series, content-addressed by run id.

SQLite in WAL mode under `$SIMQA_HOME/runs.sqlite` (schema changes through `rag.migrations`);
the series live beside it as compressed numpy files named by the hash of their contents.

- Cache: `get(run_id)` returns the stored `Result` of the same scenario + seed + engine version
  (the run id is the hash of exactly those), marked `meta.cached = True`.
- Concurrency: each write is one `BEGIN IMMEDIATE` transaction and waits for the lock (up to
  `BUSY_TIMEOUT_S`); a run id that is already stored is left as it is (same id, same content).
- Integrity: every row carries a checksum of its fields and every series file is verified against
  its hash on read; an unreadable database or a mismatch raises `rag.errors.StoreError`, which names the
  repair: `simqa runs repair` (`RunStore.repair()`), or moving the file aside.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from rag.errors import StoreError
from rag.migrations import migrate
from rag.paths import simqa_home
from sim.result import Result, RunMeta
from sim.scenario import Scenario
from sim.version import ENGINE_VERSION

BUSY_TIMEOUT_S = 60.0  # a writer waits this long for another process's transaction
DB_NAME = "runs.sqlite"

_COLUMNS = (
    "run_id, content_hash, model, label, canonical_json, scenario_json, seed, replicates, engine_version, "
    "metrics_json, ci_json, replicate_metrics_json, notes_json, time_unit, wall_ms, executor, created_at, "
    "series_hash, checksum"
)


_INSERT_SEARCH = (
    "INSERT OR IGNORE INTO run_search (run_id, summary, interventions, embedding_space, embedding) "
    "VALUES (?, ?, ?, ?, ?)"
)


class SeriesUnavailable(StoreError):
    """A run's series file is missing or damaged. The run itself can be made again: `get` treats
    it as a miss, and storing the new result writes the file back."""

    def __init__(self, message: str, *, path: Path, detail: str) -> None:
        super().__init__(message)
        self.path = path
        self.detail = detail

    def set_aside(self) -> None:
        """Move a damaged file out of the way (never deleted), so that the rerun can write it afresh."""
        if self.path.exists():
            with contextlib.suppress(OSError):
                os.replace(self.path, self.path.with_name(f"{self.path.name}.damaged"))


class RunSummary(BaseModel):
    """One line of `simqa runs list`."""

    run_id: str
    model: str
    label: str
    created_at: str
    summary: str
    metrics: dict[str, Any] = Field(default_factory=dict)
    scenario: dict[str, Any] = Field(default_factory=dict)


class StoredRun(BaseModel):
    """`simqa runs show ID`: everything stored about one run."""

    run_id: str
    model: str
    label: str
    created_at: str
    summary: str
    engine_version: str
    seed: int
    replicates: int
    wall_ms: float
    scenario: dict[str, Any]
    canonical_json: str
    metrics: dict[str, Any]
    ci: dict[str, Any]
    series: dict[str, list[float]]
    notes: list[str]


class RepairReport(BaseModel):
    """What `simqa runs repair` found and did.

    kept: runs copied into the new store; dropped: runs the damaged file named but that could not
    be read back intact. complete: whether every run of the damaged file could be counted (False
    for a file truncated or emptied: its lost rows cannot be listed); orphan_series: series files
    no kept run refers to, an upper bound on the runs lost when the count is not complete.
    """

    ok_before: bool
    kept: int
    dropped: int
    moved_aside: str | None = None
    problems: list[str] = Field(default_factory=list)
    complete: bool = True
    orphan_series: int = 0

    def __str__(self) -> str:
        if self.ok_before:
            return f"the run store is healthy ({self.kept} runs)"
        text = f"repaired the run store: kept {self.kept} runs, dropped {self.dropped}"
        if not self.complete:
            text += "; the damaged file could not be read in full, so more runs may be lost" + (
                f": {self.orphan_series} series files belong to no kept run (at most one lost run each)"
                if self.orphan_series
                else " (no series files are left to count them by)"
            )
        if self.problems:
            text += f"; found: {self.problems[0]}"
        if self.moved_aside:
            text += f"; the damaged file was moved to {self.moved_aside}"
        return text


@dataclass
class RunRow:
    """What retrieval needs of a run."""

    run_id: str
    model: str
    summary: str
    interventions: str
    vector: np.ndarray | None
    scenario: dict[str, Any]
    metrics: dict[str, Any]


def _checksum(values: list[Any]) -> str:
    h = hashlib.sha256()
    for v in values:
        h.update(repr(v).encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def _series_hash(series: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(series):
        arr = np.ascontiguousarray(series[name], dtype=np.float64)
        h.update(name.encode() + b"\0" + str(arr.shape).encode() + b"\0")
        h.update(arr.tobytes())
    return h.hexdigest()[:32]


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _dumps_ordered(value: Any) -> str:
    """Results as the model wrote them: a breakdown's parts keep their order (age groups youngest
    first), so a run read from the store prints like a fresh one."""
    return json.dumps(value, separators=(",", ":"))


def canonical_json(result: Result) -> str:
    """The same body as `sim.ResolvedScenario.canonical_json` (the scenario of a Result is resolved)."""
    scenario = result.scenario.model_dump(mode="json")
    body = {
        "model": scenario["model"],
        "params": scenario["params"],
        "interventions": scenario["interventions"],
        "engine_version": result.meta.engine_version,
    }
    return _dumps(body)


class RunStore:
    """The store of past runs. Safe to share between threads and processes."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else simqa_home() / DB_NAME
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder of the run store {self.path.parent} ({exc.strerror or exc}): "
                "set SIMQA_HOME to a writable folder"
            ) from None
        self.series_dir = self.path.parent / "series"
        self._local = threading.local()
        self._search_cache: tuple[tuple[int, int], list[RunRow]] | None = None
        self._found_empty = False  # `check` found the file at 0 bytes: whatever it held is gone

    @staticmethod
    def exists(path: str | Path | None = None) -> bool:
        return (Path(path) if path is not None else simqa_home() / DB_NAME).exists()

    # -- connection and errors ------------------------------------------------------------

    def _corrupt(self, detail: str) -> StoreError:
        return StoreError(
            f"the run store {self.path} is damaged ({detail}); run `simqa runs repair` to keep the runs that are "
            f"intact (the damaged file is moved aside), or move {self.path.name} (and its -wal/-shm files) out of "
            f"{self.path.parent} to start an empty store; runs are only a cache, so nothing is lost that cannot "
            "be re-run"
        )

    def _series_error(self, path: Path, detail: str) -> SeriesUnavailable:
        return SeriesUnavailable(str(self._corrupt(detail)), path=path, detail=detail)

    def _error(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        if self.path.is_dir():
            return StoreError(
                f"the run store {self.path} is a folder, not a database file: move it out of {self.path.parent} "
                "(a new store is created in its place), or set SIMQA_HOME to another folder"
            )
        if (
            "readonly" in text
            or "read-only" in text
            or ("unable to open" in text and not os.access(self.path.parent, os.W_OK))
        ):
            return StoreError(
                f"the run store {self.path} is read-only ({text}): make {self.path.parent} writable, "
                "or set SIMQA_HOME to a writable folder"
            )
        if isinstance(exc, sqlite3.OperationalError) and "locked" in text:
            return StoreError(
                f"the run store {self.path} stayed locked for {BUSY_TIMEOUT_S:.0f} s by another process; "
                "retry, or find the process holding it"
            )
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
            exc, sqlite3.OperationalError | sqlite3.IntegrityError
        ):
            return self._corrupt(text)
        if "malformed" in text or "not a database" in text:
            return self._corrupt(text)
        return StoreError(f"the run store {self.path} failed: {text}")

    def _connect(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=True)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        except OSError as exc:
            raise StoreError(f"cannot open the run store {self.path}: {exc.strerror or exc}") from None
        try:
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            for attempt in range(50):
                try:
                    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or attempt == 49:
                        raise
                    time.sleep(0.05)
            if str(mode).lower() != "wal":
                raise StoreError(f"the run store {self.path} could not switch to WAL mode (got {mode!r})")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            if not _migrated(db):  # a store already up to date opens without writing (read-only copies too)
                with self._transaction(db):
                    migrate(db)
        except sqlite3.Error as exc:
            db.close()
            raise self._error(exc) from None
        except BaseException:
            db.close()
            raise
        return db

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @staticmethod
    @contextmanager
    def _transaction(db: sqlite3.Connection) -> Iterator[None]:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- writing --------------------------------------------------------------------------

    def _series_path(self, digest: str) -> Path:
        return self.series_dir / digest[:2] / f"{digest}.npz"

    def _write_series(self, series: dict[str, list[float]]) -> str | None:
        if not series:
            return None
        arrays = {name: np.asarray(values, dtype=np.float64) for name, values in series.items()}
        digest = _series_hash(arrays)
        path = self._series_path(digest)
        if path.exists():
            return digest
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(buf.getvalue())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)  # the row that refers to it is written only after this
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise StoreError(
                f"cannot write a run's series under {self.series_dir} ({exc.strerror or exc}): "
                "make it writable, or set SIMQA_HOME to a writable folder"
            ) from None
        return digest

    def put(self, result: Result, searchable: bool = True) -> bool:
        """Store `result` (and index it for retrieval). False when this run id was already stored.

        searchable=False: kept (`get`, `show`, `list` find it) but not offered to retrieval as a
        similar past run, as for the runs of an eval; storing it again searchable makes it so.
        """
        canonical = canonical_json(result)
        series_hash = self._write_series(result.series)
        scenario = result.scenario.model_dump(mode="json")
        fields = [
            result.run_id,
            hashlib.sha256(canonical.encode()).hexdigest(),
            result.scenario.model,
            result.label,
            canonical,
            _dumps(scenario),
            int(result.meta.seed),
            int(result.meta.replicates),
            result.meta.engine_version,
            _dumps_ordered(result.metrics),
            _dumps_ordered({k: list(v) for k, v in result.ci.items()}),
            _dumps_ordered(result.replicate_metrics),
            _dumps(result.notes),
            result.time_unit,
            float(result.meta.wall_ms),
            result.meta.executor,
            result.meta.created_at,
            series_hash,
        ]
        row = [*fields, _checksum(fields)]
        search_row = self._search_row(result)
        db = self.db
        try:
            with self._transaction(db):
                cur = db.execute(f"INSERT OR IGNORE INTO runs ({_COLUMNS}) VALUES ({', '.join('?' * len(row))})", row)
                inserted = cur.rowcount == 1
                if not inserted:
                    stored = db.execute("SELECT series_hash FROM runs WHERE run_id = ?", (result.run_id,)).fetchone()
                    if stored and stored[0] and stored[0] != series_hash and not self._series_path(stored[0]).exists():
                        # The stored row's series file is gone and this run re-made it: the row follows.
                        names = [c.strip() for c in _COLUMNS.split(",")][1:]
                        db.execute(
                            f"UPDATE runs SET {', '.join(f'{n} = ?' for n in names)} WHERE run_id = ?",
                            [*row[1:], result.run_id],
                        )
                if searchable:
                    db.execute(_INSERT_SEARCH, search_row)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        return inserted

    @staticmethod
    def _search_row(result: Result) -> tuple[Any, ...]:
        summary = run_summary(result)
        interventions = " ".join(iv.type for iv in result.scenario.interventions)
        from rag.embeddings import HashingEmbedding, default_backend

        backend = default_backend()
        try:
            vector = backend.embed_array([summary])[0]
        except StoreError:  # a remote embeddings endpoint down: the run is stored, found by BM25 only
            backend = HashingEmbedding()
            vector = backend.embed_array([summary])[0]
        return (result.run_id, summary, interventions, backend.space_id, vector.astype(np.float32).tobytes())

    def offer(self, result: Result) -> None:
        """Offer a stored run to retrieval as a similar past run, when it is not yet (a run an eval
        kept, asked again by a person). Writes only then."""
        db = self.db
        try:
            if db.execute("SELECT 1 FROM run_search WHERE run_id = ?", (result.run_id,)).fetchone() is not None:
                return
            search_row = self._search_row(result)
            with self._transaction(db):
                db.execute(_INSERT_SEARCH, search_row)
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    # -- reading --------------------------------------------------------------------------

    def _row(self, run_id: str) -> sqlite3.Row | None:
        db = self.db
        try:
            db.row_factory = sqlite3.Row
            return db.execute(f"SELECT {_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        finally:
            db.row_factory = None

    def _verified(self, row: sqlite3.Row) -> dict[str, Any]:
        values = [row[c.strip()] for c in _COLUMNS.split(",")]
        if _checksum(values[:-1]) != values[-1]:
            raise self._corrupt(f"run {row['run_id']} does not match its checksum")
        try:
            return {
                "run_id": row["run_id"],
                "model": row["model"],
                "label": row["label"],
                "canonical_json": row["canonical_json"],
                "scenario": json.loads(row["scenario_json"]),
                "seed": row["seed"],
                "replicates": row["replicates"],
                "engine_version": row["engine_version"],
                "metrics": json.loads(row["metrics_json"]),
                "ci": json.loads(row["ci_json"]),
                "replicate_metrics": json.loads(row["replicate_metrics_json"]),
                "notes": json.loads(row["notes_json"]),
                "time_unit": row["time_unit"],
                "wall_ms": row["wall_ms"],
                "executor": row["executor"],
                "created_at": row["created_at"],
                "series_hash": row["series_hash"],
            }
        except (ValueError, TypeError) as exc:
            raise self._corrupt(f"run {row['run_id']} is unreadable: {exc}") from None

    def _read_series(self, digest: str | None) -> dict[str, list[float]]:
        if not digest:
            return {}
        path = self._series_path(digest)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: np.asarray(data[name]) for name in data.files}
        except FileNotFoundError:
            raise self._series_error(path, f"the series file {path} is missing") from None
        except Exception as exc:
            raise self._series_error(path, f"the series file {path} is unreadable ({type(exc).__name__})") from None
        if _series_hash(arrays) != digest:
            raise self._series_error(path, f"the series file {path} does not match its hash")
        return {name: arr.tolist() for name, arr in arrays.items()}

    def _result(self, data: dict[str, Any], label: str | None = None, cached: bool = False) -> Result:
        """The Result of a verified row (`_verified`), its series read from their file; `label`
        relabels it, `cached` marks it as served from the store."""
        scenario = Scenario.model_validate(data["scenario"])
        if label is not None:
            scenario = scenario.model_copy(update={"label": label})
        return Result(
            label=label if label is not None else data["label"],
            run_id=data["run_id"],
            scenario=scenario,
            metrics=data["metrics"],
            ci={k: (float(v[0]), float(v[1])) for k, v in data["ci"].items()},
            replicate_metrics=data["replicate_metrics"],
            series=self._read_series(data["series_hash"]),
            time_unit=data["time_unit"],
            notes=data["notes"],
            meta=RunMeta(
                engine_version=data["engine_version"],
                seed=data["seed"],
                replicates=data["replicates"],
                wall_ms=data["wall_ms"],
                created_at=data["created_at"],
                executor=data["executor"],
                cached=cached,
            ),
        )

    def get(self, run_id: str, label: str | None = None) -> Result | None:
        """The stored result of this run id (the cache lookup), or None. `label` relabels the copy.

        A run whose series file is missing or damaged is a miss: the caller runs it again, and
        storing the new result writes the file back (a damaged file is first moved aside).
        """
        row = self._row(run_id)
        if row is None:
            return None
        data = self._verified(row)
        if data["engine_version"] != ENGINE_VERSION:
            return None  # cannot happen for a current run id (it hashes the version); never serve stale numbers
        try:
            return self._result(data, label=label, cached=True)
        except SeriesUnavailable as exc:
            exc.set_aside()
            return None

    def __contains__(self, run_id: str) -> bool:
        try:
            return self.db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is not None
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def __len__(self) -> int:
        try:
            return int(self.db.execute("SELECT count(*) FROM runs").fetchone()[0])
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def list(self, limit: int = 20, model: str | None = None) -> list[RunSummary]:
        """The most recent runs first."""
        sql = (
            "SELECT r.run_id, r.model, r.label, r.created_at, s.summary, r.metrics_json, r.scenario_json FROM runs r "
            "LEFT JOIN run_search s ON s.run_id = r.run_id"
        )
        args: tuple[Any, ...] = ()
        if model is not None:
            sql += " WHERE r.model = ?"
            args = (model,)
        sql += " ORDER BY r.created_at DESC, r.rowid DESC LIMIT ?"
        try:
            rows = self.db.execute(sql, (*args, int(limit))).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        out = []
        for run_id, model_name, label, created, summary, metrics, scenario in rows:
            try:
                parsed = json.loads(metrics)
                scenario_data = json.loads(scenario)
            except ValueError:
                raise self._corrupt(f"run {run_id} is unreadable") from None
            out.append(
                RunSummary(
                    run_id=run_id,
                    model=model_name,
                    label=label,
                    created_at=created,
                    summary=summary or "",
                    metrics=parsed,
                    scenario=scenario_data,
                )
            )
        return out

    def resolve_id(self, prefix: str) -> str | None:
        """The full run id for an id or a unique prefix of one (as `simqa runs show 3f2a` takes)."""
        if not prefix or any(c not in "0123456789abcdef" for c in prefix.lower()):
            return None
        try:
            rows = self.db.execute(
                "SELECT run_id FROM runs WHERE run_id >= ? AND run_id < ? LIMIT 2", (prefix, prefix + "g")
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        if len(rows) > 1:
            raise StoreError(f"run id prefix {prefix!r} is ambiguous; give more characters")
        return rows[0][0] if rows else None

    def show(self, run_id: str) -> StoredRun | None:
        """Everything stored about one run (id or unique prefix), or None."""
        full = self.resolve_id(run_id)
        row = self._row(full) if full else None
        if row is None:
            return None
        data = self._verified(row)
        try:
            summary_row = self.db.execute("SELECT summary FROM run_search WHERE run_id = ?", (full,)).fetchone()
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        notes = list(data["notes"])
        try:
            series = self._read_series(data["series_hash"])
        except SeriesUnavailable as exc:
            series = {}
            notes.append(f"{exc.detail}: the series are not shown; running the same scenario again restores them")
        return StoredRun(
            run_id=data["run_id"],
            model=data["model"],
            label=data["label"],
            created_at=data["created_at"],
            summary=summary_row[0] if summary_row else "",
            engine_version=data["engine_version"],
            seed=data["seed"],
            replicates=data["replicates"],
            wall_ms=data["wall_ms"],
            scenario=data["scenario"],
            canonical_json=data["canonical_json"],
            metrics=data["metrics"],
            ci=data["ci"],
            series=series,
            notes=notes,
        )

    def index_rows(self) -> builtins.list[RunRow]:
        """Every run's summary and vector, for retrieval; cached until the store changes."""
        try:
            key = tuple(self.db.execute("SELECT count(*), coalesce(max(rowid), 0) FROM run_search").fetchone())
            if self._search_cache is not None and self._search_cache[0] == key:
                return self._search_cache[1]
            rows = self.db.execute(
                "SELECT s.run_id, r.model, s.summary, s.interventions, s.embedding_space, s.embedding, "
                "r.scenario_json, r.metrics_json FROM run_search s JOIN runs r ON r.run_id = s.run_id "
                "ORDER BY r.rowid"
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        from rag.embeddings import default_backend

        space = default_backend().space_id
        out = []
        for run_id, model, summary, interventions, emb_space, blob, scenario, metrics in rows:
            vector = np.frombuffer(blob, dtype=np.float32) if blob is not None and emb_space == space else None
            try:
                out.append(
                    RunRow(run_id, model, summary, interventions, vector, json.loads(scenario), json.loads(metrics))
                )
            except ValueError:
                raise self._corrupt(f"run {run_id} is unreadable") from None
        self._search_cache = ((int(key[0]), int(key[1])), out)
        return out

    # -- checking and repair --------------------------------------------------------------

    def check(self) -> builtins.list[str]:
        """Problems found: an emptied file, SQLite's integrity check, row checksums, series files.
        Empty when healthy."""
        problems: builtins.list[str] = []
        if getattr(self._local, "conn", None) is None and self.path.is_file() and self.path.stat().st_size == 0:
            # SQLite writes a header with the first transaction, so a store that ever held a run is
            # never empty. Checked before opening it: opening an empty file makes a fresh store of it.
            self._found_empty = True
            series = self._series_files()
            return [
                f"{self.path.name} is empty (0 bytes): any runs it held are lost"
                + (f" ({len(series)} series files of past runs remain)" if series else "")
            ]
        try:
            db = self.db
            result = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall()]
            if result != ["ok"]:
                problems.extend(result[:10])
            ids = [r[0] for r in db.execute("SELECT run_id FROM runs").fetchall()]
        except (sqlite3.Error, StoreError) as exc:
            return [*problems, str(exc)]
        for run_id in ids:
            try:
                row = self._row(run_id)
                if row is not None:
                    self._read_series(self._verified(row)["series_hash"])
            except StoreError as exc:
                problems.append(str(exc).split(";")[0])
        return problems

    def _series_files(self) -> builtins.list[Path]:
        try:
            return sorted(self.series_dir.glob("*/*.npz"))
        except OSError:
            return []

    def repair(self) -> RepairReport:
        """Keep every intact run, drop the rest, and say truthfully how many of each.

        The damaged file is moved aside (never deleted) and every run that can still be read from it
        is copied into a new store. Its runs are counted from every place that lists them (the runs
        table, its primary-key index, the search table), so a truncated file's lost rows are still
        counted where any of these survives; when none does, the report says the count is
        incomplete and how many series files belong to no kept run.
        """
        try:
            problems = self.check()
        except StoreError as exc:
            problems = [str(exc)]
        if not problems:
            return RepairReport(ok_before=True, kept=len(self), dropped=0)
        self.close()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        try:
            for suffix in ("", "-wal", "-shm"):
                src = Path(str(self.path) + suffix)
                if src.exists():
                    shutil.move(str(src), str(aside) + suffix)
        except OSError as exc:
            raise StoreError(
                f"the run store {self.path} is damaged ({problems[0]}) and cannot be moved aside "
                f"({exc.strerror or exc}): make {self.path.parent} writable and run `simqa runs repair` again"
            ) from None
        salvaged, searchable, dropped, complete = self._salvage(aside)
        complete = complete and not self._found_empty
        self._found_empty = False
        for result in salvaged:
            self.put(result, searchable=result.run_id in searchable)
        kept_series = {_series_hash_of(r) for r in salvaged}
        orphans = sum(1 for f in self._series_files() if f.stem not in kept_series)
        return RepairReport(
            ok_before=False,
            kept=len(salvaged),
            dropped=dropped,
            moved_aside=str(aside),
            problems=[p.split(";")[0] for p in problems[:10]],
            complete=complete,
            orphan_series=orphans,
        )

    def _salvage(self, aside: Path) -> tuple[builtins.list[Result], set[str], int, bool]:
        """(intact runs, the ids of those retrieval found, runs named but unreadable, whether every
        listing of the damaged file could be read to its end)."""
        if not aside.is_file() or aside.stat().st_size == 0:
            return [], set(), 0, False
        try:
            old = sqlite3.connect(f"file:{aside}?mode=ro", uri=True)
        except sqlite3.Error:
            return [], set(), 0, False
        complete = True
        ids: dict[str, None] = {}
        searchable: set[str] = set()
        listings = (
            ("SELECT run_id FROM runs", None),
            ("SELECT run_id FROM runs INDEXED BY sqlite_autoindex_runs_1", None),
            ("SELECT run_id FROM run_search", searchable),
        )
        for sql, into in listings:
            try:
                for (run_id,) in old.execute(sql):
                    ids[run_id] = None
                    if into is not None:
                        into.add(run_id)
            except sqlite3.Error:
                complete = False  # read up to the damage; what came before it is counted
        reader = RunStore.__new__(RunStore)
        reader.path, reader.series_dir = aside, self.series_dir
        old.row_factory = sqlite3.Row
        salvaged: builtins.list[Result] = []
        dropped = 0
        for run_id in ids:
            try:
                row = old.execute(f"SELECT {_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)).fetchone()
                if row is None:
                    raise StoreError(f"run {run_id} is listed but its row is gone")
                salvaged.append(reader._result(reader._verified(row)))
            except Exception:
                dropped += 1
        old.close()
        return salvaged, searchable, dropped, complete


def _migrated(db: sqlite3.Connection) -> bool:
    from rag.migrations import MIGRATIONS

    try:
        done = {row[0] for row in db.execute("SELECT name FROM migrations")}
    except sqlite3.OperationalError:
        return False  # a new file: no migrations table yet
    return all(m.__name__ in done for m in MIGRATIONS)


def _series_hash_of(result: Result) -> str:
    if not result.series:
        return ""
    return _series_hash({name: np.asarray(v, dtype=np.float64) for name, v in result.series.items()})


def run_summary(result: Result) -> str:
    """One line a person (and the retriever) can read: model, what differs from defaults, interventions, results."""
    scenario = result.scenario
    params = dict(scenario.params)
    # Only a model already loaded (it just ran) gives its defaults: importing one for a summary
    # can cost seconds. Without it every parameter is shown.
    from sim.registry import loaded_model

    spec = loaded_model(scenario.model)
    try:
        defaults = spec.params().model_dump() if spec is not None else {}
    except Exception:
        defaults = {}
    shown = {k: v for k, v in params.items() if k != "seed" and (k not in defaults or defaults[k] != v)}
    parts = [f"{scenario.model} run {result.run_id} '{result.label}'"]
    if shown:
        parts.append("parameters " + ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(shown.items())))
    else:
        parts.append("default parameters")
    ivs = []
    for iv in scenario.interventions:
        data = iv.model_dump()
        words = data.pop("type").replace("_", " ")
        start, duration = data.pop("start_day", 0), data.pop("duration_days", None)
        when = f"from day {start}" + (f" for {duration} days" if duration else " to the end")
        extra = ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(data.items()))
        ivs.append(f"{words} ({iv.type}) {when}" + (f", {extra}" if extra else ""))
    parts.append("interventions: " + ("; ".join(ivs) if ivs else "none"))
    scalars = {k: v for k, v in result.metrics.items() if not isinstance(v, dict)}
    if scalars:
        parts.append("results: " + ", ".join(f"{k}={_fmt(v)}" for k, v in scalars.items()))
    return ". ".join(parts)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
