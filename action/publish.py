"""The publish step of the storepush GitHub Action (`action.yml` at the repository root).

It reads the action's inputs from `INPUT_<NAME>` variables (which `action.yml` sets from
`${{ inputs.* }}`: a composite action gets none from the runner), expands `app_file`'s globs,
pairs each file with its architecture, runs `storepush --json bazaar publish ...` and writes the
outputs `release_id`, `version_codes` and `already_committed` to `$GITHUB_OUTPUT`.

The token reaches storepush only through `STOREPUSH_BAZAAR_TOKEN`, and a proxy only through
`STOREPUSH_PROXY`: neither is ever on a command line or printed. Standard library only, so it
runs with the interpreter storepush was installed into. Exit codes are storepush's: 0 done,
1 the store refused or failed, 2 bad input (found before any request).
"""

from __future__ import annotations

import glob
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

TOKEN_INPUT = "cafebazaar-pishkhaan-api-secret"  # noqa: S105 - the input's name, kept from the old action
TOKEN_ENV = "STOREPUSH_BAZAAR_TOKEN"  # noqa: S105 - a variable name
PROXY_ENV = "STOREPUSH_PROXY"
EXIT_INPUT = 2
_ARCH_SUFFIX = re.compile(r"^(?P<pattern>.+):(?P<arch>[A-Za-z0-9_-]+)$")
_SEPARATORS = re.compile(r"[\s,]+")


class InputError(Exception):
    """An input of the action is unusable; nothing was sent."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"input {name}: {problem}")


def read_input(environ: Mapping[str, str], name: str) -> str:
    """An input as the runner sets it for actions: `INPUT_` + the name upper-cased."""
    return environ.get(f"INPUT_{name.upper()}", "").strip()


def boolean(name: str, value: str) -> bool:
    """A real boolean: `true` or `false` (any case), empty for false; anything else is an error
    (the old action treated every non-empty string, `false` included, the same way)."""
    lowered = value.strip().lower()
    if lowered in ("true", "false", ""):
        return lowered == "true"
    raise InputError(name, f"must be true or false, not {value!r}")


def find_files(app_file: str, architectures: str, *, root: Path) -> list[tuple[str, str]]:
    """`(path, architecture)` for every file `app_file` names.

    `app_file` holds one glob a line (`**` crosses folders), each optionally ending in `:ARCH`.
    Files are sorted by path within a line, lines keep their order, repeats are dropped.
    `architectures` (separated by commas, spaces or new lines) is either one architecture for
    every file, or one per file in that order; it cannot be mixed with `:ARCH` suffixes.
    Unnamed architectures are `all`. storepush itself checks the names.
    """
    files: list[str] = []
    suffixed: dict[str, str] = {}
    for line in filter(None, (raw.strip() for raw in app_file.splitlines())):
        pattern, arch = line, ""
        match = _ARCH_SUFFIX.match(line)
        if match and not {"/", "."} & set(match["arch"]):
            pattern, arch = match["pattern"], match["arch"]
        found = sorted(
            path
            for path in glob.glob(pattern, root_dir=root, recursive=True)
            if (root / path).is_file()
        )
        if not found:
            raise InputError("app_file", f"{pattern!r} matches no file (in {root})")
        for path in found:
            if path not in files:
                files.append(path)
                if arch:
                    suffixed[path] = arch
    names = [a for a in _SEPARATORS.split(architectures.strip()) if a]
    if names and suffixed:
        raise InputError("architectures", "give them here or as app_file's :ARCH, not both")
    if len(names) > 1 and len(names) != len(files):
        listed = ", ".join(files) or "none"
        raise InputError(
            "architectures",
            f"{len(names)} architectures for {len(files)} files (in this order: {listed})",
        )
    if len(names) == 1:
        names = names * len(files)
    if names:
        return list(zip(files, names, strict=True))
    return [(path, suffixed.get(path, "all")) for path in files]


def publish_arguments(inputs: Mapping[str, str], files: Sequence[tuple[str, str]]) -> list[str]:
    """The `storepush` command line (without the program name) for the inputs.

    Raises:
        InputError: for an input that cannot be used, before anything is sent.
    """
    aab, signer_bin = inputs.get("aab", ""), inputs.get("bin", "")
    if not files and not aab:
        raise InputError("app_file", "is empty and no aab is given: name the APKs or the bundle")
    if files and aab:
        raise InputError("aab", "give APKs (app_file) or an app bundle (aab), not both")
    if bool(aab) != bool(signer_bin):
        raise InputError("bin" if aab else "aab", "aab and bin go together")
    args = ["--json", "bazaar", "publish", *(f"{path}:{arch}" for path, arch in files)]
    if aab:
        args += ["--aab", aab, "--bin", signer_bin]
    for name, flag in (
        ("changelog_en", "--changelog-en"),
        ("changelog_fa", "--changelog-fa"),
        ("developer_note", "--developer-note"),
        ("staged_rollout_percentage", "--rollout"),
        ("if_draft_exists", "--if-draft-exists"),
        ("base_url", "--base-url"),
    ):
        if inputs.get(name):
            args += [flag, inputs[name]]
    for name, flag in (("auto_publish", "--auto-publish"), ("wait", "--wait")):
        args.append(flag if boolean(name, inputs.get(name, "")) else f"--no-{flag[2:]}")
    if boolean("dry_run", inputs.get("dry_run", "")):
        args.append("--dry-run")
    if boolean("wait", inputs.get("wait", "")) and inputs.get("wait_deadline"):
        args += ["--wait-deadline", inputs["wait_deadline"]]
    return args


def action_outputs(document: Mapping[str, Any]) -> dict[str, str]:
    """The action's outputs from storepush's `--json` document.

    `release_id` is empty on a dry run and on a re-run (the store gives the id only in its
    answer to the commit); `version_codes` is comma-separated.
    """
    release = document.get("release") or {}
    packages = document.get("packages") or release.get("packages") or []
    release_id = release.get("id")
    return {
        "release_id": "" if release_id is None else str(release_id),
        "version_codes": ",".join(str(p["version_code"]) for p in packages),
        "already_committed": "true" if document.get("already_committed") else "false",
    }


def summary(document: Mapping[str, Any], outputs: Mapping[str, str]) -> str:
    """One line for the log."""
    if document.get("dry_run"):
        return f"dry run: the inputs are valid; the draft would be {document.get('draft')}"
    codes = outputs["version_codes"] or "none"
    if outputs["already_committed"] == "true":
        return f"already committed (version codes {codes}): nothing was sent again"
    return f"committed release {outputs['release_id']} with version codes {codes}"


def command_text(message: str) -> str:
    """`message` escaped for a workflow command (`::error::...`): one line, no `::` tricks."""
    return message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


INPUT_NAMES = (
    "app_file",
    "architectures",
    "aab",
    "bin",
    "changelog_en",
    "changelog_fa",
    "developer_note",
    "staged_rollout_percentage",
    "auto_publish",
    "if_draft_exists",
    "wait",
    "wait_deadline",
    "dry_run",
    "base_url",
)


def main(environ: Mapping[str, str] = os.environ) -> int:
    inputs = {name: read_input(environ, name) for name in INPUT_NAMES}
    if not environ.get(TOKEN_ENV, "").strip():
        print(
            f"::error title=storepush::the input {TOKEN_INPUT} is empty: pass the app's "
            "Pishkhan token from a repository secret (with: "
            f"{TOKEN_INPUT}: ${{{{ secrets.CAFEBAZAAR_TOKEN }}}})",
            flush=True,
        )
        return EXIT_INPUT
    try:
        files = find_files(inputs["app_file"], inputs["architectures"], root=Path.cwd())
        args = publish_arguments(inputs, files)
    except InputError as exc:
        print(f"::error title=storepush::{command_text(str(exc))}", flush=True)
        return EXIT_INPUT
    env = dict(environ)
    if not env.get(PROXY_ENV):
        env.pop(PROXY_ENV, None)
    program = [sys.executable, "-m", "storepush"]  # the interpreter storepush is installed in
    print(f"storepush {shlex.join(args[1:])}", flush=True)  # neither token nor proxy is in args
    done = subprocess.run(  # noqa: S603 - storepush, with arguments built above
        [*program, *args], env=env, stdout=subprocess.PIPE, text=True, check=False
    )
    try:
        document = json.loads(done.stdout)
    except ValueError:
        document = {}
    if done.returncode != 0 or not document.get("ok"):
        error = document.get("error") or {}
        message = error.get("message") or done.stdout.strip() or "storepush failed"
        print(f"::error title=storepush::{command_text(message)}", flush=True)
        return done.returncode or 1
    outputs = action_outputs(document)
    with open(environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as stream:
        stream.writelines(f"{name}={value}\n" for name, value in outputs.items())
    print(summary(document, outputs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
