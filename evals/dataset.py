"""Reading and writing case files (YAML lists, or JSONL) under `evals/cases/`.

Case files are rewritten by `simqa eval relabel`, so they are written in one canonical layout:
one block per case, small mappings (params, interventions, labels) on one line each, the file's
leading comment kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from evals.case import Case

CASES_DIR = Path(__file__).parent / "cases"
CASE_SUFFIXES = (".yaml", ".yml", ".jsonl")
_KEY_ORDER = (
    "id",
    "question",
    "turns",
    "tags",
    "kind",
    "accept_kinds",
    "model",
    "scenarios",
    "sweep",
    "calibrate",
    "cite",
    "mentions",
    "note",
    "labels",
    "labelled_with",
)


class CaseFileError(ValueError):
    """A case file that cannot be read: the message names the file and the case."""


def case_files(paths: Iterable[str | Path] | str | Path | None = None) -> list[Path]:
    """The case files under `paths` (files or folders); the packaged cases when none are given."""
    if paths is None:
        paths = [CASES_DIR]
    elif isinstance(paths, str | Path):
        paths = [paths]
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in CASE_SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            raise CaseFileError(f"no case file or folder at {path}; give a .yaml/.jsonl file or a folder of them")
    return files


def read_case_file(path: Path) -> list[Case]:
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".jsonl":
            raw = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            raw = yaml.safe_load(text) or []
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise CaseFileError(f"{path}: not valid {path.suffix.lstrip('.').upper()}: {exc}") from None
    if not isinstance(raw, list):
        raise CaseFileError(f"{path}: expected a list of cases at the top level")
    cases = []
    for i, item in enumerate(raw):
        try:
            cases.append(Case.model_validate(item))
        except ValidationError as exc:
            where = item.get("id", f"#{i}") if isinstance(item, dict) else f"#{i}"
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise CaseFileError(f"{path}: case {where}: {loc}: {err['msg']}") from None
    return cases


def case_file_name(path: Path) -> str:
    """How results name a case file: relative to the packaged cases (`external.yaml`), else as given."""
    try:
        return path.resolve().relative_to(CASES_DIR.resolve()).as_posix()
    except ValueError:
        return str(path)


def load_cases(paths: Iterable[str | Path] | str | Path | None = None) -> list[Case]:
    """All cases under `paths`, each recording its file (`case.file`); ids must be unique across files."""
    cases: list[Case] = []
    seen: dict[str, Path] = {}
    for path in case_files(paths):
        name = case_file_name(path)
        for case in read_case_file(path):
            if case.id in seen:
                raise CaseFileError(f"duplicate case id {case.id!r} in {path} (first in {seen[case.id]})")
            seen[case.id] = path
            cases.append(case.from_file(name))
    return cases


def missing_model(case: Case) -> str | None:
    """The case's model when it is not installed (a plugin's case without the plugin), else None."""
    if case.model is None:
        return None
    from sim import model_names

    return None if case.model in model_names() else case.model


class _Flow(dict):  # type: ignore[type-arg]
    """A mapping written on one line."""


class _FlowList(list):  # type: ignore[type-arg]
    """A list written on one line."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        # Indent list items under their key, as people write YAML by hand.
        return super().increase_indent(flow, False)


_Dumper.add_representer(_Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))
_Dumper.add_representer(_FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True))


def _case_body(case: Case) -> dict[str, Any]:
    data = case.model_dump(mode="json", exclude_defaults=True)
    out: dict[str, Any] = {}
    for key in _KEY_ORDER:
        if key not in data:
            continue
        value = data[key]
        if key in ("tags", "accept_kinds", "cite", "mentions"):
            value = _FlowList(value)
        elif key == "scenarios":
            value = [_scenario_body(s) for s in value]
        elif key in ("sweep", "calibrate"):
            value = _Flow({k: (_FlowList(v) if isinstance(v, list) else v) for k, v in value.items()})
        elif key == "labels":
            value = {label: {m: _Flow(lab) for m, lab in metrics.items()} for label, metrics in value.items()}
        elif key == "labelled_with":
            value = _Flow(value)
        out[key] = value
    return out


def _scenario_body(scenario: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if scenario.get("label") is not None:
        out["label"] = scenario["label"]
    out["params"] = _Flow(scenario.get("params", {}))
    if scenario.get("interventions"):
        out["interventions"] = [_Flow(iv) for iv in scenario["interventions"]]
    return out


def dump_cases(cases: list[Case], header: str = "") -> str:
    """Cases as canonical YAML text: `read_case_file` gives them back unchanged."""
    blocks = [header.rstrip("\n") + "\n"] if header.strip() else []
    for case in cases:
        blocks.append(
            yaml.dump(
                [_case_body(case)],
                Dumper=_Dumper,
                sort_keys=False,
                allow_unicode=True,
                width=10_000,
                default_flow_style=False,
            )
        )
    return "\n".join(blocks)


def leading_comment(text: str) -> str:
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("#") or (not line.strip() and lines):
            lines.append(line)
        else:
            break
    return "\n".join(lines).rstrip() + "\n" if lines else ""


def write_case_file(path: Path, cases: list[Case]) -> None:
    """Rewrite `path` with `cases`, keeping its leading comment. JSONL files stay JSONL."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if path.suffix == ".jsonl":
        text = "".join(json.dumps(c.model_dump(mode="json", exclude_defaults=True)) + "\n" for c in cases)
    else:
        text = dump_cases(cases, leading_comment(old))
    if text != old:
        path.write_text(text, encoding="utf-8")
