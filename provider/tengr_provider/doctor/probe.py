"""How the doctor talks to the API: the provider's own hook, with every answer on the wire recorded.

The checks call :class:`~tengr_provider.hooks.tengr.TengrHook`'s methods, so what is checked is the
provider's own URL building, parsing and error mapping; a ``requests`` response hook on the hook's
session records each answer's status, headers and timing (429s the hook retries included). Calls the
hook has no method for (a create with a body it would refuse, ``GET /``) go through the same session.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from tengr_provider._http import parse_retry_after
from tengr_provider.hooks.tengr import TengrHook
from tengr_provider.version_compat import Connection

#: Headers worth reporting: the rate-limit family and ``Retry-After``.
_RATE_HEADERS = ("retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
#: Characters of an answer's body kept (enough for an error, a route list, a short page).
_BODY_KEPT = 200_000


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as it came off the wire.

    :param path: the path and query asked for.
    :param headers: the rate-limit headers it carried, names in lower case.
    :param seconds: time from sending the request to its headers.
    """

    method: str
    path: str
    status: int
    headers: dict[str, str]
    seconds: float
    body: str = ""

    def describe(self) -> str:
        """``GET /v1/artworks → 200 in 4 ms``."""
        return f"{self.method} {self.path} → {self.status} in {self.seconds * 1000:.0f} ms"

    def json(self) -> Any:
        """The body as JSON, or ``None`` when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Recorder:
    """Keeps every answer a session received (a ``requests`` response hook)."""

    answers: list[Answer] = field(default_factory=list)

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        request = response.request
        parts = urlsplit(request.url or "")
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {name: response.headers[name] for name in _RATE_HEADERS if name in response.headers}
        self.answers.append(
            Answer(
                request.method or "",
                path,
                response.status_code,
                headers,
                response.elapsed.total_seconds(),
                response.text[:_BODY_KEPT],
            )
        )

    def last(self) -> Answer | None:
        """The latest answer, if any."""
        return self.answers[-1] if self.answers else None

    def with_status(self, status: int) -> list[Answer]:
        """Every answer with ``status``."""
        return [answer for answer in self.answers if answer.status == status]


#: The longest the doctor sleeps between tries: a ``Retry-After`` of ten minutes (or one meant as
#: milliseconds) must not freeze a check; the retry gives up once the hook's patience is spent.
LONGEST_SLEEP_SECONDS = 30.0


def _capped_sleep(seconds: float) -> None:
    time.sleep(min(seconds, LONGEST_SLEEP_SECONDS))


class DoctorHook(TengrHook):
    """A :class:`TengrHook` on a connection the doctor resolved, recording what it hears.

    The Task SDK's connection lookup sees only ``AIRFLOW_CONN_*`` variables outside a task, so the
    doctor resolves the connection itself (:func:`tengr_provider.doctor.connection.from_airflow`, or
    :func:`~tengr_provider.doctor.connection.from_command_line` for ``--base-url``) and this hook reads
    that one instead of looking it up again.

    :param connection: the resolved connection.
    :param recorder: where the session's answers go (a new one when not given).
    :param overrides: :class:`TengrHook` keyword arguments (``api_version``, ``max_retries``, ...).
    """

    _sleep = staticmethod(_capped_sleep)

    def __init__(self, connection: Connection, recorder: Recorder | None = None, **overrides: Any) -> None:
        super().__init__(connection.conn_id, **overrides)
        self._connection = connection
        self.recorder = recorder if recorder is not None else Recorder()
        self.get_conn().hooks["response"].append(self.recorder)

    def get_connection(self, conn_id: str) -> Connection:  # type: ignore[override]
        """The resolved connection, whatever ``conn_id`` is asked for (the hook asks for its own)."""
        return self._connection

    def send(self, method: str, path: str, body: Any = None) -> Answer:
        """One call through the hook's session; the answer as recorded.

        A 429 is waited out (its ``Retry-After``, else a second) for up to the hook's
        ``rate_limit_timeout``, as the hook's own calls do: a rate limit must not pass for an answer.

        :raises requests.RequestException: no answer came (the caller reports it).
        """
        waited = 0.0
        while True:
            response = self.get_conn().request(
                method, f"{self.settings.base_url}{path}", json=body, timeout=self.settings.timeout
            )
            response.close()
            answer = self.recorder.last()
            if answer is None:  # pragma: no cover - the response hook runs for every answer
                raise RuntimeError(f"{method} {path}: the answer was not recorded")
            pause = parse_retry_after(answer.headers.get("retry-after")) or 1.0
            if answer.status != 429 or waited + pause > self.settings.rate_limit_timeout:
                return answer
            self.log.warning("%s %s rate limited (HTTP 429); next try in %.1f s", method, path, pause)
            self._sleep(pause)
            waited += pause
