"""A request field is declared once, in its model: the operators, the TypedDicts and the docs follow.

At run time an operator takes its model's fields as templated keyword arguments (derived when the class
is made); what is read as source (the typed signatures, the TypedDicts, the docs tables) is written from
the model by ``scripts/request_fields.py``, and the first test here names every field a region lacks.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import DAG
from scripts import request_fields
from tests.helpers import REPO

from tengr_provider import decorators
from tengr_provider.decorators import (
    TengrPhotoPilotDecoratedOperator,
    TengrStyleDnaDecoratedOperator,
    TengrUpscaleDecoratedOperator,
)
from tengr_provider.models import PhotoPilotRequest, StyleDnaRequest, UpscalingRequest
from tengr_provider.operators import TengrPhotoPilotOperator, TengrStyleDnaOperator, TengrUpscaleOperator
from tengr_provider.operators._base import TengrArtworkOperator

OPERATORS = {
    TengrPhotoPilotOperator: PhotoPilotRequest,
    TengrStyleDnaOperator: StyleDnaRequest,
    TengrUpscaleOperator: UpscalingRequest,
}


@pytest.mark.parametrize("path", request_fields.TARGETS, ids=lambda path: path.name)
def test_what_is_written_from_the_models_is_current(path: Path) -> None:
    text, stale = request_fields.rewritten(path)
    regions = list(request_fields.regions(path, path.read_text()))
    assert regions, f"{path.relative_to(REPO)} has no generated region"
    report = [
        f"{region.kind} of {region.model}: {', '.join(region.missing()) or 'differs'}" for region in stale
    ]
    assert report == [], f"{path.relative_to(REPO)} is stale ({report}); run: {request_fields.COMMAND}"
    assert text == path.read_text()


def test_every_request_model_has_a_signature_a_typeddict_and_a_table() -> None:
    written = {
        (region.model, region.kind)
        for path in request_fields.TARGETS
        for _, _, region in request_fields.regions(path, path.read_text())
    }
    kinds = ("signature", "typeddict", "table")
    assert written == {(model.__name__, kind) for model in OPERATORS.values() for kind in kinds}


def test_a_stale_region_names_the_field_it_lacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = REPO / "provider" / "tengr_provider" / "decorators" / "request_fields.py"
    stale = tmp_path / "request_fields.py"
    stale.write_text(source.read_text().replace("    scale_factor: int\n", ""))
    monkeypatch.setattr(request_fields, "TARGETS", (stale,))
    (region,) = request_fields.rewritten(stale)[1]
    assert (region.model, region.missing()) == ("UpscalingRequest", ["lacks scale_factor"])
    assert request_fields.main(["--check"]) == 1


@pytest.mark.parametrize(("operator", "model"), OPERATORS.items(), ids=lambda value: value.__name__)
def test_an_operator_takes_its_models_fields_as_templated_keywords(operator: Any, model: Any) -> None:
    fields = tuple(model.model_fields)
    assert operator.request_fields == fields
    assert operator.template_fields == (*TengrArtworkOperator.template_fields, *fields)
    parameters = inspect.signature(operator.__init__).parameters
    assert [name for name in parameters if name in fields] == list(fields)
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert {name for name in fields if parameters[name].default is inspect.Parameter.empty} == required


def test_a_missing_field_is_named_where_the_dag_is_written() -> None:
    with pytest.raises(TypeError, match="missing keyword arguments 'anchor_image_url', 'description'"):
        TengrStyleDnaOperator(task_id="style", visual_prompt="neon")


def test_airflow_sees_the_fields_as_the_operators_own_arguments() -> None:
    # default_args reach a request field, and partial() accepts one: Airflow read them off the signature.
    with DAG("fields", schedule=None, default_args={"scale_factor": 4}):
        upscale = TengrUpscaleOperator(task_id="up", image_url="https://img.example/a.png")
        mapped = TengrUpscaleOperator.partial(task_id="many", scale_factor=3).expand(
            image_url=["https://img.example/a.png", "https://img.example/b.png"]
        )
    assert upscale.scale_factor == 4
    assert mapped.partial_kwargs["scale_factor"] == 3
    with pytest.raises(TypeError, match="unexpected keyword argument 'scale'"):
        TengrUpscaleOperator.partial(task_id="typo", scale=3)


@pytest.mark.parametrize(
    "decorated",
    [TengrPhotoPilotDecoratedOperator, TengrStyleDnaDecoratedOperator, TengrUpscaleDecoratedOperator],
    ids=lambda cls: cls.__name__,
)
def test_a_decorator_names_the_typeddict_written_for_its_model(decorated: Any) -> None:
    typed = getattr(decorators, decorated.request_fields_type)
    assert set(typed.__annotations__) == set(decorated.request_model.model_fields)
