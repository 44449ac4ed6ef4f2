"""Markdown docs to chunks: split on headings, then long sections by characters.

Each chunk carries its source with a GitHub-style heading anchor (`docs/models/seir.md#parameters`),
the level-2 section it belongs to, the model (from the card's file name), and the heading path.
A heading with no body of its own is merged into the next chunk rather than left an orphan; a
table split across chunks repeats its header row in each, so every row keeps its column names.

Two kinds of doc are indexed: "doc" (the model cards and the methods page: what a model means)
and "guide" (the user docs: how to use simqa, such as docs/llm.md or docs/cli.md).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from rag.paths import docs_dir
from rag.types import Chunk

CHUNK_SIZE = 1200  # characters; a parameter table row block or two paragraphs
CHUNK_OVERLAP = 150
MIN_CHUNK_CHARS = 80  # below this a piece is merged with its neighbour, not indexed alone
HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]


METHODS_PAGE = "methods.md"
GUIDE = "guide"  # the kind of a user doc's chunks


@dataclass(frozen=True)
class DocFile:
    path: Path
    source: str  # the path as cited: `docs/models/seir.md`
    model: str | None
    kind: str = "doc"  # "doc": a model card or the methods page; "guide": a user doc


def doc_kind(path: Path, model: str | None) -> str:
    return "doc" if model is not None or path.name == METHODS_PAGE else GUIDE


def slugify(heading: str) -> str:
    """GitHub's anchor: lower-case, punctuation dropped (except - and _), spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchor(heading: str, seen: dict[str, int]) -> str:
    """The heading's anchor, numbered like GitHub's when the same heading occurs again."""
    slug = slugify(heading)
    if not slug:
        return ""
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return slug if count == 0 else f"{slug}-{count}"


def content_hash(text: str, *meta: str | None) -> str:
    h = hashlib.sha256()
    for part in (text, *meta):
        h.update((part or "").encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


def doc_files() -> list[DocFile]:
    """The model cards (built-in and plugins'), the methods page and the user docs (docs/*.md)."""
    root = docs_dir()
    files: list[DocFile] = []
    models_dir = root / "models"
    if models_dir.is_dir():
        for path in sorted(models_dir.glob("*.md")):
            files.append(DocFile(path, f"docs/models/{path.name}", path.stem))
    if root.is_dir():
        for path in sorted(root.glob("*.md")):
            files.append(DocFile(path, f"docs/{path.name}", None, doc_kind(path, None)))
    files.extend(_plugin_cards({f.model for f in files if f.model}))
    return files


def _plugin_cards(known: set[str]) -> list[DocFile]:
    from sim.registry import get_model, is_builtin, model_names

    out = []
    for name in model_names():
        if name in known or is_builtin(name):
            continue
        try:
            card = get_model(name).card
        except Exception:  # a broken plugin is reported by the registry, not by the indexer
            continue
        if card is not None and Path(card).is_file():
            out.append(DocFile(Path(card), f"plugins/{name}/{Path(card).name}", name))
    return out


def _splitters() -> tuple[object, object]:
    from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

    headers = MarkdownHeaderTextSplitter(headers_to_split_on=HEADERS, strip_headers=False)
    chars = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, separators=["\n\n", "\n| ", "\n", ". ", " ", ""]
    )
    return headers, chars


def _is_separator(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("|") and set(stripped) <= set("|-: ") and "-" in stripped


def _with_table_headers(parts: list[str], body: str) -> list[str]:
    """Each part that opens inside a table gets the table's header and separator rows first."""
    lines = body.splitlines()
    headers = [
        (lines[i].strip(), lines[i + 1].strip())
        for i in range(len(lines) - 1)
        if lines[i].lstrip().startswith("|") and _is_separator(lines[i + 1])
    ]
    if not headers:
        return parts
    out = [parts[0]] if parts else []
    for part in parts[1:]:
        first = part.lstrip().splitlines()[0].strip() if part.strip() else ""
        if first.startswith("|") and not _is_separator(first):
            # the nearest header above this part's first row, in the section's own order
            start = body.find(part.strip())
            above = [h for h in headers if 0 <= body.find(h[0]) <= max(start, 0)]
            header, separator = (above or headers)[-1]
            if first != header:
                part = f"{header}\n{separator}\n{part.strip()}"
        out.append(part)
    return out


def chunk_markdown(text: str, source: str, model: str | None, kind: str = "doc") -> list[Chunk]:
    headers, chars = _splitters()
    sections = headers.split_text(text)  # type: ignore[attr-defined]
    seen: dict[str, int] = {}
    pieces: list[tuple[list[str], str, str, str]] = []  # heading path, anchor, h2 anchor, text
    anchor, h2_anchor = "", ""
    lines: list[str] = []  # the piece being gathered: its headings, then its body
    has_body = False

    def flush(path: list[str]) -> None:
        body = "\n".join(lines).strip()
        for part in _with_table_headers(chars.split_text(body), body):  # type: ignore[attr-defined]
            pieces.append((path, anchor, h2_anchor, part.strip()))

    for section in sections:
        path = [section.metadata[key] for _, key in HEADERS if key in section.metadata]
        in_fence = False
        for line in section.page_content.strip().splitlines():
            stripped = line.strip()
            if stripped.startswith("```"):
                in_fence = not in_fence
            match = None if in_fence else re.match(r"^(#{1,4})\s+(.*?)\s*#*$", stripped)
            if match:
                if has_body:  # a new heading closes the piece before it
                    flush(path)
                    lines, has_body = [], False
                anchor = _anchor(match.group(2), seen)
                if len(match.group(1)) <= 2:
                    h2_anchor = anchor
            elif stripped:
                has_body = True
            lines.append(line.rstrip())
        if has_body:
            flush(path)
            lines, has_body = [], False
        # else: bare headings so far; they open the next piece rather than stand alone
    if lines and pieces:  # headings that end the file join the last piece
        p_path, p_anchor, p_h2, p_text = pieces[-1]
        pieces[-1] = (p_path, p_anchor, p_h2, p_text + "\n" + "\n".join(lines).strip())
    merged: list[tuple[list[str], str, str, str]] = []
    for piece in pieces:
        # A small tail piece of a split section joins its predecessor in the same section.
        if merged and len(piece[3]) < MIN_CHUNK_CHARS and merged[-1][1] == piece[1]:
            prev = merged[-1]
            merged[-1] = (prev[0], prev[1], prev[2], prev[3] + "\n" + piece[3])
        else:
            merged.append(piece)
    chunks: list[Chunk] = []
    ordinal: dict[str, int] = {}
    for path, anchor, h2, body in merged:
        where = f"{source}#{anchor}" if anchor else source
        n = ordinal.get(where, 0)
        ordinal[where] = n + 1
        heading = " > ".join(path)
        # The heading path is prepended to the indexed text, so a piece deep in a section still
        # matches the words of its card's title and its section's title.
        indexed = f"{heading}\n{body}" if heading else body
        chunks.append(
            Chunk(
                chunk_id=f"{where}:{n}",
                text=indexed,
                source=where,
                section=f"{source}#{h2}" if h2 else source,
                model=model,
                heading=heading,
                kind=kind,
                content_hash=content_hash(indexed, where, model, heading),
            )
        )
    return chunks


def section_texts(text: str, source: str) -> dict[str, str]:
    """Each heading's own text, up to the next heading, keyed like the chunks' sources
    (`docs/models/seir.md#parameters`): what a quote reads whole when a chunk holds only part of it."""
    seen: dict[str, int] = {}
    out: dict[str, list[str]] = {}
    where = source
    in_fence = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else re.match(r"^(#{1,4})\s+(.*?)\s*#*$", stripped)
        if match:
            anchor = _anchor(match.group(2), seen)
            where = f"{source}#{anchor}" if anchor else source
            continue
        out.setdefault(where, []).append(line.rstrip())
    return {k: "\n".join(v).strip("\n") for k, v in out.items() if "".join(v).strip()}


def chunk_file(doc: DocFile) -> list[Chunk]:
    return chunk_markdown(doc.path.read_text(encoding="utf-8"), doc.source, doc.model, doc.kind)
