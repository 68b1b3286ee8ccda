"""Path templates to handlers, and the stable route names the stats are counted under."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

_HandlerT = TypeVar("_HandlerT")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: Unknown paths are counted under their own text, cut to this length so a scanner cannot bloat stats.
_MAX_UNKNOWN_KEY = 200


@dataclass(frozen=True)
class Route(Generic[_HandlerT]):
    """One endpoint.

    :param methods: the HTTP methods it answers.
    :param template: the path with ``{name}`` placeholders for one path segment each.
    :param handler: what answers it.
    :param api: whether it is part of the tengr.ai API (Bearer auth and fault injection apply).
    """

    methods: tuple[str, ...]
    template: str
    handler: _HandlerT
    api: bool = False
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = _PLACEHOLDER.split(self.template)
        regex = "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)" for index, part in enumerate(parts)
        )
        object.__setattr__(self, "pattern", re.compile(regex))


@dataclass(frozen=True)
class Match(Generic[_HandlerT]):
    """The outcome of routing one request.

    :param route: the endpoint to call, or ``None`` when no endpoint has this method and path.
    :param params: the placeholder values taken from the path.
    :param key: the name the stats count the request under, e.g. ``GET /v1/artworks/{id}``.
    """

    route: Route[_HandlerT] | None
    params: Mapping[str, str]
    key: str


class Router(Generic[_HandlerT]):
    """Finds the endpoint for a method and path; the first route listed wins."""

    def __init__(self, routes: list[Route[_HandlerT]]) -> None:
        self._routes = routes

    def route_keys(self) -> list[str]:
        """``METHOD template`` of every route, in order."""
        return [f"{method} {route.template}" for route in self._routes for method in route.methods]

    def match(self, method: str, path: str) -> Match[_HandlerT]:
        """Route ``method`` ``path``; a known path with the wrong method is still named by its template."""
        if len(path) > 1:
            path = path.rstrip("/") or "/"
        same_path: Route[_HandlerT] | None = None
        for route in self._routes:
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            if method in route.methods:
                return Match(route, found.groupdict(), f"{method} {route.template}")
            same_path = same_path or route
        key = f"{method} {same_path.template if same_path else path[:_MAX_UNKNOWN_KEY]}"
        return Match(None, {}, key)
