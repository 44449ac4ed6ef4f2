"""Against a real Chroma server: `chroma run` on a loopback port, as a team would share one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import rag
from rag.embeddings import default_backend
from rag.vectorstore import DOCS, VectorStore


def _chroma_executable() -> str | None:
    local = Path(sys.executable).parent / "chroma"
    return str(local) if local.exists() else shutil.which("chroma")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    exe = _chroma_executable()
    if exe is None:
        pytest.skip("the `chroma` executable (shipped with the chromadb package) is not installed")
    port = _free_port()
    log = (tmp_path / "chroma.log").open("w")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(tmp_path / "server"), "--port", str(port), "--host", "127.0.0.1"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"chroma run exited: {(tmp_path / 'chroma.log').read_text()[-2000:]}")
                time.sleep(0.2)
        else:
            pytest.fail("chroma run did not listen within 60 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.service
def test_index_and_query_a_chroma_server(docs: Path, chroma_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMQA_CHROMA_URL", chroma_server)
    report = rag.index_docs()
    assert report.store == chroma_server and report.added == report.chunks > 0
    store = VectorStore(default_backend())
    assert store.count(DOCS) == report.chunks
    # Re-indexing against a server always checks it, and finds nothing to send.
    again = rag.index_docs()
    assert (again.added, again.updated, again.removed) == (0, 0, 0)
    # Dense neighbours come from the server, fused with local BM25.
    got = rag.retrieve("what share of orders arrive after the promised delivery time?")
    assert got.docs[0].source == "docs/models/delivery.md#metrics"
    dense = rag.search_docs("share of orders delivered after sla_minutes", k=3, mode="dense", model="delivery")
    assert dense[0].section == "docs/models/delivery.md#metrics"
    assert all(c.model in ("delivery", None) for c in dense)


def test_unreachable_server_is_a_clear_error(docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.errors import StoreError

    monkeypatch.setenv("SIMQA_CHROMA_URL", f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(StoreError, match="SIMQA_CHROMA_URL"):
        rag.index_docs()
