"""What an operator tells OpenLineage: the source images it read, the files it stored, the artwork.

The OpenLineage provider calls ``get_openlineage_facets_on_start`` / ``_on_complete`` on an operator
that has them; ours build their answer here. Everything OpenLineage is imported inside the functions,
so the provider works without ``apache-airflow-providers-openlineage`` installed.

Outputs are the stored files as the operator returns them under ``files`` (the final names), never the
hidden ``.part`` files they were written through. URLs lose their query string, fragment and
credentials: a signed URL's token is not a dataset name, and must not land in a lineage backend.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic.alias_generators import to_snake

from tengr_provider.assets import result_event_extra

if TYPE_CHECKING:
    from airflow.providers.common.compat.openlineage.facet import Dataset, RunFacet
    from airflow.providers.openlineage.extractors import OperatorLineage

    from tengr_provider.models import ApiRequest

    #: What the operators' OpenLineage methods return.
    Lineage = OperatorLineage[Dataset, RunFacet]

#: The run facet's key in OpenLineage events.
RUN_FACET_NAME = "tengr"
_SCHEMA_URL = (
    "https://github.com/tengr-ai/airflow-provider-tengr/tree/main/docs/assets-and-lineage.md#openlineage"
)


def dataset_of(uri: str) -> Dataset:
    """The OpenLineage dataset of a URL or file URI, named after OpenLineage's conventions.

    ``file:///data/a.png`` becomes namespace ``file``, name ``/data/a.png``; ``s3://bucket/key`` and
    ``https://host/path`` become namespace ``<scheme>://<host>`` and the path as name.
    """
    from airflow.providers.common.compat.openlineage.facet import Dataset

    parts = urlsplit(uri)
    if parts.scheme in ("", "file"):
        return Dataset(namespace="file", name=parts.path)
    return Dataset(namespace=_origin(uri), name=parts.path.lstrip("/") or "/")


def source_urls(request: ApiRequest) -> list[str]:
    """The request's source images: every field whose name ends in ``image_url`` (or ``imageUrl``, in a
    body sent as given)."""
    fields = request.model_dump(exclude_none=True, mode="json")
    return [
        value
        for name, value in fields.items()
        if to_snake(name).endswith("image_url") and isinstance(value, str)
    ]


def on_start(request: ApiRequest) -> Lineage:
    """Lineage known before the call: the source images, and the request."""
    from airflow.providers.openlineage.extractors import OperatorLineage

    return OperatorLineage(
        inputs=_datasets(source_urls(request)),
        run_facets={RUN_FACET_NAME: _run_facet(request, None)},
    )


def on_complete(request: ApiRequest, result: Mapping[str, Any] | None) -> Lineage:
    """Lineage of a finished task: the source images in, the stored files out, the artwork.

    :param request: the request the task sent.
    :param result: the task's return value (``None`` when it has none, e.g. it failed).
    """
    from airflow.providers.openlineage.extractors import OperatorLineage

    files = list(result.get("files", [])) if result else []
    return OperatorLineage(
        inputs=_datasets(source_urls(request)),
        outputs=_datasets(files),
        run_facets={RUN_FACET_NAME: _run_facet(request, result)},
    )


def _datasets(uris: Iterable[str]) -> list[Dataset]:
    return [dataset_of(uri) for uri in uris]


def _run_facet(request: ApiRequest, result: Mapping[str, Any] | None) -> RunFacet:
    body = request.to_api()
    summary = result_event_extra(result or {}, body)
    return _facet_class()(
        artworkId=summary["artwork_id"],
        artworkType=summary["artwork_type"] or _artwork_type(request),
        request={key: _public(value) for key, value in body.items()},
    )


def _artwork_type(request: ApiRequest) -> str:
    """``photo_pilot`` from ``PhotoPilotRequest``: the type before the API has answered."""
    name = type(request).__name__.removesuffix("Request")
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _public(value: Any) -> Any:
    """A request value fit for a lineage backend: URLs lose their credentials and query."""
    if isinstance(value, str) and "://" in value:
        return _origin(value) + urlsplit(value).path
    return value


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, without the credentials it may carry."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}:{parts.port}" if parts.port is not None else f"{parts.scheme}://{host}"


@functools.cache
def _facet_class() -> Callable[..., RunFacet]:
    """``TengrRunFacet``, defined on first use so that OpenLineage is imported only when present."""
    import attr
    from airflow.providers.common.compat.openlineage.facet import RunFacet

    @attr.define
    class TengrRunFacet(RunFacet):
        """The artwork behind a run: its id, its type and the request (URLs without query)."""

        artworkId: str | None = attr.field(default=None)
        artworkType: str | None = attr.field(default=None)
        request: dict[str, Any] = attr.field(factory=dict)

        @staticmethod
        def _get_schema() -> str:
            return _SCHEMA_URL

    return TengrRunFacet


def batch_on_complete(
    requests_path: str | None, output_path: str, summary: Mapping[str, Any] | None, endpoint: str
) -> Lineage:
    """Lineage of a batch, summarized: its input file in; its output folder and manifest out.

    Thousands of source images and files would be thousands of datasets per run; the folder, the
    manifest (which lists every file) and the counts say the same in three entries.
    """
    from airflow.providers.openlineage.extractors import OperatorLineage

    outputs = [output_path] + ([str(summary["manifest"])] if summary else [])
    return OperatorLineage(
        inputs=_datasets([requests_path] if requests_path else []),
        outputs=_datasets(outputs),
        run_facets={
            RUN_FACET_NAME: _facet_class()(
                artworkType=endpoint.replace("/generate", "").replace("-", "_"),
                request={"endpoint": endpoint, "counts": dict(summary["counts"]) if summary else {}},
            )
        },
    )
