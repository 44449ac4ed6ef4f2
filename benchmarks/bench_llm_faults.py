"""What a failing LLM endpoint costs one answer, side by side with the offline answer (issue: a
refused connection at most the offline time + 1.5 s; a hanging or dripping server at most
SIMQA_LLM_TIMEOUT + 3 s).

Each row is one `Assistant(translator="auto").ask` of the same question, a fresh Assistant each
time (so no cool-down carries over), the run cache off; "offline" is the same question with
translator `offline`. Faults come from the scripted server in `simqa.testing` (a real HTTP server
on loopback) and a port nothing listens on.

Run: .venv/bin/python benchmarks/bench_llm_faults.py [--timeout 5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time

QUESTION = "What is the peak with R0 3 in a town of 10k?"


def timed(translator: str, repeats: int) -> tuple[float, str]:
    from simqa import Assistant

    best, who = float("inf"), ""
    for _ in range(repeats):
        assistant = Assistant(translator=translator, cache=False, store=False)  # type: ignore[arg-type]
        start = time.perf_counter()
        answer = assistant.ask(QUESTION)
        best = min(best, time.perf_counter() - start)
        who = answer.translator
    return best, who


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("SIMQA_HOME", tempfile.mkdtemp(prefix="simqa-bench-faults-"))
    os.environ.update(
        {"OPENAI_API_KEY": "bench", "SIMQA_LLM_MODEL": "scripted", "SIMQA_LLM_TIMEOUT": f"{args.timeout:g}"}
    )

    from simqa.testing import ScriptedOpenAIServer, drip, hang, rate_limited

    timed("offline", 1)  # warm-up: imports, index
    offline, _ = timed("offline", args.repeats)
    rows = [("offline (no LLM)", offline, "offline", "-")]

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    os.environ["SIMQA_LLM_BASE_URL"] = f"http://127.0.0.1:{port}/v1"
    refused, who = timed("auto", args.repeats)
    rows.append(("refused connection", refused, who, f"offline + 1.5 = {offline + 1.5:.2f} s"))

    for name, fault in (
        ("hanging server", hang()),
        ("server dripping 1 byte/s", drip("{}", interval_s=1.0)),
        ("429, Retry-After 3600", rate_limited(retry_after=3600)),
    ):
        with ScriptedOpenAIServer(default=fault) as server:
            os.environ["SIMQA_LLM_BASE_URL"] = server.base_url
            seconds, who = timed("auto", 1)
        bound = (
            f"timeout + 3 = {args.timeout + 3:.2f} s" if "429" not in name else f"offline + 1.5 = {offline + 1.5:.2f} s"
        )
        rows.append((name, seconds, who, bound))

    print(f"{'endpoint':<28} {'answer':>9} {'translator':>11}  bound")
    for name, seconds, who, bound in rows:
        print(f"{name:<28} {seconds:>8.2f}s {who:>11}  {bound}")


if __name__ == "__main__":
    main()
