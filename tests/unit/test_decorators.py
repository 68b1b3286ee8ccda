"""``@task.tengr_*``: registration, the request the function returns, and the hand-over to the operator.

The decorated operators are executed directly with a mocked HTTP API (``responses``), the way Airflow's
task runner calls ``execute``; ``dag.test()`` runs are in tests/integration/test_decorators_dag.py.
"""

from __future__ import annotations

import typing
from typing import Any

import pytest
import responses
from airflow.sdk import DAG, task
from tests.helpers import BASE_URL, SECRET_KEY, connection_env, task_context

from tengr_provider import get_provider_info
from tengr_provider.decorators import (
    PhotoPilotFields,
    TengrPhotoPilotDecoratedOperator,
    TengrUpscaleDecoratedOperator,
    UpscalingFields,
    tengr_photo_pilot_task,
    tengr_style_dna_task,
    tengr_upscale_task,
)
from tengr_provider.models import UpscalingRequest
from tengr_provider.request_errors import TengrRequestValidationError

PHOTO: PhotoPilotFields = {
    "image_url": "https://img.example/shoe.png",
    "image_guidance": 1,
    "modification": 3,
    "creativity": 2,
    "effort": 4,
}
ARTWORK = {"id": "a1", "status": "done", "artworkType": "upscaling", "results": [], "createdAt": None}


@pytest.fixture(autouse=True)
def tengr_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(*connection_env(extra={"max_retries": 0}))


@pytest.fixture
def api() -> typing.Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


def returning(value: object, name: str = "restyle") -> Any:
    """A function named ``name`` (its task id) that returns ``value``."""

    def function() -> object:
        return value

    function.__name__ = name
    return function


def decorated_task(decorator: Any, function: Any, *args: Any, **kwargs: Any) -> Any:
    """The operator a decorated function becomes in a DAG, called with ``args``."""
    with DAG("unit_decorators", schedule=None):
        return decorator(**kwargs)(function)(*args).operator


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("tengr_photo_pilot", tengr_photo_pilot_task),
        ("tengr_style_dna", tengr_style_dna_task),
        ("tengr_upscale", tengr_upscale_task),
    ],
)
def test_registered_as_task_decorators(name: str, function: Any) -> None:
    declared = {d["name"]: d["class-name"] for d in get_provider_info()["task-decorators"]}
    assert declared[name] == f"{function.__module__}.{function.__name__}"
    assert getattr(task, name) is function


def test_the_returned_request_is_what_is_sent(api: responses.RequestsMock) -> None:
    sent = api.post(f"{BASE_URL}/v1/artworks/upscaling", status=201, json=ARTWORK)

    def upscale(url: str) -> UpscalingFields:
        return {"image_url": url, "scale_factor": 4}

    operator = decorated_task(tengr_upscale_task, upscale, "https://img.example/a.png")
    result = operator.execute(task_context())

    assert result["id"] == "a1"
    assert sent.call_count == 1
    assert sent.calls[0].request.body == b'{"imageUrl": "https://img.example/a.png", "scaleFactor": 4}'
    assert sent.calls[0].request.headers["Authorization"] == f"Bearer {SECRET_KEY}"


@pytest.mark.parametrize(
    "returned",
    [
        {"image_url": "https://img.example/a.png", "scale_factor": 3},
        {"imageUrl": "https://img.example/a.png", "scaleFactor": 3},  # the API's own names
        UpscalingRequest(image_url="https://img.example/a.png", scale_factor=3),
    ],
    ids=["snake_case dict", "camelCase dict", "model"],
)
def test_dicts_in_either_spelling_and_models_are_accepted(
    api: responses.RequestsMock, returned: object
) -> None:
    sent = api.post(f"{BASE_URL}/v1/artworks/upscaling", status=201, json=ARTWORK)
    operator = decorated_task(tengr_upscale_task, returning(returned))
    operator.execute(task_context())
    assert sent.calls[0].request.body == b'{"imageUrl": "https://img.example/a.png", "scaleFactor": 3}'
    assert operator.scale_factor == 3, "the operator's fields hold the request (rendered fields view)"


def test_a_request_that_breaks_a_rule_fails_before_any_http_request(api: responses.RequestsMock) -> None:
    too_much = decorated_task(tengr_photo_pilot_task, returning({**PHOTO, "modification": 9}))
    with pytest.raises(
        TengrRequestValidationError, match="modification: Input should be less than or equal to 5"
    ):
        too_much.execute(task_context())
    half_a_size = decorated_task(tengr_photo_pilot_task, returning({**PHOTO, "width": 800}))
    with pytest.raises(
        TengrRequestValidationError,
        match=r"height: required when width is given \(width and height go together\)",
    ):
        half_a_size.execute(task_context())
    assert len(api.calls) == 0


@pytest.mark.parametrize(
    ("returned", "problem"),
    [
        (
            None,
            r"restyle\(\) must return a PhotoPilotRequest .*got NoneType \(did it forget to return\?\)",
        ),
        (
            ["https://img.example/a.png"],
            r"must return a PhotoPilotRequest or a dict of its fields \(PhotoPilotFields\), got list",
        ),
        (UpscalingRequest(image_url="https://img.example/a.png"), "got UpscalingRequest"),
    ],
)
def test_returning_something_else_names_the_function_and_the_type(
    api: responses.RequestsMock, returned: object, problem: str
) -> None:
    def restyle() -> Any:
        return returned

    operator = decorated_task(tengr_photo_pilot_task, restyle)
    with pytest.raises(TypeError, match=problem):
        operator.execute(task_context())
    assert len(api.calls) == 0


def test_a_request_field_given_to_the_decorator_fails_where_it_is_written() -> None:
    with pytest.raises(
        TypeError, match=r"@task.tengr_upscale: scale_factor is a request field; return request"
    ):
        tengr_upscale_task(scale_factor=4)
    with pytest.raises(TypeError, match="image_url, prompt are request fields"):
        tengr_photo_pilot_task(prompt="x", image_url="https://img.example/a.png")


def test_decorator_arguments_reach_the_operator() -> None:
    operator = decorated_task(
        tengr_photo_pilot_task,
        returning(PHOTO),
        tengr_conn_id="tengr_eu",
        output_path="file:///data/{{ dag_run.run_after | ds }}",
        deferrable=True,
        poll_interval=2,
        retries=3,
    )
    assert isinstance(operator, TengrPhotoPilotDecoratedOperator)
    assert (operator.tengr_conn_id, operator.deferrable, operator.poll_interval) == ("tengr_eu", True, 2)
    assert operator.retries == 3
    assert "output_path" in operator.template_fields
    assert operator.multiple_outputs is False, "the return annotation must not split the artwork"


def test_mapped_over_arguments_with_partial_and_expand() -> None:
    with DAG("unit_decorators_mapped", schedule=None):

        @tengr_upscale_task(output_path="file:///data/print")
        def upscale(url: str, factor: int) -> UpscalingFields:
            return {"image_url": url, "scale_factor": factor}

        mapped = upscale.partial(factor=4).expand(
            url=["https://img.example/a.png", "https://img.example/b.png"]
        )
    assert mapped.operator.operator_class is TengrUpscaleDecoratedOperator
    assert mapped.operator.partial_kwargs["op_kwargs"] == {"factor": 4}
    assert mapped.operator.op_kwargs_expand_input.value == {
        "url": ["https://img.example/a.png", "https://img.example/b.png"]
    }


def test_the_request_exists_only_once_the_function_ran() -> None:
    operator = decorated_task(tengr_photo_pilot_task, returning(PHOTO))
    with pytest.raises(RuntimeError, match="only once the decorated function has run"):
        operator.build_request()
