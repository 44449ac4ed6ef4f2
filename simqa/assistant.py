"""The assistant: question -> retrieval -> translation -> validated run -> grounded answer.

`Assistant.ask` is one-shot; `Assistant.conversation()` keeps turns so follow-ups refine the last
scenario. Both are thread-safe: an Assistant holds only lazily built, shared, read-mostly parts
(translators, the run store), and each Conversation guards its own history.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from rag.errors import StoreError
from sim.errors import ScenarioError, SimqaError
from sim.executors import Progress
from sim.result import Result
from simqa.answer import Answer, CalibrationSummary, Citation, ResultSummary
from simqa.compose import Outcome, compose_template, ungrounded_numbers
from simqa.errors import LLMError
from simqa.request import RUN_KINDS, Request
from simqa.settings import Settings
from simqa.translators.base import Translation, TranslationContext, Translator, Turn

TranslatorName = Literal["auto", "llm", "offline"]
TRANSLATOR_NAMES = ("auto", "llm", "offline")


class Assistant:
    """Answers questions about the registered simulation models.

    translator: "auto" uses the LLM when one is configured (OPENAI_API_KEY / SIMQA_LLM_BASE_URL /
      SIMQA_LLM_MODEL) and falls back to the offline translator when it fails; "llm" and
      "offline" force one.
    retrieval: look up model cards, past runs and worked examples (off: faster, no citations).
    cache: reuse stored runs of identical scenarios (same scenario + seed + engine version).
    store: keep every run the answer cites in the run store, so `simqa runs show ID` finds it.
    index_runs: offer the stored runs to later questions' retrieval as similar past runs (an eval
      keeps its runs, so that its answers can be checked, but does not offer them).
    settings: what the environment says (`simqa.settings.Settings`), resolved once; by default
      `Settings.from_env()` when the Assistant is made.
    executor: where experiments run (a `sim.executors.Executor`); by default the settings' one.
    run_store: the `rag.runstore.RunStore` runs are cached in, stored in and retrieved from; by
      default the one under the settings' home.
    """

    def __init__(
        self,
        translator: TranslatorName = "auto",
        *,
        retrieval: bool = True,
        cache: bool = True,
        store: bool = True,
        index_runs: bool = True,
        llm_cache_dir: str | Path | None = None,
        settings: Settings | None = None,
        executor: Any = None,
        run_store: Any = None,
    ) -> None:
        if translator not in TRANSLATOR_NAMES:
            raise ValueError(f"translator must be one of {', '.join(TRANSLATOR_NAMES)}, got {translator!r}")
        self.translator_name = translator
        self.retrieval = retrieval
        self.cache = cache
        self.store = store
        self.index_runs = index_runs
        self.llm_cache_dir = llm_cache_dir
        self.settings = settings if settings is not None else Settings.from_env()
        self._lock = threading.Lock()
        self._offline: Translator | None = None
        self._llm: Translator | None = None
        self._runstore: Any = run_store
        self._executor: Any = executor

    # -- parts, built on first use --------------------------------------------------------------

    def _offline_translator(self) -> Translator:
        with self._lock:
            if self._offline is None:
                from simqa.translators.offline import OfflineTranslator

                self._offline = OfflineTranslator()
            return self._offline

    def _llm_translator(self) -> Translator | None:
        config = self.settings.llm
        if not config.configured:
            if self.translator_name == "llm":
                raise LLMError(
                    "no LLM is configured: set OPENAI_API_KEY (and SIMQA_LLM_BASE_URL / SIMQA_LLM_MODEL for "
                    "another OpenAI-compatible server), or use --translator offline"
                )
            return None
        with self._lock:
            if self._llm is None:
                from simqa.llm_client import LLMClient
                from simqa.translators.llm import LLMTranslator

                client = LLMClient(config, cache_dir=self.llm_cache_dir, home=self.settings.home)
                self._llm = LLMTranslator(client=client)
            return self._llm

    def _store(self) -> Any:
        if not (self.cache or self.store):
            return None
        with self._lock:
            if self._runstore is None:
                self._runstore = self.settings.run_store()
            return self._runstore

    def _experiments_executor(self) -> Any:
        with self._lock:
            if self._executor is None:
                self._executor = self.settings.executor()
            return self._executor

    # -- the flow ---------------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        data: Any = None,
        exclude_case: str | None = None,
        progress: Progress | None = None,
    ) -> Answer:
        """Answer one question, with no memory of earlier ones.

        data: observations to fit the model to (retrodiction): a CSV or JSON file's path, a mapping
          of columns ({"day": [...], "new_cases": [...]}), a list of records, or an array of the
          model's first observed column. The answer is then of kind "fit".
        """
        return self._answer(question, [], data=data, exclude_case=exclude_case, progress=progress)[0]

    def conversation(self) -> Conversation:
        """A multi-turn conversation: follow-ups refine the previous scenario."""
        return Conversation(self)

    def _answer(
        self,
        question: str,
        history: list[Turn],
        *,
        data: Any = None,
        fit_context: Any = None,
        exclude_case: str | None = None,
        progress: Progress | None = None,
        previous: Answer | None = None,
    ) -> tuple[Answer, Request]:
        question = question.strip()
        if not question:
            raise ScenarioError("the question is empty: ask something about a model, e.g. 'what if R0 is 3?'")
        table = None
        if data is not None:
            from simqa.fitting import load_table

            table = load_table(data)  # a file that cannot be read fails before anything else
        timings: dict[str, float] = {}
        notes: list[str] = []

        start = time.perf_counter()
        context = TranslationContext(history=list(history), budget=self._llm_budget())
        if self.retrieval:
            self._retrieve(question, context, exclude_case, notes)
        timings["retrieve"] = _ms(start)

        start = time.perf_counter()
        translation, readings = self._translate(question, context, notes)
        request = translation.request
        # Until the translator tells these apart itself: "why?" about the run just made, and how to use simqa.
        from simqa.explain import is_usage_question, is_why_about_last_run

        why_last_run = previous is not None and is_why_about_last_run(question, previous)
        if why_last_run and previous is not None:
            request = Request(kind="explain", model=previous.model, message=question[:2000])
        elif request.kind in ("refuse", "clarify") and request.model is None and is_usage_question(question):
            request = Request(kind="explain", message=question[:2000])
        timings["translate"] = _ms(start)
        if table is not None:
            return self._fit_answer(question, translation, context, table, timings, notes, progress)
        if fit_context is not None:  # a conversation whose earlier turn fitted data: what-ifs start from the fit
            from simqa.fitting import from_fit

            request = from_fit(request, fit_context) or request

        start = time.perf_counter()
        outcome = Outcome()
        if request.kind in RUN_KINDS:
            try:
                outcome = self._run(request, progress)
            except ScenarioError as exc:
                # A bound the translator could not see (a cap, a combination): never run, say which.
                request = Request(kind="clarify", model=request.model, message=_clarify_message(exc))
        if fit_context is not None and outcome.results:
            from simqa.fitting import fit_spread

            notes += fit_spread(fit_context, request)
        timings["simulate"] = _ms(start)

        start = time.perf_counter()
        if request.kind == "explain" and why_last_run and previous is not None:
            from simqa.explain import explain_run

            text, citations = explain_run(question, history[-1].request if history else None, previous, notes)
        elif request.kind == "explain":
            from simqa.explain import explain

            text, citations = explain(question, request, context.docs, notes)
        elif request.kind == "refuse":
            text = compose_template(question, request, outcome)
            citations = []  # a refusal uses no doc: it cites none
        else:
            text = compose_template(question, request, outcome, stated=_stated_params(translation.request))
            citations = [Citation(source=c.source, chunk_id=c.chunk_id) for c in _relevant_docs(request, context)[:3]]
        citations += [Citation(source=f"run:{r.run_id}", run_id=r.run_id) for r in _cited_runs(request, outcome)]
        answer = Answer(
            question=question,
            kind=request.kind,
            model=request.model,
            scenarios=_scenarios_run(request, outcome),
            sweep=_typed_sweep(request),
            calibrate=request.calibrate,
            results=[
                ResultSummary(label=r.label, metrics=r.metrics, ci=r.ci, run_id=r.run_id, notes=r.notes)
                for r in outcome.results
            ],
            text=text,
            citations=citations,
            translator=translation.translator,
            usage=translation.usage,
            differences=outcome.differences,
            calibration=(
                CalibrationSummary.model_validate(outcome.calibration.model_dump(exclude={"results"}))
                if outcome.calibration
                else None
            ),
            notes=_notes_for(
                request,
                [*request.notes, *translation.notes, *_default_field_notes(request), *outcome.notes, *notes],
            ),
        )
        # An LLM-written text replaces the template only when every number in it is grounded in
        # this answer (the rule `simqa.compose.ungrounded_numbers` states; the eval scores the same).
        llm_notes: list[str] = []
        llm_text = self._maybe_llm_text(question, request, outcome, answer, llm_notes, context.budget)
        timings["compose"] = _ms(start)
        update: dict[str, Any] = {"text": llm_text, "timings_ms": {k: round(v, 2) for k, v in timings.items()}}
        if llm_notes:
            update["notes"] = [*answer.notes, *_notes_for(request, llm_notes)]
        answer = answer.model_copy(update=update)
        return answer.with_runs(outcome.results, readings=readings), request

    def _fit_answer(
        self,
        question: str,
        translation: Translation,
        context: TranslationContext,
        table: Any,
        timings: dict[str, float],
        notes: list[str],
        progress: Progress | None,
    ) -> tuple[Answer, Request]:
        """A question with data: the request's model and stated values plus the data make a fit
        (`simqa.fitting`); the data choose the model by their columns when the request has none."""
        from simqa.answer import DataSummary, FitSummary, ForecastValue
        from simqa.fitting import compose_fit, plan_fit, run_plan

        request = translation.request
        start = time.perf_counter()
        plan = plan_fit(request, table, question)  # bad data: a DataError naming the row and column, nothing runs
        fit_run = run_plan(plan, cache=self._cache(), progress=progress)
        timings["simulate"] = _ms(start)
        start = time.perf_counter()
        text = compose_fit(question, fit_run)
        spec_docs = _relevant_docs(request.model_copy(update={"model": plan.model}), context)
        citations = [Citation(source=c.source, chunk_id=c.chunk_id) for c in spec_docs[:3]]
        result = fit_run.result
        citations.append(Citation(source=f"run:{result.run_id}", run_id=result.run_id))
        timings["compose"] = _ms(start)
        outcome, ahead, data = fit_run.outcome, fit_run.forecast, plan.data
        observables = _observables(plan.model)
        scalar = {k: float(v) for k, v in result.metrics.items() if not isinstance(v, dict)}
        answer = Answer(
            question=question,
            kind="fit",
            model=plan.model,
            scenarios=[result.scenario],
            results=[
                ResultSummary(
                    label=result.label,
                    metrics=result.metrics,
                    ci={k: v for k, v in ahead.intervals.items() if k in scalar},
                    run_id=result.run_id,
                    notes=result.notes,
                )
            ],
            text=text,
            citations=citations,
            translator=translation.translator,
            timings_ms={k: round(v, 2) for k, v in timings.items()},
            usage=translation.usage,
            fit=plan.spec,
            fitted=FitSummary(
                data=DataSummary(
                    source=data.source,
                    rows=data.n_rows,
                    columns=outcome.columns,
                    step=observables.index,
                    first=int(data.index[0]),
                    last=data.last,
                    first_date=data.first_date,
                ),
                estimates=outcome.estimates,
                fixed=plan.fixed,
                likelihood=outcome.likelihood,
                method=outcome.method,
                goodness_of_fit=outcome.goodness,
                horizon=ahead.horizon,
                forecast={
                    k: ForecastValue(value=scalar[k], lower=lo, upper=hi)
                    for k, (lo, hi) in ahead.intervals.items()
                    if k in scalar
                },
            ),
            notes=list(dict.fromkeys([*plan.notes, *outcome.notes, *ahead.notes, *translation.notes, *notes])),
        )
        answer.with_runs([result], fit_run=fit_run)
        # what a follow-up refines: the fitted scenario, run over the forecast horizon
        turn = Request(kind="simulate", model=plan.model, scenarios=[fit_run.scenario])
        return answer, turn

    def _retrieve(self, question: str, context: TranslationContext, exclude_case: str | None, notes: list[str]) -> None:
        """Docs, past runs and examples into `context`; without the vector store (a Chroma server
        down or silent) by keywords alone, and without any store with a note: the answer goes on."""
        from rag import retrieve
        from rag.vectorstore import chroma_url

        try:
            runs = self._store()
        except StoreError as exc:
            notes.append(f"past runs unavailable: {exc}")
            runs = None
        try:
            found = retrieve(question, k=5, exclude_case=exclude_case, run_store=runs)
        except StoreError as exc:
            if not chroma_url():
                notes.append(f"retrieval unavailable: {exc}")
                return
            try:
                found = retrieve(question, k=5, exclude_case=exclude_case, mode="bm25", run_store=runs)
            except StoreError as again:
                notes.append(f"retrieval unavailable: {again}")
                return
            notes.append(f"the vector store failed ({exc}); the model cards were searched by keywords alone")
        context.docs, context.runs, context.examples = found.docs, found.runs, found.examples

    def _llm_budget(self) -> Any:
        """A fresh LLM budget for one answer, or None when no LLM is used."""
        if self.translator_name == "offline":
            return None
        try:
            llm = self._llm_translator()
        except LLMError:
            return None
        client = getattr(llm, "client", None)
        return client.budget() if client is not None else None

    def _translate(
        self, question: str, context: TranslationContext, notes: list[str]
    ) -> tuple[Translation, dict[str, Any] | None]:
        """The translation, and how the two readings compared when the LLM's was made (None otherwise).

        With an LLM the offline reading is made too; `simqa.readings` keeps the one that accounts
        for every stated value and notes where they differ.
        """
        if self.translator_name != "offline":
            llm = self._llm_translator()
            if llm is not None:
                try:
                    llm_translation = llm.translate(question, context)
                except LLMError as exc:
                    if self.translator_name == "llm":
                        raise
                    notes.append(f"the LLM failed ({exc}); the offline translator answered")
                else:
                    return self._second_reading(question, context, llm_translation)
        return self._offline_translator().translate(question, context), None

    def _second_reading(
        self, question: str, context: TranslationContext, llm_translation: Translation
    ) -> tuple[Translation, dict[str, Any] | None]:
        from simqa.readings import reconcile

        try:
            offline = self._offline_translator().translate(question, context)
        except Exception:  # the second reading is a check: its failure never costs the answer
            return llm_translation, None
        chosen, comparison = reconcile(question, llm_translation, offline)
        return chosen, comparison.as_dict()

    def _run(self, request: Request, progress: Progress | None) -> Outcome:
        from sim.dispatch import run_request

        return run_request(
            request.kind,
            request.scenarios,
            sweep_spec=request.sweep,
            calibrate_spec=request.calibrate,
            cache=self._cache(),
            executor=self._experiments_executor(),
            progress=progress,
        )

    def _cache(self) -> Any:
        store = self._store()
        if store is None:
            return None
        return _StoreCache(store, read=self.cache, write=self.store, searchable=self.index_runs)

    def _maybe_llm_text(
        self, question: str, request: Request, outcome: Outcome, answer: Answer, notes: list[str], budget: Any = None
    ) -> str:
        """An LLM-written answer when one is configured, kept only if every number in it is grounded in
        `answer` (which holds the template text); the template text otherwise, with a note why.

        Not asked when the endpoint already failed within this answer (the translator's note says so).
        """
        template = answer.text
        if self.translator_name == "offline" or request.kind not in RUN_KINDS or not outcome.results:
            return template
        if budget is not None and budget.failure is not None:
            return template
        try:
            llm = self._llm_translator()
        except LLMError:
            return template
        composer: Callable[..., str] | None = getattr(llm, "compose", None)
        if composer is None:
            return template
        try:
            text = composer(question, request, outcome, budget=budget)
        except LLMError as exc:
            notes.append(f"the LLM could not write the answer ({exc}); template answer used")
            return template
        bad = ungrounded_numbers(answer, text)
        if bad:
            notes.append(
                f"the LLM answer stated numbers not in the results ({', '.join(bad[:5])}); template answer used"
            )
            return template
        return text


class _StoreCache:
    """The run store seen as the engine's run cache, with reading and writing switchable."""

    def __init__(self, store: Any, read: bool, write: bool, searchable: bool = True) -> None:
        self.store, self.read, self.write, self.searchable = store, read, write, searchable

    def get(self, run_id: str) -> Result | None:
        hit = self.store.get(run_id) if self.read else None
        if hit is not None and self.write and self.searchable:
            with contextlib.suppress(StoreError):  # a read-only store still serves its runs
                self.store.offer(hit)  # a run an eval kept unoffered is now one a person asked
        return hit

    def put(self, result: Result) -> None:
        if self.write:
            self.store.put(result, searchable=self.searchable)


class Conversation:
    """Turns of one conversation; each answer may refine the previous scenario."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.turns: list[Turn] = []
        self.answers: list[Answer] = []
        self._fit: Any = None  # the last fit of the conversation (simqa.fitting.FitRun)
        self._lock = threading.Lock()

    def ask(
        self,
        question: str,
        *,
        data: Any = None,
        exclude_case: str | None = None,
        progress: Progress | None = None,
    ) -> Answer:
        """One turn; `data` as in `Assistant.ask` fits the model to it, and later turns start from the fit."""
        with self._lock:
            answer, request = self.assistant._answer(
                question,
                self.turns,
                data=data,
                fit_context=self._fit,
                exclude_case=exclude_case,
                progress=progress,
                previous=self.answers[-1] if self.answers else None,
            )
            if answer.fit_run is not None:
                self._fit = answer.fit_run
            self.turns.append(Turn(question=question, request=request))
            self.answers.append(answer)
            return answer

    @property
    def last_request(self) -> Request | None:
        return self.turns[-1].request if self.turns else None


def _cited_runs(request: Request, outcome: Outcome) -> list[Result]:
    """The runs an answer rests on: all of them, but for a calibration only the runs at its solutions
    and at the answer (not every value the search tried)."""
    cal = outcome.calibration
    if request.kind != "calibrate" or cal is None:
        return outcome.results
    wanted = {s.value for s in cal.solutions}
    keep = [r for r in outcome.results[:-1] if _searched_value(r, cal.param) in wanted]
    return [*keep, outcome.results[-1]]


def _searched_value(result: Result, param: str) -> float | None:
    from sim.target import Target

    try:
        return Target.parse(param, result.scenario.model).value_in(result.scenario)
    except ScenarioError:
        return None


def _observables(model: str) -> Any:
    from sim.registry import get_model

    return get_model(model).observables


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _notes_for(request: Request, notes: list[str]) -> list[str]:
    """The answer's notes, once each; an answer that ran nothing used no default, so it says none."""
    if request.kind not in RUN_KINDS:
        notes = [n for n in notes if "used the default" not in n]
    return list(dict.fromkeys(notes))


def _default_field_notes(request: Request) -> list[str]:
    """A note for each intervention strength the question left to its default ("lockdown" -> 0.5)."""
    notes = []
    for scenario in request.scenarios:
        for iv in scenario.interventions:
            for name, info in type(iv).model_fields.items():
                if name in ("type", "start_day", "duration_days") or name in iv.model_fields_set:
                    continue
                swept = request.sweep is not None and request.sweep.param == f"{iv.type}.{name}"
                searched = request.calibrate is not None and request.calibrate.param == f"{iv.type}.{name}"
                if not (swept or searched):
                    notes.append(
                        f"{iv.type}.{name} not stated: used the default {info.default}; say the value you mean"
                    )
    return list(dict.fromkeys(notes))


def _typed_sweep(request: Request) -> Any:
    """The sweep with whole-number targets written as whole numbers (20, not 20.0)."""
    sweep, model = request.sweep, request.model
    if sweep is None or model is None:
        return sweep
    from sim.target import Target

    try:
        target = Target.parse(sweep.param, model, "sweep")
    except ScenarioError:
        return sweep
    if not target.whole:
        return sweep
    return sweep.model_copy(update={"values": [int(v) if float(v).is_integer() else v for v in sweep.values]})


def _stated_params(request: Request) -> list[str]:
    return list(request.scenarios[0].params) if request.scenarios else []


def _scenarios_run(request: Request, outcome: Outcome) -> list[Any]:
    """The scenarios that ran, with every parameter (defaults filled)."""
    if request.kind in ("simulate", "compare"):
        return [r.scenario for r in outcome.results]
    if request.kind in ("sweep", "calibrate") and outcome.results:
        from sim.scenario import resolve

        return [resolve(request.scenarios[0]).to_scenario()]
    return []


def _clarify_message(exc: SimqaError) -> str:
    allowed = getattr(exc, "allowed", None)
    return (
        f"I can't run that: {exc}."
        + (f" Allowed: {allowed}." if allowed and "allowed" not in str(exc) else "")
        + (" What value should I use instead?")
    )


def _relevant_docs(request: Request, context: TranslationContext) -> list[Any]:
    """Retrieved chunks about the model the question went to (or about no model: methods), best first."""
    if request.model is None:
        return list(context.docs)
    return [c for c in context.docs if c.model in (None, request.model)]
