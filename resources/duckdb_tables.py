"""DuckDB tables of the feature store, and the track registry.

One table per feature asset, keyed by `track_id`, one row per track; columns are added
as a feature gains keys. DuckDB admits one writing process at a time, so every access
takes a cross-process file lock first and holds a connection only for its statement:
concurrent runs queue on the lock instead of failing, and no row is lost.

This module imports no Dagster: the IO manager, the sensor and the CLI share it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from filelock import FileLock

TRACKS_TABLE = "tracks"
SOURCES_TABLE = "track_sources"
#: inbox files that did not decode: never tracks; tried again when their size or mtime changes
REJECTED_TABLE = "rejected_files"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a valid table or column name: {name!r}")
    return f'"{name}"'


def _sql_type(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "BOOLEAN"
    if isinstance(value, int | np.integer):
        return "BIGINT"
    if isinstance(value, float | np.floating):
        return "DOUBLE"
    if isinstance(value, Mapping | list | tuple | np.ndarray):
        return "JSON"
    return "VARCHAR"


def _sql_value(value: Any, sql_type: str) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if sql_type == "JSON":
        if isinstance(value, np.ndarray):
            value = value.tolist()
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def _add_columns(con, table: str, records) -> dict[str, str]:
    """Add a column for every new key of `records` (widening BIGINT to DOUBLE when a
    float arrives); returns the table's columns and their types."""
    existing = FeatureTables._columns(con, table)
    wanted: dict[str, str] = {}
    for values in records:
        for key, value in values.items():
            if value is None or key in wanted:
                continue
            wanted[key] = _sql_type(value)
    for key, sql_type in wanted.items():
        have = existing.get(key)
        if have is None:
            con.execute(f"ALTER TABLE {_ident(table)} ADD COLUMN {_ident(key)} {sql_type}")
            existing[key] = sql_type
        elif have == "BIGINT" and sql_type == "DOUBLE":
            con.execute(f"ALTER TABLE {_ident(table)} ALTER {_ident(key)} TYPE DOUBLE")
            existing[key] = "DOUBLE"
    return existing


def _records(cur, columns: dict[str, str]) -> list[dict[str, Any]]:
    """The rows of a cursor as dicts: JSON columns decoded, NULLs and `materialized_at` left out."""
    names = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        record = {}
        for name, value in zip(names, row, strict=True):
            if name == "materialized_at" or value is None:
                continue
            if columns.get(name) == "JSON" and isinstance(value, str):
                value = json.loads(value)
            record[name] = value
        out.append(record)
    return out


class FeatureTables:
    """The DuckDB side of the feature store.

    Parameters
    ----------
    path : path-like
        The DuckDB file (created on first write).
    lock_timeout_s : float
        How long a writer waits for the lock before giving up.
    """

    def __init__(self, path: str | os.PathLike, *, lock_timeout_s: float = 600.0):
        self.path = Path(path)
        self.lock_timeout_s = lock_timeout_s

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection held under the cross-process lock, closed on exit."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock", timeout=self.lock_timeout_s):
            if read_only and not self.path.exists():
                con = duckdb.connect(":memory:")
            else:
                con = duckdb.connect(str(self.path), read_only=read_only)
            try:
                yield con
            finally:
                con.close()

    # -- feature tables -------------------------------------------------------

    @staticmethod
    def _columns(con, table: str) -> dict[str, str]:
        rows = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?", [table]
        ).fetchall()
        return {name: dtype for name, dtype in rows}

    def upsert(
        self,
        table: str,
        rows: Mapping[str, Mapping[str, Any]],
        *,
        comments: Mapping[str, str] | None = None,
    ) -> int:
        """Insert or replace one row per track; add columns for new keys.

        Parameters
        ----------
        table : str
            Table name (the asset name).
        rows : mapping of track id to {column: value}
        comments : mapping of column to description, optional
            Written as DuckDB column comments.

        Returns
        -------
        int
            The number of rows written.
        """
        if not rows:
            return 0
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with self.connect() as con:
            # one transaction and one INSERT for the whole batch: a run's rows land together
            con.begin()
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {_ident(table)} "
                "(track_id VARCHAR PRIMARY KEY, materialized_at TIMESTAMP)"
            )
            existing = _add_columns(con, table, rows.values())
            if comments:
                stored = dict(
                    con.execute(
                        "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ?",
                        [table],
                    ).fetchall()
                )
                for key, text in comments.items():
                    if key in existing and stored.get(key) != text:
                        # COMMENT ON takes no bound parameter: quote the literal
                        con.execute(
                            f"COMMENT ON COLUMN {_ident(table)}.{_ident(key)} IS {_quote(text)}"
                        )
            columns = [c for c in existing if c not in ("track_id", "materialized_at")]
            _insert_rows(
                con,
                _ident(table),
                [
                    [track_id, now, *(_sql_value(values.get(c), existing[c]) for c in columns)]
                    for track_id, values in rows.items()
                ],
                replace=True,
                names=["track_id", "materialized_at", *(_ident(c) for c in columns)],
                types=["VARCHAR", "TIMESTAMP", *(existing[c] for c in columns)],
            )
            con.commit()
        return len(rows)

    def read(self, table: str, track_ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """Rows of `table` as {track id: {column: value}} (JSON columns decoded)."""
        with self.connect(read_only=True) as con:
            columns = self._columns(con, table)
            if not columns:
                return {}
            sql = f"SELECT * FROM {_ident(table)}"
            params: list = []
            if track_ids is not None:
                sql += " WHERE track_id IN (SELECT unnest(?))"
                params = [list(track_ids)]
            records = _records(con.execute(sql, params), columns)
            return {record.pop("track_id"): record for record in records}

    def tables(self) -> list[str]:
        with self.connect(read_only=True) as con:
            return [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]

    # -- track registry --------------------------------------------------------

    def _ensure_registry(self, con) -> None:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {TRACKS_TABLE} ("
            "track_id VARCHAR PRIMARY KEY, source_path VARCHAR, sha256 VARCHAR UNIQUE, "
            "size_bytes BIGINT, registered_at TIMESTAMP)"
        )
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {SOURCES_TABLE} ("
            "source_path VARCHAR PRIMARY KEY, track_id VARCHAR, sha256 VARCHAR, "
            "size_bytes BIGINT, mtime_ns BIGINT, seen_at TIMESTAMP)"
        )
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {REJECTED_TABLE} ("
            "source_path VARCHAR PRIMARY KEY, size_bytes BIGINT, mtime_ns BIGINT, "
            "reason VARCHAR, rejected_at TIMESTAMP)"
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
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        from mir.tracks import unique_track_id

        new_tracks: list[list] = []
        sources: list[list] = []
        with self.connect() as con:
            self._ensure_registry(con)
            by_sha = dict(con.execute(f"SELECT sha256, track_id FROM {TRACKS_TABLE}").fetchall())
            taken = {r[0] for r in con.execute(f"SELECT track_id FROM {TRACKS_TABLE}").fetchall()}
            for path, sha, proposed in files:
                st = path.stat()
                if sha in by_sha:
                    track_id, is_new = by_sha[sha], False
                else:
                    track_id, is_new = unique_track_id(proposed, taken), True
                    taken.add(track_id)
                    by_sha[sha] = track_id
                    new_tracks.append([track_id, str(path), sha, st.st_size, now])
                sources.append([str(path), track_id, sha, st.st_size, st.st_mtime_ns, now])
                out.append((track_id, path, is_new))
            _insert_rows(con, TRACKS_TABLE, new_tracks)
            _insert_rows(con, SOURCES_TABLE, sources, replace=True)
            if sources:  # a file that decodes now is no longer rejected
                con.execute(
                    f"DELETE FROM {REJECTED_TABLE} WHERE source_path IN (SELECT unnest(?))",
                    [[row[0] for row in sources]],
                )
        return out

    def reject(self, files: list[tuple[Path, str]]) -> None:
        """Record inbox files that do not decode, with the reason (replacing an older record)."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        rows = []
        for path, reason in files:
            try:
                st = path.stat()
                size, mtime = st.st_size, st.st_mtime_ns
            except OSError:
                size, mtime = -1, -1
            rows.append([str(path), size, mtime, reason, now])
        with self.connect() as con:
            self._ensure_registry(con)
            _insert_rows(con, REJECTED_TABLE, rows, replace=True)

    def rejected(self) -> dict[str, tuple[int, int, str]]:
        """Every rejected file: {path: (size, mtime_ns, reason)}."""
        with self.connect(read_only=True) as con:
            if not self._columns(con, REJECTED_TABLE):
                return {}
            rows = con.execute(
                f"SELECT source_path, size_bytes, mtime_ns, reason FROM {REJECTED_TABLE}"
            ).fetchall()
        return {p: (s, m, r) for p, s, m, r in rows}

    def known_sources(self) -> dict[str, tuple[int, int]]:
        """Every file path seen so far, registered or rejected: {path: (size, mtime_ns)}."""
        return {p: (s, m) for p, (s, m, _) in self.sources().items()}

    def sources(self) -> dict[str, tuple[int, int, str | None]]:
        """Every file path seen so far: {path: (size, mtime_ns, track id or None if rejected)}."""
        with self.connect(read_only=True) as con:
            out: dict[str, tuple[int, int, str | None]] = {}
            if self._columns(con, REJECTED_TABLE):
                for p, s, m in con.execute(
                    f"SELECT source_path, size_bytes, mtime_ns FROM {REJECTED_TABLE}"
                ).fetchall():
                    out[p] = (s, m, None)
            if self._columns(con, SOURCES_TABLE):
                for p, s, m, t in con.execute(
                    f"SELECT source_path, size_bytes, mtime_ns, track_id FROM {SOURCES_TABLE}"
                ).fetchall():
                    out[p] = (s, m, t)
        return out

    def track_ids(self) -> list[str]:
        with self.connect(read_only=True) as con:
            if not self._columns(con, TRACKS_TABLE):
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
            if not self._columns(con, TRACKS_TABLE):
                return None
            row = con.execute(
                f"SELECT source_path, sha256, size_bytes FROM {TRACKS_TABLE} WHERE track_id = ?",
                [track_id],
            ).fetchone()
        if row is None:
            return None
        return {"source_path": row[0], "sha256": row[1], "size_bytes": row[2]}


def _insert_rows(
    con,
    table: str,
    rows: list[list],
    *,
    replace: bool = False,
    names: list[str] | None = None,
    types: list[str] | None = None,
) -> None:
    """Insert many rows in one statement (columns passed as lists and unnested together).

    `names` are the (quoted) target columns, `types` their SQL types: each list is cast
    to its column's type, as a row-by-row insert would cast each value.
    """
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    casts = [f"::{t}[]" for t in types] if types else [""] * len(columns)
    select = ", ".join(f"unnest(${i + 1}{cast})" for i, cast in enumerate(casts))
    into = f"{table} ({', '.join(names)})" if names else table
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    con.execute(f"{verb} INTO {into} SELECT {select}", [list(c) for c in columns])


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def register_files(tables: FeatureTables, paths: list[Path]) -> list[tuple[str, Path, bool]]:
    """Hash and name audio files, then register them (see :meth:`FeatureTables.register`)."""
    from mir.tracks import file_sha256, track_name

    return tables.register([(Path(p), file_sha256(p), track_name(p)) for p in paths])


@dataclass
class Admission:
    """What :func:`admit_files` did: the tracks registered (track id, path, is_new) and the
    files rejected (path, reason)."""

    tracks: list[tuple[str, Path, bool]] = field(default_factory=list)
    rejected: list[tuple[Path, str]] = field(default_factory=list)


def admit_files(tables: FeatureTables, paths: list[Path]) -> Admission:
    """Register the files that decode; record the others in `rejected_files` with the
    reason. A file is probed cheaply (its header and a read at its start, middle and
    end, :func:`mir.audio.probe_audio`) before it is hashed; one that does not decode
    never becomes a track, and is tried again once its size or mtime changes."""
    from mir.audio import probe_audio
    from mir.errors import AudioError

    good, admission = [], Admission()
    for path in paths:
        try:
            probe_audio(path)
        except AudioError as exc:
            admission.rejected.append((Path(path), exc.reason))
            continue
        good.append(Path(path))
    if admission.rejected:
        tables.reject(admission.rejected)
    if good:
        admission.tracks = register_files(tables, good)
    return admission


# -- rows keyed by track and crop, and arrays ------------------------------------------


def replace_crop_rows(
    tables: FeatureTables, table: str, track_id: str, rows: list[dict[str, Any]]
) -> int:
    """Replace every row of `track_id` in a (track_id, crop_index)-keyed table.

    Columns are added for new keys as in :meth:`FeatureTables.upsert`.
    """
    with tables.connect() as con:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {_ident(table)} (track_id VARCHAR, crop_index INTEGER, "
            "materialized_at TIMESTAMP, PRIMARY KEY (track_id, crop_index))"
        )
        existing = _add_columns(con, table, rows)
        con.execute(f"DELETE FROM {_ident(table)} WHERE track_id = ?", [track_id])
        columns = [c for c in existing if c not in ("track_id", "crop_index", "materialized_at")]
        if rows:
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            names = ", ".join(
                ["track_id", "crop_index", "materialized_at", *(_ident(c) for c in columns)]
            )
            marks = ", ".join(["?"] * (len(columns) + 3))
            con.executemany(
                f"INSERT INTO {_ident(table)} ({names}) VALUES ({marks})",
                [
                    [
                        track_id,
                        r["crop_index"],
                        now,
                        *(_sql_value(r.get(c), existing[c]) for c in columns),
                    ]
                    for r in rows
                ],
            )
    return len(rows)


ARRAYS_TABLE = "timeseries"


def _create_arrays_table(con) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {ARRAYS_TABLE} (track_id VARCHAR, crop_index INTEGER, field VARCHAR, "
        "shape INTEGER[], data BLOB, PRIMARY KEY (track_id, crop_index, field))"
    )


def _array_rows(track_id: str, crop_index: int, arrays: dict[str, np.ndarray]) -> list[list]:
    return [
        [track_id, crop_index, field, list(a.shape), np.ascontiguousarray(a, dtype="<f4").tobytes()]
        for field, a in arrays.items()
    ]


def write_arrays(
    tables: FeatureTables, track_id: str, crop_index: int, arrays: dict[str, np.ndarray]
) -> None:
    """Store named float32 arrays for a track (`crop_index` -1) or one of its crops;
    fields of the same name are replaced, others kept."""
    with tables.connect() as con:
        _create_arrays_table(con)
        con.executemany(
            f"INSERT OR REPLACE INTO {ARRAYS_TABLE} VALUES (?, ?, ?, ?, ?)",
            _array_rows(track_id, crop_index, arrays),
        )


def replace_crop_arrays(
    tables: FeatureTables, track_id: str, arrays_by_crop: dict[int, dict[str, np.ndarray]]
) -> None:
    """Replace every crop array of a track (crop index >= 0) by these, in one transaction
    (the whole-track arrays, crop index -1, are kept)."""
    rows = [r for i, arrays in arrays_by_crop.items() for r in _array_rows(track_id, i, arrays)]
    with tables.connect() as con:
        _create_arrays_table(con)
        con.execute("BEGIN TRANSACTION")
        con.execute(
            f"DELETE FROM {ARRAYS_TABLE} WHERE track_id = ? AND crop_index >= 0", [track_id]
        )
        if rows:
            con.executemany(f"INSERT INTO {ARRAYS_TABLE} VALUES (?, ?, ?, ?, ?)", rows)
        con.execute("COMMIT")


def read_arrays(
    tables: FeatureTables, track_id: str, crop_index: int = -1
) -> dict[str, np.ndarray]:
    """The arrays stored by :func:`write_arrays` ({} when there are none)."""
    with tables.connect(read_only=True) as con:
        if not FeatureTables._columns(con, ARRAYS_TABLE):
            return {}
        rows = con.execute(
            f"SELECT field, shape, data FROM {ARRAYS_TABLE} WHERE track_id = ? AND crop_index = ?",
            [track_id, crop_index],
        ).fetchall()
    return {
        field: np.frombuffer(bytes(data), dtype="<f4").reshape(shape) for field, shape, data in rows
    }


def read_crop_rows(
    tables: FeatureTables, table: str, track_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Rows of a (track_id, crop_index) table, grouped by track, in crop order."""
    with tables.connect(read_only=True) as con:
        columns = FeatureTables._columns(con, table)
        if not columns:
            return {}
        cur = con.execute(
            f"SELECT * FROM {_ident(table)} WHERE track_id IN (SELECT unnest(?)) ORDER BY track_id, crop_index",
            [list(track_ids)],
        )
        out: dict[str, list[dict[str, Any]]] = {}
        for record in _records(cur, columns):
            out.setdefault(record["track_id"], []).append(record)
        return out


LABELS_TABLE = "labels"


def replace_labels(
    tables: FeatureTables, track_id: str, probabilities: dict[str, dict[str, float]]
) -> int:
    """Every label probability of a track as rows (track_id, category, label, probability),
    so that "tracks whose genre X is above 0.5" is one WHERE clause."""
    rows = [
        [track_id, category, label, float(p)]
        for category, labels in probabilities.items()
        for label, p in labels.items()
    ]
    with tables.connect() as con:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {LABELS_TABLE} (track_id VARCHAR, category VARCHAR, label VARCHAR, "
            "probability DOUBLE, PRIMARY KEY (track_id, category, label))"
        )
        con.execute(f"DELETE FROM {LABELS_TABLE} WHERE track_id = ?", [track_id])
        _insert_rows(con, LABELS_TABLE, rows)
    return len(rows)
