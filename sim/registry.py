"""The model registry: the built-in models plus plugins from the entry-point group `simqa.models`.

A plugin's entry point names a `ModelSpec` (or a zero-argument callable returning one). Once
registered a plugin is a first-class model: validated, run, cached, retrieved and evaluated
exactly like the built-ins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import ScenarioError, brief
from sim.language import ModelLanguage, complete_language
from sim.observables import FitParam, Observables
from sim.params import ModelParams

if TYPE_CHECKING:
    import numpy as np

    from sim.output import ModelOutput

ENTRY_POINT_GROUP = "simqa.models"

RunFunction = Callable[[Any, Sequence[Any]], "ModelOutput"]
ReplicatesFunction = Callable[[Any, Sequence[Any], Sequence["np.random.SeedSequence"]], "ModelOutput"]


@dataclass(frozen=True)
class ModelSpec:
    """Everything simqa needs to know about one model.

    run: `run(params, interventions) -> ModelOutput`; must honour `params.replicates` and
      `params.seed`, and be deterministic for a given seed.
    work: an estimate of the work one run costs, in "agent-days" or equivalent units, used to
      enforce resource caps before anything runs.
    run_replicates: optional, `run_replicates(params, interventions, seed_sequences) -> ModelOutput`
      runs exactly the replicates whose seed sequences are given (`sim.output.replicate_seeds`):
      replicate i of seed s draws only from `SeedSequence(s).spawn(n)[i]`, and nothing in it depends
      on n or on the other replicates. With it an executor may split one run's replicates across
      workers and join the pieces (`ModelOutput.concat`); `run` must then equal
      `finalize(params, run_replicates(params, interventions, replicate_seeds(params.seed, 0, n)))`.
    finalize: optional, `finalize(params, joined_output) -> ModelOutput` adds what depends on all
      replicates together (notes such as "3 of 20 replicates died out"), from the metrics,
      breakdowns and `replicate_facts` (not the series, which a worker may have dropped).
    batch_run: optional, `batch_run(params_list, interventions_list) -> list[ModelOutput]` runs many
      parameter sets at once (one interventions list per set), each as `run` would; used for sweeps
      and calibration scans of runs with one replicate.
    stochastic: whether a run's numbers depend on its seed, so that one run is one draw and
      experiments need replicates: a bool, or `stochastic(params) -> bool` for a model that is
      deterministic for some settings (seir with one replicate is its ODE). Unstated: stochastic.
    run_metrics: values of the replicates together that a run may report (`ModelOutput.run_metrics`,
      e.g. the probability of a major outbreak); the language may name them like metrics.
    language: how people talk about the model (`sim.language.ModelLanguage`): the words that route
      a question to it, how each parameter, metric and intervention is named, what it does not
      represent. Read by the translators, the composer and the explainer. Whatever is left out is
      named by its field name; after construction `language` always holds every parameter and metric.
    observables: optional, the columns of observed data the model can be fitted to, and how it
      produces them (`sim.observables.Observables`); without it the model cannot be fitted to data.
    fit_params: the parameters a fit to data may free (`sim.observables.FitParam`), with the range
      searched; a fit frees those the question names, else all of these that the question leaves unstated.
    """

    name: str
    params: type[ModelParams]
    run: RunFunction
    description: str
    metrics: tuple[str, ...]
    card: Path | None = None
    interventions: frozenset[str] = frozenset()
    breakdowns: tuple[str, ...] = ()
    time_unit: str = "day"
    work: Callable[[Any], float] | None = None
    batch_run: Callable[[Sequence[Any], Sequence[Sequence[Any]]], list[ModelOutput]] | None = None
    keywords: tuple[str, ...] = field(default=())
    run_replicates: ReplicatesFunction | None = None
    finalize: Callable[[Any, ModelOutput], ModelOutput] | None = None
    stochastic: bool | Callable[[Any], bool] = True
    observables: Observables | None = None
    fit_params: tuple[FitParam, ...] = ()
    language: ModelLanguage | None = None
    run_metrics: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        try:
            complete = complete_language(self.language, self.params, self.metrics, self.interventions, self.run_metrics)
            if self.keywords:  # the older way for a plugin to name its routing words
                complete = complete.model_copy(update={"words": (*complete.words, *self.keywords)})
        except ValueError as exc:
            raise ScenarioError(f"model {self.name!r}: its language declaration is invalid: {exc}") from None
        object.__setattr__(self, "language", complete)

    @property
    def words(self) -> ModelLanguage:
        """The complete language (never None once the spec is built)."""
        assert self.language is not None
        return self.language

    def work_units(self, params: ModelParams) -> float:
        return float(self.work(params)) if self.work else float(params.replicates)

    def is_stochastic(self, params: ModelParams) -> bool:
        """True when a run with `params` is one draw of the model's randomness."""
        return bool(self.stochastic(params)) if callable(self.stochastic) else bool(self.stochastic)


_BUILTINS = {
    "seir": "sim.models.seir:SPEC",
    "abm": "sim.models.abm:SPEC",
    "delivery": "sim.models.delivery:SPEC",
}

_lock = threading.Lock()
_models: dict[str, ModelSpec] = {}
_plugins_loaded = False
_plugin_errors: dict[str, str] = {}


def _load_object(target: str) -> Any:
    module, _, attr = target.partition(":")
    obj = import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def register(spec: ModelSpec) -> None:
    """Register a model at run time (tests, notebooks). Entry points are the durable way."""
    if not issubclass(spec.params, ModelParams):
        raise ScenarioError(
            f"model {spec.name!r}: its Params must subclass sim.ModelParams (it adds replicates and seed)"
        )
    with _lock:
        _models[spec.name] = spec


def unregister(name: str) -> None:
    with _lock:
        _models.pop(name, None)


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    with _lock:
        if _plugins_loaded:
            return
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in _BUILTINS or ep.name in _models:
                continue
            try:
                obj = ep.load()
                spec = obj() if callable(obj) and not isinstance(obj, ModelSpec) else obj
                if not isinstance(spec, ModelSpec):
                    raise TypeError(f"entry point gave {type(spec).__name__}, expected sim.ModelSpec")
                _models[ep.name] = spec
            except Exception as exc:  # a broken plugin must not take the built-ins down
                _plugin_errors[ep.name] = f"{type(exc).__name__}: {exc}"
        _plugins_loaded = True


def model_names() -> list[str]:
    _load_plugins()
    return sorted(set(_BUILTINS) | set(_models))


def get_model(name: str) -> ModelSpec:
    """The spec of model `name`; a clear error naming the known models otherwise."""
    if name in _models:
        return _models[name]
    if name in _BUILTINS:
        spec = _load_object(_BUILTINS[name])
        with _lock:
            _models[name] = spec
        return spec
    _load_plugins()
    if name in _models:
        return _models[name]
    hint = f" (plugin failed to load: {_plugin_errors[name]})" if name in _plugin_errors else ""
    raise ScenarioError(
        f"unknown model {brief(name)}{hint}; known models: {', '.join(model_names())}",
        field="model",
        value=name,
        allowed=", ".join(model_names()),
    )


def is_builtin(name: str) -> bool:
    """Whether `name` is one of the models that ship with simqa (a plugin or a registered model is not)."""
    return name in _BUILTINS


def loaded_model(name: str) -> ModelSpec | None:
    """The spec of model `name` when it is loaded already (it ran, or was looked up), else None:
    for a caller that must not pay the import of a model it only describes."""
    return _models.get(name)


def plugin_errors() -> dict[str, str]:
    _load_plugins()
    return dict(_plugin_errors)
