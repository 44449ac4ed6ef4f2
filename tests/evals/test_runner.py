"""The runner with fake assistants: concurrency, failures recorded, logs versioned, runs compared,
and the `simqa eval` command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals import cli
from evals.case import Case
from evals.dataset import dump_cases, load_cases, read_case_file
from evals.labels import relabel
from evals.runner import (
    LOG_VERSION,
    EvalLog,
    LogVersionError,
    compare_runs,
    load_log,
    run_eval,
    select_cases,
    write_log,
)
from evals.testing import BrokenAssistant, OracleAssistant
from simqa.answer import Answer

ALL = load_cases()
SAMPLE_IDS = [
    "seir-sim-001",
    "seir-cmp-002",
    "del-swp-001",
    "seir-cal-001",
    "exp-001",
    "ref-001",
    "inv-001",
    "conv-002",
]
SAMPLE = [c for c in ALL if c.id in SAMPLE_IDS]


def run(assistant: OracleAssistant, cases: list[Case] = SAMPLE, **kwargs: object) -> EvalLog:
    kwargs.setdefault("with_retrieval", False)
    return run_eval(cases, lambda: assistant, progress=False, concurrency=4, **kwargs)  # type: ignore[arg-type]


def test_a_perfect_assistant_scores_one_and_questions_carry_their_case_id() -> None:
    assistant = OracleAssistant(ALL)
    log = run(assistant)
    assert log.version == LOG_VERSION
    assert log.metrics["cases"] == len(SAMPLE) and log.metrics["errors"] == 0
    assert log.metrics["case_correct"] == 1.0 and log.metrics["answer_correctness"] == 1.0
    assert set(log.by_kind) == {c.kind for c in SAMPLE}
    assert log.latency_ms["total"]["p50"] == pytest.approx(9.0)
    asked = dict(assistant.asked)
    conv = next(c for c in SAMPLE if c.turns)
    assert (
        asked[conv.turns[0]] == conv.id and asked[conv.question] == conv.id
    )  # turns asked first, excluded from retrieval
    result = next(r for r in log.results if r.case_id == "seir-sim-001")
    assert result.answer is not None and result.answer["kind"] == "simulate"
    assert {s.name for s in result.scores} >= {"case_correct", "kind_accuracy", "params_match", "grounding"}


def test_a_raising_assistant_is_recorded_and_the_run_goes_on() -> None:
    failing = SAMPLE[0]
    log = run(BrokenAssistant(ALL, fail_on=[failing.question]))
    assert log.metrics["runs"] == len(SAMPLE) and log.metrics["errors"] == 1
    bad = next(r for r in log.results if r.case_id == failing.id)
    assert bad.error is not None and "boom" in bad.error and bad.answer is None
    assert bad.value("case_correct") == 0.0
    assert log.metrics["case_correct"] == pytest.approx((len(SAMPLE) - 1) / len(SAMPLE))
    assert [r.case_id for r in log.failures()] == [failing.id]


def test_wrong_answers_lower_the_right_metrics() -> None:
    def spoil(case: Case, answer: Answer) -> Answer:
        if case.kind == "refuse":
            return answer.model_copy(update={"kind": "simulate"})
        if case.kind == "clarify":
            return answer.model_copy(update={"kind": "refuse"})  # accepted for an invalid value
        return answer

    log = run(OracleAssistant(ALL, mutate=spoil))
    assert log.metrics["refuse_recall"] == 0.0
    assert log.metrics["clarify_recall"] == 1.0 and log.metrics["refuse_precision"] == 1.0
    assert log.by_kind["refuse"]["case_correct"] == 0.0


def test_repeats_measure_consistency() -> None:
    flip = {"n": 0}

    def unstable(case: Case, answer: Answer) -> Answer:
        if case.id == "seir-sim-001":
            flip["n"] += 1
            if flip["n"] % 2:
                return answer.model_copy(update={"kind": "explain", "scenarios": []})
        return answer

    log = run(OracleAssistant(ALL, mutate=unstable), repeats=2)
    assert log.metrics["runs"] == 2 * len(SAMPLE)
    assert log.metrics["consistency"] == pytest.approx((len(SAMPLE) - 1) / len(SAMPLE))


def test_tags_select_cases() -> None:
    by_delivery = {c.id for c in ALL if "delivery" in c.tags or c.model == "delivery"}
    assert {c.id for c in select_cases(ALL, ["delivery"])} == by_delivery
    assert [c.id for c in select_cases(ALL, ["seir-sim-001"])] == ["seir-sim-001"]
    assert {c.kind for c in select_cases(ALL, ["calibrate"])} == {"calibrate"}


def test_log_is_versioned_and_written_with_its_report(tmp_path: Path) -> None:
    log = run(OracleAssistant(ALL), out_dir=tmp_path / "run")
    data = json.loads((tmp_path / "run" / "log.json").read_text())
    assert data["version"] == LOG_VERSION
    first = data["results"][0]
    assert {"question", "answer", "scores", "wall_ms", "expected"} <= set(first)
    assert all({"name", "value", "explanation", "args"} <= set(s) for s in first["scores"])
    assert (tmp_path / "run" / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert load_log(tmp_path / "run").metrics == log.metrics
    data["version"] = LOG_VERSION + 1
    (tmp_path / "future.json").write_text(json.dumps(data))
    with pytest.raises(LogVersionError, match="version"):
        load_log(tmp_path / "future.json")


def test_compare_runs_reports_case_changes_and_a_drop() -> None:
    good = run(OracleAssistant(ALL))

    def spoil(case: Case, answer: Answer) -> Answer:
        return answer.model_copy(update={"kind": "refuse"}) if case.id == "seir-sim-001" else answer

    worse = run(OracleAssistant(ALL, mutate=spoil))
    drop = compare_runs(good, worse, metric="case_correct")
    assert drop.regressed and drop.exit_code == 1
    assert [c.case_id for c in drop.worse] == ["seir-sim-001"] and not drop.better
    assert "REGRESSION" in drop.summary()
    back = compare_runs(worse, good)
    assert not back.regressed and [c.case_id for c in back.better] == ["seir-sim-001"]
    tolerated = compare_runs(good, worse, max_drop=0.5)
    assert not tolerated.regressed
    with pytest.raises(ValueError, match="unknown metric"):
        compare_runs(good, worse, metric="nonsense")


def test_cli_compare_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = run(OracleAssistant(ALL))
    bad = run(BrokenAssistant(ALL, fail_on=[SAMPLE[0].question]))
    write_log(good, tmp_path / "a")
    write_log(bad, tmp_path / "b")
    assert cli.main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    assert cli.main(["compare", str(tmp_path / "b"), str(tmp_path / "a")]) == 0
    assert cli.main(["compare", str(tmp_path / "a"), str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no eval log" in err[0]


def test_cli_usage_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--repeats", "x"]) == 2
    assert cli.main(["--cases", "/nonexistent/cases.yaml"]) == 2
    assert cli.main(["relabel", "--bogus"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 3 and all(line.startswith("simqa eval") for line in lines)


def test_cli_relabel_check_fails_on_a_bad_label(tmp_path: Path) -> None:
    case = next(c for c in ALL if c.id == "seir-sim-001")
    path = tmp_path / "one.yaml"
    path.write_text(dump_cases([case]))
    assert cli.main(["relabel", "--check", "--cases", str(path)]) == 0
    broken = case.model_copy(deep=True)
    broken.labels["baseline"]["peak_infected"].value *= 2
    path.write_text(dump_cases([broken]))
    assert cli.main(["relabel", "--check", "--cases", str(path)]) == 1


def test_cli_runs_an_eval_with_a_min_correct_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_assistant_factory", lambda translator, cache_dir, settings: lambda: OracleAssistant(ALL))
    args = ["--tags", "seir-sim-001", "ref-001", "--out", str(tmp_path / "r"), "--no-progress", "--no-retrieval"]
    assert cli.main([*args, "--min-correct", "0.9"]) == 0
    assert (tmp_path / "r" / "log.json").is_file() and (tmp_path / "r" / "report.html").is_file()

    def broken_factory(translator: str, cache_dir: str | None, settings: object) -> object:
        return lambda: BrokenAssistant(ALL, fail_on=["Simulate an epidemic with an R0 of -2"])

    monkeypatch.setattr(cli, "_assistant_factory", broken_factory)
    assert (
        cli.main(
            [
                "--tags",
                "inv-001",
                "--out",
                str(tmp_path / "s"),
                "--no-progress",
                "--no-retrieval",
                "--min-correct",
                "0.9",
            ]
        )
        == 1
    )
    assert cli.main(["--tags", "no-such-tag", "--out", str(tmp_path / "t"), "--no-progress", "--no-retrieval"]) == 2


def test_cli_compare_of_logs_with_no_case_in_common_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = [c for c in SAMPLE if c.id in ("seir-sim-001", "seir-cmp-002")]
    other = [c for c in SAMPLE if c.id in ("del-swp-001", "exp-001")]
    write_log(run(OracleAssistant(ALL), cases=first), tmp_path / "a")
    write_log(run(OracleAssistant(ALL), cases=other), tmp_path / "b")
    assert cli.main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "no case in common" in err[0] and "REGRESSION" not in captured.out


def _spoil_file(name: str):  # type: ignore[no-untyped-def]
    def spoil(case: Case, answer: Answer) -> Answer:
        return answer.model_copy(update={"kind": "explain", "scenarios": []}) if case.file == name else answer

    return spoil


def test_results_name_their_case_file_and_are_summarised_by_file_and_tag() -> None:
    cases = [c for c in ALL if c.id in ("seir-sim-001", "seir-sim-002", "del-sim-001", "x-seir-001")]
    log = run(OracleAssistant(ALL, mutate=_spoil_file("delivery.yaml")), cases=cases)
    assert {r.case_id: r.case_file for r in log.results} == {
        "seir-sim-001": "seir.yaml",
        "seir-sim-002": "seir.yaml",
        "del-sim-001": "delivery.yaml",
        "x-seir-001": "external.yaml",
    }
    assert log.by_file["seir.yaml"]["runs"] == 2 and log.by_file["seir.yaml"]["case_correct"] == 1.0
    assert log.by_file["delivery.yaml"]["case_correct"] == 0.0 and log.by_file["external.yaml"]["case_correct"] == 1.0
    for tag in {t for c in cases for t in c.tags}:
        tagged = [c for c in cases if tag in c.tags]
        assert log.by_tag[tag]["runs"] == len(tagged), tag
        want = sum(c.file != "delivery.yaml" for c in tagged) / len(tagged)
        assert log.by_tag[tag]["case_correct"] == pytest.approx(want), tag


def test_a_version_1_log_still_loads(tmp_path: Path) -> None:
    data = json.loads(run(OracleAssistant(ALL)).model_dump_json())
    data["version"] = 1
    for key in ("by_file", "by_tag", "skipped"):
        del data[key]
    for result in data["results"]:
        del result["case_file"]
    (tmp_path / "old.json").write_text(json.dumps(data))
    old = load_log(tmp_path / "old.json")
    assert old.version == 1 and old.by_file == {} and old.results[0].case_file == "-"


def test_cli_floors_per_case_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        cli,
        "_assistant_factory",
        lambda translator, cache_dir, settings: lambda: OracleAssistant(ALL, mutate=_spoil_file("delivery.yaml")),
    )
    base = ["--tags", "seir-sim-001", "del-sim-001", "x-seir-001", "--no-progress", "--no-retrieval"]

    def main(*floors: str) -> int:
        out = ["--out", str(tmp_path / str(len(list(tmp_path.iterdir()))))]
        return cli.main([*base, *out, *(a for f in floors for a in ("--min-correct", f))])

    assert main("seir.yaml=1", "external.yaml=0.9") == 0
    assert main("delivery.yaml=0.5") == 1
    assert "case_correct on delivery.yaml 0.000 is under" in capsys.readouterr().err
    assert main("seir.yaml,delivery.yaml=0.5") == 0  # pooled: one of two right
    assert main("seir.yaml,delivery.yaml=0.6") == 1
    assert main("0.6") == 0 and main("0.7") == 1  # two of three, all files
    assert main(str(Path("evals/cases/seir.yaml").resolve()) + "=1") == 0  # a path names the file too
    capsys.readouterr()
    assert main("abm.yaml=0.9") == 2  # no run of it: a usage error, not a pass
    assert main("seir.yaml=1.5") == 2 and main("=0.9") == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 3 and "abm.yaml" in err[0] and "seir.yaml" in err[0]


def test_cases_of_a_model_that_is_not_installed_are_skipped_and_said_so(tmp_path: Path) -> None:
    installed = next(c for c in ALL if c.id == "seir-sim-001")
    plugin = Case(
        id="plug-001",
        question="How many rides at 20 degrees?",
        kind="simulate",
        model="no_such_plugin",
        scenarios=[{"params": {"temperature_c": 20}}],
    )
    path = tmp_path / "mixed.yaml"
    path.write_text(dump_cases([installed, plugin]))
    report = relabel(path, check=True)
    assert report.ok and report.labelled == 1 and set(report.skipped) == {"plug-001"}
    assert "no_such_plugin" in report.summary() and "plug-001" in report.summary()
    relabel(path)  # writing keeps the skipped case as it was
    assert [c.id for c in read_case_file(path)] == ["seir-sim-001", "plug-001"]
    log = run(OracleAssistant(ALL), cases=load_cases(path))
    assert [r.case_id for r in log.results] == ["seir-sim-001"]
    assert log.skipped == {"plug-001": "model 'no_such_plugin' is not installed"}
    assert log.metrics["case_correct"] == 1.0
