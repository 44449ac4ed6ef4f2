"""Where things live: SIMQA_HOME for indexes and the run store, the docs and the eval cases.

The docs and cases are found relative to the `rag` package (a source checkout, or an install
that ships them next to the packages); `SIMQA_DOCS_DIR` / `SIMQA_CASES_DIR` override.
"""

from __future__ import annotations

import os
from pathlib import Path

from rag.errors import StoreError

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def simqa_home() -> Path:
    """`$SIMQA_HOME`, default `~/.simqa`; created on first use."""
    return make_home(resolve_home(os.environ.get("SIMQA_HOME")))


def resolve_home(raw: str | Path | None) -> Path:
    """The one reading of a `SIMQA_HOME` value: `~` expanded; unset or empty means `~/.simqa`."""
    return Path(raw).expanduser() if raw else Path.home() / ".simqa"


def make_home(home: Path) -> Path:
    """`home`, created when missing; a StoreError naming SIMQA_HOME when it cannot be."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot use {home} as simqa's home ({exc.strerror or exc}): set SIMQA_HOME to a writable folder"
        ) from None
    return home


def docs_dir() -> Path:
    raw = os.environ.get("SIMQA_DOCS_DIR")
    return Path(raw).expanduser() if raw else PACKAGE_ROOT / "docs"


def cases_dir() -> Path:
    raw = os.environ.get("SIMQA_CASES_DIR")
    return Path(raw).expanduser() if raw else PACKAGE_ROOT / "evals" / "cases"


def index_dir() -> Path:
    path = simqa_home() / "index"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot use {path} for the docs index ({exc.strerror or exc}): set SIMQA_HOME to a writable folder"
        ) from None
    return path
