"""Rules of the test suite itself: every test has a ceiling, and `make unit` runs the unit tests only."""

from __future__ import annotations

import re

import pytest
from tests.helpers import REPO


def test_every_test_has_a_time_ceiling(pytestconfig: pytest.Config) -> None:
    # A hung test (a rate limiter that never refuses, a trigger that never yields) must fail, not stall CI.
    assert pytestconfig.pluginmanager.hasplugin("timeout")
    assert 0 < float(pytestconfig.getini("timeout")) <= 600


def test_make_unit_runs_only_the_unit_tests() -> None:
    makefile = (REPO / "Makefile").read_text()
    unit = re.search(r"^unit:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert unit is not None
    assert "pytest tests/unit" in unit.group(1)


def test_test_modules_have_unique_names() -> None:
    # tests/ has no __init__.py files: two test modules of one name stop the whole suite at collection.
    names = [path.name for path in (REPO / "tests").rglob("test_*.py")]
    assert sorted({name for name in names if names.count(name) > 1}) == []
