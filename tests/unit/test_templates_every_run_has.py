"""No example, README or docs snippet uses a template name that a run without a logical date lacks.

A run started from the Trigger button or the REST API with ``logical_date: null``, and every
asset-triggered run, has no ``ds``, ``ts``, ``logical_date`` or data interval: a template naming them
fails the task before it starts. ``dag.test()`` always sets a logical date, so only this scan (and the
deployment tier) can see it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.helpers import REPO

#: Context names Airflow 3 defines only when the run has a logical date.
NEEDS_A_LOGICAL_DATE = (
    "ds",
    "ds_nodash",
    "ts",
    "ts_nodash",
    "ts_nodash_with_tz",
    "logical_date",
    "data_interval_start",
    "data_interval_end",
    "prev_data_interval_start_success",
    "prev_data_interval_end_success",
    "task_instance_key_str",
    "execution_date",
)
_EXPRESSION = re.compile(r"{{(.*?)}}", re.DOTALL)
_NAME = re.compile(r"\b(" + "|".join(NEEDS_A_LOGICAL_DATE) + r")\b")


def names_that_need_a_logical_date(text: str) -> list[str]:
    found = []
    for expression in _EXPRESSION.findall(text):
        for match in _NAME.finditer(expression):
            # After a "|" it is Airflow's filter of that name (``run_after | ds``), after a "." an attribute.
            before = expression[: match.start(1)].rstrip()
            if not before.endswith(("|", ".")):
                found.append(match.group(1))
    return found


SOURCES = sorted(
    [*(REPO / "dags_examples").glob("*.py"), REPO / "README.md", *(REPO / "docs").rglob("*.md")],
    key=str,
)


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: str(path.relative_to(REPO)))
def test_templates_use_only_names_every_run_has(source: Path) -> None:
    assert names_that_need_a_logical_date(source.read_text()) == []


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ ds }}", ["ds"]),
        ("{{ params.output_path }}/{{ ts_nodash }}", ["ts_nodash"]),
        ("{{ data_interval_start | ds }}", ["data_interval_start"]),
        ("{{ dag_run.run_after | ds }}", []),
        ("{{ run_id }}", []),
        ("{{ dag_run.logical_date }}", []),
    ],
)
def test_the_scan_tells_unsafe_names_from_safe_ones(template: str, expected: list[str]) -> None:
    assert names_that_need_a_logical_date(template) == expected
