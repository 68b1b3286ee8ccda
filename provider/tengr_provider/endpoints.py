"""What an artwork endpoint's name means: which call of the path table, and which model checks its body.

:meth:`TengrHook.create_artwork <tengr_provider.hooks.tengr.TengrHook.create_artwork>`,
:class:`~tengr_provider.operators.TengrCreateArtworkOperator` and the batch operator route a name the
same way because they all read it here: an endpoint with a model (photo-pilot, upscaling,
style-dna/generate) is validated by that model and posted to its own call; any other name goes to the
version's artworks route (``remove-background``), and a path with a slash below the version root
(``style-dna/edit``). The paths themselves are :mod:`tengr_provider.api_paths`'s.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from tengr_provider.api_paths import API_VERSIONS
from tengr_provider.models import ApiRequest, PhotoPilotRequest, StyleDnaRequest, UpscalingRequest

#: Endpoints whose bodies a model validates (others go as given), and the call of the path table each is.
ENDPOINT_MODELS: dict[str, tuple[str, type[ApiRequest]]] = {
    "photo-pilot": ("photo-pilot", PhotoPilotRequest),
    "upscaling": ("upscaling", UpscalingRequest),
    "style-dna/generate": ("style-dna", StyleDnaRequest),
}
#: Other names of endpoints: ``style-dna`` is the style-dna call (``style-dna/generate``).
ENDPOINT_ALIASES = {"style-dna": "style-dna/generate"}
#: Calls that are synchronous in V1 (they answer with the result) and take no webhook there.
SYNCHRONOUS_IN_V1 = frozenset({"style-dna", "upscaling"})
_ENDPOINT = re.compile(r"[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*")


def canonical_endpoint(endpoint: str) -> str:
    """``endpoint`` as the hook names it: no slashes around it, aliases resolved."""
    name = str(endpoint).strip().strip("/")
    return ENDPOINT_ALIASES.get(name, name)


def endpoint_model(endpoint: str) -> type[ApiRequest] | None:
    """The model that validates ``endpoint``'s bodies, or None when they are sent as given."""
    known = ENDPOINT_MODELS.get(canonical_endpoint(endpoint))
    return known[1] if known is not None else None


class Route(NamedTuple):
    """Where an endpoint's create goes: the path table's call, its values, and the model of its body."""

    call: str
    values: dict[str, str]
    model: type[ApiRequest] | None


def endpoint_route(endpoint: str) -> Route:
    """The path table's call and values for ``endpoint`` (an endpoint's name or a path below the root),
    and the model that validates its bodies (None: sent as given).

    :raises ValueError: ``endpoint`` is neither, naming the field and the rule.
    """
    name = canonical_endpoint(endpoint) if isinstance(endpoint, str) else ""
    if not _ENDPOINT.fullmatch(name) or name.split("/")[0] in API_VERSIONS:
        raise ValueError(
            f"endpoint: must be an artwork endpoint's name (remove-background) or a path below the API "
            f"version (style-dna/edit), without the version, got {endpoint!r}"
        )
    if name in ENDPOINT_MODELS:
        call, model = ENDPOINT_MODELS[name]
        return Route(call, {}, model)
    if "/" in name:
        return Route("version-path", {"path": name}, None)
    return Route("artwork-endpoint", {"endpoint": name}, None)
