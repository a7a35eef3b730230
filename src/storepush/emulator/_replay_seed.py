"""What the store already held when a recording began, so a fresh emulator can hold it too.

A recording made against a live store starts from that store's state: an app with published
releases, a plugin created last year. A fresh emulator has none of it, so without help every
`last-published` would differ in envelope type and every `GET plugin/57/` in status, and the
check would report the store's history instead of the emulator's behaviour.

So, per credential, the answers it got *before its first change* (its first request that is not
a GET or HEAD) describe the starting state, and `check-recording` puts that state into the
emulator before replaying (turn it off with `--no-seed`):

- **Pishkhan**: the first `last-published`, `last-committed` and `last-uncommitted` answers of
  type `success` with a release become, in that order, a published release, a committed one
  awaiting review (unless it is the published one: same package SHA-1s) and a draft, each
  with the recorded packages (version codes, sizes, SHA-1s, architectures).
- **BlueMind**: each plugin in the first answers of `GET plugins/` and `GET plugin/<id>/`
  becomes a plugin of that user, with its recorded versions; its recorded id is paired with
  the emulator's so later paths are translated.

State the recording never read is not seeded: a recording that changes things it has not
read first may still differ for that reason (the report then says what the emulator answered).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._recording_format import Exchange
from ._replay_compare import envelope_type
from ._replay_requests import Identity, IdMap
from ._state import Package, Refusal, World

__all__ = ["Seed", "apply_seeds", "plan_seeds"]

_READS = ("published", "committed", "uncommitted")
_PLUGIN_FIELDS = ("name", "shortdesc", "description", "license", "installation_instructions")
_VERSION_FIELDS = ("version", "target_bm_versions", "release_notes", "created")


@dataclass(slots=True)
class Seed:
    """The state one credential found before its first change."""

    releases: dict[str, dict[str, Any]] = field(default_factory=dict)  #: by `_READS` name
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)  #: by recorded id


def _last_read(path: str) -> str | None:
    tail = path.rstrip("/").rsplit("/", 1)[-1]
    return tail.removeprefix("last-") if tail.startswith("last-") else None


def _plugins(path: str, body: Any) -> list[dict[str, Any]]:
    if "/plugins" in path:
        items = body if isinstance(body, list) else []
        if isinstance(body, dict):
            for key in ("plugins", "results", "items", "data"):
                if isinstance(body.get(key), list):
                    items = body[key]
                    break
        return [p for p in items if isinstance(p, dict)]
    if "/plugin/" in path and isinstance(body, dict):
        return [body]
    return []


def plan_seeds(exchanges: Sequence[Exchange]) -> dict[str, Seed]:
    """Per credential fingerprint, what its reads showed before its first change."""
    seeds: dict[str, Seed] = {}
    changed: set[str] = set()
    for exchange in exchanges:
        fingerprint = exchange.credential
        if fingerprint is None or fingerprint in changed:
            continue
        if exchange.method not in ("GET", "HEAD"):
            changed.add(fingerprint)
            continue
        response = exchange.response
        if response is None or response.status != 200 or not isinstance(response.json, dict | list):
            continue
        seed = seeds.setdefault(fingerprint, Seed())
        body = response.json
        if exchange.marketplace == "bazaar":
            which = _last_read(exchange.path)
            if which in _READS and which not in seed.releases and envelope_type(body) == "success":
                release = body.get("release") if isinstance(body, dict) else None
                if isinstance(release, dict):
                    seed.releases[which] = release
        elif exchange.marketplace == "bluemind":
            for plugin in _plugins(exchange.path, body):
                if "id" in plugin and isinstance(plugin.get("name"), str):
                    seed.plugins.setdefault(str(plugin["id"]), plugin)
    return {fp: seed for fp, seed in seeds.items() if seed.releases or seed.plugins}


def _sha1s(release: Mapping[str, Any]) -> frozenset[str]:
    packages = release.get("packages") or []
    return frozenset(str(p.get("sha1_hash", "")).lower() for p in packages if isinstance(p, dict))


def _package(data: Mapping[str, Any]) -> Package:
    code = data.get("version_code")
    arch = data.get("cpu_architectures")
    return Package(
        apk_size=int(data.get("apk_size") or 0),
        sha1_hash=str(data.get("sha1_hash") or ""),
        version_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        version_name=str(data.get("version_name") or "") or None,
        upload_date=str(data.get("upload_date") or ""),
        architecture=arch if isinstance(arch, str) and arch else "all",
    )


def _add_release(world: World, token: str, release: Mapping[str, Any], stage: str) -> None:
    app = world.app(token)
    world.create_release(app)
    for data in release.get("packages") or []:
        if isinstance(data, dict):
            world.add_package(app, _package(data), None)
    if stage == "uncommitted":
        return
    body = {
        key: release[key]
        for key in ("changelog_en", "changelog_fa", "staged_rollout_percentage")
        if release.get(key) is not None
    }
    world.commit(app, {**body, "auto_publish": False})
    if stage == "published":
        world.decide(app, "published")


def _seed_bazaar(world: World, identity: Identity, seed: Seed) -> list[str]:
    notes: list[str] = []
    releases = dict(seed.releases)
    published, committed = releases.get("published"), releases.get("committed")
    if published is not None and committed is not None and _sha1s(published) == _sha1s(committed):
        del releases["committed"]
    for stage in _READS:
        if stage not in releases:
            continue
        try:
            _add_release(world, identity.credential, releases[stage], stage)
        except (Refusal, TypeError, ValueError) as exc:
            notes.append(f"{identity.name}: the {stage} release could not be seeded ({exc})")
            app = world.app(identity.credential)
            if app.draft is not None:
                world.delete_release(app)
            continue
        notes.append(f"{identity.name}: seeded the {stage} release the recording read first")
    return notes


def _seed_bluemind(world: World, identity: Identity, seed: Seed, ids: IdMap) -> list[str]:
    notes: list[str] = []
    for recorded_id, plugin in seed.plugins.items():
        fields = {k: str(plugin.get(k) or "") for k in _PLUGIN_FIELDS}
        if isinstance(plugin.get("home_url"), str):
            fields["home_url"] = plugin["home_url"]
        thumbnail = plugin.get("thumbnail")
        screenshots = [s for s in plugin.get("screenshots") or [] if isinstance(s, dict)]
        try:
            created = world.create_plugin(
                identity.credential,
                fields,
                thumbnail if isinstance(thumbnail, dict) else None,
                screenshots,
            )
            for version in plugin.get("versions") or []:
                if not isinstance(version, dict) or not isinstance(version.get("version"), str):
                    continue
                world.add_version(
                    identity.credential,
                    {
                        "plugin_name": created.name,
                        "version": version["version"],
                        "target_bm_versions": str(version.get("target_bm_versions") or ""),
                        "release_notes": str(version.get("release_notes") or ""),
                    },
                    {k: v for k, v in version.items() if k not in _VERSION_FIELDS},
                )
        except (Refusal, TypeError, ValueError) as exc:
            notes.append(f"{identity.name}: plugin {fields['name']!r} could not be seeded ({exc})")
            continue
        ids.ids[recorded_id] = str(created.id)
        notes.append(f"{identity.name}: seeded plugin {fields['name']!r} (id {recorded_id})")
    return notes


def apply_seeds(
    world: World, identities: Mapping[str, Identity], seeds: Mapping[str, Seed], ids: IdMap
) -> list[str]:
    """Put each registered credential's starting state into `world`; say what was done."""
    notes: list[str] = []
    for fingerprint, seed in seeds.items():
        identity = identities.get(fingerprint)
        if identity is None or not identity.registered:
            continue
        if identity.marketplace == "bazaar":
            notes.extend(_seed_bazaar(world, identity, seed))
        else:
            notes.extend(_seed_bluemind(world, identity, seed, ids))
    return notes
