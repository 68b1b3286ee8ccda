"""Copying result images into object storage: streamed, atomic, deterministic, and refusing bad input."""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from tests.helpers import SECRET_KEY

from tengr_provider.storage import (
    ResultCopier,
    TengrStorageError,
    as_storage_path,
    check_destination,
    style_dna_file_stem,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 5000
URL = "https://cdn.example/art_0.png"


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_copies_under_a_deterministic_name_and_returns_its_uri(
    tmp_path: Path, mocked: responses.RequestsMock
) -> None:
    mocked.get(URL, body=PNG, content_type="image/png")
    copier = ResultCopier(f"file://{tmp_path}/out")
    uris = copier.copy_all([URL], "art")
    assert uris == [f"file://{tmp_path}/out/art_0.png"]
    assert (tmp_path / "out" / "art_0.png").read_bytes() == PNG


def test_a_second_copy_overwrites_instead_of_duplicating(
    tmp_path: Path, mocked: responses.RequestsMock
) -> None:
    mocked.get(URL, body=PNG + b"first", content_type="image/png")
    mocked.get(URL, body=PNG + b"second", content_type="image/png")
    copier = ResultCopier(str(tmp_path))
    copier.copy(URL, "art_0")
    copier.copy(URL, "art_0")
    assert files_in(tmp_path) == ["art_0.png"]
    assert (tmp_path / "art_0.png").read_bytes() == PNG + b"second"


@pytest.mark.parametrize(
    ("body", "extension"),
    [(PNG, "png"), (b"RIFF\x10\0\0\0WEBPVP8 ", "webp"), (b"\xff\xd8\xff\xe0\0\x10JFIF", "jpg")],
)
def test_extension_follows_the_bytes_not_the_label(
    tmp_path: Path, mocked: responses.RequestsMock, body: bytes, extension: str
) -> None:
    mocked.get("https://cdn.example/x", body=body, content_type="application/octet-stream")
    assert ResultCopier(str(tmp_path)).copy("https://cdn.example/x", "x").endswith(f"/x.{extension}")


def test_downloads_never_carry_the_api_key(tmp_path: Path, mocked: responses.RequestsMock) -> None:
    mocked.get(URL, body=PNG, content_type="image/png")
    ResultCopier(str(tmp_path)).copy(URL, "a")
    assert "Authorization" not in mocked.calls[0].request.headers
    assert SECRET_KEY not in str(mocked.calls[0].request.headers)


def test_a_page_that_is_not_an_image_is_refused(tmp_path: Path, mocked: responses.RequestsMock) -> None:
    mocked.get(URL, body=b"<html>login</html>", content_type="text/html")
    with pytest.raises(TengrStorageError, match=r"did not return an image \(Content-Type 'text/html'"):
        ResultCopier(str(tmp_path)).copy(URL, "a")
    assert files_in(tmp_path) == []


def test_an_error_page_labelled_as_an_image_is_refused(
    tmp_path: Path, mocked: responses.RequestsMock
) -> None:
    mocked.get(URL, body=b"<html>503 upstream</html>", content_type="image/png")
    with pytest.raises(TengrStorageError, match="not a PNG, JPEG or WebP file"):
        ResultCopier(str(tmp_path)).copy(URL, "a")
    assert files_in(tmp_path) == []


def test_a_download_shorter_than_its_length_is_retried_then_reported(
    tmp_path: Path, mocked: responses.RequestsMock
) -> None:
    mocked.get(URL, body=PNG, content_type="image/png", headers={"Content-Length": str(len(PNG) + 100)})
    with pytest.raises(TengrStorageError, match=r"after 2 tries: download broke: .*IncompleteRead"):
        ResultCopier(str(tmp_path), attempts=2).copy(URL, "a")
    assert files_in(tmp_path) == []


def test_an_expired_url_says_so(tmp_path: Path, mocked: responses.RequestsMock) -> None:
    mocked.get(URL, status=404, body=b"gone")
    with pytest.raises(TengrStorageError, match="HTTP 404; it may have expired"):
        ResultCopier(str(tmp_path)).copy(URL, "a")


def test_an_image_over_the_declared_cap_is_refused(tmp_path: Path, mocked: responses.RequestsMock) -> None:
    mocked.get(URL, body=PNG, content_type="image/png")
    with pytest.raises(TengrStorageError, match="over the 100-byte limit"):
        ResultCopier(str(tmp_path), max_bytes=100).copy(URL, "a")
    assert files_in(tmp_path) == []


def test_an_image_over_the_cap_without_length_leaves_no_partial_file(
    tmp_path: Path, mocked: responses.RequestsMock
) -> None:
    mocked.get(URL, body=PNG, content_type="image/png")  # no Content-Length: the cap applies while streaming
    with pytest.raises(
        TengrStorageError, match=r"is over the 4000-byte limit \(max_image_bytes\); not stored"
    ):
        ResultCopier(str(tmp_path), max_bytes=4000).copy(URL, "a")
    assert files_in(tmp_path) == []


def test_server_errors_are_retried_then_reported(tmp_path: Path, mocked: responses.RequestsMock) -> None:
    mocked.get(URL, status=503)
    with pytest.raises(TengrStorageError, match=r"could not download .* after 2 tries"):
        ResultCopier(str(tmp_path), attempts=2).copy(URL, "a")
    assert files_in(tmp_path) == []


def test_checking_a_destination_creates_nothing(tmp_path: Path) -> None:
    # A check that creates would leave empty folders behind every task that then fails to pay.
    folder = tmp_path / "not" / "yet"
    assert check_destination(str(folder)).path == str(folder)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_destination_is_a_clear_error_before_any_download(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(TengrStorageError, match=r"output_path file://.*/file/sub cannot be created"):
        check_destination(str(blocker / "sub"))


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        ("relative/folder", "a local path must be absolute"),
        ("file://data/images", "an absolute path takes three slashes: file:///data/images"),
    ],
)
def test_output_path_must_not_depend_on_the_working_directory(bad: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        as_storage_path(bad)


def test_unwritable_destination_is_a_clear_error(tmp_path: Path, mocked: responses.RequestsMock) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    mocked.get(URL, body=PNG, content_type="image/png")
    with pytest.raises(TengrStorageError, match="cannot be created"):
        ResultCopier(str(blocker / "sub")).copy(URL, "a")


@pytest.mark.parametrize("bad", ["", "   ", 42])
def test_output_path_must_be_a_uri(bad: object) -> None:
    with pytest.raises(ValueError, match="output_path: must be a URI"):
        as_storage_path(bad)  # type: ignore[arg-type]


def test_unknown_scheme_names_the_field_and_the_fix() -> None:
    with pytest.raises(ValueError, match=r"output_path: cannot open 'nosuch://bucket/x' \(scheme 'nosuch'\)"):
        as_storage_path("nosuch://bucket/x")


def test_style_dna_names_follow_the_request() -> None:
    first = style_dna_file_stem({"description": "a", "visualPrompt": "b"})
    assert first == style_dna_file_stem({"visualPrompt": "b", "description": "a"})
    assert first != style_dna_file_stem({"description": "c", "visualPrompt": "b"})
    assert first.startswith("style-dna_")


class FakeStore:
    """A filesystem whose ``info`` and ``exists`` answer as told, to check how the bucket test reads them."""

    def __init__(self, info: BaseException | None, exists: bool | BaseException) -> None:
        self._info, self._exists = info, exists

    def info(self, name: str) -> dict[str, str]:
        if self._info is not None:
            raise self._info
        return {"name": name}

    def exists(self, name: str) -> bool:
        if isinstance(self._exists, BaseException):
            raise self._exists
        return self._exists


@pytest.mark.parametrize(
    ("info", "exists", "missing"),
    [
        (None, False, False),  # info found it
        (FileNotFoundError("b"), False, True),  # both say missing: certain
        (FileNotFoundError("b"), True, False),  # older s3fs: info misses an empty bucket, exists finds it
        (PermissionError("denied"), False, False),  # no right to look: the write decides
        (FileNotFoundError("b"), PermissionError("denied"), False),
    ],
)
def test_a_bucket_is_reported_missing_only_when_certain(
    monkeypatch: pytest.MonkeyPatch, info: BaseException | None, exists: bool | BaseException, missing: bool
) -> None:
    from tengr_provider import storage

    folder = types.SimpleNamespace(protocol="s3", bucket="aws_default@b", fs=FakeStore(info, exists))
    monkeypatch.setattr(storage, "as_storage_path", lambda _: folder)
    if missing:
        with pytest.raises(TengrStorageError, match="bucket 'b' does not exist; create it or fix the path"):
            check_destination("s3://aws_default@b/x")
    else:
        assert check_destination("s3://aws_default@b/x") is folder


class Sleeps(list[float]):
    """Records the copier's sleeps instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_a_url_that_keeps_answering_503_costs_the_stated_budget_once(
    tmp_path: Path, mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tengr_provider.storage import DOWNLOAD_ATTEMPTS

    sleeps = Sleeps()
    monkeypatch.setattr(ResultCopier, "_sleep", staticmethod(sleeps))
    mocked.get(URL, status=503)

    with pytest.raises(TengrStorageError, match=f"after {DOWNLOAD_ATTEMPTS} tries: HTTP 503"):
        ResultCopier(str(tmp_path)).copy(URL, "a")

    # One retry layer: no adapter retries stacked inside the copier's tries.
    assert len(mocked.calls) == DOWNLOAD_ATTEMPTS == 3
    assert 0.5 <= sleeps[0] <= 1.0 <= sleeps[1] <= 1.5  # 0.5 s doubling, plus up to 0.5 s of jitter


def test_a_download_waits_as_long_as_retry_after_asks(
    tmp_path: Path, mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps = Sleeps()
    monkeypatch.setattr(ResultCopier, "_sleep", staticmethod(sleeps))
    mocked.get(URL, status=429, headers={"Retry-After": "2"})
    mocked.get(URL, status=503, headers={"Retry-After": "20"})
    mocked.get(URL, body=PNG, content_type="image/png")

    assert ResultCopier(str(tmp_path)).copy(URL, "a").endswith("/a.png")

    assert 2 <= sleeps[0] <= 3  # Retry-After plus up to half again of jitter
    assert 20 <= sleeps[1] <= 30 - sleeps[0]  # ... but never past the copy's 30 s of waiting
    assert len(mocked.calls) == 3


@pytest.mark.parametrize("waits", [["3600"], ["20", "20"]], ids=["one-long", "two-that-add-up"])
def test_a_retry_after_past_the_download_budget_fails_the_copy_at_once(
    tmp_path: Path, mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, waits: list[str]
) -> None:
    sleeps = Sleeps()
    monkeypatch.setattr(ResultCopier, "_sleep", staticmethod(sleeps))
    for wait in waits:
        mocked.get(URL, status=503, headers={"Retry-After": wait})

    with pytest.raises(TengrStorageError, match=rf"after {len(waits)} tries: HTTP 503 \(Retry-After"):
        ResultCopier(str(tmp_path)).copy(URL, "a")

    assert len(sleeps) == len(waits) - 1  # the wait that would pass 30 s is never begun
    assert sum(sleeps) <= 30


def test_a_non_transient_server_error_is_not_retried(tmp_path: Path, mocked: responses.RequestsMock) -> None:
    mocked.get(URL, status=501)
    with pytest.raises(TengrStorageError, match=r"answered HTTP 501$"):
        ResultCopier(str(tmp_path)).copy(URL, "a")
    assert len(mocked.calls) == 1


def test_temporaries_a_killed_writer_left_are_removed_for_the_callers_names_only(tmp_path: Path) -> None:
    from tengr_provider.storage import as_storage_path, remove_partials

    for name in (".a_0.png.1f2e.part", ".b_0.png.77aa.part", "a_0.png", ".hidden"):
        (tmp_path / name).write_bytes(b"x")
    assert remove_partials(as_storage_path(str(tmp_path)), ["a_0.png"]) == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == [".b_0.png.77aa.part", ".hidden", "a_0.png"]
