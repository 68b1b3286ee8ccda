"""Any other artwork endpoint of the API (remove-background, detailer-upscaler, txt2img, ...) as a step."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from tengr_provider.endpoints import endpoint_model
from tengr_provider.models import ApiRequest, Artwork, parse_request
from tengr_provider.operators._base import TengrArtworkOperator


class GivenRequest(ApiRequest):
    """The body of an endpoint without a model: sent as given (the API's camelCase names)."""

    model_config = ConfigDict(extra="allow", alias_generator=None)


class TengrCreateArtworkOperator(TengrArtworkOperator):
    """Create an artwork at any artwork endpoint of the connection's API version and (by default) wait.

    For what has no dedicated operator yet, with the same machinery as photo-pilot: the request is
    validated before anything is sent, the artwork id is kept in the task state store before any wait
    (a retry reconnects instead of paying again), the wait polls or defers to the triggerer, and the
    results are copied to ``output_path``. Returns the artwork as the API names it, plus ``files``.

    :param endpoint: an artwork endpoint's name (``remove-background`` posts to
        ``/<api_version>/artworks/remove-background``), or a path below the version root with a slash
        (``style-dna/edit``); see ``docs/api-versions.md``.
    :param request: the body (templated). For ``photo-pilot``, ``upscaling`` and ``style-dna/generate``
        it is validated by their model (snake_case or camelCase keys); for other endpoints it is sent as
        given, in the API's camelCase, and only a ``webhook`` is checked.
    """

    template_fields = (*TengrArtworkOperator.template_fields, "endpoint", "request")
    template_fields_renderers = {"request": "json"}

    def __init__(self, *, endpoint: str, request: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.endpoint = endpoint
        self.request = request

    def _validate_request(self) -> ApiRequest:
        """The endpoint's model when it has one, else the body as given; raises naming the field."""
        model = endpoint_model(self.endpoint)
        if model is not None:
            return parse_request(model, self.request)
        if not isinstance(self.request, dict):
            raise ValueError(f"request: must be a dict (the JSON body), got {type(self.request).__name__}")
        return GivenRequest.model_validate(self.request)

    def create(self, request: Any) -> Artwork:
        """The connection's API version's path for :attr:`endpoint` (see :mod:`tengr_provider.api_paths`)."""
        return self.hook.create_artwork(self.endpoint, request)
