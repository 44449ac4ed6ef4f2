"""`relabel` computes labels by running the engine; `check` catches labels a fresh run disagrees with."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.case import Case, ExpectedScenario
from evals.dataset import dump_cases, read_case_file
from evals.labels import compute_labels, relabel, tolerance

CHEAP = [
    Case(
        id="c-sim",
        question="R0 2, 10k people",
        kind="simulate",
        model="seir",
        scenarios=[ExpectedScenario(params={"r0": 2, "population": 10000, "days": 120})],
    ),
    Case(
        id="c-swp",
        question="R0 1.5 and 2.5",
        kind="sweep",
        model="seir",
        scenarios=[ExpectedScenario(params={"population": 10000, "days": 120})],
        sweep={"param": "r0", "values": [1.5, 2.5]},
    ),
    Case(id="c-ref", question="weather?", kind="refuse"),
]


def write(tmp_path: Path, cases: list[Case]) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(dump_cases(cases, header="# test cases\n"), encoding="utf-8")
    return path


def test_relabel_writes_engine_values_and_check_then_passes(tmp_path: Path) -> None:
    import sim

    path = write(tmp_path, CHEAP)
    report = relabel(path)
    assert report.ok and report.labelled == 2 and report.changed_cases == ["c-sim", "c-swp"]
    cases = {c.id: c for c in read_case_file(path)}
    direct = sim.run({"model": "seir", "params": {"r0": 2, "population": 10000, "days": 120}})
    assert cases["c-sim"].labels["baseline"]["peak_infected"].value == pytest.approx(
        direct.scalar("peak_infected"), rel=1e-5
    )
    assert set(cases["c-swp"].labels) == {"r0=1.5", "r0=2.5"}
    assert cases["c-ref"].labels == {}
    assert path.read_text(encoding="utf-8").startswith("# test cases\n")
    assert relabel(path, check=True).ok
    again = relabel(path)
    assert again.changed_cases == [] and again.changed_files == []


def test_check_fails_on_a_wrong_or_missing_label(tmp_path: Path) -> None:
    path = write(tmp_path, CHEAP)
    relabel(path)
    cases = read_case_file(path)
    label = cases[0].labels["baseline"]["attack_rate"]
    cases[0].labels["baseline"]["attack_rate"] = label.model_copy(update={"value": label.value * 1.1})
    del cases[1].labels["r0=2.5"]
    path.write_text(dump_cases(cases), encoding="utf-8")
    report = relabel(path, check=True)
    assert not report.ok
    found = {(m.case_id, m.key, m.metric) for m in report.mismatches}
    assert ("c-sim", "baseline", "attack_rate") in found
    assert ("c-swp", "r0=2.5", "peak_infected") in found
    assert "MISMATCH c-sim baseline.attack_rate" in report.summary()
    assert path.read_text(encoding="utf-8") == dump_cases(cases)  # check writes nothing


def test_a_case_too_costly_to_label_is_an_error_not_a_run(tmp_path: Path) -> None:
    big = Case(
        id="big",
        question="abm of 2 million for 2 years",
        kind="simulate",
        model="abm",
        scenarios=[ExpectedScenario(params={"population": 2_000_000, "days": 730})],  # under the engine cap, over ours
    )
    report = relabel(write(tmp_path, [big]))
    assert not report.ok and "smaller population" in report.errors["big"]


def test_calibration_labels_hold_the_value_and_the_metric() -> None:
    case = Case(
        id="cal",
        question="R0 for a 50% attack rate",
        kind="calibrate",
        model="seir",
        scenarios=[ExpectedScenario(params={"population": 10000})],
        calibrate={"param": "r0", "metric": "attack_rate", "target": 0.5},
    )
    labels, provenance = compute_labels(case)
    assert labels["calibration"]["attack_rate"].value == pytest.approx(0.5, abs=0.01)
    assert 1.2 < labels["calibration"]["value"].value < 1.7  # final size 0.5 needs R0 = -ln(0.5)/0.5 = 1.386
    assert provenance is not None and provenance.replicates == 1


def test_stochastic_labels_get_wider_tolerance() -> None:
    assert tolerance("attack_rate", stochastic=True)[1] > tolerance("attack_rate", stochastic=False)[1]
    assert tolerance("peak_day", stochastic=False) == (0.01, 1.0)


@pytest.mark.slow
def test_packaged_labels_match_a_fresh_run() -> None:
    """What CI runs as `simqa eval relabel --check`."""
    report = relabel(check=True)
    assert report.ok, report.summary()
