"""Answers the emulator gives, independent of sockets: a status, headers and bytes, or "hang up"."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Response:
    """One answer.

    :param status: HTTP status code.
    :param body: the bytes after the headers.
    :param content_type: the ``Content-Type`` header.
    :param headers: more headers, e.g. ``Retry-After``.
    :param drop: close the connection without answering at all (the injected "dropped" fault).
    :param cut_after: send only this many bytes of the body, then close the connection (the headers
        still announce all of it): a download that breaks mid-stream.
    :param chunked: send the body with ``Transfer-Encoding: chunked`` instead of a ``Content-Length``.
    """

    status: int
    body: bytes = b""
    content_type: str = JSON_CONTENT_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    drop: bool = False
    cut_after: int | None = None
    chunked: bool = False


#: Close the connection without an answer.
DROP = Response(0, drop=True)


def json_response(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """A JSON answer, compact like the API's."""
    return Response(status, json.dumps(payload, separators=(",", ":")).encode(), headers=headers)


def nest_error(
    status: int,
    message: str | list[str] | None = None,
    error: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    """An error in the shape NestJS (the API's framework) sends: ``{"message", "error", "statusCode"}``.

    :param message: a text, or for validation errors one line per problem; defaults to the status's
        reason phrase.
    :param error: the reason phrase NestJS adds to most errors; left out when ``None``.
    """
    payload: dict[str, Any] = {"message": message if message is not None else HTTPStatus(status).phrase}
    if error is not None:
        payload["error"] = error
    payload["statusCode"] = status
    return json_response(status, payload, headers)


def bad_request(problems: list[str]) -> Response:
    """400 with NestJS's validation shape: ``message`` is a list of problems."""
    return nest_error(400, problems, "Bad Request")


def not_found(message: str) -> Response:
    """404 in NestJS's shape."""
    return nest_error(404, message, "Not Found")
