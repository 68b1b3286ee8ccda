"""The result-image extra links read what the operator pushed for that task instance."""

from __future__ import annotations

import importlib
from typing import Any
from unittest import mock

import pytest

from tengr_provider import RESULT_LINK_COUNT, get_provider_info
from tengr_provider.links import (
    BATCH_LINKS,
    MAX_LINKS,
    RESULT_LINKS,
    RESULT_URL_XCOM_KEY,
    TengrResultImage2Link,
    TengrResultImageLink,
    link_targets,
)
from tengr_provider.operators import TengrPhotoPilotOperator, TengrStyleDnaOperator, TengrUpscaleOperator

STORED = ["file:///out/a_0.png", "file:///out/a_1.png"]


@pytest.mark.parametrize(
    ("pushed", "first", "second"),
    [
        (STORED, STORED[0], STORED[1]),
        (["https://cdn.example/a.png"], "https://cdn.example/a.png", ""),
        ("https://cdn.example/a.png", "https://cdn.example/a.png", ""),  # one URL, as pre-releases pushed
        ([], "", ""),
        ("", "", ""),
        (None, "", ""),
    ],
)
def test_each_link_opens_its_pushed_target(pushed: Any, first: str, second: str) -> None:
    with mock.patch("tengr_provider.links.XCom") as xcom:
        xcom.get_value.return_value = pushed
        key = mock.sentinel.ti_key
        assert TengrResultImageLink().get_link(mock.sentinel.operator, ti_key=key) == first
        assert TengrResultImage2Link().get_link(mock.sentinel.operator, ti_key=key) == second
    xcom.get_value.assert_called_with(ti_key=mock.sentinel.ti_key, key=RESULT_URL_XCOM_KEY)


def test_stored_files_a_browser_can_open_win_over_the_expiring_result_urls() -> None:
    api = ["https://cdn.example/a.png", "https://cdn.example/b.png"]
    served = ["https://files.example/out/a_0.png", "https://files.example/out/a_1.png"]
    assert link_targets(api, served) == served
    assert link_targets(api, None) == api
    assert link_targets(api, []) == api
    # Airflow's UI drops file:// and s3:// links: the API's URL of the same image stands in.
    assert link_targets(api, STORED) == api
    assert link_targets(api, ["s3://bucket/a_0.png", served[1]]) == [api[0], served[1]]


def test_every_operator_carries_every_link_and_the_provider_registers_them() -> None:
    assert len(RESULT_LINKS) == MAX_LINKS == RESULT_LINK_COUNT
    assert len({link.name for link in RESULT_LINKS}) == MAX_LINKS
    assert [link.index for link in RESULT_LINKS] == list(range(MAX_LINKS))
    for operator_class in (TengrPhotoPilotOperator, TengrStyleDnaOperator, TengrUpscaleOperator):
        assert [type(link) for link in operator_class.operator_extra_links] == list(RESULT_LINKS)
    registered = get_provider_info()["extra-links"]
    assert registered == [f"{link.__module__}.{link.__qualname__}" for link in (*RESULT_LINKS, *BATCH_LINKS)]
    # Airflow imports each by its path (the deserialized DAG names them so): each path must lead to it.
    imported = [
        getattr(importlib.import_module(path.rpartition(".")[0]), path.rpartition(".")[2])
        for path in registered
    ]
    assert imported == [*RESULT_LINKS, *BATCH_LINKS]


def test_a_batch_links_its_contact_sheet_only_where_a_browser_can_open_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tengr_provider.links import CONTACT_SHEET_XCOM_KEY, TengrContactSheetLink, browsable
    from tengr_provider.operators import TengrBatchOperator

    assert [type(link) for link in TengrBatchOperator.operator_extra_links] == list(BATCH_LINKS)
    sheet = "https://files.example/out/_tengr_manifests/d/r/t/-1/contact_sheet.html"
    assert browsable(sheet)
    assert not browsable("s3://bucket/out/_tengr_manifests/d/r/t/-1/contact_sheet.html")
    xcom = mock.Mock(get_value=mock.Mock(return_value=sheet))
    monkeypatch.setattr("tengr_provider.links.XCom", xcom)
    assert TengrContactSheetLink().get_link(mock.sentinel.operator, ti_key=mock.sentinel.ti_key) == sheet
    xcom.get_value.assert_called_with(ti_key=mock.sentinel.ti_key, key=CONTACT_SHEET_XCOM_KEY)
