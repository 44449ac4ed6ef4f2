"""The public names of `evals`, imported lazily."""

from __future__ import annotations

import importlib
import subprocess
import sys

import evals


def test_all_names_resolve() -> None:
    assert sorted(evals.__all__) == sorted(evals._LAZY)
    for name in evals.__all__:
        assert getattr(evals, name) is getattr(importlib.import_module(evals._LAZY[name]), name)


def test_importing_the_number_reader_does_not_load_the_engine() -> None:
    code = "import sys, evals.numbers; print('sim' in sys.modules, 'simqa' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
