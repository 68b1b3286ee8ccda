"""The emulated tengr.ai API: requests in, answers out, with no knowledge of sockets.

Every request body is validated by the provider's own models (:func:`tengr_provider.models.parse_request`),
so the emulator refuses exactly what the provider's rules say the API refuses. Injected faults sit
"in front" of the API like a gateway would: they answer before authentication and before any work,
except the 504 of a synchronous call, which comes after the work is done.
"""

from __future__ import annotations

import email.utils
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from tengr_provider.api_paths import API_VERSIONS, CREATE_CALLS, PATHS
from tengr_provider.models import (
    NEGATIVE_PROMPT_WORD_LIMIT,
    PROMPT_WORD_LIMIT,
    UPSCALING_MAX_SOURCE_AREA,
    ArtworkStatus,
    PhotoPilotRequest,
    StyleDnaRequest,
    UpscalingRequest,
    parse_request,
)
from tengr_provider.request_errors import TengrRequestValidationError
from tengr_provider.testing.config import EmulatorConfig
from tengr_provider.testing.faults import FaultPlan
from tengr_provider.testing.images import CONTENT_TYPES, ImageCache, encode, pad_png, pillow_available
from tengr_provider.testing.pictures import (
    Look,
    Picture,
    described_look,
    drawable,
    restyle_look,
    sample_picture,
    upscale_look,
)
from tengr_provider.testing.responses import (
    DROP,
    Response,
    bad_request,
    json_response,
    nest_error,
    not_found,
)
from tengr_provider.testing.router import Route, Router
from tengr_provider.testing.sizes import (
    DEFAULT_SIZE,
    Size,
    photo_pilot_size,
    style_dna_size,
    upscaled_size,
)
from tengr_provider.testing.stats import BROKEN, DROPPED, StatsRecorder
from tengr_provider.testing.store import (
    FILES_PREFIX,
    RESULT_FORMAT,
    ArtworkRecord,
    ArtworkStore,
    OutOfCreditsError,
    iso_timestamp,
)

log = logging.getLogger(__name__)

_RequestT = TypeVar("_RequestT", PhotoPilotRequest, StyleDnaRequest, UpscalingRequest)
Handler = Callable[["Request", Mapping[str, str]], Response]

#: Where sample source images are served: ``/samples/<name>.png?width=W&height=H``.
SAMPLES_PREFIX = "/samples/"
#: Largest edge of a sample image; big enough for an over-cap upscaling source, small enough to encode.
MAX_SAMPLE_EDGE = 10_000
_SAMPLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.png")
#: What a result-image URL serves under the ``file_not_image_rate`` fault: a CDN's error page, with 200.
HTML_CONTENT_TYPE = "text/html; charset=utf-8"
NOT_AN_IMAGE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
    b"<body><h1>Service Unavailable</h1><p>The origin could not be reached.</p></body></html>"
)


@dataclass(frozen=True)
class Request:
    """One HTTP request, already read off the socket.

    :param headers: header names in lower case.
    :param base_url: ``http://<Host header>``: result URLs are built on it, so they are reachable
        through whatever address the client used.
    """

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    base_url: str


class _RefusedError(Exception):
    """A request that must be answered with ``response`` instead of going on."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class EmulatorApp:
    """The API's behaviour over shared state.

    :param config: the emulator's settings.
    :param store: artworks, images and credits.
    :param stats: request and creation counters.
    :param faults: seeded fault decisions.
    :param images: cache of encoded images.
    :param stopping: set when the server stops, so injected delays end at once.
    :param local_netlocs: ``host:port`` spellings of this server, to recognise its own image URLs.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        store: ArtworkStore,
        stats: StatsRecorder,
        faults: FaultPlan,
        images: ImageCache,
        stopping: threading.Event,
        local_netlocs: frozenset[str],
    ) -> None:
        self._config = config
        self._store = store
        self._stats = stats
        self._faults = faults
        self._images = images
        self._stopping = stopping
        self._local_netlocs = local_netlocs
        # Both API versions side by side, on the paths of the provider's own table, over one store.
        # The handlers that differ by version: V1's upscaling and style-dna answer at once (synchronous),
        # V2's answer with an artwork to wait for, as its other creates do.
        by_version = {
            "v1": {"upscaling": self._create_upscaling, "style-dna": self._generate_style_dna},
            "v2": {"upscaling": self._create_upscaling_v2, "style-dna": self._generate_style_dna_v2},
        }
        routes: list[Route[Handler]] = []
        moved = config.moved_routes
        #: Table paths a ``moved_route`` moved away from: no route serves them, not even the catch-all.
        self._moved_away = frozenset(PATHS[version][call] for version, call in moved)  # type: ignore[index]
        for version in config.versions:
            paths = PATHS[version]  # type: ignore[index]
            creates = {"photo-pilot": self._create_photo_pilot, **by_version[version]}
            routes += [
                Route(("POST",), moved.get((version, call), paths[call]), creates[call], api=True)
                for call in CREATE_CALLS
            ]
            routes += [
                Route(("GET",), paths["artworks"], self._list_artworks, api=True),
                Route(("GET",), paths["artwork"], self._get_artwork, api=True),
                Route(("POST",), paths["artwork-endpoint"], self._create_other_artwork, api=True),
            ]
        self._router: Router[Handler] = Router(
            [
                Route(("GET",), "/", self._root),
                *routes,
                Route(("GET", "HEAD"), FILES_PREFIX + "{name}", self._file),
                Route(("GET", "HEAD"), SAMPLES_PREFIX + "{name}", self._sample),
                Route(("GET",), "/_emulator/stats", self._stats_route),
            ]
        )

    # -- entry points ---------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer ``request`` and count it in the stats under its route."""
        match = self._router.match(request.method, request.path)
        try:
            response = self._dispatch(request, match.route, match.params)
        except Exception:
            log.exception("tengr emulator: %s %s failed", request.method, request.path)
            response = nest_error(500, "Internal server error")
        outcome: int | str = response.status
        if response.drop:
            outcome = DROPPED
        elif response.cut_after is not None:
            outcome = BROKEN
        self._stats.request(match.key, outcome)
        return response

    def refuse(self, method: str, path: str, response: Response) -> Response:
        """Count an answer the HTTP layer gave on its own (e.g. an unreadable body) and return it."""
        self._stats.request(self._router.match(method, path).key, response.status)
        return response

    def _dispatch(
        self, request: Request, route: Route[Handler] | None, params: Mapping[str, str]
    ) -> Response:
        if request.path.split("/")[1] in API_VERSIONS:
            fault = self._gateway_fault()
            if fault is not None:
                return fault
        if route is None:
            return self._no_route(request, params)
        if route.api:
            denied = self._authenticate(request)
            if denied is not None:
                return denied
        try:
            return route.handler(request, params)
        except _RefusedError as refused:
            return refused.response

    # -- what sits in front of the API -------------------------------------------------------------------

    def _gateway_fault(self) -> Response | None:
        """An injected fault that answers instead of the API, or ``None`` to let the request through."""
        delay = self._faults.delay()
        if delay:
            self._stopping.wait(delay)
        if self._faults.drop():
            return DROP
        retry_after = self._faults.throttle()
        if retry_after is not None:
            headers = (
                (("Retry-After", _retry_after(retry_after, self._config.retry_after_format)),)
                if self._config.rate_limit_retry_after
                else ()
            )
            return nest_error(429, "ThrottlerException: Too Many Requests", headers=headers)
        status = self._faults.server_error()
        if status is not None:
            return nest_error(status, HTTPStatus(status).phrase)
        return None

    def _authenticate(self, request: Request) -> Response | None:
        """401 (``wrong_key_status``) unless the request carries ``Authorization: Bearer <the key>``."""
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        token = token.strip()
        accepted = scheme.lower() == "bearer" and bool(token)
        if accepted and self._config.api_key is not None:
            accepted = hmac.compare_digest(token.encode(), self._config.api_key.encode())
        status = self._config.wrong_key_status
        return None if accepted else nest_error(status, HTTPStatus(status).phrase)

    # -- API routes -----------------------------------------------------------------------------------

    def _create_photo_pilot(self, request: Request, params: Mapping[str, str]) -> Response:
        body = self._parse(PhotoPilotRequest, request)
        source, picture = self._source(body.image_url, request)
        size = photo_pilot_size(body, source, low=self._config.low_image_guidance)
        self._spend_credit()
        parameters = body.to_api()
        for field, limit in (("prompt", PROMPT_WORD_LIMIT), ("negativePrompt", NEGATIVE_PROMPT_WORD_LIMIT)):
            if field in parameters:  # the API keeps the first `limit` words
                parameters[field] = " ".join(parameters[field].split()[:limit])
        look = restyle_look(picture, body.prompt, self._config.seed)
        record = self._new_artwork("photo_pilot", parameters, self._faults.photo_pilot_outcome(), size, look)
        return self._accepted(record, request)

    def _create_upscaling(self, request: Request, params: Mapping[str, str]) -> Response:
        body = self._parse(UpscalingRequest, request)
        _refuse_webhook(body)
        source, picture = self._upscaling_source(body, request)
        self._spend_credit()
        size = upscaled_size(source, body.scale_factor)
        look = upscale_look(picture)
        record = self._new_artwork(
            "upscaling", body.to_api(), self._faults.upscaling_outcome(), size, look, processing_seconds=0.0
        )
        return self._after_synchronous_work(
            json_response(201, record.to_api(record.created, request.base_url))
        )

    def _create_upscaling_v2(self, request: Request, params: Mapping[str, str]) -> Response:
        """V2: an ``upscaling_v2`` artwork that moves starting → processing → succeeded (202)."""
        body = self._parse(UpscalingRequest, request)
        source, picture = self._upscaling_source(body, request)
        self._spend_credit()
        outcome = self._faults.upscaling_outcome()
        record = self._new_artwork(
            "upscaling_v2",
            body.to_api(),
            ArtworkStatus.SUCCEEDED if outcome.is_success else outcome,
            upscaled_size(source, body.scale_factor),
            upscale_look(picture),
        )
        return self._accepted(record, request)

    def _upscaling_source(self, body: UpscalingRequest, request: Request) -> tuple[Size, Picture | None]:
        source, picture = self._source(body.image_url, request)
        if source.area > UPSCALING_MAX_SOURCE_AREA:
            raise _RefusedError(
                bad_request(
                    [
                        f"image_url (imageUrl): source image {source}={source.area} px exceeds "
                        f"{UPSCALING_MAX_SOURCE_AREA} px (upscaling source cap)"
                    ]
                )
            )
        return source, picture

    def _generate_style_dna(self, request: Request, params: Mapping[str, str]) -> Response:
        body = self._parse_style_dna(request)
        _refuse_webhook(body)
        return self._after_synchronous_work(json_response(201, self._new_style_dna_image(body, request)))

    def _new_style_dna_image(self, body: StyleDnaRequest, request: Request) -> dict[str, Any]:
        """Spend a credit, store a finished style-dna image and count it; the answer that names it."""
        self._spend_credit()
        look = described_look(body.description, "style-dna")
        image = self._store.add_style_dna(style_dna_size(body), body.extension, look)
        self._stats.created(image.id, "style_dna", iso_timestamp(image.created))
        return image.to_api(request.base_url)

    def _generate_style_dna_v2(self, request: Request, params: Mapping[str, str]) -> Response:
        """V2: a ``style_dna`` artwork (202) whose one result is the image; see docs/api-versions.md.

        With ``style_dna_v2_answer="image"``, the finished image at once, as V1 answers (with 202).
        """
        body = self._parse_style_dna(request)
        if self._config.style_dna_v2_answer == "image":
            return json_response(self._config.create_status, self._new_style_dna_image(body, request))
        self._spend_credit()
        record = self._new_artwork(
            "style_dna",
            body.to_api(),
            ArtworkStatus.SUCCEEDED,
            style_dna_size(body),
            described_look(body.description, "style-dna"),
            result_format=body.extension,
        )
        return self._accepted(record, request)

    def _parse_style_dna(self, request: Request) -> StyleDnaRequest:
        body = self._parse(StyleDnaRequest, request)
        if body.extension == "webp" and not pillow_available():
            message = (
                "tengr emulator: WebP output needs Pillow (pip install 'airflow-provider-tengr[testing]')"
            )
            log.error(message)
            raise _RefusedError(nest_error(501, message, "Not Implemented"))
        return body

    def _create_other_artwork(self, request: Request, params: Mapping[str, str]) -> Response:
        """Any other artwork endpoint (remove-background, ...): an artwork of the source's size (202).

        The emulator checks only that the body is a JSON object naming an http(s) ``imageUrl``.
        """
        if request.path in self._moved_away:
            return self._no_route(request, params)
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return bad_request(["request body must be a JSON object"])
        image_url = data.get("imageUrl")
        if not isinstance(image_url, str) or not image_url.startswith(("http://", "https://")):
            return bad_request(["imageUrl must be an http(s) URL"])
        source, picture = self._source(image_url, request)
        self._spend_credit()
        artwork_type = params["endpoint"].replace("-", "_")
        look = Look(drawable(picture), caption=(params["endpoint"],))
        record = self._new_artwork(artwork_type, data, self._faults.photo_pilot_outcome(), source, look)
        return self._accepted(record, request)

    def _new_artwork(
        self,
        artwork_type: str,
        parameters: dict[str, Any],
        outcome: ArtworkStatus,
        size: Size,
        look: Look,
        *,
        processing_seconds: float | None = None,
        result_format: str = RESULT_FORMAT,
    ) -> ArtworkRecord:
        """Store a new artwork and count its creation: every artwork route creates through here.

        ``processing_seconds`` defaults to the emulator's configured processing time; ``look`` says
        what its results show.
        """
        record = self._store.add_artwork(
            artwork_type,
            parameters,
            outcome,
            size,
            self._config.processing_seconds if processing_seconds is None else processing_seconds,
            result_format=result_format,
            look=look,
        )
        self._stats.created(record.id, record.artwork_type, iso_timestamp(record.created))
        return record

    def _accepted(self, record: ArtworkRecord, request: Request) -> Response:
        """202 (``create_status``) with the new artwork: the API's answer to every asynchronous create."""
        return json_response(self._config.create_status, record.to_api(record.created, request.base_url))

    def _no_route(self, request: Request, params: Mapping[str, str]) -> Response:
        """What a path no route serves answers, as NestJS does."""
        return not_found(f"Cannot {request.method} {request.path}")

    def _root(self, request: Request, params: Mapping[str, str]) -> Response:
        """``GET /``: the API's metadata with its routes, as the Test button reads it."""
        routes = [key for key in self._router.route_keys() if " /v" in key]
        return json_response(200, {"name": "tengr.ai API (local emulator)", "routes": routes})

    def _get_artwork(self, request: Request, params: Mapping[str, str]) -> Response:
        record = self._store.artwork(params["id"])
        if record is None:
            return not_found(f"Artwork {params['id']} not found")
        return json_response(200, record.to_api(self._store.clock(), request.base_url))

    def _list_artworks(self, request: Request, params: Mapping[str, str]) -> Response:
        problems: list[str] = []
        offset = _int_param(request.query, "offset", 0, 0, None, problems)
        limit = _int_param(request.query, "limit", 10, 1, self._config.list_limit_max, problems)
        if problems:
            return bad_request(problems)
        # A stale list shows each artwork as it was ``list_staleness`` seconds ago (a just-created one as
        # ``starting``), while the artwork read tells the truth.
        shown_at = self._store.clock() - self._config.list_staleness
        page = self._store.page(offset, limit)
        return json_response(200, [record.to_api(shown_at, request.base_url) for record in page])

    # -- files, samples, stats ------------------------------------------------------------------------

    def _file(self, request: Request, params: Mapping[str, str]) -> Response:
        file = self._store.image_file(params["name"])
        if file is None:
            return not_found(f"File {params['name']} not found or expired")
        data = self._images.get(file.name, lambda: encode(file.picture, file.image_format))
        if file.image_format == "png":
            data = pad_png(data, self._config.file_padding_bytes)
        chunked = self._config.file_chunked
        fault = self._faults.file_fault() if request.method == "GET" else None
        if fault == "not_image":
            return Response(200, NOT_AN_IMAGE_PAGE, HTML_CONTENT_TYPE, chunked=chunked)
        cut_after = len(data) // 2 if fault == "break" else None
        return Response(200, data, CONTENT_TYPES[file.image_format], cut_after=cut_after, chunked=chunked)

    def _sample(self, request: Request, params: Mapping[str, str]) -> Response:
        name = params["name"]
        if not _SAMPLE_NAME.fullmatch(name):
            return not_found(f"Sample {name} not found; samples are /samples/<name>.png")
        size = _sample_size(request.query)
        if isinstance(size, list):
            return bad_request(size)
        key = f"{SAMPLES_PREFIX}{name}@{size}"
        data = self._images.get(key, lambda: encode(sample_picture(name, size), "png"))
        return Response(200, data, CONTENT_TYPES["png"])

    def _stats_route(self, request: Request, params: Mapping[str, str]) -> Response:
        return json_response(200, self._stats.snapshot(self._store.credits_remaining).to_api())

    # -- helpers ----------------------------------------------------------------------------------------

    def _parse(self, model: type[_RequestT], request: Request) -> _RequestT:
        """Validate the JSON body with the provider's model; any problem becomes a NestJS 400."""
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise _RefusedError(bad_request(["request body must be a JSON object"]))
        problems = _snake_case_problems(model, data)
        parsed: _RequestT | None = None
        try:
            parsed = parse_request(model, data)
        except TengrRequestValidationError as error:
            problems.extend(error.problems)
        if problems or parsed is None:
            raise _RefusedError(bad_request(problems))
        return parsed

    def _spend_credit(self) -> None:
        try:
            self._store.spend_credit()
        except OutOfCreditsError:
            raise _RefusedError(nest_error(403, "Insufficient credits", "Forbidden")) from None

    def _after_synchronous_work(self, response: Response) -> Response:
        """The injected 504: the work is done and counted, but the client never hears about it."""
        if self._faults.gateway_timeout():
            return nest_error(504, "Gateway Timeout", "Gateway Timeout")
        return response

    def _source(self, url: str, request: Request) -> tuple[Size, Picture | None]:
        """The size of a source image, and its picture when it is one of this emulator's own images.

        External URLs are never fetched (tests run offline); they count as 1024x1024, picture unknown.
        An own URL that does not serve (expired, unknown, not finished) is refused as the API would
        refuse an image it cannot download.
        """
        parts = urlsplit(url)
        own = parts.netloc in self._local_netlocs or parts.netloc == urlsplit(request.base_url).netloc
        if not own:
            return DEFAULT_SIZE, None
        picture: Picture | None = None
        name = parts.path.rpartition("/")[2]
        if parts.path.startswith(SAMPLES_PREFIX) and _SAMPLE_NAME.fullmatch(name):
            size = _sample_size(parse_qs(parts.query))
            picture = sample_picture(name, size) if isinstance(size, Size) else None
        elif parts.path.startswith(FILES_PREFIX):
            file = self._store.image_file(parts.path[len(FILES_PREFIX) :])
            picture = file.picture if file else None
        if picture is not None:
            return picture.size, picture
        raise _RefusedError(
            bad_request([f"image_url (imageUrl): cannot download {url} (404 on this server)"])
        )


def _refuse_webhook(body: StyleDnaRequest | UpscalingRequest) -> None:
    """V1's synchronous calls have no webhook field: the API's whitelist refuses it."""
    if body.webhook is not None:
        raise _RefusedError(bad_request(["property webhook should not exist"]))


def _snake_case_problems(model: type[_RequestT], data: dict[str, Any]) -> list[str]:
    """The API reads camelCase only: a snake_case name the models would accept is unknown on the wire."""
    problems = []
    for name, field in model.model_fields.items():
        if field.alias and field.alias != name and name in data:
            problems.append(f"property {name} should not exist (the API spells it {field.alias})")
    return problems


def _int_param(
    query: Mapping[str, list[str]],
    name: str,
    default: int,
    low: int,
    high: int | None,
    problems: list[str],
) -> int:
    """An integer query parameter within ``low``..``high``; a problem line is added if it is not."""
    values = query.get(name)
    if not values:
        return default
    text = values[-1].strip()
    value = int(text) if re.fullmatch(r"[+-]?\d{1,12}", text) else None
    if value is None or value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        problems.append(f"{name}: must be an integer {bounds}, got {values[-1]!r}")
        return default
    return value


def _sample_size(query: Mapping[str, list[str]]) -> Size | list[str]:
    """The ``width``/``height`` a sample URL asks for, or the problems with them."""
    problems: list[str] = []
    width = _int_param(query, "width", DEFAULT_SIZE.width, 1, MAX_SAMPLE_EDGE, problems)
    height = _int_param(query, "height", DEFAULT_SIZE.height, 1, MAX_SAMPLE_EDGE, problems)
    return problems or Size(width, height)


def _retry_after(seconds: int, form: str) -> str:
    """``Retry-After`` for a wait of ``seconds``, written in ``form`` (``retry_after_format``)."""
    if form == "http-date":
        return email.utils.formatdate(time.time() + seconds, usegmt=True)
    if form == "milliseconds":
        return str(seconds * 1000)
    return str(seconds)
