"""The track registry: which audio files are tracks (`tracks`, one row per distinct
content, and `track_sources`, every path seen) and which files did not decode
(`rejected_files`), with the paths of the inbox's files stored relative to it so that
machines mounting it at different places agree on every file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store.sql import absolute, now

TRACKS_TABLE = "tracks"
#: the lock every registry write takes (the registry's three tables change together)
REGISTRY_LOCK = "registry"
SOURCES_TABLE = "track_sources"
#: inbox files that did not decode: never tracks; tried again when their size or mtime changes
REJECTED_TABLE = "rejected_files"


class RegistryTables:
    """The registry's part of a feature store (:class:`store.tables.FeatureTables`):
    its methods run the store's SQL through its connection.

    Attributes
    ----------
    inbox : Path or None
        This machine's inbox: the registry stores the paths of files under it relative to
        it, and gives them back under it (:meth:`stored_path`, :meth:`source_file`).
    """

    inbox: Path | None = None

    def stored_path(self, path: str | os.PathLike) -> str:
        """A file's path as the store keeps it: relative to the inbox (POSIX separators)
        for a file under it, absolute otherwise."""
        path = absolute(path)
        if self.inbox is not None and path.is_relative_to(self.inbox):
            return path.relative_to(self.inbox).as_posix()
        return str(path)

    def source_file(self, stored: str) -> Path:
        """The file a stored path names on this machine (the inverse of :meth:`stored_path`)."""
        path = Path(stored)
        if path.is_absolute() or self.inbox is None:
            return path
        return self.inbox / path

    def _ensure_registry(self, con) -> None:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {TRACKS_TABLE} ("
            "track_id VARCHAR PRIMARY KEY, source_path VARCHAR, sha256 VARCHAR UNIQUE, "
            "size_bytes BIGINT, registered_at TIMESTAMP)"
        )
        self.create_table(
            con,
            SOURCES_TABLE,
            [("source_path", "VARCHAR"), ("track_id", "VARCHAR"), ("sha256", "VARCHAR"),
             ("size_bytes", "BIGINT"), ("mtime_ns", "BIGINT"), ("seen_at", "TIMESTAMP")],
            ("source_path",),
        )  # fmt: skip
        self.create_table(
            con,
            REJECTED_TABLE,
            [("source_path", "VARCHAR"), ("size_bytes", "BIGINT"), ("mtime_ns", "BIGINT"),
             ("reason", "VARCHAR"), ("rejected_at", "TIMESTAMP")],
            ("source_path",),
        )  # fmt: skip

    def _relocate(self, con) -> None:
        """Rewrite the absolute paths under the inbox that a store written before paths were
        relative still holds (a row of the relative path, if any, wins)."""
        if self.inbox is None:
            return
        prefix = str(self.inbox).rstrip("/") + "/"
        cut = len(prefix) + 1  # SQL's substr counts from 1
        for table in (SOURCES_TABLE, REJECTED_TABLE):
            con.execute(
                f"DELETE FROM {table} WHERE starts_with(source_path, ?) AND "
                f"substr(source_path, ?) IN (SELECT source_path FROM {table})",
                [prefix, cut],
            )
        for table in (TRACKS_TABLE, SOURCES_TABLE, REJECTED_TABLE):
            con.execute(
                f"UPDATE {table} SET source_path = substr(source_path, ?) "
                "WHERE starts_with(source_path, ?)",
                [cut, prefix],
            )

    def register(self, files: list[tuple[Path, str, str]]) -> list[tuple[str, Path, bool]]:
        """Register audio files as tracks; the same content twice is one track.

        Parameters
        ----------
        files : list of (path, sha256, proposed track id)

        Returns
        -------
        list of (track id, path, is_new)
            `is_new` is False when the content was already registered (a duplicate).
        """
        out = []
        stamp = now()
        from mir.tracks import unique_track_id

        new_tracks: list[list] = []
        sources: list[list] = []
        with self.connect(lock=REGISTRY_LOCK) as con:
            self._ensure_registry(con)
            self._relocate(con)
            by_sha = dict(con.execute(f"SELECT sha256, track_id FROM {TRACKS_TABLE}").fetchall())
            taken = set(by_sha.values())
            for path, sha, proposed in files:
                st = path.stat()
                if sha in by_sha:
                    track_id, is_new = by_sha[sha], False
                else:
                    track_id, is_new = unique_track_id(proposed, taken), True
                    taken.add(track_id)
                    by_sha[sha] = track_id
                    new_tracks.append([track_id, self.stored_path(path), sha, st.st_size, stamp])
                sources.append(
                    [self.stored_path(path), track_id, sha, st.st_size, st.st_mtime_ns, stamp]
                )
                out.append((track_id, path, is_new))
            self.insert_rows(con, TRACKS_TABLE, new_tracks)
            # a path given twice is one row (PostgreSQL's upsert refuses a key twice)
            sources = list({row[0]: row for row in sources}.values())
            self.insert_rows(con, SOURCES_TABLE, sources, key=("source_path",))
            if sources:  # a file that decodes now is no longer rejected
                con.execute(
                    f"DELETE FROM {REJECTED_TABLE} WHERE " + self.in_list("source_path"),
                    [[row[0] for row in sources]],
                )
        return out

    def reject(self, files: list[tuple[Path, str]]) -> None:
        """Record inbox files that do not decode, with the reason (replacing an older record)."""
        stamp = now()
        rows = []
        for path, reason in files:
            try:
                st = path.stat()
                size, mtime = st.st_size, st.st_mtime_ns
            except OSError:
                size, mtime = -1, -1
            rows.append([self.stored_path(path), size, mtime, reason, stamp])
        with self.connect(lock=REGISTRY_LOCK) as con:
            self._ensure_registry(con)
            self._relocate(con)
            rows = list({row[0]: row for row in rows}.values())  # a path given twice: once
            self.insert_rows(con, REJECTED_TABLE, rows, key=("source_path",))

    def rejected(self) -> dict[str, tuple[int, int, str]]:
        """Every rejected file: {path: (size, mtime_ns, reason)}."""
        with self.connect(read_only=True) as con:
            if not self.columns(con, REJECTED_TABLE):
                return {}
            rows = con.execute(
                f"SELECT source_path, size_bytes, mtime_ns, reason FROM {REJECTED_TABLE}"
            ).fetchall()
        return {str(self.source_file(p)): (s, m, r) for p, s, m, r in rows}

    def sources(self) -> dict[str, tuple[int, int, str | None]]:
        """Every file path seen so far: {path: (size, mtime_ns, track id or None if rejected)}."""
        with self.connect(read_only=True) as con:
            out: dict[str, tuple[int, int, str | None]] = {}
            if self.columns(con, REJECTED_TABLE):
                for p, s, m in con.execute(
                    f"SELECT source_path, size_bytes, mtime_ns FROM {REJECTED_TABLE}"
                ).fetchall():
                    out[str(self.source_file(p))] = (s, m, None)
            if self.columns(con, SOURCES_TABLE):
                for p, s, m, t in con.execute(
                    f"SELECT source_path, size_bytes, mtime_ns, track_id FROM {SOURCES_TABLE}"
                ).fetchall():
                    out[str(self.source_file(p))] = (s, m, t)
        return out

    def track_ids(self) -> list[str]:
        with self.connect(read_only=True) as con:
            if not self.columns(con, TRACKS_TABLE):
                return []
            return [
                r[0]
                for r in con.execute(
                    f"SELECT track_id FROM {TRACKS_TABLE} ORDER BY registered_at, track_id"
                ).fetchall()
            ]

    def track(self, track_id: str) -> dict[str, Any] | None:
        """The registry row of a track: source_path, sha256, size_bytes."""
        with self.connect(read_only=True) as con:
            if not self.columns(con, TRACKS_TABLE):
                return None
            row = con.execute(
                f"SELECT source_path, sha256, size_bytes FROM {TRACKS_TABLE} WHERE track_id = ?",
                [track_id],
            ).fetchone()
        if row is None:
            return None
        return {
            "source_path": str(self.source_file(row[0])),
            "sha256": row[1],
            "size_bytes": row[2],
        }


def register_files(tables: RegistryTables, paths: list[Path]) -> list[tuple[str, Path, bool]]:
    """Hash and name audio files, then register them (see :meth:`RegistryTables.register`)."""
    from mir.tracks import file_sha256, track_name

    return tables.register([(Path(p), file_sha256(p), track_name(p)) for p in paths])


@dataclass
class Admission:
    """What :func:`admit_files` found.

    Attributes
    ----------
    tracks : list of (track id, path, is_new)
        The files registered now; `is_new` is False for the same content as a track.
    known : list of (track id, path)
        The files registered before, unchanged since: taken as recorded.
    rejected : list of (path, reason)
        The files that do not decode or are too short to analyse, now or (unchanged
        since) before.
    """

    tracks: list[tuple[str, Path, bool]] = field(default_factory=list)
    known: list[tuple[str, Path]] = field(default_factory=list)
    rejected: list[tuple[Path, str]] = field(default_factory=list)

    def track_ids(self) -> list[str]:
        """Every track of the admitted files, once each, known ones first."""
        ids = [t for t, _ in self.known] + [t for t, _, _ in self.tracks]
        return list(dict.fromkeys(ids))


def admit_files(
    tables: RegistryTables,
    paths: list[Path],
    *,
    seen: dict[str, tuple[int, int, str | None]] | None = None,
) -> Admission:
    """Register the files that decode and are long enough to analyse; record the others
    in `rejected_files` with the reason. This is how every file becomes a track (the
    sensor, `mir run`).

    A file seen before with the same size and mtime is taken as recorded (its track, or
    its rejection) without being read again; `seen` is :meth:`RegistryTables.sources`
    when the caller has it. Any other file is probed cheaply (its header and a read at
    its start, middle and end, :func:`mir.audio.probe_audio`) before it is hashed; one
    that does not decode never becomes a track, and is tried again once its size or
    mtime changes.
    """
    from mir.audio import probe_audio
    from mir.errors import AudioError

    seen = tables.sources() if seen is None else seen
    good, admission = [], Admission()
    rejected_before: list[Path] = []
    for path in map(Path, paths):
        size, mtime, known_id = seen.get(str(absolute(path)), (None, None, None))
        try:
            st = path.stat()
        except OSError:  # gone: the probe says so
            st = None
        if st is not None and (size, mtime) == (st.st_size, st.st_mtime_ns):
            if known_id is None:
                rejected_before.append(path)
            else:
                admission.known.append((known_id, path))
            continue
        try:
            probe_audio(path)
        except AudioError as exc:
            admission.rejected.append((path, exc.reason))
            continue
        good.append(path)
    if admission.rejected:
        tables.reject(admission.rejected)
    if rejected_before:
        recorded = tables.rejected()
        admission.rejected += [
            (p, recorded[str(absolute(p))][2] if str(absolute(p)) in recorded else "did not decode")
            for p in rejected_before
        ]
    if good:
        admission.tracks = register_files(tables, good)
    return admission
