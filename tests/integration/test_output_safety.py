"""Storing results safely, end to end: the operator against the emulator's faulty result URLs.

A download that breaks is retried; one that keeps breaking, a URL that answers a page instead of an
image, and an image over ``max_image_bytes`` each fail the task with a message naming the cause, and
leave no file behind, not even a hidden partial one. A destination that cannot be written fails before
the artwork is created, so no credit is spent on a result that could not be kept. (A missing S3 bucket
is tested with moto in ``test_s3_output.py``.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.helpers import task_context

from tengr_provider.operators import TengrUpscaleOperator
from tengr_provider.storage import TengrStorageError
from tengr_provider.testing import TengrEmulator

pytestmark = pytest.mark.integration

FILES = "GET /files/{name}"


def upscale(emulator: TengrEmulator, output: Path | str, **kwargs: Any) -> dict[str, Any]:
    """Run an upscale (the emulator answers it done at once) storing under ``output``."""
    operator = TengrUpscaleOperator(
        task_id="upscale",
        image_url=emulator.sample_image_url("source", width=512, height=512),
        output_path=str(output),
        poll_interval=0.1,
        **kwargs,
    )
    result: dict[str, Any] = operator.execute(task_context())
    return result


def everything_under(folder: Path) -> list[Path]:
    """Every file under ``folder``, hidden ones (partial downloads) included."""
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


@pytest.mark.parametrize(
    ("options", "kwargs", "message", "file_outcome"),
    [
        pytest.param(
            {"file_break_rate": 1.0},
            {},
            r"could not download http://\S+ after 3 tries: download broke",
            ("broken", 3),
            id="download-keeps-breaking",
        ),
        pytest.param(
            {"file_not_image_rate": 1.0},
            {},
            r"result URL http://\S+ did not return an image \(Content-Type 'text/html",
            ("200", 1),
            id="page-instead-of-image",
        ),
        pytest.param(
            {"file_padding_bytes": 300_000},
            {"max_image_bytes": 200_000},
            r"result image http://\S+ is \d+ bytes, over the 200000-byte limit \(max_image_bytes\)",
            ("200", 1),
            id="over-cap-announced",
        ),
        pytest.param(
            {"file_padding_bytes": 300_000, "file_chunked": True},
            {"max_image_bytes": 200_000},
            r"result image http://\S+ is over the 200000-byte limit \(max_image_bytes\); not stored",
            ("200", 1),
            id="over-cap-found-while-streaming",
        ),
    ],
)
def test_a_bad_download_fails_clearly_and_leaves_no_file(
    tengr_emulator_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    options: dict[str, Any],
    kwargs: dict[str, Any],
    message: str,
    file_outcome: tuple[str, int],
) -> None:
    emulator: TengrEmulator = tengr_emulator_factory(**options)
    monkeypatch.setenv("AIRFLOW_CONN_TENGR_DEFAULT", emulator.connection_json)

    with pytest.raises(TengrStorageError, match=message):
        upscale(emulator, tmp_path / "out", **kwargs)

    assert everything_under(tmp_path / "out") == []
    stats = emulator.stats()
    assert stats.artworks_created_by_type == {"upscaling": 1}
    status, count = file_outcome
    assert stats.count(FILES, status) == count, stats.requests[FILES]


@pytest.mark.tengr_emulator(file_break_rate=0.5, seed=3)
def test_a_broken_download_is_retried_and_the_image_stored_whole(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    result = upscale(tengr_emulator, tmp_path / "out")

    # Seed 3 breaks the first two downloads and lets the third through.
    assert tengr_emulator.stats().requests[FILES] == {"broken": 2, "200": 1}
    (stored,) = everything_under(tmp_path / "out")
    assert result["files"] == [stored.as_uri()]
    with Image.open(stored) as image:
        image.load()
        assert image.size == (1024, 1024)


def test_an_unwritable_destination_fails_before_the_artwork_is_created(
    tengr_emulator: TengrEmulator, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    with pytest.raises(TengrStorageError, match=r"output_path file://\S+/a-file/out cannot be created"):
        upscale(tengr_emulator, blocker / "out")

    assert tengr_emulator.stats().artworks_created == 0
    assert blocker.read_text() == "not a folder"
