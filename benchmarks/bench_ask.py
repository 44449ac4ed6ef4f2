"""End-to-end latency of `simqa ask` with the offline translator (issue: under 1 s warm, under 4 s cold).

warm: one Assistant in this process answers the same seir question repeatedly (retrieval +
translation + run + composition; the run cache is off so the model really runs each time).
cold: `simqa ask` as a fresh process, the index already built (what a user sees on the second
use), best and median of several starts. Peer: the same cold start of `python -c "import chromadb"`,
the cost the retrieval fast path avoids.

Run: .venv/bin/python benchmarks/bench_ask.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUESTION = "What if R0 is 3 in a town of 50,000?"
SIMQA = str(Path(sys.executable).with_name("simqa"))


def cold(env: dict[str, str], command: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="simqa-bench-")
    env = {**os.environ, "SIMQA_HOME": home}
    os.environ["SIMQA_HOME"] = home
    subprocess.run([SIMQA, "index"], env=env, check=True, capture_output=True)

    from simqa import Assistant

    assistant = Assistant(translator="offline", cache=False, store=False)
    assistant.ask(QUESTION)  # warm-up: imports, index load
    warm, stages = [], []
    for _ in range(args.repeats * 3):
        start = time.perf_counter()
        answer = assistant.ask(QUESTION)
        warm.append(time.perf_counter() - start)
        stages.append(answer.timings_ms)

    ask_cmd = [SIMQA, "ask", "--json", "--translator", "offline", "--no-cache", QUESTION]
    cold_ask = cold(env, ask_cmd, args.repeats)
    cold_chroma = cold(env, [sys.executable, "-c", "import chromadb"], max(3, args.repeats // 2))

    print(f"{'scenario':<44} {'ours':>10} {'peer':>10} {'ratio':>7}")
    w = statistics.median(warm)
    print(f"{'warm ask, seir (median), target < 1 s':<44} {w:>9.3f}s {'':>10} {'':>7}")
    for stage in ("retrieve", "translate", "simulate", "compose"):
        ms = statistics.median(s[stage] for s in stages)
        print(f"{'  stage ' + stage + ' (median)':<44} {ms / 1000:>9.3f}s")
    c, p = statistics.median(cold_ask), statistics.median(cold_chroma)
    print(f"{'cold simqa ask (median) vs import chromadb':<44} {c:>9.3f}s {p:>9.3f}s {c / p:>6.2f}x")
    print(f"{'cold simqa ask (best), target < 4 s':<44} {min(cold_ask):>9.3f}s")


if __name__ == "__main__":
    main()
