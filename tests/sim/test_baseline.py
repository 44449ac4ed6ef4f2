"""The regression baseline: today's numbers equal the stored ones (update on purpose with
`python -m sim.baseline --update`, and bump ENGINE_VERSION with it)."""

from __future__ import annotations

import json

from sim import baseline
from sim.version import ENGINE_VERSION


def test_numbers_match_the_stored_baseline():
    stored = json.loads(baseline.BASELINE_PATH.read_text())
    assert stored["engine_version"] == ENGINE_VERSION, "numbers changed: bump ENGINE_VERSION and update the baseline"
    assert baseline.differences(stored, baseline.compute()) == []


def test_differences_detects_a_moved_metric():
    stored = json.loads(baseline.BASELINE_PATH.read_text())
    fresh = json.loads(json.dumps(stored))
    fresh["scenarios"]["seir-ode"]["metrics"]["attack_rate"] *= 1.001
    moved = baseline.differences(stored, fresh)
    assert len(moved) == 1 and moved[0].startswith("seir-ode.attack_rate")
