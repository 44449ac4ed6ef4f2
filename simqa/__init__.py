"""simqa: ask your simulations questions in plain language.

The public API lives here; a test guards `__all__`.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from rag.errors import StoreError
from sim.errors import CapExceeded, MissingDependency, ScenarioError, SimqaError
from simqa.errors import LLMError

if TYPE_CHECKING:
    from sim.experiments import CalibrateSpec, SweepSpec
    from sim.scenario import Scenario
    from simqa.answer import Answer, Citation, ResultSummary
    from simqa.assistant import Assistant, Conversation
    from simqa.request import Request

__version__ = "0.1.0"

# Imported on first use: `simqa` is imported by the CLI, whose start-up time users feel.
_LAZY = {
    "Answer": "simqa.answer",
    "Assistant": "simqa.assistant",
    "CalibrateSpec": "sim.experiments",
    "Citation": "simqa.answer",
    "Conversation": "simqa.assistant",
    "Request": "simqa.request",
    "ResultSummary": "simqa.answer",
    "Scenario": "sim.scenario",
    "SweepSpec": "sim.experiments",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'simqa' has no attribute {name!r}")


__all__ = [
    "Answer",
    "Assistant",
    "CalibrateSpec",
    "CapExceeded",
    "Citation",
    "Conversation",
    "LLMError",
    "MissingDependency",
    "Request",
    "ResultSummary",
    "Scenario",
    "ScenarioError",
    "SimqaError",
    "StoreError",
    "SweepSpec",
    "__version__",
]
