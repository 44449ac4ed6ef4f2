"""`simqa run`: scenario JSON in, results JSON out; bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import sim
from simqa.cli import main


def _simqa(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simqa.cli", *args], input=stdin, capture_output=True, text=True, env=os.environ.copy()
    )


def test_run_scenario_file_matches_direct_run(tmp_path, capsys):
    scenario = {"model": "seir", "params": {"r0": 1.8, "population": 20000}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    assert main(["run", str(path), "--no-series"]) == 0
    out = json.loads(capsys.readouterr().out)
    direct = sim.run(scenario)
    assert out["results"][0]["metrics"] == direct.metrics
    assert out["results"][0]["run_id"] == direct.run_id
    assert "series" not in out["results"][0]


def test_run_request_from_stdin_compare():
    request = {
        "kind": "compare",
        "scenarios": [
            {"label": "baseline", "model": "seir", "params": {"r0": 2}},
            {
                "label": "distancing",
                "model": "seir",
                "params": {"r0": 2},
                "interventions": [{"type": "contact_reduction", "effectiveness": 0.3}],
            },
        ],
    }
    proc = _simqa("run", "-", "--no-series", stdin=json.dumps(request))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [r["label"] for r in out["results"]] == ["baseline", "distancing"]
    ar = next(d for d in out["differences"] if d["metric"] == "attack_rate")
    assert ar["difference"] < 0


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ('{"model": "sier"}', "unknown model 'sier'"),
        ('{"model": "seir", "params": {"R0": 3}}', "unknown parameter 'params.R0'"),
        ('{"model": "seir", "params": {"r0": -2}}', "params.r0 = -2"),
        ('{"model": "seir", "params": {"population": 5e10}}', "<= 10000000000"),
        ('{"model": "seir", "params": {"r0": 2,}', "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"kind": "explain"}', "runs nothing"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(payload, expected, tmp_path):
    home = tmp_path / "home"
    env_home = os.environ["SIMQA_HOME"]
    os.environ["SIMQA_HOME"] = str(home)
    try:
        proc = _simqa("run", "-", stdin=payload)
    finally:
        os.environ["SIMQA_HOME"] = env_home
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("simqa: error:"), proc.stderr
    assert expected in lines[0]
    assert "Traceback" not in proc.stderr
    assert not home.exists()


def test_missing_file():
    proc = _simqa("run", "does-not-exist.json")
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_unreadable_inputs_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe{")
    for target, expected in ((str(bad), "not UTF-8 text"), (str(tmp_path), "is a folder")):
        proc = _simqa("run", target)
        assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr


def test_unwritable_home_is_a_service_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    env_home = os.environ["SIMQA_HOME"]
    os.environ["SIMQA_HOME"] = str(blocker / "home")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "simqa.cli", "ask", "--translator", "offline", "What if R0 is 3?"],
            capture_output=True,
            text=True,
            env=os.environ.copy(),
        )
    finally:
        os.environ["SIMQA_HOME"] = env_home
    assert proc.returncode == 3
    assert "set SIMQA_HOME to a writable folder" in proc.stderr and "Traceback" not in proc.stderr
