"""The documentation site: it builds without a warning, its nav is complete, and its tables match the code."""

from __future__ import annotations

import inspect
import json
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
    """Parameters declared by the provider's own classes in the MRO, up to Airflow's (or compat's) bases,
    but the request's fields: their one table is the generated one of docs/request-rules.md."""
    own = [klass for klass in cls.__mro__ if klass.__module__.startswith("tengr_provider.")]
    return set().union(*(keyword_parameters(klass) for klass in own)) - set(
        getattr(cls, "request_fields", ())
    )


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


@pytest.mark.parametrize(
    ("page", "operator"),
    [
        (page, operator)
        for page, operator in OPERATOR_PAGES.items()
        if getattr(operator, "request_model", None)
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_an_operator_page_sends_its_request_fields_to_the_generated_table(page: str, operator: Any) -> None:
    # The fields are not listed again on the operator's page: it links to the table made from the model.
    model = operator.request_model.__name__
    assert (
        f"(../request-rules.md#{page.removeprefix('operators/').removesuffix('.md')}-{model.lower()})"
        in (DOCS / page).read_text()
    )
    assert parameter_table_names(page).isdisjoint(operator.request_fields)


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


#: Words for the small counts the docs spell out.
_SPELLED = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


def test_the_sizing_numbers_are_those_of_the_benchmarks_json() -> None:
    # docs/deployment.md "Sizing" quotes bench/results/triggerer_scale.json: a rerun that moves a number,
    # or an edit of the page, fails here until the two agree again.
    run = json.loads((REPO / "bench" / "results" / "triggerer_scale.json").read_text())
    assert (run["benchmark"], run["settings"]["smoke"]) == ("triggerer_scale", False)
    cases = [case for case in run["cases"] if (case["kind"], case["list_order"]) == ("tengr", "newest")]
    page = (DOCS / "deployment.md").read_text()
    sizing = page[page.index("## Sizing") : page.index("\n## ", page.index("## Sizing") + 1)]
    rows = re.findall(r"^\| ([\d,]+) \| ([\d.]+)% \| (\d+) MiB \| ([\d.]+) \|$", sizing, re.MULTILINE)
    assert rows == [
        (
            f"{case['triggers']:,}",
            f"{case['cpu_percent_of_one_core']:.1f}",
            f"{case['peak_rss_mib']:.0f}",
            f"{case['calls_per_wait_per_interval']:.2g}",
        )
        for case in cases
    ]
    settings = run["settings"]
    prose = " ".join(sizing.split())  # lines may wrap anywhere
    command = f"--cases {settings['cases']} --artwork-seconds {settings['artwork_seconds']:g}"
    command += f" --poll {settings['poll']:g}"
    assert command in prose
    largest = max(cases, key=lambda case: case["triggers"])
    per_second = largest["triggers"] * largest["calls_per_wait_per_interval"] / run["settings"]["poll"]
    assert (
        f"{largest['triggers']:,} waits at `poll_interval={run['settings']['poll']:g}` cost about" in sizing
    )
    assert f"about\n{_SPELLED[round(per_second)]} list calls a second" in sizing.replace("about ", "about\n")
