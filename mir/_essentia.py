"""Essentia algorithm instances, made once per thread and setting.

Creating an Essentia algorithm costs about 2 ms (it builds a C++ object and checks its
parameters); the crops of one track ask for the same four HPCP algorithms and the same
key estimator dozens of times. An instance keeps state between calls and is not
thread-safe, so each thread gets its own.
"""

from __future__ import annotations

import threading

_local = threading.local()


def algorithm(name: str, **parameters):
    """The `essentia.standard.<name>` instance with these parameters for this thread."""
    import essentia.standard as es

    cache = _local.__dict__.setdefault("algorithms", {})
    key = (name, tuple(sorted(parameters.items())))
    if key not in cache:
        cache[key] = getattr(es, name)(**parameters)
    return cache[key]
