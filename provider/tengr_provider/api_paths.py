"""Every path the provider calls, per API version: the one table (nowhere else names ``/v1`` or ``/v2``).

The connection's ``api_version`` extra picks a column; its ``api_paths`` extra replaces single entries
without a release, for a route the docs do not name (see :data:`ASSUMED`) or one the API moves. The
hook, the emulator and the docs page ``docs/api-versions.md`` all read this table. The module imports
nothing, so the emulator and the provider info can use it.
"""

from __future__ import annotations

from typing import Literal, get_args

#: The API versions a connection can choose (``api_version`` extra), the default, and how the connection
#: form shows each.
ApiVersion = Literal["v1", "v2"]
API_VERSIONS: tuple[ApiVersion, ...] = get_args(ApiVersion)
DEFAULT_API_VERSION: ApiVersion = "v1"
API_VERSION_LABELS: dict[ApiVersion, str] = {"v1": "V1 (deprecated)", "v2": "V2 (current)"}

#: What each named call's path is, per version. ``{id}`` is an artwork id; ``{endpoint}`` the name of an
#: artwork endpoint (``remove-background``) given to ``TengrCreateArtworkOperator``; ``{path}`` a path
#: below the version root (``style-dna/edit``) given the same way.
PATHS: dict[ApiVersion, dict[str, str]] = {
    "v1": {
        "root": "/",
        "artwork": "/v1/artworks/{id}",
        "artworks": "/v1/artworks",
        "photo-pilot": "/v1/artworks/photo-pilot",
        "style-dna": "/v1/style-dna/generate",
        "upscaling": "/v1/artworks/upscaling",
        "artwork-endpoint": "/v1/artworks/{endpoint}",
        "version-path": "/v1/{path}",
    },
    "v2": {
        "root": "/",
        "artwork": "/v2/artworks/{id}",
        "artworks": "/v2/artworks",
        "photo-pilot": "/v2/artworks/photo-pilot",
        "style-dna": "/v2/style-dna/generate",
        "upscaling": "/v2/artworks/upscaling",
        "artwork-endpoint": "/v2/artworks/{endpoint}",
        "version-path": "/v2/{path}",
    },
}

#: Entries the public docs do not state, with what we assumed; ``api_paths`` overrides them.
ASSUMED: dict[tuple[ApiVersion, str], str] = {
    ("v2", "photo-pilot"): (
        "no V2 photo-pilot page was published; the V2 docs list a Photo Pilot section and reuse the V1 "
        "request schema, so the route is assumed to follow the other V2 artwork routes"
    ),
}

#: The names of the table's calls: the keys the ``api_paths`` extra may override.
PATH_NAMES = frozenset(PATHS["v1"])
#: The table's named create calls (each a POST that spends credits), in the order ``tengr-doctor`` checks
#: and spends on them; the emulator serves each, and its ``moved_route`` setting may move any of them.
CREATE_CALLS = ("photo-pilot", "upscaling", "style-dna")


def api_path(version: ApiVersion, name: str, overrides: dict[str, str] | None = None, **values: str) -> str:
    """The path of call ``name`` under ``version``, with ``values`` filled in.

    :param overrides: the connection's ``api_paths`` extra, ``{name: path template}``.
    :raises KeyError: ``name`` is not a call of the table.
    """
    template = (overrides or {}).get(name) or PATHS[version][name]
    return template.format(**values)
