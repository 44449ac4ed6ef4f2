from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import rag
from rag.runstore import RunStore
from tests.rag.test_runstore import make_result


def test_docs_answer_the_question(docs: Path) -> None:
    got = rag.retrieve("what is the share of orders delivered after the promised time?")
    assert got.docs[0].source == "docs/models/delivery.md#metrics"
    assert len(got.docs) == 5
    assert got.docs[0].score >= got.docs[-1].score
    top = rag.retrieve("what does the basic reproduction number r0 mean", k=1).docs
    assert [c.source for c in top] == ["docs/models/seir.md#r0"]


@pytest.mark.parametrize("mode", ["fused", "bm25", "dense"])
def test_each_mode_finds_the_obvious_section(docs: Path, mode: str) -> None:
    docs_found = rag.search_docs("common random numbers paired difference", k=3, mode=mode)  # type: ignore[arg-type]
    assert docs_found[0].source == "docs/methods.md#compare-and-common-random-numbers"


def test_model_filter_keeps_that_model_and_the_methods(docs: Path) -> None:
    got = rag.retrieve("metrics and validity limits", model="delivery", k=10)
    assert {c.model for c in got.docs} <= {"delivery", None}
    assert any(c.model == "delivery" for c in got.docs)


def test_examples_exclude_the_case_under_evaluation(docs: Path) -> None:
    question = "How many couriers do we need to keep late deliveries under 5%?"
    got = rag.retrieve(question)
    assert got.examples[0].case_id == "delivery-couriers"
    assert got.examples[0].request["calibrate"]["param"] == "couriers"
    assert got.examples[0].request["kind"] == "calibrate"
    without = rag.retrieve(question, exclude_case="delivery-couriers")
    assert "delivery-couriers" not in [e.case_id for e in without.examples]
    assert len(without.examples) == 3


def test_past_runs_are_found(docs: Path) -> None:
    assert rag.retrieve("have we looked at school closures before?").runs == []  # no store yet
    store = RunStore()
    schools = make_result(1, interventions=[{"type": "school_closure", "start_day": 30, "duration_days": 28}])
    store.put(schools)
    store.put(make_result(2, interventions=[{"type": "vaccination", "daily_rate": 0.01}]))
    store.put(make_result(3))
    runs = rag.retrieve("have we looked at school closures before?").runs
    assert runs[0].run_id == schools.run_id
    assert "school closure" in runs[0].summary
    assert runs[0].scenario["interventions"][0]["type"] == "school_closure"
    # A run stored after the first query is found by the next one.
    travel = make_result(4, interventions=[{"type": "travel_restriction", "effectiveness": 0.8}])
    store.put(travel)
    assert rag.retrieve("travel restrictions at the border").runs[0].run_id == travel.run_id


def test_retrieve_does_not_import_chromadb(docs: Path, tmp_path: Path) -> None:
    rag.index_docs()  # the mirror exists, as after `simqa index`
    code = (
        "import sys, json, rag\n"
        "got = rag.retrieve('how is the peak measured?')\n"
        "print(json.dumps([got.docs[0].section, 'chromadb' in sys.modules, 'langchain_text_splitters' in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    section, chroma_loaded, splitter_loaded = json.loads(out.stdout)
    assert section == "docs/models/seir.md#metrics"
    assert not chroma_loaded and not splitter_loaded
