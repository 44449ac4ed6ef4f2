"""A labelled eval case: a question and what a correct answer must contain. Cases are data."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

Kind = Literal["simulate", "compare", "sweep", "calibrate", "explain", "clarify", "refuse"]


class ExpectedScenario(BaseModel):
    """The parameters and interventions a question states (not the defaults it leaves alone).

    `interventions` items are dicts with `type` and the fields the question states.
    """

    model_config = ConfigDict(extra="forbid")

    label: str | None = None
    params: dict[str, float | int | bool] = Field(default_factory=dict)
    interventions: list[dict[str, Any]] = Field(default_factory=list)


class MetricLabel(BaseModel):
    """An expected metric value, computed by `simqa eval relabel` (never typed by hand)."""

    model_config = ConfigDict(extra="forbid")

    value: float
    rel_tol: float = 0.02
    abs_tol: float = 0.0


class LabelProvenance(BaseModel):
    """How `labels` were computed, so a reader (and `relabel --check`) knows what to rerun."""

    model_config = ConfigDict(extra="forbid")

    engine_version: str
    replicates: int | None = None
    seed: int | None = None


class Case(BaseModel):
    """One question (the last of `turns` when it is a conversation) and its expected answer.

    For explain, `cite` lists doc sections that should be cited; for clarify / refuse,
    `mentions` are words the message should contain (e.g. the bound that was broken). In both,
    an item `a|b` is met by either alternative.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    turns: list[str] = Field(default_factory=list, description="earlier turns of a conversation, oldest first")
    tags: list[str] = Field(default_factory=list)
    kind: Kind
    accept_kinds: list[Kind] = Field(
        default_factory=list,
        description="other kinds also counted correct (an invalid value may be met by clarify or refuse)",
    )
    model: str | None = None
    scenarios: list[ExpectedScenario] = Field(default_factory=list)
    sweep: dict[str, Any] | None = None
    calibrate: dict[str, Any] | None = None
    cite: list[str] = Field(default_factory=list)
    mentions: list[str] = Field(default_factory=list)
    labels: dict[str, dict[str, MetricLabel]] = Field(
        default_factory=dict, description="scenario label -> metric -> expected value (from relabel)"
    )
    labelled_with: LabelProvenance | None = None
    note: str | None = Field(None, description="why the expected answer is what it is, for a reviewer")
    _file: str | None = PrivateAttr(None)

    @property
    def file(self) -> str | None:
        """The case file it was read from (set by `load_cases`; never written into a case file)."""
        return self._file

    def from_file(self, name: str | None) -> Case:
        """This case, recorded as coming from the case file `name`."""
        self._file = name
        return self

    def accepted_kinds(self) -> list[Kind]:
        return [self.kind, *[k for k in self.accept_kinds if k != self.kind]]
