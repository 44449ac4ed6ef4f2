"""The layering of the architecture: `sim` imports nothing above it, `rag` only `sim`, and each
error type lives in the layer that raises it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# what each package may import from the project (itself included)
ALLOWED = {"sim": {"sim"}, "rag": {"rag", "sim"}}
PROJECT = {"sim", "rag", "simqa", "evals", "prompts"}


def _project_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif _is_import_module_call(node):
            found.add(node.args[0].value.split(".")[0])
    return found & PROJECT


def _is_import_module_call(node: ast.AST) -> bool:
    """`import_module("pkg.mod")` with a literal name."""
    if not isinstance(node, ast.Call) or getattr(node.func, "id", getattr(node.func, "attr", "")) != "import_module":
        return False
    return bool(node.args) and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_lower_layer_imports_nothing_above_it(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(_project_imports(path) - ALLOWED[package])
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_each_error_lives_in_the_layer_that_raises_it() -> None:
    import rag.errors
    import sim.errors
    import simqa
    import simqa.errors

    assert not hasattr(sim.errors, "LLMError") and not hasattr(sim.errors, "StoreError")
    assert simqa.LLMError is simqa.errors.LLMError
    assert simqa.StoreError is rag.errors.StoreError
    assert issubclass(simqa.LLMError, sim.errors.SimqaError) and issubclass(simqa.StoreError, sim.errors.SimqaError)
