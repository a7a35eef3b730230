"""What the command line reads from the user's disk and environment, checked before any request.

- `TEXT` or `@FILE` arguments, manifests and plugin specs are read only from **regular files**,
  up to a stated size: a fifo, `/dev/zero`, a terminal or a directory is refused at once,
  without blocking and without reading it (the file is opened non-blocking and checked with
  `fstat` on the open descriptor, so nothing can swap it between the check and the read).
- `APK[:ARCH]` is split by one rule, shared by arguments and manifests.
- Credentials come from environment variables only.
- The folder of a resume file must be writable before the first request.

Each failure is a `ValidationError` naming what the user typed; the command exits 2.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Literal

from .._errors import ValidationError
from .._secrets import Secret

__all__ = [
    "ARCHITECTURES",
    "MANIFEST_MAX_BYTES",
    "TEXT_FILE_MAX_BYTES",
    "ArchitectureName",
    "check_resume_file",
    "read_regular_file",
    "read_text_arg",
    "read_text_file",
    "secret_from_env",
    "split_apk_arg",
]

#: The largest `@FILE` accepted for a text argument. Changelogs are capped at 8,000 characters
#: and BlueMind descriptions at 65,536; 1 MiB holds either in any UTF-8, while a log, a core
#: dump or `/dev/zero` passed by mistake is refused before it is read.
TEXT_FILE_MAX_BYTES = 1024 * 1024
#: The largest manifest (or plugin spec) accepted: a 1,000-item manifest is about 300 KB.
MANIFEST_MAX_BYTES = 4 * 1024 * 1024

ArchitectureName = Literal["all", "armeabi-v7a", "arm64-v8a"]
ARCHITECTURES: tuple[ArchitectureName, ...] = ("all", "armeabi-v7a", "arm64-v8a")


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"


def read_regular_file(path: Path, *, field: str, limit: int) -> bytes:
    """The bytes of `path`, a regular file of at most `limit` bytes; never blocks."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ValidationError(field, f"{path} does not exist", "check the path") from None
    except OSError as exc:
        raise ValidationError(field, f"{path} cannot be opened: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ValidationError(field, f"{path} is a directory", "name a file")
        if not stat.S_ISREG(info.st_mode):
            raise ValidationError(
                field,
                f"{path} is not a regular file (a device, a fifo or a socket)",
                "name a regular file",
            )
        if info.st_size > limit:
            raise ValidationError(
                field, f"{path} is {info.st_size:,} bytes; the limit is {_size(limit)}"
            )
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ValidationError(field, f"{path} cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ValidationError(field, f"{path} grew past the limit of {_size(limit)}")
    return data


def read_text_file(path: Path, *, field: str, limit: int) -> str:
    """A regular file of at most `limit` bytes, as UTF-8 text (a byte-order mark is dropped)."""
    data = read_regular_file(path, field=field, limit=limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            field,
            f"{path} is not UTF-8 text (byte {exc.start} is not valid UTF-8)",
            "save it as UTF-8",
        ) from None


def read_text_arg(value: str | None, *, field: str, base: Path | None = None) -> str:
    """`TEXT` as given, or `@FILE`: the text of FILE (relative to `base` when given)."""
    if value is None:
        return ""
    if not value.startswith("@"):
        return value
    path = Path(value[1:]).expanduser()
    if not value[1:]:
        raise ValidationError(field, "@ names no file", "write @path/to/file.txt")
    if base is not None and not path.is_absolute():
        path = base / path
    return read_text_file(path, field=field, limit=TEXT_FILE_MAX_BYTES)


def split_apk_arg(value: str, *, field: str = "APK") -> tuple[str, ArchitectureName]:
    """`PATH[:ARCH]`: the suffix is an architecture only when it names one; a suffix that looks
    like a word (no `/`, `\\` or `.`) but names none is an error, so `app.apk:x86` says so
    instead of "app.apk:x86 does not exist". Paths may hold `:` (`C:/x.apk`, `v1:2/a.apk`)."""
    path, sep, suffix = value.rpartition(":")
    if sep and path:
        for name in ARCHITECTURES:
            if suffix == name:
                return path, name
        if suffix and not any(ch in suffix for ch in "/\\."):
            raise ValidationError(
                field,
                f"{suffix!r} is not an architecture (the suffix of {value!r})",
                f"use one of {', '.join(ARCHITECTURES)}",
            )
    return value, "all"


def secret_from_env(variable: str, *, field: str) -> Secret:
    """A credential from the environment variable `variable` (never from a flag)."""
    value = os.environ.get(variable)
    if value is None:
        raise ValidationError(
            field, f"the environment variable {variable} is not set", f"export {variable}=..."
        )
    return Secret(value, field=variable)


def check_resume_file(path: Path, *, field: str) -> None:
    """A resume file can be written beside its manifest: its folder takes a new file (tried,
    not guessed: permission bits say nothing to root or on read-only mounts), and an existing
    resume file is a readable JSON object."""
    folder = path.parent
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".storepush-probe-")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            reason = f"{reason}: the folder is not writable"
        raise ValidationError(
            field,
            f"the resume file {path.name} cannot be written in {folder} ({reason})",
            "run from a writable copy of the folder",
        ) from None
    os.close(handle)
    os.unlink(probe)
    if not path.exists() and not path.is_symlink():
        return
    text = read_text_file(path, field=field, limit=MANIFEST_MAX_BYTES)
    try:
        data = json.loads(text or "{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ValidationError(
            field,
            f"{path} is not a storepush resume file (not a JSON object)",
            "delete it to start afresh; a re-run still publishes nothing twice",
        )
    if not os.access(path, os.W_OK):
        raise ValidationError(field, f"the resume file {path} is not writable")
