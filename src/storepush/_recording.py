"""Recording HTTP exchanges as JSON lines, credentials removed: evidence a user can hand back.

`Session(record=PATH)` (or a [Recorder][storepush.Recorder]) and `storepush --record FILE`
wrap the session's transport in a `RecordingTransport`: every exchange it sends (every attempt
and every redirect hop, failures included) becomes one line of a JSON-lines file. The file is
meant to be given to someone else, so what goes into it is chosen for that:

- **No credential.** The request's credential headers are masked (`***`) by name, `Cookie`,
  `Set-Cookie`, `Authorization` and `Proxy-Authorization` always; JSON keys such as `api_key`
  or `token` are masked wherever they appear; every text passes through
  `storepush._scrub.scrub` (every live `storepush.Secret`, in every encoding a server may
  echo it in) and an explicit removal of the request's own credentials. The finished line is
  checked once more; a line that still holds a credential form is cut down to what cannot
  (`"withheld": true`). Only the credential's one-way fingerprint is kept. The rules live in
  `storepush._recording_clean`.
- **No uploaded bytes.** A file part is described by its name, file name, content type, size
  and SHA-1; an APK or AAB also by the metadata a replay needs (package, version code,
  version name, native ABIs from its `lib/<abi>/` folders). Text parts keep their values,
  scrubbed, and no hash (a hash of a text holding a key would let anyone test guesses).

The lines' format is described (and read back) in `storepush._recording_format`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
import warnings
import zipfile
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp
import msgspec
from aiohttp.multipart import parse_content_disposition
from aiohttp.payload import BytesPayload, Payload
from yarl import URL

from . import _scrub
from ._errors import ValidationError
from ._formats import native_abis, read_apk_manifest, read_bundle_manifest
from ._http import Request, Response, Transport
from ._recording_clean import Cleaner, encode_clean
from ._recording_format import (
    FORMAT,
    AndroidInfo,
    Body,
    ErrorRecord,
    Exchange,
    Part,
    RequestRecord,
    ResponseRecord,
)
from ._uploads import FilePayload

__all__ = [
    "Recorder",
    "RecordingTransport",
    "active_recorder",
    "android_info",
    "body_summary",
    "install",
    "recording",
]

log = _scrub.get_logger("storepush.recording")

JSON_CAP = 1024 * 1024  #: the largest response body a line keeps parsed
#: Credential header names (lower case) and the marketplace each one means.
CREDENTIAL_HEADERS = {"cafebazaar-pishkhan-api-secret": "bazaar", "api-key": "bluemind"}


# -- summaries -----------------------------------------------------------------------------


def android_info(path: Path, filename: str | None, content_type: str | None) -> AndroidInfo | None:
    """Package metadata of an APK or AAB at `path` (by name or type), or `None`."""
    lowered = (filename or path.name).lower()
    if lowered.endswith(".aab"):
        kind = "aab"
    elif lowered.endswith(".apk") or content_type == "application/vnd.android.package-archive":
        kind = "apk"
    else:
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return AndroidInfo(kind=kind)
    info = AndroidInfo(kind=kind, abis=sorted(native_abis(names, bundle=kind == "aab")))
    reader = read_apk_manifest if kind == "apk" else read_bundle_manifest
    manifest = reader(str(path))
    if manifest is not None:
        info.package = manifest.package
        info.version_code = manifest.version_code
        info.version_name = manifest.version_name
    return info


def _disposition(payload: Payload) -> tuple[str | None, str | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, params = parse_content_disposition(payload.headers.get("Content-Disposition"))
    return params.get("name"), params.get("filename") or payload.filename


def _part(payload: Payload, cleaner: Cleaner) -> Part:
    name, filename = _disposition(payload)
    content_type = payload.headers.get("Content-Type")
    if filename is None:
        part = Part(name=name, content_type=content_type)
        if isinstance(payload, BytesPayload):
            part.value = payload.decode(errors="replace")
            try:
                part.json = cleaner.json(msgspec.json.decode(part.value), deep=False)
                part.value = None
            except msgspec.DecodeError:
                pass
        else:
            part.size = payload.size
        return part
    part = Part(name=name, filename=filename, content_type=content_type, size=payload.size)
    if isinstance(payload, FilePayload):
        path: Path = payload._path  # our own payload: the file it streamed
        part.sha1 = payload.sha1
        part.android = android_info(path, filename, content_type)
    elif isinstance(payload, BytesPayload):
        part.sha1 = hashlib.sha1(payload._value, usedforsecurity=False).hexdigest()
    return part


def body_summary(request: Request, built: object, cleaner: Cleaner) -> Body | None:
    """What the request's body was, without its uploaded bytes."""
    if isinstance(built, aiohttp.MultipartWriter):
        parts = [_part(payload, cleaner) for payload, _, _ in built]
        return Body(kind="multipart", content_type=built.content_type, parts=parts)
    if isinstance(built, Payload):
        return Body(kind="stream", content_type=built.content_type, size=built.size)
    body = request.body
    if not isinstance(body, bytes):
        return None
    summary = Body(kind="bytes", content_type=request.content_type, size=len(body))
    if "json" in (request.content_type or "") or body[:1] in (b"{", b"["):
        try:
            summary.json = cleaner.json(msgspec.json.decode(body), deep=False)
            summary.kind, summary.content_type = "json", None
        except msgspec.DecodeError:
            pass
    return summary


def _response(response: Response, cleaner: Cleaner, credential_names: list[str]) -> ResponseRecord:
    items = response.headers.items()
    record = ResponseRecord(
        status=response.status,
        headers=cleaner.headers(items, credential_names, deep=False),
        size=len(response.body),
        excerpt=cleaner.excerpt(response.body),
    )
    if response.body.strip() and len(response.body) <= JSON_CAP:
        with contextlib.suppress(msgspec.DecodeError):
            record.json = cleaner.json(msgspec.json.decode(response.body), deep=False)
    return record


def _error(exc: BaseException, cleaner: Cleaner) -> ErrorRecord:
    sent = getattr(exc, "sent", None)
    return ErrorRecord(
        type=type(exc).__name__,
        message=cleaner.text(str(exc)),
        sent=sent if isinstance(sent, bool) else None,
    )


# -- the recorder --------------------------------------------------------------------------


class Recorder:
    """Appends exchanges to a JSON-lines file, one whole line per write, from any task or thread.

    The file is opened (created if missing, appended to otherwise) when the recorder is made,
    so a bad path fails before any request; each line goes out in one `write` call under a
    lock. Use it as a context manager or call `close`. Pass one recorder to several sessions
    to gather them into one file; a session given a path makes (and closes) its own.

    Raises:
        ValidationError: when the file cannot be opened for appending.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ValidationError(
                "record",
                f"{self.path} cannot be opened for appending ({exc.strerror})",
                "give a file in a directory that exists and is writable",
            ) from None
        self._lock = threading.Lock()
        self.lines = 0  #: lines written so far

    def __repr__(self) -> str:
        return f"Recorder({str(self.path)!r}, lines={self.lines})"

    def write_line(self, line: bytes) -> None:
        """Append one finished line (it must end with a newline)."""
        with self._lock:
            if self._fd is None:
                raise RuntimeError("this recorder is closed")
            view = memoryview(line)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            self.lines += 1

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class RecordingTransport:
    """A transport that sends through `inner` and records every exchange to `recorder`."""

    def __init__(
        self,
        inner: Transport,
        recorder: Recorder,
        *,
        owns_inner: bool = True,
        owns_recorder: bool = False,
    ) -> None:
        self.inner = inner
        self.recorder = recorder
        self._owns_inner = owns_inner
        self._owns_recorder = owns_recorder
        #: the call's deadline reaches the inner transport through the same context variable
        self.honours_deadline = bool(getattr(inner, "honours_deadline", False))

    async def send(self, request: Request) -> Response:
        built: list[object] = []
        wire = request
        factory = request.body
        if callable(factory):

            def capture() -> Any:
                body = factory()
                built.append(body)
                return body

            wire = replace(request, body=capture)
        started_at = _now()
        started = time.perf_counter()
        try:
            response = await self.inner.send(wire)
        except BaseException as exc:
            self._record(request, built, started_at, started, None, exc)
            raise
        self._record(request, built, started_at, started, response, None)
        return response

    def _record(
        self,
        request: Request,
        built: list[object],
        started_at: str,
        started: float,
        response: Response | None,
        exc: BaseException | None,
    ) -> None:
        elapsed = round(time.perf_counter() - started, 6)
        try:
            cleaner = Cleaner(request.secret_headers.values())
            exchange = self._exchange(request, built, started_at, response, exc, cleaner)
            self.recorder.write_line(encode_clean(exchange, cleaner, elapsed=elapsed))
        except Exception as problem:
            # The exchange went as it went: a recording that cannot be made must neither fail
            # it nor hide its own exception.
            log.warning(
                "could not record %s %s: %s",
                request.method,
                URL(request.url).path,
                type(problem).__name__,
            )

    @staticmethod
    def _exchange(
        request: Request,
        built: list[object],
        started_at: str,
        response: Response | None,
        exc: BaseException | None,
        cleaner: Cleaner,
    ) -> Exchange:
        secrets = list(request.secret_headers.values())
        names = list(request.secret_headers)
        header_name = names[0] if names else None
        url = URL(request.url)
        return Exchange(
            format=FORMAT,
            time=started_at,
            method=request.method,
            path=url.raw_path,
            query=url.raw_query_string,
            marketplace=CREDENTIAL_HEADERS.get((header_name or "").lower()),
            credential=secrets[0].fingerprint if secrets else None,
            credential_header=header_name,
            request=RequestRecord(
                headers=cleaner.headers(request.wire_headers().items(), names, deep=False),
                body=body_summary(request, built[-1] if built else None, cleaner),
            ),
            response=None if response is None else _response(response, cleaner, names),
            error=None if exc is None else _error(exc, cleaner),
        )

    async def aclose(self) -> None:
        try:
            if self._owns_inner:
                await self.inner.aclose()
        finally:
            if self._owns_recorder:
                self.recorder.close()


# -- installing it -------------------------------------------------------------------------

_ACTIVE: ContextVar[Recorder | None] = ContextVar("storepush_recorder", default=None)


def active_recorder() -> Recorder | None:
    """The recorder set by `recording` for this context, if any."""
    return _ACTIVE.get()


@contextlib.contextmanager
def recording(target: str | os.PathLike[str] | Recorder) -> Iterator[Recorder]:
    """Record every session created inside (that was not given `record=` itself) to `target`.

    How `storepush --record FILE` reaches the sessions its commands create. The recorder is
    closed at the end when this made it from a path.
    """
    recorder = target if isinstance(target, Recorder) else Recorder(target)
    token = _ACTIVE.set(recorder)
    try:
        yield recorder
    finally:
        _ACTIVE.reset(token)
        if recorder is not target:
            recorder.close()


def install(
    transport: Transport,
    record: str | os.PathLike[str] | Recorder | None,
    *,
    owns_transport: bool,
) -> tuple[Transport, bool]:
    """The transport a session should use, and whether the session owns it.

    With nothing to record (no `record`, no active `recording`) that is `transport` as given.
    """
    target = record if record is not None else active_recorder()
    if target is None:
        return transport, owns_transport
    if isinstance(target, Recorder):
        wrapped = RecordingTransport(transport, target, owns_inner=owns_transport)
    else:
        wrapped = RecordingTransport(
            transport, Recorder(target), owns_inner=owns_transport, owns_recorder=True
        )
    return wrapped, True
