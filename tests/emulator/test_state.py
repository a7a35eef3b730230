"""The state model (`storepush.emulator._state`): the Pishkhan rules, called directly."""

from __future__ import annotations

from typing import Any

import pytest

from storepush.emulator import World
from storepush.emulator._state import App, Bundle, Package, Refusal


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(clock: Clock) -> World:
    w = World(clock=clock, review_seconds=10, bundle_seconds=4)
    w.apps["tok"] = App(package_name="com.x")
    return w


@pytest.fixture
def app(world: World) -> App:
    return world.apps["tok"]


def pkg(code: int | None, sha1: str | None = None, **kw: Any) -> Package:
    return Package(
        apk_size=10,
        sha1_hash=sha1 or f"{code or 0:040d}",
        version_code=code,
        version_name=f"{code}",
        upload_date="2024-01-01",
        **kw,
    )


def release_with(world: World, app: App, *packages: Package, commit: bool = True) -> None:
    world.create_release(app)
    for p in packages:
        world.add_package(app, p, "com.x")
    if commit:
        world.commit(app, {})


def refusal(call: Any) -> Refusal:
    with pytest.raises(Refusal) as info:
        call()
    return info.value


def test_app_token(world: World) -> None:
    assert world.app("tok").package_name == "com.x"
    for token in (None, "", "other"):
        r = refusal(lambda t=token: world.app(t))
        assert (r.status, r.error_type) == (403, "access_forbidden")


def test_one_draft_and_its_life(world: World, app: App) -> None:
    assert refusal(lambda: world.delete_release(app)).message == (
        "There is not an uncommitted release."
    )
    world.create_release(app)
    assert refusal(lambda: world.create_release(app)).status == 400
    assert refusal(lambda: world.commit(app, {})).message == "The release has no package."
    world.delete_release(app)
    assert app.releases == []
    assert world.last(app, "uncommitted") is None


def test_version_code_rule_against_committed_not_only_published(world: World, app: App) -> None:
    release_with(world, app, pkg(10))  # committed, still in review
    world.create_release(app)
    r = refusal(lambda: world.add_package(app, pkg(10, "b" * 40), "com.x"))
    assert r.status == 400
    assert "already committed" in r.message
    assert "10" in r.message
    r = refusal(lambda: world.add_package(app, pkg(9, "c" * 40), "com.x"))  # an older job
    assert "must be greater than 10" in r.message
    world.add_package(app, pkg(11), "com.x")


def test_rejected_release_keeps_its_version_codes(world: World, app: App) -> None:
    release_with(world, app, pkg(3))
    world.decide(app, "rejected")
    world.create_release(app)
    assert "greater than 3" in refusal(lambda: world.add_package(app, pkg(3), "com.x")).message


def test_per_abi_offsets_keep_working(world: World, app: App) -> None:
    arm64, v7 = frozenset({"arm64-v8a"}), frozenset({"armeabi-v7a"})
    release_with(world, app, pkg(2005, abis=arm64), pkg(1005, abis=v7))
    world.create_release(app)
    world.add_package(app, pkg(2006, abis=arm64), "com.x")
    world.add_package(app, pkg(1006, abis=v7), "com.x")
    world.commit(app, {})
    world.create_release(app)
    r = refusal(lambda: world.add_package(app, pkg(1007), "com.x"))  # `all` meets arm64's 2006
    assert "greater than 2006" in r.message
    assert "arm64-v8a" in r.message


def test_form_architecture_stands_in_when_the_abis_are_unknown(world: World, app: App) -> None:
    """Packages made directly (as the SDK's fast tests do) carry only `architecture`."""
    release_with(world, app, pkg(2005, architecture="arm64-v8a"))
    world.create_release(app)
    world.add_package(app, pkg(1005, architecture="armeabi-v7a"), "com.x")
    assert refusal(lambda: world.add_package(app, pkg(1500), "com.x")).status == 400


def test_inside_one_draft_no_two_packages_share_a_version_code(world: World, app: App) -> None:
    world.create_release(app)
    world.add_package(app, pkg(5, abis=frozenset({"arm64-v8a"})), "com.x")
    r = refusal(lambda: world.add_package(app, pkg(5, "d" * 40, abis=frozenset({"x86"})), "com.x"))
    assert r.message == "A package with version code 5 is already in the release."


def test_package_name_must_match(world: World, app: App) -> None:
    world.create_release(app)
    r = refusal(lambda: world.add_package(app, pkg(1), "com.other"))
    assert "does not match" in r.message
    world.add_package(app, pkg(1), None)  # an unreadable manifest: nothing to compare


def test_cpu_architectures_come_from_the_abis() -> None:
    assert pkg(1).to_json()["cpu_architectures"] == "all"
    assert pkg(1, architecture="arm64-v8a").to_json()["cpu_architectures"] == "arm64-v8a"
    both = pkg(1, architecture="all", abis=frozenset({"armeabi-v7a", "arm64-v8a"}))
    assert both.to_json()["cpu_architectures"] == "arm64-v8a,armeabi-v7a"
    assert pkg(None).to_json()["version_code"] == 0


def test_review_publishes_on_the_clock(world: World, app: App, clock: Clock) -> None:
    world.create_release(app)
    world.add_package(app, pkg(1), "com.x")
    world.commit(app, {"auto_publish": True})
    assert world.last(app, "published") is None
    clock.now += 10
    assert world.last(app, "published") is app.releases[0]
    assert world.last(app, "committed") is app.releases[0]


def bundle(world: World, app: App, code: int | None = 7, **kw: Any) -> Bundle:
    found = Bundle(
        sha1="a" * 40,
        size=100,
        uploaded_at=world.clock(),
        valid=True,
        package_name="com.x",
        version_code=code,
        version_name=f"{code}.0",
        **kw,
    )
    return world.add_bundle(app, found)


def test_bundle_processing_advances_without_anyone_polling(
    world: World, app: App, clock: Clock
) -> None:
    world.create_release(app)
    b = bundle(world, app, 7, abis=frozenset({"arm64-v8a"}))
    world.add_bin(app)
    clock.now += 4  # processing done; nobody asked bundle-status
    release = world.commit(app, {})  # no poll in between: the package is already there
    [package] = release.packages
    assert (package.sha1_hash, package.version_code, package.version_name) == (b.sha1, 7, "7.0")
    assert package.kind == "aab"
    assert package.to_json()["cpu_architectures"] == "arm64-v8a"


def test_bundle_states_on_the_clock(world: World, app: App, clock: Clock) -> None:
    world.create_release(app)
    b = bundle(world, app)
    assert b.state(clock.now, 4) == "U"
    assert refusal(lambda: world.commit(app, {})).message == "The release has no package."
    world.add_bin(app)
    assert refusal(lambda: world.add_bin(app)).status == 400
    assert world.bundle_json(app)["state"]  # type: ignore[index] == "S"
    clock.now += 2
    assert world.bundle_json(app)["state"]  # type: ignore[index] == "P"
    assert world.last(app, "uncommitted").packages == []  # type: ignore[union-attr]
    clock.now += 2
    assert [p.version_code for p in world.last(app, "uncommitted").packages] == [7]  # type: ignore[union-attr]
    assert world.bundle_json(app)["state"]  # type: ignore[index] == "D"


def test_bundle_version_codes_follow_the_rule(world: World, app: App, clock: Clock) -> None:
    release_with(world, app, pkg(7))
    world.create_release(app)
    r = refusal(lambda: bundle(world, app, 7))
    assert "greater than 7" in r.message
    bundle(world, app, 8)
    world.add_bin(app)
    world.add_package(app, pkg(8, "e" * 40), "com.x")  # an APK took version code 8 meanwhile
    clock.now += 4
    assert world.bundle_json(app)["state"]  # type: ignore[index] == "E"
    assert world.bundle_json(app)["errors"] == [  # type: ignore[index]
        "A package with version code 8 is already in the release."
    ]
    assert [p.sha1_hash for p in app.draft.packages] == ["e" * 40]  # type: ignore[union-attr]


def test_bundle_for_another_app_is_refused(world: World, app: App) -> None:
    world.create_release(app)
    other = Bundle("b" * 40, 1, 0.0, True, "com.other", version_code=1)
    assert "does not match" in refusal(lambda: world.add_bundle(app, other)).message


def test_deleting_the_draft_forgets_its_bundle(world: World, app: App, clock: Clock) -> None:
    world.create_release(app)
    bundle(world, app)
    world.add_bin(app)
    world.delete_release(app)
    assert app.bundle is None
    clock.now += 10
    world.create_release(app)
    assert app.draft is not None
    assert app.draft.packages == []


def test_commit_validation(world: World, app: App) -> None:
    world.create_release(app)
    world.add_package(app, pkg(1), "com.x")
    for body, field in [
        ({"staged_rollout_percentage": 0}, "staged_rollout_percentage"),
        ({"staged_rollout_percentage": True}, "staged_rollout_percentage"),
        ({"changelog_fa": 1}, "changelog_fa"),
        ({"auto_publish": "yes"}, "auto_publish"),
    ]:
        assert field in refusal(lambda b=body: world.commit(app, b)).message
    release = world.commit(app, {"staged_rollout_percentage": 10, "changelog_fa": None})
    assert (release.staged_rollout_percentage, release.changelog_fa) == (10, None)


def test_decide(world: World, app: App) -> None:
    assert refusal(lambda: world.decide(app, "published")).status == 400
    release_with(world, app, pkg(1))
    assert world.decide(app, "published").decision == "published"
    assert world.last(app, "published") is app.releases[0]


def test_dump_never_holds_a_token(world: World, app: App) -> None:
    release_with(world, app, pkg(1))
    world.create_release(app)
    bundle(world, app, 2)
    dump = world.dump()
    assert "tok" not in str(dump)
    assert dump["apps"]["com.x"]["bundle"]["version_code"] == 2
    assert dump["apps"]["com.x"]["account"] is None
