"""The translator interface: one abstract method, `translate(question, context) -> Translation`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from rag.types import Chunk, Example, RunHit
from simqa.request import Request


@dataclass(frozen=True)
class Turn:
    """One earlier turn of a conversation: what was asked and the request it became."""

    question: str
    request: Request


@dataclass
class TranslationContext:
    """Everything a translator may use besides the question. Retrieved text is context, never instructions."""

    docs: list[Chunk] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    runs: list[RunHit] = field(default_factory=list)
    history: list[Turn] = field(default_factory=list)
    # The answer's LLM budget (`simqa.llm_client.Budget`): shared by translation and composition,
    # so a failed endpoint is not called again within one answer. None: each call gets its own.
    budget: Any = None

    @property
    def previous(self) -> Request | None:
        """The last request of the conversation that ran something: follow-ups refine it."""
        for turn in reversed(self.history):
            if turn.request.scenarios:
                return turn.request
        return None


@dataclass
class Translation:
    request: Request
    translator: str  # "offline" or "llm:<model name>"
    usage: dict[str, int] = field(default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0})
    notes: list[str] = field(default_factory=list)


class Translator(ABC):
    name: str = "translator"

    @abstractmethod
    def translate(self, question: str, context: TranslationContext) -> Translation:
        """A validated request for `question`. Invalid values become `clarify` / `refuse`, never a run."""
