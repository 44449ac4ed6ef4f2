"""simqa names no built-in model, parameter or metric: everything it knows of a model it reads from
the model's declarations (ModelSpec and its language). Test helpers (simqa/testing.py) are exempt."""

from __future__ import annotations

import re
from pathlib import Path

import sim
from sim.registry import get_model

BUILT_INS = ("seir", "abm", "delivery")
RUN_CONTROLS = {"replicates", "seed"}  # every model's run controls (sim.params.ModelParams), not one model's
# Units of time the quantity reader knows as units ("4 days", "an 8-hour shift"), whatever a model calls its horizon.
UNITS = {"days", "hours"}
EXEMPT = {"testing.py"}


def _names() -> set[str]:
    names: set[str] = set(BUILT_INS)
    for model in BUILT_INS:
        spec = get_model(model)
        names |= set(spec.params.model_fields) | set(spec.metrics) | set(spec.breakdowns) | set(spec.interventions)
    return names - RUN_CONTROLS - UNITS


def test_no_file_under_simqa_names_a_built_in_model_parameter_or_metric() -> None:
    assert sim.model_names()
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _names()), key=len, reverse=True)) + r")\b")
    root = Path(__file__).resolve().parents[2] / "simqa"
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name in EXEMPT:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in pattern.finditer(line):
                found.append(f"{path.relative_to(root.parent)}:{n}: {m.group()}")
    assert not found, "\n".join(found)
