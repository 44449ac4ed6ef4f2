"""The packaged cases: enough of them, every kind and model, valid expected scenarios, labels
present, citations that exist, and a file format that survives a rewrite."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from evals.case import Case
from evals.dataset import CASES_DIR, dump_cases, load_cases, missing_model, read_case_file
from evals.scorers import RUN_KINDS, label_keys, score_answer
from evals.testing import oracle_answer

ROOT = Path(__file__).resolve().parents[2]
CASES = load_cases()
EXTERNAL = "external.yaml"  # questions written outside the team
OWN = [c for c in CASES if c.file != EXTERNAL]
# A plugin's cases (bikeshare) need the plugin installed; without it they are skipped.
INSTALLED = [c for c in CASES if missing_model(c) is None]


def test_every_case_records_its_file() -> None:
    files = Counter(c.file for c in CASES)
    assert {EXTERNAL, "seir.yaml", "abm.yaml", "delivery.yaml", "conversations.yaml"} <= set(files), files
    assert files[EXTERNAL] == 160 and all(c.id.startswith("x-") for c in CASES if c.file == EXTERNAL)
    assert not any(c.id.startswith("x-") for c in OWN)


def test_at_least_150_own_cases_across_all_kinds_and_models() -> None:
    assert len(OWN) >= 150
    kinds = Counter(c.kind for c in OWN)
    assert set(kinds) == {"simulate", "compare", "sweep", "calibrate", "explain", "clarify", "refuse"}
    assert all(n >= 10 for n in kinds.values()), kinds
    models = Counter(c.model for c in OWN if c.kind in RUN_KINDS)
    assert {"seir", "abm", "delivery"} <= set(models) <= {"seir", "abm", "delivery", "bikeshare"}
    for model in ("seir", "abm", "delivery"):
        model_kinds = {c.kind for c in OWN if c.model == model}
        assert set(RUN_KINDS) <= model_kinds, (model, model_kinds)


def test_the_required_kinds_of_difficulty_are_present() -> None:
    tags = Counter(t for c in OWN for t in c.tags)
    for tag in (
        "out-of-scope",
        "ambiguous",
        "invalid",
        "injection",
        "conversation",
        "typos",
        "words",
        "terse",
        "chatty",
    ):
        assert tags[tag] >= 3, tag
    assert sum(1 for c in OWN if c.turns) >= 10


def test_ids_are_unique_and_shape_follows_kind() -> None:
    assert len({c.id for c in CASES}) == len(CASES)
    for case in CASES:
        if case.kind in RUN_KINDS:
            assert case.model and case.scenarios, case.id
            assert (len(case.scenarios) >= 2) == (case.kind == "compare"), case.id
            assert (case.sweep is not None) == (case.kind == "sweep"), case.id
            assert (case.calibrate is not None) == (case.kind == "calibrate"), case.id
        else:
            assert not case.scenarios and case.sweep is None and case.calibrate is None, case.id
        if "invalid" in case.tags:  # never runs: asks, or refuses naming the bound
            assert case.kind in ("clarify", "refuse") and case.mentions, case.id


@pytest.mark.parametrize("case", [c for c in INSTALLED if c.kind in RUN_KINDS], ids=lambda c: c.id)
def test_expected_scenarios_are_valid(case: Case) -> None:
    from sim import get_model, resolve
    from sim.experiments import CalibrateSpec, SweepSpec

    for i, expected in enumerate(case.scenarios):
        resolved = resolve({"model": case.model, "params": expected.params, "interventions": expected.interventions})
        assert resolved.label, i
    spec = get_model(str(case.model))
    if case.sweep is not None:
        sweep = SweepSpec.model_validate(case.sweep)
        if "." in sweep.param:
            assert sweep.param.split(".")[0] in spec.interventions, case.id
        else:
            assert sweep.param in spec.params.model_fields, case.id
    if case.calibrate is not None:
        cal = CalibrateSpec.model_validate(case.calibrate)
        if "." in cal.param:  # an intervention field: the lockdown strength that keeps the peak under 2,500
            assert cal.param.split(".")[0] in spec.interventions, case.id
        else:
            assert cal.param in spec.params.model_fields, case.id
        assert cal.metric in spec.metrics, case.id


def test_units_are_the_models_units() -> None:
    """Shares are fractions (not percent) and durations are whole days."""
    for case in CASES:
        for expected in case.scenarios:
            for iv in expected.interventions:
                for field in ("effectiveness", "compliance", "fraction", "efficacy", "daily_rate"):
                    if field in iv:
                        assert 0 <= iv[field] <= 1, (case.id, iv)
                for field in ("start_day", "duration_days"):
                    if iv.get(field) is not None:
                        assert float(iv[field]).is_integer(), (case.id, iv)


def test_every_run_case_has_labels_for_each_scenario() -> None:
    for case in CASES:
        if case.kind in RUN_KINDS:
            assert case.labelled_with is not None, f"{case.id}: run `simqa eval relabel`"
            assert set(case.labels) == set(label_keys(case)), case.id
        else:
            assert not case.labels, case.id


def _anchors(path: Path) -> set[str]:
    anchors = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
            anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", heading.lower())))
    return anchors


def test_cited_sources_exist_in_the_docs() -> None:
    for case in CASES:
        for cite in case.cite:
            for alternative in cite.split("|"):
                path, _, anchor = alternative.partition("#")
                doc = ROOT / path
                assert doc.is_file(), (case.id, path)
                if anchor:
                    assert anchor in _anchors(doc), (case.id, alternative)


def test_a_perfect_answer_scores_one_on_every_case() -> None:
    """The scorers and the cases agree: the oracle's answers (the expected request, the labels
    as results) pass every applicable check of every case."""
    for case in INSTALLED:
        for score in score_answer(case, oracle_answer(case)):
            assert score.value in (None, 1.0), (case.id, score.name, score.explanation)


def test_case_files_survive_a_rewrite_unchanged() -> None:
    for path in sorted(CASES_DIR.glob("*.yaml")):
        cases = read_case_file(path)
        text = path.read_text(encoding="utf-8")
        assert dump_cases(cases, header=text[: text.index("\n- id:")]) == text, path.name


def test_dump_quotes_what_yaml_would_misread(tmp_path: Path) -> None:
    case = Case(
        id="q",
        question="x: y, [z] # not a comment",
        kind="clarify",
        mentions=["2000|2,000", "> 0"],
        note="yes",
    )
    path = tmp_path / "c.yaml"
    path.write_text(dump_cases([case]), encoding="utf-8")
    assert read_case_file(path) == [case]
