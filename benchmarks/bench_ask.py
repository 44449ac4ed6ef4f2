"""End-to-end latency of `simqa ask` with the offline translator (issue: under 1 s warm, under 4 s cold).

warm: one Assistant in this process answers the same seir question repeatedly (retrieval +
translation + run + composition; the run cache is off so the model really runs each time).
cold: `simqa ask` as a fresh process, the index already built (what a user sees on the second
use), best and median of several starts. Peer: the same cold start of `python -c "import chromadb"`,
the cost the retrieval fast path avoids.
cold abm: in a fresh process, `import sim` and the first abm run (20,000 agents, one replicate)
against a second run in the same process: what a cold abm answer pays for imports and set-up,
whether `scipy.stats` (most of a second to import) is loaded on that path, and the same start
with `import scipy.stats` in front (what the path cost when it imported it).

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


ABM_COLD = """
import sys, time
start = time.perf_counter()
{prelude}
import sim
scenario = {"model": "abm", "params": {"population": 20000, "replicates": 1}}
sim.run(scenario)
first = time.perf_counter() - start
start = time.perf_counter()
sim.run({**scenario, "params": {**scenario["params"], "seed": 1}})
print(first, time.perf_counter() - start, "scipy.stats" in sys.modules)
"""


def abm_cold(repeats: int, prelude: str = "") -> tuple[list[float], list[float], bool]:
    """Fresh processes: import + first abm run, a second run, and whether scipy.stats was loaded;
    `prelude` runs first (the peer adds `import scipy.stats`, what the abm path used to import)."""
    firsts, warms, stats_loaded = [], [], False
    code = ABM_COLD.replace("{prelude}", prelude)
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        first, warm, loaded = out.stdout.split()
        firsts.append(float(first))
        warms.append(float(warm))
        stats_loaded = stats_loaded or loaded == "True"
    return firsts, warms, stats_loaded


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
    firsts, warms, stats_loaded = abm_cold(args.repeats)
    with_stats, _, _ = abm_cold(args.repeats, prelude="import scipy.stats")
    f, r, s = statistics.median(firsts), statistics.median(warms), statistics.median(with_stats)
    print(f"{'fresh process: import + first abm run (20k)':<44} {f:>9.3f}s {r:>9.3f}s {f / r:>6.2f}x")
    print(f"{'  (peer: a second abm run, same process)':<44} scipy.stats imported: {stats_loaded}")
    print(f"{'same, vs with import scipy.stats first':<44} {f:>9.3f}s {s:>9.3f}s {f / s:>6.2f}x")


if __name__ == "__main__":
    main()
