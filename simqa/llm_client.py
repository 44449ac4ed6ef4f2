"""One client for any OpenAI-compatible chat endpoint: config, errors, retries, structured output, cache.

Configuration (environment):
- `OPENAI_API_KEY`: the key (local servers that need none may leave it unset when a base URL is set)
- `SIMQA_LLM_BASE_URL`: the endpoint, ending in `/v1` (unset: OpenAI)
- `SIMQA_LLM_MODEL`: the model name (unset: `DEFAULT_MODEL`)
- `SIMQA_LLM_TIMEOUT`: seconds per request (default 60); `SIMQA_LLM_MAX_RETRIES` (default 3)

Structured output. Servers differ in what they accept as `response_format`, so the client tries,
in order, and remembers per endpoint (base URL + model) what worked, in memory and in
`$SIMQA_HOME/llm_endpoints.json` (delete the file to probe again):
1. `json_schema` with `strict: true` (OpenAI, vLLM, and Ollama's OpenAI-compatible `/v1` endpoint;
   Ollama's native `format` field belongs to its own `/api/chat` API, which this client does not speak);
2. `{"type": "json_object", "schema": ...}` (the llama-cpp-python server rejects `json_schema`);
3. no `response_format`: the schema goes into the prompt and the reply is validated like any other.
A server's 400 (or 422) that names `response_format` / `json_schema` / `schema` moves to the next mode.

Retries. The SDK's own retries are off (`max_retries=0`): this client retries timeouts, dropped
connections, 429 and 5xx itself, at most `max_retries` times, with exponential backoff and jitter,
honouring Retry-After up to `max_wait_s`. Doing it here keeps the attempt count, the waits and
the mode fallback in one loop that tests can observe (over real HTTP, with a scripted server),
and bounds the worst case at about `max_retries * max_wait_s` seconds.

Errors. Anything that cannot be retried or keeps failing is an `LLMError` of one line naming the
environment variable to check. Nothing a model writes is executed: replies are data, parsed as JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal, cast

from sim.errors import LLMError

Mode = Literal["json_schema", "json_object", "plain"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "plain")

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 3
ENDPOINTS_FILE = "llm_endpoints.json"

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
    max_wait_s: float = 30.0  # cap of any single wait, Retry-After included
    temperature: float = 0.0  # translation wants the most likely reading, not variety

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LLMConfig:
        """The config the environment describes; check `.configured` before using it."""
        env = os.environ if env is None else env
        base_url = env.get("SIMQA_LLM_BASE_URL") or None
        api_key = env.get("OPENAI_API_KEY") or None
        try:
            timeout_s = float(env.get("SIMQA_LLM_TIMEOUT") or DEFAULT_TIMEOUT_S)
            max_retries = int(env.get("SIMQA_LLM_MAX_RETRIES") or DEFAULT_MAX_RETRIES)
        except ValueError:
            raise LLMError(
                "SIMQA_LLM_TIMEOUT must be a number of seconds and SIMQA_LLM_MAX_RETRIES a whole number"
            ) from None
        return cls(
            model=env.get("SIMQA_LLM_MODEL") or DEFAULT_MODEL,
            base_url=base_url.rstrip("/") if base_url else None,
            api_key=api_key,
            timeout_s=timeout_s,
            max_retries=max(0, max_retries),
        )

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


def configured(env: Mapping[str, str] | None = None) -> bool:
    """Whether the environment configures an LLM (see `LLMConfig.configured`)."""
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
    problems: list[str] = []
    defs = schema.get("$defs", {})
    totals = {"properties": 0, "enum": 0}

    if schema.get("type") != "object":
        problems.append("the root must be an object (type: object)")
    if "anyOf" in schema:
        problems.append("the root must not be anyOf")

    def walk(node: Any, path: str, depth: int) -> None:
        if not isinstance(node, Mapping):
            problems.append(f"{path}: a schema must be an object, got {type(node).__name__}")
            return
        if depth > MAX_NESTING:
            problems.append(f"{path}: nested deeper than {MAX_NESTING} levels")
            return
        for key in node:
            if key not in STRICT_KEYWORDS and key not in ANNOTATION_KEYWORDS:
                problems.append(f"{path}: keyword {key!r} is not supported in strict mode")
        if "$ref" in node:
            ref = node["$ref"]
            name = ref.removeprefix("#/$defs/") if isinstance(ref, str) else None
            if ref == "#":
                pass  # recursion into the root is allowed
            elif name is None or name == ref or name not in defs:
                problems.append(f"{path}: $ref {ref!r} does not point into $defs")
            return
        types = node.get("type")
        type_list = types if isinstance(types, list) else [types] if types is not None else []
        for t in type_list:
            if t not in STRICT_TYPES:
                problems.append(f"{path}: unknown type {t!r}")
        if types is None and "anyOf" not in node and "enum" not in node and "const" not in node:
            problems.append(f"{path}: no type (every value needs a type, anyOf, enum or const)")
        if "enum" in node:
            totals["enum"] += len(node["enum"])
        if "object" in type_list:
            props = node.get("properties")
            if not isinstance(props, Mapping):
                problems.append(f"{path}: an object needs properties")
                props = {}
            if node.get("additionalProperties") is not False:
                problems.append(f"{path}: additionalProperties must be false")
            required = node.get("required", [])
            missing = [name for name in props if name not in required]
            if missing:
                problems.append(f"{path}: every property must be required (make it nullable instead): {missing}")
            extra = [name for name in required if name not in props]
            if extra:
                problems.append(f"{path}: required names unknown properties: {extra}")
            totals["properties"] += len(props)
            for name, sub in props.items():
                walk(sub, f"{path}.{name}", depth + 1)
        if "array" in type_list:
            if "items" not in node:
                problems.append(f"{path}: an array needs items")
            else:
                walk(node["items"], f"{path}[]", depth + 1)
        for i, sub in enumerate(node.get("anyOf", [])):
            walk(sub, f"{path}.anyOf[{i}]", depth)

    root = {k: v for k, v in schema.items() if k != "$defs"}
    walk(root, "$", 1)
    for name, sub in defs.items():
        walk(sub, f"$defs.{name}", 1)
    if totals["properties"] > MAX_PROPERTIES:
        problems.append(f"{totals['properties']} properties in all, over the limit of {MAX_PROPERTIES}")
    if totals["enum"] > MAX_ENUM_VALUES:
        problems.append(f"{totals['enum']} enum values in all, over the limit of {MAX_ENUM_VALUES}")
    return problems


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
        if not isinstance(value, dict):
            raise ValueError(f"the reply must be one JSON object, got a JSON {type(value).__name__}")
        return value
    detail = f"{error.msg} at line {error.lineno} column {error.colno}" if error else "empty reply"
    raise ValueError(f"the reply is not valid JSON ({detail})")


# --------------------------------------------------------------------------- endpoint memory

_memory_lock = threading.Lock()
_remembered_modes: dict[tuple[str, str], Mode] = {}


def _default_home() -> Path:
    raw = os.environ.get("SIMQA_HOME")
    return Path(raw).expanduser() if raw else Path.home() / ".simqa"


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


# --------------------------------------------------------------------------- the client


class _FormatRejected(Exception):
    """The endpoint does not accept this `response_format`: try the next mode."""


_FORMAT_WORDS = re.compile(r"response_format|json_schema|json_object|schema|structured output|guided", re.IGNORECASE)


class LLMClient:
    """Chat completions with retries, structured-output fallback, usage accounting and a reply cache.

    cache_dir: when set, replies are stored there under a hash of (model, messages, schema) and a
      rerun of the same prompt costs nothing (the eval runner passes one).
    home: where the endpoint memory file lives (default `$SIMQA_HOME`, else `~/.simqa`).
    sleep / rng: injectable for tests of the backoff.
    """

    def __init__(
        self,
        config: LLMConfig,
        *,
        cache_dir: str | Path | None = None,
        home: str | Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.memory = EndpointMemory(Path(home or _default_home()) / ENDPOINTS_FILE)
        self.usage: dict[str, int] = {"prompt_tokens": 0, "completion_tokens": 0}
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._sdk: Any = None

    # ---------------------------------------------------------------- public

    @property
    def mode(self) -> Mode:
        """The structured-output mode this endpoint is known to accept (json_schema until told otherwise)."""
        return self.memory.get(self.config.endpoint) or "json_schema"

    def chat(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any] | None = None,
        schema_name: str = "reply",
    ) -> ChatReply:
        """One completion. With a `schema`, the reply is asked for as JSON in the best mode the endpoint takes."""
        messages = [dict(m) for m in messages]
        key = self._cache_key(messages, schema)
        cached = self._cache_get(key)
        if cached is not None:
            return cached
        if schema is None:
            reply = self._complete(messages, None, "plain")
        else:
            reply = self._structured(messages, schema, schema_name)
        with self._lock:
            for name in ("prompt_tokens", "completion_tokens"):
                self.usage[name] += reply.usage.get(name, 0)
        self._cache_put(key, reply)
        return reply

    # ---------------------------------------------------------------- modes

    def _structured(self, messages: list[Message], schema: Mapping[str, Any], name: str) -> ChatReply:
        """The reply in the first mode, from the remembered one on, that the endpoint accepts."""
        remembered = self.mode
        for mode in MODES[MODES.index(remembered) :]:
            try:
                reply = self._complete(self._messages_for(messages, schema, mode), (schema, name), mode)
            except _FormatRejected:
                continue
            if mode != remembered:
                self.memory.set(self.config.endpoint, mode)
            return reply
        # "plain" sends no response_format, so only a server that rejects every request gets here
        raise LLMError(f"the LLM endpoint {self.config.where} rejected every response format: check SIMQA_LLM_BASE_URL")

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

    def _client(self) -> Any:
        with self._lock:
            if self._sdk is not None:
                return self._sdk
            import openai

            self._sdk = openai.OpenAI(
                base_url=self.config.base_url,
                # local servers need no key, but the SDK insists on one
                api_key=self.config.api_key or "not-needed",
                timeout=self.config.timeout_s,
                max_retries=0,
            )
        return self._sdk

    def _complete(self, messages: list[Message], schema: tuple[Mapping[str, Any], str] | None, mode: Mode) -> ChatReply:
        import openai

        kwargs: dict[str, Any] = {
            "model": self.config.model,
            "messages": messages,
            "temperature": self.config.temperature,
        }
        if schema is not None:
            response_format = self._response_format(schema[0], schema[1], mode)
            if response_format is not None:
                kwargs["response_format"] = response_format
        cfg = self.config
        last = ""
        for attempt in range(cfg.max_retries + 1):
            wait: float | None = None
            try:
                response = self._client().chat.completions.create(**kwargs)
                return self._reply(response, mode, attempt + 1)
            except openai.APITimeoutError:
                last = f"no answer within {cfg.timeout_s:g} s"
            except openai.APIConnectionError as exc:
                last = f"cannot connect ({_cause(exc)})"
            except openai.AuthenticationError:
                raise LLMError(
                    f"the LLM endpoint {cfg.where} rejected the API key (401): check OPENAI_API_KEY"
                ) from None
            except openai.PermissionDeniedError:
                raise LLMError(
                    f"the LLM endpoint {cfg.where} refused access (403): check OPENAI_API_KEY and that it may use "
                    f"model {cfg.model!r} (SIMQA_LLM_MODEL)"
                ) from None
            except openai.NotFoundError:
                raise LLMError(
                    f"model {cfg.model!r} was not found at {cfg.where} (404): check SIMQA_LLM_MODEL, and that "
                    "SIMQA_LLM_BASE_URL ends in /v1"
                ) from None
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                message = _error_message(exc)
                if "response_format" in kwargs and _FORMAT_WORDS.search(message):
                    raise _FormatRejected(message) from None
                raise LLMError(
                    f"the LLM endpoint {cfg.where} rejected the request ({exc.status_code}: {message[:200]})"
                ) from None
            except openai.APIStatusError as exc:
                if exc.status_code != 429 and exc.status_code < 500 and exc.status_code != 408:
                    raise LLMError(
                        f"the LLM endpoint {cfg.where} answered {exc.status_code}: {_error_message(exc)[:200]}"
                    ) from None
                last = f"HTTP {exc.status_code}" + (" (rate limited)" if exc.status_code == 429 else "")
                wait = _retry_after(exc.response.headers)
            if attempt < cfg.max_retries:
                self._sleep(self._backoff(attempt, wait))
        raise LLMError(
            f"the LLM endpoint {cfg.where} failed {cfg.max_retries + 1} times (last: {last}): check "
            "SIMQA_LLM_BASE_URL and that the server is up, or raise SIMQA_LLM_TIMEOUT"
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter (half fixed, half random); Retry-After when the server gives one."""
        cfg = self.config
        if retry_after is not None:
            return min(max(retry_after, 0.0), cfg.max_wait_s)
        ceiling = min(cfg.backoff_max_s, cfg.backoff_base_s * 2**attempt)
        return min(ceiling / 2 + self._rng.uniform(0, ceiling / 2), cfg.max_wait_s)

    @staticmethod
    def _reply(response: Any, mode: Mode, attempts: int) -> ChatReply:
        if not getattr(response, "choices", None):
            raise LLMError("the LLM endpoint answered without any choices: check SIMQA_LLM_BASE_URL")
        message = response.choices[0].message
        usage = getattr(response, "usage", None)
        tokens = {
            "prompt_tokens": int(getattr(usage, "prompt_tokens", 0) or 0),
            "completion_tokens": int(getattr(usage, "completion_tokens", 0) or 0),
        }
        return ChatReply(
            content=message.content or "",
            usage=tokens,
            mode=mode,
            attempts=attempts,
            refusal=getattr(message, "refusal", None),
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
    return str(getattr(exc, "message", "") or exc)


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
