"""The LLM client against the scripted server: modes and their memory, retries, errors, usage, cache."""

from __future__ import annotations

import json
import random
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from simqa.errors import LLMError
from simqa.llm_client import (
    CONNECT_RETRY_WAIT_S,
    ENDPOINTS_FILE,
    MAX_REPLY_CHARS,
    Budget,
    EndpointError,
    LLMClient,
    LLMConfig,
    _retry_after,
    configured,
    parse_json_object,
    strict_schema_problems,
)
from simqa.testing import (
    REFUSALS,
    Fault,
    Raw,
    Reply,
    ScriptedOpenAIServer,
    cut_off,
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

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "integer"}, "note": {"type": ["string", "null"]}},
    "required": ["answer", "note"],
    "additionalProperties": False,
}
MESSAGES = [{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": "six times seven"}]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMQA_HOME", str(tmp_path / "home"))


def make_client(
    server: ScriptedOpenAIServer, tmp_path: Path, *, sleeps: list[float] | None = None, **overrides: Any
) -> LLMClient:
    settings: dict[str, Any] = {
        "model": "scripted",
        "base_url": server.base_url,
        "api_key": "test",
        "timeout_s": 0.5,
        "max_retries": 2,
        "backoff_base_s": 0.001,
        "backoff_max_s": 0.004,
    }
    settings.update(overrides)
    record = sleeps if sleeps is not None else []
    return LLMClient(LLMConfig(**settings), home=tmp_path / "home", sleep=record.append, rng=random.Random(0))


# ---------------------------------------------------------------------------- configuration


def test_config_from_env_reads_the_three_variables() -> None:
    env = {
        "OPENAI_API_KEY": "sk-x",
        "SIMQA_LLM_BASE_URL": "http://localhost:8000/v1/",
        "SIMQA_LLM_MODEL": "llama",
        "SIMQA_LLM_TIMEOUT": "12.5",
        "SIMQA_LLM_MAX_RETRIES": "5",
    }
    config = LLMConfig.from_env(env)
    assert (config.api_key, config.base_url, config.model) == ("sk-x", "http://localhost:8000/v1", "llama")
    assert (config.timeout_s, config.max_retries) == (12.5, 5)
    assert config.configured and configured(env)
    assert config.endpoint == "http://localhost:8000/v1|llama"


def test_nothing_set_is_not_configured_and_a_key_or_a_base_url_is() -> None:
    assert not configured({})
    assert not LLMConfig.from_env({"SIMQA_LLM_MODEL": "m"}).configured
    assert configured({"OPENAI_API_KEY": "k"})
    assert configured({"SIMQA_LLM_BASE_URL": "http://127.0.0.1:8080/v1"})
    assert LLMConfig.from_env({"OPENAI_API_KEY": "k"}).model == "gpt-4o-mini"


def test_a_bad_timeout_names_the_variable() -> None:
    with pytest.raises(LLMError, match="SIMQA_LLM_TIMEOUT"):
        LLMConfig.from_env({"SIMQA_LLM_TIMEOUT": "soon"})


# ---------------------------------------------------------------------------- strict schemas


def test_a_strict_schema_has_no_problems() -> None:
    assert strict_schema_problems(SCHEMA) == []


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"anyOf": [SCHEMA, {"type": "null"}]}, "root must be an object"),
        ({**SCHEMA, "additionalProperties": True}, "additionalProperties must be false"),
        ({**SCHEMA, "required": ["answer"]}, "every property must be required"),
        (
            {**SCHEMA, "properties": {**SCHEMA["properties"], "answer": {"type": "integer", "minimum": 0}}},
            "'minimum' is not supported",
        ),
        (
            {**SCHEMA, "properties": {**SCHEMA["properties"], "answer": {"type": "integer", "default": 1}}},
            "'default' is not supported",
        ),
        (
            {**SCHEMA, "properties": {**SCHEMA["properties"], "answer": {"oneOf": [{"type": "integer"}]}}},
            "'oneOf' is not supported",
        ),
        (
            {**SCHEMA, "properties": {**SCHEMA["properties"], "answer": {"$ref": "#/$defs/missing"}}},
            "does not point into $defs",
        ),
        (
            {**SCHEMA, "properties": {**SCHEMA["properties"], "answer": {"type": "array"}}},
            "an array needs items",
        ),
        (
            {**SCHEMA, "properties": {**SCHEMA["properties"], "answer": {"type": "string", "format": "date"}}},
            "'format' is not supported",
        ),
    ],
)
def test_strict_schema_problems_are_found(schema: dict[str, Any], problem: str) -> None:
    problems = strict_schema_problems(schema)
    assert any(problem in p for p in problems), problems


def test_nesting_deeper_than_ten_levels_is_a_problem() -> None:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(11):
        node = {"type": "object", "properties": {"x": node}, "required": ["x"], "additionalProperties": False}
    assert any("deeper than 10" in p for p in strict_schema_problems(node))


# ---------------------------------------------------------------------------- structured-output modes


def test_json_schema_mode_is_tried_first_and_strict() -> None:
    with ScriptedOpenAIServer([reply({"answer": 42, "note": None})]) as server:
        client = make_client(server, Path("unused"))
        result = client.chat(MESSAGES, schema=SCHEMA, schema_name="answer")
        sent = server.chat_requests
    assert json.loads(result.content) == {"answer": 42, "note": None}
    assert result.mode == "json_schema"
    assert sent[0]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "strict": True, "schema": SCHEMA},
    }
    assert sent[0]["messages"] == MESSAGES
    assert sent[0]["temperature"] == 0


def test_falls_back_to_json_object_with_schema_and_remembers_it(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(
        [reply({"answer": 42, "note": None}), reply({"answer": 1, "note": None})], mode="json_object"
    ) as server:
        first = make_client(server, tmp_path).chat(MESSAGES, schema=SCHEMA)
        sent = server.chat_requests
        assert [r["response_format"]["type"] for r in sent] == ["json_schema", "json_object"]
        assert sent[1]["response_format"]["schema"] == SCHEMA
        assert "JSON" in sent[1]["messages"][-1]["content"]
        assert first.mode == "json_object"
        # a new client for the same endpoint starts in the remembered mode: one request, no probe
        second = make_client(server, tmp_path).chat(MESSAGES, schema=SCHEMA)
        assert len(server.chat_requests) == 3
        assert server.chat_requests[2]["response_format"]["type"] == "json_object"
        assert second.mode == "json_object"
        endpoint = f"{server.base_url}|scripted"
    remembered = json.loads((tmp_path / "home" / ENDPOINTS_FILE).read_text())
    assert remembered == {endpoint: "json_object"}


def test_the_memory_is_read_from_disk_by_a_fresh_process(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([reply("{}")], mode="json_object") as server:
        home = tmp_path / "elsewhere"
        home.mkdir()
        (home / ENDPOINTS_FILE).write_text(json.dumps({f"{server.base_url}|scripted": "json_object"}))
        client = LLMClient(LLMConfig(model="scripted", base_url=server.base_url, api_key="t", timeout_s=0.5), home=home)
        assert client.mode == "json_object"
        client.chat(MESSAGES, schema=SCHEMA)
        assert [r["response_format"]["type"] for r in server.chat_requests] == ["json_object"]


def test_falls_back_to_the_schema_in_the_prompt_when_nothing_structured_is_accepted(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([reply('```json\n{"answer": 42, "note": null}\n```')], mode="plain") as server:
        result = make_client(server, tmp_path).chat(MESSAGES, schema=SCHEMA)
        sent = server.chat_requests
    assert len(sent) == 3
    assert "response_format" not in sent[2]
    assert json.dumps(SCHEMA, separators=(",", ":")) in sent[2]["messages"][-1]["content"]
    assert result.mode == "plain"
    assert parse_json_object(result.content) == {"answer": 42, "note": None}


def test_an_unrelated_400_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([http_error(400, "maximum context length is 4096 tokens")]) as server:
        with pytest.raises(LLMError, match="context length"):
            make_client(server, tmp_path).chat(MESSAGES, schema=SCHEMA)
        assert len(server.chat_requests) == 1


def test_without_a_schema_no_response_format_is_sent(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([reply("Plain text answer.")]) as server:
        result = make_client(server, tmp_path).chat(MESSAGES)
        assert "response_format" not in server.chat_requests[0]
    assert result.content == "Plain text answer."


# ---------------------------------------------------------------------------- retries and errors


def test_429_is_retried_after_the_retry_after_wait(tmp_path: Path) -> None:
    sleeps: list[float] = []
    with ScriptedOpenAIServer([rate_limited(retry_after=0.25), reply("{}")]) as server:
        result = make_client(server, tmp_path, sleeps=sleeps).chat(MESSAGES, schema=SCHEMA)
        assert len(server.chat_requests) == 2
    assert sleeps == [0.25]
    assert result.attempts == 2


def test_a_retry_after_beyond_the_budget_gives_up_at_once_saying_so(tmp_path: Path) -> None:
    sleeps: list[float] = []
    with ScriptedOpenAIServer([rate_limited(retry_after=3600), reply("{}")]) as server:
        with pytest.raises(EndpointError, match=r"asks to wait 3600 s \(Retry-After\).*answered without it"):
            make_client(server, tmp_path, sleeps=sleeps, max_wait_s=30.0).chat(MESSAGES)
        assert len(server.chat_requests) == 1
    assert sleeps == []


def test_5xx_is_retried_with_growing_jittered_backoff(tmp_path: Path) -> None:
    sleeps: list[float] = []
    script: list[Fault | Reply] = [server_error(500), server_error(502), reply("{}")]
    with ScriptedOpenAIServer(script) as server:
        client = make_client(server, tmp_path, sleeps=sleeps, backoff_base_s=1.0, backoff_max_s=100.0, budget_s=60.0)
        client.chat(MESSAGES)
        assert len(server.chat_requests) == 3
    # attempt n waits between half and all of base * 2**n
    assert 0.5 <= sleeps[0] <= 1.0
    assert 1.0 <= sleeps[1] <= 2.0


def test_a_timeout_is_not_retried_and_names_the_variable(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([timeout(10.0), reply('{"answer": 1, "note": null}')]) as server:
        with pytest.raises(EndpointError, match=r"no complete answer within 0.2 s.*SIMQA_LLM_TIMEOUT"):
            make_client(server, tmp_path, timeout_s=0.2).chat(MESSAGES, schema=SCHEMA)
        assert len(server.chat_requests) == 1


def test_retries_are_bounded_and_the_error_says_what_to_check(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(default=server_error(503)) as server:
        with pytest.raises(LLMError, match=r"failed 3 times .*HTTP 503.*SIMQA_LLM_BASE_URL"):
            make_client(server, tmp_path, max_retries=2).chat(MESSAGES)
        assert len(server.chat_requests) == 3


def test_an_unreachable_endpoint_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on once this socket closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = LLMConfig(
        model="m",
        base_url=f"http://127.0.0.1:{port}/v1",
        api_key="k",
        timeout_s=0.5,
        max_retries=1,
        backoff_base_s=0.001,
    )
    client = LLMClient(config, home=tmp_path, sleep=lambda s: None)
    with pytest.raises(LLMError) as info:
        client.chat(MESSAGES)
    message = str(info.value)
    assert "\n" not in message
    assert "cannot connect" in message and "SIMQA_LLM_BASE_URL" in message


def test_a_refused_connection_is_retried_once_and_no_more(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps: list[float] = []
    config = LLMConfig(model="m", base_url=f"http://127.0.0.1:{port}/v1", api_key="k", timeout_s=5, max_retries=5)
    client = LLMClient(config, home=tmp_path, sleep=sleeps.append)
    with pytest.raises(EndpointError, match="failed twice"):
        client.chat(MESSAGES, schema=SCHEMA)
    assert sleeps == [CONNECT_RETRY_WAIT_S]  # one retry, whatever SIMQA_LLM_MAX_RETRIES says


def test_a_bad_key_names_openai_api_key_and_is_not_retried(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([reply("{}")], api_key="right") as server:
        with pytest.raises(LLMError, match=r"401.*OPENAI_API_KEY"):
            make_client(server, tmp_path, api_key="wrong").chat(MESSAGES)
        assert len(server.chat_requests) == 1


def test_an_unknown_model_names_simqa_llm_model(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([reply("{}")]) as server:
        with pytest.raises(LLMError, match=r"'gpt-9'.*404.*SIMQA_LLM_MODEL"):
            make_client(server, tmp_path, model="gpt-9").chat(MESSAGES)
        assert len(server.chat_requests) == 1


# ---------------------------------------------------------------------------- usage and cache


def test_usage_is_recorded_per_reply_and_in_total(tmp_path: Path) -> None:
    script = [reply("{}", prompt_tokens=100, completion_tokens=5), reply("{}", prompt_tokens=120, completion_tokens=7)]
    with ScriptedOpenAIServer(script) as server:
        client = make_client(server, tmp_path)
        first = client.chat(MESSAGES)
        client.chat([*MESSAGES, {"role": "user", "content": "again"}])
    assert first.usage == {"prompt_tokens": 100, "completion_tokens": 5}
    assert client.usage == {"prompt_tokens": 220, "completion_tokens": 12}


def test_the_cache_answers_a_repeated_prompt_without_a_request(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with ScriptedOpenAIServer([reply('{"answer": 42, "note": null}', prompt_tokens=50, completion_tokens=9)]) as server:
        first = LLMClient(make_client(server, tmp_path).config, cache_dir=cache, home=tmp_path)
        original = first.chat(MESSAGES, schema=SCHEMA)
        rerun = LLMClient(make_client(server, tmp_path).config, cache_dir=cache, home=tmp_path)
        again = rerun.chat(MESSAGES, schema=SCHEMA)
        assert len(server.chat_requests) == 1
        assert again.content == original.content
        assert again.cached and not original.cached
        assert again.usage == {"prompt_tokens": 0, "completion_tokens": 0}
        assert rerun.usage == {"prompt_tokens": 0, "completion_tokens": 0}
        # another prompt, or another schema, is another key: it goes to the server (whose script is empty)
        with pytest.raises(LLMError):
            rerun.chat([*MESSAGES, {"role": "user", "content": "and eight?"}], schema=SCHEMA)
        with pytest.raises(LLMError):
            rerun.chat(MESSAGES, schema={**SCHEMA, "description": "changed"})


# ---------------------------------------------------------------------------- parsing helpers


def test_parse_json_object_accepts_fences_and_surrounding_prose() -> None:
    assert parse_json_object('{"a": 1}') == {"a": 1}
    assert parse_json_object('```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_object('Here it is: {"a": {"b": 2}} hope that helps') == {"a": {"b": 2}}


@pytest.mark.parametrize(
    ("text", "message"), [("[1, 2]", "one JSON object"), ('{"a": ', "not valid JSON"), ("", "not valid JSON")]
)
def test_parse_json_object_rejects_what_is_not_one_object(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_json_object(text)


def test_malformed_reply_content_is_returned_for_the_caller_to_judge(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([malformed()]) as server:
        content = make_client(server, tmp_path).chat(MESSAGES, schema=SCHEMA).content
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_json_object(content)


def test_retry_after_reads_seconds_milliseconds_and_dates() -> None:
    assert _retry_after({"retry-after": "2"}) == 2.0
    assert _retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    waited = _retry_after({"retry-after": later})
    assert waited is not None and 20 < waited <= 30
    assert _retry_after({}) is None


# ---------------------------------------------------------------------------- refusals of structured output


@pytest.mark.parametrize("server_name", sorted(REFUSALS))
def test_each_servers_refusal_of_json_schema_steps_down_to_json_object(tmp_path: Path, server_name: str) -> None:
    with ScriptedOpenAIServer(
        [reply({"answer": 42, "note": None})],
        mode="json_object",
        refusal=server_name,  # type: ignore[arg-type]
    ) as server:
        result = make_client(server, tmp_path).chat(MESSAGES, schema=SCHEMA)
        sent = [r.get("response_format", {}).get("type") for r in server.chat_requests]
        endpoint = f"{server.base_url}|scripted"
    assert sent == ["json_schema", "json_object"]  # a refusal is not retried, whatever its status
    assert result.mode == "json_object"
    assert json.loads((tmp_path / "home" / ENDPOINTS_FILE).read_text()) == {endpoint: "json_object"}


def test_a_5xx_that_names_no_format_is_retried_not_a_step_down(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([server_error(500, "CUDA out of memory"), reply("{}")]) as server:
        result = make_client(server, tmp_path).chat(MESSAGES, schema=SCHEMA)
        sent = [r["response_format"]["type"] for r in server.chat_requests]
    assert sent == ["json_schema", "json_schema"]
    assert result.mode == "json_schema"


def test_a_validation_error_that_names_no_format_still_steps_down(tmp_path: Path) -> None:
    validation = "1 validation error: {'type': 'extra_forbidden', 'loc': ('body', 'strict'), 'msg': 'Extra inputs'}"
    with ScriptedOpenAIServer([http_error(422, validation), reply("{}")]) as server:
        result = make_client(server, tmp_path).chat(MESSAGES, schema=SCHEMA)
    assert result.mode == "json_object"


def test_an_endpoint_that_refuses_every_mode_is_one_line(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(default=http_error(400, "response_format is not allowed")) as server:
        with pytest.raises(EndpointError, match=r"rejected the request \(HTTP 400") as info:
            make_client(server, tmp_path).chat(MESSAGES, schema=SCHEMA)
        sent = [r.get("response_format", {}).get("type") for r in server.chat_requests]
    assert sent == ["json_schema", "json_object", None]  # plain sends no response_format: its 400 is final
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------- deadlines


def test_a_hanging_server_costs_one_timeout(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([hang(), reply("{}")]) as server:
        with pytest.raises(EndpointError, match=r"no complete answer within 0\.3 s"):
            make_client(server, tmp_path, timeout_s=0.3).chat(MESSAGES, schema=SCHEMA)
        assert len(server.chat_requests) == 1


def test_a_dripping_server_is_cut_off_at_the_timeout_not_per_read(tmp_path: Path) -> None:
    # Each byte arrives well within the timeout; the reply as a whole would take minutes.
    with (
        ScriptedOpenAIServer([drip("{}", interval_s=0.05)]) as server,
        pytest.raises(EndpointError, match=r"no complete answer within 0\.5 s"),
    ):
        make_client(server, tmp_path, timeout_s=0.5).chat(MESSAGES)


def test_once_the_endpoint_failed_the_same_budget_sends_nothing(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([timeout(5.0), reply("{}")]) as server:
        client = make_client(server, tmp_path, timeout_s=0.2, cooldown_s=0.0)
        budget = client.budget()
        with pytest.raises(EndpointError):
            client.chat(MESSAGES, budget=budget)
        assert budget.failure is not None
        with pytest.raises(EndpointError, match="not called again for this answer"):
            client.chat(MESSAGES, budget=budget)
        assert len(server.chat_requests) == 1
        assert client.chat(MESSAGES).content == "{}"  # a new answer may call it again


def test_later_answers_leave_a_failed_endpoint_alone_for_the_cool_down(tmp_path: Path) -> None:
    now = [1000.0]
    with ScriptedOpenAIServer([server_error(503), reply("{}")]) as server:
        config = make_client(server, tmp_path).config
        client = LLMClient(
            LLMConfig(**{**config.__dict__, "max_retries": 0, "cooldown_s": 30.0}),
            home=tmp_path,
            sleep=lambda s: None,
            clock=lambda: now[0],
        )
        with pytest.raises(EndpointError):
            client.chat(MESSAGES)
        now[0] += 10
        assert client.unavailable() is not None
        with pytest.raises(EndpointError, match=r"failed 10 s ago .*SIMQA_LLM_COOLDOWN"):
            client.chat(MESSAGES)
        assert len(server.chat_requests) == 1
        now[0] += 25
        assert client.unavailable() is None
        assert client.chat(MESSAGES).content == "{}"


def test_the_budget_bounds_the_retries_of_one_answer(tmp_path: Path) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with ScriptedOpenAIServer(default=server_error(503)) as server:
        config = LLMConfig(
            model="scripted", base_url=server.base_url, api_key="k", timeout_s=5, max_retries=100, budget_s=10
        )
        client = LLMClient(config, home=tmp_path, sleep=sleep, clock=lambda: now[0], rng=random.Random(0))
        with pytest.raises(EndpointError, match="budget"):
            client.chat(MESSAGES)
        # backoff 0.25-0.5, 0.5-1, 1-2, 2-4, 4-8: about five retries fit in ten seconds, not a hundred
        assert 3 <= len(server.chat_requests) <= 7
    assert now[0] <= 10


def test_the_budget_counts_only_the_time_spent_in_the_llm() -> None:
    now = [5.0]
    budget = Budget(3.0, clock=lambda: now[0])
    now[0] += 100  # retrieval, a simulation: not LLM time
    with budget.counting():
        now[0] += 1
        assert budget.remaining() == pytest.approx(2.0)
    now[0] += 100
    assert budget.remaining() == pytest.approx(2.0)


def test_the_budget_and_cool_down_come_from_the_environment() -> None:
    config = LLMConfig.from_env({"SIMQA_LLM_TIMEOUT": "7", "SIMQA_LLM_COOLDOWN": "0"})
    assert (config.answer_budget_s, config.cooldown_s) == (14.0, 0.0)
    assert LLMConfig.from_env({"SIMQA_LLM_BUDGET": "20"}).answer_budget_s == 20.0
    with pytest.raises(LLMError, match="SIMQA_LLM_BUDGET must be a number of seconds"):
        LLMConfig.from_env({"SIMQA_LLM_BUDGET": "-1"})


# ---------------------------------------------------------------------------- replies that are no completion


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (html(), "not a chat completion"),
        (cut_off(), "not a chat completion"),
        (empty_choices(), "without any choices"),
        (Raw(body=("[" * 100_000 + "]" * 100_000).encode()), "not a chat completion"),
        (oversized(2_000_000), "over 1,000,000 bytes"),
        (oversized(MAX_REPLY_CHARS + 10), f"over the limit of {MAX_REPLY_CHARS:,}"),
        (Raw(body=b'{"choices": "none"}'), "wrong shape"),
    ],
    ids=["html", "cut-off", "no-choices", "nested-body", "oversized-body", "oversized-content", "wrong-shape"],
)
def test_every_reply_that_is_no_completion_is_one_endpoint_error(tmp_path: Path, fault: Any, words: str) -> None:
    with ScriptedOpenAIServer([fault]) as server:
        budget = make_client(server, tmp_path).budget()
        with pytest.raises(EndpointError, match=words) as info:
            make_client(server, tmp_path).chat(MESSAGES, schema=SCHEMA, budget=budget)
    assert "\n" not in str(info.value)
    assert budget.failure is not None  # the same answer does not call it again


def test_content_nested_too_deeply_is_a_value_error_not_a_recursion_error(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([nested(10_000), nested(100_000)]) as server:
        content = make_client(server, tmp_path).chat(MESSAGES, schema=SCHEMA).content
        with pytest.raises(EndpointError, match="over the limit"):  # 100,000 deep is also 200,000 characters
            make_client(server, tmp_path).chat(MESSAGES, schema=SCHEMA)
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_json_object(content)
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_json_object('{"a": ' + content + "}")
