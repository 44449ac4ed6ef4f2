"""The exception root of simqa, and the engine's own errors. Every message says what was wrong and how to fix it.

`sim` is the bottom layer, so the root `SimqaError` lives here and `simqa` re-exports every
public error. The errors of the layers above are defined where they are raised: `StoreError` in
`rag.errors`, `LLMError` in `simqa.errors`.
"""

from __future__ import annotations

from typing import Any


class SimqaError(Exception):
    """Root of every error simqa raises on purpose (a user mistake or an unavailable service)."""


class ScenarioError(SimqaError):
    """A scenario that cannot run: unknown model, unknown parameter, value out of bounds, over a cap.

    `field`, `value` and `allowed` say exactly which bound was broken, so a caller (the CLI, the
    assistant) can turn it into a clarifying question without parsing the message.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        allowed: str | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.allowed = allowed


class CapExceeded(ScenarioError):
    """The work a request asks for is over a resource cap (agents x days x replicates, sweep size)."""


class ClusterError(SimqaError):
    """The Dask cluster is unreachable, has no workers, or loses every worker that runs a task."""


class MissingDependency(SimqaError):
    """An optional package is not installed; the message names the `pip install` to run."""

    def __init__(self, package: str, extra: str | None = None, purpose: str = "") -> None:
        target = f'"simqa[{extra}]"' if extra else package
        why = f" for {purpose}" if purpose else ""
        super().__init__(f"{package} is needed{why} but is not installed: run `pip install {target}`")
        self.package = package


ECHO_CHARS = 60  # how much of a bad value an error message repeats


def brief(value: Any, limit: int = ECHO_CHARS) -> str:
    """`repr(value)`, cut to about `limit` characters: an error names a bad value, it does not echo 50 MB of it."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str | bytes | list | dict) else f"{len(text):,} characters"
    return f"{text[:limit]}… ({size})"
