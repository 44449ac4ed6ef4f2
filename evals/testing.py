"""Fake assistants for testing the eval machinery without a translator.

`OracleAssistant` answers every known case exactly as its labels say (the request the case
expects, defaults filled, results equal to the labels, a text that quotes them); tests perturb
its answers to check that each scorer can fail. `BrokenAssistant` raises on chosen questions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from evals.case import Case
from evals.scorers import label_keys
from simqa.answer import Answer, CalibrationSummary, Citation, ResultSummary


def _filled_scenario(case: Case, index: int) -> Any:
    from sim import resolve

    expected = case.scenarios[index]
    keys = label_keys(case) if case.kind in ("simulate", "compare") else ["baseline"]
    data = {
        "label": keys[index] if index < len(keys) else f"scenario_{index + 1}",
        "model": case.model,
        "params": dict(expected.params),
        "interventions": [dict(iv) for iv in expected.interventions],
    }
    return resolve(data).to_scenario()


def oracle_answer(case: Case) -> Answer:
    """The answer a perfect assistant gives to `case` (numbers taken from the case's labels)."""
    from sim.experiments import CalibrateSpec, SweepSpec

    scenarios = [_filled_scenario(case, i) for i in range(len(case.scenarios))]
    results = []
    calibration = None
    text_parts = []
    if case.kind == "calibrate" and case.calibrate is not None:
        labels = case.labels.get("calibration", {})
        value = labels["value"].value if "value" in labels else 0.0
        achieved = labels[case.calibrate["metric"]].value if case.calibrate["metric"] in labels else 0.0
        calibration = CalibrationSummary(value=value, achieved=achieved, met=True)
        results.append(
            ResultSummary(label="calibration", metrics={case.calibrate["metric"]: achieved}, run_id="oracle-cal")
        )
        text_parts.append(f"{case.calibrate['param']} = {value:g} gives {case.calibrate['metric']} {achieved:g}.")
    else:
        for i, key in enumerate(label_keys(case) if case.kind in ("simulate", "compare", "sweep") else []):
            metrics = {m: lab.value for m, lab in case.labels.get(key, {}).items()}
            results.append(ResultSummary(label=key, metrics=metrics, run_id=f"oracle-{i}"))
            text_parts.append(f"{key}: " + ", ".join(f"{m} {v:,.4g}" for m, v in metrics.items()) + ".")
    mentions = [m.split("|")[0] for m in case.mentions]
    if case.kind in ("clarify", "refuse"):
        text_parts.append("I cannot run that as asked: " + ", ".join(mentions or ["out of scope"]) + ".")
    elif case.kind == "explain":
        text_parts.append("The model card explains it.")
    return Answer(
        question=case.question,
        kind=case.kind,
        model=case.model if case.kind not in ("clarify", "refuse") else None,
        scenarios=scenarios,
        sweep=SweepSpec.model_validate(case.sweep) if case.sweep else None,
        calibrate=CalibrateSpec.model_validate(case.calibrate) if case.calibrate else None,
        results=results,
        text=" ".join(text_parts) or "ok",
        citations=[Citation(source=_section(c.split("|")[0])) for c in case.cite],
        translator="oracle",
        timings_ms={"retrieve": 1.0, "translate": 2.0, "simulate": 5.0, "compose": 1.0},
        usage={"prompt_tokens": 100, "completion_tokens": 20},
        calibration=calibration,
    )


def _section(cite: str) -> str:
    return cite if "#" in cite else cite + "#overview"


class _Conversation:
    def __init__(self, assistant: OracleAssistant) -> None:
        self.assistant = assistant

    def ask(self, question: str, *, exclude_case: str | None = None) -> Answer:
        return self.assistant.ask(question, exclude_case=exclude_case)


class OracleAssistant:
    """Answers the given cases perfectly; `mutate(case, answer)` may spoil chosen answers."""

    def __init__(self, cases: Iterable[Case], mutate: Callable[[Case, Answer], Answer] | None = None) -> None:
        self.by_question = {c.question: c for c in cases}
        self.mutate = mutate
        self.asked: list[tuple[str, str | None]] = []

    def ask(self, question: str, *, exclude_case: str | None = None) -> Answer:
        self.asked.append((question, exclude_case))
        case = self.by_question.get(question)
        if case is None:  # an earlier turn of a conversation
            return Answer(question=question, kind="clarify", text="noted", translator="oracle")
        answer = oracle_answer(case)
        return self.mutate(case, answer) if self.mutate else answer

    def conversation(self) -> _Conversation:
        return _Conversation(self)


class BrokenAssistant(OracleAssistant):
    """An oracle that raises `RuntimeError` for the questions in `fail_on`."""

    def __init__(self, cases: Iterable[Case], fail_on: Iterable[str]) -> None:
        super().__init__(cases)
        self.fail_on = set(fail_on)

    def ask(self, question: str, *, exclude_case: str | None = None) -> Answer:
        if question in self.fail_on:
            raise RuntimeError(f"boom on {question!r}")
        return super().ask(question, exclude_case=exclude_case)
