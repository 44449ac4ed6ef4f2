"""Chroma broken or silent: `simqa index` says so (exit 3) instead of "unchanged"; `ask` goes on
without the vector store, by keyword search, and says so in the answer's notes; a server that
accepts a connection and never answers costs one deadline, not minutes."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.vectorstore import DEFAULT_TIMEOUT_S

from .conftest import home, simqa_process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server on loopback that accepts every connection, reads what it is sent, and never answers."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)  # kept open, never written to

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


def _answer(result) -> dict:  # type: ignore[no-untyped-def]
    assert result.code == 0, result.err[-2000:]
    assert "Traceback" not in result.err
    return json.loads(result.out)


def test_index_says_a_chroma_folder_replaced_by_a_file_is_damaged(cli) -> None:
    assert cli("index").code == 0
    chroma = home() / "chroma"
    for child in sorted(chroma.rglob("*"), reverse=True):
        child.unlink() if child.is_file() else child.rmdir()
    chroma.rmdir()
    chroma.write_text("not a folder")
    # It used to say "54 unchanged" and exit 0.
    cli("index").one_line_error(3, "is a file, not Chroma's folder", "move", "simqa index")
    cli("index", "--force").one_line_error(3, "is a file")


@pytest.mark.parametrize("where", ["header", "body"])
def test_index_says_a_garbage_chroma_database_is_damaged(cli, where: str) -> None:
    assert cli("index").code == 0
    db = home() / "chroma" / "chroma.sqlite3"
    with db.open("r+b") as fh:
        fh.seek(0 if where == "header" else 4096)
        fh.write(os.urandom(db.stat().st_size))
    line = cli("index").one_line_error(3, "Chroma store is damaged", "simqa index")
    assert "unchanged" not in line
    # Moved aside as the line says, the index is rebuilt.
    (home() / "chroma").rename(home() / "chroma.damaged")
    rebuilt = cli("index")
    assert rebuilt.code == 0 and " 0 added" not in rebuilt.out


def test_index_reports_a_rebuilt_store_as_added(cli) -> None:
    first = cli("index")
    assert first.code == 0
    chroma = home() / "chroma"
    chroma.rename(home() / "chroma.old")
    again = cli("index")
    assert again.code == 0 and "0 unchanged" in again.out and " 0 added" not in again.out


def test_a_dead_chroma_url_does_not_fail_explain_or_simulate(cli, monkeypatch) -> None:
    monkeypatch.setenv("SIMQA_CHROMA_URL", f"http://127.0.0.1:{_free_port()}")
    for question, kind in (
        ("What does r0 mean in the seir model?", "explain"),
        ("R0 3 in a town of 10,000: what is the peak?", "simulate"),
    ):
        answer = _answer(cli("ask", "--translator", "offline", "--json", question))
        assert answer["kind"] == kind
        assert any("Chroma server" in n and "keywords alone" in n for n in answer["notes"]), answer["notes"]
        assert any(c["source"].startswith("docs/models/seir.md") for c in answer["citations"])
    cli("index").one_line_error(3, "SIMQA_CHROMA_URL")


@pytest.mark.service
def test_a_silent_chroma_server_costs_one_deadline(silent_server: str) -> None:
    env = {"SIMQA_CHROMA_URL": silent_server, "SIMQA_CHROMA_TIMEOUT_S": "1"}
    # It used to hang `ask` for minutes; the process must end on its own, with the answer.
    for question, kind in (
        ("What does r0 mean in the seir model?", "explain"),
        ("R0 2 in a town of 10,000: what is the peak?", "simulate"),
    ):
        answer = _answer(simqa_process("ask", "--translator", "offline", "--json", question, env=env, timeout=120))
        assert answer["kind"] == kind
        assert any("did not answer within 1 s" in n for n in answer["notes"]), answer["notes"]
        assert answer["citations"]
    simqa_process("index", env=env, timeout=120).one_line_error(3, "did not answer within 1 s")


def test_a_silent_server_in_process_is_tried_once_then_left_alone(silent_server: str, monkeypatch) -> None:
    """After one deadline the server is not asked again for a while: an explanation that searches
    five times waits once."""
    import rag.retrieval
    from simqa import Assistant

    monkeypatch.setenv("SIMQA_CHROMA_URL", silent_server)
    monkeypatch.setenv("SIMQA_CHROMA_TIMEOUT_S", "0.5")
    calls: list[str] = []
    real = rag.retrieval._server_store

    def counted(backend):  # type: ignore[no-untyped-def]
        calls.append("open")
        return real(backend)

    monkeypatch.setattr(rag.retrieval, "_server_store", counted)
    rag.retrieval._server_down.clear()
    answer = Assistant(translator="offline").ask("What does peak_infected mean in the seir model?")
    assert answer.kind == "explain" and answer.citations
    assert calls == ["open"]
    assert any("did not answer within 0.5 s" in n for n in answer.notes)
    rag.retrieval._server_down.clear()


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "7200"])
def test_a_bad_chroma_deadline_is_named(cli, monkeypatch, raw: str) -> None:
    monkeypatch.setenv("SIMQA_CHROMA_URL", f"http://127.0.0.1:{_free_port()}")
    monkeypatch.setenv("SIMQA_CHROMA_TIMEOUT_S", raw)
    cli("index").one_line_error(3, "SIMQA_CHROMA_TIMEOUT_S", "at most 3600")


def test_the_default_deadline_is_bounded() -> None:
    assert 0 < DEFAULT_TIMEOUT_S <= 60


def test_a_read_only_home_without_an_index_goes_on_without_retrieval(cli, read_only_home: Path) -> None:
    del read_only_home
    # No docs index yet and none can be written: the explanation says where it could not look.
    answer = _answer(cli("ask", "--translator", "offline", "--json", "What does r0 mean in the seir model?"))
    assert answer["kind"] == "explain"
    assert any("retrieval unavailable" in n and "SIMQA_HOME" in n for n in answer["notes"]), answer["notes"]
