"""Hostile questions: the question-size limit and the number of values a question may state
(MAX_QUESTION_CHARS and MAX_VALUES of simqa.translators.offline) give a clear answer, never a traceback."""

from __future__ import annotations

import json

import pytest

from sim.caps import MAX_SWEEP_VALUES


def _answer_or_usage_error(cli, question: str) -> dict | None:  # type: ignore[no-untyped-def]
    result = cli("ask", "--translator", "offline", "--json", question)
    if result.code == 2:
        result.one_line_error(2)
        return None
    assert result.code == 0, result.err[-500:]
    return json.loads(result.out)


@pytest.mark.slow
def test_a_question_with_1500_numbers_is_a_clear_answer(cli) -> None:
    numbers = " and ".join(str(i) for i in range(1500))
    answer = _answer_or_usage_error(cli, f"What is the peak with R0 2.5 and {numbers} people?")
    assert answer is None or answer["kind"] in ("clarify", "refuse")


def test_a_sweep_over_the_cap_says_so_instead_of_running_six_values(cli) -> None:
    answer = _answer_or_usage_error(cli, "sweep r0 from 1 to 3 in 100000 steps")
    assert answer is None or (answer["kind"] == "clarify" and str(MAX_SWEEP_VALUES) in answer["text"])


@pytest.mark.slow
def test_a_100kb_question_is_refused_in_one_line(cli) -> None:
    question = "What if R0 is 2 " + "and a town of 10,000 people " * 4000
    assert len(question) > 100_000
    assert _answer_or_usage_error(cli, question) is None
