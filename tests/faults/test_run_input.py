"""`simqa run` on hostile files: every one is refused in one line (exit 2) naming what is wrong and
what is allowed, nothing runs, and nothing a file holds is echoed whole."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from simqa.json_input import MAX_DEPTH, MAX_INPUT_BYTES, MAX_NUMBER_DIGITS

SEIR = {"model": "seir", "params": {"population": 20000, "r0": 2.0}}


def _calibrate(target: str) -> str:
    return (
        '{"kind": "calibrate", "scenarios": [{"model": "seir", "params": {"population": 20000}}], '
        f'"calibrate": {{"param": "r0", "metric": "attack_rate", "target": {target}}}}}'
    )


@pytest.mark.parametrize(
    ("payload", "fragments"),
    [
        # 5000 digits: Python's int conversion limit used to escape as a ValueError.
        ('{"model": "seir", "params": {"population": ' + "7" * 5000 + "}}", ["5,000 digits", f"{MAX_NUMBER_DIGITS}"]),
        ('{"model": "seir", "params": {"r0": 2.' + "5" * 5000 + "}}", ["digits"]),
        # 100,000 nested brackets used to raise RecursionError.
        ("[" * 100_000 + "]" * 100_000, ["nested too deeply", str(MAX_DEPTH)]),
        ('{"model": "seir", "params": {"r0": ' + "[" * 40 + "]" * 40 + "}}", ["nested too deeply"]),
        # Non-finite numbers: Infinity used to "meet" a target, NaN printed invalid JSON.
        (_calibrate("Infinity"), ["Infinity", "finite"]),
        (_calibrate("-Infinity"), ["-Infinity", "finite"]),
        (_calibrate("NaN"), ["NaN", "finite"]),
        ('{"model": "seir", "params": {"r0": 1e400}}', ["1e400", "finite"]),
        # Strings are not numbers, numbers and strings are not booleans.
        ('{"model": "seir", "params": {"r0": "2.5"}}', ["params.r0 must be a number", "'2.5'", "without quotes"]),
        ('{"model": "seir", "params": {"population": "1e5"}}', ["params.population must be a whole number"]),
        ('{"model": "abm", "params": {"well_mixed": 1}}', ["params.well_mixed must be true or false", "number 1"]),
        ('{"model": "abm", "params": {"well_mixed": "yes"}}', ["params.well_mixed must be true or false", "'yes'"]),
        ('{"model": "seir", "params": {"r0": true}}', ["r0 must be a number"]),
        ('{"model": 3}', ["model must be a string"]),
        (
            '{"model": "seir", "interventions": [{"type": "contact_reduction", "effectiveness": "0.5"}]}',
            ["interventions[0].effectiveness must be a number"],
        ),
        (
            '{"kind": "sweep", "scenarios": [{"model": "seir"}], "sweep": {"param": "r0", "values": [1, "2"]}}',
            ["sweep.values[1] must be a number"],
        ),
        (
            '{"kind": "compare", "scenarios": [{"model": "seir"}, {"model": "seir", "label": "b", '
            '"params": {"days": "90"}}]}',
            ["scenarios[1].params.days must be a whole number"],
        ),
        (_calibrate('"0.5"'), ["calibrate.target must be a number"]),
    ],
)
def test_hostile_json_is_one_line_exit_2(cli, payload: str, fragments: list[str]) -> None:
    result = cli("run", "-", stdin=payload)
    result.one_line_error(2, *fragments)
    assert result.out == ""


def test_a_whole_number_in_exponent_form_stays_allowed(cli) -> None:
    result = cli("run", "-", "--no-series", stdin='{"model": "seir", "params": {"population": 2e4, "r0": 2}}')
    assert result.code == 0, result.err
    assert json.loads(result.out)["results"][0]["scenario"]["params"]["population"] == 20000


def test_a_huge_label_is_not_echoed(cli, tmp_path: Path) -> None:
    # 50 MB: over the size limit, refused before it is read.
    big = tmp_path / "big.json"
    with big.open("w") as fh:
        fh.write('{"label": "')
        fh.write("x" * 50_000_000)
        fh.write('", "model": "seir"}')
    line = cli("run", str(big)).one_line_error(2, f"{MAX_INPUT_BYTES:,} bytes")
    assert len(line) < 500
    # Under the size limit but over the label's own limit: named, cut, not echoed.
    label = tmp_path / "label.json"
    label.write_text(json.dumps({"label": "y" * 500_000, "model": "seir"}))
    line = cli("run", str(label)).one_line_error(2, "label", "at most 80 characters", "500,000 characters")
    assert len(line) < 500
    # A key and a model name can be as long: both cut.
    for payload in ({"model": "seir", "params": {"k" * 100_000: 1}}, {"model": "m" * 100_000}):
        line = cli("run", "-", stdin=json.dumps(payload)).one_line_error(2)
        assert len(line) < 1000


def test_pipes_and_devices_are_named_not_opened(cli, tmp_path: Path) -> None:
    fifo = tmp_path / "scenario.fifo"
    os.mkfifo(fifo)  # nobody writes to it: opening it would wait forever
    cli("run", str(fifo)).one_line_error(2, "named pipe (FIFO)", "simqa run -")
    cli("run", "/dev/null").one_line_error(2, "character device")
    cli("run", str(tmp_path)).one_line_error(2, "is a folder")
    cli("run", str(tmp_path / "absent.json")).one_line_error(2, "no such file")


def test_a_utf8_byte_order_mark_is_accepted(cli, tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(SEIR).encode())
    result = cli("run", str(path), "--no-series")
    assert result.code == 0, result.err
    assert json.loads(result.out)["results"][0]["scenario"]["params"]["r0"] == 2.0
    result = cli("run", "-", "--no-series", stdin=b"\xef\xbb\xbf" + json.dumps(SEIR).encode())
    assert result.code == 0, result.err


def test_over_the_size_limit_from_standard_input(cli) -> None:
    payload = json.dumps({**SEIR, "label": "z" * (MAX_INPUT_BYTES + 10)})
    cli("run", "-", stdin=payload).one_line_error(2, "standard input is over")


def test_not_utf8_and_not_json(cli, tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"label": "caf\xe9", "model": "seir"}'.encode("latin-1"))
    cli("run", str(path)).one_line_error(2, "not UTF-8")
    cli("run", "-", stdin='{"model": "seir",').one_line_error(2, "not valid JSON", "line 1")


def test_the_python_api_refuses_non_finite_targets_too() -> None:
    from pydantic import ValidationError

    from sim.experiments import CalibrateSpec, SweepSpec

    for bad in (float("inf"), float("nan")):
        with pytest.raises(ValidationError):
            CalibrateSpec(param="r0", metric="attack_rate", target=bad)
        with pytest.raises(ValidationError):
            SweepSpec(param="r0", values=[1.0, bad])


def test_results_json_is_always_valid_json(cli) -> None:
    """Whatever a run reports, the printed results parse as strict JSON (no NaN, no Infinity)."""
    from simqa.cli import _finite

    assert json.dumps(_finite({"a": [float("nan"), 1.0, {"b": float("inf")}]}), allow_nan=False) == (
        '{"a": [null, 1.0, {"b": null}]}'
    )
    result = cli("run", "-", "--no-series", stdin=json.dumps(SEIR))
    json.loads(result.out, parse_constant=lambda c: pytest.fail(f"{c} in the output"))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["ask", "--translator", "bogus", "q"], "invalid choice: 'bogus'"),
        (["run"], "required: file"),
        (["runs", "list", "--limit", "0"], "must be at least 1"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_command_line_mistakes_are_one_line_exit_2(capsys, args: list[str], fragment: str) -> None:
    from simqa.cli import main

    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "--help" in lines[0], lines
