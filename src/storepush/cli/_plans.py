"""Dry runs: what a real run would do, in words, decided by the same rules as the real run.

A Pishkhan dry run is the library's own `publish(dry_run=True)` (its first decision, with
every refusal the real run would raise); [`describe_plan`][storepush.cli._plans.describe_plan]
puts its `PublishPlan` into a sentence. A BlueMind dry run is the library's
`publish_version(dry_run=True)` too ([`bluemind_plan`][storepush.cli._plans.bluemind_plan]),
refusing what the real run would refuse (a listed version with another package, a missing
plugin without a spec).

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

from pathlib import Path
from typing import Any

from ..bluemind import BlueMindClient, PluginSpec
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


async def bluemind_plan(
    client: BlueMindClient,
    *,
    plugin: str,
    version: str,
    package: Path,
    create: PluginSpec | None,
) -> dict[str, Any]:
    """What `publish_version` would do: the library's own dry run (its `VersionPlan`), in the
    words of the table above."""
    plan = await client.publish_version(
        plugin, version, "-", "-", package, create=create, dry_run=True
    )
    document = plan.to_json()
    if plan.action == "already published" and not plan.verified:
        document["action"] = "already published (the stored package cannot be compared)"
    return document
