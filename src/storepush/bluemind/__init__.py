"""The BlueMind MarketPlace add-on API: :class:`BlueMindClient` and its models."""

from ._client import BlueMindClient, Paths, VersionUpload
from ._models import Plugin, PluginSpec, PluginVersion
from ._publish import VersionResult

__all__ = [
    "BlueMindClient",
    "Paths",
    "Plugin",
    "PluginSpec",
    "PluginVersion",
    "VersionResult",
    "VersionUpload",
]
