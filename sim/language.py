"""How people talk about a model: the language a model declares beside its code.

Everything a translator, the composer or the explainer needs to know about a model's words is data
on its `ModelSpec.language`, declared by the model itself (built-in or plugin). The readers of these
declarations name no model, parameter or metric of their own.

Phrases are plain word sequences ("reproduction number", "couriers on shift"). A reader matches
them word by word on word stems, so "schools" matches "school" and "isolating" matches "isolation";
a phrase word may be a number ("90% of orders") and then matches only that number.

Units are strings `pint` understands ("day", "minute", "km/h", "degC"). A value a question states in
another unit of the same dimension is converted ("10 mph", "50 °F", "a fortnight").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# What kind of quantity a parameter, field or metric holds; a reader accepts only values of that kind.
#   count: a whole number of things ("150 couriers", "12k people")
#   number: a plain number without a unit ("R0 of 2.5", "3.5 people per household")
#   share: a fraction 0..1, written as a percent or a fraction ("30%", "a third", "0.3")
#   duration: a length of time (unit: "day", "hour" or "minute"; "a fortnight", "90 min")
#   rate: a number per unit of time (unit: the time unit, e.g. "hour" for "orders per hour")
#   speed, length, temperature: a value in that dimension (unit: "km/h", "km", "degC")
#   day: a point in time counted in days from the start ("day 30", "in week 3")
#   flag: true or false, stated only by a value phrase ("well-mixed")
Dimension = Literal["count", "number", "share", "duration", "rate", "speed", "length", "temperature", "day", "flag"]

_UNIT_DIMENSIONS = {"duration", "rate", "speed", "length", "temperature"}


class _Declaration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParamLanguage(_Declaration):
    """How people name one parameter and state its value.

    phrases: names written next to the value, before ("R0 of 2") or after it ("150 couriers",
      "2 days infectious").
    unit: the parameter's unit (see the module docstring); values in other units are converted.
    values: phrases that state a value on their own ("overcast" -> 1.0, "single orders" -> 1).
    more / less: words that move it up or down ("longer", "slower"); "twice as slow" divides by 2.
      Generic words ("more", "increase", "fewer") need no declaration.
    subjects: what the more/less words describe when they stand for this parameter ("riders" for a
      speed: "riders twice as slow" is the speed, "kitchens twice as slow" the preparation time).
    nouns: nouns written right after a count and only there ("200 runs", "50 times"): words that
      would mean something else before a value ("run the model").
    counted: for a rate, the things counted ("orders"): "1,000 orders over 5 hours" is 200 per hour.
    horizon: the parameter is the length of the run: a duration stated with no name is this one.
    key: the answer says so when the question leaves it at its default (the values results depend on most).
    share_of: for a count, the parameter it may be stated as a share of ("0.1% of the population
      infected at the start" is 0.1% of the population).
    """

    phrases: tuple[str, ...] = ()
    dimension: Dimension = "number"
    unit: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    more: tuple[str, ...] = ()
    less: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    nouns: tuple[str, ...] = ()
    counted: tuple[str, ...] = ()
    horizon: bool = False
    key: bool = False
    share_of: str | None = None

    @model_validator(mode="after")
    def _unit_matches_dimension(self) -> ParamLanguage:
        if self.dimension in _UNIT_DIMENSIONS and not self.unit:
            raise ValueError(f"a {self.dimension} needs a unit (e.g. 'day', 'km/h', 'degC')")
        return self


class MetricLanguage(_Declaration):
    """How people name one metric.

    share: the metric is a fraction 0..1 (a target "50%" means 0.5).
    share_of: for a count, the parameter it may be stated as a share of ("10% of the population
      infectious at once" is 10% of `population`).
    complement: for a share, phrases that name what is left of it ("95% of orders arrive within 30
      minutes" is a late rate of 5%).
    better: which direction is an improvement, or None when neither is.
    headline: the metric an answer leads with when the question names none.
    label: how an answer names it ("people infectious at the peak"); shown: whether an answer's summary
      of a run lists it.
    run_end: the metric is the step the run ended on (an epidemic run until it is over).
    replaces: when a run reports this metric, an answer shows it in place of these (the size of a
      major outbreak in place of a mean over replicates of which some died out).
    interval: how an answer names the metric's interval when it is not the replicates' range ("95% CI").
    """

    phrases: tuple[str, ...] = ()
    dimension: Dimension = "number"
    unit: str | None = None
    share: bool = False
    share_of: str | None = None
    complement: tuple[str, ...] = ()
    better: Literal["lower", "higher"] | None = None
    headline: bool = False
    label: str | None = None
    shown: bool = True
    run_end: bool = False
    replaces: tuple[str, ...] = ()
    interval: str | None = None


class FieldLanguage(_Declaration):
    """How people name one field of an intervention ("compliance", "95% effective").

    share_of: for a share, the parameter a stated count is a share of ("vaccinate 2,000 people a day"
      is 2,000 / `population` a day).
    reduces: the field is the share taken away, so a share of what is left states its complement
      ("contacts down to 70% of normal" is an effectiveness of 0.3).
    """

    phrases: tuple[str, ...] = ()
    dimension: Dimension = "share"
    unit: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    share_of: str | None = None
    reduces: bool = False


class InterventionLanguage(_Declaration):
    """How people name one intervention and its fields.

    phrases: what names the intervention ("close schools", "lockdown", "vaccinate").
    strength: the field a bare value next to the intervention sets ("cut contacts by 30%").
    fields: the language of its fields (the strength field's own words included).
    """

    phrases: tuple[str, ...]
    strength: str | None = None
    fields: dict[str, FieldLanguage] = Field(default_factory=dict)


class TimingLanguage(_Declaration):
    """How people say when an intervention acts, shared by every intervention.

    start: words before the first day ("from day 30", "starting day 20").
    until: words before the last day ("until day 60").
    length: words before a duration ("for 4 weeks").
    to_end: phrases meaning "until the end of the run" ("onwards", "until the end").
    elapsed_before / elapsed_after: words before or after a length of time that make it the time
      since the run began, so the day it starts ("after 2 weeks", "2 weeks in", "at the 3-week mark").
    """

    start_field: str
    duration_field: str
    start: tuple[str, ...]
    until: tuple[str, ...]
    length: tuple[str, ...]
    to_end: tuple[str, ...]
    elapsed_before: tuple[str, ...] = ()
    elapsed_after: tuple[str, ...] = ()


class Exclusion(_Declaration):
    """Something a model does not represent, named so that a question about it is refused, not run.

    name: how the answer names it ("deaths"); phrases: how questions name it.
    """

    name: str
    phrases: tuple[str, ...]


class BreakdownLanguage(_Declaration):
    """How people ask for one of a model's breakdowns ("by setting", "where do infections happen").

    counts: its values are counts (an answer gives each part's share of the total); else shares.
    """

    phrases: tuple[str, ...]
    counts: bool = True


class ModelLanguage(_Declaration):
    """Everything a reader needs to know about a model's words.

    names: phrases that name the model itself ("agent-based model", "SEIR").
    words: words of the model's domain that route a question to it ("outbreak", "couriers").
    family: models that answer questions about the same system share a family ("epidemic"); a
      question goes to the first of its family (by `rank`) that understands everything it names.
    excludes: what the model does not represent: a question about it is refused, naming it.
    """

    names: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    family: str | None = None
    rank: int = 0
    params: dict[str, ParamLanguage] = Field(default_factory=dict)
    metrics: dict[str, MetricLanguage] = Field(default_factory=dict)
    interventions: dict[str, InterventionLanguage] = Field(default_factory=dict)
    breakdowns: dict[str, BreakdownLanguage] = Field(default_factory=dict)
    excludes: tuple[Exclusion, ...] = ()
    timing: TimingLanguage | None = None

    def all_phrases(self) -> Iterator[str]:
        """Every phrase this declaration holds (for vocabularies and spell checks)."""
        yield from self.names
        yield from self.words
        for p in self.params.values():
            yield from p.phrases
            yield from p.values
            yield from p.more
            yield from p.less
            yield from p.counted
            yield from p.nouns
            yield from p.subjects
        for m in self.metrics.values():
            yield from m.phrases
            yield from m.complement
        for iv in self.interventions.values():
            yield from iv.phrases
            for f in iv.fields.values():
                yield from f.phrases
                yield from f.values
        for b in self.breakdowns.values():
            yield from b.phrases
        for e in self.excludes:
            yield from e.phrases
        if self.timing is not None:
            t = self.timing
            yield from (*t.start, *t.until, *t.length, *t.to_end)


# Every model's run controls (sim.params.ModelParams), as people name them; a model may override them.
RUN_CONTROL_LANGUAGE: dict[str, ParamLanguage] = {
    "replicates": ParamLanguage(
        phrases=(
            "replicates",
            "replicate",
            "replications",
            "realisations",
            "realizations",
            "stochastic runs",
            "stochastic simulations",
            "stochastic sims",
            "random runs",
            "monte carlo runs",
            "ensemble of",
            "ensemble members",
            "number of runs",
        ),
        nouns=("runs", "times", "simulations", "sims", "draws", "repetitions", "iterations", "samples"),
        dimension="count",
    ),
    "seed": ParamLanguage(phrases=("random seed", "seed", "rng seed"), dimension="count"),
}


def complete_language(
    language: ModelLanguage | None,
    params: type[BaseModel],
    metrics: tuple[str, ...],
    interventions: Any,
    run_metrics: tuple[str, ...] = (),
) -> ModelLanguage:
    """The declaration checked against the model, with every parameter and metric present.

    What a model leaves undeclared is named by its field name ("member_trip_rate" -> "member trip
    rate"), with the dimension its type implies; the run controls come from RUN_CONTROL_LANGUAGE.
    """
    language = language or ModelLanguage()
    _check_names(language, params, (*metrics, *run_metrics), interventions)
    declared = dict(language.params)
    for name, info in params.model_fields.items():
        if name in declared:
            continue
        if name in RUN_CONTROL_LANGUAGE:
            declared[name] = RUN_CONTROL_LANGUAGE[name]
            continue
        words = name.replace("_", " ")
        dimension: Dimension = "flag" if info.annotation is bool else "count" if info.annotation is int else "number"
        declared[name] = ParamLanguage(phrases=(words,), dimension=dimension)
    named_metrics = dict(language.metrics)
    for name in metrics:
        named_metrics.setdefault(name, MetricLanguage(phrases=(name.replace("_", " "),)))
    return language.model_copy(update={"params": declared, "metrics": named_metrics})


def _check_names(
    language: ModelLanguage, params: type[BaseModel], metrics: tuple[str, ...], interventions: Any
) -> None:
    """A declaration names only what the model has: unknown names are a plugin author's mistake."""
    unknown = [name for name in language.params if name not in params.model_fields]
    if unknown:
        raise ValueError(f"language declares unknown parameters {unknown}; the model has {list(params.model_fields)}")
    unknown = [name for name in language.metrics if name not in metrics]
    if unknown:
        raise ValueError(f"language declares unknown metrics {unknown}; the model reports {list(metrics)}")
    unknown = [name for name in language.interventions if name not in interventions]
    if unknown:
        raise ValueError(
            f"language declares interventions the model does not support: {unknown}; supported: {sorted(interventions)}"
        )
