"""An operator's asset events carry its result: the artwork, its result URLs and the stored files."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from tests.helpers import task_context
from tests.unit.test_operators import ART, PHOTO_ARGS, RESULT_URL, STYLE_ARGS, artwork, photo_pilot, with_hook

from tengr_provider.assets import request_digest, result_event_extra
from tengr_provider.models import StyleDnaImage
from tengr_provider.operators import TengrStyleDnaOperator
from tengr_provider.version_compat import Asset

OutletEventAccessors = pytest.importorskip("airflow.sdk.execution_time.context").OutletEventAccessors

RESTYLED = Asset("tengr://catalog/restyled")
STORED = "s3://aws_default@bucket/restyled/9b1c_0.png"


def context_with_outlet_events() -> dict[str, Any]:
    return {**task_context(), "outlet_events": OutletEventAccessors()}


def storing(operator: Any, files: list[str]) -> mock.MagicMock:
    """The operator's copier, replaced by one that 'stores' ``files``."""
    copier = mock.MagicMock()
    copier.copy_all.return_value = files
    copier.copy.return_value = files[0]
    operator._copier = lambda: copier
    return copier


def test_the_event_names_the_artwork_its_results_and_stored_files() -> None:
    operator = photo_pilot(outlets=[RESTYLED])
    hook = with_hook(operator)
    hook.create_photo_pilot.return_value = artwork("starting")
    hook.wait_for_artwork.return_value = artwork("succeeded")
    storing(operator, [STORED])
    context = context_with_outlet_events()
    operator.execute(context)
    assert context["outlet_events"][RESTYLED].extra == {
        "artwork_id": ART,
        "artwork_type": None,
        "files": [STORED],
        "results": [RESULT_URL],
        "request_digest": request_digest(operator.build_request().to_api()),
    }


def test_a_deferred_task_sets_the_event_when_it_resumes() -> None:
    operator = photo_pilot(outlets=[RESTYLED], deferrable=True)
    storing(operator, [STORED])
    context = context_with_outlet_events()
    event = {"status": "success", "artwork": {**artwork("succeeded").to_api(), "artworkType": "photo_pilot"}}
    operator.execute_complete(context, event)
    extra = context["outlet_events"][RESTYLED].extra
    assert (extra["artwork_id"], extra["artwork_type"], extra["files"]) == (ART, "photo_pilot", [STORED])


def test_a_style_dna_event_carries_its_image_url() -> None:
    operator = TengrStyleDnaOperator(task_id="style", outlets=[RESTYLED], **STYLE_ARGS)
    hook = with_hook(operator)
    hook.submit_style_dna.return_value = StyleDnaImage.model_validate(
        {"imageUrl": "https://cdn.example/s.png", "expiresAt": "2099-01-01T00:00:00Z", "creditsUsed": 2}
    )
    storing(operator, [STORED])
    context = context_with_outlet_events()
    operator.execute(context)
    extra = context["outlet_events"][RESTYLED].extra
    assert (extra["artwork_id"], extra["artwork_type"]) == (None, "style_dna")
    assert (extra["results"], extra["files"]) == (["https://cdn.example/s.png"], [STORED])


def test_without_outlets_no_event_is_touched() -> None:
    operator = photo_pilot()
    hook = with_hook(operator)
    hook.create_photo_pilot.return_value = artwork("succeeded")
    outlet_events = mock.MagicMock()
    operator.execute({**task_context(), "outlet_events": outlet_events})
    assert outlet_events.mock_calls == []


def test_the_request_digest_is_stable_and_tells_requests_apart() -> None:
    body = photo_pilot().build_request().to_api()
    assert request_digest(body) == request_digest(dict(reversed(list(body.items()))))
    assert request_digest(body) != request_digest({**body, "effort": 1})
    assert request_digest(body).startswith("sha256:")


def test_the_extra_holds_no_request_body() -> None:
    extra = result_event_extra({"id": ART, "results": [RESULT_URL]}, {**PHOTO_ARGS, "prompt": "secret plan"})
    assert "secret plan" not in repr(extra)


@pytest.mark.parametrize(
    ("executor", "warned"),
    [("CeleryExecutor", True), ("KubernetesExecutor", True), ("LocalExecutor", False), ("", False)],
)
def test_a_local_output_path_under_a_distributed_executor_is_warned_about(
    executor: str,
    warned: bool,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", executor)
    operator = photo_pilot(output_path=tmp_path.as_uri())
    hook = with_hook(operator)
    hook.create_photo_pilot.return_value = artwork("succeeded")
    storing(operator, [f"{tmp_path.as_uri()}/9b1c_0.png"])
    operator.execute(task_context())
    assert ("is a local folder, but tasks run under" in capfd.readouterr().out) is warned


def test_shared_storage_under_celery_is_not_warned_about(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    operator = photo_pilot(output_path="s3://aws_default@bucket/restyled")
    monkeypatch.setattr(
        "tengr_provider.operators._base.check_destination", lambda path: mock.Mock(protocol="s3")
    )
    hook = with_hook(operator)
    hook.create_photo_pilot.return_value = artwork("succeeded")
    storing(operator, [STORED])
    operator.execute(task_context())
    assert "is a local folder" not in capfd.readouterr().out
