"""What the three operators share: templated request fields, resumable submit, waiting, storing.

Each operator names its request model; its keyword arguments, template fields and field tuple follow
from it (:mod:`tengr_provider.operators._request_keywords`). This base turns the rendered fields into a
validated request, submits it on the worker, keeps the artwork id in the task state store before any
wait (so a retried task reconnects instead of paying again), waits by polling or in the triggerer,
and copies the results to ``output_path``.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import JsonValue

from tengr_provider import DEFAULT_CONN_ID
from tengr_provider.assets import announce, result_event_extra
from tengr_provider.exceptions import (
    TengrArtworkFailedError,
    TengrNotFoundError,
    TengrWaitTimeoutError,
)
from tengr_provider.hooks.tengr import TengrHook
from tengr_provider.links import RESULT_LINKS, RESULT_URL_XCOM_KEY, link_targets
from tengr_provider.models import ApiRequest, Artwork, ArtworkStatus, parse_request
from tengr_provider.operators._request_keywords import request_keywords_init
from tengr_provider.storage import (
    DEFAULT_MAX_IMAGE_BYTES,
    ResultCopier,
    check_destination,
    is_local,
    warn_if_workers_do_not_share_the_disk,
)
from tengr_provider.triggers.artwork import ArtworkWaitEvent
from tengr_provider.version_compat import BaseOperator, ResumableJobMixin
from tengr_provider.waiting.deferral import default_deferrable, wait_or_defer
from tengr_provider.waiting.policy import DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT, note_unknown_status

if TYPE_CHECKING:
    from tengr_provider.lineage import Lineage
    from tengr_provider.version_compat import Context, ObjectStoragePath

#: XCom key of the artwork id, pushed before any wait so a failed wait still says what to look at.
ARTWORK_ID_XCOM_KEY = "artwork_id"
_Result = TypeVar("_Result")

#: What :meth:`TengrArtworkOperator.get_job_status` reports for a stored job that cannot be resumed (the
#: artwork is past retention, or an image's URL expired): a new one is created.
GONE = "gone"


class TengrBaseOperator(ResumableJobMixin, BaseOperator):
    """Base of the tengr.ai operators; not used directly.

    :param tengr_conn_id: the tengr connection.
    :param output_path: folder (URI or ObjectStoragePath) to copy the result images to before the task
        succeeds; the return value then lists them under ``files``.
    :param max_image_bytes: refuse a result image larger than this many bytes.
    :param durable: on Airflow 3.3+, keep the artwork id in the task state store so a retried task
        picks up the artwork it already created instead of creating (and paying for) another.
    """

    #: The request model, and the operator arguments that fill it (its fields, derived from it).
    request_model: ClassVar[type[ApiRequest]]
    request_fields: ClassVar[tuple[str, ...]] = ()

    template_fields: tuple[str, ...] = ("tengr_conn_id", "output_path")
    operator_extra_links = tuple(link() for link in RESULT_LINKS)

    #: The request of this try and the rendered values it was validated from (see :meth:`build_request`).
    _request: ApiRequest | None = None
    _request_from: dict[str, Any] | None = None

    def __init__(
        self,
        *,
        tengr_conn_id: str = DEFAULT_CONN_ID,
        output_path: str | ObjectStoragePath | None = None,
        max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(max_image_bytes, int) or max_image_bytes <= 0:
            raise ValueError(f"max_image_bytes: must be a positive number of bytes, got {max_image_bytes!r}")
        self.tengr_conn_id = tengr_conn_id
        self.output_path = output_path
        self.max_image_bytes = max_image_bytes

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A class that names its ``request_model`` takes the model's fields as templated keywords."""
        super().__init_subclass__(**kwargs)
        model = cls.__dict__.get("request_model")
        if model is None:
            return
        cls.request_fields = tuple(model.model_fields)
        inherited = [name for name in cls.template_fields if name not in cls.request_fields]
        cls.template_fields = (*inherited, *cls.request_fields)
        if "__init__" not in cls.__dict__:  # the signature is typed for IDEs only, under TYPE_CHECKING
            cls.__init__ = request_keywords_init(cls, model)  # type: ignore[method-assign]

    @cached_property
    def hook(self) -> TengrHook:
        """The hook, created on first use in the task's process."""
        return TengrHook(tengr_conn_id=self.tengr_conn_id)

    def build_request(self) -> ApiRequest:
        """The request of this try, validated once; raises naming the field and the rule.

        The create call, the asset events, OpenLineage's start and complete all read it: validating it
        again for each would repeat the work for the same answer. It is validated anew only when the
        rendered values change (a new try renders its templates again).
        """
        rendered = {name: getattr(self, name) for name in self.template_fields}
        if self._request is None or self._request_from != rendered:
            self._request = self._validate_request()
            self._request_from = rendered
        return self._request

    def _validate_request(self) -> ApiRequest:
        """The request model filled from the rendered request fields."""
        fields = {name: getattr(self, name) for name in self.request_fields}
        return parse_request(self.request_model, {k: v for k, v in fields.items() if v is not None})

    def execute(self, context: Context) -> Any:
        """Validate, submit (or reconnect), wait, store; see :meth:`execute_resumable`.

        ``output_path`` is checked first: a destination that cannot be opened, created or written (an
        unknown scheme, an unwritable folder, a missing bucket) must fail the task before a credit is
        spent, not after the artwork exists.
        """
        if self.output_path is not None and is_local(check_destination(self.output_path)):
            warn_if_workers_do_not_share_the_disk(self, self.output_path)
        # The extra link reads this key when the try ends; give it a value before anything can fail,
        # so Airflow does not log a missing XCom for tries that end before a result exists.
        context["ti"].xcom_push(key=RESULT_URL_XCOM_KEY, value=[])
        return self._announce(context, self.execute_resumable(context))

    def _announce(self, context: Context, result: _Result) -> _Result:
        """Put the result (artwork, files) on the asset events of this task's outlets; return it."""
        self._lineage_result = result  # for get_openlineage_facets_on_complete, which has no XCom access
        if self.outlets and isinstance(result, dict):
            extra = result_event_extra(result, self.build_request().to_api())
            announce(self.outlets, context["outlet_events"], extra)
        return result

    def _copier(self) -> ResultCopier | None:
        if self.output_path is None:
            return None
        return ResultCopier(self.output_path, max_bytes=self.max_image_bytes)

    def _push_links(self, context: Context, result_urls: list[str], files: list[str] | None) -> None:
        """What the extra links open: the stored files (they outlive the API's URLs), else the results."""
        targets = link_targets(result_urls, files)
        if targets:
            context["ti"].xcom_push(key=RESULT_URL_XCOM_KEY, value=targets)

    def get_openlineage_facets_on_start(self) -> Lineage:
        """OpenLineage: the source images in, and the request (see :mod:`tengr_provider.lineage`)."""
        from tengr_provider import lineage

        return lineage.on_start(self.build_request())

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Lineage:
        """OpenLineage: the source images in, the stored files out, the artwork id, type and request."""
        from tengr_provider import lineage

        result = getattr(self, "_lineage_result", None)
        return lineage.on_complete(self.build_request(), result if isinstance(result, dict) else None)


class TengrArtworkOperator(TengrBaseOperator):
    """Base of the operators whose answer is an artwork that may need waiting for.

    :param wait_for_completion: wait until the artwork ends; if False, return it as created.
    :param deferrable: wait in the triggerer (no worker slot) instead of polling on the worker.
    :param poll_interval: seconds between status reads.
    :param timeout: seconds of waiting before the task fails; the artwork may still finish, and
        a retry or :class:`~tengr_provider.sensors.artwork.TengrArtworkSensor` picks it up.
    """

    external_id_key = "tengr_artwork_id"

    def __init__(
        self,
        *,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if poll_interval <= 0:
            raise ValueError(f"poll_interval: must be > 0 seconds, got {poll_interval}")
        if timeout < 0:
            raise ValueError(f"timeout: must be >= 0 seconds, got {timeout}")
        if self.output_path is not None and not wait_for_completion:
            raise ValueError("output_path: needs wait_for_completion=True (there is nothing to copy yet)")
        self.wait_for_completion = wait_for_completion
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        self._artwork: Artwork | None = None
        self._result: dict[str, Any] | None = None

    def create(self, request: Any) -> Artwork:
        """Send the create call of this operator's endpoint."""
        raise NotImplementedError

    # ResumableJobMixin: submit once, reconnect on retry.
    def submit_job(self, context: Context) -> JsonValue:
        """Validate and create the artwork; its id is what a retry reconnects to."""
        request = self.build_request()
        artwork = self.create(request)
        self.log.info("Created tengr.ai artwork %s (%s)", artwork.id, artwork.status.value)
        note_unknown_status(artwork, set(), self.log)
        self._artwork = artwork
        return artwork.id

    def _artwork_id(self, external_id: JsonValue) -> str:
        """The id of the artwork a stored job names: here the stored value is the id itself."""
        return str(external_id)

    def get_job_status(self, external_id: JsonValue, context: Context) -> str:
        """Status of a stored artwork; one past retention counts as gone (and is created anew)."""
        artwork_id = self._artwork_id(external_id)
        try:
            self._artwork = self.hook.get_artwork(artwork_id)
        except TengrNotFoundError:
            self.log.warning("Stored tengr.ai artwork %s no longer exists; creating a new one", artwork_id)
            return GONE
        return self._artwork.status.value

    def is_job_active(self, status: str) -> bool:
        """Starting, processing or a status the API added: worth reconnecting to."""
        return status != GONE and not ArtworkStatus(status).is_terminal

    def is_job_succeeded(self, status: str) -> bool:
        """Succeeded or done: its results can be collected without a new request."""
        known = ArtworkStatus.of(status)
        return known is not None and known.is_success

    def poll_until_complete(self, external_id: JsonValue, context: Context) -> Any:
        """Wait for the artwork (on the worker, or in the triggerer when deferrable); return the result.

        Returning the result matters: when the mixin reconnects to a running artwork it returns what
        this method returns, without calling :meth:`get_job_result`.
        """
        artwork_id = self._artwork_id(external_id)
        if artwork_id:  # V1's style-dna answer is no artwork: no id to name
            context["ti"].xcom_push(key=ARTWORK_ID_XCOM_KEY, value=artwork_id)
        artwork = self._artwork if self._artwork and self._artwork.id == artwork_id else None
        if self.wait_for_completion and not (artwork is not None and artwork.status.is_terminal):
            self._wait(artwork_id)
        return self._collect(artwork_id, context)

    def _wait(self, artwork_id: str) -> None:
        self._artwork = wait_or_defer(
            self,
            self.hook,
            artwork_id,
            deferrable=self.deferrable,
            tengr_conn_id=self.tengr_conn_id,
            poll_interval=self.poll_interval,
            timeout=self.timeout,
        )

    def get_job_result(self, external_id: JsonValue, context: Context) -> dict[str, Any]:
        """The artwork's JSON, after its images were copied to ``output_path`` (computed once)."""
        return self._collect(self._artwork_id(external_id), context)

    def _collect(self, artwork_id: str, context: Context) -> dict[str, Any]:
        if self._result is not None and self._result.get("id") == artwork_id:
            return self._result
        artwork = self._artwork if self._artwork and self._artwork.id == artwork_id else None
        if artwork is None:
            artwork = self.hook.get_artwork(artwork_id)
        if artwork.id:
            context["ti"].xcom_push(key=ARTWORK_ID_XCOM_KEY, value=artwork.id)
        self._result = artwork.to_api() if not self.wait_for_completion else self._finish(artwork, context)
        return self._result

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger: succeed with the artwork, or fail saying which artwork and why."""
        wait_event = ArtworkWaitEvent.parse(event)
        if wait_event.status == "timeout":
            raise TengrWaitTimeoutError(wait_event.artwork_id, self.timeout, wait_event.last_status)
        return self._announce(context, self._finish(wait_event.final_artwork(), context))

    def _finish(self, artwork: Artwork, context: Context) -> dict[str, Any]:
        if not artwork.status.is_success:
            raise TengrArtworkFailedError(artwork.id, artwork.status.value)
        result = artwork.to_api()
        copier = self._copier()
        if copier is not None:
            try:
                result["files"] = copier.copy_all(artwork.results, artwork.id)
            finally:
                copier.close()
        self._push_links(context, list(artwork.results), result.get("files"))
        return result
