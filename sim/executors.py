"""Executors run many independent scenario runs: in process by default.

Experiments submit work through `Executor.map`, so a distributed executor can take the same work
without the experiments knowing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[int, int], None]


class Executor(Protocol):
    name: str

    def map(self, fn: Callable[[T], R], items: Sequence[T], progress: Progress | None = None) -> list[R]: ...


class InProcessExecutor:
    """Runs tasks one after another in this process (each task is itself vectorised with numpy)."""

    name = "in-process"

    def map(self, fn: Callable[[T], R], items: Sequence[T], progress: Progress | None = None) -> list[R]:
        out: list[R] = []
        for i, item in enumerate(items):
            out.append(fn(item))
            if progress is not None:
                progress(i + 1, len(items))
        return out


def default_executor() -> Executor:
    return InProcessExecutor()
