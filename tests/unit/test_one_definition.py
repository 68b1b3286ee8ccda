"""Each rule stated once: the wait event, the deferral and its grace period, status questions, colours."""

from __future__ import annotations

import ast
from pathlib import Path
from unittest import mock

import pytest
from tests.helpers import task_context

import tengr_provider
from tengr_provider.exceptions import TengrArtworkFailedError, TengrWaitTimeoutError
from tengr_provider.models import Artwork, ArtworkStatus
from tengr_provider.operators import TengrPhotoPilotOperator, TengrStyleDnaOperator, TengrUpscaleOperator
from tengr_provider.operators._base import TengrArtworkOperator, TengrBaseOperator
from tengr_provider.sensors.artwork import TengrArtworkSensor
from tengr_provider.triggers.artwork import ArtworkWaitEvent
from tengr_provider.version_compat import AirflowException, AirflowSensorTimeout, BaseOperator
from tengr_provider.waiting.deferral import DEFER_GRACE
from tengr_provider.waiting.policy import ArtworkWait

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


def status_words_written(path: Path) -> list[int]:
    """Lines where a status word (``"failed"``, ``"done"``, ...) is written as a string: compared,
    returned, stored. Only ``ArtworkStatus`` may spell them."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value in STATUS_WORDS
    ]


#: Modules that handle artworks: every module but the one that states the statuses (models.py) and the
#: emulator in testing/, which states the API's side.
ARTWORK_MODULES = sorted(
    path for path in PACKAGE.rglob("*.py") if "testing" not in path.parts and path.name != "models.py"
)


@pytest.mark.parametrize("path", ARTWORK_MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_artwork_status_is_never_written_as_a_string(path: Path) -> None:
    assert status_words_written(path) == []


def provider_modules() -> list[Path]:
    """The provider's own modules (the emulator in testing/ states the API's side)."""
    return sorted(path for path in PACKAGE.rglob("*.py") if "testing" not in path.parts)


def calls_to(names: set[str], path: Path) -> list[str]:
    """``module.py:line`` of each call of a function named in ``names`` in ``path``."""
    hits = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in names:
                hits.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return hits


def test_one_backoff_wait_serves_api_calls_and_downloads() -> None:
    # _http.RetryWait is the only wait built from tenacity's: the hooks and the copier both use it.
    builders = [
        hit for path in provider_modules() for hit in calls_to({"wait_exponential", "wait_random"}, path)
    ]
    assert [hit.partition(":")[0] for hit in builders] == ["_http.py", "_http.py"]


def test_transient_failures_are_one_tuple_for_waits_and_task_retries() -> None:
    from tengr_provider import exceptions, retry_policy

    assert retry_policy.TRANSIENT_ERRORS is exceptions.TRANSIENT_ERRORS
    # No module lists the transient classes again (a tuple naming two of them is a second list).
    transient_names = {kind.__name__ for kind in exceptions.TRANSIENT_ERRORS}
    lists = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in provider_modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Tuple)
        and len({getattr(e, "id", None) for e in node.elts} & transient_names) > 1
    ]
    assert [hit.partition(":")[0] for hit in lists] == ["exceptions.py"]


@pytest.mark.parametrize("kind", ["TengrRateLimitError", "TengrServerError", "TengrConnectionError"])
def test_every_transient_failure_retries_the_task_and_keeps_a_wait_going(kind: str) -> None:
    from tengr_provider import exceptions
    from tengr_provider.retry_policy import TengrRetryPolicy
    from tengr_provider.version_compat import HAS_RETRY_POLICIES

    error = getattr(exceptions, kind)(503, "busy")
    assert isinstance(error, exceptions.TRANSIENT_ERRORS)
    if HAS_RETRY_POLICIES:
        decision = TengrRetryPolicy().evaluate(error, try_number=1, max_tries=2)
        assert decision.action.value == "retry"
        assert error.summary in (decision.reason or "")


def test_wait_defaults_are_the_named_constants_wherever_a_wait_is_configured() -> None:
    # poll_interval and timeout of a wait default to waiting.policy's constants, never to a number written
    # again (the hook said 5 where the operators said 10: two constants now, each named for its caller).
    literal_defaults = []
    for path in provider_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            positional, keyword_only = node.args.args, node.args.kwonlyargs
            if "poll_interval" not in {argument.arg for argument in [*positional, *keyword_only]}:
                continue
            with_default = positional[len(positional) - len(node.args.defaults) :]
            defaults = dict(zip([a.arg for a in with_default], node.args.defaults, strict=True))
            defaults.update(
                (argument.arg, default)
                for argument, default in zip(keyword_only, node.args.kw_defaults, strict=True)
                if default is not None
            )
            expected = {
                "poll_interval": {"DEFAULT_POLL_INTERVAL", "HOOK_POLL_INTERVAL"},
                "timeout": {"DEFAULT_WAIT_TIMEOUT", "DEFAULT_BATCH_TIMEOUT"},
            }
            literal_defaults += [
                f"{path.relative_to(PACKAGE)}:{node.lineno} {name}"
                for name, constants in expected.items()
                if name in defaults
                and getattr(defaults[name], "id", None) not in constants
                and getattr(defaults[name], "value", None) is not Ellipsis  # a typing stub's "..."
            ]
    assert literal_defaults == []


@pytest.mark.parametrize("trigger_class", ["artwork.TengrArtworkTrigger", "batch.TengrBatchTrigger"])
def test_a_trigger_deadline_defaults_to_the_wait_timeout(trigger_class: str) -> None:
    import importlib
    import time

    from tengr_provider.waiting.policy import DEFAULT_WAIT_TIMEOUT

    module, name = trigger_class.split(".")
    trigger = getattr(importlib.import_module(f"tengr_provider.triggers.{module}"), name)
    before = time.time()
    end_time = trigger(ART if module == "artwork" else [ART]).end_time
    assert before + DEFAULT_WAIT_TIMEOUT <= end_time <= time.time() + DEFAULT_WAIT_TIMEOUT


def numbers_and_texts(path: Path) -> list[tuple[int, object]]:
    """``(line, value)`` of every constant (number or text) in ``path``."""
    return [
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant)
    ]


@pytest.mark.parametrize("cap", [1_478_656, 1_763_584])
def test_an_area_cap_is_written_only_in_the_models(cap: int) -> None:
    # Messages name a cap through its constant, never as a literal beside it.
    spellings = (str(cap), f"{cap:,}", f"{cap:_}")
    written = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "models.py"
        for line, value in numbers_and_texts(path)
        if value == cap or (isinstance(value, str) and any(spelling in value for spelling in spellings))
    ]
    assert written == []
    models = numbers_and_texts(PACKAGE / "models.py")
    assert not [line for line, value in models if isinstance(value, str) and str(cap) in value]


@pytest.mark.parametrize(
    ("module", "number"),
    [("triggers/_poller.py", 500), ("testing/config.py", 8 * 24 * 3600)],
    ids=["page size", "retention"],
)
def test_page_size_and_retention_are_read_from_the_models(module: str, number: int) -> None:
    from tengr_provider.models import ARTWORK_RETENTION, LIST_LIMIT_MAX
    from tengr_provider.testing import config
    from tengr_provider.triggers import _poller

    assert _poller.PAGE_LIMIT == LIST_LIMIT_MAX
    assert ARTWORK_RETENTION.total_seconds() == config.DEFAULT_RETENTION_SECONDS
    assert number not in [value for _, value in numbers_and_texts(PACKAGE / module)]


def test_the_connection_form_offers_the_versions_of_the_path_table() -> None:
    from tengr_provider.api_paths import API_VERSION_LABELS, API_VERSIONS, DEFAULT_API_VERSION, PATHS

    schema = tengr_provider.get_provider_info()["connection-types"][0]["conn-fields"]["api_version"]["schema"]
    assert schema["enum"] == list(API_VERSIONS) == list(PATHS) == list(API_VERSION_LABELS)
    assert (schema["values_display"], schema["default"]) == (API_VERSION_LABELS, DEFAULT_API_VERSION)


def test_style_dna_reads_its_stored_job_without_asking_its_type() -> None:
    # V1's answer and V2's artwork are kept in one shape (an artwork), so no method switches on type.
    assert calls_to({"isinstance", "type"}, PACKAGE / "operators" / "style_dna.py") == []
