"""simqa: ask your simulations questions in plain language.

The public API lives here; a test guards `__all__`.
"""

from sim.errors import CapExceeded, LLMError, MissingDependency, ScenarioError, SimqaError, StoreError
from sim.experiments import CalibrateSpec, SweepSpec
from sim.scenario import Scenario
from simqa.answer import Answer, Citation, ResultSummary
from simqa.assistant import Assistant, Conversation
from simqa.request import Request

__version__ = "0.1.0"

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
