"""The assistant's own error: the LLM endpoint. The root and the engine's errors are `sim.errors`'s."""

from __future__ import annotations

from sim.errors import SimqaError


class LLMError(SimqaError):
    """The LLM endpoint failed: unreachable, bad key, unknown model, or replies that never validate."""
