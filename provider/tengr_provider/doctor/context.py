"""What every check of a doctor run shares: the hooks, the recorded answers, the options, the findings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from tengr_provider.api_paths import ApiVersion
from tengr_provider.doctor.assumptions import DEFAULT_MAX_WAIT_SECONDS
from tengr_provider.doctor.connection import with_password
from tengr_provider.doctor.findings import Findings
from tengr_provider.doctor.probe import DoctorHook, Recorder
from tengr_provider.hooks._settings import ConnectionSettings
from tengr_provider.models import LIST_LIMIT_MAX
from tengr_provider.version_compat import Connection

#: How long one of the doctor's calls keeps retrying 429s: long enough to ride out a short limit,
#: short enough that a doctor run never looks hung.
RATE_LIMIT_PATIENCE_SECONDS = 120.0
#: Reads of the rate-limit probe (``--rate-probe``): enough to meet a limit of a few calls a second.
DEFAULT_RATE_PROBE = 30
#: Seconds between reads of the artworks the doctor created (``--poll``).
DEFAULT_POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Options:
    """How far a run may go.

    :param spend: at most this many artworks may be created (0: read-only).
    :param image_url: the public image the created artworks start from (needed with ``spend``).
    :param poll: seconds between reads while waiting for created artworks.
    :param max_wait: seconds to wait for them before calling them slow.
    :param rate_probe: reads of the rate-limit probe; 0 skips it.
    :param api_version: check this version instead of the connection's.
    """

    spend: int = 0
    image_url: str | None = None
    poll: float = DEFAULT_POLL_SECONDS
    max_wait: float = DEFAULT_MAX_WAIT_SECONDS
    rate_probe: int = DEFAULT_RATE_PROBE
    api_version: str | None = None


@dataclass
class Context:
    """One run's shared state.

    :param connection: the connection checked.
    :param say: where progress lines go (the report itself is printed at the end).
    :param sleep: how the run waits (tests pass a fast one).
    """

    connection: Connection
    options: Options
    say: Callable[[str], None] = print
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    recorder: Recorder = field(default_factory=Recorder)
    findings: Findings = field(default_factory=Findings)
    #: The version that answered when the configured one did not (see :attr:`api_version`).
    version: ApiVersion | None = None
    #: The page size the list checks use: the API's documented maximum, or what the list accepts.
    page_limit: int = LIST_LIMIT_MAX
    _hooks: dict[tuple[Any, ...], DoctorHook] = field(default_factory=dict)

    @property
    def api_version(self) -> ApiVersion:
        """The version every check asks: the one that answered when the connection's did not, else
        ``--api-version``, else the connection's own."""
        return self.version or self._chosen_version

    @cached_property
    def _chosen_version(self) -> ApiVersion:
        """``--api-version``, else the connection's ``api_version`` extra (or its default)."""
        hook = self._new_hook(self.options.api_version, retries=True)
        version = hook.settings.api_version
        self._hooks.setdefault((version, True), hook)
        return version

    def hook(self, version: str | None = None, *, retries: bool = True) -> DoctorHook:
        """The provider's hook on the connection, for ``version`` (default: :attr:`api_version`).

        With ``retries`` off, a call is tried once (429s included), so its answer is what the checks see.
        Creates are never retried after an ambiguous failure (``retry_creates=False``): the doctor must
        not spend twice. One hook per version, whether it is named or the default.
        """
        key = (version or self.api_version, retries)
        if key not in self._hooks:
            self._hooks[key] = self._new_hook(key[0], retries=retries)
        return self._hooks[key]

    def _new_hook(self, version: str | None, *, retries: bool) -> DoctorHook:
        return DoctorHook(
            self.connection,
            self.recorder,
            api_version=version,
            retry_creates=False,
            max_retries=2 if retries else 0,
            rate_limit_timeout=RATE_LIMIT_PATIENCE_SECONDS if retries else 0.0,
        )

    def wrong_key_hook(self, key: str) -> DoctorHook:
        """A hook whose key is ``key`` (made up): its call is tried once, but waits out a rate limit."""
        return DoctorHook(
            with_password(self.connection, key),
            self.recorder,
            api_version=self.api_version,
            max_retries=0,
            rate_limit_timeout=RATE_LIMIT_PATIENCE_SECONDS,
        )

    @property
    def settings(self) -> ConnectionSettings:
        """The checked connection's settings (the key stays inside; use :meth:`redact` on any text)."""
        return self.hook().settings

    def redact(self, text: str) -> str:
        """``text`` without the API key."""
        return self.settings.redact(text)

    def close(self) -> None:
        """Release every hook's pooled connections."""
        for hook in self._hooks.values():
            hook.close()
