"""Numbered migrations of the run store. Each runs once, in order, and is recorded in `migrations`.

Add a change as a new `m00N_...` function at the end; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime


def m001_create_runs(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,          -- sim.ResolvedScenario.run_id(): hash of the canonical scenario
            content_hash TEXT NOT NULL,       -- sha256 of canonical_json
            model TEXT NOT NULL,
            label TEXT NOT NULL,
            canonical_json TEXT NOT NULL,     -- model, every parameter, interventions, engine version
            scenario_json TEXT NOT NULL,      -- the scenario as run (with its label)
            seed INTEGER NOT NULL,
            replicates INTEGER NOT NULL,
            engine_version TEXT NOT NULL,
            metrics_json TEXT NOT NULL,
            ci_json TEXT NOT NULL,
            replicate_metrics_json TEXT NOT NULL,
            notes_json TEXT NOT NULL,
            time_unit TEXT NOT NULL,
            wall_ms REAL NOT NULL,
            executor TEXT NOT NULL,
            created_at TEXT NOT NULL,
            series_hash TEXT,                 -- file series/<hash[:2]>/<hash>.npz, NULL when no series
            checksum TEXT NOT NULL            -- sha256 over the stored fields: detects silent corruption
        )
        """
    )
    db.execute("CREATE INDEX runs_model_created ON runs (model, created_at)")
    db.execute("CREATE INDEX runs_created ON runs (created_at)")


def m002_run_search(db: sqlite3.Connection) -> None:
    """The text summary and embedding each run is retrieved by ("school closures before?")."""
    db.execute(
        """
        CREATE TABLE run_search (
            run_id TEXT PRIMARY KEY REFERENCES runs(run_id) ON DELETE CASCADE,
            summary TEXT NOT NULL,
            interventions TEXT NOT NULL,      -- space-separated intervention types, for filters
            embedding_space TEXT NOT NULL,
            embedding BLOB                    -- float32 vector in that space
        )
        """
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [m001_create_runs, m002_run_search]


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply the migrations not yet recorded; returns their names. Runs inside one write transaction."""
    db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM migrations")}
    applied = []
    for migration in MIGRATIONS:
        name = migration.__name__
        if name in done:
            continue
        migration(db)
        db.execute(
            "INSERT INTO migrations (name, applied_at) VALUES (?, ?)",
            (name, datetime.now(UTC).isoformat(timespec="seconds")),
        )
        applied.append(name)
    return applied
