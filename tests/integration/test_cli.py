"""The installed provider as an Airflow user meets it on the command line."""

from __future__ import annotations

import json

import pytest
from tests.helpers import SECRET_KEY
from tests.integration.conftest import airflow_cli

pytestmark = pytest.mark.integration


def test_providers_list_shows_the_provider() -> None:
    assert "airflow-provider-tengr" in airflow_cli("providers", "list")


def test_connections_add_with_tengr_type(airflow_db: str) -> None:
    airflow_cli(
        "connections",
        "add",
        "tengr_cli_test",
        "--conn-type",
        "tengr",
        "--conn-password",
        SECRET_KEY,
        "--conn-host",
        "http://127.0.0.1:8099",
    )
    output = airflow_cli("connections", "get", "tengr_cli_test", "--output", "json")
    # Airflow 3.0 prints log lines around the JSON; the JSON is the line that starts with '[{'.
    (conn,) = json.loads(next(line for line in output.splitlines() if line.startswith("[{")))
    assert conn["conn_type"] == "tengr"
    assert conn["host"] == "http://127.0.0.1:8099"
    airflow_cli("connections", "delete", "tengr_cli_test")


def test_provider_details_list_the_task_decorators() -> None:
    details = json.loads(airflow_cli("providers", "get", "airflow-provider-tengr", "--full", "-o", "json"))
    (provider,) = details if isinstance(details, list) else [details]
    names = {decorator["name"] for decorator in provider["task-decorators"]}
    assert names == {"tengr_photo_pilot", "tengr_style_dna", "tengr_upscale", "tengr_batch"}
