"""What an operator's asset event says about its result: which artwork, which stored files.

A DAG scheduled on an operator's outlet reads ``triggering_asset_events`` to find exactly the new
images; a bare event would only say "something changed". The extra stays small JSON: ids, URLs and
file URIs, a digest of the request instead of the request itself, never image bytes or the key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any


def request_digest(request_body: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the request as sent: equal requests have equal digests, whatever the order."""
    canonical = json.dumps(request_body, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def result_event_extra(result: Mapping[str, Any], request_body: Mapping[str, Any]) -> dict[str, Any]:
    """The asset-event extra of one finished result (an artwork's JSON, or a style-dna answer).

    :param result: the operator's return value: the API's JSON plus ``files`` when stored.
    :param request_body: the request as sent, for its digest.
    """
    image_url = result.get("imageUrl")
    return {
        "artwork_id": result.get("id") or result.get("artworkId"),
        "artwork_type": result.get("artworkType", "style_dna" if image_url else None),
        "files": list(result.get("files", [])),
        "results": list(result.get("results") or ([image_url] if image_url else [])),
        "request_digest": request_digest(request_body),
    }


def announce(outlets: Iterable[object], outlet_events: Any, extra: Mapping[str, Any]) -> None:
    """Set ``extra`` on the event of every asset among ``outlets`` (aliases and other kinds are skipped).

    :param outlets: the operator's ``outlets``.
    :param outlet_events: the task context's ``outlet_events`` accessor.
    """
    from tengr_provider.version_compat import Asset

    for outlet in outlets:
        if isinstance(outlet, Asset):
            outlet_events[outlet].extra.update(extra)
