"""Which listed version is ours: a table."""

from __future__ import annotations

import pytest

from storepush.bluemind import Plugin, PluginVersion
from storepush.bluemind._rules import VersionVerdict, judge_version

OURS = "a" * 40


@pytest.mark.parametrize(
    ("versions", "current", "verdict"),
    [
        ([], None, VersionVerdict.ADD),
        ([PluginVersion(version="0.9")], "0.9", VersionVerdict.ADD),
        ([PluginVersion(version="1.0", sha1=OURS)], None, VersionVerdict.ALREADY),
        ([PluginVersion(version="1.0", sha1=OURS.upper())], None, VersionVerdict.ALREADY),
        ([PluginVersion(version="1.0", sha1="b" * 40)], None, VersionVerdict.REFUSE),
        ([PluginVersion(version="1.0", size=7)], None, VersionVerdict.REFUSE),
        ([PluginVersion(version="1.0", size=100)], None, VersionVerdict.ALREADY_UNVERIFIED),
        ([PluginVersion(version="1.0")], None, VersionVerdict.ALREADY_UNVERIFIED),
        ([], "1.0", VersionVerdict.ALREADY_UNVERIFIED),  # only `current_version` says so
        ([PluginVersion(version=1.0)], None, VersionVerdict.ALREADY_UNVERIFIED),  # a number
    ],
)
def test_judge_version_table(
    versions: list[PluginVersion], current: str | None, verdict: VersionVerdict
) -> None:
    plugin = Plugin(id=1, name="p", versions=versions, current_version=current)
    assert judge_version(plugin, "1.0", sha1=OURS, size=100) is verdict
