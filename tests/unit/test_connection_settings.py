"""How a tengr connection becomes the hook's settings: base URL, key, timeout, retries."""

from __future__ import annotations

from typing import Any

import pytest

from tengr_provider.exceptions import TengrAuthError
from tengr_provider.hooks._settings import base_url_from_host, settings_from_connection


def settings(**overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "conn_id": "c",
        "host": None,
        "schema": None,
        "port": None,
        "password": "k",
        "extras": {},
    }
    return settings_from_connection(**{**fields, **overrides})


@pytest.mark.parametrize(
    ("host", "schema", "port", "expected"),
    [
        (None, None, None, "https://api.tengr.ai"),
        ("", None, None, "https://api.tengr.ai"),
        ("api.tengr.ai", None, None, "https://api.tengr.ai"),
        ("api.tengr.ai/", None, None, "https://api.tengr.ai"),
        ("http://127.0.0.1:8099", None, None, "http://127.0.0.1:8099"),
        ("127.0.0.1", "http", 8099, "http://127.0.0.1:8099"),
        ("https://proxy.example/tengr/", None, 443, "https://proxy.example/tengr"),
    ],
)
def test_base_url_from_host(host: str | None, schema: str | None, port: int | None, expected: str) -> None:
    assert base_url_from_host(host, schema, port) == expected


def test_defaults() -> None:
    resolved = settings()
    assert (resolved.timeout, resolved.max_retries, resolved.retry_creates) == (60.0, 5, True)
    assert resolved.rate_limit_timeout == 600.0


def test_rate_limit_patience_comes_from_extra_or_argument() -> None:
    assert settings(extras={"rate_limit_timeout": "90"}).rate_limit_timeout == 90.0
    assert settings(extras={"rate_limit_timeout": 90}, rate_limit_timeout=5).rate_limit_timeout == 5.0


def test_extras_set_timeout_retries_and_create_retries() -> None:
    resolved = settings(extras={"timeout": "15", "max_retries": 2, "retry_creates": "false"})
    assert (resolved.timeout, resolved.max_retries, resolved.retry_creates) == (15.0, 2, False)


def test_legacy_prefixed_extras_are_read() -> None:
    resolved = settings(extras={"extra__tengr__timeout": 9, "extra__tengr__max_retries": 0})
    assert (resolved.timeout, resolved.max_retries) == (9.0, 0)


def test_hook_arguments_beat_extras() -> None:
    resolved = settings(
        extras={"timeout": 15, "max_retries": 2}, timeout=3, max_retries=7, retry_creates=False
    )
    assert (resolved.timeout, resolved.max_retries, resolved.retry_creates) == (3.0, 7, False)


def test_missing_key_is_an_auth_error_naming_the_connection() -> None:
    with pytest.raises(TengrAuthError, match="connection 'c' has no API key"):
        settings(password=None)


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({"timeout": 0}, "timeout: must be >= 0.01 seconds, got 0"),
        ({"max_retries": -1}, "max_retries: must be >= 0"),
        ({"rate_limit_timeout": -1}, "rate_limit_timeout: must be >= 0"),
    ],
)
def test_bad_numbers_are_refused(kwargs: dict[str, Any], rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        settings(**kwargs)


def test_key_is_not_in_repr() -> None:
    resolved = settings(password="tk-very-secret-value")
    assert "tk-very-secret-value" not in repr(resolved)
    assert resolved.headers()["Authorization"] == "Bearer tk-very-secret-value"


def test_new_extras_default_to_documented_values() -> None:
    resolved = settings()
    assert (resolved.backoff_initial, resolved.backoff_max) == (1.0, 60.0)
    assert resolved.allow_insecure_webhooks is False


def test_new_extras_are_read_and_hook_arguments_beat_them() -> None:
    extras = {"backoff_initial": "0.5", "backoff_max": 8, "allow_insecure_webhooks": "yes"}
    resolved = settings(extras=extras)
    assert (resolved.backoff_initial, resolved.backoff_max, resolved.allow_insecure_webhooks) == (
        0.5,
        8.0,
        True,
    )
    overridden = settings(extras=extras, backoff_initial=2, backoff_max=3, allow_insecure_webhooks=False)
    assert (overridden.backoff_initial, overridden.backoff_max) == (2.0, 3.0)
    assert overridden.allow_insecure_webhooks is False


@pytest.mark.parametrize(
    ("extras", "rule"),
    [
        ({"backoff_initial": 0}, "backoff_initial: must be >= 0.01 seconds, got 0"),
        ({"backoff_initial": -1}, "backoff_initial: must be >= 0.01 seconds"),
        ({"backoff_initial": 5, "backoff_max": 2}, r"backoff_max: must be >= backoff_initial \(5 s\), got 2"),
        ({"backoff_initial": "soon"}, "backoff_initial: expected a number, got 'soon'"),
        ({"backoff_max": "1m"}, "backoff_max: expected a number, got '1m'"),
        ({"backoff_max": True}, "backoff_max: expected a number, got True"),
        ({"timeout": "ten"}, "timeout: expected a number, got 'ten'"),
        ({"max_retries": "three"}, "max_retries: expected a whole number, got 'three'"),
        ({"max_retries": 2.5}, "max_retries: expected a whole number, got 2.5"),
        (
            {"allow_insecure_webhooks": "maybe"},
            "allow_insecure_webhooks: expected true or false, got 'maybe'",
        ),
        ({"allow_insecure_webhooks": 2}, "allow_insecure_webhooks: expected true or false, got 2"),
        ({"retry_creates": "nope"}, "retry_creates: expected true or false, got 'nope'"),
    ],
)
def test_invalid_extras_are_refused_naming_the_field(extras: dict[str, Any], rule: str) -> None:
    with pytest.raises(ValueError, match=rule) as raised:
        settings(extras=extras)
    assert "'k'" not in str(raised.value)  # the key is never part of the message


@pytest.mark.parametrize(
    ("word", "expected"), [("on", True), ("OFF", False), ("0", False), (1, True), (False, False)]
)
def test_switch_extras_accept_the_usual_spellings(word: object, expected: bool) -> None:
    assert settings(extras={"allow_insecure_webhooks": word}).allow_insecure_webhooks is expected
    assert settings(extras={"retry_creates": word}).retry_creates is expected


def test_several_problems_are_reported_at_once() -> None:
    with pytest.raises(
        ValueError, match=r"connection 'c': timeout: must be >= 0.01.*; backoff_initial: must be >= 0.01"
    ):
        settings(extras={"timeout": -1, "backoff_initial": 0})


def test_the_connection_form_and_the_settings_model_agree() -> None:
    from tengr_provider import get_provider_info
    from tengr_provider.hooks._settings import ConnectionSettings

    form = get_provider_info()["connection-types"][0]["conn-fields"]
    model = ConnectionSettings.model_json_schema(by_alias=False)["properties"]
    extras = {name: spec for name, spec in model.items() if name not in ("base_url", "api_key")}
    assert sorted(form) == sorted(extras)
    bounds = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")
    # Airflow's form enforces minimum and maximum only: an exclusive bound would be shown, not kept.
    assert not [
        name for name, spec in form.items() if {"exclusiveMinimum", "exclusiveMaximum"} & set(spec["schema"])
    ]
    for name, spec in form.items():
        shown, stated = spec["schema"], extras[name]
        assert shown["type"] == [stated["type"], "null"], name
        assert shown["default"] == stated["default"], name
        assert shown.get("enum") == stated.get("enum"), name
        assert {key: shown[key] for key in bounds if key in shown} == {
            key: stated[key] for key in bounds if key in stated
        }, name


@pytest.mark.parametrize("name", ["timeout", "max_retries", "rate_limit_timeout", "backoff_initial"])
def test_numbers_refuse_booleans(name: str) -> None:
    with pytest.raises(ValueError, match=f"{name}: expected a number, got True"):
        settings(extras={name: True})


def test_an_empty_extra_falls_back_to_the_legacy_name_then_the_default() -> None:
    assert settings(extras={"timeout": "", "extra__tengr__timeout": "7"}).timeout == 7.0
    assert settings(extras={"timeout": "", "max_retries": None}).timeout == 60.0
