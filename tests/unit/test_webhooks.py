"""The webhook rule: https on a public host, unless the connection allows insecure webhooks.

Newer API revisions refuse other webhooks; the hook refuses them first, before a request (and a
credit) is spent, and names the field, the rule and the switch that accepts them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from tests.helpers import BASE_URL, connection_env

from tengr_provider.hooks.tengr import TengrHook
from tengr_provider.host_policy import private_host_reason, webhook_url_problem
from tengr_provider.request_errors import TengrRequestValidationError

PHOTO_URL = f"{BASE_URL}/v1/artworks/photo-pilot"
REQUEST = {
    "image_url": "https://img.example/shoe.png",
    "image_guidance": 1,
    "modification": 3,
    "creativity": 2,
    "effort": 4,
}
CREATED = {
    "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "artworkType": "photo_pilot",
    "parameters": {},
    "duration": 0,
    "results": [],
    "status": "starting",
    "createdAt": "2026-11-29T10:00:00.000Z",
}

PRIVATE_WEBHOOKS = [
    "https://10.1.2.3/hook",
    "https://172.16.0.1/hook",
    "https://172.31.255.254/hook",
    "https://192.168.1.10:8443/hook",
    "https://127.0.0.1/hook",
    "https://127.1/hook",  # the legacy short form HTTP clients still accept
    "https://2130706433/hook",  # 127.0.0.1 as one number
    "https://[::1]/hook",
    "https://[fc00::1]/hook",
    "https://[fd12:3456::1]/hook",
    "https://[fe80::1]/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://0.0.0.0/hook",
    "https://localhost/hook",
    "https://LOCALHOST./hook",
    "https://printer.local/hook",
    "https://api.corp.internal/hook",
    "https://app.localhost/hook",
]
PUBLIC_WEBHOOKS = [
    "https://hooks.example.com/tengr",
    "https://93.184.216.34/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://172.32.0.1/hook",  # just outside 172.16/12
    "https://local.example.com/hook",  # "local" as a label, not the .local suffix
]


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def hook_with(
    monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any] | None = None, **kwargs: Any
) -> TengrHook:
    monkeypatch.setenv(*connection_env(extra=extra or {}))
    return TengrHook("tengr_default", max_retries=0, **kwargs)


@pytest.mark.parametrize("url", PRIVATE_WEBHOOKS)
def test_private_hosts_are_refused(url: str) -> None:
    problem = webhook_url_problem(url)
    assert problem is not None
    assert problem.startswith("must be on a public host;")


@pytest.mark.parametrize("url", PUBLIC_WEBHOOKS)
def test_public_https_hosts_are_accepted(url: str) -> None:
    assert webhook_url_problem(url) is None


@pytest.mark.parametrize("url", ["http://hooks.example.com/tengr", "ftp://hooks.example.com/x", "HOOK"])
def test_only_https_is_accepted(url: str) -> None:
    assert webhook_url_problem(url) == f"must be an https URL, got {url!r}"


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("10.0.0.1", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("169.254.1.1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:192.168.0.1", "private"),
        ("box.local", "local name"),
    ],
)
def test_the_reason_says_what_kind_of_host_it_is(host: str, kind: str) -> None:
    reason = private_host_reason(host)
    assert reason is not None
    assert kind in reason
    assert repr(host) in reason


@pytest.mark.parametrize("url", [*PRIVATE_WEBHOOKS[:4], "http://hooks.example.com/tengr"])
def test_the_hook_refuses_before_any_request(
    monkeypatch: pytest.MonkeyPatch, mocked: responses.RequestsMock, url: str
) -> None:
    hook = hook_with(monkeypatch)
    with pytest.raises(TengrRequestValidationError) as raised:
        hook.create_photo_pilot({**REQUEST, "webhook": url})
    message = str(raised.value)
    assert "webhook:" in message
    assert "allow_insecure_webhooks" in message
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("extra", "kwargs"),
    [
        ({"allow_insecure_webhooks": True}, {}),
        ({"allow_insecure_webhooks": "true"}, {}),
        ({}, {"allow_insecure_webhooks": True}),
    ],
)
@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/hook", "https://10.0.0.5/hook"])
def test_the_connection_or_the_hook_argument_allows_insecure_webhooks(
    monkeypatch: pytest.MonkeyPatch,
    mocked: responses.RequestsMock,
    extra: dict[str, Any],
    kwargs: dict[str, Any],
    url: str,
) -> None:
    mocked.post(PHOTO_URL, json=CREATED, status=201)
    hook = hook_with(monkeypatch, extra, **kwargs)

    hook.create_photo_pilot({**REQUEST, "webhook": url})

    assert len(mocked.calls) == 1
    assert b'"webhook"' in (mocked.calls[0].request.body or b"")


def test_the_hook_argument_beats_the_extra(
    monkeypatch: pytest.MonkeyPatch, mocked: responses.RequestsMock
) -> None:
    hook = hook_with(monkeypatch, {"allow_insecure_webhooks": True}, allow_insecure_webhooks=False)
    with pytest.raises(TengrRequestValidationError, match="webhook: must be an https URL"):
        hook.create_photo_pilot({**REQUEST, "webhook": "http://hooks.example.com/x"})
    assert len(mocked.calls) == 0


def test_a_public_https_webhook_is_sent(
    monkeypatch: pytest.MonkeyPatch, mocked: responses.RequestsMock
) -> None:
    mocked.post(PHOTO_URL, json=CREATED, status=201)
    hook_with(monkeypatch).create_photo_pilot({**REQUEST, "webhook": "https://hooks.example.com/tengr"})
    assert len(mocked.calls) == 1


def test_no_webhook_needs_no_check(monkeypatch: pytest.MonkeyPatch, mocked: responses.RequestsMock) -> None:
    mocked.post(PHOTO_URL, json=CREATED, status=201)
    hook_with(monkeypatch).create_photo_pilot(REQUEST)
    assert len(mocked.calls) == 1
