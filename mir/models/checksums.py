"""Checksums of placed model files: sha256 (cached by path, size and mtime) and the state
of each file against its manifest entry."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mir.config import MasterConfig
from mir.models.manifest import ModelEntry, ModelFile, folder, target

#: checksums already computed, by path, size and mtime (under `paths.models`)
CHECKSUM_CACHE = ".sha256-cache.json"
CHUNK = 1 << 20


def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


class ChecksumCache:
    """sha256 of files by (path, size, mtime): `list` hashes a multi-GB file once."""

    def __init__(self, path: Path | None):
        self.path = path
        self.data: dict[str, dict] = {}
        self.changed = False
        if path is not None and path.is_file():
            try:
                self.data = json.loads(path.read_text())
            except (OSError, ValueError):
                self.data = {}

    def sha256(self, file: Path, *, fresh: bool = False) -> str:
        st = file.stat()
        key = str(file.resolve())
        known = self.data.get(key)
        if not fresh and known and known["size"] == st.st_size and known["mtime"] == st.st_mtime_ns:
            return known["sha256"]
        value = sha256_of(file)
        self.record(file, value)
        return value

    def record(self, file: Path, sha256: str) -> None:
        st = file.stat()
        self.data[str(file.resolve())] = {
            "size": st.st_size,
            "mtime": st.st_mtime_ns,
            "sha256": sha256,
        }
        self.changed = True

    def save(self) -> None:
        if self.path is None or not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        except OSError:
            pass  # a read-only models folder: checksums are computed again next time


def cache_for(cfg: MasterConfig) -> ChecksumCache:
    """The checksum cache of the configured models folder."""
    return ChecksumCache(Path(cfg.paths.models) / CHECKSUM_CACHE)


#: checksum states, as `list` and `verify` print them
VERIFIED, PREFIX_VERIFIED, UNKNOWN, WRONG, ABSENT = (
    "verified",
    "prefix verified",
    "unknown",
    "WRONG",
    "-",
)


def check_file(path: Path, file: ModelFile, sha256: str) -> tuple[str, str]:
    """(state, detail) of a present file against its manifest entry."""
    size = path.stat().st_size
    if file.sha256:
        if sha256 == file.sha256:
            return VERIFIED, ""
        return WRONG, f"expected sha256 {file.sha256}, found {sha256}"
    if file.size is not None and size != file.size:
        return WRONG, f"expected {file.size} bytes, found {size}"
    if file.sha256_prefix:
        if sha256.startswith(file.sha256_prefix):
            return PREFIX_VERIFIED, ""
        return WRONG, f"expected a sha256 starting {file.sha256_prefix}, found {sha256}"
    return UNKNOWN, f"no sha256 in the manifest; this file's is {sha256}"


@dataclass
class FileStatus:
    """One row of `mir models list`."""

    entry: ModelEntry
    #: None for a file that `fetch` writes (a Demucs yaml)
    file: ModelFile | None
    path: Path
    present: bool
    size: int | None
    checksum: str
    detail: str = ""


def file_statuses(
    entries: Sequence[ModelEntry], cfg: MasterConfig, cache: ChecksumCache
) -> list[FileStatus]:
    """The state of every file of every entry, where the configuration puts it."""
    rows = []
    for entry in entries:
        for file in entry.files:
            path = target(entry, file, cfg)
            if path.is_file():
                state, detail = check_file(path, file, cache.sha256(path))
                rows.append(FileStatus(entry, file, path, True, path.stat().st_size, state, detail))
            else:
                rows.append(FileStatus(entry, file, path, False, None, ABSENT))
        for name, content in entry.write.items():
            path = folder(entry, cfg) / name
            if path.is_file():
                same = path.read_text(errors="replace") == content
                rows.append(
                    FileStatus(
                        entry,
                        None,
                        path,
                        True,
                        path.stat().st_size,
                        "as written" if same else "differs",
                        "" if same else "not what `mir models fetch` writes",
                    )
                )
            else:
                rows.append(FileStatus(entry, None, path, False, None, ABSENT))
    return rows
