"""Agent-based model speed against Covasim 3.1.7, and the memory of a million agents.

Scenario: 100,000 agents x 180 days, households + schools + workplaces + community, schools closed
from day 30 for 60 days. Ours: `sim.run` of the `abm` model; peer: Covasim 3.1.7 with
pop_type='hybrid' (the same four settings) and `clip_edges` on the school layer. Both run on this
machine in the same invocation, each in its own process (Covasim needs its own numpy/numba, in the
virtualenv named by SIMQA_BENCH_PYTHON, default `.venv-bench/bin/python`:
`python -m venv .venv-bench && .venv-bench/bin/pip install covasim==3.1.7`); each process times
itself (population build + run, best of the repeats, after an untimed warm-up), in wall-clock
and in CPU time of the process (steadier on a shared machine; both are single-threaded).

Then 1,000,000 agents x 180 days of ours in a fresh process: peak resident memory must stay under
1.5 GB.

Run: .venv/bin/python benchmarks/bench_abm.py [--repeats 2] [--skip-peer]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
MIN_SPEEDUP = 5.0
MAX_MEMORY_MB = 1536.0


def measure(python: str, script: str, agents: int, days: int, repeats: int) -> dict:
    command = [python, str(HERE / script), "--agents", str(agents), "--days", str(days), "--repeats", str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_agent_day_us(run: dict, key: str) -> float:
    return run[key] / (run["agents"] * run["days"]) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-peer", action="store_true", help="only ours (no covasim virtualenv)")
    args = parser.parse_args()
    peer_python = os.environ.get("SIMQA_BENCH_PYTHON", str(ROOT / ".venv-bench" / "bin" / "python"))

    ours = measure(sys.executable, "abm_ours.py", 100_000, 180, args.repeats)
    peer = None if args.skip_peer else measure(peer_python, "abm_covasim.py", 100_000, 180, args.repeats)
    million = measure(sys.executable, "abm_ours.py", 1_000_000, 180, 1)

    print("scenario | ours | peer | ratio")
    print("---|---|---|---")
    name = "100k agents x 180 d, school closure"
    if peer is None:
        print(f"{name} | {ours['seconds']:.2f} s | (skipped) | -")
    else:
        for label, key in (("wall", "seconds"), ("CPU", "cpu_seconds")):
            ratio = peer[key] / ours[key]
            print(f"{name}, {label} | {ours[key]:.2f} s | {peer[key]:.2f} s ({peer['peer']}) | {ratio:.1f}x")
            print(
                f"{name}, {label} per agent-day | {per_agent_day_us(ours, key):.3f} us | "
                f"{per_agent_day_us(peer, key):.3f} us | {ratio:.1f}x"
            )
        print(f"{name}, attack rate | {ours['attack_rate']:.3f} | {peer['attack_rate']:.3f} | -")
    print(
        f"1M agents x 180 d, wall and peak memory | {million['seconds']:.2f} s, {million['max_rss_mb']:.0f} MB | - | "
        f"limit {MAX_MEMORY_MB:.0f} MB"
    )

    failures = []
    if peer is not None and peer["seconds"] / ours["seconds"] < MIN_SPEEDUP:
        failures.append(f"wall-clock speed-up {peer['seconds'] / ours['seconds']:.1f}x is under {MIN_SPEEDUP:g}x")
    if million["max_rss_mb"] > MAX_MEMORY_MB:
        failures.append(f"1M agents peak memory {million['max_rss_mb']:.0f} MB is over {MAX_MEMORY_MB:.0f} MB")
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
