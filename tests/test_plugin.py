"""The example plugin in examples/bikeshare, installed the way a user installs it.

The plugin is installed once per session into a temporary folder with pip, and everything that
imports it runs in a fresh interpreter with that folder on PYTHONPATH, so the entry-point
discovery under test is the real one and this test process's model registry stays untouched.

Known truths checked: in the reference weather the mean daily trips are the configured base demand
(members x member_trip_rate + casual_daily_trips) within sampling error, and the daily counts have
the negative-binomial variance the card states; under cold, cloud and wind casual riders fall
relatively more than members, at the January-to-June ratios of the UCI Bike Sharing data
(Fanaee-T & Gama 2014) that the card gives as its anchors.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_DIR = REPO_ROOT / "examples" / "bikeshare"

# Default demand of the plugin: 20,000 members x 0.2 trips + 1,000 casual trips on a reference day.
BASE_MEMBER_TRIPS = 20000 * 0.2
BASE_CASUAL_TRIPS = 1000.0

PROBE = r"""
import json
import numpy as np
import sim
from sim.registry import plugin_errors

facts = {"model_names": sim.model_names(), "plugin_errors": plugin_errors()}
spec = sim.get_model("bikeshare")
facts["card_exists"] = bool(spec.card and spec.card.exists())
facts["card_path"] = str(spec.card)
facts["card_text"] = spec.card.read_text() if facts["card_exists"] else ""
facts["metrics"] = list(spec.metrics)
facts["keywords"] = [*spec.words.words, *spec.words.names]
facts["fields"] = {
    name: {"default": info.default, "metadata": [repr(m) for m in info.metadata]}
    for name, info in spec.params.model_fields.items()
}

def error_of(scenario):
    try:
        sim.run(scenario)
    except sim.ScenarioError as exc:
        return {"type": type(exc).__name__, "field": exc.field, "message": str(exc)}
    return None

facts["unknown_param"] = error_of({"model": "bikeshare", "params": {"stations": 500}})
facts["too_hot"] = error_of({"model": "bikeshare", "params": {"temperature_c": 60}})
facts["negative_members"] = error_of({"model": "bikeshare", "params": {"members": -5}})

scenario = {"model": "bikeshare", "params": {"temperature_c": 12, "cloud_cover": 0.5, "days": 20}}
first = sim.run(scenario, replicates=4, seed=7)
again = sim.run(scenario, replicates=4, seed=7)
other = sim.run(scenario, replicates=4, seed=8)
facts["same_seed_equal"] = (
    first.replicate_metrics == again.replicate_metrics and first.series == again.series
)
facts["other_seed_differs"] = first.replicate_metrics != other.replicate_metrics
facts["result_metrics"] = sorted(first.metrics)
facts["series_lengths"] = {name: len(values) for name, values in first.series.items()}
facts["replicates_seen"] = len(first.replicate_metrics["total_trips"])
facts["ci_keys"] = sorted(first.ci)

def raw(params):
    validated = spec.params.model_validate(params)
    return spec.run(validated, ())

def daily_stats(params):
    out = raw(params)
    trips = np.asarray(out.series["new_trips"], dtype=float)
    return {
        "shape": list(trips.shape),
        "mean": float(trips.mean()),
        "var": float(trips.var(ddof=1)),
        "n": int(trips.size),
        "member": float(np.asarray(out.metrics["member_trips"]).sum()),
        "casual": float(np.asarray(out.metrics["casual_trips"]).sum()),
        "total": float(np.asarray(out.metrics["total_trips"]).sum()),
        "peak_ok": bool(np.all(np.asarray(out.metrics["peak_daily_trips"]) == trips.max(axis=1))),
        "notes": list(out.notes),
    }

many = {"days": 365, "replicates": 40, "seed": 3}
facts["neutral_poisson"] = daily_stats({**many, "day_to_day_variation": 0.0})
facts["neutral_default"] = daily_stats(many)
facts["january"] = daily_stats({**many, "temperature_c": 5.0})
facts["bad_weather"] = daily_stats({**many, "temperature_c": 10.0, "cloud_cover": 1.0, "wind_kmh": 40.0})
facts["extreme_cold"] = daily_stats({"temperature_c": -20.0})
print(json.dumps(facts))
"""


def _can_build_wheels_offline() -> bool:
    """setuptools builds wheels by itself from 70.1 on; older versions need the `wheel` package."""
    try:
        setuptools_version = tuple(int(x) for x in re.findall(r"\d+", version("setuptools"))[:2])
    except PackageNotFoundError:
        return False
    return setuptools_version >= (70, 1) or importlib.util.find_spec("wheel") is not None


def _plugin_env(site_dir: Path, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site_dir), env.get("PYTHONPATH")]))
    env["SIMQA_HOME"] = str(home)
    return env


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin installed by pip into a private folder (the slow step: once per session)."""
    root = tmp_path_factory.mktemp("bikeshare_plugin")
    # build from a copy, so pip's build/ and egg-info never land in the source tree
    source = root / "src"
    shutil.copytree(EXAMPLE_DIR, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    site_dir = root / "site"
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "--quiet"]
    if _can_build_wheels_offline():
        command += ["--no-build-isolation", "--no-index"]
    # else: pip fetches setuptools into an isolated build environment; `pip install wheel` (or
    # setuptools >= 70.1) in the virtualenv makes this step work offline
    command += ["--target", str(site_dir), str(source)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.fail(f"pip could not install examples/bikeshare:\n{proc.stdout}\n{proc.stderr}")
    return site_dir


@pytest.fixture(scope="module")
def facts(plugin_site: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What a fresh interpreter with the plugin on its path sees and computes."""
    home = tmp_path_factory.mktemp("simqa_home")
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env=_plugin_env(plugin_site, home),
        cwd=home,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_entry_point_registers_the_model(facts: dict[str, Any], plugin_site: Path) -> None:
    assert "bikeshare" in facts["model_names"]
    assert {"seir", "delivery"} <= set(facts["model_names"])  # a plugin adds, never replaces
    assert facts["plugin_errors"] == {}
    assert facts["metrics"] == ["total_trips", "member_trips", "casual_trips", "mean_daily_trips", "peak_daily_trips"]
    assert {"bike", "bikeshare", "cycling", "trips", "docks"} <= set(facts["keywords"])


def test_model_card_is_installed_with_the_package(facts: dict[str, Any], plugin_site: Path) -> None:
    assert facts["card_exists"]
    assert Path(facts["card_path"]).is_relative_to(plugin_site)
    headings = [line for line in facts["card_text"].splitlines() if line.startswith("## ")]
    expected = [
        "## Overview",
        "## What it represents and what it does not",
        "## Parameters",
        "## Interventions",
        "## Metrics",
    ]
    assert headings[:5] == expected
    assert headings[-2:] == ["## Validity limits", "## References"]


def test_card_parameter_table_matches_the_code(facts: dict[str, Any]) -> None:
    section = facts["card_text"].split("\n## Parameters\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in facts["fields"]:
            rows[cells[0]] = cells
    assert set(rows) == set(facts["fields"]), "every parameter, and only those, in the card's table"
    symbols = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    for name, field in facts["fields"].items():
        _, _, bounds, default, _ = rows[name]
        assert default == str(field["default"]), name
        code_bounds = []
        for meta in field["metadata"]:
            match = re.fullmatch(r"(Ge|Gt|Le|Lt)\((?:ge|gt|le|lt)=(.+)\)", meta)
            assert match, meta
            code_bounds.append(f"{symbols[match.group(1).lower()]} {match.group(2)}")
        assert bounds == ", ".join(code_bounds), name


def test_parameters_are_validated(facts: dict[str, Any]) -> None:
    unknown = facts["unknown_param"]
    assert unknown is not None and unknown["type"] == "ScenarioError"
    assert "stations" in unknown["message"] and "temperature_c" in unknown["message"]  # names the allowed ones
    too_hot = facts["too_hot"]
    assert too_hot is not None and too_hot["field"] == "params.temperature_c"
    assert "45" in too_hot["message"]
    assert facts["negative_members"] is not None and facts["negative_members"]["field"] == "params.members"


def test_same_seed_same_numbers(facts: dict[str, Any]) -> None:
    assert facts["same_seed_equal"]
    assert facts["other_seed_differs"]
    assert facts["replicates_seen"] == 4
    assert facts["result_metrics"] == sorted(
        ["total_trips", "member_trips", "casual_trips", "mean_daily_trips", "peak_daily_trips"]
    )
    assert facts["ci_keys"] == facts["result_metrics"]
    assert facts["series_lengths"]["new_trips"] == 20


def test_reference_weather_gives_the_base_demand(facts: dict[str, Any]) -> None:
    base = BASE_MEMBER_TRIPS + BASE_CASUAL_TRIPS
    poisson = facts["neutral_poisson"]
    assert poisson["shape"] == [40, 365]
    # Poisson: standard error of the mean of n daily counts is sqrt(base / n)
    assert abs(poisson["mean"] - base) < 4 * math.sqrt(base / poisson["n"])
    assert poisson["var"] == pytest.approx(base, rel=0.1)
    assert poisson["peak_ok"]
    assert poisson["member"] / poisson["total"] == pytest.approx(BASE_MEMBER_TRIPS / base, abs=0.005)

    # with the default day-to-day variation (CV 0.1) the mean is unchanged and the variance is
    # negative binomial: mean + cv^2 mean^2
    default = facts["neutral_default"]
    variance = base + 0.1**2 * base**2
    assert abs(default["mean"] - base) < 4 * math.sqrt(variance / default["n"])
    assert default["var"] == pytest.approx(variance, rel=0.1)


def test_casual_riders_drop_more_than_members_in_bad_weather(facts: dict[str, Any]) -> None:
    neutral = facts["neutral_poisson"]
    bad = facts["bad_weather"]
    member_kept = bad["member"] / neutral["member"]
    casual_kept = bad["casual"] / neutral["casual"]
    assert member_kept < 0.9  # members feel 10 °C, overcast and 40 km/h too
    assert casual_kept < 0.5 * member_kept


def test_cold_matches_the_january_to_june_ratios_of_the_data(facts: dict[str, Any]) -> None:
    # UCI Bike Sharing data (Fanaee-T & Gama 2014): January 2012 (about 5 °C) against June 2012,
    # registered users 0.53, casual users 0.20 of their June daily mean
    neutral = facts["neutral_poisson"]
    january = facts["january"]
    assert january["member"] / neutral["member"] == pytest.approx(0.53, abs=0.04)
    assert january["casual"] / neutral["casual"] == pytest.approx(0.20, abs=0.03)


def test_extrapolation_is_noted(facts: dict[str, Any]) -> None:
    assert any("outside -8..39" in note for note in facts["extreme_cold"]["notes"])
    assert facts["neutral_default"]["notes"] == []


def test_question_end_to_end_through_the_cli(plugin_site: Path, tmp_path: Path) -> None:
    question = "How many bike trips would we get in a month of cold windy weather with 10 degrees?"
    cli = "import sys; from simqa.cli import main; sys.argv = ['simqa', *sys.argv[1:]]; raise SystemExit(main())"
    proc = subprocess.run(
        [sys.executable, "-c", cli, "ask", "--json", question, "--translator", "offline"],
        capture_output=True,
        text=True,
        env=_plugin_env(plugin_site, tmp_path / "home"),
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["model"] == "bikeshare", answer.get("text")
    assert answer["kind"] == "simulate", answer.get("text")
    assert answer["results"] and "total_trips" in answer["results"][0]["metrics"]


# --------------------------------------------------------------------------- fitting the plugin to data

FIT_PROBE = r"""
import json, sys
import numpy as np
import sim
from sim.fit import FitSpec, fit
from sim.observables import ObservedData

truth = {"member_trip_rate": 0.2, "casual_daily_trips": 1000.0}
n_sets, days = int(sys.argv[1]), 120
rng = np.random.default_rng(3)
weather = {
    "temperature_c": rng.uniform(0, 32, days),
    "cloud_cover": rng.uniform(0, 1, days),
    "wind_kmh": rng.uniform(0, 35, days),
}
# day d of data set r is replicate r of a one-day run in day d's weather: the plugin's own model
trips = np.empty((n_sets, days))
for d in range(days):
    params = {"days": 1, **{k: float(v[d]) for k, v in weather.items()}}
    trips[:, d] = sim.run({"model": "bikeshare", "params": params}, replicates=n_sets, seed=d).replicate_metrics["total_trips"]
rows = []
for r in range(n_sets):
    data = ObservedData(index=np.arange(days), columns={"trips": trips[r], **weather})
    out = fit({"model": "bikeshare", "params": {}}, data, FitSpec(free=list(truth)))
    rows.append({e.name: [e.value, e.lower, e.upper] for e in out.estimates})
    rows[-1]["likelihood"] = out.likelihood
print(json.dumps({"truth": truth, "rows": rows}))
"""


def _fit_probe(plugin_site: Path, home: Path, n_sets: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", FIT_PROBE, str(n_sets)],
        capture_output=True,
        text=True,
        env=_plugin_env(plugin_site, home),
        cwd=home,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_fit_intervals_cover_the_plugins_true_demand(plugin_site: Path, tmp_path: Path) -> None:
    """100 data sets of 120 days in varied weather from the plugin itself: the 95% intervals of both
    demands cover the truth 90-99% of the time, with under 2% bias; the day-to-day variation makes
    the counts negative binomial, and the fit says so."""
    found = _fit_probe(plugin_site, tmp_path, 100)
    for name, truth in found["truth"].items():
        estimates = [row[name] for row in found["rows"]]
        coverage = np.mean([lo <= truth <= hi for _, lo, hi in estimates])
        bias = np.mean([value for value, _, _ in estimates]) / truth - 1
        assert 0.90 <= coverage <= 0.99, (name, coverage)
        assert abs(bias) < 0.02, (name, bias)
    assert all(row["likelihood"].startswith("negative binomial") for row in found["rows"])
    cv = np.mean([row["day_to_day_variation"][0] for row in found["rows"]])
    assert cv == pytest.approx(0.1, rel=0.1)  # the plugin's default day-to-day variation


def test_ask_with_data_fits_the_plugin(plugin_site: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    days = 90
    lines = ["date,trips,temperature_c,cloud_cover,wind_kmh"]
    home = tmp_path / "home"
    home.mkdir()
    code = (
        "import sim, sys, json\n"
        "w = json.loads(sys.argv[1])\n"
        "print(json.dumps([sim.run({'model': 'bikeshare', 'params': {'days': 1, **day}}, seed=i).scalar('total_trips')"
        " for i, day in enumerate(w)]))\n"
    )
    weather = [
        {"temperature_c": round(float(t), 1), "cloud_cover": round(float(c), 2), "wind_kmh": round(float(v), 1)}
        for t, c, v in zip(rng.uniform(0, 32, days), rng.uniform(0, 1, days), rng.uniform(0, 35, days), strict=True)
    ]
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(weather)],
        capture_output=True,
        text=True,
        env=_plugin_env(plugin_site, home),
        cwd=home,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    trips = json.loads(proc.stdout)
    for i, (day, count) in enumerate(zip(weather, trips, strict=True)):
        date = f"2024-{4 + i // 30:02d}-{1 + i % 30:02d}"
        lines.append(f"{date},{int(count)},{day['temperature_c']},{day['cloud_cover']},{day['wind_kmh']}")
    path = tmp_path / "trips.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli = "import sys; from simqa.cli import main; sys.argv = ['simqa', *sys.argv[1:]]; raise SystemExit(main())"
    question = "What demand of members and casual riders explains these daily bike trips?"
    proc = subprocess.run(
        [sys.executable, "-c", cli, "ask", "--json", "--translator", "offline", "--data", str(path), question],
        capture_output=True,
        text=True,
        env=_plugin_env(plugin_site, home),
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["kind"] == "fit" and answer["model"] == "bikeshare", answer["text"]
    estimates = {e["name"]: e for e in answer["fitted"]["estimates"]}
    assert estimates["member_trip_rate"]["lower"] <= 0.2 <= estimates["member_trip_rate"]["upper"]
    assert estimates["casual_daily_trips"]["lower"] <= 1000 <= estimates["casual_daily_trips"]["upper"]
    assert answer["fitted"]["data"]["first_date"] == "2024-04-01"
    assert "negative binomial" in answer["fitted"]["likelihood"]
