"""Explanations: answers that lead with the sentence that answers, then quote the docs whole.

Three kinds of question are explained here, running nothing:

- a term (a metric, a parameter or an intervention of a model): the first sentence is the card's
  definition of it (a parameter's comes from its declaration: its description, allowed values and
  default, and its unit); then whole sentences of the card about it. Table rows read with their
  own column names.
- how to use simqa ("how do I connect to a local Ollama server?"): the user docs (docs/llm.md,
  docs/cli.md, ...), the sentence that answers first.
- "why?" about the run just made (`explain_run`): from that run's own results, citing it.

No model, parameter or metric is named here: they come from the registry, the declarations and
the cards. Until the translator itself tells a "why" about the last run or a how-to question
apart, `is_why_about_last_run` and `is_usage_question` are the predicates the assistant routes by.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

from rag.chunking import GUIDE
from rag.errors import StoreError
from rag.types import Chunk
from sim.registry import get_model, model_names
from simqa.answer import Citation
from simqa.request import RUN_KINDS, Request

if TYPE_CHECKING:
    from simqa.answer import Answer

MAX_QUOTES = 3
QUOTE_CHARS = 600  # per quoted chunk, in whole sentences (a first sentence longer than this is kept whole)
MAX_TERMS = 2
NO_DOCS = (
    "I found no documentation on that. Run `simqa index` to index the docs, or ask about "
    "a model's parameters, interventions or metrics, or how to use simqa."
)
GENERAL_QUESTION = re.compile(
    r"\b(how (does|do|is)\b.*\b(work|built|simulate)|what (is|does) the \w+ model\b|(explain|describe|tell me about) the"
    r" \w+ model|difference between|when should i use|which model)",
    re.IGNORECASE,
)
# How to use simqa itself: answered from the user docs, not the model cards.
HOW_TO = re.compile(
    r"^\s*(?:(?:so|ok|okay|and|but),?\s+)?(?:how (?:do|can|could|should|would) (?:i|we|you|one)\b|how to\b|"
    r"where (?:do|can|should|would) (?:i|we)\b|can (?:i|we|simqa)\b|is there a way\b|"
    r"what (?:command|option|flag|variable|environment variable|setting)s?\b)",
    re.IGNORECASE,
)
WHY = re.compile(
    r"^\s*(?:(?:so|ok|okay|and|but|hmm),?\s+)?(?:why\b|how come\b|what (?:caused|explains|drove|limits)\b)", re.I
)
# Words that point a "why" back at what just ran ("why did it fall?", "why is the peak so late?").
POINTS_BACK = re.compile(
    r"\b(?:it|that|this|these|those|so|did|didn't|was|wasn't|were|weren't|then|here|there|now|the run|results?)\b",
    re.I,
)
ABBREVIATION = re.compile(r"(?:\bet al|\be\.g|\bi\.e|\bvs|\bcf|\betc|\bapprox|\bSt|\bNo)\.$", re.I)
SENTENCE_END = re.compile(r"(?<=[.!?])[)\"'*`]*\s+(?=[A-Z0-9`(*\"'\[])")
DEFINITION_BULLET = re.compile(
    r"^[-*]\s+(?:\*\*)?`(?P<name>[\w.]+)`(?:\*\*)?(?:\s*\((?P<fields>[^)]*)\))?\s*:\s*(?P<body>.+)$", re.S
)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "simqa",
        "model",
        "models",
        "use",
        "using",
    ]
)
DEFINING_WORDS = frozenset(
    [
        "mean",
        "means",
        "meaning",
        "meant",
        "define",
        "defined",
        "definition",
        "exactly",
        "stand",
        "represent",
        "represents",
        "measure",
        "measures",
        "control",
        "controls",
        "what's",
        "whats",
        "is",
        "does",
        "do",
        "please",
        "tell",
        "explain",
        "term",
        "parameter",
        "metric",
    ]
)
# The parts of a delay of a served queue, found by the words the card's metric definitions and the
# parameters' declarations use (no parameter or metric is named here).
QUEUEING_WORDS = re.compile(r"\bqueu\w*", re.I)
PREPARATION_WORDS = re.compile(r"\bpreparation\b", re.I)
TRAVEL_WORDS = re.compile(r"\b(?:speed|distance|square city|km)\b", re.I)
BUSY_WORDS = re.compile(r"\bshare of \w+ time\b|\bbusy\b", re.I)
FLOOR_QUERY = "the floor of the time no fleet can beat: preparation plus the ride"
QUEUE_SHARE_LIMIT = 0.25  # the wait for a server is over a quarter of the median time: the fleet limits
BUSY_LIMIT = 0.9  # servers busy 90% of the time or more: the fleet limits


# --------------------------------------------------------------------------------------- units


@dataclass(frozen=True)
class Unit:
    """A quotable piece of a doc chunk: a sentence run of prose, a bullet, a table row or a code block."""

    kind: Literal["prose", "bullet", "row", "code"]
    text: str
    cells: tuple[tuple[str, str], ...] = ()  # a table row: (column name, cell) pairs


def _strip_md(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"\1", text).strip()


def units(chunk: Chunk) -> list[Unit]:
    """The chunk as prose paragraphs, bullets (with their continuation lines), table rows and code."""
    lines = chunk.text.splitlines()
    if chunk.heading and lines and lines[0].strip() == chunk.heading:
        lines = lines[1:]
    out: list[Unit] = []
    header: list[str] = []
    current: list[str] = []
    current_kind: Literal["prose", "bullet"] = "prose"
    code: list[str] | None = None

    def close() -> None:
        nonlocal current
        if current:
            out.append(Unit(current_kind, _strip_md(" ".join(s.strip() for s in current))))
        current = []

    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("```"):
            if code is None:
                close()
                code = []
            else:
                out.append(Unit("code", "\n".join(code)))
                code = None
            continue
        if code is not None:
            code.append(line.rstrip())
            continue
        if not stripped or stripped.startswith("#"):
            close()
            continue
        if stripped.startswith("|"):
            close()
            row, header = _table_line(stripped, lines[i + 1].strip() if i + 1 < len(lines) else "", header)
            if row is not None:
                out.append(row)
            continue
        if re.match(r"^(?:[-*]|\d+\.)\s+", stripped):
            close()
            current_kind = "bullet"
        elif current and current_kind == "bullet" and not line[:1].isspace():
            close()  # a bullet's own lines are indented: this line is a new paragraph
            current_kind = "prose"
        elif not current:
            current_kind = "prose"
        current.append(stripped)
    close()
    if code is not None and code:
        out.append(Unit("code", "\n".join(code)))
    return out


def _table_line(line: str, nxt: str, header: list[str]) -> tuple[Unit | None, list[str]]:
    """A table line as a row named by the header, or None for the separator and the header itself
    (the line above a separator); returns the header in force after it."""
    cells = [c.strip() for c in line.strip("|").split("|")]
    if set(line) <= set("|-: "):
        return None, header  # the separator row
    if nxt.startswith("|") and set(nxt) <= set("|-: ") and "-" in nxt:
        return None, cells
    named = tuple(zip(header, cells, strict=False)) if header else tuple(("", c) for c in cells)
    return Unit("row", _row_text(named), named), header


def _row_text(cells: Sequence[tuple[str, str]]) -> str:
    """A table row as a sentence: "name (unit: ...; bounds: ...; default: ...)." with its own column names."""
    if not cells:
        return ""
    first = _unquote(cells[0][1])
    rest = [f"{h}: {_unquote(c)}" if h else _unquote(c) for h, c in cells[1:] if c]
    return f"{first} ({'; '.join(rest)})." if rest else f"{first}."


def _unquote(cell: str) -> str:
    """`name` -> name; a cell with code inside ("<= `other_name`") keeps its quotes."""
    cell = cell.strip()
    return cell[1:-1] if cell.startswith("`") and cell.endswith("`") and cell.count("`") == 2 else cell


def split_sentences(text: str) -> list[str]:
    """Whole sentences of a paragraph; "et al. 2020", "e.g." and decimals do not end one."""
    out: list[str] = []
    start = 0
    for m in SENTENCE_END.finditer(text):
        piece = text[start : m.start()].strip()
        if ABBREVIATION.search(piece):
            continue
        out.append(text[start : m.end()].strip())
        start = m.end()
    rest = text[start:].strip()
    if rest:
        out.append(rest)
    return [s for s in out if s]


def _sentences(chunk: Chunk) -> list[tuple[str, Unit]]:
    out = []
    for unit in units(chunk):
        if unit.kind in ("row", "code"):
            out.append((unit.text, unit))
        else:
            text = re.sub(r"^(?:[-*]|\d+\.)\s+", "", unit.text)
            out.extend((s, unit) for s in split_sentences(text))
    return out


def quote(chunk: Chunk, limit: int = QUOTE_CHARS, terms: Iterable[str] = (), whole: bool = False) -> str:
    """Whole sentences of the chunk, up to `limit` characters (a longer first sentence stays whole).

    With `whole`, a sentence the chunk begins or ends inside is read whole from its doc. With `terms`, the table rows about other things are
    left out and the sentences that name a term come first; table rows read as
    "name (column: cell; ...)." with the table's own column names.
    """
    wanted = [t.replace(" ", "_").lower() for t in terms]
    items = _whole_sentences(chunk, whole)
    rows = [(s, u) for s, u in items if u.kind == "row"]
    if wanted and rows:
        about = [(s, u) for s, u in rows if any(_names(u.cells[0][1], t) for t in wanted)]
        items = [(s, u) for s, u in items if u.kind != "row" or (s, u) in about]
    if wanted:
        named = [(s, u) for s, u in items if any(_mentions(s, t) for t in wanted)]
        items = named + [x for x in items if x not in named]
    return _join_within(items, limit)


def _body(chunk: Chunk) -> str:
    lines = chunk.text.splitlines()
    if chunk.heading and lines and lines[0].strip() == chunk.heading:
        lines = lines[1:]
    return "\n".join(lines)


_sections_cache: dict[tuple[str, int], dict[str, str]] = {}


def section_text(source: str) -> str | None:
    """The whole text of the section a chunk's source names, read from its doc file."""
    from rag.chunking import doc_files, section_texts

    file_source = source.split("#", 1)[0]
    doc = next((d for d in doc_files() if d.source == file_source), None)
    if doc is None:
        return None
    try:
        key = (str(doc.path), doc.path.stat().st_mtime_ns)
        if key not in _sections_cache:
            _sections_cache[key] = section_texts(doc.path.read_text(encoding="utf-8"), doc.source)
    except OSError:
        return None
    return _sections_cache[key].get(source)


def whole_section(chunk: Chunk) -> tuple[Chunk, int]:
    """The chunk's whole section as one chunk, and the offset at which this chunk's own text starts
    in it (the chunk itself, at 0, when its doc cannot be read)."""
    text = section_text(chunk.source)
    if text is None:
        return chunk, 0
    lines = [line.strip() for line in _body(chunk).splitlines() if line.strip() and not line.lstrip().startswith("#")]
    probe = lines[0][:40] if lines else ""
    start = text.find(probe) if probe else 0
    return chunk.model_copy(update={"text": text, "heading": ""}), max(start, 0)


def _whole_sentences(chunk: Chunk, whole: bool = True) -> list[tuple[str, Unit]]:
    """The sentences from the one the chunk starts in to the end of its section (with `whole`; else
    those of the chunk itself, less a fragment it starts with)."""
    if not whole:
        items = _sentences(chunk)
        body = _body(chunk).lstrip()
        if items and items[0][1].kind == "prose" and body[:1].islower() and len(items) > 1:
            items = items[1:]  # it starts inside a sentence that is not here
        return items
    merged, start = whole_section(chunk)
    if start == 0:
        return _sentences(merged)
    prefix = merged.text[:start]
    before = len(_sentences(merged.model_copy(update={"text": prefix})))
    opens_unit = bool(re.match(r"\s*(?:[-*|#]|\d+\.|```)", merged.text[start:]))
    clean = not prefix.strip() or opens_unit or bool(re.search(r"(?:[.!?|]|\n\s*\n)\s*$", prefix))
    items = _sentences(merged)
    first = before if clean else max(before - 1, 0)
    # a quote that opens inside a list starts with the sentence that introduces it ("It does not represent:")
    intro = first
    while intro > 0 and items[intro - 1][1].kind == "bullet" and items[first][1].kind == "bullet":
        intro -= 1
    lead_in = [items[intro - 1]] if intro < first and intro > 0 and items[intro - 1][0].endswith(":") else []
    if not lead_in and intro == first and first > 0 and items[first][1].kind == "bullet":
        lead_in = [items[first - 1]] if items[first - 1][0].endswith(":") else []
    return [*lead_in, *items[first:]]


PROSE = Unit("prose", "")


def _join_within(items: Sequence[tuple[str, Unit] | str], limit: int) -> str:
    """Sentences joined up to `limit` characters, as they read in the doc: a bullet starts a line
    ("- "), a code block keeps its lines (indented), prose runs on."""
    pairs = [(x, PROSE) if isinstance(x, str) else x for x in items]
    kept: list[tuple[str, Unit]] = []
    used = 0
    for text, unit in pairs:
        if kept and used + len(text) > limit:
            break
        kept.append((text, unit))
        used += len(text) + 1
    while len(kept) > 1 and kept[-1][0].rstrip().endswith(":"):
        kept.pop()  # "It runs in two ways:" without the ways
    out = ""
    previous: Unit | None = None
    for text, unit in kept:
        if unit.kind == "code":
            out = out.rstrip(" ") + "\n" + "\n".join(f"    {line}" for line in text.splitlines()) + "\n"
        elif unit.kind == "bullet" and unit is not previous:
            out = out.rstrip(" ") + ("\n" if out else "") + "- " + text
        elif previous is not None and previous.kind in ("bullet", "code") and unit is not previous:
            out = out.rstrip(" ") + "\n" + text
        else:
            out += ("" if not out or out.endswith("\n") else " ") + text
        previous = unit
    return out.lstrip("\n").rstrip()


def _names(cell: str, term: str) -> bool:
    return cell.strip().strip("`").lower() == term


def _mentions(sentence: str, term: str) -> bool:
    """The sentence names `term` (as `some_name`, or as "some name")."""
    low = sentence.lower()
    spaced = term.replace("_", " ")
    return bool(re.search(rf"(?<!\w){re.escape(term)}(?!\w)", low) or re.search(rf"\b{re.escape(spaced)}\b", low))


# --------------------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class Term:
    model: str
    kind: Literal["metric", "parameter", "intervention"]
    name: str

    @property
    def section(self) -> str:
        return {"metric": "metrics", "parameter": "parameters", "intervention": "interventions"}[self.kind]


def models_named(question: str, model: str | None = None) -> list[str]:
    """The models a question is about: the request's, else those it names (by name, then by a word of its own)."""
    if model:
        return [model]
    text = question.lower()
    names = model_names()
    found = []
    for m in names:
        if re.search(rf"(?<![\w-]){re.escape(m)}(?![\w-])", text):
            found.append(m)
            continue
        words = [w for w in _model_words(m) if re.search(rf"\b{re.escape(w)}\b", text)]
        # a word of its own ("agent based"): another model does not declare it too
        if any(not any(w in _model_words(o) for o in names if o != m) for w in words):
            found.append(m)
    return found


def _model_words(model: str) -> tuple[str, ...]:
    """The words that route a question to a model: its language declaration's names and words, or its keywords."""
    spec = get_model(model)
    language = getattr(spec, "language", None)
    declared = (*getattr(language, "names", ()), *getattr(language, "words", ())) if language is not None else ()
    return tuple(w.lower() for w in (*declared, *spec.keywords))


def terms_named(model: str, question: str) -> list[Term]:
    """The metrics, parameters and interventions of `model` the question names, longest first."""
    spec = get_model(model)
    groups: list[tuple[Literal["metric", "parameter", "intervention"], Iterable[str]]] = [
        ("metric", [*spec.metrics, *spec.breakdowns]),
        ("parameter", [p for p in spec.params.model_fields if p not in ("replicates", "seed")]),
        ("intervention", sorted(spec.interventions)),
    ]
    text = question.lower()
    # a plain word as a name is a term only when the question is about little else
    short = len([w for w in _words(text) if w not in DEFINING_WORDS]) <= 2
    found: list[tuple[int, int, Term]] = []
    for kind, names in groups:
        for name in names:
            if not short and not re.search(r"[_\d]", name):
                continue
            for pattern in (rf"(?<!\w){re.escape(name)}(?!\w)", rf"\b{re.escape(name.replace('_', ' '))}\b"):
                m = re.search(pattern, text)
                if m:
                    found.append((m.start(), m.end(), Term(model, kind, name)))
                    break
    # a name inside a longer one the question names ("x" in "y x") is not asked about
    kept = [
        (s, e, t) for s, e, t in found if not any((s2 <= s and e <= e2) and (e2 - s2) > (e - s) for s2, e2, _ in found)
    ]
    kept.sort(key=lambda x: x[0])
    return list(dict.fromkeys(t for _, _, t in kept))


def _pool(notes: list[str] | None = None) -> list[Chunk]:
    """The indexed chunks; when the index cannot be read or written, the docs chunked afresh (no
    vectors needed to quote them), with a note saying retrieval was unavailable."""
    from rag.index import doc_index

    try:
        return doc_index().chunks
    except StoreError as exc:
        from rag.chunking import chunk_file, doc_files

        note = f"retrieval unavailable: {exc}"
        if notes is not None and note not in notes:
            notes.append(note)
        return [c for f in doc_files() for c in chunk_file(f)]


def _card_chunks(model: str, pool: Sequence[Chunk] | None = None) -> list[Chunk]:
    return [c for c in (_pool() if pool is None else pool) if c.model == model]


def _sections(chunks: Sequence[Chunk]) -> list[Chunk]:
    """One whole chunk per anchor of `chunks`, in their order."""
    out: dict[str, Chunk] = {}
    for c in chunks:
        if c.source not in out:
            out[c.source] = whole_section(c)[0]
    return list(out.values())


def _unique(chunks: Iterable[Chunk]) -> list[Chunk]:
    return list({c.chunk_id: c for c in chunks}.values())


def _in_section(chunks: Iterable[Chunk], section: str) -> list[Chunk]:
    return [c for c in chunks if c.section.endswith(f"#{section}") or c.source.endswith(f"#{section}")]


def card_definition(term: Term, chunks: Sequence[Chunk] | None = None) -> tuple[str, Chunk] | None:
    """The card's own definition of a term: its bullet ("- `name`: ...") or a sentence "`name` is ..."."""
    chunks = _card_chunks(term.model) if chunks is None else chunks
    section = _in_section(chunks, term.section)
    for chunk in section or chunks:
        for unit in units(chunk):
            if unit.kind != "bullet":
                continue
            m = DEFINITION_BULLET.match(re.sub(r"^(?:[-*]|\d+\.)\s+", "- ", unit.text))
            if m and m.group("name") == term.name:
                body = split_sentences(m.group("body"))
                fields = f"; {m.group('fields').replace('`', '')}" if m.group("fields") else ""
                return f"`{term.name}` ({term.model}{fields}): {body[0] if body else ''}", chunk
    for chunk in [*section, *[c for c in chunks if c not in section]]:
        for sentence, unit in _sentences(chunk):
            if unit.kind == "prose" and re.match(
                rf"^`{re.escape(term.name)}`(?:,[^.]*,)? (?:is|are|means)\b", sentence
            ):
                return sentence, chunk
    return None


def _declared_unit(model: str, name: str) -> str | None:
    """The unit a model's language declaration gives a parameter, when the spec has one."""
    language = getattr(get_model(model), "language", None)
    params = getattr(language, "params", None) or getattr(language, "parameters", None)
    if language is None or params is None:
        return None
    entry = (
        params.get(name)
        if isinstance(params, dict)
        else next((p for p in params if getattr(p, "name", None) == name), None)
    )
    unit = getattr(entry, "unit", None)
    return str(unit) if unit else None


def _allowed(model: str, name: str) -> str:
    from sim.scenario import describe_allowed

    info = get_model(model).params.model_fields[name]
    annotation = info.annotation
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(annotation))
    if annotation is bool:
        return "true or false"
    text = describe_allowed(get_model(model).params, name)
    return re.sub(r"^(float|int)\b", lambda m: "a number" if m.group(1) == "float" else "a whole number", text)


def parameter_facts(term: Term, chunks: Sequence[Chunk] | None = None) -> tuple[str, str, Chunk | None]:
    """(definition, facts, the card chunk of its table row) of a parameter, from its declaration.

    The definition is the declaration's description; the facts are its unit (the language
    declaration's, else the card row's own `unit` cell), allowed values and default, and the
    card row's `source` of the default.
    """
    info = get_model(term.model).params.model_fields[term.name]
    definition = f"`{term.name}` ({term.model}): {(info.description or '').rstrip('.')}."
    row, row_chunk = _parameter_row(term, chunks)
    unit = _declared_unit(term.model, term.name) or row.get("unit")
    default = info.default
    facts = [f"unit: {unit}"] if unit and unit not in ("-", "none") else []
    facts += [f"allowed: {_allowed(term.model, term.name)}", f"default: {_plain(default)}"]
    text = "; ".join(facts).capitalize() + "."
    source = row.get("source")
    if source:
        text += f" Source of the default: {source.replace('`', '')}."
    return definition, text, row_chunk


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    return str(value)


def _parameter_row(term: Term, chunks: Sequence[Chunk] | None) -> tuple[dict[str, str], Chunk | None]:
    chunks = _card_chunks(term.model) if chunks is None else chunks
    for chunk in _in_section(chunks, "parameters"):
        for unit in units(chunk):
            if unit.kind == "row" and unit.cells and _names(unit.cells[0][1], term.name):
                return {h.lower(): c.strip() for h, c in unit.cells[1:] if h}, chunk
    return {}, None


def _about(term: Term, sentence: str) -> int:
    """How squarely a sentence is about a term: 3 names it, 2 has all its words, 1 its last word."""
    if _mentions(sentence, term.name):
        return 3
    words = term.name.split("_")
    low = sentence.lower()
    has = [bool(re.search(rf"\b{re.escape(w)}s?\b", low)) for w in words]
    if len(words) > 1 and all(has):
        return 2
    return 1 if len(words) > 1 and has[-1] else 0


def _term_answer(term: Term, pool: Sequence[Chunk]) -> tuple[list[str], list[Chunk]]:
    """The paragraphs that answer "what is `term`?" and the chunks they quote."""
    chunks = _sections(_card_chunks(term.model, pool))
    paragraphs: list[str] = []
    used: list[Chunk] = []
    defined = card_definition(term, chunks)
    skip: set[str] = set()
    if term.kind == "parameter":
        declared, facts, row_chunk = parameter_facts(term, chunks)
        paragraphs += [defined[0] if defined else declared, facts]
        used += [c for c in (defined[1] if defined else None, row_chunk) if c is not None]
        skip = {defined[0]} if defined else set()
    elif defined:
        paragraphs.append(defined[0])
        used.append(defined[1])
        skip = {defined[0].split(": ", 1)[-1]}
    # whole sentences about the term: any in its own section, elsewhere only those that name it
    ranked: list[tuple[int, int, int, tuple[str, Unit], Chunk]] = []
    own = _in_section(chunks, term.section)
    for rank, chunk in enumerate([*own, *[c for c in chunks if c not in own]]):
        for position, (sentence, unit) in enumerate(_sentences(chunk)):
            score = _about(term, sentence)
            if unit.kind not in ("prose", "bullet") or not score or (chunk not in own and score < 3):
                continue
            if not any(sentence in s or s in sentence for s in skip):
                ranked.append((-score, rank, position, (sentence, unit), chunk))
    ranked.sort(key=lambda x: (x[0], x[1], x[2]))
    if ranked:
        chunk = ranked[0][4]
        same = sorted((r for r in ranked if r[4] is chunk and r[0] == ranked[0][0]), key=lambda r: r[2])
        paragraphs.append(f"From {chunk.source}:\n{_join_within([r[3] for r in same], QUOTE_CHARS)}")
        used.append(chunk)
    return paragraphs, used


# ----------------------------------------------------------------------------------- explain


def explain(
    question: str, request: Request, found: Iterable[Chunk], notes: list[str] | None = None
) -> tuple[str, list[Citation]]:
    """The answer to a question about a term, a model or how to use simqa, and the chunks it quotes.

    When the vector store fails (a Chroma server down or silent), the docs are searched by
    keywords alone and a line saying so is added to `notes`.
    """
    search_docs = _DocSearch(notes if notes is not None else [])
    if is_usage_question(question, search_docs):
        return explain_usage(question, search_docs)
    pool = _pool(search_docs.notes)
    models = models_named(question, request.model)
    terms = [t for m in models for t in terms_named(m, question)][:MAX_TERMS]
    paragraphs: list[str] = []
    used: list[Chunk] = []
    for term in terms:
        texts, chunks = _term_answer(term, pool)
        paragraphs += texts
        used += chunks
    if not terms:
        candidates = [c for c in found if c.kind != GUIDE]
        scopes: list[str | None] = [*models] or [None]
        for scope in scopes:
            candidates += search_docs(question, model=scope, k=5)
        wanted: list[Chunk] = []
        for model in models:
            if GENERAL_QUESTION.search(question) or len(models) > 1:
                wanted += _in_section(_card_chunks(model, pool), "overview")[:1]
        allowed = {None, *models} if models else None
        chunks = _pick([*wanted, *candidates], allowed, models)
        if not chunks:
            return NO_DOCS, []
        lead = None if wanted else _best_sentence(question, [whole_section(chunks[0])[0]])
        if lead:
            paragraphs.append(lead)
        asked = set(_words(question))
        for c in chunks:
            items = [
                (s, u)
                for s, u in _whole_sentences(c)
                if s != lead and (u.kind != "row" or _unquote(u.cells[0][1]).lower() in asked)
            ]
            text = _join_within(items, QUOTE_CHARS)
            if text:
                paragraphs.append(f"From {c.source}:\n{text}")
                used.append(c)
        if lead and not used:
            used.append(chunks[0])
    used = _unique(used)
    return "\n\n".join(paragraphs), [Citation(source=c.source, chunk_id=c.chunk_id) for c in used]


def _pick(chunks: list[Chunk], allowed: set[str | None] | None, models: list[str]) -> list[Chunk]:
    """Up to MAX_QUOTES distinct chunks in order, with at least one from each named model."""
    seen: dict[str, Chunk] = {}  # one per anchor: a quote runs on through the section's later pieces
    for c in chunks:
        if (allowed is None or c.model in allowed) and c.source not in seen:
            seen[c.source] = c
    ordered = list(seen.values())
    picked = [next(c for c in ordered if c.model == m) for m in models if any(c.model == m for c in ordered)]
    picked = picked if len(models) > 1 else []
    for c in ordered:
        if len(picked) >= MAX_QUOTES:
            break
        if c not in picked:
            picked.append(c)
    return picked[:MAX_QUOTES]


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9][a-z0-9_.-]*[a-z0-9]|[a-z]", text.lower()) if w not in STOPWORDS]


def _best_sentence(question: str, chunks: Sequence[Chunk]) -> str | None:
    """The sentence of `chunks` that shares the most (and the rarest) words with the question."""
    items = [(s, u) for c in chunks for s, u in _sentences(c) if u.kind != "code"]
    if not items:
        return None
    asked = set(_words(question))
    counts: dict[str, int] = {}
    bags = []
    for s, _ in items:
        bag = {_stem(w) for w in _words(s)}
        bags.append(bag)
        for w in bag:
            counts[w] = counts.get(w, 0) + 1
    asked_stems = {_stem(w) for w in asked}
    scores = [sum(math.log(1 + len(items) / counts[w]) for w in bag & asked_stems) for bag in bags]
    best = max(range(len(items)), key=lambda i: (scores[i], -i))
    return items[best][0] if scores[best] > 0 else None


def _stem(word: str) -> str:
    return re.sub(r"(?:ing|ed|es|s)$", "", word) if len(word) > 4 else word


# ------------------------------------------------------------------------------------ how-to


class _DocSearch:
    """Doc search for one explanation: fused (keywords and vectors), or keywords alone from the
    first failure of the vector store on, so a silent server costs one deadline, not one each."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes
        self.mode: Literal["fused", "bm25"] = "fused"

    def __call__(self, query: str, *, model: str | None = None, k: int = 5, guides: bool = False) -> list[Chunk]:
        from rag import search_docs

        if self.mode == "fused":
            try:
                return search_docs(query, model=model, k=k, guides=guides)
            except StoreError as exc:
                self.mode = "bm25"
                self.notes.append(f"the vector store failed ({exc}); the docs were searched by keywords alone")
        try:
            return search_docs(query, model=model, k=k, mode="bm25", guides=guides)
        except StoreError as exc:
            note = f"retrieval unavailable: {exc}"
            if note not in self.notes:
                self.notes.append(note)
            return []


def is_usage_question(question: str, search_docs: _DocSearch | None = None) -> bool:
    """A how-to question about using simqa: it opens like one and the user docs match it best."""
    if not HOW_TO.search(question):
        return False
    hits = (search_docs or _DocSearch([]))(question, k=3, guides=True)
    return bool(hits) and hits[0].kind == GUIDE


def explain_usage(question: str, search_docs: _DocSearch | None = None) -> tuple[str, list[Citation]]:
    """A how-to answer from the user docs: the sentence that answers first, then the passages quoted."""
    search_docs = search_docs or _DocSearch([])
    guides = list({c.source: c for c in reversed(search_docs(question, k=8, guides=True)) if c.kind == GUIDE}.values())
    guides = sorted(guides, key=lambda c: -c.score)[:2]
    if not guides:
        return NO_DOCS, []
    lead = _best_sentence(question, [whole_section(guides[0])[0]]) or ""
    paragraphs = [lead] if lead else []
    for c in guides:
        items = [(s, u) for s, u in _whole_sentences(c) if s != lead]
        text = _join_within(items, QUOTE_CHARS)
        if text:
            paragraphs.append(f"From {c.source}:\n{text}")
    return "\n\n".join(paragraphs), [Citation(source=c.source, chunk_id=c.chunk_id) for c in guides]


# --------------------------------------------------------------------------- "why?" about a run


def is_why_about_last_run(question: str, previous: Answer | None) -> bool:
    """A "why" question ("why?", "why did the peak fall?") in a conversation whose last turn ran something.

    A "why" about the model in general ("why does the model assume random mixing?") is not
    about the run: it names no result and points back at nothing.
    """
    if previous is None or previous.kind not in RUN_KINDS or not previous.results:
        return False
    if not WHY.search(question):
        return False
    words = re.findall(r"[a-z_']+", question.lower())
    if len(words) <= 4 or POINTS_BACK.search(question):
        return True
    spec = get_model(previous.model) if previous.model else None
    metric_words = {w for m in (spec.metrics if spec else ()) for w in m.split("_") if len(w) > 3}
    return any(w.rstrip("s") in metric_words or w in metric_words for w in words)


def explain_run(
    question: str, request: Request | None, previous: Answer, notes: list[str] | None = None
) -> tuple[str, list[Citation]]:
    """Why the last run came out as it did, from its own results: where infections happened and
    what an intervention removed, or what limits a fleet (preparation, travel, queueing)."""
    from simqa.compose import headline_metrics

    model = previous.model or (request.model if request else None) or ""
    spec = get_model(model)
    pool = _pool(notes)
    chunks = _sections(_card_chunks(model, pool))
    results = previous.results
    full = {r.run_id: r for r in previous.full_results}
    ids = ", ".join(r.run_id for r in results)
    paragraphs: list[str] = []
    used: list[Chunk] = []
    metrics = _asked_metrics(question, model) or list(headline_metrics(model))[:2]
    breakdown = next((b for b in spec.breakdowns if isinstance(results[0].metrics.get(b), dict)), None)
    scenarios = {s.label: s for s in previous.scenarios}

    fleet = None if breakdown else _fleet_limits(model, previous, full, chunks)
    if len(results) > 1 and previous.kind == "compare":
        base = results[0]
        for alt in results[1:]:
            changes = "; ".join(
                _change(m, base.metrics.get(m), alt.metrics.get(m)) for m in metrics if m in base.metrics
            )
            lead = f"Run {alt.run_id} ('{alt.label}') against the baseline run {base.run_id}: {changes}."
            for iv in _added_interventions(scenarios.get(base.label), scenarios.get(alt.label)):
                defined = card_definition(Term(model, "intervention", iv.type), chunks)
                lead += f" What differs is {iv.type} {_timing(iv)}" + (
                    f": {_definition_body(defined[0])}" if defined else "."
                )
                if defined:
                    used.append(defined[1])
            paragraphs.append(lead)
            if breakdown:
                paragraphs.append(
                    _breakdown_change(breakdown, base.metrics[breakdown], alt.metrics.get(breakdown), alt.label)
                )
    else:
        for res in results[:3]:
            facts = "; ".join(_value(m, res.metrics.get(m)) for m in metrics if m in res.metrics)
            if fleet is None:
                paragraphs.append(f"Run {res.run_id} ('{res.label}'): {facts}.")
            if breakdown and isinstance(res.metrics.get(breakdown), dict):
                paragraphs.append(_breakdown_shares(breakdown, res.metrics[breakdown]))  # type: ignore[arg-type]
            scenario = scenarios.get(res.label)
            for iv in scenario.interventions if scenario is not None else []:
                defined = card_definition(Term(model, "intervention", iv.type), chunks)
                if defined:
                    paragraphs.append(f"{iv.type} {_timing(iv)}: {_definition_body(defined[0])}")
                    used.append(defined[1])
    if fleet is not None:
        paragraphs += fleet[0]
        used += fleet[1]
    if not used:
        paragraphs += _stated_inputs(model, previous, chunks, used)
    best = _best_sentence(question, chunks) if not used else None
    if best:
        chunk = next(c for c in chunks if best in [s for s, _ in _sentences(c)])
        paragraphs.append(f"From {chunk.source}:\n{best}")
        used.append(chunk)
    citations = [Citation(source=c.source, chunk_id=c.chunk_id) for c in _unique(used)]
    citations += [Citation(source=f"run:{r.run_id}", run_id=r.run_id) for r in results]
    text = "\n\n".join(paragraphs) + f"\n\n(From the results of run{'s' if len(results) > 1 else ''} {ids}.)"
    return text, citations


def _stated_inputs(model: str, previous: Answer, chunks: Sequence[Chunk], used: list[Chunk]) -> list[str]:
    """What the inputs that differ from the defaults mean (the run's own values beside the defaults)."""
    fields = get_model(model).params.model_fields
    scenario = previous.scenarios[0] if previous.scenarios else None
    if scenario is None:
        return []
    out = []
    for name, value in scenario.params.items():
        info = fields.get(name)
        if info is None or name in ("replicates", "seed") or value == info.default:
            continue
        term = Term(model, "parameter", name)
        defined = card_definition(term, chunks)
        meaning = defined[0] if defined else parameter_facts(term, chunks)[0]
        out.append(f"{name} {_plain(value)} (default {_plain(info.default)}): {_definition_body(meaning)}")
        if defined:
            used.append(defined[1])
        if len(out) >= MAX_TERMS:
            break
    return out


def _asked_metrics(question: str, model: str) -> list[str]:
    """The metrics whose words the question uses ("why did the peak fall?" -> the peak metrics)."""
    words = {w.rstrip("s") for w in re.findall(r"[a-z]+", question.lower()) if len(w) > 3}
    return [m for m in get_model(model).metrics if words & {w for w in m.split("_") if len(w) > 3}]


def _fmt(metric: str, value: Any) -> str:
    from simqa.compose import format_metric

    return format_metric(metric, float(value)) if isinstance(value, int | float) else "n/a"


def _value(metric: str, value: Any) -> str:
    return f"{metric} {_fmt(metric, value)}"


def _change(metric: str, before: Any, after: Any) -> str:
    if not isinstance(before, int | float) or not isinstance(after, int | float):
        return f"{metric} n/a"
    direction = "fell" if after < before else "rose" if after > before else "stayed"
    if direction == "stayed":
        return f"{metric} stayed at {_fmt(metric, before)}"
    return f"{metric} {direction} from {_fmt(metric, before)} to {_fmt(metric, after)}"


def _definition_body(definition: str) -> str:
    """A card definition "`name` (model): what it is." -> the part after the name."""
    return definition.split("): ", 1)[-1] if definition.startswith("`") else definition


def _breakdown_change(name: str, before: Any, after: Any, label: str) -> str:
    """Where the counts of a breakdown changed, the largest fall first; parts that stayed at 0 left out."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ""
    change = {k: float(after.get(k, 0)) - float(before[k]) for k in before}
    order = sorted((k for k in before if float(before[k]) or float(after.get(k, 0))), key=lambda k: change[k])
    parts = []
    for i, k in enumerate(order):
        delta = round(change[k])
        what = f"{abs(delta):,} fewer" if delta < 0 else f"{delta:,} more" if delta > 0 else "no change"
        tail = ", the largest fall" if i == 0 and delta < 0 else ""
        parts.append(f"{k} {round(float(before[k])):,} to {round(float(after.get(k, 0))):,} ({what}{tail})")
    return f"Where infections happened ({name.replace('_', ' ')}), baseline to '{label}': {'; '.join(parts)}."


def _breakdown_shares(name: str, value: dict[str, float]) -> str:
    total = sum(float(v) for v in value.values()) or 1.0
    ordered = sorted(value, key=lambda k: -float(value[k]))
    parts = [f"{k} {round(float(value[k])):,} ({float(value[k]) / total * 100:.0f}%)" for k in ordered]
    return f"Where infections happened ({name.replace('_', ' ')}): {'; '.join(parts)}."


def _added_interventions(base: Any, alt: Any) -> list[Any]:
    if alt is None:
        return []
    before = {iv.model_dump_json() for iv in (base.interventions if base is not None else [])}
    return [iv for iv in alt.interventions if iv.model_dump_json() not in before]


def _timing(iv: Any) -> str:
    fields = {k: v for k, v in iv.model_dump().items() if k not in ("type", "start_day", "duration_days")}
    detail = ", ".join(f"{k} {_plain(v)}" for k, v in fields.items())
    when = f"from day {iv.start_day}" + (
        f" for {iv.duration_days} days" if iv.duration_days is not None else " to the end"
    )
    return f"({detail}) {when}" if detail else when


def _metric_definitions(model: str, chunks: Sequence[Chunk]) -> dict[str, tuple[str, Chunk]]:
    spec = get_model(model)
    out = {}
    for m in spec.metrics:
        d = card_definition(Term(model, "metric", m), chunks)
        if d:
            out[m] = d
    return out


def _fleet_limits(
    model: str, previous: Answer, full: dict[str, Any], chunks: Sequence[Chunk]
) -> tuple[list[str], list[Chunk]] | None:
    """What limits a fleet serving a queue, from the run: the wait for a server (queueing) against
    the whole time, the servers' busy share, the queue at the end, and the preparation and travel inputs."""
    from simqa.compose import headline_metrics

    defs = _metric_definitions(model, chunks)
    wait = next((m for m, (d, _) in defs.items() if QUEUEING_WORDS.search(d)), None)
    busy = next((m for m, (d, _) in defs.items() if BUSY_WORDS.search(d)), None)
    total = next(iter(headline_metrics(model)), None)
    if wait is None or total is None:
        return None
    params = get_model(model).params.model_fields
    prep = [p for p, info in params.items() if PREPARATION_WORDS.search(info.description or "")]
    travel = [p for p, info in params.items() if TRAVEL_WORDS.search(info.description or "") and p not in prep]
    scenarios = {s.label: s for s in previous.scenarios}
    lines: list[str] = []
    for res in previous.results[:3]:
        w, t = res.metrics.get(wait), res.metrics.get(total)
        if not isinstance(w, int | float) or not isinstance(t, int | float):
            continue
        u = res.metrics.get(busy) if busy else None
        queued = _queue_at_end(full.get(res.run_id))
        short = (
            (t > 0 and w / t >= QUEUE_SHARE_LIMIT)
            or (isinstance(u, int | float) and u >= BUSY_LIMIT)
            or (queued is not None and queued >= 1)
        )
        scenario = scenarios.get(res.label)
        inputs = _inputs(scenario, prep + travel)
        busy_text = f"; {busy} {_fmt(busy, u)}" if busy and isinstance(u, int | float) else ""
        queue_text = f"; {queued:,.0f} still in the queue when the shift ended" if queued and queued >= 1 else ""
        if short:
            lines.append(
                f"In run {res.run_id} ('{res.label}') the fleet is the limit (queueing): {wait} {_fmt(wait, w)} "
                f"out of {total} {_fmt(total, t)}{busy_text}{queue_text}."
            )
        else:
            lines.append(
                f"In run {res.run_id} ('{res.label}') the fleet is not the limit: {wait} is only {_fmt(wait, w)} "
                f"out of {total} {_fmt(total, t)}{busy_text}; the rest is preparation and travel"
                + (f" ({inputs})" if inputs else "")
                + "."
            )
    used = [defs[m][1] for m in (wait, busy) if m and m in defs]
    floor = _best_sentence(FLOOR_QUERY, chunks)
    if floor:
        chunk = next(c for c in chunks if floor in [s for s, _ in _sentences(c)])
        lines.append(f"From {chunk.source}:\n{floor}")
        used.append(chunk)
    return (lines, used) if lines else None


def _queue_at_end(result: Any) -> float | None:
    """The queue at the last sample of the shift, from a series the card calls a queue (by its name)."""
    if result is None:
        return None
    name = next((n for n in result.series if QUEUEING_WORDS.search(n.replace("_", " "))), None)
    values = result.series.get(name) if name else None
    return float(values[-1]) if values else None


def _inputs(scenario: Any, names: Sequence[str]) -> str:
    if scenario is None:
        return ""
    return ", ".join(f"{n} {_plain(scenario.params[n])}" for n in names if n in scenario.params)
