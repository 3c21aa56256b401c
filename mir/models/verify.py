"""`mir models verify`: every placed file hashed again and its signature read."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from mir.config import MasterConfig
from mir.models.checksums import UNKNOWN, WRONG, cache_for, check_file
from mir.models.manifest import ModelEntry, shown, target


def verify_models(
    entries: Sequence[ModelEntry], cfg: MasterConfig, *, out: TextIO | None = None
) -> int:
    """Hash every present model file again and report it against the manifest.

    Returns
    -------
    int
        1 when a file does not match, else 0.
    """
    out = out or sys.stdout
    cache = cache_for(cfg)
    checked = wrong = 0
    for entry in entries:
        for file in entry.files:
            path = target(entry, file, cfg)
            if not path.is_file():
                continue
            checked += 1
            actual = cache.sha256(path, fresh=True)
            state, detail = check_file(path, file, actual)
            wrong += state == WRONG
            line = f"{state:<16} {entry.name:<26} {shown(path)}"
            if state == UNKNOWN:
                line += f"\n{'':<16} sha256 {actual} (record it in the manifest)"
            elif state == WRONG:
                line += f"\n{'':<16} {detail}"
            print(line, file=out)
    cache.save()
    print(f"\n{checked} file(s) present and checked, {wrong} wrong", file=out)
    return 1 if wrong else 0
