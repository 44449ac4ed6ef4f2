"""Each scorer on hand-made answers: a right one passes, a spoiled one fails."""

from __future__ import annotations

import pytest

from evals import scorers as S
from evals.case import Case, ExpectedScenario, MetricLabel
from evals.runner import request_signature
from evals.scorers import Outcome
from evals.testing import oracle_answer
from sim.experiments import CalibrateSpec, SweepSpec
from sim.scenario import Scenario
from simqa.answer import Answer, Citation, ResultSummary

SIM_CASE = Case(
    id="t-sim",
    question="Lockdown from day 20 cutting contacts by 60%, R0 2.8, 300,000 people",
    kind="simulate",
    model="seir",
    scenarios=[
        ExpectedScenario(
            params={"r0": 2.8, "population": 300000},
            interventions=[{"type": "contact_reduction", "effectiveness": 0.6, "start_day": 20}],
        )
    ],
    labels={
        "baseline": {
            "peak_infected": MetricLabel(value=1000.0, rel_tol=0.01),
            "attack_rate": MetricLabel(value=0.5, rel_tol=0.01, abs_tol=0.002),
        }
    },
)


def answer(**overrides: object) -> Answer:
    base = oracle_answer(SIM_CASE)
    return base.model_copy(update=overrides)


def scenario(
    params: dict[str, object], interventions: list[dict[str, object]] | None = None, model: str = "seir"
) -> Scenario:
    from sim import resolve

    return resolve({"model": model, "params": params, "interventions": interventions or []}).to_scenario()


def by_name(case: Case, ans: Answer) -> dict[str, S.Score]:
    return {s.name: s for s in S.score_answer(case, ans)}


def test_a_right_answer_passes_every_applicable_scorer() -> None:
    scores = by_name(SIM_CASE, oracle_answer(SIM_CASE))
    assert scores["case_correct"].value == 1.0
    assert scores["answer_correctness"].value == 1.0
    assert scores["params_match"].details["precision"] == 1.0
    assert scores["sweep_match"].value is None  # not applicable
    assert scores["citations_correct"].value is None


def test_kind_and_model_accuracy_fail_on_the_wrong_kind_or_model() -> None:
    wrong_kind = answer(kind="compare")
    assert S.kind_accuracy(SIM_CASE, wrong_kind).value == 0.0
    assert S.model_accuracy(SIM_CASE, answer(model="abm")).value == 0.0
    assert S.case_correct(SIM_CASE, wrong_kind).value == 0.0


def test_accept_kinds_lets_clarify_or_refuse_pass() -> None:
    case = Case(id="inv", question="R0 of -2", kind="clarify", accept_kinds=["refuse"], mentions=["r0", "> 0|positive"])
    refused = Answer(question=case.question, kind="refuse", text="r0 must be > 0", translator="t")
    assert S.kind_accuracy(case, refused).value == 1.0
    assert S.mentions_present(case, refused).value == 1.0
    vague = refused.model_copy(update={"text": "that value is not allowed"})
    assert S.mentions_present(case, vague).value == 0.0
    assert S.case_correct(case, vague).value == 0.0
    assert S.kind_accuracy(case, refused.model_copy(update={"kind": "simulate"})).value == 0.0


def test_params_precision_and_recall_count_fields() -> None:
    # population missing (recall), r0 wrong (both), days invented (precision); defaults are not "set".
    spoiled = answer(
        scenarios=[
            scenario({"r0": 3.5, "days": 90}, [{"type": "contact_reduction", "effectiveness": 0.6, "start_day": 20}])
        ]
    )
    score = S.params_match(SIM_CASE, spoiled)
    assert score.value == 0.0
    assert score.details["true_positive"] == 0
    assert score.details["false_negative"] == 2  # r0, population
    assert score.details["false_positive"] == 2  # r0 wrong, days invented
    # 1% relative tolerance on numbers.
    close = answer(
        scenarios=[
            scenario(
                {"r0": 2.81, "population": 300000},
                [{"type": "contact_reduction", "effectiveness": 0.6, "start_day": 20}],
            )
        ]
    )
    assert S.params_match(SIM_CASE, close).value == 1.0
    far = answer(
        scenarios=[
            scenario(
                {"r0": 2.9, "population": 300000},
                [{"type": "contact_reduction", "effectiveness": 0.6, "start_day": 20}],
            )
        ]
    )
    assert S.params_match(SIM_CASE, far).value == 0.0


def test_replicates_chosen_by_the_translator_are_not_penalised_unless_stated() -> None:
    ans = answer(
        scenarios=[
            scenario(
                {"r0": 2.8, "population": 300000, "replicates": 10},
                [{"type": "contact_reduction", "effectiveness": 0.6, "start_day": 20}],
            )
        ]
    )
    assert S.params_match(SIM_CASE, ans).value == 1.0
    stated = SIM_CASE.model_copy(
        update={
            "scenarios": [
                ExpectedScenario(
                    params={"r0": 2.8, "population": 300000, "replicates": 20},
                    interventions=SIM_CASE.scenarios[0].interventions,
                )
            ]
        }
    )
    assert S.params_match(stated, ans).value == 0.0


def test_interventions_fields_type_and_timing() -> None:
    no_timing = answer(
        scenarios=[scenario({"r0": 2.8, "population": 300000}, [{"type": "contact_reduction", "effectiveness": 0.6}])]
    )
    score = S.interventions_match(SIM_CASE, no_timing)
    assert score.value == 0.0 and score.details["false_negative"] == 1
    extra = answer(
        scenarios=[
            scenario(
                {"r0": 2.8, "population": 300000},
                [{"type": "contact_reduction", "effectiveness": 0.6, "start_day": 20}, {"type": "case_isolation"}],
            )
        ]
    )
    score = S.interventions_match(SIM_CASE, extra)
    assert score.value == 0.0 and score.details["false_positive"] == 1 and score.details["recall"] == 1.0
    missing = answer(scenarios=[scenario({"r0": 2.8, "population": 300000})])
    assert S.interventions_match(SIM_CASE, missing).details["recall"] == 0.0


def test_sweep_ignores_the_swept_field_in_the_base_scenario() -> None:
    case = Case(
        id="t-swp",
        question="lockdown effectiveness 20%, 40% from day 15",
        kind="sweep",
        model="seir",
        scenarios=[ExpectedScenario(interventions=[{"type": "contact_reduction", "start_day": 15}])],
        sweep={"param": "contact_reduction.effectiveness", "values": [0.2, 0.4]},
    )
    good = Answer(
        question=case.question,
        kind="sweep",
        model="seir",
        scenarios=[scenario({}, [{"type": "contact_reduction", "effectiveness": 0.2, "start_day": 15}])],
        sweep=SweepSpec(param="contact_reduction.effectiveness", values=[0.4, 0.2]),
        text="",
        translator="t",
    )
    assert S.sweep_match(case, good).value == 1.0
    assert S.interventions_match(case, good).value == 1.0
    wrong_values = good.model_copy(
        update={"sweep": SweepSpec(param="contact_reduction.effectiveness", values=[0.2, 0.4, 0.6])}
    )
    assert S.sweep_match(case, wrong_values).value == 0.0
    wrong_param = good.model_copy(update={"sweep": SweepSpec(param="r0", values=[0.2, 0.4])})
    assert S.sweep_match(case, wrong_param).value == 0.0
    assert S.sweep_match(case, good.model_copy(update={"sweep": None})).value == 0.0


def test_calibrate_fields() -> None:
    case = Case(
        id="t-cal",
        question="how many couriers so that at most 20% are late",
        kind="calibrate",
        model="delivery",
        scenarios=[ExpectedScenario(params={"orders_per_hour": 200})],
        calibrate={"param": "couriers", "metric": "late_rate", "target": 0.2, "relation": "le"},
    )
    good = Answer(
        question=case.question,
        kind="calibrate",
        model="delivery",
        scenarios=[scenario({"orders_per_hour": 200, "couriers": 1}, model="delivery")],
        calibrate=CalibrateSpec(param="couriers", metric="late_rate", target=0.2, relation="le"),
        text="",
        translator="t",
    )
    assert S.calibrate_match(case, good).value == 1.0
    assert S.params_match(case, good).value == 1.0  # the searched parameter's base value does not count
    for spoil in (
        {"relation": "eq"},
        {"target": 0.1},
        {"metric": "p90_minutes"},
        {"param": "orders_per_hour"},
    ):
        bad = good.model_copy(update={"calibrate": good.calibrate.model_copy(update=spoil)})  # type: ignore[union-attr]
        assert S.calibrate_match(case, bad).value == 0.0, spoil


def test_citations_sections_files_and_alternatives() -> None:
    case = Case(
        id="t-exp",
        question="late rate?",
        kind="explain",
        cite=["docs/models/delivery.md#metrics", "docs/models/seir.md|docs/models/abm.md"],
    )
    good = Answer(
        question=case.question,
        kind="explain",
        text="",
        translator="t",
        citations=[Citation(source="docs/models/delivery.md#metrics"), Citation(source="docs/models/abm.md#overview")],
    )
    assert S.citations_correct(case, good).value == 1.0
    half = good.model_copy(
        update={
            "citations": [
                Citation(source="docs/models/delivery.md#parameters"),
                Citation(source="docs/models/abm.md#overview"),
            ]
        }
    )
    assert S.citations_correct(case, half).value == 0.5
    assert S.case_correct(case, half).value == 0.0


def test_answer_correctness_uses_label_tolerance() -> None:
    ok = answer(results=[ResultSummary(label="x", metrics={"peak_infected": 1005.0, "attack_rate": 0.501}, run_id="r")])
    assert S.answer_correctness(SIM_CASE, ok).value == 1.0
    off = answer(
        results=[ResultSummary(label="x", metrics={"peak_infected": 1100.0, "attack_rate": 0.501}, run_id="r")]
    )
    assert S.answer_correctness(SIM_CASE, off).value == 0.5
    assert S.answer_correctness(SIM_CASE, answer(results=[])).value == 0.0


def test_grounding_traces_numbers_to_results_inputs_and_question() -> None:
    results = [
        ResultSummary(
            label="baseline",
            metrics={"peak_infected": 7070.95, "attack_rate": 0.8927},
            ci={"attack_rate": (0.85, 0.93)},
            run_id="r",
        )
    ]
    text = "The peak is 7,071 people, on day 57; 89% get infected (95% interval 85% to 93%) with R0 2.8 from day 20."
    good = answer(results=results, text=text)
    score = S.grounding(SIM_CASE, good)
    assert score.details["untraced"] == ["57"]  # no peak_day among the results
    assert score.value == pytest.approx(7 / 8)
    invented = good.model_copy(update={"text": "About 12,345 people, 3.3% of the city."})
    assert S.grounding(SIM_CASE, invented).value == 0.0
    assert S.grounding(SIM_CASE, good.model_copy(update={"results": []})).value is None


def test_a_crashing_scorer_is_recorded_not_raised() -> None:
    def broken(case: Case, ans: Answer) -> S.Score:
        raise KeyError("x")

    (score,) = S.score_answer(SIM_CASE, answer(), [broken])
    assert score.value is None and "scorer error" in score.explanation


def outcome(
    case_id: str, kind: str, answered: str | None, accepted: list[str] | None = None, sig: str | None = "a"
) -> Outcome:
    return Outcome(
        case_id=case_id, kind=kind, accepted_kinds=accepted or [kind], model=None, answer_kind=answered, signature=sig
    )


def test_refusal_and_clarification_precision_recall() -> None:
    outs = [
        outcome("a", "refuse", "refuse"),
        outcome("b", "refuse", "simulate"),  # missed refusal
        outcome("c", "simulate", "refuse"),  # wrong refusal
        outcome("d", "clarify", "refuse", ["clarify", "refuse"]),  # acceptable refusal
        outcome("e", "clarify", "clarify"),
    ]
    m = S.refusal_metrics(outs)
    assert m["refuse_precision"] == pytest.approx(2 / 3)
    assert m["refuse_recall"] == pytest.approx(1 / 2)
    assert m["clarify_precision"] == 1.0
    assert m["clarify_recall"] == 1.0  # d answered with an accepted kind


def test_consistency_share_of_cases_whose_repeats_agree() -> None:
    outs = [
        outcome("a", "simulate", "simulate", sig="x"),
        outcome("a", "simulate", "simulate", sig="x"),
        outcome("b", "simulate", "simulate", sig="x"),
        outcome("b", "simulate", "simulate", sig="y"),
    ]
    assert S.consistency(outs)["consistency"] == 0.5
    assert S.consistency(outs[:1])["consistency"] is None


def test_request_signature_ignores_prose_but_not_parameters() -> None:
    a = answer()
    assert request_signature(a) == request_signature(a.model_copy(update={"text": "different words"}))
    other = answer(scenarios=[scenario({"r0": 3.0})])
    assert request_signature(a) != request_signature(other)


def test_latency_percentiles_and_cost_with_a_price_table() -> None:
    outs = [
        Outcome(
            case_id=str(i),
            kind="simulate",
            accepted_kinds=["simulate"],
            model="seir",
            answer_kind="simulate",
            signature="s",
            timings_ms={"translate": float(i), "simulate": 10.0},
            usage={"prompt_tokens": 1000, "completion_tokens": 500},
            translator="llm:m",
        )
        for i in range(1, 101)
    ]
    lat = S.latency(outs)
    assert lat["translate"]["p50"] == pytest.approx(50.5)
    assert lat["translate"]["p95"] == pytest.approx(95.05)
    assert lat["total"]["p50"] == pytest.approx(60.5)
    usage = S.usage_and_cost(outs, {"m": {"prompt_per_million": 1.0, "completion_per_million": 2.0}})
    assert usage["prompt_tokens"] == 100_000 and usage["completion_tokens"] == 50_000
    assert usage["cost"] == pytest.approx(0.1 + 0.1)
    assert S.usage_and_cost(outs)["cost"] is None
    assert S.usage_and_cost(outs, {"other": {"prompt_per_million": 1.0}})["unpriced_models"] == ["m"]


def test_grounding_traces_percentage_points_of_a_share():
    from sim.experiments import Difference
    from simqa.answer import Answer, ResultSummary
    from simqa.compose import answer_sources as grounding_sources

    answer = Answer(
        question="q",
        kind="compare",
        text="attack rate 30.5 percentage points lower",
        translator="offline",
        results=[ResultSummary(label="baseline", metrics={"attack_rate": 0.893}, run_id="x")],
        differences=[
            Difference(label="b", metric="attack_rate", baseline=0.893, value=0.588, difference=-0.305, relative=-0.34)
        ],
    )
    assert any(abs(v - 30.5) < 1e-9 for v in grounding_sources(answer))
    answer.differences[0] = answer.differences[0].model_copy(update={"metric": "peak_infected"})
    assert not any(abs(v - 30.5) < 1e-9 for v in grounding_sources(answer))


# --- accepted alternative kinds: only what they share with the primary reading ---------------------

SCHOOLS = {"type": "school_closure", "start_day": 30, "duration_days": 28}
BARE_CASE = Case(
    id="t-bare",
    question="Close schools for 4 weeks from day 30 in a town of 20k",
    kind="compare",
    accept_kinds=["simulate"],
    model="abm",
    scenarios=[
        ExpectedScenario(label="baseline", params={"population": 20000}),
        ExpectedScenario(label="schools closed", params={"population": 20000}, interventions=[SCHOOLS]),
    ],
    labels={
        "baseline": {"peak_infected": MetricLabel(value=2000.0, rel_tol=0.05)},
        "schools closed": {"peak_infected": MetricLabel(value=1500.0, rel_tol=0.05)},
    },
)


def simulate_answer(
    case: Case, params: dict[str, object], interventions: list[dict[str, object]], peak: float, model: str = "abm"
) -> Answer:
    return Answer(
        question=case.question,
        kind="simulate",
        model=model,
        scenarios=[scenario(params, interventions, model=model)],
        results=[ResultSummary(label="baseline", metrics={"peak_infected": peak}, run_id="r")],
        text="ok",
        translator="t",
    )


def test_an_accepted_simulate_is_checked_against_the_primarys_last_scenario() -> None:
    right = simulate_answer(BARE_CASE, {"population": 20000}, [SCHOOLS], peak=1500.0)
    scores = by_name(BARE_CASE, right)
    assert scores["case_correct"].value == 1.0, scores["case_correct"].explanation
    assert scores["scenario_count"].value is None  # the compare's two scenarios are not required
    assert scores["answer_correctness"].value == 1.0  # against the last scenario's label
    # the baseline alone is not what the question asks
    no_closure = by_name(BARE_CASE, simulate_answer(BARE_CASE, {"population": 20000}, [], peak=2000.0))
    assert no_closure["interventions_match"].value == 0.0 and no_closure["case_correct"].value == 0.0
    assert no_closure["answer_correctness"].value == 0.0
    late = simulate_answer(BARE_CASE, {"population": 20000}, [{**SCHOOLS, "start_day": 20}], peak=1500.0)
    assert S.interventions_match(BARE_CASE, late).value == 0.0
    invented = simulate_answer(BARE_CASE, {"population": 20000, "r0": 3.0}, [SCHOOLS], peak=1500.0)
    assert S.params_match(BARE_CASE, invented).value == 0.0
    dropped = simulate_answer(BARE_CASE, {}, [SCHOOLS], peak=1500.0)
    assert S.params_match(BARE_CASE, dropped).value == 0.0
    wrong_model = simulate_answer(BARE_CASE, {"population": 20000}, [], peak=1500.0, model="seir")
    assert S.case_correct(BARE_CASE, wrong_model).value == 0.0


def test_the_primary_kind_still_needs_every_scenario_and_other_kinds_fail() -> None:
    one = simulate_answer(BARE_CASE, {"population": 20000}, [SCHOOLS], peak=1500.0).model_copy(
        update={"kind": "compare"}
    )
    assert S.scenario_count(BARE_CASE, one).value == 0.0 and S.case_correct(BARE_CASE, one).value == 0.0
    assert S.case_correct(BARE_CASE, oracle_answer(BARE_CASE)).value == 1.0
    strict = BARE_CASE.model_copy(update={"accept_kinds": []})
    assert not S.alternative_reading(strict, one.model_copy(update={"kind": "simulate"}))
    assert S.case_correct(strict, one.model_copy(update={"kind": "simulate"})).value == 0.0


def test_an_accepted_compare_of_a_sweep_needs_no_sweep_but_the_shared_scenario() -> None:
    case = Case(
        id="t-swp",
        question="Compare contact reductions of 20%, 40% and 60% starting on day 20",
        kind="sweep",
        accept_kinds=["compare"],
        model="seir",
        scenarios=[ExpectedScenario(interventions=[{"type": "contact_reduction", "start_day": 20}])],
        sweep={"param": "contact_reduction.effectiveness", "values": [0.2, 0.4, 0.6]},
    )

    def compare(start_day: int, extra: dict[str, object] | None = None) -> Answer:
        options = [{"type": "contact_reduction", "start_day": start_day, "effectiveness": e} for e in (0.2, 0.4, 0.6)]
        return Answer(
            question=case.question,
            kind="compare",
            model="seir",
            scenarios=[scenario({}), *(scenario(extra or {}, [iv]) for iv in options)],
            text="ok",
            translator="t",
        )

    scores = by_name(case, compare(20))
    assert scores["case_correct"].value == 1.0, scores["case_correct"].explanation
    assert scores["sweep_match"].value is None and scores["scenario_count"].value is None
    assert S.interventions_match(case, compare(10)).value == 0.0
    assert S.params_match(case, compare(20, {"r0": 3.0})).value == 0.0
    # answered as the primary kind, the sweep is required
    assert S.sweep_match(case, compare(20).model_copy(update={"kind": "sweep"})).value == 0.0
