"""Files written whole: a reader (a training loader, the next run) sees the old file or
the new one, never half of one, and never takes a half-written file for an item."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _partial(target: Path) -> Path:
    """A temporary name beside `target` that no reader takes for a sample or a sidecar."""
    return target.with_name(f".{target.name}.{os.getpid()}.partial")


def publish(target: Path, write: Callable[[Path], None]) -> None:
    """`write(tmp)` to a temporary name beside `target`, then rename it onto `target`:
    a killed run leaves the old file or the new one, never half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _partial(target)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link `source` to `target` when they share a file system, else copy; the
    target is replaced in one rename."""

    def write(tmp: Path) -> None:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copy2(source, tmp)

    publish(target, write)


def write_text(target: Path, text: str) -> None:
    """Write `text` (UTF-8) to `target` through :func:`publish`."""
    publish(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(target: Path, value: Any, *, indent: int = 1) -> None:
    """Write `value` as JSON to `target` through :func:`publish`."""
    write_text(target, json.dumps(value, indent=indent, ensure_ascii=False))
