"""Pre-flight checks of local files, shared by both marketplaces. No network.

Each check raises [`ValidationError`][storepush.ValidationError] naming the field and the
fix, before any request is sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ._errors import FileChangedError, ValidationError
from ._formats import sniff_image as sniff_image_bytes

__all__ = [
    "FileIdentity",
    "ascii_filename",
    "changed_error",
    "check_file",
    "check_text",
    "file_sha1",
    "open_zip_names",
    "sha1_unchanged",
    "sniff_image",
]

_HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """What tells that a file is still the one that was checked: size, mtime, inode."""

    size: int
    mtime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, info: os.stat_result) -> FileIdentity:
        return cls(info.st_size, info.st_mtime_ns, info.st_ino, info.st_dev)


def changed_error(path: Path, how: str) -> FileChangedError:
    return FileChangedError(
        f"the file changed while it was being uploaded: {path.name} {how}; nothing that "
        "changed is committed (restore or rebuild the file, then run again)"
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def check_file(value: object, *, field: str) -> Path:
    """A path to an existing, regular, non-empty, readable file."""
    if isinstance(value, bool) or not isinstance(value, str | os.PathLike):
        raise ValidationError(field, f"must be a file path, not {type(value).__name__}")
    path = Path(value)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ValidationError(field, f"{path} does not exist", "check the path") from None
    except OSError as exc:
        raise ValidationError(field, f"{path} cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ValidationError(field, f"{path} is a directory", "name the file inside it")
    if not stat.S_ISREG(info.st_mode):
        raise ValidationError(field, f"{path} is not a regular file")
    if info.st_size == 0:
        raise ValidationError(field, f"{path} is empty", "build the file again")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise ValidationError(
            field, f"{path} cannot be read: {exc.strerror}", "check its permissions"
        ) from None
    return path


def check_text(value: object, *, field: str, required: bool = True, max_len: int = 0) -> str:
    """A string; non-blank when `required`; at most `max_len` characters when set."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise ValidationError(field, "is empty", "give it a value")
    if max_len and len(value) > max_len:
        raise ValidationError(field, f"is {len(value)} characters long; the limit is {max_len}")
    return value


def open_zip_names(path: Path, *, field: str, kind: str) -> set[str]:
    """The member names of a zip file, or a ValidationError saying it is not a `kind`."""
    try:
        with zipfile.ZipFile(path) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise ValidationError(
            field, f"{path.name} is not a {kind} (not a zip archive)", f"pass a real {kind}"
        ) from None


def sniff_image(path: Path) -> str | None:
    """The image content type of a file, from its bytes (PNG, JPEG, GIF, WebP), else `None`."""
    with path.open("rb") as handle:
        return sniff_image_bytes(handle.read(16))


def ascii_filename(path: Path, default: str) -> str:
    """A plain ASCII filename for Content-Disposition (no RFC 5987 `filename*`)."""
    name = _UNSAFE.sub("_", path.name).strip("._")
    return name or default


def sha1_unchanged(path: Path, identity: FileIdentity) -> str:
    """The SHA-1 (hex) of `path`, which must still be the file `identity` pins: a file that
    was replaced, or changes while it is read, raises `FileChangedError`."""
    digest = hashlib.sha1(usedforsecurity=False)
    with path.open("rb") as handle:
        if FileIdentity.of(os.fstat(handle.fileno())) != identity:
            raise changed_error(path, "is not the file that was checked")
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
        if FileIdentity.of(os.fstat(handle.fileno())) != identity:
            raise changed_error(path, "changed while it was read")
    return digest.hexdigest()


async def file_sha1(path: Path, identity: FileIdentity) -> str:
    """`sha1_unchanged`, off the event loop."""
    return await asyncio.to_thread(sha1_unchanged, path, identity)
