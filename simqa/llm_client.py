"""One client for any OpenAI-compatible chat endpoint: config, deadlines, errors, structured output, cache.

Configuration (environment):
- `OPENAI_API_KEY`: the key (local servers that need none may leave it unset when a base URL is set)
- `SIMQA_LLM_BASE_URL`: the endpoint, ending in `/v1` (unset: OpenAI)
- `SIMQA_LLM_MODEL`: the model name (unset: `DEFAULT_MODEL`)
- `SIMQA_LLM_TIMEOUT`: seconds one request may take in all, connect and every read included (default 60)
- `SIMQA_LLM_BUDGET`: seconds one answer may spend in the LLM in all, translation, corrections and
  the written answer together (default twice the timeout)
- `SIMQA_LLM_MAX_RETRIES`: retries of 429 and 5xx within the budget (default 3)
- `SIMQA_LLM_COOLDOWN`: seconds an endpoint that failed is left alone by later answers (default 30)

Structured output. Servers differ in what they accept as `response_format`, so the client tries,
in order, and remembers per endpoint (base URL + model) what worked, in memory and in
`$SIMQA_HOME/llm_endpoints.json` (delete the file to probe again):
1. `json_schema` with `strict: true` (OpenAI, vLLM, and Ollama's OpenAI-compatible `/v1` endpoint);
2. `{"type": "json_object", "schema": ...}` (the llama-cpp-python server, whose request model
   allows only `text` and `json_object`);
3. no `response_format`: the schema goes into the prompt and the reply is validated like any other.
A mode is refused by behaviour, not by one status code: any 4xx or 5xx (but 401, 403, 404, 429)
whose message names the response format or the schema (`response_format`, `json_schema`, "JSON
schema", `grammar`...), or that is a request-validation error, moves to the next mode. The
llama-cpp-python server answers an unknown `response_format.type` with a 500 whose message is
FastAPI's validation error; vLLM with a 400 (a validation error, or a schema its grammar backend
cannot compile); Ollama with a 500 "invalid JSON schema in format"; OpenAI with a 400 naming
`response_format`.

Deadlines. A request runs under a watchdog: `SIMQA_LLM_TIMEOUT` bounds it whole, so a server
that accepts and never answers, or drips a byte a second, costs that long and no more. A
`Budget` bounds one answer: every request gets at most what is left of it. Within an answer:
a timeout is not retried; a refused connection is retried once; 429 and 5xx are retried with
backoff while the budget lasts, and a Retry-After longer than what is left (or than
`max_wait_s`) gives up at once, saying so. Once an endpoint has failed, the budget remembers it
and the same answer does not call it again; later answers skip it for `cooldown_s`.

Errors. Anything that cannot be retried or keeps failing is an `EndpointError` (an `LLMError`)
of one line naming the environment variable to check: a body that is not a chat completion
(HTML, cut-off or deeply nested JSON, no choices), a reply over `max_reply_bytes`, a refusal of
every mode. Nothing a model writes is executed: replies are data, parsed as JSON.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal, cast

from simqa.errors import LLMError

Mode = Literal["json_schema", "json_object", "plain"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "plain")

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_COOLDOWN_S = 30.0
ENDPOINTS_FILE = "llm_endpoints.json"
MAX_REPLY_BYTES = 1_000_000  # a chat completion body; a translation reply is a few kB
MAX_REPLY_CHARS = 50_000  # the message content
CONNECT_RETRY_WAIT_S = 0.2  # a refused connection is tried once more after this
WATCHDOG_GRACE_S = 0.2  # the SDK's own timeout fires first when it can

Message = dict[str, str]


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class LLMConfig:
    """Where the LLM is and how patiently to talk to it."""

    model: str = DEFAULT_MODEL
    base_url: str | None = None  # None: the openai SDK's default (OpenAI)
    api_key: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base_s: float = 0.5  # first wait; doubles each retry
    backoff_max_s: float = 8.0  # cap of the exponential wait
    max_wait_s: float = 30.0  # the longest single wait; a longer Retry-After gives up at once
    temperature: float = 0.0  # translation wants the most likely reading, not variety
    budget_s: float | None = None  # one answer's time in the LLM (None: twice timeout_s)
    cooldown_s: float = DEFAULT_COOLDOWN_S  # a failed endpoint is left alone this long
    max_reply_bytes: int = MAX_REPLY_BYTES

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LLMConfig:
        """The config the environment `env` describes (`simqa.settings.Settings.from_env` passes its
        own); check `.configured` before using it."""
        base_url = env.get("SIMQA_LLM_BASE_URL") or None
        api_key = env.get("OPENAI_API_KEY") or None
        timeout_s = _seconds(env, "SIMQA_LLM_TIMEOUT", DEFAULT_TIMEOUT_S)
        budget_raw = env.get("SIMQA_LLM_BUDGET")
        budget_s = _seconds(env, "SIMQA_LLM_BUDGET", 0.0) if budget_raw else None
        cooldown_s = _seconds(env, "SIMQA_LLM_COOLDOWN", DEFAULT_COOLDOWN_S, allow_zero=True)
        try:
            max_retries = int(env.get("SIMQA_LLM_MAX_RETRIES") or DEFAULT_MAX_RETRIES)
        except ValueError:
            raise LLMError(
                f"SIMQA_LLM_MAX_RETRIES must be a whole number, got {env.get('SIMQA_LLM_MAX_RETRIES')!r}"
            ) from None
        return cls(
            model=env.get("SIMQA_LLM_MODEL") or DEFAULT_MODEL,
            base_url=base_url.rstrip("/") if base_url else None,
            api_key=api_key,
            timeout_s=timeout_s,
            max_retries=max(0, max_retries),
            budget_s=budget_s,
            cooldown_s=cooldown_s,
        )

    @property
    def answer_budget_s(self) -> float:
        """Seconds one answer may spend in the LLM in all (`SIMQA_LLM_BUDGET`, default twice the timeout)."""
        return self.budget_s if self.budget_s is not None else 2 * self.timeout_s

    @property
    def configured(self) -> bool:
        """An LLM is configured when there is a key (OpenAI) or a base URL (any other server)."""
        return bool(self.api_key or self.base_url)

    @property
    def endpoint(self) -> str:
        """The identity under which what this endpoint accepts is remembered."""
        return f"{self.base_url or 'openai'}|{self.model}"

    @property
    def where(self) -> str:
        return self.base_url or "the OpenAI API"


def _seconds(env: Mapping[str, str], name: str, default: float, allow_zero: bool = False) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (value >= 0 if allow_zero else value > 0) or value == float("inf"):
        least = "zero or more" if allow_zero else "more than zero"
        raise LLMError(f"{name} must be a number of seconds ({least}), got {raw!r}")
    return value


def configured(env: Mapping[str, str]) -> bool:
    """Whether the environment `env` configures an LLM (see `LLMConfig.configured`)."""
    return LLMConfig.from_env(env).configured


# --------------------------------------------------------------------------- strict-mode schemas

# The JSON-schema keywords every strict structured-output implementation accepts (OpenAI's strict
# mode, and the grammar compilers behind vLLM and llama.cpp). Bounds such as `minimum` or
# `maxItems` are accepted by some and rejected or ignored by others, so schemas here leave bounds
# to the descriptions and to validation after the reply.
STRICT_KEYWORDS = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf", "$ref", "$defs"}
)
ANNOTATION_KEYWORDS = frozenset({"description", "title"})
STRICT_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})
MAX_NESTING = 10
MAX_PROPERTIES = 5000
MAX_ENUM_VALUES = 1000


def strict_schema_problems(schema: Mapping[str, Any]) -> list[str]:
    """Why OpenAI strict mode would reject `schema` (empty when it would not).

    The rules: the root is an object (not `anyOf`); every object has `additionalProperties: false`
    and lists all its properties in `required` (an optional value is a nullable type instead); no
    keyword outside `STRICT_KEYWORDS` (no `default`, `oneOf`, `allOf`, `not`, `minimum`, `format`,
    `pattern`...); every `$ref` points into `$defs`; at most 10 levels of nesting, 5000 properties,
    1000 enum values in all.
    """
    check = _StrictCheck(defs=schema.get("$defs", {}))
    if schema.get("type") != "object":
        check.problems.append("the root must be an object (type: object)")
    if "anyOf" in schema:
        check.problems.append("the root must not be anyOf")
    root = {k: v for k, v in schema.items() if k != "$defs"}
    check.walk(root, "$", 1)
    for name, sub in check.defs.items():
        check.walk(sub, f"$defs.{name}", 1)
    if check.properties > MAX_PROPERTIES:
        check.problems.append(f"{check.properties} properties in all, over the limit of {MAX_PROPERTIES}")
    if check.enum_values > MAX_ENUM_VALUES:
        check.problems.append(f"{check.enum_values} enum values in all, over the limit of {MAX_ENUM_VALUES}")
    return check.problems


@dataclass
class _StrictCheck:
    """One pass of `strict_schema_problems` over a schema: the problems found and the running totals."""

    defs: Mapping[str, Any]
    problems: list[str] = field(default_factory=list)
    properties: int = 0
    enum_values: int = 0

    def walk(self, node: Any, path: str, depth: int) -> None:
        if not isinstance(node, Mapping):
            self.problems.append(f"{path}: a schema must be an object, got {type(node).__name__}")
            return
        if depth > MAX_NESTING:
            self.problems.append(f"{path}: nested deeper than {MAX_NESTING} levels")
            return
        for key in node:
            if key not in STRICT_KEYWORDS and key not in ANNOTATION_KEYWORDS:
                self.problems.append(f"{path}: keyword {key!r} is not supported in strict mode")
        if "$ref" in node:
            self._ref(node["$ref"], path)
            return
        type_list = self._types(node, path)
        if "enum" in node:
            self.enum_values += len(node["enum"])
        if "object" in type_list:
            self._object(node, path, depth)
        if "array" in type_list:
            if "items" not in node:
                self.problems.append(f"{path}: an array needs items")
            else:
                self.walk(node["items"], f"{path}[]", depth + 1)
        for i, sub in enumerate(node.get("anyOf", [])):
            self.walk(sub, f"{path}.anyOf[{i}]", depth)

    def _ref(self, ref: Any, path: str) -> None:
        if ref == "#":
            return  # recursion into the root is allowed
        name = ref.removeprefix("#/$defs/") if isinstance(ref, str) else None
        if name is None or name == ref or name not in self.defs:
            self.problems.append(f"{path}: $ref {ref!r} does not point into $defs")

    def _types(self, node: Mapping[str, Any], path: str) -> list[Any]:
        """The node's types (a list even when it names one), each checked; a node needs a type or its stand-in."""
        types = node.get("type")
        type_list = types if isinstance(types, list) else [types] if types is not None else []
        for t in type_list:
            if t not in STRICT_TYPES:
                self.problems.append(f"{path}: unknown type {t!r}")
        if types is None and "anyOf" not in node and "enum" not in node and "const" not in node:
            self.problems.append(f"{path}: no type (every value needs a type, anyOf, enum or const)")
        return type_list

    def _object(self, node: Mapping[str, Any], path: str, depth: int) -> None:
        props = node.get("properties")
        if not isinstance(props, Mapping):
            self.problems.append(f"{path}: an object needs properties")
            props = {}
        if node.get("additionalProperties") is not False:
            self.problems.append(f"{path}: additionalProperties must be false")
        required = node.get("required", [])
        missing = [name for name in props if name not in required]
        if missing:
            self.problems.append(f"{path}: every property must be required (make it nullable instead): {missing}")
        extra = [name for name in required if name not in props]
        if extra:
            self.problems.append(f"{path}: required names unknown properties: {extra}")
        self.properties += len(props)
        for name, sub in props.items():
            self.walk(sub, f"{path}.{name}", depth + 1)


def schema_hash(schema: Mapping[str, Any] | None) -> str:
    if schema is None:
        return "none"
    return hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- replies


@dataclass
class ChatReply:
    """One answer: its text, the tokens it cost (zero when cached), how it was obtained."""

    content: str
    usage: dict[str, int] = field(default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0})
    mode: str = "plain"
    cached: bool = False
    attempts: int = 1
    refusal: str | None = None


_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


def parse_json_object(text: str) -> dict[str, Any]:
    """The JSON object in a reply: the whole text, a fenced block, or the outermost braces.

    Raises ValueError with a message fit to send back to the model.
    """
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1).strip()
    candidates = [stripped]
    first, last = stripped.find("{"), stripped.rfind("}")
    if 0 <= first < last and (first, last) != (0, len(stripped) - 1):
        candidates.append(stripped[first : last + 1])
    error: json.JSONDecodeError | None = None
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError as exc:
            error = error or exc
            continue
        except RecursionError:
            raise ValueError("the reply is nested too deeply to be a request") from None
        if not isinstance(value, dict):
            raise ValueError(f"the reply must be one JSON object, got a JSON {type(value).__name__}")
        return value
    detail = f"{error.msg} at line {error.lineno} column {error.colno}" if error else "empty reply"
    raise ValueError(f"the reply is not valid JSON ({detail})")


# --------------------------------------------------------------------------- endpoint memory

_memory_lock = threading.Lock()
_remembered_modes: dict[tuple[str, str], Mode] = {}


class EndpointMemory:
    """What structured-output mode each endpoint accepts, in memory and in a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, endpoint: str) -> Mode | None:
        key = (str(self.path), endpoint)
        with _memory_lock:
            if key in _remembered_modes:
                return _remembered_modes[key]
            mode = self._read().get(endpoint)
            if mode in MODES:
                _remembered_modes[key] = cast(Mode, mode)
                return cast(Mode, mode)
        return None

    def set(self, endpoint: str, mode: Mode) -> None:
        with _memory_lock:
            _remembered_modes[(str(self.path), endpoint)] = mode
            data = self._read()
            if data.get(endpoint) == mode:
                return
            data[endpoint] = mode
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
                tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
                os.replace(tmp, self.path)
            except OSError:
                pass  # a read-only home only costs a probe next time

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


# --------------------------------------------------------------------------- deadlines


class EndpointError(LLMError):
    """The endpoint failed (unreachable, timed out, rate limited past the budget, a reply that is no
    completion): the same answer does not call it again."""


class Budget:
    """One answer's time in the LLM, and whether the endpoint has already failed within it.

    Every request of the answer (translation, corrections, the written answer) gets at most what
    is left; the time between them (retrieval, the simulation) is not counted. Once a request
    found the endpoint failing, `failure` says why and no request follows.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self.spent = 0.0
        self._since: float | None = None  # the clock when the running chat call started
        self.failure: str | None = None

    def remaining(self) -> float:
        running = self._clock() - self._since if self._since is not None else 0.0
        return self.seconds - self.spent - running

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        """Count the time spent inside this block against the budget."""
        self._since = self._clock()
        try:
            yield
        finally:
            self.spent += self._clock() - self._since
            self._since = None


class _ReplyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the reply is over {limit:,} bytes")
        self.limit = limit


def _limited_http_client(limit: int) -> Any:
    """The SDK's default HTTP client, with a transport whose response bodies stop past `limit` bytes."""
    import importlib

    import openai

    # The HTTP library the SDK is built on (httpx, or its successor in newer SDKs).
    base = next(c for c in openai.DefaultHttpxClient.__mro__ if c.__name__ == "Client")
    http: Any = importlib.import_module(base.__module__.split(".")[0])

    class LimitedStream(http.SyncByteStream):  # type: ignore[misc]
        def __init__(self, stream: Any) -> None:
            self._stream = stream

        def __iter__(self) -> Any:
            total = 0
            for chunk in self._stream:
                total += len(chunk)
                if total > limit:
                    raise _ReplyTooLarge(limit)
                yield chunk

        def close(self) -> None:
            self._stream.close()

    class LimitedTransport(http.HTTPTransport):  # type: ignore[misc]
        def handle_request(self, request: Any) -> Any:
            response = super().handle_request(request)
            response.stream = LimitedStream(response.stream)
            return response

    return openai.DefaultHttpxClient(transport=LimitedTransport())


class _WatchdogTimeout(Exception):
    """The request outlived its deadline (a server that hangs, or drips its reply)."""


# --------------------------------------------------------------------------- the client


class _FormatRejected(Exception):
    """The endpoint does not accept this `response_format`: try the next mode."""


# What a refusal of the response format says: OpenAI names `response_format`; vLLM "JSON schema"
# or its grammar backend; Ollama "invalid JSON schema in format"; llama-cpp-python's server the
# field (`response_format`, `type`) in a validation error.
_FORMAT_WORDS = re.compile(
    r"response_format|response format|json_schema|json[ _-]?schema|json_object|\bschema\b|grammar|"
    r"structured[ _]output|guided",
    re.IGNORECASE,
)
# A request-validation error (FastAPI / pydantic) rather than a failure of the model.
_VALIDATION_WORDS = re.compile(
    r"validation error|literal_error|Input should be|'loc': \(|\"loc\": \[|extra_forbidden|unrecognized request argument",
    re.IGNORECASE,
)


class LLMClient:
    """Chat completions with deadlines, retries, structured-output fallback, usage accounting and a reply cache.

    cache_dir: when set, replies are stored there under a hash of (model, messages, schema) and a
      rerun of the same prompt costs nothing (the eval runner passes one).
    home: where the endpoint memory file lives (default `$SIMQA_HOME`, else `~/.simqa`).
    sleep / rng / clock: injectable for tests of the backoff and the cool-down.
    """

    def __init__(
        self,
        config: LLMConfig,
        *,
        cache_dir: str | Path | None = None,
        home: str | Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        if home is None:
            from simqa.settings import Settings

            home = Settings.from_env().home
        self.memory = EndpointMemory(Path(home) / ENDPOINTS_FILE)
        self.usage: dict[str, int] = {"prompt_tokens": 0, "completion_tokens": 0}
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock
        self._lock = threading.Lock()
        self._idle: list[Any] = []  # SDK clients with open keep-alive connections
        self._failed: tuple[float, str] | None = None  # (when, why) the endpoint last failed

    # ---------------------------------------------------------------- public

    @property
    def mode(self) -> Mode:
        """The structured-output mode this endpoint is known to accept (json_schema until told otherwise)."""
        return self.memory.get(self.config.endpoint) or "json_schema"

    def budget(self) -> Budget:
        """A fresh budget for one answer (`LLMConfig.answer_budget_s`)."""
        return Budget(self.config.answer_budget_s, self._clock)

    def unavailable(self) -> str | None:
        """Why the endpoint is being left alone now (it failed within the cool-down), or None."""
        with self._lock:
            failed = self._failed
        if failed is None:
            return None
        ago = self._clock() - failed[0]
        if ago >= self.config.cooldown_s:
            return None
        return (
            f"the LLM endpoint {self.config.where} failed {ago:.0f} s ago ({failed[1]}); it is left alone for "
            f"{self.config.cooldown_s:g} s (SIMQA_LLM_COOLDOWN)"
        )

    def chat(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any] | None = None,
        schema_name: str = "reply",
        budget: Budget | None = None,
        max_tokens: int | None = None,
        loose_schema: Mapping[str, Any] | None = None,
    ) -> ChatReply:
        """One completion. With a `schema`, the reply is asked for as JSON in the best mode the endpoint takes.

        budget: the answer's budget (a fresh one when None); raises EndpointError without a
          request when the endpoint already failed within it, or within the cool-down.
        loose_schema: the schema of json_object mode and of plain mode's prompt, in place of `schema`:
          one that may leave out what strict mode must list (shorter replies for small local models).
        """
        messages = [dict(m) for m in messages]
        key = self._cache_key(messages, schema)
        cached = self._cache_get(key)
        if cached is not None:
            return cached
        budget = budget or self.budget()
        if budget.failure is not None:
            raise EndpointError(f"{budget.failure} (not called again for this answer)")
        unavailable = self.unavailable()
        if unavailable is not None:
            budget.failure = unavailable
            raise EndpointError(unavailable)
        self._checkin(self._checkout())  # import and build the SDK client off the budget's clock
        try:
            with budget.counting():
                if schema is None:
                    reply = self._complete(messages, None, "plain", budget, max_tokens)
                else:
                    reply = self._structured(messages, schema, schema_name, budget, max_tokens, loose_schema)
        except EndpointError as exc:
            budget.failure = str(exc)
            with self._lock:
                self._failed = (self._clock(), _first_clause(str(exc)))
            raise
        with self._lock:
            self._failed = None
            for name in ("prompt_tokens", "completion_tokens"):
                self.usage[name] += reply.usage.get(name, 0)
        self._cache_put(key, reply)
        return reply

    # ---------------------------------------------------------------- modes

    def _structured(
        self,
        messages: list[Message],
        schema: Mapping[str, Any],
        name: str,
        budget: Budget,
        max_tokens: int | None,
        loose_schema: Mapping[str, Any] | None,
    ) -> ChatReply:
        """The reply in the first mode, from the remembered one on, that the endpoint accepts."""
        remembered = self.mode
        refusals: list[str] = []
        for mode in MODES[MODES.index(remembered) :]:
            mode_schema = schema if mode == "json_schema" or loose_schema is None else loose_schema
            sent = self._messages_for(messages, mode_schema, mode)
            try:
                reply = self._complete(sent, (mode_schema, name), mode, budget, max_tokens)
            except _FormatRejected as exc:
                refusals.append(f"{mode}: {str(exc)[:120]}")
                continue
            if mode != remembered:
                self.memory.set(self.config.endpoint, mode)
            return reply
        # "plain" sends no response_format, so only a server that rejects every request gets here
        raise EndpointError(
            f"the LLM endpoint {self.config.where} rejected every response format ({'; '.join(refusals)}): "
            "check SIMQA_LLM_BASE_URL"
        )

    @staticmethod
    def _messages_for(messages: list[Message], schema: Mapping[str, Any], mode: Mode) -> list[Message]:
        """json_object and plain modes need the word JSON, and plain mode the schema itself, in the prompt."""
        if mode == "json_schema":
            return messages
        if mode == "json_object":
            note = "Reply with one JSON object only."
        else:
            note = (
                "Reply with one JSON object only, no prose and no code fence, matching this JSON schema:\n"
                + json.dumps(schema, separators=(",", ":"))
            )
        return [*messages, {"role": "system", "content": note}]

    @staticmethod
    def _response_format(schema: Mapping[str, Any], name: str, mode: Mode) -> dict[str, Any] | None:
        if mode == "json_schema":
            strict = not strict_schema_problems(schema)
            return {"type": "json_schema", "json_schema": {"name": name, "strict": strict, "schema": dict(schema)}}
        if mode == "json_object":
            return {"type": "json_object", "schema": dict(schema)}
        return None

    # ---------------------------------------------------------------- one completion, with retries

    def _checkout(self) -> Any:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        import openai

        sdk = openai.OpenAI(
            base_url=self.config.base_url,
            # local servers need no key, but the SDK insists on one
            api_key=self.config.api_key or "not-needed",
            timeout=self.config.timeout_s,
            max_retries=0,
            http_client=_limited_http_client(self.config.max_reply_bytes),
        )
        _ = sdk.chat.completions  # the SDK imports its resources lazily: not on the request's clock
        return sdk

    def _checkin(self, sdk: Any) -> None:
        with self._lock:
            if len(self._idle) < 8:
                self._idle.append(sdk)
                return
        sdk.close()

    def _send(self, kwargs: dict[str, Any], timeout_s: float) -> Any:
        """The SDK call, bounded whole by `timeout_s`: past it the connection is closed and the call abandoned."""
        sdk = self._checkout()
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                box["response"] = sdk.chat.completions.create(**kwargs, timeout=timeout_s)
            except BaseException as exc:
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=work, name="simqa-llm-request", daemon=True).start()
        if not done.wait(timeout_s + WATCHDOG_GRACE_S):
            with contextlib.suppress(Exception):
                sdk.close()  # the worker's next read fails and it ends; nobody waits for it
            raise _WatchdogTimeout
        if "error" in box:
            self._checkin(sdk)
            raise box["error"]
        self._checkin(sdk)
        return box["response"]

    def _request(
        self, messages: list[Message], schema: tuple[Mapping[str, Any], str] | None, mode: Mode, max_tokens: int | None
    ) -> dict[str, Any]:
        """The arguments of one chat completion: model, messages, temperature, and the mode's response format."""
        kwargs: dict[str, Any] = {
            "model": self.config.model,
            "messages": messages,
            "temperature": self.config.temperature,
        }
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if schema is not None:
            response_format = self._response_format(schema[0], schema[1], mode)
            if response_format is not None:
                kwargs["response_format"] = response_format
        return kwargs

    def _complete(
        self,
        messages: list[Message],
        schema: tuple[Mapping[str, Any], str] | None,
        mode: Mode,
        budget: Budget,
        max_tokens: int | None = None,
    ) -> ChatReply:
        import openai

        kwargs = self._request(messages, schema, mode, max_tokens)
        cfg = self.config
        where = cfg.where
        connect_retry = True
        retries_left = cfg.max_retries
        attempts = 0
        last = ""
        while True:
            remaining = budget.remaining()
            if remaining <= 0.05:
                raise EndpointError(
                    f"the LLM endpoint {where} used up this answer's budget of {budget.seconds:g} s"
                    + (f" (last: {last})" if last else "")
                    + ": raise SIMQA_LLM_BUDGET, or check that the server is up"
                )
            timeout_s = min(cfg.timeout_s, remaining)
            attempts += 1
            try:
                response = self._send(kwargs, timeout_s)
                return self._reply(response, mode, attempts, where)
            except (_WatchdogTimeout, openai.APITimeoutError):
                raise EndpointError(
                    f"the LLM endpoint {where} gave no complete answer within {timeout_s:g} s: check that the "
                    "server is up, or raise SIMQA_LLM_TIMEOUT"
                ) from None
            except openai.APIConnectionError as exc:
                last = self._connection_failed(exc, connect_retry)
                connect_retry = False
                wait = CONNECT_RETRY_WAIT_S
            except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
                raise self._access_refused(exc) from None
            except openai.APIStatusError as exc:
                last, retry_after = self._status_failed(
                    exc, "response_format" in kwargs, attempts, retries_left, budget
                )
                retries_left -= 1
                wait = self._backoff(attempts - 1, retry_after)
            except EndpointError:
                raise
            except Exception as exc:  # a body the SDK could not read: HTML, cut-off or deeply nested JSON
                raise EndpointError(
                    f"the LLM endpoint {where} sent a reply that is not a chat completion "
                    f"({type(exc).__name__}: {_one_line(str(exc))[:120]}): check SIMQA_LLM_BASE_URL"
                ) from None
            if wait >= budget.remaining():
                raise EndpointError(
                    f"the LLM endpoint {where} failed (last: {last}) and this answer's budget has no time left "
                    "to retry: check that the server is up, or raise SIMQA_LLM_BUDGET"
                )
            self._sleep(wait)

    def _connection_failed(self, exc: Exception, may_retry: bool) -> str:
        """What went wrong connecting, when one more try is allowed; the EndpointError to stop with otherwise."""
        where = self.config.where
        cause = _root_cause(exc)
        if isinstance(cause, _ReplyTooLarge):
            raise EndpointError(
                f"the LLM endpoint {where} sent {cause}: check SIMQA_LLM_BASE_URL and SIMQA_LLM_MODEL"
            ) from None
        last = f"cannot connect ({_cause(exc)})"
        if not may_retry:
            raise EndpointError(
                f"the LLM endpoint {where} failed twice (last: {last}): check SIMQA_LLM_BASE_URL and "
                "that the server is up"
            ) from None
        return last

    def _access_refused(self, exc: Exception) -> EndpointError:
        """The error for a 401, 403 or 404: the key, the model's access, or the model's name or URL is wrong."""
        import openai

        cfg = self.config
        if isinstance(exc, openai.AuthenticationError):
            return EndpointError(f"the LLM endpoint {cfg.where} rejected the API key (401): check OPENAI_API_KEY")
        if isinstance(exc, openai.PermissionDeniedError):
            return EndpointError(
                f"the LLM endpoint {cfg.where} refused access (403): check OPENAI_API_KEY and that it may use "
                f"model {cfg.model!r} (SIMQA_LLM_MODEL)"
            )
        return EndpointError(
            f"model {cfg.model!r} was not found at {cfg.where} (404): check SIMQA_LLM_MODEL, and that "
            "SIMQA_LLM_BASE_URL ends in /v1"
        )

    def _status_failed(
        self, exc: Any, sent_format: bool, attempts: int, retries_left: int, budget: Budget
    ) -> tuple[str, float | None]:
        """For an HTTP error worth retrying: what went wrong and the server's Retry-After; raises otherwise."""
        cfg = self.config
        where = cfg.where
        message = _error_message(exc)
        status = exc.status_code
        if sent_format and _refuses_format(status, message):
            raise _FormatRejected(f"HTTP {status}: {message}") from None
        if status not in (408, 409, 429) and status < 500:
            raise EndpointError(
                f"the LLM endpoint {where} rejected the request (HTTP {status}: {_one_line(message)[:200]})"
            ) from None
        last = f"HTTP {status}" + (" (rate limited)" if status == 429 else "")
        retry_after = _retry_after(exc.response.headers)
        if retry_after is not None and retry_after > min(cfg.max_wait_s, budget.remaining()):
            raise EndpointError(
                f"the LLM endpoint {where} is rate limited and asks to wait {retry_after:g} s (Retry-After), "
                f"longer than this answer may wait ({min(cfg.max_wait_s, budget.remaining()):.0f} s): "
                "answered without it"
            ) from None
        if retries_left <= 0:
            raise EndpointError(
                f"the LLM endpoint {where} failed {attempts} times (last: {last}): check "
                "SIMQA_LLM_BASE_URL and that the server is up"
            ) from None
        return last, retry_after

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter (half fixed, half random); Retry-After when the server gives one."""
        cfg = self.config
        if retry_after is not None:
            return min(max(retry_after, 0.0), cfg.max_wait_s)
        ceiling = min(cfg.backoff_max_s, cfg.backoff_base_s * 2**attempt)
        return min(ceiling / 2 + self._rng.uniform(0, ceiling / 2), cfg.max_wait_s)

    @staticmethod
    def _reply(response: Any, mode: Mode, attempts: int, where: str) -> ChatReply:
        """The reply in a completion; anything else the server sent is an EndpointError."""
        if isinstance(response, str | bytes) or not hasattr(response, "choices"):
            text = response if isinstance(response, str) else type(response).__name__
            raise EndpointError(
                f"the LLM endpoint {where} sent a reply that is not a chat completion "
                f"({_one_line(str(text))[:80]!r}): check that SIMQA_LLM_BASE_URL ends in /v1"
            )
        try:
            choices = list(response.choices or [])
            if not choices:
                raise EndpointError(f"the LLM endpoint {where} answered without any choices: check SIMQA_LLM_BASE_URL")
            message = choices[0].message
            content = message.content
            refusal = getattr(message, "refusal", None)
            usage = getattr(response, "usage", None)
            tokens = {
                "prompt_tokens": int(getattr(usage, "prompt_tokens", 0) or 0),
                "completion_tokens": int(getattr(usage, "completion_tokens", 0) or 0),
            }
        except EndpointError:
            raise
        except Exception as exc:
            raise EndpointError(
                f"the LLM endpoint {where} sent a completion of the wrong shape ({type(exc).__name__}): "
                "check SIMQA_LLM_BASE_URL"
            ) from None
        if content is not None and not isinstance(content, str):
            raise EndpointError(f"the LLM endpoint {where} sent message content that is not text")
        if content is not None and len(content) > MAX_REPLY_CHARS:
            raise EndpointError(
                f"the LLM endpoint {where} sent a reply of {len(content):,} characters, over the limit of "
                f"{MAX_REPLY_CHARS:,}"
            )
        return ChatReply(
            content=content or "",
            usage=tokens,
            mode=mode,
            attempts=attempts,
            refusal=refusal if isinstance(refusal, str) else None,
        )

    # ---------------------------------------------------------------- cache

    def _cache_key(self, messages: list[Message], schema: Mapping[str, Any] | None) -> str:
        body = {"model": self.config.model, "messages": messages, "schema": schema_hash(schema)}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def _cache_get(self, key: str) -> ChatReply | None:
        if self.cache_dir is None:
            return None
        try:
            data = json.loads((self.cache_dir / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None
        return ChatReply(
            content=str(data.get("content", "")),
            mode=str(data.get("mode", "plain")),
            cached=True,
            attempts=0,
            refusal=data.get("refusal"),
        )

    def _cache_put(self, key: str, reply: ChatReply) -> None:
        if self.cache_dir is None:
            return
        record = {
            "model": self.config.model,
            "content": reply.content,
            "mode": reply.mode,
            "refusal": reply.refusal,
            "usage": reply.usage,
        }
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_dir / f"{key}.{os.getpid()}.{threading.get_ident()}.tmp"
            tmp.write_text(json.dumps(record))
            os.replace(tmp, self.cache_dir / f"{key}.json")
        except OSError:
            pass  # a cache that cannot be written only costs a call next time


def _error_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if body.get("message"):
            return str(body["message"])
        if body.get("detail"):
            return str(body["detail"])
    if isinstance(body, str) and body:
        return body
    return str(getattr(exc, "message", "") or exc)


def _refuses_format(status: int, message: str) -> bool:
    """Whether an error answer refuses the response format (see the module docstring)."""
    if status in (401, 403, 404, 429) or status < 400:
        return False
    return bool(_FORMAT_WORDS.search(message) or _VALIDATION_WORDS.search(message))


def _root_cause(exc: BaseException) -> BaseException:
    seen = 0
    while (exc.__cause__ or exc.__context__) is not None and seen < 10:
        exc = cast(BaseException, exc.__cause__ or exc.__context__)
        seen += 1
    return exc


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _first_clause(text: str) -> str:
    return _one_line(text).split(": check")[0][:160]


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    text = str(cause or exc).strip() or type(cause or exc).__name__
    return text.splitlines()[0][:160]


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from Retry-After (seconds or an HTTP date) or retry-after-ms; None when absent."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return float(raw_ms) / 1000.0
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
