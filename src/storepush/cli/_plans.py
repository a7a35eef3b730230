"""Dry runs: what a real run would do, in words, decided by the same rules as the real run.

A Pishkhan dry run is the library's own `publish(dry_run=True)` (its first decision, with
every refusal the real run would raise); [`describe_plan`][storepush.cli._plans.describe_plan]
puts its `PublishPlan` into a sentence. The library has no BlueMind dry run yet, so
[`bluemind_plan`][storepush.cli._plans.bluemind_plan] makes one from read-only calls and the
library's own version rule (`storepush.bluemind._rules.judge_version`), refusing what the real
run would refuse (a listed version with another package, a missing plugin without a spec).

| Pishkhan plan | what the real run does |
|---|---|
| `create` | no draft: create one, upload, commit |
| `resume` | a draft holding some of this build (or created by this batch): fill and commit it |
| `adopt` | an empty draft left by a run that stopped: take it over, fill and commit it |
| `reuse` | `--if-draft-exists reuse`: add this build to a draft holding another one |
| `replace` | `--if-draft-exists replace`: delete the draft of another build, then create |
| `already committed` | nothing to send; exit 0 (a warning if changelog or rollout differ) |

| BlueMind plan | what the real run does |
|---|---|
| `create the plugin and add the version` | create it from the spec, then add the version |
| `add the version` | add the version |
| `already published` | nothing to send (the stored package is this one) |
| `already published (...cannot be compared)` | nothing to send, and a warning |
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from .._errors import VersionExistsError, WorkflowError
from ..bluemind import BlueMindClient
from ..bluemind._rules import VersionVerdict, judge_version
from ._progress import megabytes

__all__ = ["bluemind_plan", "describe_plan"]


def describe_plan(plan: dict[str, Any], *, files: int = 0, size: int = 0) -> str:
    """One sentence for a Pishkhan `PublishPlan.to_json()`: what the publish would do."""
    action = plan.get("action", "")
    release = plan.get("release") or {}
    sending = f"upload {files} file{'s' if files != 1 else ''} ({megabytes(size)}), then commit"
    held = len(release.get("packages") or [])
    created = release.get("creation_date")
    draft = "the draft" + (f" created {created}" if created else "")
    if action == "already committed":
        return "nothing to send: this build is already committed (a re-run exits 0)"
    if action == "create":
        return f"create a draft, {sending}"
    if action == "replace":
        return f"delete {draft} (holding {held} other package(s)), create a new one, {sending}"
    if action == "resume":
        return f"resume {draft}, which this build started ({held} of its packages there), {sending}"
    if action == "adopt":
        return f"adopt {draft}, left empty by a run that stopped, {sending}"
    if action == "reuse":
        foreign = len(plan.get("foreign_packages") or [])
        return f"add this build to {draft} (keeping its {foreign} other package(s)), {sending}"
    return f"{action}, {sending}"


def _sha1(path: Path) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


async def bluemind_plan(
    client: BlueMindClient, *, plugin: str, version: str, package: Path, can_create: bool
) -> dict[str, Any]:
    """What `publish_version` would do, from reads only (see the module docstring)."""
    found = next((p for p in await client.list_plugins() if p.name == plugin), None)
    if found is None:
        if not can_create:
            raise WorkflowError(
                f"no plugin named {plugin!r} among this user's plugins"
            ).with_remedies(("create", None, "create it from a plugin spec"))
        return {"dry_run": True, "action": "create the plugin and add the version"}
    current = await client.get_plugin(found.id)
    sha1 = None
    if current.find_version(version) is not None:
        sha1 = await asyncio.to_thread(_sha1, package)
    verdict = judge_version(current, version, sha1=sha1, size=package.stat().st_size)
    if verdict is VersionVerdict.REFUSE:
        raise VersionExistsError(
            f"{plugin} {version} is already published with another package (this one is "
            f"{package.name}, SHA-1 {sha1}); a listed version cannot be replaced: give the new "
            "package a new version"
        )
    action = {
        VersionVerdict.ADD: "add the version",
        VersionVerdict.ALREADY: "already published",
        VersionVerdict.ALREADY_UNVERIFIED: "already published (the stored package cannot be "
        "compared)",
    }[verdict]
    return {"dry_run": True, "action": action, "plugin": {"id": current.id, "name": current.name}}
