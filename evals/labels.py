"""Labels are computed, never typed: `relabel` runs the engine on each case's expected scenario.

`relabel(paths)` writes the expected metric values back into the case files; `relabel(paths,
check=True)` reruns them and reports every stored label that a fresh run no longer reproduces
within its tolerance (CI fails on that). Labelled metrics are the headline ones per model, rounded
to 6 significant figures so the files stay readable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from evals.case import Case, LabelProvenance, MetricLabel
from evals.dataset import case_files, missing_model, read_case_file, write_case_file
from evals.scorers import RUN_KINDS, label_keys

# The metrics a label records, per model: the ones answers quote. Plugins: all their scalar metrics.
LABELLED_METRICS: dict[str, tuple[str, ...]] = {
    "seir": ("peak_infected", "peak_day", "attack_rate"),
    "abm": ("peak_infected", "peak_day", "attack_rate"),
    "delivery": ("p50_minutes", "p90_minutes", "late_rate", "utilization"),
}
# A case whose labels cost more than this (in the models' work units) is too big for CI: shrink it.
RELABEL_MAX_WORK = 3e8
SIGNIFICANT_DIGITS = 6
SHARE_METRICS = ("attack_rate", "late_rate", "utilization")
DAY_METRICS = ("peak_day",)


class LabelMismatch(BaseModel):
    case_id: str
    key: str
    metric: str
    stored: float | None
    fresh: float | None
    explanation: str


class RelabelReport(BaseModel):
    files: list[str] = Field(default_factory=list)
    cases: int = 0
    labelled: int = 0
    changed_files: list[str] = Field(default_factory=list)
    changed_cases: list[str] = Field(default_factory=list)
    mismatches: list[LabelMismatch] = Field(default_factory=list)
    errors: dict[str, str] = Field(default_factory=dict)
    skipped: dict[str, str] = Field(
        default_factory=dict, description="case id -> why it was not labelled (its model is not installed)"
    )
    seconds: float = 0.0
    check: bool = False

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.errors

    def summary(self) -> str:
        mode = "checked" if self.check else "labelled"
        head = f"{mode} {self.labelled} of {self.cases} cases in {len(self.files)} files in {self.seconds:.1f} s"
        lines = [head]
        if not self.check:
            lines.append(f"changed: {len(self.changed_cases)} cases in {len(self.changed_files)} files")
        lines += [f"MISMATCH {m.case_id} {m.key}.{m.metric}: {m.explanation}" for m in self.mismatches]
        lines += [f"ERROR {cid}: {msg}" for cid, msg in self.errors.items()]
        if self.skipped:
            reasons = sorted(set(self.skipped.values()))
            lines.append(f"skipped {len(self.skipped)} cases ({'; '.join(reasons)}): {', '.join(sorted(self.skipped))}")
        return "\n".join(lines)


def tolerance(metric: str, stochastic: bool) -> tuple[float, float]:
    """(rel_tol, abs_tol) for comparing an answer's metric with a label.

    Deterministic runs (seir ODE) reproduce exactly; 1% leaves room for solver settings. Stochastic
    runs reproduce exactly with the same seed and replicates, but an assistant may choose others,
    so they get room for replicate noise.
    """
    rel = 0.05 if stochastic else 0.01
    if metric in SHARE_METRICS:
        return rel, 0.02 if stochastic else 0.002
    if metric in DAY_METRICS:
        return rel, 3.0 if stochastic else 1.0
    if metric.endswith("_minutes"):
        return rel, 1.0 if stochastic else 0.1
    return rel, 0.0


def _round(value: float) -> float:
    if value == 0 or not math.isfinite(value):
        return float(value)
    digits = SIGNIFICANT_DIGITS - math.floor(math.log10(abs(value))) - 1
    return float(round(value, digits))


def _scenario_dicts(case: Case) -> list[dict[str, Any]]:
    keys = label_keys(case) if case.kind in ("simulate", "compare") else ["baseline"]
    return [
        {
            "label": keys[i] if i < len(keys) else f"scenario_{i + 1}",
            "model": case.model,
            "params": dict(s.params),
            "interventions": [dict(iv) for iv in s.interventions],
        }
        for i, s in enumerate(case.scenarios)
    ]


def _metrics_of(model: str, metrics: dict[str, Any], stochastic: bool) -> dict[str, MetricLabel]:
    names = LABELLED_METRICS.get(model) or tuple(k for k, v in metrics.items() if not isinstance(v, dict))
    out = {}
    for name in names:
        value = metrics.get(name)
        if isinstance(value, int | float):
            rel, abs_ = tolerance(name, stochastic)
            out[name] = MetricLabel(value=_round(float(value)), rel_tol=rel, abs_tol=abs_)
    return out


def compute_labels(case: Case) -> tuple[dict[str, dict[str, MetricLabel]], LabelProvenance | None]:
    """The labels of one case, from a fresh run of its expected scenario (empty for explain/clarify/refuse)."""
    from sim import ENGINE_VERSION, prepare, run_request

    if case.kind not in RUN_KINDS:
        return {}, None
    if case.model is None or not case.scenarios:
        raise ValueError(f"a {case.kind} case needs `model` and `scenarios`")
    scenarios = _scenario_dicts(case)
    prepared = [prepare(s) for s in scenarios]
    resolved = prepared[0]
    work = sum(p.spec.work_units(p.params) for p in prepared)
    runs = len(case.sweep["values"]) if case.kind == "sweep" and case.sweep else 1
    if work * runs > RELABEL_MAX_WORK:
        raise ValueError(
            f"labelling costs about {work * runs:.3g} work units, over {RELABEL_MAX_WORK:.3g}: "
            "use a smaller population, fewer days or fewer values in the case"
        )
    if case.kind == "sweep" and case.sweep is None:
        raise ValueError("a sweep case needs `sweep`")
    if case.kind == "calibrate" and case.calibrate is None:
        raise ValueError("a calibrate case needs `calibrate`")
    outcome = run_request(case.kind, scenarios, sweep_spec=case.sweep, calibrate_spec=case.calibrate)
    ran = outcome.results[-1].meta.replicates
    stochastic = resolved.spec.is_stochastic(resolved.params.model_copy(update={"replicates": ran}))
    provenance = LabelProvenance(engine_version=ENGINE_VERSION, replicates=ran, seed=resolved.params.seed)
    labels: dict[str, dict[str, MetricLabel]] = {}
    if case.kind == "calibrate":
        assert outcome.calibration is not None
        found = outcome.calibration
        # The calibrated value moves more than the metric near a flat response: 5% relative.
        labels["calibration"] = {
            "value": MetricLabel(value=_round(found.value), rel_tol=0.05, abs_tol=0.0),
            found.metric: MetricLabel(
                value=_round(found.achieved), rel_tol=0.05, abs_tol=tolerance(found.metric, True)[1]
            ),
        }
        return labels, provenance
    keys = label_keys(case) if case.kind == "sweep" else [s["label"] for s in scenarios]
    for key, result in zip(keys, outcome.results, strict=True):
        labels[key] = _metrics_of(case.model, result.metrics, stochastic)
    return labels, provenance


def compare_labels(case: Case, fresh: dict[str, dict[str, MetricLabel]]) -> list[LabelMismatch]:
    """Stored labels that a fresh run does not reproduce within the stored tolerance."""
    problems = []
    for key in sorted(set(case.labels) | set(fresh)):
        stored_metrics, fresh_metrics = case.labels.get(key, {}), fresh.get(key, {})
        for metric in sorted(set(stored_metrics) | set(fresh_metrics)):
            stored, new = stored_metrics.get(metric), fresh_metrics.get(metric)
            if stored is None or new is None:
                what = "not stored (run `simqa eval relabel`)" if stored is None else "no longer produced"
                problems.append(
                    LabelMismatch(
                        case_id=case.id,
                        key=key,
                        metric=metric,
                        stored=stored.value if stored else None,
                        fresh=new.value if new else None,
                        explanation=what,
                    )
                )
            elif not math.isclose(new.value, stored.value, rel_tol=stored.rel_tol, abs_tol=stored.abs_tol):
                problems.append(
                    LabelMismatch(
                        case_id=case.id,
                        key=key,
                        metric=metric,
                        stored=stored.value,
                        fresh=new.value,
                        explanation=(
                            f"stored {stored.value:.6g}, fresh run {new.value:.6g} "
                            f"(tolerance rel {stored.rel_tol:g}, abs {stored.abs_tol:g})"
                        ),
                    )
                )
    return problems


def relabel(
    paths: Iterable[str | Path] | str | Path | None = None,
    check: bool = False,
    workers: int = 1,
    only: Iterable[str] | None = None,
) -> RelabelReport:
    """Recompute the labels of every case under `paths` (the packaged cases by default).

    check=False writes them back (files rewritten only when something changed); check=True writes
    nothing and reports disagreements. `only` restricts to some case ids.
    """
    start = time.perf_counter()
    wanted = set(only) if only is not None else None
    report = RelabelReport(check=check)
    for path in case_files(paths):
        report.files.append(str(path))
        cases = read_case_file(path)
        report.cases += len(cases)
        todo = []
        for case in cases:
            if wanted is not None and case.id not in wanted:
                continue
            missing = missing_model(case)
            if missing is not None:  # a plugin's case without the plugin: its stored labels are kept
                report.skipped[case.id] = f"model {missing!r} is not installed"
            else:
                todo.append(case)

        def label_one(case: Case) -> tuple[Case, Any]:
            try:
                return case, compute_labels(case)
            except Exception as exc:
                return case, exc

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            outcomes = dict((c.id, out) for c, out in pool.map(label_one, todo))
        updated = []
        for case in cases:
            outcome = outcomes.get(case.id)
            if outcome is None:
                updated.append(case)
                continue
            if isinstance(outcome, Exception):
                report.errors[case.id] = f"{type(outcome).__name__}: {outcome}"
                updated.append(case)
                continue
            labels, provenance = outcome
            if case.kind in RUN_KINDS:
                report.labelled += 1
            if check:
                report.mismatches.extend(compare_labels(case, labels))
                updated.append(case)
                continue
            new = case.model_copy(update={"labels": labels, "labelled_with": provenance})
            if new.model_dump(mode="json") != case.model_dump(mode="json"):
                report.changed_cases.append(case.id)
            updated.append(new)
        if not check:
            before = path.read_text(encoding="utf-8")
            write_case_file(path, updated)
            if path.read_text(encoding="utf-8") != before:
                report.changed_files.append(str(path))
    report.seconds = time.perf_counter() - start
    return report
