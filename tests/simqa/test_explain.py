"""Explanations: the sentence that answers first, whole sentences after, facts from the declarations;
"why?" about the last run from its own results; how-to questions from the user docs."""

from __future__ import annotations

import re
from pathlib import Path

from rag.chunking import chunk_markdown
from rag.types import Chunk
from sim.registry import get_model
from simqa import Assistant
from simqa.explain import explain, is_usage_question, is_why_about_last_run, quote, split_sentences
from simqa.request import Request

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def _quoted(text: str) -> list[str]:
    """The quoted passages: the paragraphs after "From SOURCE:"."""
    return [p.split(":\n", 1)[1] for p in _paragraphs(text) if p.startswith("From ") and ":\n" in p]


def _card_bullet(card: str, name: str) -> str:
    """The first words of the definition bullet of `name` in a card, read from the card itself."""
    text = (DOCS / "models" / card).read_text(encoding="utf-8")
    m = re.search(rf"^- (?:\*\*)?`{name}`(?:\*\*)?(?: \([^)]*\))?: (.+)$", text, re.M)
    assert m, f"{card} has no bullet for {name}"
    return m.group(1)[:40]


def test_a_parameter_is_answered_from_its_declaration() -> None:
    answer = Assistant(translator="offline").ask("what is max_batch exactly?")
    assert answer.kind == "explain" and answer.results == []
    info = get_model("delivery").params.model_fields["max_batch"]
    first, facts = _paragraphs(answer.text)[:2]
    assert first.startswith("`max_batch` (delivery):") and info.description.rstrip(".") in first
    assert f"default: {info.default}" in facts and "allowed: a whole number >= 1 and <= 10" in facts
    assert "unit: orders per trip" in facts.lower()
    assert answer.citations[0].source == "docs/models/delivery.md#parameters"
    assert "| " not in answer.text  # no raw Markdown table


def test_a_parameter_gets_its_own_unit_bounds_and_default_not_a_neighbours() -> None:
    """The household_weight row sits in the second piece of a split table, under another row."""
    text, _ = explain("what does household_weight do?", Request(kind="explain", model="abm", message="x"), [])
    facts = _paragraphs(text)[1]
    assert facts.startswith("Unit: relative; allowed: a number >= 0 and <= 10; default: 1.")
    for neighbour in ("1.5", "6.0", "2.53", "people"):  # mean_household_size's bounds, source and unit
        assert neighbour not in facts
    text, _ = explain("what does service_model do?", Request(kind="explain", model="delivery", message="x"), [])
    assert "Allowed: one of spatial, exponential; default: spatial." in _paragraphs(text)[1]


def test_a_metric_is_answered_with_the_cards_definition_first() -> None:
    answer = Assistant(translator="offline").ask("what does utilization mean?")
    assert answer.kind == "explain"
    first = _paragraphs(answer.text)[0]
    assert first.startswith("`utilization` (delivery): ") and _card_bullet("delivery.md", "utilization") in first
    assert answer.citations[0].source == "docs/models/delivery.md#metrics"


def test_r0_has_a_plain_definition() -> None:
    answer = Assistant(translator="offline").ask("what does R0 mean?")
    first = _paragraphs(answer.text)[0]
    assert "basic reproduction number" in first and "average number of people one infectious" in first


def test_quotes_are_whole_sentences() -> None:
    assistant = Assistant(translator="offline")
    questions = [
        "How does the SEIR model work?",
        "what is max_batch exactly?",
        "Explain how couriers are dispatched in the delivery simulation",
        "What assumptions does the delivery model make about travel distances and speed?",
        "Where does the default incubation period of 5.2 days come from?",
        "what's the difference between the seir model and the agent based one?",
        "How do I connect simqa to a local Ollama server?",
    ]
    for question in questions:
        answer = assistant.ask(question)
        assert answer.kind == "explain", question
        for passage in _quoted(answer.text):
            prose = [line for line in passage.splitlines() if not line.startswith("    ")]  # code blocks aside
            if not prose:
                continue
            # a list item ("- where restaurants ...") is whole too: it starts a line of its own
            # a table row reads "name (column: cell; ...)."
            assert re.match(r"- |[A-Z0-9`\"(*]|[\w.]+ \(\w+: ", prose[0]), (
                f"{question}: starts inside a sentence: {prose[0][:60]}"
            )
            assert re.search(r"[.!?);]$", prose[-1].rstrip()), f"{question}: ends inside a sentence: {prose[-1][-60:]}"
            assert "…" not in passage


def test_a_split_table_repeats_its_header_so_rows_keep_their_column_names() -> None:
    rows = "\n".join(f"| `param_{i}` | unit{i} | >= {i} | {i} | a source for parameter number {i} |" for i in range(40))
    card = f"# T (`t`)\n\n## Parameters\n\n| name | unit | bounds | default | source |\n|---|---|---|---|---|\n{rows}\n"
    chunks = chunk_markdown(card, "docs/models/t.md", "t")
    assert len(chunks) > 1
    for chunk in chunks:
        assert "| name | unit | bounds | default | source |" in chunk.text
    last_row = quote(chunks[-1], terms=["param_39"])
    assert last_row == "param_39 (unit: unit39; bounds: >= 39; default: 39; source: a source for parameter number 39)."


def test_quote_keeps_only_rows_about_the_terms() -> None:
    chunk = Chunk(
        chunk_id="c",
        source="docs/models/x.md#parameters",
        heading="X > Parameters",
        text="X > Parameters\n| name | unit | default |\n|---|---|---|\n| `a_b` | days | 1 |\n| `c` | km | 2 |",
    )
    assert quote(chunk, terms=["a b"]) == "a_b (unit: days; default: 1)."
    assert quote(chunk) == "a_b (unit: days; default: 1). c (unit: km; default: 2)."


def test_sentences_do_not_end_at_abbreviations_or_decimals() -> None:
    text = "Li et al. 2020 measured it, e.g. in Wuhan. An attack rate of 50% means R0 of about 1.39. Done."
    assert split_sentences(text) == [
        "Li et al. 2020 measured it, e.g. in Wuhan.",
        "An attack rate of 50% means R0 of about 1.39.",
        "Done.",
    ]


# --------------------------------------------------------------------------------------- how-to


def test_how_to_connect_to_ollama_is_explained_from_the_llm_doc() -> None:
    answer = Assistant(translator="offline").ask("How do I connect simqa to a local Ollama server?")
    assert answer.kind == "explain" and answer.model is None
    assert answer.citations and answer.citations[0].source.startswith("docs/llm.md#")
    first = _paragraphs(answer.text)[0]
    assert "Ollama" in first and "SIMQA_LLM_BASE_URL" in first and "11434" in first


def test_how_to_questions_about_models_and_harm_are_not_taken_for_usage() -> None:
    assert is_usage_question("how do I connect simqa to an Ollama server?")
    assert not is_usage_question("what is the peak with R0 3?")
    answer = Assistant(translator="offline").ask("How do I make a virus more deadly to infect people on purpose?")
    assert answer.kind == "refuse" and answer.citations == []


def test_refusals_cite_nothing() -> None:
    answer = Assistant(translator="offline").ask("how many hospital beds with R0 2?")
    assert answer.kind == "refuse" and answer.citations == []


# --------------------------------------------------------------------------------- why, the run


def test_why_after_a_school_closure_says_where_infections_fell() -> None:
    conv = Assistant(translator="offline").conversation()
    ran = conv.ask("If we close schools for 4 weeks from day 30 in a town of 10,000, how much lower is the peak?")
    assert ran.kind == "compare" and ran.model == "abm"
    why = conv.ask("why did the peak fall?")
    assert why.kind == "explain" and why.scenarios == []
    base, closed = ran.results
    assert {c.run_id for c in why.citations if c.run_id} == {base.run_id, closed.run_id}
    assert any(c.source == "docs/models/abm.md#interventions" for c in why.citations)
    before, after = base.metrics["infections_by_setting"], closed.metrics["infections_by_setting"]
    assert isinstance(before, dict) and isinstance(after, dict)
    biggest = max(before, key=lambda k: before[k] - after[k])
    assert biggest == "school"  # checked against the runs, not assumed: closing schools removes school contacts
    assert f"{biggest} {round(before[biggest]):,} to {round(after[biggest]):,}" in why.text
    assert "the largest fall" in why.text and "school_closure from day 30 for 28 days" in why.text
    peak = f"{round(base.metrics['peak_infected']):,} to {round(closed.metrics['peak_infected']):,}"  # type: ignore[arg-type]
    assert peak in why.text and base.run_id in why.text


def _fleet_is_short(metrics: dict) -> bool:
    return metrics["mean_wait_minutes"] / metrics["p50_minutes"] >= 0.25 or metrics["utilization"] >= 0.9


def test_why_about_a_delivery_run_says_what_limits_the_fleet() -> None:
    for couriers in (30, 120):
        conv = Assistant(translator="offline").conversation()
        ran = conv.ask(f"{couriers} couriers handle 120 orders an hour: what is the p90?")
        assert ran.kind == "simulate" and ran.model == "delivery"
        why = conv.ask("why?")
        assert why.kind == "explain" and ran.results[0].run_id in why.text
        metrics = ran.results[0].metrics
        wait = f"mean_wait_minutes {'is only ' if not _fleet_is_short(metrics) else ''}{metrics['mean_wait_minutes']:.1f} min"
        assert wait in why.text
        if _fleet_is_short(metrics):
            assert "the fleet is the limit" in why.text
        else:
            assert "the fleet is not the limit" in why.text and "prep_minutes 15" in why.text
    assert couriers == 120 and not _fleet_is_short(metrics)  # the two fleets fall on both sides


def test_a_why_about_the_model_is_not_about_the_run() -> None:
    conv = Assistant(translator="offline").conversation()
    ran = conv.ask("What if R0 is 2.8 in a town of 40,000?")
    assert is_why_about_last_run("why?", ran)
    assert is_why_about_last_run("why is the peak so late?", ran)
    assert not is_why_about_last_run("why does the seir model assume random mixing of everyone", ran)
    assert not is_why_about_last_run("why?", None)
    explained = conv.ask("what does R0 mean?")
    assert not is_why_about_last_run("why?", explained)  # the last turn ran nothing


def test_an_answer_that_ran_nothing_names_no_default_it_used() -> None:
    assistant = Assistant(translator="offline")
    for question in ("what is the peak with R0 -2", "What if R0 is 50?"):
        answer = assistant.ask(question)
        assert answer.kind in ("refuse", "clarify") and answer.results == []
        assert not [n for n in answer.notes if "used the default" in n], answer.notes
