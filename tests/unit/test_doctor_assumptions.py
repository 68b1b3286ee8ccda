"""The provider's assumptions about tengr.ai are declared once, and the docs show that declaration."""

from __future__ import annotations

import re

from tengr_provider.api_paths import API_VERSIONS
from tengr_provider.doctor.assumptions import ASSUMPTIONS, CREATE_ANSWERS, markdown_table


def test_the_docs_table_is_the_declared_assumptions() -> None:
    from scripts.assumptions_table import SECTION

    current = SECTION.doc.read_text()
    assert current == SECTION.expected(current), f"{SECTION.doc.name} is stale; run: {SECTION.command}"


def test_every_assumption_has_one_row_in_the_table() -> None:
    rows = markdown_table().splitlines()[2:]
    assert [re.match(r"\| `([^`]+)`", row).group(1) for row in rows] == [a.id for a in ASSUMPTIONS]  # type: ignore[union-attr]


def test_assumption_ids_are_unique_command_line_words() -> None:
    ids = [assumption.id for assumption in ASSUMPTIONS]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) for name in ids)


def test_every_assumption_says_where_it_is_relied_on_and_what_to_set() -> None:
    for assumption in ASSUMPTIONS:
        assert assumption.assumed.endswith("."), assumption.id
        assert assumption.relied_on_by, assumption.id
        assert assumption.check, assumption.id
        assert assumption.when_contradicted, assumption.id


def test_the_create_answers_cover_every_create_call_of_both_versions() -> None:
    calls = {call for _, call in CREATE_ANSWERS}
    assert set(CREATE_ANSWERS) == {(version, call) for version in API_VERSIONS for call in calls}
    assert calls == {"photo-pilot", "upscaling", "style-dna"}
