"""Which hosts a URL given to the provider may name: public ones, decided from the text alone.

A webhook URL is one the API will call back, so a private or loopback host there is either a mistake
or an attempt to make tengr.ai reach into the pipeline's network. The rule lives apart from the request
models because whether it applies is the connection's decision (an older API revision, a private
deployment, the emulator), taken by the hook; the models only state what the API documents.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

#: Host names that never lead to a public server: ``localhost`` and the names of local networks.
_PRIVATE_NAMES = ("localhost",)
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal")


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``host`` spells, including the legacy IPv4 forms (``127.1``, ``2130706433``,
    ``0x7f.0.0.1``) that HTTP clients still accept; ``None`` for a host name. No DNS lookup."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, UnicodeError, ValueError):
        return None


def private_host_reason(host: str) -> str | None:
    """Why ``host`` is not a public host, or ``None`` when it may be one.

    Decided from the text alone, never by resolving DNS (an answer that would change with the network
    the worker runs in, and a lookup a validation must not make).
    """
    name = host.strip().rstrip(".").lower()
    if name in _PRIVATE_NAMES or name.endswith(_PRIVATE_SUFFIXES):
        return f"{host!r} is a local name (localhost, .local, .internal)"
    address = _ip_literal(name)
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    kinds = (
        ("is_loopback", "a loopback"),
        ("is_unspecified", "an unspecified"),
        ("is_link_local", "a link-local"),
        ("is_private", "a private (RFC 1918 / unique-local)"),
    )
    for attribute, kind in kinds:
        if getattr(address, attribute):
            return f"{host!r} is {kind} address"
    return None


def webhook_url_problem(url: str) -> str | None:
    """Why tengr.ai would refuse to call ``url`` back, or ``None`` when it is acceptable.

    Newer API revisions POST webhooks only to https URLs on public hosts. Whether a pipeline may still
    use http or a private host (an older API revision, a private deployment, the emulator) is the
    connection's decision, so this rule is applied by the hook, not by :class:`PhotoPilotRequest`.
    """
    parsed = urlsplit(url)
    if parsed.scheme.lower() != "https":
        return f"must be an https URL, got {url!r}"
    reason = private_host_reason(parsed.hostname or "")
    if reason is not None:
        return f"must be on a public host; {reason}"
    return None
