"""Cafe Bazaar's developer-console ("Pishkhan") API: `BazaarClient` and its models."""

from .._exports import public_module as _public_module
from ._api import ENDPOINTS, Paths
from ._calls import BazaarAPI
from ._client import AccessReport, BazaarClient, check_policy
from ._models import Architecture, Bundle, Package, Release
from ._ports import DraftAction, DraftJournal, DraftPolicy, PishkhanAPI
from ._preflight import (
    MAX_TEXT,
    CommitFields,
    LocalApk,
    LocalBundle,
    check_commit_fields,
    parse_apk,
    parse_apks,
    parse_bundle,
)
from ._publish import Publisher
from ._results import PublishPlan, PublishResult

__all__ = [
    "ENDPOINTS",
    "MAX_TEXT",
    "AccessReport",
    "Architecture",
    "BazaarAPI",
    "BazaarClient",
    "Bundle",
    "CommitFields",
    "DraftAction",
    "DraftJournal",
    "DraftPolicy",
    "LocalApk",
    "LocalBundle",
    "Package",
    "Paths",
    "PishkhanAPI",
    "PublishPlan",
    "PublishResult",
    "Publisher",
    "Release",
    "check_commit_fields",
    "check_policy",
    "parse_apk",
    "parse_apks",
    "parse_bundle",
]

for _name in __all__:
    _value = globals()[_name]
    if _public_module(_value, "storepush.bazaar"):
        _value.__module__ = "storepush.bazaar"
del _name, _value
