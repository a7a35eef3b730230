"""A publish's inputs, parsed once: what is refused, and how it is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from storepush import ValidationError
from storepush.bazaar import MAX_TEXT, Architecture, check_commit_fields, parse_apks, parse_bundle
from storepush.testing import make_aab, make_apk, make_bin

PACKAGE = "com.example.app"


def apk(tmp_path: Path, name: str, code: int, **kw: object) -> Path:
    return make_apk(
        tmp_path / name, package=str(kw.pop("package", PACKAGE)), version_code=code, **kw
    )  # type: ignore[arg-type]


def test_a_good_pair_of_apks(tmp_path: Path) -> None:
    arm = apk(tmp_path, "arm.apk", 2010, abis=("arm64-v8a",))
    v7 = apk(tmp_path, "v7.apk", 1010, abis=("armeabi-v7a",))
    local = parse_apks([(arm, Architecture.ARM64_V8A), (v7, "armeabi-v7a")])
    assert [(a.version_code, sorted(a.abis)) for a in local] == [
        (2010, ["arm64-v8a"]),
        (1010, ["armeabi-v7a"]),
    ]
    assert local[0].identity.size == arm.stat().st_size


@pytest.mark.parametrize(
    ("case", "field", "says"),
    [
        ("same file twice", "apks[1]", "the same file as apks[0]"),
        ("same version code", "apks[1]", "version code 2, as apks[0] does"),
        ("another app", "apks[1]", "is com.other.app, but apks[0] is com.example.app"),
        ("swapped architectures", "apks[0].architecture", "declared armeabi-v7a but its native"),
        ("a number as architecture", "apks[0].architecture", "0 is not an architecture"),
        ("not a zip", "apks[0]", "not an apk (not a zip archive)"),
        ("no manifest", "apks[0]", "has no AndroidManifest.xml"),
        ("nothing", "apks", "nothing to publish"),
        ("a bare string", "apks", "must be a list of paths"),
    ],
)
def test_refusals_name_the_field(tmp_path: Path, case: str, field: str, says: str) -> None:
    a = apk(tmp_path, "a.apk", 2, abis=("arm64-v8a",))
    items: object
    if case == "same file twice":
        items = [a, a]
    elif case == "same version code":
        items = [a, apk(tmp_path, "b.apk", 2, seed=9)]
    elif case == "another app":
        items = [a, apk(tmp_path, "b.apk", 3, package="com.other.app")]
    elif case == "swapped architectures":
        items = [(a, "armeabi-v7a")]
    elif case == "a number as architecture":
        items = [(a, 0)]
    elif case == "not a zip":
        (tmp_path / "t.apk").write_text("hello")
        items = [tmp_path / "t.apk"]
    elif case == "no manifest":
        import zipfile

        with zipfile.ZipFile(tmp_path / "n.apk", "w") as archive:
            archive.writestr("classes.dex", b"x")
        items = [tmp_path / "n.apk"]
    elif case == "nothing":
        items = []
    else:
        items = str(a)
    with pytest.raises(ValidationError) as info:
        parse_apks(items)
    assert info.value.field == field
    assert says in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"changelog_en": "x" * (MAX_TEXT + 1)}, "changelog_en"),
        ({"changelog_fa": "\x00binary"}, "changelog_fa"),
        ({"developer_note": 5}, "developer_note"),
        ({"staged_rollout_percentage": 0}, "staged_rollout_percentage"),
        ({"staged_rollout_percentage": True}, "staged_rollout_percentage"),
        ({"auto_publish": "yes"}, "auto_publish"),
    ],
)
def test_commit_fields_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_commit_fields(**kwargs)
    assert info.value.field == field


def test_commit_fields_keep_text_with_newlines_and_tabs() -> None:
    fields = check_commit_fields(changelog_en="line one\n\tline two", auto_publish=True)
    assert fields.to_json()["changelog_en"] == "line one\n\tline two"


def test_a_bundle_carries_its_version_code(tmp_path: Path) -> None:
    bundle = parse_bundle(
        make_aab(tmp_path / "a.aab", package=PACKAGE, version_code=42), make_bin(tmp_path / "a.bin")
    )
    assert bundle.version_code == 42


def test_a_zip_that_is_not_a_bundle_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not an app bundle"):
        parse_bundle(apk(tmp_path, "a.apk", 2), make_bin(tmp_path / "a.bin"))
    with pytest.raises(ValidationError) as info:
        parse_bundle(None, make_bin(tmp_path / "b.bin"))
    assert info.value.field == "aab"
