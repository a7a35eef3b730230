"""The BlueMind MarketPlace endpoints: one table, the only place their paths are typed.

Trailing slashes are part of every path (a Django-style service answers a slashless path with a
redirect, which a POST must never follow).
"""

from __future__ import annotations

from typing import Literal

from .._wire import Endpoint

__all__ = ["ENDPOINTS", "BlueMindEndpoint", "Paths"]

BlueMindEndpoint = Literal["plugins", "plugin", "create", "plugin_version"]

PLUGINS = Endpoint("bluemind", "plugins", "GET", "/addons/api/plugins/", safe=True)
PLUGIN = Endpoint("bluemind", "plugin", "GET", "/addons/api/plugin/{id}/", safe=True)
CREATE = Endpoint("bluemind", "create", "POST", "/addons/api/plugins/", safe=False, upload=True)
PLUGIN_VERSION = Endpoint(
    "bluemind", "plugin_version", "POST", "/addons/api/plugin_version/", safe=False, upload=True
)

ENDPOINTS: dict[str, Endpoint] = {e.name: e for e in (PLUGINS, PLUGIN, CREATE, PLUGIN_VERSION)}


class Paths:
    """The path of each endpoint (read from `ENDPOINTS`)."""

    PLUGINS = PLUGINS.path
    PLUGIN = PLUGIN.path
    PLUGIN_VERSION = PLUGIN_VERSION.path
