"""The docs match the commands: every `simqa ...` line they show parses, every file they point to
exists, every request JSON they show validates, and the `run` help lists every request field.
(docs/cli.md itself is generated from the parser; tests/simqa/test_assistant.py checks it is current.)"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
GENERATED = ROOT / "docs" / "cli.md"


def _code_blocks(path: Path) -> list[tuple[str, str]]:
    """(language, body) of each fenced block."""
    return re.findall(r"^```(\w*)\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M)


def _command_lines() -> list[tuple[str, str]]:
    found = []
    for path in DOCS:
        if path == GENERATED:
            continue
        for _, body in _code_blocks(path):
            for line in body.splitlines():
                line = line.strip().removeprefix("$ ")
                if not line.startswith("simqa "):
                    continue
                if re.search(r"\[|\||\.\.\.", line.split("#", 1)[0]):
                    continue  # a synopsis ("simqa eval [--cases PATH] ..."), not a command
                found.append((path.name, line))
    return found


def _parse(argv: list[str]) -> None:
    from evals.cli import build_compare_parser, build_parser, build_relabel_parser
    from simqa.cli import build_parser as simqa_parser

    if argv[:2] == ["eval", "relabel"]:
        build_relabel_parser().parse_args(argv[2:])
    elif argv[:2] == ["eval", "compare"]:
        build_compare_parser().parse_args(argv[2:])
    elif argv[:1] == ["eval"]:
        build_parser().parse_args(argv[1:])
    else:
        simqa_parser().parse_args(argv)


def test_the_docs_show_commands() -> None:
    assert len(_command_lines()) >= 8


@pytest.mark.parametrize(("doc", "line"), _command_lines())
def test_every_command_in_the_docs_parses(doc: str, line: str) -> None:
    argv = shlex.split(line, comments=True)[1:]
    try:
        _parse(argv)
    except SystemExit as exc:  # argparse reports a bad line by exiting 2
        raise AssertionError(f"{doc}: `{line}` does not parse") from exc


def test_every_file_the_docs_point_to_exists() -> None:
    missing = []
    for path in DOCS:
        text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)  # prose, not code
        for name in re.findall(r"(?<![\w/$.-])((?:[\w.-]+/)*[\w-]+\.md)\b", text):
            candidates = [ROOT / name, ROOT / "docs" / name, path.parent / name]
            if not any(c.is_file() for c in candidates):
                missing.append(f"{path.relative_to(ROOT)} -> {name}")
        for name in re.findall(r"`((?:examples|docs|evals|benchmarks|tests|sim|rag|simqa)/[\w./-]+)`", text):
            if "*" not in name and not (ROOT / name.rstrip("/")).exists():
                missing.append(f"{path.relative_to(ROOT)} -> {name}")
    assert not missing, "the docs point to files the project does not have:\n" + "\n".join(missing)


def test_every_request_json_in_the_docs_validates() -> None:
    from sim.scenario import resolve
    from simqa.request import Request

    checked = 0
    for path in DOCS:
        for lang, body in _code_blocks(path):
            if lang != "json" or '"kind"' not in body:
                continue
            request = Request.model_validate(json.loads(body))
            for scenario in request.scenarios:
                resolve(scenario)  # within the bounds
            checked += 1
    assert checked >= 3


def test_the_run_help_documents_every_request_field() -> None:
    from sim.experiments import CalibrateSpec, SweepSpec
    from simqa.cli import build_parser
    from simqa.request import RUN_KINDS, Request

    run_help = (
        next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
        .choices["run"]
        .format_help()
    )
    for field in ("kind", "model", "scenarios", "sweep", "calibrate"):
        assert field in Request.model_fields and re.search(rf"\b{field}\b", run_help), field
    for spec in (SweepSpec, CalibrateSpec):
        for field in spec.model_fields:
            assert f'"{field}"' in run_help, f"{spec.__name__}.{field} is not in `simqa run --help`"
    for kind in RUN_KINDS:
        assert kind in run_help
    for relation in ("eq", "le", "ge"):
        assert f'"{relation}"' in run_help
    assert "exit codes" in GENERATED.read_text(encoding="utf-8") and "3 a service failed" in GENERATED.read_text(
        encoding="utf-8"
    )
