"""Turning recorded exchanges back into requests for a fresh emulator.

What `check-recording` decides before it sends anything, each in one function:

- `action_for`: whether an exchange is sent and compared, or skipped: a 429 (the store did
  not act), a 5xx or a lost answer (whether it acted is unknown; `--send-unknown` sends those,
  uncompared), a request that never left, a withheld line.
- `plan_identities`: one emulator app per recorded Pishkhan credential (its package name from
  the recorded APK metadata, else a default) and one user per BlueMind credential. A
  credential every recorded answer refused (401/403: a wrong token) gets no account, so the
  emulator refuses it too.
- `IdMap`: ids the store chose (a plugin's id) are learned from the recorded and replayed
  answers side by side, and numeric path segments of later requests are translated.
- `Samples`: sample files made with `storepush._samples` from the recorded metadata (package,
  version code and name, ABIs as `lib/<abi>/` folders) and sizes, capped for speed.
- `build_request`: the request itself: the recorded headers (framing headers dropped, the
  credential header given the replay credential), and the body rebuilt part by part, `***` in
  text parts replaced by the replay credential.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import msgspec
from aiohttp.payload import BytesPayload

from .._recording_format import AndroidInfo, Body, Exchange, Part
from .._samples import make_aab, make_apk, make_bin, make_jar, make_png

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "Action",
    "IdMap",
    "Identity",
    "Outgoing",
    "Samples",
    "action_for",
    "build_request",
    "plan_identities",
]

MASK = "***"
DEFAULT_PACKAGE = "com.example.replay"
DEFAULT_MAX_FILE_BYTES = 1024 * 1024
REFUSED = frozenset({401, 403})
_FRAMING = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".webp")


class Action(NamedTuple):
    """What to do with one recorded exchange, and why."""

    what: str  #: "compare", "send" (without comparing) or "skip"
    why: str = ""
    unknown: bool = False  #: whether the store may or may not have acted on it


def action_for(exchange: Exchange, *, send_unknown: bool = False) -> Action:
    """What to do with one recorded exchange.

    Only answers in which the store decided something are replayed and compared. A 429 did
    not act (and the emulator replays without quotas); a 5xx or a lost answer may or may not
    have acted, and the client's own follow-up (a read, a retry) is in the recording anyway,
    so those are skipped too, unless `send_unknown` says they acted.
    """
    if exchange.withheld:
        return Action("skip", "the line was withheld when it was recorded")
    response = exchange.response
    if response is None:
        error = exchange.error.type if exchange.error else "no answer"
        if exchange.error is not None and exchange.error.sent is False:
            return Action("skip", f"it never reached the server ({error})")
        why = f"no answer was recorded ({error}), so whether it acted is unknown"
    elif response.status == 429:
        return Action("skip", "the store throttled it (429): it did not act")
    elif response.status >= 500:
        why = f"the store failed ({response.status}), so whether it acted is unknown"
    else:
        return Action("compare")
    if send_unknown:
        return Action("send", why + "; sent as if it had (--send-unknown)", unknown=True)
    return Action("skip", why, unknown=True)


# -- identities ----------------------------------------------------------------------------


@dataclass(slots=True)
class Identity:
    """The emulator account standing in for one recorded credential."""

    marketplace: str
    fingerprint: str
    credential: str
    registered: bool
    name: str  #: the app's package name, or the user's name


def _packages(exchange: Exchange) -> Iterable[str]:
    body = exchange.request.body if exchange.request else None
    for part in body.parts if body else ():
        if part.android is not None and part.android.package:
            yield part.android.package


def plan_identities(exchanges: Sequence[Exchange]) -> dict[str, Identity]:
    """One identity per recorded credential fingerprint, in order of first appearance."""
    out: dict[str, Identity] = {}
    answered: dict[str, set[int]] = {}
    named: set[str] = set()
    counts = {"bazaar": 0, "bluemind": 0}
    for exchange in exchanges:
        market, fingerprint = exchange.marketplace, exchange.credential
        if market not in counts or fingerprint is None:
            continue
        if fingerprint not in out:
            counts[market] += 1
            n = counts[market]
            if market == "bazaar":
                name = DEFAULT_PACKAGE if n == 1 else f"{DEFAULT_PACKAGE}{n}"
            else:
                name = f"replay-user-{n}"
            out[fingerprint] = Identity(
                market, fingerprint, f"replay-{market}-{fingerprint}", True, name
            )
            answered[fingerprint] = set()
        package = next(iter(_packages(exchange)), None)
        if market == "bazaar" and package and fingerprint not in named:
            out[fingerprint].name = package
            named.add(fingerprint)
        status = exchange.response.status if exchange.response else 0
        answered[fingerprint].add(status)
    for fingerprint, statuses in answered.items():
        out[fingerprint].registered = not statuses or not statuses <= REFUSED
    return out


# -- ids the store chose -------------------------------------------------------------------


def _is_id(key: str) -> bool:
    return key in ("id", "plugin") or key.endswith("_id")


@dataclass(slots=True)
class IdMap:
    """Recorded ids and the emulator's ids for the same objects."""

    ids: dict[str, str] = field(default_factory=dict)

    def learn(self, recorded: Any, replayed: Any) -> None:
        """Walk two answers side by side and pair the ids found at the same places."""
        if isinstance(recorded, dict) and isinstance(replayed, dict):
            for key in recorded.keys() & replayed.keys():
                ours, theirs = recorded[key], replayed[key]
                if _is_id(key) and _scalar(ours) and _scalar(theirs):
                    self.ids.setdefault(str(ours), str(theirs))
                else:
                    self.learn(ours, theirs)
        elif isinstance(recorded, list) and isinstance(replayed, list):
            for ours, theirs in zip(recorded, replayed, strict=False):
                self.learn(ours, theirs)

    def path(self, path: str) -> str:
        """`path` with each numeric segment that is a known recorded id translated."""
        return "/".join(self.ids.get(seg, seg) if seg.isdigit() else seg for seg in path.split("/"))


def _scalar(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and value.isdigit())


# -- sample files --------------------------------------------------------------------------


class Samples:
    """Sample files standing in for recorded uploads, made once per recorded file."""

    def __init__(self, folder: Path | None = None, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES):
        self._tmp = tempfile.TemporaryDirectory(prefix="storepush-replay-") if not folder else None
        self.folder = folder or Path(self._tmp.name if self._tmp else ".")
        self.max_bytes = max_bytes
        self._made: dict[str, bytes] = {}

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    def data(self, part: Part, *, package: str, key: str) -> bytes:
        """The bytes of a file like the recorded one (same kind, metadata; size capped)."""
        key = part.sha1 or key
        if key not in self._made:
            self._made[key] = self._make(part, package, key)
        return self._made[key]

    def _make(self, part: Part, package: str, key: str) -> bytes:
        size = max(1, min(part.size if part.size is not None else 4096, self.max_bytes))
        seed = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
        name = (part.filename or part.name or "file").lower()
        content_type = (part.content_type or "").lower()
        path = self.folder / f"sample-{seed:08x}"
        info = part.android
        if info is not None and info.kind == "apk":
            make_apk(
                path,
                package=info.package or package,
                version_code=info.version_code if info.version_code is not None else 1,
                version_name=info.version_name or "1.0",
                size=size,
                seed=seed,
            )
            _add_abis(path, info, prefix="lib")
        elif info is not None and info.kind == "aab":
            make_aab(path, package=info.package or package, size=size)
            _add_abis(path, info, prefix="base/lib")
        elif content_type.startswith("image/") or name.endswith(_IMAGES):
            make_png(path)
        elif name.endswith(".jar") or "java-archive" in content_type:
            make_jar(path, size=size, seed=seed)
        else:
            make_bin(path, size=size)
        data = path.read_bytes()
        path.unlink()
        return data


def _add_abis(path: Path, info: AndroidInfo, *, prefix: str) -> None:
    if not info.abis:
        return
    with zipfile.ZipFile(path, "a") as archive:
        for abi in info.abis:
            archive.writestr(f"{prefix}/{abi}/libreplay.so", b"\x7fELF replay stub")


# -- the request ---------------------------------------------------------------------------


@dataclass(slots=True)
class Outgoing:
    """One request to send to the emulator."""

    method: str
    target: str  #: path and query, ids translated
    headers: dict[str, str]
    body: bytes | aiohttp.MultipartWriter | None


def _with_credential(value: Any, credential: str | None) -> Any:
    if credential is None:
        return value
    if isinstance(value, str):
        return value.replace(MASK, credential)
    if isinstance(value, dict):
        return {k: _with_credential(v, credential) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_credential(v, credential) for v in value]
    return value


def _multipart(
    body: Body, credential: str | None, samples: Samples, package: str, index: int
) -> aiohttp.MultipartWriter:
    writer = aiohttp.MultipartWriter("form-data")
    for number, part in enumerate(body.parts):
        name = part.name or f"part{number}"
        if part.filename is None:
            if part.json is not msgspec.UNSET:
                text = msgspec.json.encode(_with_credential(part.json, credential)).decode()
            else:
                text = _with_credential(part.value or "", credential)
            payload = BytesPayload(text.encode("utf-8"))
            if part.content_type is None:
                del payload.headers["Content-Type"]
            else:
                payload.headers["Content-Type"] = part.content_type
            payload.set_content_disposition("form-data", name=name)
        else:
            data = samples.data(part, package=package, key=f"{index}:{number}")
            payload = BytesPayload(
                data, content_type=part.content_type or "application/octet-stream"
            )
            payload.set_content_disposition("form-data", name=name, filename=part.filename)
        writer.append_payload(payload)
    return writer


def build_request(
    exchange: Exchange,
    identity: Identity | None,
    samples: Samples,
    ids: IdMap,
    *,
    index: int,
) -> Outgoing:
    """The request to send for `exchange`, as `identity` (or with no credential)."""
    credential = identity.credential if identity else None
    header = (exchange.credential_header or "").lower()
    headers: dict[str, str] = {}
    recorded = exchange.request.headers if exchange.request else {}
    body = exchange.request.body if exchange.request else None
    for name, value in recorded.items():
        lowered = name.lower()
        if lowered in _FRAMING or (lowered == "content-type" and body and body.kind == "multipart"):
            continue
        if lowered == header and credential is not None:
            headers[name] = credential
        elif MASK not in value:
            headers[name] = value
    target = ids.path(exchange.path) + (f"?{exchange.query}" if exchange.query else "")
    payload: bytes | aiohttp.MultipartWriter | None = None
    if body is None:
        payload = None
    elif body.kind == "multipart":
        package = identity.name if identity else DEFAULT_PACKAGE
        payload = _multipart(body, credential, samples, package, index)
    elif body.kind == "json":
        payload = msgspec.json.encode(_with_credential(body.json, credential))
    else:
        payload = bytes(min(body.size or 0, samples.max_bytes))
    return Outgoing(exchange.method, target, headers, payload)
