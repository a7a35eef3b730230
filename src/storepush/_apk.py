"""Reading an APK's package name and version: moved to `storepush._formats`.

The SDK's import path, kept while the SDK switches over to `storepush._formats`, which holds
every file format shared by the SDK and the emulator.
"""

from __future__ import annotations

from ._formats import ANDROID_NS, MANIFEST, ManifestInfo, parse_manifest, read_apk_manifest

__all__ = ["ANDROID_NS", "MANIFEST", "ManifestInfo", "parse_manifest", "read_apk_manifest"]
