"""simqa's simulation engine: model registry, scenario types, models, experiments.

`sim` imports nothing from the rest of simqa.
"""

from sim.dispatch import RUN_KINDS, RequestOutcome, run_request
from sim.errors import CapExceeded, MissingDependency, ScenarioError, SimqaError
from sim.interventions import INTERVENTION_TYPES, Intervention
from sim.output import ModelOutput
from sim.params import ModelParams
from sim.registry import ModelSpec, get_model, model_names, register
from sim.result import Result, RunMeta
from sim.runner import execute, prepare, run
from sim.scenario import ResolvedScenario, Scenario, parse_scenario, resolve
from sim.target import Target
from sim.version import ENGINE_VERSION

__version__ = ENGINE_VERSION

__all__ = [
    "ENGINE_VERSION",
    "INTERVENTION_TYPES",
    "RUN_KINDS",
    "CapExceeded",
    "Intervention",
    "MissingDependency",
    "ModelOutput",
    "ModelParams",
    "ModelSpec",
    "RequestOutcome",
    "ResolvedScenario",
    "Result",
    "RunMeta",
    "Scenario",
    "ScenarioError",
    "SimqaError",
    "Target",
    "execute",
    "get_model",
    "model_names",
    "parse_scenario",
    "prepare",
    "register",
    "resolve",
    "run",
    "run_request",
]
