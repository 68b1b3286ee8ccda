"""The run's shared context: every hook of a doctor run checks the one version the report names."""

from __future__ import annotations

import json

import pytest

from tengr_provider.doctor.connection import from_command_line
from tengr_provider.doctor.context import Context, Options

BASE_URL = "https://api.tengr.example"


def context(monkeypatch: pytest.MonkeyPatch, version: str, api_version: str | None = None) -> Context:
    """A run on a connection whose ``api_version`` extra is ``version``; nothing is sent.

    :param api_version: ``--api-version``.
    """
    monkeypatch.setenv("TENGR_DOCTOR_TEST_KEY", "a-key")
    connection = from_command_line(BASE_URL, "TENGR_DOCTOR_TEST_KEY")
    connection.extra = json.dumps({"api_version": version})
    return Context(connection, Options(api_version=api_version))


def test_the_made_up_key_asks_the_version_given_on_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = context(monkeypatch, "v1", api_version="v2")

    wrong_key = ctx.wrong_key_hook("made-up")

    assert ctx.settings.api_version == "v2"
    assert wrong_key.settings.path("artworks") == ctx.settings.path("artworks") == "/v2/artworks"


def test_the_made_up_key_asks_the_version_that_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = context(monkeypatch, "v1")
    ctx.version = "v2"  # the connection's v1 did not answer, v2 did

    assert ctx.wrong_key_hook("made-up").settings.api_version == "v2"
    assert ctx.settings.api_version == "v2"


@pytest.mark.parametrize(("version", "api_version"), [("v1", None), ("v2", None), ("v1", "v2")])
def test_one_hook_per_version_whether_it_is_named_or_the_default(
    monkeypatch: pytest.MonkeyPatch, version: str, api_version: str | None
) -> None:
    ctx = context(monkeypatch, version, api_version)

    checked = ctx.settings.api_version

    assert ctx.hook(checked) is ctx.hook()
    assert ctx.hook(checked, retries=False) is ctx.hook(retries=False) is not ctx.hook()
