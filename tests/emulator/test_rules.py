"""The stores' rules as pure functions (`storepush.emulator._rules`), one table each."""

from __future__ import annotations

import pytest

from storepush.emulator import Quirks
from storepush.emulator._rules import (
    abis_of,
    choose_architecture,
    same_architecture,
    slash_redirect,
    version_code_floor,
    version_code_refusal,
)

V7 = frozenset({"armeabi-v7a"})
ARM64 = frozenset({"arm64-v8a"})
BOTH = V7 | ARM64
X86 = frozenset({"x86", "x86_64"})
ALL: frozenset[str] = frozenset()


@pytest.mark.parametrize(
    ("architecture", "abis"),
    [
        ("all", ALL),
        ("", ALL),
        ("arm64-v8a", ARM64),
        ("arm64-v8a,armeabi-v7a", BOTH),
        ("all,x86", frozenset({"x86"})),
    ],
)
def test_abis_of(architecture: str, abis: frozenset[str]) -> None:
    assert abis_of(architecture) == abis


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (ALL, ALL, True),
        (ALL, ARM64, True),
        (ARM64, ALL, True),
        (ARM64, ARM64, True),
        (ARM64, V7, False),
        (BOTH, V7, True),
        (BOTH, X86, False),
        (X86, frozenset({"x86"}), True),
    ],
)
def test_same_architecture(a: frozenset[str], b: frozenset[str], same: bool) -> None:
    assert same_architecture(a, b) is same
    assert same_architecture(b, a) is same


# (version code, abis) of what is already committed or published
SPLIT = [(2005, ARM64), (1005, V7)]  # a per-ABI offset scheme: arm64 = 2000+v, v7 = 1000+v


@pytest.mark.parametrize(
    ("code", "abis", "existing", "refused_over"),
    [
        (1, ALL, [], None),  # nothing committed yet
        (5, ALL, [(4, ALL)], None),
        (4, ALL, [(4, ALL)], 4),  # a rebuild with the same version code
        (3, ALL, [(4, ALL)], 4),  # an older job re-run
        (2006, ARM64, SPLIT, None),  # the next arm64 build
        (1006, V7, SPLIT, None),  # the next v7 build: below arm64's codes, another ABI
        (1005, V7, SPLIT, 1005),
        (2005, ARM64, SPLIT, 2005),
        (1006, ALL, SPLIT, 2005),  # `all` is compared with every architecture
        (2006, ALL, SPLIT, None),
        (3, ARM64, [(5, ALL)], 5),  # and every architecture with `all`
        (6, BOTH, [(5, V7)], None),
        (5, BOTH, [(5, V7)], 5),  # a fat APK overlaps v7
        (5, X86, [(9, ARM64), (9, V7)], None),
        (7, ARM64, [(None, ARM64)], None),  # an unreadable manifest sets no floor
    ],
)
def test_version_code_rule(
    code: int,
    abis: frozenset[str],
    existing: list[tuple[int | None, frozenset[str]]],
    refused_over: int | None,
) -> None:
    message = version_code_refusal(code, abis, existing)
    if refused_over is None:
        assert message is None
    else:
        assert message is not None
        assert f"version code {code} must be greater than {refused_over}" in message
        floor = version_code_floor(abis, existing)
        assert floor is not None
        assert floor.version_code == refused_over
        assert floor.label in message


def test_version_code_rule_names_the_architecture_already_there() -> None:
    message = version_code_refusal(1006, ALL, SPLIT)
    assert message == (
        "The version code 1006 must be greater than 2005: a package with version code 2005 "
        "for arm64-v8a is already committed."
    )
    assert version_code_refusal(None, ALL, SPLIT) is None


STRICT = Quirks()
LENIENT = Quirks.profile("lenient")


@pytest.mark.parametrize(
    ("form", "query", "quirks", "expected"),
    [
        ("all", None, STRICT, "all"),
        ("armeabi-v7a", None, STRICT, "armeabi-v7a"),
        ("arm64-v8a", "all", STRICT, "arm64-v8a"),
        ("arm64-v8a", "all", LENIENT, "arm64-v8a"),  # the form wins
        ("0", None, STRICT, ValueError),
        ("0", None, LENIENT, "all"),
        ("0", None, Quirks(architecture_zero=True), "all"),
        ("x86", None, LENIENT, ValueError),
        ("", None, LENIENT, ValueError),
        (None, "arm64-v8a", STRICT, ValueError),  # a form parser does not see the query
        (None, "arm64-v8a", Quirks(architecture_query=True), "arm64-v8a"),
        (None, "0", LENIENT, "all"),
        (None, "bogus", LENIENT, ValueError),
        (None, None, STRICT, ValueError),
        (None, None, Quirks(architecture_missing="all"), "all"),
    ],
)
def test_choose_architecture(
    form: str | None, query: str | None, quirks: Quirks, expected: str | type[Exception]
) -> None:
    if isinstance(expected, str):
        assert choose_architecture(form, query, quirks) == expected
    else:
        with pytest.raises(ValueError, match="architecture") as info:
            choose_architecture(form, query, quirks)
        assert "all, armeabi-v7a, arm64-v8a" in str(info.value)


@pytest.mark.parametrize(
    ("method", "path", "quirks", "target"),
    [
        ("GET", "/addons/api/plugin/1", STRICT, "/addons/api/plugin/1/"),
        ("GET", "/addons/api/plugin/1", LENIENT, "/addons/api/plugin/1/"),  # always, for GET
        ("HEAD", "/addons/api/plugins", STRICT, "/addons/api/plugins/"),
        ("GET", "//addons/api/plugins/", STRICT, "/addons/api/plugins/"),
        ("GET", "//addons//api/plugin/1", STRICT, "/addons/api/plugin/1/"),
        ("POST", "/v1/apps/releases/upload", STRICT, "/v1/apps/releases/upload/"),
        ("POST", "/v1/apps/releases/upload", LENIENT, None),  # served where it is
        ("DELETE", "/v1/apps/releases", STRICT, "/v1/apps/releases/"),
        ("POST", "//addons/api/plugins/", Quirks(slashless_post="serve"), None),
    ],
)
def test_slash_redirect(method: str, path: str, quirks: Quirks, target: str | None) -> None:
    assert slash_redirect(method, path, quirks) == target
