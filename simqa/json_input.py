"""Scenario and request files for `simqa run`: read with limits, parsed as strict JSON.

A file is data from outside, so before anything runs:
- what it is: a regular file (or standard input); a folder, a named pipe or a device is named as
  such (a pipe or a device could block the read forever, so it is never opened);
- its size: at most `MAX_INPUT_BYTES`; a UTF-8 byte-order mark is accepted;
- its numbers: finite (no `NaN`, `Infinity`, or `1e400`, which Python would read as infinity)
  and at most `MAX_NUMBER_DIGITS` digits; its nesting at most `MAX_DEPTH` deep;
- its types: what each field declares (`check_scenario`, `check_request`). JSON's own types are
  kept: `"2.5"` is a string, not R0 2.5, and `1` or `"yes"` is not `true`. A whole number written
  as `1e5` stays a whole number, as JSON means it.
"""

from __future__ import annotations

import json
import math
import os
import stat
import sys
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import ScenarioError, SimqaError, brief

if TYPE_CHECKING:
    from pydantic import BaseModel

MAX_INPUT_BYTES = 1_000_000  # a scenario is a few hundred bytes; a 1000-value sweep about 10 KB
MAX_DEPTH = 32  # a request nests 5 deep (request > scenarios > scenario > interventions > fields)
MAX_NUMBER_DIGITS = 30  # more than any parameter needs (a float carries 17 significant digits)
EXAMPLE = 'expected a scenario like {"model": "<model>", "params": {"<parameter>": 2.5}}'


class _NumberError(ValueError):
    """Raised from inside the JSON decoder by the number hooks below."""


def read_text(path: str) -> str:
    """The text of `path` (or standard input for `-`): checked for what it is, its size and encoding."""
    where = "standard input" if path == "-" else path
    try:
        if path == "-":
            stream = getattr(sys.stdin, "buffer", None)
            data = stream.read(MAX_INPUT_BYTES + 1) if stream is not None else sys.stdin.read(MAX_INPUT_BYTES + 1)
            raw = data.encode("utf-8") if isinstance(data, str) else data
        else:
            raw = _read_file(Path(path))
    except OSError as exc:
        raise SimqaError(f"cannot read {where}: {exc.strerror or exc}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise SimqaError(
            f"{where} is over {MAX_INPUT_BYTES:,} bytes: a scenario or request file is at most that size "
            "(a 1000-value sweep takes about 10 KB)"
        )
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark, as some Windows editors write, is accepted
    except UnicodeDecodeError:
        raise SimqaError(f"{where} is not UTF-8 text: give a scenario JSON file") from None


def _read_file(path: Path) -> bytes:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise SimqaError(f"no such file: {path}") from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise SimqaError(f"{path} is a folder: give a scenario JSON file, or - for standard input")
    if not stat.S_ISREG(mode):
        what = (
            "a named pipe (FIFO)"
            if stat.S_ISFIFO(mode)
            else "a character device"
            if stat.S_ISCHR(mode)
            else "a block device"
            if stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a regular file"
        )
        raise SimqaError(
            f"{path} is {what}, not a file: give a scenario JSON file, or pipe the JSON in with `simqa run -`"
        )
    if info.st_size > MAX_INPUT_BYTES:
        return b" " * (MAX_INPUT_BYTES + 1)  # over the limit: say so without reading it
    with open(path, "rb") as fh:
        return fh.read(MAX_INPUT_BYTES + 1)


def _digits(text: str) -> int:
    mantissa = text.lower().split("e")[0]
    return sum(ch.isdigit() for ch in mantissa)


def _parse_int(text: str) -> int:
    if _digits(text) > MAX_NUMBER_DIGITS:
        raise _NumberError(
            f"a number with {_digits(text):,} digits ({brief(text, 20)}); numbers have at most {MAX_NUMBER_DIGITS} digits"
        )
    return int(text)


def _parse_float(text: str) -> float:
    if _digits(text) > MAX_NUMBER_DIGITS:
        raise _NumberError(
            f"a number with {_digits(text):,} digits ({brief(text, 20)}); numbers have at most {MAX_NUMBER_DIGITS} digits"
        )
    value = float(text)
    if not math.isfinite(value):
        raise _NumberError(f"{brief(text, 20)} is too large for a number (finite numbers only, below about 1.8e308)")
    return value


def _parse_constant(text: str) -> float:
    raise _NumberError(f"{text} is not a number JSON allows: give a finite number")


def loads(raw: str, where: str = "the input") -> Any:
    """JSON with finite numbers of at most `MAX_NUMBER_DIGITS` digits, nested at most `MAX_DEPTH` deep."""
    try:
        data = json.loads(raw, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except _NumberError as exc:
        raise SimqaError(f"{where}: {exc}") from None
    except RecursionError:
        raise SimqaError(f"{where} is nested too deeply: JSON files here nest at most {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise SimqaError(
            f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); {EXAMPLE}"
        ) from None
    if _depth(data) > MAX_DEPTH:
        raise SimqaError(f"{where} is nested too deeply: JSON files here nest at most {MAX_DEPTH} levels")
    return data


def _depth(data: Any) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                return level
            stack.extend((v, level + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def read_json(path: str) -> Any:
    """`read_text` then `loads`: the JSON data of a scenario or request file."""
    return loads(read_text(path), "standard input" if path == "-" else path)


# -- types -----------------------------------------------------------------------------------


def check_payload(data: Any) -> None:
    """Strict JSON types for a scenario (`{model, params, interventions}`) or a request (`{kind, ...}`)."""
    if not isinstance(data, dict):
        return  # the caller says what it expected
    if "kind" in data:
        check_request(data)
    else:
        check_scenario(data)


def check_request(data: dict[str, Any]) -> None:
    from simqa.request import Request

    _check_fields(data, Request, "", skip=("scenarios",))
    scenarios = data.get("scenarios")
    if isinstance(scenarios, list):
        for i, scenario in enumerate(scenarios):
            if isinstance(scenario, dict):
                check_scenario(scenario, f"scenarios[{i}].")


def check_scenario(data: dict[str, Any], prefix: str = "") -> None:
    from sim.interventions import INTERVENTION_TYPES
    from sim.registry import get_model
    from sim.scenario import Scenario

    _check_fields(data, Scenario, prefix, skip=("params", "interventions"))
    model, params = data.get("model"), data.get("params")
    if isinstance(model, str) and isinstance(params, dict):
        spec = get_model(model)  # an unknown model is its own clear error
        _check_fields(params, spec.params, f"{prefix}params.")
    interventions = data.get("interventions")
    if isinstance(interventions, list):
        for i, iv in enumerate(interventions):
            if isinstance(iv, dict) and isinstance(iv.get("type"), str) and iv["type"] in INTERVENTION_TYPES:
                _check_fields(iv, INTERVENTION_TYPES[iv["type"]], f"{prefix}interventions[{i}].")


def _check_fields(data: dict[str, Any], cls: type[BaseModel], prefix: str, skip: tuple[str, ...] = ()) -> None:
    """Each known field of `data` against its declared type; unknown names are left to the model's
    own validation (it names the allowed ones)."""
    for name, value in data.items():
        info = cls.model_fields.get(name)
        if info is None or name in skip:
            continue
        _check_value(value, info.annotation, f"{prefix}{name}")


def _check_value(value: Any, annotation: Any, where: str) -> None:
    allowed = _json_kinds(annotation)
    if allowed is None:
        return
    kind = _kind_of(value)
    if kind in allowed or (kind == "integer" and "number" in allowed):
        pass
    elif kind == "number" and "integer" in allowed and float(value).is_integer():
        pass  # 1e5 is a whole number written in JSON's exponent form
    else:
        raise ScenarioError(
            f"{where} must be {_words(allowed)}, got {_described(value, kind)}" + _hint(kind, allowed),
            field=where,
            value=value if kind != "string" else brief(value),
            allowed=_words(allowed),
        )
    item = _item_annotation(annotation)
    if kind == "array" and item is not None:
        for i, element in enumerate(value):
            _check_value(element, item, f"{where}[{i}]")
    model = _model_annotation(annotation)
    if kind == "object" and model is not None:
        _check_fields(value, model, f"{where}.")


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _json_kinds(annotation: Any) -> set[str] | None:
    """The JSON kinds a declared type takes; None for anything (Any, or a type this check does not know)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _json_kinds(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds: set[str] = set()
        for arg in typing.get_args(annotation):
            got = _json_kinds(arg)
            if got is None:
                return None
            kinds |= got
        return kinds
    if origin is typing.Literal:
        return {_kind_of(v) for v in typing.get_args(annotation)}
    if annotation is type(None):
        return {"null"}
    if annotation is bool:
        return {"boolean"}
    if annotation is int:
        return {"integer"}
    if annotation is float:
        return {"number"}
    if annotation is str:
        return {"string"}
    if origin in (list, tuple) or annotation in (list, tuple):
        return {"array"}
    if origin is dict or annotation is dict or _is_model(annotation):
        return {"object"}
    return None


def _item_annotation(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _item_annotation(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        items = [_item_annotation(a) for a in typing.get_args(annotation)]
        items = [i for i in items if i is not None]
        return items[0] if len(items) == 1 else None
    if origin is list:
        (item,) = typing.get_args(annotation) or (None,)
        return item
    return None


def _model_annotation(annotation: Any) -> type[BaseModel] | None:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_annotation(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        models = [m for m in (_model_annotation(a) for a in typing.get_args(annotation)) if m is not None]
        return models[0] if len(models) == 1 else None
    return annotation if _is_model(annotation) else None


def _is_model(annotation: Any) -> bool:
    from pydantic import BaseModel

    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


_WORDS = {
    "null": "null",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
    "string": "a string",
    "array": "a list",
    "object": "an object",
}


def _words(kinds: set[str]) -> str:
    if "number" in kinds:
        kinds = kinds - {"integer"}
    order = [k for k in _WORDS if k in kinds and k != "null"]
    text = " or ".join(_WORDS[k] for k in order)
    return f"{text} or null" if "null" in kinds and text else text or "null"


def _described(value: Any, kind: str) -> str:
    if kind == "string":
        return f"the string {brief(value)}"
    if kind in ("boolean", "null"):
        return json.dumps(value)
    if kind in ("integer", "number"):
        return f"the number {brief(value)}"
    return _WORDS[kind]


def _hint(kind: str, allowed: set[str]) -> str:
    if kind == "string" and allowed & {"integer", "number"}:
        return " (write numbers without quotes)"
    if "boolean" in allowed and kind in ("integer", "number", "string"):
        return " (write true or false, without quotes)"
    return ""
