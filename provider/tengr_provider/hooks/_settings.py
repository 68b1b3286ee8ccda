"""The connection's settings, stated once as a pydantic model: names, defaults, bounds, legacy names.

The connection form (``conn-fields`` in :func:`tengr_provider.get_provider_info`) describes the same
fields for the UI; a unit test compares the two schemas so that they cannot drift. The provider info
itself stays free of pydantic, because Airflow imports it in every process that lists providers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    AliasGenerator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from tengr_provider import DEFAULT_BASE_URL, SHORTEST_SECONDS, __version__
from tengr_provider.api_paths import DEFAULT_API_VERSION, PATH_NAMES, ApiVersion, api_path
from tengr_provider.exceptions import TengrAuthError

#: Where a person puts the key: the UI's form labels the password field "API key"; the CLI, URIs and
#: JSON connections call it password. Every message that points at the key says it this way.
KEY_FIELD = "the connection's API key field (the password field outside the UI)"

#: Seconds one call may wait on the server unless the connection says otherwise (``rate_limit_timeout``).
DEFAULT_RATE_LIMIT_TIMEOUT = 600.0

#: The prefix Airflow 2's connection form gave extras; such connections are still read.
LEGACY_PREFIX = "extra__tengr__"


def _not_a_boolean(value: Any) -> Any:
    """Refuse a boolean where a number belongs: pydantic would read ``True`` as 1."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    return value


_Seconds = Annotated[float, BeforeValidator(_not_a_boolean)]
_Count = Annotated[int, BeforeValidator(_not_a_boolean)]


class ConnectionSettings(BaseModel):
    """Everything a hook needs from an Airflow connection, resolved once.

    :param base_url: scheme, host and optional port, without a trailing slash.
    :param api_key: the bearer token; kept out of ``repr()``.
    :param timeout: seconds one HTTP call may take.
    :param max_retries: how many times a retryable failure is tried again.
    :param retry_creates: whether a create call is retried after an answer that may mean it already
        happened (5xx, a timeout, a dropped connection); retrying can create a second artwork.
    :param rate_limit_timeout: seconds one call may sleep waiting on the server: 429s (which do not
        count against ``max_retries``) are retried and ``Retry-After`` honoured until then; a wait that
        would pass it ends the call at once with the server's answer.
    :param allow_insecure_webhooks: accept webhook URLs that are plain http or point at a private host
        (newer API revisions refuse them; older ones, private deployments and the emulator may not).
    :param backoff_initial: first wait before a retry, in seconds; it doubles with each retry.
    :param backoff_max: longest backoff wait, in seconds (a server's ``Retry-After`` is honoured as sent).
    :param api_version: ``v1`` or ``v2``: which column of :data:`tengr_provider.api_paths.PATHS` the
        calls use.
    :param api_paths: ``{call name: path}`` entries that replace the table's, e.g.
        ``{"photo-pilot": "/v1/artworks/photo-pilot"}``; for a route the docs do not state.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        populate_by_name=True,
        alias_generator=AliasGenerator(
            validation_alias=lambda name: AliasChoices(name, f"{LEGACY_PREFIX}{name}")
        ),
    )

    base_url: str = DEFAULT_BASE_URL
    api_key: str = Field(repr=False, exclude=True)
    timeout: _Seconds = Field(60.0, ge=SHORTEST_SECONDS)
    max_retries: _Count = Field(5, ge=0)
    retry_creates: bool = True
    # A 429 means nothing was done, so waiting is always safe; counting 429s against ``max_retries``
    # instead made big batches fail under a rate limit.
    rate_limit_timeout: _Seconds = Field(DEFAULT_RATE_LIMIT_TIMEOUT, ge=0)
    allow_insecure_webhooks: bool = False
    backoff_initial: _Seconds = Field(1.0, ge=SHORTEST_SECONDS)
    backoff_max: _Seconds = Field(60.0, ge=SHORTEST_SECONDS)
    api_version: ApiVersion = DEFAULT_API_VERSION
    api_paths: dict[str, str] = {}

    @field_validator("api_version", mode="before")
    @classmethod
    def _version_spelling(cls, value: Any) -> Any:
        """``V2`` and `` v2 `` mean ``v2``."""
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("api_paths", mode="before")
    @classmethod
    def _paths_from_text(cls, value: Any) -> Any:
        """A form or an environment variable may give the overrides as JSON text."""
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError(f"expected a JSON object of call name to path, got {value!r}") from None
        return value

    @field_validator("api_paths")
    @classmethod
    def _known_calls(cls, value: dict[str, str]) -> dict[str, str]:
        for name, path in value.items():
            if name not in PATH_NAMES:
                raise ValueError(f"unknown call {name!r}; known: {', '.join(sorted(PATH_NAMES))}")
            if not path.startswith("/"):
                raise ValueError(f"{name}: a path starts with '/', got {path!r}")
        return value

    def path(self, name: str, **values: str) -> str:
        """The path of call ``name`` for this connection's API version and overrides."""
        return api_path(self.api_version, name, self.api_paths, **values)

    @model_validator(mode="before")
    @classmethod
    def _blank_means_unset(cls, data: Any) -> Any:
        """An extra left empty in the form (``""``) or ``null`` falls back to the default."""
        if isinstance(data, Mapping):
            return {key: value for key, value in data.items() if value not in (None, "")}
        return data

    @model_validator(mode="after")
    def _backoff_in_order(self) -> ConnectionSettings:
        if self.backoff_max < self.backoff_initial:
            raise ValueError(
                f"backoff_max: must be >= backoff_initial ({self.backoff_initial:g} s), "
                f"got {self.backoff_max:g}"
            )
        return self

    def headers(self) -> dict[str, str]:
        """Headers sent with every call."""
        return {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": f"airflow-provider-tengr/{__version__}",
        }

    def redact(self, text: str) -> str:
        """Remove the API key from ``text``, in case a server or library echoes it back.

        The escaped form is removed too: a library that quotes the header with ``repr()`` writes it so.
        """
        if not self.api_key:
            return text
        for form in (self.api_key, repr(self.api_key)[1:-1]):
            text = text.replace(form, "***")
        return text


#: Extras that are numbers of seconds, for messages (``must be >= 0.01 seconds``).
_SECONDS = frozenset(
    name for name, info in ConnectionSettings.model_fields.items() if info.annotation is float
)


def _problem(error: ErrorDetails) -> str:
    """One ``field: rule`` line of a validation error, in the words the docs use."""
    name = str(error["loc"][0]).removeprefix(LEGACY_PREFIX) if error["loc"] else ""
    got, ctx, kind = error.get("input"), error.get("ctx", {}), error["type"]
    unit = " seconds" if name in _SECONDS else ""
    if kind in ("greater_than", "greater_than_equal"):
        sign, bound = (">", ctx["gt"]) if kind == "greater_than" else (">=", ctx["ge"])
        return f"{name}: must be {sign} {bound:g}{unit}, got {float(got):g}"
    if kind.startswith("bool"):
        return f"{name}: expected true or false, got {got!r}"
    if kind.startswith("int"):
        return f"{name}: expected a whole number, got {got!r}"
    if kind.startswith("float"):
        return f"{name}: expected a number, got {got!r}"
    if kind == "literal_error":
        return f"{name}: must be one of {ctx['expected']}, got {got!r}"
    message = str(ctx.get("error", error["msg"]))
    return message if message.startswith(f"{name}:") or not name else f"{name}: {message}"


def base_url_from_host(host: str | None, schema: str | None = None, port: int | None = None) -> str:
    """Turn the connection's host field into a base URL; a bare host gets ``https://``."""
    host = (host or "").strip().rstrip("/")
    if not host:
        return DEFAULT_BASE_URL
    if "://" not in host:
        host = f"{schema or 'https'}://{host}"
        if port:
            host = f"{host}:{port}"
    return host


def api_key_from_password(conn_id: str, password: str | None) -> str:
    """The API key from the connection's password field ("API key" in the UI), safe for a header.

    Surrounding whitespace is dropped: a key pasted from a secret file often ends with a newline. A key
    with a control character or line break inside is refused, because ``requests`` and ``aiohttp``
    quote the whole ``Bearer <key>`` header in the error they raise for it. The message names the field,
    never the value.

    :raises TengrAuthError: the key is missing or cannot be sent as a header.
    """
    key = (password or "").strip()
    if not key:
        raise TengrAuthError(
            None,
            f"connection {conn_id!r} has no API key",
            hint=f"put the tengr.ai API key in {KEY_FIELD}",
        )
    if not key.isprintable():
        raise TengrAuthError(
            None,
            f"connection {conn_id!r}: the API key in {KEY_FIELD} contains a control character or a "
            "line break",
            hint="paste the key again as one line; the key itself is not shown",
        )
    return key


def settings_from_connection(
    *,
    conn_id: str,
    host: str | None,
    schema: str | None,
    port: int | None,
    password: str | None,
    extras: Mapping[str, Any],
    **overrides: Any,
) -> ConnectionSettings:
    """Resolve settings: hook arguments win over connection extras, which win over defaults.

    :param overrides: the hook's constructor arguments (``None`` means "not given").
    :raises TengrAuthError: the API key is missing or cannot be sent.
    :raises ValueError: naming every extra that is out of range or of the wrong kind, never the key.
    """
    fields = {**extras, **{name: value for name, value in overrides.items() if value is not None}}
    api_key = api_key_from_password(conn_id, password)
    try:
        return ConnectionSettings.model_validate(
            {**fields, "base_url": base_url_from_host(host, schema, port), "api_key": api_key}
        )
    except ValidationError as error:
        problems = "; ".join(_problem(detail) for detail in error.errors(include_url=False))
        raise ValueError(f"connection {conn_id!r}: {problems}") from None
