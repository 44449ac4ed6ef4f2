"""The public names of `evals`, imported lazily."""

from __future__ import annotations

import importlib

import evals


def test_all_names_resolve() -> None:
    assert sorted(evals.__all__) == sorted(evals._LAZY)
    for name in evals.__all__:
        assert getattr(evals, name) is getattr(importlib.import_module(evals._LAZY[name]), name)
