"""Imports go one way (models <- hooks <- triggers <- operators), and Airflow comes through version_compat.

A module may import its own layer and the ones below it, never one above: the emulator and the models
must not need a hook, a hook must not need a trigger, a trigger must not need an operator. Read from the
source (every import, type-only ones included), so a move that breaks the order fails here by name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tengr_provider

PACKAGE = Path(tengr_provider.__file__).parent
LAYERS = ("models", "hooks", "triggers", "operators", "tools")
#: The layer of each module, by the longest matching dotted prefix; everything else is "models".
LAYER_OF_PREFIX = {
    "hooks": "hooks",
    "triggers": "triggers",
    "batch.statuses": "triggers",  # the batch's status reads share the triggers' poller
    "operators": "operators",
    "sensors": "operators",
    "decorators": "operators",
    "waiting.deferral": "operators",  # hands an operator's wait to a trigger
    "doctor": "tools",
}
#: Modules that import Airflow themselves, and why: what may be absent is imported where it is used.
AIRFLOW_WHERE_USED = {
    "lineage": "OpenLineage is an optional provider",
    "doctor.connection": "the metadata database's connections, read by a command-line tool",
}


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    return name.removesuffix(".__init__").removesuffix("__init__")


def layer_of(module: str) -> str:
    matches = [prefix for prefix in LAYER_OF_PREFIX if module == prefix or module.startswith(prefix + ".")]
    return LAYER_OF_PREFIX[max(matches, key=len)] if matches else "models"


def imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports (absolute names), at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_a_module_imports_no_layer_above_its_own(path: Path) -> None:
    own = LAYERS.index(layer_of(module_name(path)))
    above = [
        f"{name} ({layer_of(name.removeprefix('tengr_provider.'))})"
        for name in imported_modules(path)
        if name.startswith("tengr_provider.")
        and LAYERS.index(layer_of(name.removeprefix("tengr_provider."))) > own
    ]
    assert above == [], f"{module_name(path)} ({LAYERS[own]}) imports from a layer above: {above}"


def is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"


def airflow_imports(path: Path, *, on_import: bool) -> list[str]:
    """The ``airflow`` modules ``path`` imports when it is imported (``on_import``), or else only inside
    functions and ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text())
    deferred = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or is_type_checking_block(node)
        for inner in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if (id(node) in deferred) == on_import:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [name for name in found if name == "airflow" or name.startswith("airflow.")]


@pytest.mark.parametrize(
    "path", [path for path in MODULES if module_name(path) != "version_compat"], ids=module_name
)
def test_airflow_names_come_from_version_compat(path: Path) -> None:
    direct = airflow_imports(path, on_import=True)
    if module_name(path) not in AIRFLOW_WHERE_USED:
        direct += airflow_imports(path, on_import=False)
    assert direct == [], f"{module_name(path)} imports {direct}; take them from version_compat"


def test_the_layer_table_names_modules_that_exist() -> None:
    names = {module_name(path) for path in MODULES}
    for prefix in [*LAYER_OF_PREFIX, *AIRFLOW_WHERE_USED]:
        assert any(name == prefix or name.startswith(prefix + ".") for name in names), prefix
