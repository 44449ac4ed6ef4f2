"""The error of the stores: the run store, the docs index and the vector store."""

from __future__ import annotations

from sim.errors import SimqaError


class StoreError(SimqaError):
    """The run store or the vector store is unreadable, corrupted or locked."""
