"""Track identity: the "Track Name" of a file, and its content hash.

The track id names the library folder, the `.INFO` file and the Dagster partition, so
it must be stable (the same file always gets the same name), unique (the registry adds
a suffix on collision) and safe (no path separators, no `..`, no control characters).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

# "01 - Title", "01. Title", "1-02 Title", "A1 Title" (vinyl sides), "(03) Title", "03_Title"
_LEADING_TRACK_NUMBER = re.compile(
    r"""^\s*(?:\(\s*)?(?:\d{1,2}[-.](?=\d))?(?:[A-D])?\d{1,3}(?:\s*\))?\s*(?:[-._)]+\s*|\s+)""",
    re.VERBOSE,
)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")
MAX_ID_LENGTH = 120


def track_name(path: str | os.PathLike) -> str:
    """The original pipeline's "Track Name": the file stem without a leading track number.

    Examples
    --------
    >>> track_name("inbox/01 - Blue Monday.flac")
    'Blue Monday'
    >>> track_name("2112.mp3")  # a title that is only a number keeps it
    '2112'
    """
    stem = Path(path).stem
    stripped = _LEADING_TRACK_NUMBER.sub("", stem, count=1)
    name = stripped if stripped.strip(" ._-") else stem
    return safe_track_id(name)


def safe_track_id(name: str) -> str:
    """Make `name` safe as a folder name and Dagster partition key.

    Normalises to NFC, replaces path separators, reserved and control characters with
    `_`, collapses `..` and `...`, strips leading dots and surrounding blanks.
    """
    name = unicodedata.normalize("NFC", name)
    name = _UNSAFE.sub("_", name)
    name = re.sub(r"\.{2,}", ".", name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if len(name) > MAX_ID_LENGTH:
        name = name[:MAX_ID_LENGTH].rstrip()
    return name or "untitled"


def unique_track_id(base: str, taken: set[str]) -> str:
    """`base`, or `base (2)`, `base (3)`, ... whichever is not in `taken`."""
    if base not in taken:
        return base
    n = 2
    while f"{base} ({n})" in taken:
        n += 1
    return f"{base} ({n})"


def file_sha256(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, as hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            h.update(chunk)
    return h.hexdigest()


def is_within(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """True if `path`, with symlinks resolved, lies inside `root`."""
    try:
        return Path(path).resolve().is_relative_to(Path(root).resolve())
    except OSError:
        return False


def find_audio_files(root: str | os.PathLike, extensions) -> list[Path]:
    """Audio files under `root`, recursively, sorted; symlinks that leave `root` are skipped.

    Hidden files and folders (a leading dot) are skipped: partial downloads and
    editors' temporary files live there.
    """
    root = Path(root)
    exts = {e.lower().lstrip(".") for e in extensions}
    found: list[Path] = []
    if not root.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                continue
            if name.rsplit(".", 1)[-1].lower() not in exts or "." not in name:
                continue
            p = Path(dirpath) / name
            if p.is_symlink() and not is_within(p, root):
                continue
            found.append(p)
    found.sort()
    return found
