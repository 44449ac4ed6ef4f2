"""Questions with data: `simqa ask --data`, `Assistant.ask(data=...)`, `/data` in chat.

The issue's epidemic (R0 1.8, 200,000 people, 10 infectious on day 0, incubation 3 days,
infectious 5 days) is drawn from the plain SEIR ODE of tests/sim/test_fit.py with Poisson noise.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.observables import DataError
from simqa import Assistant
from simqa.cli import main
from simqa.fitting import Table, choose_model, load_table, plan_fit, reporting_fraction
from simqa.request import Request
from tests.sim.test_fit import plain_seir_new_cases

QUESTION = (
    "These are daily new cases of an SEIR epidemic in a population of 200,000 with 10 initially infectious, "
    "an incubation period of 3 days and an infectious period of 5 days. What R0 fits, and when does the epidemic peak?"
)


def _counts(days: int = 40, seed: int = 11) -> np.ndarray:
    return np.random.default_rng(seed).poisson(plain_seir_new_cases(2e5, 1.8, 10, 3.0, 5.0, days))


@pytest.fixture
def cases_csv(tmp_path: Path) -> Path:
    path = tmp_path / "cases.csv"
    rows = "\n".join(f"{day},{count}" for day, count in enumerate(_counts()))
    path.write_text(f"day,new_cases\n{rows}\n", encoding="utf-8")
    return path


def test_the_issue_epidemic_through_the_cli(cases_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "--translator", "offline", "--data", str(cases_csv), QUESTION]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["kind"] == "fit" and answer["model"] == "seir"
    r0 = next(e for e in answer["fitted"]["estimates"] if e["name"] == "r0")
    assert abs(r0["value"] / 1.8 - 1) < 0.07
    assert r0["lower"] <= 1.8 <= r0["upper"]
    assert answer["fit"]["free"] == ["r0"]
    # the stated facts are held fixed, as stated
    assert answer["fitted"]["fixed"] == {
        "population": 200_000,
        "initial_infected": 10,
        "incubation_days": 3,
        "infectious_days": 5,
    }
    peak = answer["fitted"]["forecast"]["peak_day"]
    assert 39 < peak["lower"] <= peak["value"] <= peak["upper"]
    assert f"peak on day {round(peak['value'])}" in answer["text"]
    assert answer["fitted"]["data"] == {
        "source": "cases.csv",
        "rows": 40,
        "columns": ["new_cases"],
        "step": "day",
        "first": 0,
        "last": 39,
        "first_date": None,
    }
    assert answer["fitted"]["goodness_of_fit"]["statistic"] == "deviance"
    assert answer["results"][0]["ci"]["peak_day"] == [peak["lower"], peak["upper"]]
    assert answer["scenarios"][0]["params"]["r0"] == pytest.approx(r0["value"], rel=1e-5)


def test_the_text_answer_saves_a_plot_of_data_fit_and_forecast(
    cases_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "--translator", "offline", "--data", str(cases_csv), QUESTION]) == 0
    out = capsys.readouterr().out
    assert "fit · seir" in out and "95% interval" in out
    plot = Path(out.split("plot saved: ", 1)[1].split()[0])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_data_is_one_line_exit_2_and_nothing_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("day,new_cases\n0,1\n1,2\n2,3\n3,-4\n4,5\n5,6\n", encoding="utf-8")
    assert main(["ask", "--translator", "offline", "--data", str(path), QUESTION]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "row 4" in err and "new_cases" in err and "negative" in err
    from rag.runstore import RunStore

    assert RunStore().list(limit=5) == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("day,new_cases\n0,1\n1,2,3\n", "row 2 (line 3): 3 values for 2 columns"),
        ("0,1\n1,2\n", "the first row holds numbers, not column names"),
        ("", "is empty"),
        ("day,new_cases,\n0,1,\n", "empty column name"),
        ("[1, 2, 3]", "expected JSON records"),
        ('[{"day": 0, "new_cases": 1}, {"day": 1}]', "row 2, column new_cases: the value is missing"),
        ("{not json", "not valid JSON"),
    ],
)
def test_unreadable_files_say_why(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / ("data.json" if text.startswith(("[", "{")) else "data.csv")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=None) as caught:
        load_table(path)
    assert words in str(caught.value)


def test_files_that_are_not_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DataError, match="no such data file"):
        load_table(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="is a folder"):
        load_table(tmp_path)
    binary = tmp_path / "cases.csv"
    binary.write_bytes(b"\xff\xfe\x00day")
    with pytest.raises(DataError, match="not UTF-8"):
        load_table(binary)
    monkeypatch.setattr("simqa.fitting.MAX_BYTES", 10)
    big = tmp_path / "big.csv"
    big.write_text("day,new_cases\n" + "0,1\n" * 10, encoding="utf-8")
    with pytest.raises(DataError, match="too big"):
        load_table(big)


def test_the_api_takes_a_mapping_records_an_array_or_a_json_file(tmp_path: Path) -> None:
    counts = _counts().tolist()
    assistant = Assistant(translator="offline", retrieval=False, store=False, cache=False)
    mapping = assistant.ask(QUESTION, data={"day": list(range(40)), "new_cases": counts})
    records = assistant.ask(QUESTION, data=[{"day": d, "new_cases": c} for d, c in enumerate(counts)])
    array = assistant.ask(QUESTION, data=np.array(counts))
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"new_cases": counts}), encoding="utf-8")
    from_file = assistant.ask(QUESTION, data=path)
    values = {a.fitted.estimates[0].value for a in (mapping, records, array, from_file) if a.fitted}
    assert len(values) == 1  # the same data in four forms: the same fit
    assert mapping.kind == "fit" and mapping.fitted is not None
    assert from_file.fitted is not None and from_file.fitted.data.source == "cases.json"


def test_the_data_choose_the_model_by_their_columns() -> None:
    epidemic = Table({"day": [0], "new_cases": [1]}, "d")
    assert choose_model(epidemic, None) == ("seir", [])  # the cheaper model that takes them
    assert choose_model(epidemic, "abm") == ("abm", [])
    model, notes = choose_model(Table({"hour": [0], "orders": [1], "mean_minutes": [20.0]}, "d"), "seir")
    assert model == "delivery" and "fit the delivery model, not seir" in notes[0]
    with pytest.raises(
        DataError, match=r"no model takes the columns day, deaths; models take: .*seir: day, date, new_cases"
    ):
        choose_model(Table({"day": [0], "deaths": [1]}, "d"), None)
    with pytest.raises(DataError, match="an array has no column names"):
        choose_model(Table({"<array>": [1, 2]}, "d"), None)


def test_explain_or_clarify_from_the_translator_still_fits_the_data() -> None:
    table = load_table({"day": list(range(40)), "new_cases": _counts().tolist()})
    plan = plan_fit(Request(kind="clarify", message="which target?"), table, "what fits these cases?")
    assert plan.model == "seir"
    assert plan.spec.free == ["r0", "initial_infected"]  # nothing stated: the declared parameters


def test_the_question_names_what_to_fit_and_states_what_stays_fixed() -> None:
    table = load_table({"new_cases": _counts().tolist()})
    stated = Request(kind="simulate", scenarios=[{"model": "seir", "params": {"population": 200_000, "days": 300}}])
    plan = plan_fit(stated, table, "which R0 fits, with 30% of cases reported?")
    assert plan.spec.free == ["r0"]
    assert plan.spec.reporting == pytest.approx(0.3)
    assert plan.horizon == 300  # a stated horizon past the data is the forecast's
    assert plan.fixed == {"population": 200_000}
    everything = Request(kind="simulate", scenarios=[{"model": "seir", "params": {"r0": 2.0, "initial_infected": 5}}])
    with pytest.raises(ScenarioError, match="states every parameter the fit could free"):
        plan_fit(everything, table, "fit this")


@pytest.mark.parametrize(
    ("question", "share"),
    [
        ("only 25% of cases are reported", 0.25),
        ("a reporting fraction of 0.4", 0.4),
        ("reporting rate is 60 percent", 0.6),
        ("what R0 fits?", None),
    ],
)
def test_reporting_fraction(question: str, share: float | None) -> None:
    assert reporting_fraction(question) == (pytest.approx(share) if share is not None else None)


def test_a_follow_up_starts_from_the_fitted_scenario_and_compares() -> None:
    conversation = Assistant(translator="offline", retrieval=False, store=False, cache=False).conversation()
    first = conversation.ask(QUESTION, data={"new_cases": _counts().tolist()})
    assert first.kind == "fit" and first.fitted is not None
    fitted_r0 = first.scenarios[0].params["r0"]
    follow = conversation.ask("and if we cut contacts by 40% from day 45?")
    assert follow.kind == "compare"
    baseline, what_if = follow.scenarios
    assert baseline.label == "fitted" and baseline.params["r0"] == fitted_r0 == what_if.params["r0"]
    assert [iv.type for iv in what_if.interventions] == ["contact_reduction"]
    peak = next(d for d in follow.differences if d.metric == "peak_infected")
    assert peak.difference < 0
    spread = [n for n in follow.notes if "draws of the fitted parameters" in n]
    assert spread and "people infectious at the peak" in spread[0]


def test_chat_loads_data_for_the_next_question(cases_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from simqa.chat import run_chat

    lines = iter([f"/data {cases_csv}", QUESTION, "/data", f"/data {cases_csv.parent / 'none.csv'}", "/quit"])
    assert run_chat("offline", input_fn=lambda _: next(lines)) == 0
    out = capsys.readouterr().out
    assert "loaded 40 rows of day, new_cases from cases.csv" in out
    assert "fit · seir" in out
    assert "usage: /data FILE" in out
    assert "no such data file" in out
