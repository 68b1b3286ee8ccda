"""Each rule stated once: the wait event, the deferral and its grace period, status questions, colours."""

from __future__ import annotations

import ast
from pathlib import Path
from unittest import mock

import pytest
from tests.helpers import task_context

import tengr_provider
from tengr_provider.exceptions import TengrArtworkFailedError, TengrWaitTimeoutError
from tengr_provider.hooks._wait import ArtworkWait
from tengr_provider.models import Artwork, ArtworkStatus
from tengr_provider.operators import TengrPhotoPilotOperator, TengrStyleDnaOperator, TengrUpscaleOperator
from tengr_provider.operators._base import TengrArtworkOperator, TengrBaseOperator
from tengr_provider.sensors.artwork import TengrArtworkSensor
from tengr_provider.triggers.artwork import ArtworkWaitEvent
from tengr_provider.triggers.deferral import DEFER_GRACE
from tengr_provider.version_compat import AirflowException, AirflowSensorTimeout, BaseOperator

try:
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow 3.0
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef]

PACKAGE = Path(tengr_provider.__file__).parent
ART = "a-1"
STATUS_WORDS = {status.value for status in ArtworkStatus}


def artwork(status: str) -> Artwork:
    return Artwork.model_validate({"id": ART, "status": status, "results": ["https://cdn.example/x.png"]})


def waited(last: Artwork | None) -> ArtworkWait:
    wait = ArtworkWait(ART, deadline=0, poll_interval=1, clock=lambda: 1.0, logger=None)  # type: ignore[arg-type]
    wait.last = last
    return wait


EVENTS = {
    "succeeded": ArtworkWaitEvent.finished(artwork("succeeded")),
    "failed": ArtworkWaitEvent.finished(artwork("failed")),
    "canceled": ArtworkWaitEvent.finished(artwork("canceled")),
    "timeout": ArtworkWaitEvent.timed_out(waited(artwork("processing"))),
    "broken": ArtworkWaitEvent.failed(ART, RuntimeError("boom")),
}


@pytest.mark.parametrize("name", EVENTS)
def test_the_trigger_event_parses_back_to_itself(name: str) -> None:
    event = EVENTS[name]
    assert ArtworkWaitEvent.parse(event.model_dump()) == event


@pytest.mark.parametrize(
    ("name", "operator_error", "sensor_error"),
    [
        ("failed", TengrArtworkFailedError, TengrArtworkFailedError),
        ("canceled", TengrArtworkFailedError, TengrArtworkFailedError),
        ("timeout", TengrWaitTimeoutError, AirflowSensorTimeout),
        ("broken", AirflowException, AirflowException),
    ],
)
def test_operator_and_sensor_read_every_event_the_same_way(
    name: str, operator_error: type[Exception], sensor_error: type[Exception]
) -> None:
    payload = EVENTS[name].model_dump()
    operator = TengrUpscaleOperator(task_id="up", image_url="https://img.example/a.png")
    sensor = TengrArtworkSensor(task_id="wait", artwork_id=ART)
    with pytest.raises(operator_error, match=ART):
        operator.execute_complete(task_context(), payload)
    with pytest.raises(sensor_error, match=ART):
        sensor.execute_complete(task_context(), payload)


def test_operator_and_sensor_defer_with_one_grace_period() -> None:
    operator = TengrUpscaleOperator(
        task_id="up", image_url="https://img.example/a.png", poll_interval=15, timeout=600, deferrable=True
    )
    sensor = TengrArtworkSensor(
        task_id="wait", artwork_id=ART, poke_interval=15, timeout=600, deferrable=True
    )
    sensor.__dict__["hook"] = mock.Mock(get_artwork=mock.Mock(return_value=artwork("processing")))

    with pytest.raises(TaskDeferred) as operator_deferred:
        operator._wait(ART)
    with pytest.raises(TaskDeferred) as sensor_deferred:
        sensor.execute(task_context())

    assert operator_deferred.value.timeout.total_seconds() == 600 + DEFER_GRACE
    assert sensor_deferred.value.timeout.total_seconds() == 600 + DEFER_GRACE


@pytest.mark.parametrize(
    "cls",
    [
        TengrBaseOperator,
        TengrArtworkOperator,
        TengrPhotoPilotOperator,
        TengrStyleDnaOperator,
        TengrUpscaleOperator,
        TengrArtworkSensor,
    ],
)
def test_no_hex_colours_the_airflow_3_ui_ignores(cls: type[BaseOperator]) -> None:
    assert not {"ui_color", "ui_fgcolor"} & {
        key for klass in cls.__mro__ if klass.__module__.startswith("tengr_provider") for key in vars(klass)
    }


def test_the_sensor_does_not_reach_into_operators() -> None:
    tree = ast.parse((PACKAGE / "sensors" / "artwork.py").read_text())
    modules = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [module for module in modules if module.startswith("tengr_provider.operators")]


def status_strings_compared(path: Path) -> list[int]:
    """Lines where a status word (``"failed"``, ``"done"``, ...) is compared with something."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Compare):
            continue
        for operand in [node.left, *node.comparators]:
            constants = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
            if any(isinstance(c, ast.Constant) and c.value in STATUS_WORDS for c in constants):
                lines.append(node.lineno)
    return lines


#: Modules that handle artworks (the emulator in testing/ states the API's side; style-dna's own
#: "succeeded" is the state of a stored image URL, not an ArtworkStatus).
ARTWORK_MODULES = sorted(
    path
    for path in PACKAGE.rglob("*.py")
    if "testing" not in path.parts and path.name not in ("models.py", "style_dna.py")
)


@pytest.mark.parametrize("path", ARTWORK_MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_artwork_status_is_never_compared_as_a_string(path: Path) -> None:
    assert status_strings_compared(path) == []
