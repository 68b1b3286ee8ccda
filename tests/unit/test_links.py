"""The result-image extra link reads what the operator pushed for that task instance."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from tengr_provider import get_provider_info
from tengr_provider.links import RESULT_URL_XCOM_KEY, TengrResultImageLink
from tengr_provider.operators import TengrPhotoPilotOperator, TengrStyleDnaOperator, TengrUpscaleOperator


@pytest.mark.parametrize(
    ("pushed", "link"), [("https://cdn.example/a.png", "https://cdn.example/a.png"), ("", ""), (None, "")]
)
def test_link_is_the_pushed_result_url(pushed: Any, link: str) -> None:
    with mock.patch("tengr_provider.links.XCom") as xcom:
        xcom.get_value.return_value = pushed
        assert TengrResultImageLink().get_link(mock.sentinel.operator, ti_key=mock.sentinel.ti_key) == link
    xcom.get_value.assert_called_once_with(ti_key=mock.sentinel.ti_key, key=RESULT_URL_XCOM_KEY)


def test_every_operator_carries_the_link_and_the_provider_registers_it() -> None:
    for operator_class in (TengrPhotoPilotOperator, TengrStyleDnaOperator, TengrUpscaleOperator):
        assert any(isinstance(link, TengrResultImageLink) for link in operator_class.operator_extra_links)
    assert "tengr_provider.links.TengrResultImageLink" in get_provider_info()["extra-links"]
