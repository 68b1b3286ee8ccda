"""The documentation site: it builds without a warning, its nav is complete, and its tables match the code."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.helpers import REPO

from tengr_provider.operators import (
    TengrBatchOperator,
    TengrCreateArtworkOperator,
    TengrPhotoPilotOperator,
    TengrStyleDnaOperator,
    TengrUpscaleOperator,
)
from tengr_provider.sensors.artwork import TengrArtworkSensor

DOCS = REPO / "docs"
MKDOCS_YML = REPO / "mkdocs.yml"

#: Each operator's page, and the class whose parameters its table documents.
OPERATOR_PAGES = {
    "operators/photo-pilot.md": TengrPhotoPilotOperator,
    "operators/style-dna.md": TengrStyleDnaOperator,
    "operators/upscaling.md": TengrUpscaleOperator,
    "operators/sensor.md": TengrArtworkSensor,
    "operators/create-artwork.md": TengrCreateArtworkOperator,
    "batch.md": TengrBatchOperator,
}
_BACKTICKED = re.compile(r"`([^`]+)`")


def nav_pages(entries: list[Any]) -> Iterator[str]:
    """Every page a nav lists, however deeply nested in sections."""
    for entry in entries:
        if isinstance(entry, str):
            yield entry
        elif isinstance(entry, dict):
            for value in entry.values():
                yield from nav_pages(value) if isinstance(value, list) else nav_pages([value])


def keyword_parameters(cls: type) -> set[str]:
    """The keyword parameters ``cls.__init__`` declares itself (not those it passes on as ``**kwargs``)."""
    init = vars(cls).get("__init__")
    if init is None:
        return set()
    return {
        name
        for name, parameter in inspect.signature(init).parameters.items()
        if name != "self"
        and parameter.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    }


def provider_parameters(cls: type) -> set[str]:
    """Parameters declared by the provider's own classes in the MRO, up to Airflow's (or compat's) bases."""
    own = [klass for klass in cls.__mro__ if klass.__module__.startswith("tengr_provider.")]
    return set().union(*(keyword_parameters(klass) for klass in own))


def accepted_parameters(cls: type) -> set[str]:
    """Every keyword the class accepts: its own, the resumable mixin's and Airflow's BaseOperator/Sensor's."""
    return set().union(*(keyword_parameters(klass) for klass in cls.__mro__))


def parameter_table_names(page: str) -> set[str]:
    """Backticked names in the first column of the page's table whose header starts with ``parameter``."""
    names: set[str] = set()
    in_table = False
    for line in (DOCS / page).read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            in_table = False
        elif cells[0] == "parameter":
            in_table = True
        elif in_table and not set(cells[0]) <= {"-", ":"}:
            names.update(_BACKTICKED.findall(cells[0]))
    assert names, f"{page} has no parameter table"
    return names


def test_the_site_builds_strictly_without_warnings(tmp_path: Path) -> None:
    pytest.importorskip("material", reason="the docs extra (mkdocs-material) is not installed")
    build = ["build", "--strict", "--config-file", str(MKDOCS_YML), "--site-dir", str(tmp_path / "site")]
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", *build],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").is_file()


def test_every_page_in_docs_is_in_the_nav() -> None:
    nav = set(nav_pages(yaml.safe_load(MKDOCS_YML.read_text())["nav"]))
    pages = {page.relative_to(DOCS).as_posix() for page in DOCS.rglob("*.md")}
    assert pages - nav == set()


def test_every_nav_entry_is_a_page_in_docs() -> None:
    nav = list(nav_pages(yaml.safe_load(MKDOCS_YML.read_text())["nav"]))
    assert [page for page in nav if not (DOCS / page).is_file()] == []
    assert len(nav) == len(set(nav)), "a page is listed twice"


@pytest.mark.parametrize(("page", "operator"), OPERATOR_PAGES.items(), ids=list(OPERATOR_PAGES))
def test_the_parameter_table_lists_every_parameter_of_the_operator(page: str, operator: type) -> None:
    assert provider_parameters(operator) - parameter_table_names(page) == set()


@pytest.mark.parametrize(("page", "operator"), OPERATOR_PAGES.items(), ids=list(OPERATOR_PAGES))
def test_the_parameter_table_names_only_real_parameters(page: str, operator: type) -> None:
    assert parameter_table_names(page) - accepted_parameters(operator) == set()


def test_the_hook_page_names_every_constructor_override() -> None:
    from tengr_provider.hooks.tengr import TengrHook

    overrides = [
        name
        for name, parameter in inspect.signature(TengrHook.__init__).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    page = (DOCS / "hook.md").read_text()
    assert len(overrides) == 8
    assert [name for name in overrides if f"`{name}`" not in page] == []


def test_the_emulator_page_lists_every_setting_and_its_option() -> None:
    import dataclasses

    from tengr_provider.testing import EmulatorConfig
    from tengr_provider.testing.cli import build_parser

    page = (DOCS / "testing-with-the-emulator.md").read_text()
    options = page.split("\n## Options\n", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip(): line for line in options.splitlines() if line.startswith("| `")}
    flags = {action.dest: action.option_strings for action in build_parser()._actions}
    for item in dataclasses.fields(EmulatorConfig):
        assert f"`{item.name}`" in rows, item.name
        assert all(flag in rows[f"`{item.name}`"] for flag in flags[item.name]), item.name
