"""The BlueMind MarketPlace add-on API: `BlueMindClient` and its models."""

from .._exports import public_module as _public_module
from ._api import ENDPOINTS, Paths
from ._calls import BlueMindAPI, VersionUpload
from ._checks import (
    CheckedPlugin,
    PackageFile,
    VersionFields,
    check_package,
    check_spec,
    check_version,
)
from ._client import BlueMindClient
from ._models import Plugin, PluginSpec, PluginVersion
from ._publish import MarketplaceAPI, VersionPlan, VersionResult

__all__ = [
    "ENDPOINTS",
    "BlueMindAPI",
    "BlueMindClient",
    "CheckedPlugin",
    "MarketplaceAPI",
    "PackageFile",
    "Paths",
    "Plugin",
    "PluginSpec",
    "PluginVersion",
    "VersionFields",
    "VersionPlan",
    "VersionResult",
    "VersionUpload",
    "check_package",
    "check_spec",
    "check_version",
]

for _name in __all__:
    _value = globals()[_name]
    if _public_module(_value, "storepush.bluemind"):
        _value.__module__ = "storepush.bluemind"
del _name, _value
