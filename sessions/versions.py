"""The versions behind a result (archives, shipped references), read from the installed
packages' metadata: never by importing them, as the app process never imports torch."""

from __future__ import annotations

import platform
from importlib import metadata

PACKAGES = ("mlsbench-tui", "textual", "numpy", "torch", "torchvision")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
