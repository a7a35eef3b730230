"""Cafe Bazaar's developer-console ("Pishkhan") API: :class:`BazaarClient` and its models."""

from ._client import AccessReport, BazaarClient, Paths
from ._models import Architecture, Bundle, Package, Release
from ._publish import DraftJournal, Publisher, PublishResult

__all__ = [
    "AccessReport",
    "Architecture",
    "BazaarClient",
    "Bundle",
    "DraftJournal",
    "Package",
    "Paths",
    "PublishResult",
    "Publisher",
    "Release",
]
