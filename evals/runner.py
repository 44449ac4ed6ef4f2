"""The eval runner: ask every case (concurrently, `repeats` times), score each answer, write a
versioned JSON log and an HTML report, and compare two runs case by case.

A case whose assistant call raises is recorded with its error and scored as failed; the run goes on.
"""

from __future__ import annotations

import inspect
import json
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field

from evals.case import Case
from evals.dataset import CASES_DIR, missing_model
from evals.scorers import (
    CASE_SCORERS,
    Outcome,
    Score,
    Scorer,
    consistency,
    failed_scores,
    latency,
    refusal_metrics,
    retrieval,
    score_answer,
    usage_and_cost,
)
from simqa.answer import Answer

# 2: each result names its case file; `by_file`, `by_tag` and `skipped` added (version 1 logs still load).
LOG_VERSION = 2
READABLE_VERSIONS = (1, 2)
NO_FILE = "-"  # the case file of a case that was not read from one
LOG_FILE = "log.json"
REPORT_FILE = "report.html"
# Aggregates the summary tables show, in this order.
SUMMARY_SCORERS = ("case_correct", "kind_accuracy", "model_accuracy", "answer_correctness", "grounding")


class AnswersQuestions(Protocol):
    def ask(self, question: str, *, exclude_case: str | None = None) -> Any: ...


class AssistantLike(AnswersQuestions, Protocol):
    def conversation(self) -> AnswersQuestions: ...


class CaseResult(BaseModel):
    """One case, one repeat: what was asked, what came back, every score."""

    case_id: str
    case_file: str = NO_FILE
    repeat: int = 0
    question: str
    turns: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    expected: dict[str, Any]
    answer: dict[str, Any] | None = None
    error: str | None = None
    error_traceback: str | None = None
    scores: list[Score] = Field(default_factory=list)
    wall_ms: float = 0.0

    def score(self, name: str) -> Score | None:
        return next((s for s in self.scores if s.name == name), None)

    def value(self, name: str) -> float | None:
        score = self.score(name)
        return None if score is None else score.value


class RunConfig(BaseModel):
    translator: str | None = None
    repeats: int = 1
    concurrency: int = 1
    tags: list[str] | None = None
    cases: int = 0
    cache_dir: str | None = None
    scorers: list[str] = Field(default_factory=list)
    price_table: str | None = None


class EvalLog(BaseModel):
    """The versioned record of one eval run (`version` changes when the layout does)."""

    version: int = LOG_VERSION
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    config: RunConfig = Field(default_factory=RunConfig)
    results: list[CaseResult] = Field(default_factory=list)
    metrics: dict[str, float | int | None] = Field(default_factory=dict)
    by_kind: dict[str, dict[str, float | int | None]] = Field(default_factory=dict)
    by_model: dict[str, dict[str, float | int | None]] = Field(default_factory=dict)
    by_file: dict[str, dict[str, float | int | None]] = Field(default_factory=dict)
    by_tag: dict[str, dict[str, float | int | None]] = Field(default_factory=dict)
    skipped: dict[str, str] = Field(
        default_factory=dict, description="case id -> why it was not asked (its model is not installed)"
    )
    latency_ms: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    usage: dict[str, Any] = Field(default_factory=dict)
    retrieval: dict[str, Any] = Field(default_factory=dict)
    wall_s: float = 0.0

    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if r.error is not None or r.value("case_correct") != 1.0]


class LogVersionError(ValueError):
    pass


def load_log(path: str | Path) -> EvalLog:
    """A log written by `run_eval` (a file, or the run folder holding `log.json`)."""
    path = Path(path)
    if path.is_dir():
        path = path / LOG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no eval log at {path}: give a log.json or the folder of a `simqa eval` run")
    data = json.loads(path.read_text(encoding="utf-8"))
    version = data.get("version") if isinstance(data, dict) else None
    if version not in READABLE_VERSIONS:
        readable = ", ".join(str(v) for v in READABLE_VERSIONS)
        raise LogVersionError(
            f"{path} is an eval log of version {version!r}; this simqa reads versions {readable}: rerun `simqa eval`"
        )
    return EvalLog.model_validate(data)  # a version 1 log has no case files: its by_file and by_tag are empty


def write_log(log: EvalLog, out_dir: str | Path) -> tuple[Path, Path]:
    """`log.json` and `report.html` in `out_dir`."""
    from evals.report import html_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / LOG_FILE
    log_path.write_text(log.model_dump_json(indent=1), encoding="utf-8")
    report_path = out / REPORT_FILE
    report_path.write_text(html_report(log), encoding="utf-8")
    return log_path, report_path


def select_cases(cases: Iterable[Case], tags: Sequence[str] | None) -> list[Case]:
    """Cases carrying any of `tags` (a case's kind, model and id count as tags too)."""
    cases = list(cases)
    if not tags:
        return cases
    wanted = {t.lower() for t in tags}
    return [c for c in cases if wanted & {t.lower() for t in (*c.tags, c.kind, c.model or "", c.id)}]


def request_signature(answer: Answer) -> str:
    """The part of an answer that `--repeats` should reproduce: the request, not the prose."""
    body = {
        "kind": answer.kind,
        "model": answer.model,
        "scenarios": [
            {"params": s.params, "interventions": [iv.model_dump(mode="json") for iv in s.interventions]}
            for s in answer.scenarios
        ],
        "sweep": answer.sweep.model_dump(mode="json") if answer.sweep else None,
        "calibrate": answer.calibrate.model_dump(mode="json") if answer.calibrate else None,
    }
    return json.dumps(body, sort_keys=True, default=str)


def _accepts_exclude_case(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "exclude_case" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _ask(target: AnswersQuestions, question: str, case_id: str) -> Any:
    if _accepts_exclude_case(target.ask):
        return target.ask(question, exclude_case=case_id)
    return target.ask(question)


def ask_case(assistant: AssistantLike, case: Case) -> Answer:
    """The answer to a case: one question, or a conversation whose last turn is scored."""
    if case.turns:
        conversation = assistant.conversation()
        for turn in case.turns:
            _ask(conversation, turn, case.id)
        answer = _ask(conversation, case.question, case.id)
    else:
        answer = _ask(assistant, case.question, case.id)
    if isinstance(answer, Answer):
        return answer
    if isinstance(answer, BaseModel):
        return Answer.model_validate(answer.model_dump())
    return Answer.model_validate(answer)


def run_case(assistant: AssistantLike, case: Case, repeat: int, scorers: Sequence[Scorer]) -> CaseResult:
    start = time.perf_counter()
    result = CaseResult(
        case_id=case.id,
        case_file=case.file or NO_FILE,
        repeat=repeat,
        question=case.question,
        turns=list(case.turns),
        tags=list(case.tags),
        expected=case.model_dump(mode="json", exclude={"labels", "labelled_with"}) | {"labels": _labels(case)},
    )
    try:
        answer = ask_case(assistant, case)
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        result.error_traceback = traceback.format_exc(limit=8)
        result.scores = failed_scores(scorers, result.error)
    else:
        result.answer = answer.model_dump(mode="json")
        result.scores = score_answer(case, answer, scorers)
    result.wall_ms = round((time.perf_counter() - start) * 1000, 3)
    return result


def _labels(case: Case) -> dict[str, Any]:
    return {k: {m: lab.value for m, lab in v.items()} for k, v in case.labels.items()}


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _outcomes(cases: dict[str, Case], results: Sequence[CaseResult]) -> list[Outcome]:
    outs = []
    for r in results:
        case = cases[r.case_id]
        answer = Answer.model_validate(r.answer) if r.answer is not None else None
        outs.append(
            Outcome(
                case_id=r.case_id,
                kind=case.kind,
                accepted_kinds=list(case.accepted_kinds()),
                model=case.model,
                answer_kind=answer.kind if answer else None,
                signature=request_signature(answer) if answer else None,
                timings_ms=answer.timings_ms if answer else {},
                usage=answer.usage if answer else {},
                translator=answer.translator if answer else None,
            )
        )
    return outs


def _group_summary(results: Sequence[CaseResult]) -> dict[str, float | int | None]:
    row: dict[str, float | int | None] = {"runs": len(results), "errors": sum(1 for r in results if r.error)}
    for name in SUMMARY_SCORERS:
        row[name] = _mean(r.value(name) for r in results)
    return row


def _field_totals(results: Sequence[CaseResult], scorer: str) -> dict[str, float | None]:
    tp = fp = fn = 0
    for r in results:
        score = r.score(scorer)
        if score is None or score.value is None or r.error:
            continue
        tp += int(score.details.get("true_positive", 0))
        fp += int(score.details.get("false_positive", 0))
        fn += int(score.details.get("false_negative", 0))
    prefix = scorer.removesuffix("_match")
    return {
        f"{prefix}_precision": tp / (tp + fp) if tp + fp else None,
        f"{prefix}_recall": tp / (tp + fn) if tp + fn else None,
    }


def summarise(log: EvalLog, cases: Sequence[Case], prices: dict[str, dict[str, float]] | None = None) -> EvalLog:
    """Fill the log's aggregates from its results."""
    by_id = {c.id: c for c in cases}
    results = log.results
    metrics: dict[str, float | int | None] = {
        "cases": len({r.case_id for r in results}),
        "runs": len(results),
        "errors": sum(1 for r in results if r.error),
    }
    names = list(dict.fromkeys(s.name for r in results for s in r.scores))
    for name in names:
        metrics[name] = _mean(r.value(name) for r in results)
    metrics.update(_field_totals(results, "params_match"))
    metrics.update(_field_totals(results, "interventions_match"))
    outcomes = _outcomes(by_id, results)
    metrics.update(refusal_metrics(outcomes))
    metrics.update(consistency(outcomes))
    log.metrics = metrics
    kinds: dict[str, list[CaseResult]] = {}
    models: dict[str, list[CaseResult]] = {}
    files: dict[str, list[CaseResult]] = {}
    tags: dict[str, list[CaseResult]] = {}
    for r in results:
        case = by_id[r.case_id]
        kinds.setdefault(case.kind, []).append(r)
        models.setdefault(case.model or "none", []).append(r)
        files.setdefault(r.case_file, []).append(r)
        for tag in dict.fromkeys(r.tags):
            tags.setdefault(tag, []).append(r)
    log.by_kind = {k: _group_summary(v) for k, v in sorted(kinds.items())}
    log.by_model = {k: _group_summary(v) for k, v in sorted(models.items())}
    log.by_file = {k: _group_summary(v) for k, v in sorted(files.items())}
    log.by_tag = {k: _group_summary(v) for k, v in sorted(tags.items())}
    log.latency_ms = latency(outcomes)
    log.usage = usage_and_cost(outcomes, prices)
    return log


def _names_file(spec: str, case_file: str) -> bool:
    if spec == case_file or Path(case_file).name == spec:
        return True
    try:
        return (
            Path(spec).resolve() == Path(case_file).resolve()
            or Path(spec).resolve() == (CASES_DIR / case_file).resolve()
        )
    except OSError:
        return False


def correct_share(log: EvalLog, files: Sequence[str] | None = None) -> float | None:
    """The mean case_correct over the runs of `files` (case file names or paths, pooled), or over all
    runs; None when no run of them was scored. A file no run came from is an error naming the files."""
    results = log.results
    if files:
        unknown = [f for f in files if not any(_names_file(f, r.case_file) for r in results)]
        if unknown:
            known = ", ".join(sorted({r.case_file for r in results})) or "none"
            raise ValueError(f"no case of this run comes from {', '.join(unknown)}; the run's case files: {known}")
        results = [r for r in results if any(_names_file(f, r.case_file) for f in files)]
    return _mean(r.value("case_correct") for r in results)


def load_price_table(path: str | Path | None) -> dict[str, dict[str, float]] | None:
    """A YAML/JSON table {model: {prompt_per_million, completion_per_million}} (`--prices`, or SIMQA_PRICE_TABLE
    through `simqa.settings.Settings.price_table`)."""
    if not path:
        return None
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"price table {path} must map model names to {{prompt_per_million, completion_per_million}}")
    return {str(k): {kk: float(vv) for kk, vv in v.items()} for k, v in data.items()}


def run_eval(
    cases: Sequence[Case],
    assistant_factory: Callable[[], AssistantLike],
    repeats: int = 1,
    concurrency: int = 4,
    tags: Sequence[str] | None = None,
    out_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    scorers: Sequence[Scorer] = CASE_SCORERS,
    progress: bool = True,
    translator: str | None = None,
    price_table: str | Path | None = None,
    retrieval_path: str | Path | None = None,
    with_retrieval: bool = True,
) -> EvalLog:
    """Ask and score every selected case `repeats` times on `concurrency` threads.

    assistant_factory: builds the assistant once (it is shared by the threads; `simqa.Assistant`
      is thread-safe). cache_dir: recorded in the log; the factory passes it to the translator,
      whose on-disk cache of LLM responses makes a rerun free.
    out_dir: when given, `log.json` and `report.html` are written there.
    with_retrieval: also score retrieval (recall@k, MRR) with `rag.evaluate_retrieval(retrieval_path)`.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    selected = select_cases(cases, tags)
    skipped = {}
    for case in list(selected):
        missing = missing_model(case)
        if missing is not None:  # a plugin's case without the plugin: not asked, and said so
            skipped[case.id] = f"model {missing!r} is not installed"
            selected.remove(case)
    prices = load_price_table(price_table)
    start = time.perf_counter()
    assistant = assistant_factory()
    jobs = [(case, rep) for rep in range(repeats) for case in selected]
    results: list[CaseResult | None] = [None] * len(jobs)
    lock = threading.Lock()

    def work(index: int) -> None:
        case, rep = jobs[index]
        outcome = run_case(assistant, case, rep, scorers)
        with lock:
            results[index] = outcome

    bar = _progress_bar(progress)
    with bar:
        task = bar.add_task("eval", total=len(jobs))
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="eval") as pool:
            futures = [pool.submit(work, i) for i in range(len(jobs))]
            for future in as_completed(futures):
                future.result()  # run_case records errors itself; this only re-raises bugs in the runner
                bar.advance(task)
    log = EvalLog(
        config=RunConfig(
            translator=translator,
            repeats=repeats,
            concurrency=concurrency,
            tags=list(tags) if tags else None,
            cases=len(selected),
            cache_dir=str(cache_dir) if cache_dir else None,
            scorers=[s.__name__ for s in scorers],
            price_table=str(price_table) if price_table else None,
        ),
        results=[r for r in results if r is not None],
        skipped=skipped,
    )
    summarise(log, selected, prices)
    if with_retrieval:
        log.retrieval = retrieval(str(retrieval_path) if retrieval_path else None)
    else:
        log.retrieval = {"skipped": "retrieval not scored (--no-retrieval)"}
    for key in ("recall_at_k", "mrr"):
        if isinstance(log.retrieval.get(key), int | float):
            log.metrics[f"retrieval_{key}"] = float(log.retrieval[key])
    log.wall_s = round(time.perf_counter() - start, 3)
    if out_dir is not None:
        write_log(log, out_dir)
    return log


def _progress_bar(enabled: bool) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not enabled,
        transient=False,
    )


# --- comparing two runs ----------------------------------------------------------------------------


class CaseChange(BaseModel):
    case_id: str
    before: float | None
    after: float | None


class RunComparison(BaseModel):
    """What changed between run A (before) and run B (after) on one higher-is-better metric."""

    metric: str
    before: float | None
    after: float | None
    max_drop: float
    better: list[CaseChange] = Field(default_factory=list)
    worse: list[CaseChange] = Field(default_factory=list)
    only_before: list[str] = Field(default_factory=list)
    only_after: list[str] = Field(default_factory=list)
    regressed: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.regressed else 0

    def summary(self) -> str:
        def fmt(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.3f}"

        lines = [
            f"{self.metric}: {fmt(self.before)} -> {fmt(self.after)} "
            f"({len(self.better)} cases better, {len(self.worse)} worse)"
        ]
        lines += [f"  better {c.case_id}: {fmt(c.before)} -> {fmt(c.after)}" for c in self.better]
        lines += [f"  worse  {c.case_id}: {fmt(c.before)} -> {fmt(c.after)}" for c in self.worse]
        if self.only_before:
            lines.append(f"  only in the first run: {', '.join(self.only_before)}")
        if self.only_after:
            lines.append(f"  only in the second run: {', '.join(self.only_after)}")
        if self.regressed:
            lines.append(f"REGRESSION: {self.metric} dropped by more than {self.max_drop:g}")
        return "\n".join(lines)


def _per_case(log: EvalLog, metric: str) -> dict[str, float | None]:
    values: dict[str, list[float | None]] = {}
    for r in log.results:
        values.setdefault(r.case_id, []).append(r.value(metric))
    return {k: _mean(v) for k, v in values.items()}


def compare_runs(
    log_a: EvalLog | str | Path, log_b: EvalLog | str | Path, metric: str = "case_correct", max_drop: float = 0.0
) -> RunComparison:
    """Case-by-case changes of `metric` from run A to run B; `regressed` when the run's value drops
    by more than `max_drop` (the CLI then exits non-zero)."""
    a = log_a if isinstance(log_a, EvalLog) else load_log(log_a)
    b = log_b if isinstance(log_b, EvalLog) else load_log(log_b)
    known = set(a.metrics) | set(b.metrics)
    if metric not in known:
        numeric = sorted(k for k in known if isinstance(a.metrics.get(k, b.metrics.get(k)), float))
        raise ValueError(f"unknown metric {metric!r}; the logs have: {', '.join(numeric)}")
    before, after = a.metrics.get(metric), b.metrics.get(metric)
    per_a, per_b = _per_case(a, metric), _per_case(b, metric)
    if (per_a or per_b) and not set(per_a) & set(per_b):
        raise ValueError(
            f"the two logs have no case in common ({len(per_a)} and {len(per_b)} cases): "
            "compare two runs of the same case files"
        )
    comparison = RunComparison(
        metric=metric,
        before=float(before) if before is not None else None,
        after=float(after) if after is not None else None,
        max_drop=max_drop,
        only_before=sorted(set(per_a) - set(per_b)),
        only_after=sorted(set(per_b) - set(per_a)),
    )
    for case_id in sorted(set(per_a) & set(per_b)):
        va, vb = per_a[case_id], per_b[case_id]
        if va is None or vb is None or abs(va - vb) < 1e-12:
            continue
        (comparison.better if vb > va else comparison.worse).append(CaseChange(case_id=case_id, before=va, after=vb))
    if before is not None and after is not None:
        comparison.regressed = float(before) - float(after) > max_drop + 1e-12
    elif before is not None:
        comparison.regressed = True  # the metric vanished
    return comparison
