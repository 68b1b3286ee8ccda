"""Imports that would block the triggerer's event loop: none may run inside a coroutine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tengr_provider

PACKAGE = Path(tengr_provider.__file__).parent
#: The modules whose code runs in the triggerer (the trigger and the async hook with its pool).
TRIGGERER_MODULES = sorted(
    [*PACKAGE.joinpath("hooks").glob("*.py"), *PACKAGE.joinpath("triggers").glob("*.py")]
)


def imports_inside_functions(path: Path) -> list[str]:
    """``name:line`` of every import in a function body; ``async`` ones and aiohttp are what matter."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, (ast.Import, ast.ImportFrom)):
                names = [alias.name for alias in inner.names]
                module = getattr(inner, "module", None) or ""
                if isinstance(node, ast.AsyncFunctionDef) or "aiohttp" in (module, *names):
                    found.append(f"{node.name}:{inner.lineno}")
    return found


@pytest.mark.parametrize("path", TRIGGERER_MODULES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_import_runs_inside_a_coroutine_or_loads_aiohttp_late(path: Path) -> None:
    assert imports_inside_functions(path) == []
