"""Seeding a fresh emulator with what a recording read before its first change."""

from __future__ import annotations

from typing import Any

import pytest

from storepush._recording_format import FORMAT, Exchange, ResponseRecord
from storepush.emulator._replay_requests import Identity, IdMap
from storepush.emulator._replay_seed import apply_seeds, plan_seeds
from storepush.emulator._state import App, User, World

BASE = "/v1/apps/releases"
PACKAGE = {
    "apk_size": 10,
    "sha1_hash": "a" * 40,
    "version_code": 7,
    "version_name": "1.7",
    "upload_date": "2025-01-01",
    "cpu_architectures": "",
}
RELEASE = {"packages": [PACKAGE], "changelog_en": "x", "staged_rollout_percentage": 100}
NEWER = {**RELEASE, "packages": [{**PACKAGE, "sha1_hash": "b" * 40, "version_code": 8}]}
PLUGIN = {"id": 57, "name": "Old", "shortdesc": "s", "versions": [{"version": "0.9", "size": 3}]}


def read(
    path: str,
    body: Any,
    *,
    fp: str = "f",
    market: str = "bazaar",
    method: str = "GET",
    status: int = 200,
) -> Exchange:
    return Exchange(
        format=FORMAT,
        time="t",
        method=method,
        path=path,
        marketplace=market,
        credential=fp,
        response=ResponseRecord(status=status, json=body),
    )


def ok(release: Any) -> dict[str, Any]:
    return {"type": "success", "release": release}


SEEDS: list[tuple[list[Exchange], dict[str, Any]]] = [
    # success reads with a release, by which endpoint (slash or not)
    (
        [read(f"{BASE}/last-published", ok(RELEASE)), read(f"{BASE}/last-committed/", ok(NEWER))],
        {"f": {"published": RELEASE, "committed": NEWER}},
    ),
    # not-exists, success with release null, errors and other paths seed nothing
    (
        [
            read(f"{BASE}/last-published", {"type": "not-exists"}),
            read(f"{BASE}/last-uncommitted", ok(None)),
            read(f"{BASE}/last-committed", ok(RELEASE), status=403),
            read(f"{BASE}/bundle-status", {"type": "success", "bundle": {}}),
        ],
        {},
    ),
    # the first answer counts; nothing after the credential's first change
    (
        [
            read(f"{BASE}/last-published", ok(RELEASE)),
            read(f"{BASE}/last-published", ok(NEWER)),
            read(f"{BASE}/", ok(None), method="POST", status=201),
            read(f"{BASE}/last-committed", ok(NEWER)),
            read(f"{BASE}/last-committed", ok(NEWER), fp="g"),
        ],
        {"f": {"published": RELEASE}, "g": {"committed": NEWER}},
    ),
    # BlueMind: lists (plain or wrapped) and single plugins, by recorded id
    (
        [
            read("/addons/api/plugins/", [PLUGIN, {"no": "name"}], market="bluemind"),
            read(
                "/addons/api/plugins/",
                {"results": [{**PLUGIN, "id": 58, "name": "B"}]},
                market="bluemind",
            ),
            read("/addons/api/plugin/59/", {**PLUGIN, "id": 59, "name": "C"}, market="bluemind"),
        ],
        {"f": {"57": "Old", "58": "B", "59": "C"}},
    ),
]


@pytest.mark.parametrize(("exchanges", "expected"), SEEDS)
def test_plan_seeds(exchanges: list[Exchange], expected: dict[str, Any]) -> None:
    planned = plan_seeds(exchanges)
    found: dict[str, Any] = {}
    for fp, seed in planned.items():
        if seed.releases:
            found[fp] = seed.releases
        if seed.plugins:
            found[fp] = {pid: p["name"] for pid, p in seed.plugins.items()}
    assert found == expected


def world_with() -> World:
    token, key = "tok", "key"
    world = World(clock=lambda: 0.0, review_seconds=3600)
    world.apps[token] = App(package_name="com.example.seed")
    world.users[key] = User(name="u")
    return world


BAZAAR = Identity("bazaar", "f", "tok", True, "com.example.seed")
BLUEMIND = Identity("bluemind", "k", "key", True, "u")


def test_releases_are_seeded_in_order() -> None:
    world = world_with()
    seeds = plan_seeds(
        [
            read(f"{BASE}/last-uncommitted", ok({"packages": []})),
            read(f"{BASE}/last-committed", ok(NEWER)),
            read(f"{BASE}/last-published", ok(RELEASE)),
        ]
    )
    notes = apply_seeds(world, {"f": BAZAAR}, seeds, IdMap())
    assert len(notes) == 3
    app = world.app("tok")
    published, committed, draft = (
        world.last(app, w) for w in ("published", "committed", "uncommitted")
    )
    assert published is not None
    assert [p.version_code for p in published.packages] == [7]
    assert committed is not None
    assert committed.decision is None
    assert [p.version_code for p in committed.packages] == [8]
    assert draft is not None
    assert draft.packages == []


def test_the_published_release_is_not_seeded_twice() -> None:
    world = world_with()
    seeds = plan_seeds(
        [read(f"{BASE}/last-committed", ok(RELEASE)), read(f"{BASE}/last-published", ok(RELEASE))]
    )
    assert apply_seeds(world, {"f": BAZAAR}, seeds, IdMap()) == [
        "com.example.seed: seeded the published release the recording read first"
    ]
    assert len(world.app("tok").releases) == 1


def test_what_cannot_be_seeded_is_said_and_left_out() -> None:
    world = world_with()
    empty = {"packages": [], "staged_rollout_percentage": 100}
    seeds = plan_seeds([read(f"{BASE}/last-published", ok(empty))])
    (note,) = apply_seeds(world, {"f": BAZAAR}, seeds, IdMap())
    assert "could not be seeded" in note
    assert world.app("tok").releases == []
    # an unregistered credential (a wrong token) is never seeded
    unknown = Identity("bazaar", "f", "nope", False, "x")
    assert (
        apply_seeds(
            world,
            {"f": unknown},
            plan_seeds([read(f"{BASE}/last-published", ok(RELEASE))]),
            IdMap(),
        )
        == []
    )


def test_plugins_are_seeded_and_their_ids_paired() -> None:
    world = world_with()
    ids = IdMap()
    seeds = plan_seeds(
        [
            read("/addons/api/plugins/", [PLUGIN], fp="k", market="bluemind"),
            read("/addons/api/plugin/57/", PLUGIN, fp="k", market="bluemind"),
        ]
    )
    assert apply_seeds(world, {"k": BLUEMIND}, seeds, ids) == ["u: seeded plugin 'Old' (id 57)"]
    (plugin,) = world.plugins.values()
    assert [v.version for v in plugin.versions] == ["0.9"]
    assert plugin.to_json()["versions"][0]["size"] == 3
    assert ids.path("/addons/api/plugin/57/") == f"/addons/api/plugin/{plugin.id}/"
    # a name the emulator already has cannot be created twice: said, not raised
    again = apply_seeds(world, {"k": BLUEMIND}, seeds, IdMap())
    assert "could not be seeded" in again[0]
