"""`simqa chat` in a pseudo-terminal, driven as a person types: a question, a follow-up, "why?",
the commands, and Ctrl-D. The child is the real command line (`python -m simqa.cli chat`)."""

from __future__ import annotations

import os
import re
import select
import sys
import time
from pathlib import Path

import pytest

pty = pytest.importorskip("pty")  # POSIX only

PROMPT = "you> "
WAIT_S = 120  # a guard against a hung child, not a measurement: the checks are on what it printed
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


class Terminal:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the chat, its stdin, stdout and stderr the terminal
            os.execvpe(argv[0], argv, env)
        self.seen = ""

    def read_until(self, text: str) -> str:
        """Everything printed up to and including `text` (escape codes removed)."""
        deadline = time.monotonic() + WAIT_S
        while text not in self.seen:
            if time.monotonic() > deadline:
                raise AssertionError(f"never printed {text!r}; printed:\n{self.seen[-2000:]}")
            ready, _, _ = select.select([self.fd], [], [], 1.0)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                self.seen += ANSI.sub("", data.decode("utf-8", "replace")).replace("\r", "")
        head, _, rest = self.seen.partition(text)
        self.seen = rest
        return head + text

    def type(self, line: str) -> None:
        for ch in line:  # one key at a time, as a person types
            os.write(self.fd, ch.encode())
        os.write(self.fd, b"\r")

    def wait(self) -> int:
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


@pytest.fixture
def chat(tmp_path: Path):
    env = {**os.environ, "COLUMNS": "100", "LINES": "40", "TERM": "xterm", "PYTHONUNBUFFERED": "1"}
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    term = Terminal([sys.executable, "-m", "simqa.cli", "chat", "--translator", "offline"], env)
    yield term
    try:
        os.kill(term.pid, 9)
        os.waitpid(term.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def test_a_person_types_a_conversation(chat: Terminal) -> None:
    banner = chat.read_until(PROMPT)
    assert "simqa chat" in banner and "/help" in banner
    chat.type("R0 2.8 in a town of 40,000: what is the peak?")
    answer = chat.read_until(PROMPT)
    assert "simulate · seir · offline" in answer and "R0 2.8 in a town" in answer  # the typed line echoes
    chat.type("why?")
    why = chat.read_until(PROMPT)
    assert "explain · seir" in why and "Run " in why
    chat.type("/scenario")
    scenario = chat.read_until(PROMPT)
    assert '"population": 40000' in scenario and "from turn 1" in scenario
    chat.type("/help")
    assert "/quit" in chat.read_until(PROMPT)
    os.write(chat.fd, b"\x04")  # Ctrl-D at the prompt ends the chat
    assert chat.wait() == 0
