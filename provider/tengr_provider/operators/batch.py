"""Thousands of artworks in ONE task: create, wait for and store N requests at one endpoint.

Mapping one task per image (``.partial().expand()``) is right for tens of images; a catalog of thousands
hits ``[core] max_map_length`` (1,024), costs two task executions per image and slows the scheduler.
:class:`TengrBatchOperator` drives N artworks from one task instance instead, and keeps what it did in a
ledger beside the results (:mod:`tengr_provider.batch.ledger`), so a retry, a killed worker or a cleared
task resumes without paying twice. See ``docs/batch.md``.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tengr_provider import DEFAULT_CONN_ID
from tengr_provider.assets import announce
from tengr_provider.batch.items import InputSummary, raw_items, validated
from tengr_provider.batch.ledger import BatchLedger, Head, TaskKey
from tengr_provider.batch.outcome import Counts, FailurePolicy
from tengr_provider.batch.report import BatchReport
from tengr_provider.endpoints import canonical_endpoint
from tengr_provider.exceptions import TengrBatchCostError, TengrBatchInputChangedError, TengrBatchPartialError
from tengr_provider.hooks.tengr import TengrHook
from tengr_provider.links import BATCH_LINKS, CONTACT_SHEET_XCOM_KEY, browsable
from tengr_provider.operators._batch_run import BatchRun, BatchSettings, to_create
from tengr_provider.storage import (
    DEFAULT_MAX_IMAGE_BYTES,
    check_destination,
    is_local,
    warn_if_workers_do_not_share_the_disk,
)
from tengr_provider.triggers.batch import BatchWaitEvent, TengrBatchTrigger
from tengr_provider.version_compat import BaseOperator
from tengr_provider.waiting.deferral import default_deferrable, deferral_timeout
from tengr_provider.waiting.policy import DEFAULT_BATCH_TIMEOUT, DEFAULT_POLL_INTERVAL
from tengr_provider.waiting.requeue import earliest_requeue, requeue_settle

if TYPE_CHECKING:
    from tengr_provider.lineage import Lineage
    from tengr_provider.version_compat import Context, ObjectStoragePath

#: Unfinished artworks a batch keeps at once, by default.
DEFAULT_MAX_IN_FLIGHT = 200
#: Images copied at once, by default.
DEFAULT_COPY_CONCURRENCY = 8
#: The task state store's key (Airflow 3.3+): a pointer to the ledger and the last counts.
STATE_KEY = "tengr_batch"
#: XCom key of the summary, pushed whether the batch succeeds or fails.
SUMMARY_XCOM_KEY = "tengr_batch_summary"


class TengrBatchOperator(BaseOperator):
    """Create, wait for and store the artworks of many requests at one endpoint, in one task.

    Every item is validated before anything is sent; the batch then creates up to ``max_in_flight``
    artworks at once at the pace the API's 429 answers set, stores each finished one under
    ``output_path`` (the single operators' file names), and waits in the triggerer (``deferrable``) when
    nothing can be submitted. Before each create an intent is durable in the ledger, and the artwork id
    after it; a retry reconnects to what exists, looks up lost creates in the artworks list, and creates
    again only what failed. Returns a summary: ``manifest`` (one JSON line per item), ``contact_sheet``,
    ``output_path``, ``ledger`` and ``counts`` by outcome, never one entry per item.

    :param endpoint: ``photo-pilot``, ``upscaling``, ``style-dna`` (under API V1 and V2), or any artwork
        endpoint :class:`~tengr_provider.operators.TengrCreateArtworkOperator` reaches.
    :param output_path: folder (URI or ObjectStoragePath) for the images, the ledger and the manifest.
    :param requests: the items: a list of dicts (the request's fields, snake_case or camelCase) or
        request models; an XComArg works (templated).
    :param requests_path: or a JSON Lines or CSV file in object storage, read as a stream (templated).
    :param tengr_conn_id: the tengr connection.
    :param max_in_flight: unfinished artworks at once; the triggerer waits for them when it is reached.
    :param max_new_artworks: refuse to start, creating nothing, when the batch would create more new
        artworks than this (a cost guard); ``None`` has no limit.
    :param skip_invalid: record invalid items as ``invalid`` and send the rest, instead of failing.
    :param poll_interval: seconds between status reads.
    :param timeout: seconds one try may take; what is unfinished then is ``timed_out`` (a retry waits
        for it again).
    :param deferrable: wait in the triggerer (no worker slot) when nothing can be submitted.
    :param fresh: when the input changed since the ledger was started, start a new ledger (the old one
        is kept) instead of failing; an unchanged input resumes either way.
    :param fail_on_partial_error: fail the task, after every success is stored, when items failed.
    :param max_failed_share: share of failed items (0..1) tolerated before the task fails.
    :param copy_concurrency: images copied at once.
    :param max_image_bytes: refuse a result image larger than this many bytes.
    """

    template_fields: tuple[str, ...] = (
        "tengr_conn_id",
        "endpoint",
        "requests",
        "requests_path",
        "output_path",
    )
    template_fields_renderers = {"requests": "json"}
    operator_extra_links = tuple(link() for link in BATCH_LINKS)

    def __init__(
        self,
        *,
        endpoint: str,
        output_path: str | ObjectStoragePath,
        requests: Any = None,
        requests_path: str | ObjectStoragePath | None = None,
        tengr_conn_id: str = DEFAULT_CONN_ID,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        max_new_artworks: int | None = None,
        skip_invalid: bool = False,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_BATCH_TIMEOUT,
        deferrable: bool | None = None,
        fresh: bool = False,
        fail_on_partial_error: bool = True,
        max_failed_share: float = 0.0,
        copy_concurrency: int = DEFAULT_COPY_CONCURRENCY,
        max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        for name, value in (("max_in_flight", max_in_flight), ("copy_concurrency", copy_concurrency)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: must be a whole number >= 1, got {value!r}")
        if max_new_artworks is not None and (not isinstance(max_new_artworks, int) or max_new_artworks < 0):
            raise ValueError(
                f"max_new_artworks: must be a whole number >= 0 or None, got {max_new_artworks!r}"
            )
        if poll_interval <= 0:
            raise ValueError(f"poll_interval: must be > 0 seconds, got {poll_interval}")
        if timeout <= 0:
            raise ValueError(f"timeout: must be > 0 seconds, got {timeout}")
        if not isinstance(max_image_bytes, int) or max_image_bytes <= 0:
            raise ValueError(f"max_image_bytes: must be a positive number of bytes, got {max_image_bytes!r}")
        self.policy = FailurePolicy(fail_on_partial_error, max_failed_share)
        self.endpoint = endpoint
        self.output_path = output_path
        self.requests = requests
        self.requests_path = requests_path
        self.tengr_conn_id = tengr_conn_id
        self.max_in_flight = max_in_flight
        self.max_new_artworks = max_new_artworks
        self.skip_invalid = skip_invalid
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.fresh = fresh
        self.copy_concurrency = copy_concurrency
        self.max_image_bytes = max_image_bytes

    @cached_property
    def hook(self) -> TengrHook:
        """The hook of the task's own thread: validation, status reads, reconciliation."""
        return TengrHook(tengr_conn_id=self.tengr_conn_id)

    @property
    def batch_endpoint(self) -> str:
        """The endpoint as the hook names it (``style-dna`` is ``style-dna/generate``)."""
        return canonical_endpoint(self.endpoint)

    # -- the three ways in ---------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        """A new try: validate every item, check the ledger's input, the cost guard, then run."""
        if is_local(check_destination(self.output_path)):  # the ledger too: a retry elsewhere pays again
            warn_if_workers_do_not_share_the_disk(self, self.output_path)
        ledger = self._ledger(context)
        head = self._prepare_input(ledger)
        run = self._run(ledger, head, time.time() + self.timeout, new_try=True)
        self._guard(run, head)
        self._point_state_store(context, ledger, head, None)
        return self._drive(context, run, head)

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """Resume after the trigger: read what ended, store it, submit more (or finish)."""
        wait_event = BatchWaitEvent.parse(event)
        if wait_event.status == "error":
            self.log.warning("%s; reading the artworks again", wait_event.message)
        ledger = self._ledger(context)
        head = ledger.read_head()
        if head is None:
            raise RuntimeError(f"tengr.ai batch: the ledger {ledger.root} has no head; was it removed?")
        ledger.use(head.generation)
        run = self._run(ledger, head, deadline or time.time() + self.timeout, new_try=False)
        return self._drive(context, run, head)

    def _drive(self, context: Context, run: BatchRun, head: Head) -> dict[str, Any]:
        try:
            state = run.run()
            settle = requeue_settle()
            while state == "wait":
                if not self.deferrable:
                    run.wait_on_worker()
                else:
                    # A deferral resumes no sooner than the settle time: a shorter wait is cheaper here.
                    expected = run.expected_wait()
                    if expected is None or expected >= settle:
                        self._defer(run)
                    run.wait_on_worker(min(max(expected or 0.0, 1.0), self.poll_interval))
                state = run.run()
        finally:
            run.close()
        return self._finish(context, run, head)

    def _defer(self, run: BatchRun) -> None:
        now = time.time()
        self.log.info("tengr.ai batch: waiting in the triggerer for %d artworks", len(run.in_flight))
        self.defer(
            trigger=TengrBatchTrigger(
                artwork_ids=sorted(run.in_flight),
                tengr_conn_id=self.tengr_conn_id,
                poll_interval=self.poll_interval,
                end_time=run.deadline,
                not_before=earliest_requeue(),
            ),
            method_name="execute_complete",
            kwargs={"deadline": run.deadline},
            timeout=deferral_timeout(max(run.deadline - now, 0), self.poll_interval),
        )

    # -- before anything is sent ------------------------------------------------------------------------

    def _ledger(self, context: Context) -> BatchLedger:
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)
        key = TaskKey(ti.dag_id, ti.run_id, ti.task_id, -1 if map_index is None else int(map_index))
        self._key = key
        return BatchLedger.for_task(self.output_path, key)

    def _prepare_input(self, ledger: BatchLedger) -> Head:
        """Validate every item into the ledger's items; compare the input with the one it recorded."""
        endpoint = self.batch_endpoint
        summary = InputSummary(endpoint)
        raw = raw_items(self.requests, self.requests_path)
        scratch = ledger.stage_items(
            validated(raw, lambda item: self.hook.prepare_create(endpoint, item), summary)
        )
        if summary.invalid and not self.skip_invalid:
            ledger.discard(scratch)
            raise summary.error()
        head = ledger.read_head()
        if head is not None and head.input_fingerprint == summary.fingerprint:
            ledger.discard(scratch)
            ledger.use(head.generation)
            return head
        if head is not None and not self.fresh:
            ledger.discard(scratch)
            raise TengrBatchInputChangedError(
                f"tengr.ai batch: the input changed since this batch started ({head.items} items, "
                f"{head.input_fingerprint[:19]}…; now {summary.count} items, {summary.fingerprint[:19]}…), "
                f"so its artworks (recorded in {ledger.root}) are not adopted. Set fresh=True to start a "
                "new ledger with the new input (the old one is kept), or write to another output_path."
            )
        generation = 1 if head is None else head.generation + 1
        ledger.commit_items(scratch, generation)
        head = Head(generation, summary.fingerprint, endpoint, summary.count, summary.invalid)
        ledger.write_head(head)
        if summary.invalid:
            self.log.warning("tengr.ai batch: skipping %d invalid items (skip_invalid=True)", summary.invalid)
        return head

    def _run(self, ledger: BatchLedger, head: Head, deadline: float, *, new_try: bool) -> BatchRun:
        settings = BatchSettings(
            endpoint=self.batch_endpoint,
            tengr_conn_id=self.tengr_conn_id,
            max_in_flight=self.max_in_flight,
            poll_interval=self.poll_interval,
            copy_concurrency=self.copy_concurrency,
            max_image_bytes=self.max_image_bytes,
            output_path=self.output_path,
            items=head.items - head.invalid,
        )
        return BatchRun(settings, ledger, self.hook, deadline, self.log, new_try=new_try)

    def _guard(self, run: BatchRun, head: Head) -> None:
        """Refuse to start when the batch would create more than ``max_new_artworks``."""
        untouched = head.items - head.invalid - len(run.states)
        to_create_now = untouched + sum(1 for state in run.states.values() if to_create(state))
        lost = len(run.reconciling)
        self.log.info(
            "tengr.ai batch: %d items (%d invalid), %d to create, %d in flight, %d lost creates to look up",
            head.items,
            head.invalid,
            to_create_now,
            len(run.in_flight),
            lost,
        )
        if self.max_new_artworks is None or to_create_now + lost <= self.max_new_artworks:
            return
        run.close()
        raise TengrBatchCostError(
            f"tengr.ai batch: would create {to_create_now + lost} new artworks ({to_create_now} items to "
            f"create, and up to {lost} more if their lost creates are not found in the artworks list), over "
            f"max_new_artworks={self.max_new_artworks}; nothing was created. Raise max_new_artworks or "
            "split the input."
        )

    # -- the end ----------------------------------------------------------------------------------------

    def _finish(self, context: Context, run: BatchRun, head: Head) -> dict[str, Any]:
        """Write the manifest and contact sheet, report, and apply the failure policy."""
        report = BatchReport.for_task(self.output_path, self._key)
        title = f"{self._key.dag_id} / {self._key.task_id} — {self._key.run_id}"
        counts = report.write(run.ledger, run.states, title)
        removed = report.remove_partials(run.states)
        if removed:
            self.log.warning("tengr.ai batch: removed %d temporary files left by an interrupted try", removed)
        summary: dict[str, Any] = {
            "manifest": str(report.manifest),
            "contact_sheet": str(report.contact_sheet),
            "output_path": str(report.output_path),
            "ledger": str(run.ledger.root),
            "endpoint": self.batch_endpoint,
            "counts": counts.to_json(),
        }
        self.log.info(
            "tengr.ai batch done: %s; manifest %s, contact sheet %s",
            ", ".join(f"{n} {name}" for name, n in counts.by_outcome.items() if n),
            report.manifest,
            report.contact_sheet,
        )
        context["ti"].xcom_push(key=SUMMARY_XCOM_KEY, value=summary)
        if browsable(str(report.contact_sheet)):
            context["ti"].xcom_push(key=CONTACT_SHEET_XCOM_KEY, value=str(report.contact_sheet))
        self._point_state_store(context, run.ledger, head, counts)
        self._summary = summary  # for get_openlineage_facets_on_complete, which has no XCom access
        if self.outlets:
            announce(self.outlets, context["outlet_events"], summary)
        if self.policy.fails(counts):
            raise TengrBatchPartialError(
                f"tengr.ai batch: {counts.failed} of {counts.sent} items failed (tolerated: "
                f"{self.policy.max_failed_share:.0%}); every success is stored. A retry creates only the "
                f"failed items again. Counts: {counts.to_json()}; manifest: {report.manifest}"
            )
        return summary

    def _point_state_store(
        self, context: Context, ledger: BatchLedger, head: Head, counts: Counts | None
    ) -> None:
        """Airflow 3.3+: a pointer to the ledger and the counts (small; the ledger holds the rest)."""
        store = context.get("task_state_store")
        if store is None:
            return
        value: dict[str, Any] = {
            "ledger": str(ledger.root),
            "generation": head.generation,
            "input": head.input_fingerprint,
        }
        if counts is not None:
            value["counts"] = counts.to_json()
        store.set(STATE_KEY, value)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Lineage:
        """OpenLineage, summarized: the input file in; the output folder and the manifest out; counts."""
        from tengr_provider import lineage

        requests_path = self.requests_path if isinstance(self.requests_path, str) else None
        return lineage.batch_on_complete(
            requests_path, str(self.output_path), getattr(self, "_summary", None), self.batch_endpoint
        )
