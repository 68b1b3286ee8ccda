"""Results land in ``s3://`` through Airflow's object storage, against moto's S3 server on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from tests.helpers import free_port, task_context
from tests.integration.dag_runner import run_dag

from tengr_provider.operators import TengrUpscaleOperator
from tengr_provider.storage import TengrStorageError
from tengr_provider.testing import TengrEmulator

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]
BUCKET = "tengr-results"


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[str]:
    """moto's S3-compatible server on a free loopback port, stopped after the module."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(endpoint, timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def s3_bucket(moto_s3: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """An empty bucket, and the ``aws_default`` connection Airflow's object storage uses to reach it."""
    import boto3

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"endpoint_url": moto_s3, "region_name": "us-east-1"},
            }
        ),
    )
    client = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.mark.tengr_emulator(processing_seconds=0.5)
def test_deferrable_mapped_chain_writes_to_s3_once_per_image(
    tengr_emulator: TengrEmulator, s3_bucket: object
) -> None:
    outcome = run_dag("it_chain_deferrable", {"output_path": f"s3://aws_default@{BUCKET}/run1"})
    assert outcome.state == "success", outcome.task_states
    keys = sorted(item["Key"] for item in s3_bucket.list_objects_v2(Bucket=BUCKET)["Contents"])  # type: ignore[attr-defined]
    restyled = [outcome.return_values[f"restyle[{n}]"]["id"] for n in range(3)]
    upscaled = [outcome.return_values[f"upscale[{n}]"]["id"] for n in range(3)]
    assert keys == sorted(
        [f"run1/print/{i}_0.png" for i in upscaled] + [f"run1/restyled/{i}_0.png" for i in restyled]
    )
    files = outcome.return_values["upscale[0]"]["files"]
    assert files == [f"s3://aws_default@{BUCKET}/run1/print/{upscaled[0]}_0.png"]
    body = s3_bucket.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()  # type: ignore[attr-defined]
    assert body.startswith(b"\x89PNG")
    assert tengr_emulator.stats().artworks_created_by_type == {"photo_pilot": 3, "upscaling": 3}


def test_a_missing_bucket_fails_before_the_artwork_is_created(
    tengr_emulator: TengrEmulator, s3_bucket: object
) -> None:
    operator = TengrUpscaleOperator(
        task_id="upscale",
        image_url=tengr_emulator.sample_image_url("source", width=512, height=512),
        output_path="s3://aws_default@no-such-bucket/run1",
    )

    with pytest.raises(TengrStorageError, match=r"bucket 'no-such-bucket' does not exist; create it or fix"):
        operator.execute(task_context())

    assert tengr_emulator.stats().artworks_created == 0
    assert "no-such-bucket" not in [b["Name"] for b in s3_bucket.list_buckets()["Buckets"]]  # type: ignore[attr-defined]
