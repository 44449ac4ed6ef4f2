"""The scripted OpenAI-compatible server, exercised with the real openai SDK over HTTP."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from typing import Any

import openai
import pytest

from simqa.testing import (
    REFUSALS,
    ScriptedOpenAIServer,
    cut_off,
    deterministic_embedding,
    drip,
    empty_choices,
    hang,
    html,
    http_error,
    malformed,
    nested,
    oversized,
    rate_limited,
    reply,
    server_error,
    timeout,
)


def sdk(server: ScriptedOpenAIServer, *, key: str = "test", timeout_s: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=key, timeout=timeout_s, max_retries=0)


def ask(client: openai.OpenAI, model: str = "scripted", **kwargs: Any) -> str:
    completion = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "two words"}], **kwargs
    )
    return completion.choices[0].message.content or ""


def test_replies_come_in_script_order_and_requests_are_recorded() -> None:
    with ScriptedOpenAIServer([reply({"kind": "explain"}), reply("second")]) as server:
        client = sdk(server)
        assert json.loads(ask(client)) == {"kind": "explain"}
        assert ask(client, temperature=0) == "second"
        bodies = server.chat_requests
    assert len(bodies) == 2
    assert bodies[0]["messages"] == [{"role": "user", "content": "two words"}]
    assert bodies[1]["temperature"] == 0
    assert server.remaining == 0


def test_usage_counts_words_unless_scripted() -> None:
    with ScriptedOpenAIServer([reply("one two three"), reply("x", prompt_tokens=7, completion_tokens=11)]) as server:
        client = sdk(server)
        first = client.chat.completions.create(model="scripted", messages=[{"role": "user", "content": "a b"}])
        second = client.chat.completions.create(model="scripted", messages=[{"role": "user", "content": "a b"}])
    assert first.usage is not None and second.usage is not None
    assert (first.usage.prompt_tokens, first.usage.completion_tokens) == (2, 3)
    assert (second.usage.prompt_tokens, second.usage.completion_tokens) == (7, 11)


def test_malformed_reply_is_sent_verbatim() -> None:
    with ScriptedOpenAIServer([malformed()]) as server:
        content = ask(sdk(server))
    with pytest.raises(json.JSONDecodeError):
        json.loads(content)


SCHEMA_FORMAT = {"type": "json_schema", "json_schema": {"name": "r", "strict": True, "schema": {"type": "object"}}}


def test_json_object_mode_refuses_json_schema_like_llama_cpp_python_without_consuming_the_script() -> None:
    with ScriptedOpenAIServer([reply("{}")], mode="json_object") as server:
        client = sdk(server)
        with pytest.raises(openai.InternalServerError) as info:  # its route handler makes every error a 500
            ask(client, response_format=SCHEMA_FORMAT)
        assert info.value.status_code == 500
        body = info.value.body
        assert isinstance(body, dict) and body["type"] == "internal_server_error"
        assert "Input should be 'text' or 'json_object'" in body["message"]
        assert "('body', 'response_format', 'type')" in body["message"]
        assert server.remaining == 1
        assert ask(client, response_format={"type": "json_object", "schema": {"type": "object"}}) == "{}"
        assert len(server.chat_requests) == 2


@pytest.mark.parametrize(
    ("refusal", "status", "words"),
    [
        ("vllm", 400, "JSON schema contains features not supported"),
        ("vllm_validation", 400, "Input should be 'text' or 'json_object'"),
        ("ollama", 500, "invalid JSON schema in format"),
        ("openai", 400, "'response_format' of type 'json_schema' is not supported"),
    ],
)
def test_each_servers_refusal_of_json_schema_is_reproduced(refusal: str, status: int, words: str) -> None:
    with ScriptedOpenAIServer([reply("{}")], mode="json_object", refusal=refusal) as server:  # type: ignore[arg-type]
        client = sdk(server)
        with pytest.raises(openai.APIStatusError) as info:
            ask(client, response_format=SCHEMA_FORMAT)
        assert info.value.status_code == status
        body = info.value.body
        assert isinstance(body, dict)
        assert words in str(body.get("message") or body["error"]["message"])
        assert REFUSALS[refusal][0] == status
        assert ask(client, response_format={"type": "json_object"}) == "{}"


def test_an_unknown_refusal_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="llama_cpp_python"):
        ScriptedOpenAIServer(refusal="tgi")  # type: ignore[arg-type]


def _post(server: ScriptedOpenAIServer, timeout_s: float = 5.0) -> tuple[int, str, bytes]:
    body = json.dumps({"model": "scripted", "messages": [{"role": "user", "content": "x"}]}).encode()
    request = urllib.request.Request(
        server.base_url + "/chat/completions", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return response.status, response.headers["Content-Type"], response.read()


def test_raw_faults_send_what_broken_servers_send() -> None:
    with ScriptedOpenAIServer([html(), cut_off(), empty_choices()]) as server:
        status, kind, page = _post(server)
        assert (status, kind) == (200, "text/html; charset=utf-8") and page.startswith(b"<!DOCTYPE html>")
        _, _, half = _post(server)
        with pytest.raises(json.JSONDecodeError):
            json.loads(half)
        _, _, empty = _post(server)
        assert json.loads(empty)["choices"] == []


def test_nested_and_oversized_replies_are_what_they_say() -> None:
    deep = nested(50)
    assert deep.content == "[" * 50 + "]" * 50
    assert len(oversized(1000).content) > 1000


def test_a_dripping_server_sends_every_byte_but_slowly() -> None:
    with ScriptedOpenAIServer([drip("{}", interval_s=0.001)]) as server:
        _, _, body = _post(server)
    assert json.loads(body)["choices"][0]["message"]["content"] == "{}"


def test_a_hanging_server_never_answers() -> None:
    with ScriptedOpenAIServer([hang()]) as server, pytest.raises(OSError):  # a socket timeout is an OSError
        _post(server, timeout_s=0.3)


def test_plain_mode_rejects_any_response_format_but_answers_without_one() -> None:
    with ScriptedOpenAIServer([reply("{}")], mode="plain") as server:
        client = sdk(server)
        with pytest.raises(openai.BadRequestError):
            ask(client, response_format={"type": "json_object"})
        assert ask(client) == "{}"


def test_faults_become_the_sdk_errors() -> None:
    script = [rate_limited(retry_after=3), server_error(503), http_error(400, "context length exceeded")]
    with ScriptedOpenAIServer(script) as server:
        client = sdk(server)
        with pytest.raises(openai.RateLimitError) as limited:
            ask(client)
        assert limited.value.response.headers["retry-after"] == "3"
        with pytest.raises(openai.InternalServerError) as failed:
            ask(client)
        assert failed.value.status_code == 503
        with pytest.raises(openai.BadRequestError, match="context length exceeded"):
            ask(client)


def test_an_exhausted_script_answers_500_naming_the_problem() -> None:
    with ScriptedOpenAIServer() as server, pytest.raises(openai.InternalServerError, match="script is exhausted"):
        ask(sdk(server))


def test_default_reply_answers_when_the_script_is_empty() -> None:
    with ScriptedOpenAIServer(default=reply("always")) as server:
        client = sdk(server)
        assert [ask(client), ask(client)] == ["always", "always"]


def test_timeout_fault_outlasts_the_client_timeout() -> None:
    with ScriptedOpenAIServer([timeout(10.0), reply("after")]) as server:
        client = sdk(server, timeout_s=0.2)
        with pytest.raises(openai.APITimeoutError):
            ask(client)
        assert ask(client) == "after"


def test_wrong_key_is_401_and_unknown_model_is_404() -> None:
    with ScriptedOpenAIServer([reply("ok")], api_key="right") as server:
        with pytest.raises(openai.AuthenticationError):
            ask(sdk(server, key="wrong"))
        with pytest.raises(openai.NotFoundError, match="does not exist"):
            ask(sdk(server, key="right"), model="no-such-model")
        assert ask(sdk(server, key="right")) == "ok"


def test_models_are_listed() -> None:
    with ScriptedOpenAIServer(models=("a", "b")) as server:
        listed = [m.id for m in sdk(server).models.list()]
    assert listed == ["a", "b"]


def test_embeddings_are_deterministic_unit_vectors() -> None:
    with ScriptedOpenAIServer(embedding_dim=8) as server:
        client = sdk(server)
        first = client.embeddings.create(model="e", input=["alpha", "beta"])
        again = client.embeddings.create(model="e", input="alpha")
    alpha, beta = first.data[0].embedding, first.data[1].embedding
    assert len(alpha) == 8
    assert again.data[0].embedding == pytest.approx(alpha)
    assert alpha != pytest.approx(beta)
    assert math.fsum(v * v for v in alpha) == pytest.approx(1.0)
    assert deterministic_embedding("alpha", 8) == pytest.approx(alpha)


def test_unknown_routes_are_404() -> None:
    with ScriptedOpenAIServer() as server:
        request = urllib.request.Request(server.base_url + "/nothing", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 404


def test_base_url_needs_a_running_server() -> None:
    server = ScriptedOpenAIServer()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url
    with server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.base_url.endswith("/v1")
