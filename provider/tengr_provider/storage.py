"""Copy result images from tengr.ai's URLs into the user's storage before those URLs expire.

Images are streamed (never held whole in memory) through Airflow's object storage, so any scheme a
provider serves works (``file://``, ``s3://``, ``gs://``, ...). Each image is written to a hidden
temporary sibling and then renamed into place: a reader sees the whole image or nothing, and a
retried task overwrites the same deterministic name instead of adding a second copy.

Downloads use their own HTTP session *without* the API key: result URLs are plain CDN links, and
the key must never travel to another host.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from tengr_provider import __version__
from tengr_provider._http import RETRYABLE_STATUSES, RetryWait, parse_retry_after, sleep_passes_budget
from tengr_provider.version_compat import AirflowException, BaseOperator, ObjectStoragePath, conf

log = logging.getLogger(__name__)

#: Largest image we accept by default; a bigger answer is almost certainly not an image of ours.
DEFAULT_MAX_IMAGE_BYTES = 512 * 1024 * 1024
_CHUNK_BYTES = 1024 * 1024
#: The download retry budget, one layer (tenacity; the session itself never retries): at most this many
#: GETs per image, waiting 0.5 s then 1 s (plus jitter) between them, or the server's ``Retry-After`` when
#: it sends one, and at most :data:`DOWNLOAD_WAIT_BUDGET` seconds of waiting in all: a ``Retry-After``
#: that would pass it fails the copy at once, naming the wait. A result URL that keeps answering 503
#: fails the copy after 3 GETs and about 2 s of waiting.
DOWNLOAD_ATTEMPTS = 3
DOWNLOAD_WAIT_BUDGET = 30.0
_DOWNLOAD_BACKOFF_INITIAL, _DOWNLOAD_BACKOFF_MAX = 0.5, 8.0
_LOCAL_PROTOCOLS = {"file", "local"}


class TengrStorageError(AirflowException):
    """A result image could not be copied to ``output_path``; no partial file was left behind."""


def as_storage_path(output_path: str | ObjectStoragePath) -> ObjectStoragePath:
    """Turn ``output_path`` (a URI, a local path or an ObjectStoragePath) into an ObjectStoragePath."""
    if isinstance(output_path, ObjectStoragePath):
        return output_path
    if not isinstance(output_path, str) or not output_path.strip():
        raise ValueError(f"output_path: must be a URI or an ObjectStoragePath, got {output_path!r}")
    uri = output_path.strip()
    if "://" not in uri:
        if not uri.startswith("/"):
            # A relative path would land wherever the worker's current directory happens to be.
            raise ValueError(
                f"output_path: a local path must be absolute (or a URI such as file:///data/images), "
                f"got {output_path!r}"
            )
        uri = f"file://{uri}"
    parsed = urlparse(uri)
    if parsed.scheme in _LOCAL_PROTOCOLS and parsed.netloc not in ("", "localhost"):
        raise ValueError(
            f"output_path: {output_path!r} has {parsed.netloc!r} where a file URI has its host; "
            f"an absolute path takes three slashes: file:///{parsed.netloc}{parsed.path}"
        )
    try:
        path = ObjectStoragePath(uri)
        path.fs  # noqa: B018 - opening the filesystem is what tells an unknown scheme apart
    except Exception as exc:
        scheme = urlparse(uri).scheme or "(none)"
        raise ValueError(
            f"output_path: cannot open {output_path!r} (scheme {scheme!r}): {exc}. Use file://, or "
            "install the provider that serves the scheme, e.g. apache-airflow-providers-amazon[s3fs] "
            "for s3://"
        ) from None
    return path


def read_lines(path: ObjectStoragePath, newline: str | None = None) -> Iterator[str]:
    """The text lines of ``path``, read as a stream.

    Read with ``readline``, not by iterating the file: Airflow 3.0's ``ObjectStoragePath.open`` wraps
    the file in an object without ``__iter__``, so a ``for`` loop over it fails ("not subscriptable").
    """
    options = {"encoding": "utf-8"} if newline is None else {"encoding": "utf-8", "newline": newline}
    with path.open("r", **options) as source:  # type: ignore[no-untyped-call]
        yield from iter(source.readline, "")


def is_local(folder: ObjectStoragePath) -> bool:
    """Whether ``folder`` is on the machine's own disk (``file://``), not in shared object storage."""
    return str(folder.protocol) in _LOCAL_PROTOCOLS


#: Executors that run every task on the scheduler's machine, where a ``file://`` output_path is shared.
_SINGLE_MACHINE_EXECUTORS = frozenset({"LocalExecutor", "SequentialExecutor"})


def warn_if_workers_do_not_share_the_disk(task: BaseOperator, output_path: object) -> None:
    """A ``file://`` path under Celery or Kubernetes lands on whichever worker ran the task: say so."""
    configured = str(conf.get("core", "executor", fallback="") or "")
    names = [entry.strip() for entry in configured.split(",") if entry.strip()]
    executor = str(getattr(task, "executor", None) or (names[0] if names else ""))
    # Entries may be aliased (``alias:module.Class``) or module paths: the class name decides.
    name = executor.rpartition(":")[2].rpartition(".")[2]
    if name and name not in _SINGLE_MACHINE_EXECUTORS:
        task.log.warning(
            "output_path %s is a local folder, but tasks run under %s: each file lands on the worker "
            "that ran its task. Use shared storage (s3://, gs://, ...) or a volume every worker mounts.",
            output_path,
            name,
        )


def check_destination(output_path: str | ObjectStoragePath) -> ObjectStoragePath:
    """Fail early, before anything is paid for, when ``output_path`` certainly cannot be written.

    It only looks; it creates nothing (the copier creates the folder when the first image arrives). A
    local folder must be writable, or creatable: its nearest existing ancestor is a folder this worker
    may write to. For an object store, the bucket must exist: a "not found" for it is certain, while a
    refused look (no permission to list or head the bucket) is not, so that case is left to the write.

    :raises ValueError: ``output_path`` is not a URI or has an unknown scheme.
    :raises TengrStorageError: the folder cannot be created or written, or the bucket does not exist.
    """
    folder = as_storage_path(output_path)
    if is_local(folder):
        _check_local_folder(folder)
        return folder
    # Older Airflow (3.0) keeps the connection id in it: ``aws_default@my-bucket``.
    bucket = str(getattr(folder, "bucket", "") or "").rpartition("@")[2]
    if bucket and not _bucket_may_exist(folder, bucket):
        raise TengrStorageError(
            f"output_path {folder}: bucket {bucket!r} does not exist; create it or fix the path"
        )
    return folder


def _bucket_may_exist(folder: ObjectStoragePath, bucket: str) -> bool:
    """False only when the store says for certain that ``bucket`` does not exist.

    ``info`` answers "not found" for an existing but empty bucket on older s3fs (Airflow 3.0's), so
    that answer is confirmed with ``exists`` before it counts. Any other failure (no permission to
    look) is uncertain and left to the write.
    """
    try:
        folder.fs.info(bucket)
        return True
    except FileNotFoundError:
        pass
    except Exception as exc:
        log.debug("Cannot check bucket %r of %s (%s); the write will tell", bucket, folder, exc)
        return True
    try:
        return bool(folder.fs.exists(bucket))
    except Exception as exc:
        log.debug("Cannot check bucket %r of %s (%s); the write will tell", bucket, folder, exc)
        return True


def _check_local_folder(folder: ObjectStoragePath) -> None:
    """Whether ``folder`` can be written, or created and then written, by this worker; touches nothing."""
    path = Path(folder.path)
    existing = next(candidate for candidate in (path, *path.parents) if candidate.exists())
    if not existing.is_dir():
        raise TengrStorageError(f"output_path {folder} cannot be created: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "is not writable" if existing == path else f"cannot be created: {existing} is not writable"
        raise TengrStorageError(f"output_path {folder} {what} by this worker (uid {os.getuid()})")


def _prepare_local_folder(folder: ObjectStoragePath) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TengrStorageError(f"output_path {folder} cannot be created: {exc}") from None
    if not os.access(folder.path, os.W_OK | os.X_OK):
        raise TengrStorageError(f"output_path {folder} is not writable by this worker (uid {os.getuid()})")


#: File signatures of the formats tengr.ai answers with, and the extension each is stored under.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"\xff\xd8\xff", 0, "jpg"),
    (b"RIFF", 0, "webp"),  # with "WEBP" at offset 8, checked below
)


def image_extension(head: bytes) -> str | None:
    """The extension of the image whose first bytes are ``head`` (PNG, JPEG, WebP), else ``None``.

    The bytes decide, not the ``Content-Type``: a CDN may label a PNG ``application/octet-stream``,
    and an error page may arrive labelled ``image/png``.
    """
    for signature, offset, extension in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            if extension == "webp" and head[8:12] != b"WEBP":
                continue
            return extension
    return None


def style_dna_file_stem(request_body: dict[str, Any]) -> str:
    """A name derived from a style-dna request: the same request always lands on the same file."""
    digest = hashlib.sha256(json.dumps(request_body, sort_keys=True).encode()).hexdigest()
    return f"style-dna_{digest[:20]}"


class _Retryable(Exception):
    """A download failure worth another try (connection lost mid-stream, 429 or 5xx).

    :param retry_after: seconds the server asked us to wait, when it said so.
    """

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        if retry_after is not None:
            reason += f" (Retry-After {retry_after:g} s; a copy waits {DOWNLOAD_WAIT_BUDGET:g} s at most)"
        super().__init__(reason)
        self.retry_after = retry_after


def _download_stop(attempts: int) -> Callable[[RetryCallState], bool]:
    """Stop after ``attempts`` GETs, or before a wait that would pass :data:`DOWNLOAD_WAIT_BUDGET`."""
    after_attempts = stop_after_attempt(attempts)
    return lambda state: after_attempts(state) or sleep_passes_budget(state, DOWNLOAD_WAIT_BUDGET)


class ResultCopier:
    """Streams result images into one output folder.

    :param output_path: the folder (URI or ObjectStoragePath) the images go to.
    :param timeout: seconds per HTTP read of a download.
    :param max_bytes: refuse (and clean up) an image larger than this.
    :param attempts: GETs of one image before giving up (see :data:`DOWNLOAD_ATTEMPTS`).
    """

    #: How the copier sleeps between tries; tests replace it.
    _sleep: Callable[[float], None] = staticmethod(time.sleep)

    def __init__(
        self,
        output_path: str | ObjectStoragePath,
        *,
        timeout: float = 60,
        max_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
        attempts: int = DOWNLOAD_ATTEMPTS,
    ) -> None:
        self.folder = as_storage_path(output_path)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.attempts = attempts

    @cached_property
    def _session(self) -> requests.Session:
        # No urllib3 ``Retry`` on the adapters: :meth:`copy` is the one retry layer.
        session = requests.Session()
        session.headers["User-Agent"] = f"airflow-provider-tengr/{__version__}"
        return session

    def close(self) -> None:
        """Release pooled connections."""
        if "_session" in self.__dict__:
            self._session.close()

    def copy_all(self, urls: Iterable[str], stem: str) -> list[str]:
        """Copy each URL to ``<stem>_<n>.<ext>`` (n from 0) and return the URIs written, in order."""
        return [self.copy(url, f"{stem}_{index}") for index, url in enumerate(urls)]

    def copy(self, url: str, stem: str) -> str:
        """Copy one image to ``<stem>.<ext>``; return its URI. Retries broken downloads."""
        self._prepare_folder()
        retrying = Retrying(
            stop=_download_stop(self.attempts),
            wait=RetryWait(_DOWNLOAD_BACKOFF_INITIAL, _DOWNLOAD_BACKOFF_MAX, DOWNLOAD_WAIT_BUDGET),
            sleep=self._sleep,
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            return retrying(self._copy_once, url, stem)
        except _Retryable as exc:
            tries = retrying.statistics.get("attempt_number", self.attempts)
            raise TengrStorageError(f"could not download {url} after {tries} tries: {exc}") from None

    def _prepare_folder(self) -> None:
        if is_local(self.folder):
            _prepare_local_folder(self.folder)

    def _copy_once(self, url: str, stem: str) -> str:
        try:
            response = self._session.get(url, stream=True, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Retryable(str(exc)) from None
        with response:
            if response.status_code in RETRYABLE_STATUSES:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                raise _Retryable(f"HTTP {response.status_code}", retry_after)
            if response.status_code >= 400:
                hint = "; it may have expired" if response.status_code < 500 else ""
                raise TengrStorageError(f"result image {url} answered HTTP {response.status_code}{hint}")
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > self.max_bytes:
                raise TengrStorageError(
                    f"result image {url} is {declared} bytes, over the {self.max_bytes}-byte limit "
                    "(max_image_bytes); not stored"
                )
            chunks = response.iter_content(chunk_size=_CHUNK_BYTES)
            try:
                head = next(chunks, b"")
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                raise _Retryable(f"download broke: {exc}") from None
            extension = image_extension(head)
            if extension is None:
                content_type = response.headers.get("Content-Type", "")
                raise TengrStorageError(
                    f"result URL {url} did not return an image (Content-Type "
                    f"{content_type or 'missing'!r}; not a PNG, JPEG or WebP file)"
                )
            target = self.folder / f"{stem}.{extension}"
            self._write_atomically(head, chunks, target, url)
            return str(target)

    def _write_atomically(
        self, head: bytes, rest: Iterator[bytes], target: ObjectStoragePath, url: str
    ) -> None:
        """Stream into a hidden sibling, then rename it into place (see :func:`write_atomically`)."""
        written = 0

        def limited() -> Iterator[bytes]:
            nonlocal written
            for chunk in itertools.chain((head,), rest):
                written += len(chunk)
                if written > self.max_bytes:
                    raise TengrStorageError(
                        f"result image {url} is over the {self.max_bytes}-byte limit "
                        "(max_image_bytes); not stored"
                    )
                yield chunk

        try:
            write_atomically(target, limited())
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise _Retryable(f"download broke after {written} bytes: {exc}") from None
        except OSError as exc:
            raise TengrStorageError(f"cannot write {target}: {exc}") from None
        log.info("Stored %s (%d bytes) from %s", target, written, url)


def write_atomically(target: ObjectStoragePath, chunks: Iterable[bytes]) -> int:
    """Write ``chunks`` to ``target`` so that a reader sees the whole object or none; return its bytes.

    The bytes go to a hidden sibling (``.<name>.<random>.part``) that is renamed into place at the end
    and removed on any failure (re-raised): a local file is never seen half-written, and an object store
    never shows a partial object under the final name. The result copier and the batch ledger write
    through here.
    """
    partial = target.parent / f".{target.name}.{uuid.uuid4().hex}.part"
    written = 0
    try:
        with partial.open("wb") as sink:  # type: ignore[no-untyped-call]
            for chunk in chunks:
                written += len(chunk)
                sink.write(chunk)
        partial.rename(target)
    except BaseException:
        _discard(partial)
        raise
    return written


def remove_partials(folder: ObjectStoragePath, names: Iterable[str]) -> int:
    """Remove the hidden temporary objects :func:`write_atomically` left in ``folder`` for ``names``.

    A process killed between writing a temporary object and renaming it (a lost worker) leaves it
    behind. Only the temporaries of ``names`` are removed (the caller's own files), so a write of
    another task in the same folder is never touched. Returns how many were removed.
    """
    wanted = set(names)
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return 0
    removed = 0
    for entry in entries:
        if partial_of(entry.name) in wanted:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed += 1
    return removed


def partial_of(name: str) -> str | None:
    """The final name the hidden temporary object ``name`` was written for (see
    :func:`write_atomically`), or ``None`` when ``name`` is not one."""
    if name.startswith(".") and name.endswith(".part"):
        return name[1:-5].rpartition(".")[0] or None
    return None


def _discard(partial: ObjectStoragePath) -> None:
    with contextlib.suppress(Exception):
        if partial.exists():
            partial.unlink()
