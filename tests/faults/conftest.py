"""Fault injection for the whole of simqa: helpers to drive the CLI and to break what it stands on.

Every probe asserts the rule of the faults suite: a user mistake is one line on stderr saying what
is wrong and what is allowed, exit 2; a failing service is one line, exit 3; where an answer can go
on without the service it goes on and says so in its notes; never a traceback.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simqa.cli import main


def fresh_process_state() -> None:
    """What a new process starts with: no docs index, run store or Chroma client held from an
    earlier command (each probe breaks the files under them between commands)."""
    from tests.rag.conftest import reset_caches

    reset_caches()
    chroma = sys.modules.get("chromadb.api.shared_system_client")
    if chroma is not None:
        chroma.SharedSystemClient.clear_system_cache()


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    fresh_process_state()
    yield
    fresh_process_state()


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def one_line_error(self, code: int, *fragments: str) -> str:
        """The single `simqa: error:` line, checked for its exit code and its fragments."""
        assert self.code == code, (self.code, self.err[-2000:])
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err[-2000:]
        assert lines[0].startswith("simqa: error:"), lines[0][:500]
        assert "Traceback" not in self.err
        for fragment in fragments:
            assert fragment in lines[0], (fragment, lines[0][:2000])
        return lines[0]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """`cli("run", "-", stdin=...)`: the command line in this process, as if in a new one; an
    exception escaping `main` fails the test (the CLI has no business raising)."""
    monkeypatch.delenv("SIMQA_DEBUG", raising=False)

    def run(*args: str, stdin: str | bytes | None = None) -> CliResult:
        if stdin is not None:
            data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        capsys.readouterr()
        fresh_process_state()
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def simqa_process(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> CliResult:
    """The command line in a fresh process (for what must end the process on time: a silent server)."""
    proc = subprocess.run(
        [sys.executable, "-m", "simqa.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def home() -> Path:
    return Path(os.environ["SIMQA_HOME"])


@pytest.fixture
def read_only_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    """SIMQA_HOME as a read-only filesystem would leave it (see `make_read_only`)."""
    return make_read_only(monkeypatch)


def make_read_only(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make SIMQA_HOME read-only as a read-only filesystem would, even for root (who writes
    through file modes): every write under it fails with EACCES, and SQLite opens its files
    read-only. Undone with `monkeypatch`."""
    root = home().resolve()
    real_open, real_mkdir, real_replace, real_connect = builtins.open, os.mkdir, os.replace, sqlite3.connect

    def inside(path: Any) -> bool:
        try:
            return Path(os.fsdecode(path)).resolve().is_relative_to(root)
        except (TypeError, ValueError):
            return False

    def denied(path: Any) -> PermissionError:
        return PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))

    def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | bytes | os.PathLike) and any(c in mode for c in "wax+") and inside(file):
            raise denied(file)
        return real_open(file, mode, *args, **kwargs)

    def guarded_mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        if inside(path):
            if Path(os.fsdecode(path)).exists():
                raise FileExistsError(errno.EEXIST, "File exists", os.fsdecode(path))
            raise denied(path)
        real_mkdir(path, *args, **kwargs)

    def guarded_move(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if inside(src) or inside(dst):
            raise denied(dst)
        real_replace(src, dst, *args, **kwargs)

    def guarded_connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if isinstance(database, str | os.PathLike) and not kwargs.get("uri") and inside(database):
            kwargs["uri"] = True
            return real_connect(f"file:{os.fsdecode(database)}?mode=ro", *args, **kwargs)
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(os, "mkdir", guarded_mkdir)
    monkeypatch.setattr(os, "replace", guarded_move)
    monkeypatch.setattr(os, "rename", guarded_move)
    monkeypatch.setattr(sqlite3, "connect", guarded_connect)
    return root
