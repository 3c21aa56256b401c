"""The feature store's tables and the track registry, in DuckDB (the embedded default)
or PostgreSQL (:mod:`resources.postgres_tables`, for many machines writing at once).

One table per feature asset, keyed by `track_id`, one row per track; columns are added
as a feature gains keys. Beside them: the track registry (`tracks`, `track_sources`,
`rejected_files`), the crops' rows (keyed by track and crop), the label probabilities
and the time series arrays. Every statement is written once, here, in the SQL both
databases speak (`?` parameters, `INSERT ... ON CONFLICT`); a backend supplies only its
connection, its lock, its type names and its catalog queries.

DuckDB admits one writing process at a time, so every access takes a cross-process file
lock first and holds a connection only for its statement: concurrent runs queue on the
lock instead of failing, and no row is lost. PostgreSQL takes a lock per table instead.

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
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
from filelock import FileLock

if TYPE_CHECKING:
    from mir.config import MasterConfig

TRACKS_TABLE = "tracks"
#: the lock every registry write takes (the registry's three tables change together)
REGISTRY_LOCK = "registry"
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
    if value is None:  # SQL NULL, not JSON's null: a missing key reads back missing
        return None
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
    """The feature store's tables in a DuckDB file.

    Parameters
    ----------
    path : path-like
        The DuckDB file (created on first write).
    inbox : path-like, optional
        This machine's inbox: the registry stores the paths of files under it relative to
        it, and gives them back under it, so machines that mount one inbox at different
        places agree on every file (:meth:`stored_path`, :meth:`source_file`).
    lock_timeout_s : float
        How long a writer waits for the lock before giving up.
    """

    #: the name `feature_store.backend` gives this backend
    backend = "duckdb"

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        inbox: str | os.PathLike | None = None,
        lock_timeout_s: float = 600.0,
    ):
        self.path = Path(path)
        self.inbox = _absolute(inbox)
        self.lock_timeout_s = lock_timeout_s

    def stored_path(self, path: str | os.PathLike) -> str:
        """A file's path as the store keeps it: relative to the inbox (POSIX separators)
        for a file under it, absolute otherwise."""
        path = _absolute(path)
        if self.inbox is not None and path.is_relative_to(self.inbox):
            return path.relative_to(self.inbox).as_posix()
        return str(path)

    def source_file(self, stored: str) -> Path:
        """The file a stored path names on this machine (the inverse of :meth:`stored_path`)."""
        path = Path(stored)
        if path.is_absolute() or self.inbox is None:
            return path
        return self.inbox / path

    @property
    def location(self) -> str:
        """Where the tables live, for logs and the UI (no password)."""
        return str(self.path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"

    @contextmanager
    def connect(self, *, read_only: bool = False, lock: str = "") -> Iterator[Any]:
        """A connection held under the store's lock, closed on exit.

        A writer names what it writes in `lock` (a table, or :data:`REGISTRY_LOCK`):
        PostgreSQL serialises the writers of each name; a DuckDB file admits one writer
        at a time whatever the name, so every access here takes the file's one lock.
        """
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

    # -- what differs between backends ------------------------------------------

    def ddl_type(self, sql_type: str) -> str:
        """The backend's name for one of the types :func:`_sql_type` gives."""
        return sql_type

    def in_list(self, column: str) -> str:
        """A condition: `column` is one of the values of a list parameter `?`."""
        return f"{column} IN (SELECT unnest(?))"

    def columns(self, con, table: str) -> dict[str, str]:
        """The columns of `table` and their types (as :func:`_sql_type` names them), in
        table order; {} when there is no such table."""
        rows = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
            "ORDER BY column_index",
            [table],
        ).fetchall()
        return {name: dtype for name, dtype in rows}

    def _comments(self, con, table: str) -> dict[str, str | None]:
        return dict(
            con.execute(
                "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ?", [table]
            ).fetchall()
        )

    def _set_comment(self, con, table: str, column: str, text: str) -> None:
        # COMMENT ON takes no bound parameter: quote the literal
        con.execute(f"COMMENT ON COLUMN {_ident(table)}.{_ident(column)} IS {_quote(text)}")

    def insert_rows(
        self,
        con,
        table: str,
        rows: list[list],
        *,
        key: tuple[str, ...] | None = None,
        names: list[str] | None = None,
        types: list[str] | None = None,
    ) -> None:
        """Insert many rows in one statement; with `key` (the table's primary key), a row
        whose key exists replaces it.

        `names` are the target columns (all, in table order, by default) and `types` their
        SQL types: DuckDB takes each column as one list, unnested, cast to its type as a
        row-by-row insert would cast each value.
        """
        if rows:
            _duckdb_insert(con, table, rows, replace=key is not None, names=names, types=types)

    def tables(self) -> list[str]:
        """Every table of the store."""
        with self.connect(read_only=True) as con:
            return [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]

    # -- shared SQL ---------------------------------------------------------------

    def create_table(
        self, con, table: str, columns: list[tuple[str, str]], key: tuple[str, ...]
    ) -> None:
        """CREATE TABLE IF NOT EXISTS, the types named as :func:`_sql_type` names them."""
        defs = ", ".join(f"{_ident(name)} {self.ddl_type(t)}" for name, t in columns)
        primary = ", ".join(_ident(k) for k in key)
        con.execute(f"CREATE TABLE IF NOT EXISTS {_ident(table)} ({defs}, PRIMARY KEY ({primary}))")

    def _add_columns(self, con, table: str, records) -> dict[str, str]:
        """Add a column for every new key of `records` (widening BIGINT to DOUBLE when a
        float arrives); returns the table's columns and their types."""
        existing = self.columns(con, table)
        wanted: dict[str, str] = {}
        for values in records:
            for key, value in values.items():
                if value is None or key in wanted:
                    continue
                wanted[key] = _sql_type(value)
        for key, sql_type in wanted.items():
            have = existing.get(key)
            if have is None:
                con.execute(
                    f"ALTER TABLE {_ident(table)} ADD COLUMN {_ident(key)} {self.ddl_type(sql_type)}"
                )
                existing[key] = sql_type
            elif have == "BIGINT" and sql_type == "DOUBLE":
                con.execute(
                    f"ALTER TABLE {_ident(table)} ALTER {_ident(key)} TYPE {self.ddl_type('DOUBLE')}"
                )
                existing[key] = "DOUBLE"
        return existing

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
            Written as column comments.

        Returns
        -------
        int
            The number of rows written.
        """
        if not rows:
            return 0
        now = _now()
        with self.connect(lock=table) as con:
            # one transaction and one INSERT for the whole batch: a run's rows land together
            con.begin()
            self.create_table(
                con,
                table,
                [("track_id", "VARCHAR"), ("materialized_at", "TIMESTAMP")],
                ("track_id",),
            )
            existing = self._add_columns(con, table, rows.values())
            if comments:
                stored = self._comments(con, table)
                for column, text in comments.items():
                    if column in existing and stored.get(column) != text:
                        self._set_comment(con, table, column, text)
            columns = [c for c in existing if c not in ("track_id", "materialized_at")]
            self.insert_rows(
                con,
                table,
                [
                    [track_id, now, *(_sql_value(values.get(c), existing[c]) for c in columns)]
                    for track_id, values in rows.items()
                ],
                key=("track_id",),
                names=["track_id", "materialized_at", *columns],
                types=["VARCHAR", "TIMESTAMP", *(existing[c] for c in columns)],
            )
            con.commit()
        return len(rows)

    def read(self, table: str, track_ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """Rows of `table` as {track id: {column: value}} (JSON columns decoded)."""
        with self.connect(read_only=True) as con:
            columns = self.columns(con, table)
            if not columns:
                return {}
            sql = f"SELECT * FROM {_ident(table)}"
            params: list = []
            if track_ids is not None:
                sql += " WHERE " + self.in_list("track_id")
                params = [list(track_ids)]
            records = _records(con.execute(sql, params), columns)
            return {record.pop("track_id"): record for record in records}

    # -- track registry --------------------------------------------------------

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
        now = _now()
        from mir.tracks import unique_track_id

        new_tracks: list[list] = []
        sources: list[list] = []
        with self.connect(lock=REGISTRY_LOCK) as con:
            self._ensure_registry(con)
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
                    new_tracks.append([track_id, self.stored_path(path), sha, st.st_size, now])
                sources.append(
                    [self.stored_path(path), track_id, sha, st.st_size, st.st_mtime_ns, now]
                )
                out.append((track_id, path, is_new))
            self.insert_rows(con, TRACKS_TABLE, new_tracks)
            self.insert_rows(con, SOURCES_TABLE, sources, key=("source_path",))
            if sources:  # a file that decodes now is no longer rejected
                con.execute(
                    f"DELETE FROM {REJECTED_TABLE} WHERE " + self.in_list("source_path"),
                    [[row[0] for row in sources]],
                )
        return out

    def reject(self, files: list[tuple[Path, str]]) -> None:
        """Record inbox files that do not decode, with the reason (replacing an older record)."""
        now = _now()
        rows = []
        for path, reason in files:
            try:
                st = path.stat()
                size, mtime = st.st_size, st.st_mtime_ns
            except OSError:
                size, mtime = -1, -1
            rows.append([self.stored_path(path), size, mtime, reason, now])
        with self.connect(lock=REGISTRY_LOCK) as con:
            self._ensure_registry(con)
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

    def known_sources(self) -> dict[str, tuple[int, int]]:
        """Every file path seen so far, registered or rejected: {path: (size, mtime_ns)}."""
        return {p: (s, m) for p, (s, m, _) in self.sources().items()}

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

    # -- rows keyed by track and crop ----------------------------------------------

    def replace_crop_rows(self, table: str, track_id: str, rows: list[dict[str, Any]]) -> int:
        """Replace every row of `track_id` in a (track_id, crop_index)-keyed table, in one
        transaction. Columns are added for new keys as in :meth:`upsert`."""
        with self.connect(lock=table) as con:
            con.begin()
            self.create_table(
                con,
                table,
                [
                    ("track_id", "VARCHAR"),
                    ("crop_index", "INTEGER"),
                    ("materialized_at", "TIMESTAMP"),
                ],
                ("track_id", "crop_index"),
            )
            existing = self._add_columns(con, table, rows)
            con.execute(f"DELETE FROM {_ident(table)} WHERE track_id = ?", [track_id])
            columns = [
                c for c in existing if c not in ("track_id", "crop_index", "materialized_at")
            ]
            now = _now()
            self.insert_rows(
                con,
                table,
                [
                    [
                        track_id,
                        r["crop_index"],
                        now,
                        *(_sql_value(r.get(c), existing[c]) for c in columns),
                    ]
                    for r in rows
                ],
                names=["track_id", "crop_index", "materialized_at", *columns],
                types=["VARCHAR", "INTEGER", "TIMESTAMP", *(existing[c] for c in columns)],
            )
            con.commit()
        return len(rows)

    def read_crop_rows(self, table: str, track_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Rows of a (track_id, crop_index) table, grouped by track, in crop order."""
        with self.connect(read_only=True) as con:
            columns = self.columns(con, table)
            if not columns:
                return {}
            cur = con.execute(
                f"SELECT * FROM {_ident(table)} WHERE {self.in_list('track_id')} "
                "ORDER BY track_id, crop_index",
                [list(track_ids)],
            )
            out: dict[str, list[dict[str, Any]]] = {}
            for record in _records(cur, columns):
                out.setdefault(record["track_id"], []).append(record)
            return out

    # -- arrays (the time series) -----------------------------------------------

    def _create_arrays_table(self, con) -> None:
        self.create_table(con, ARRAYS_TABLE, list(_ARRAY_COLUMNS.items()), _ARRAY_KEY)

    def write_arrays(self, track_id: str, crop_index: int, arrays: dict[str, np.ndarray]) -> None:
        """Store named float32 arrays for a track (`crop_index` -1) or one of its crops;
        fields of the same name are replaced, others kept."""
        with self.connect(lock=ARRAYS_TABLE) as con:
            self._create_arrays_table(con)
            self.insert_rows(
                con,
                ARRAYS_TABLE,
                _array_rows(track_id, crop_index, arrays),
                key=_ARRAY_KEY,
                names=list(_ARRAY_COLUMNS),
                types=list(_ARRAY_COLUMNS.values()),
            )

    def replace_crop_arrays(
        self, track_id: str, arrays_by_crop: dict[int, dict[str, np.ndarray]]
    ) -> None:
        """Replace every crop array of a track (crop index >= 0) by these, in one transaction
        (the whole-track arrays, crop index -1, are kept)."""
        rows = [r for i, arrays in arrays_by_crop.items() for r in _array_rows(track_id, i, arrays)]
        with self.connect(lock=ARRAYS_TABLE) as con:
            self._create_arrays_table(con)
            con.begin()
            con.execute(
                f"DELETE FROM {ARRAYS_TABLE} WHERE track_id = ? AND crop_index >= 0", [track_id]
            )
            self.insert_rows(
                con,
                ARRAYS_TABLE,
                rows,
                names=list(_ARRAY_COLUMNS),
                types=list(_ARRAY_COLUMNS.values()),
            )
            con.commit()

    def read_arrays(self, track_id: str, crop_index: int = -1) -> dict[str, np.ndarray]:
        """The arrays stored by :meth:`write_arrays` ({} when there are none)."""
        with self.connect(read_only=True) as con:
            if not self.columns(con, ARRAYS_TABLE):
                return {}
            rows = con.execute(
                f"SELECT field, shape, data FROM {ARRAYS_TABLE} WHERE track_id = ? AND crop_index = ?",
                [track_id, crop_index],
            ).fetchall()
        return {
            field: np.frombuffer(bytes(data), dtype="<f4").reshape(shape)
            for field, shape, data in rows
        }

    # -- labels -------------------------------------------------------------------

    def replace_labels(self, track_id: str, probabilities: dict[str, dict[str, float]]) -> int:
        """Every label probability of a track as rows (track_id, category, label, probability),
        so that "tracks whose genre X is above 0.5" is one WHERE clause."""
        rows = [
            [track_id, category, label, float(p)]
            for category, labels in probabilities.items()
            for label, p in labels.items()
        ]
        with self.connect(lock=LABELS_TABLE) as con:
            con.begin()
            self.create_table(
                con,
                LABELS_TABLE,
                [("track_id", "VARCHAR"), ("category", "VARCHAR"), ("label", "VARCHAR"),
                 ("probability", "DOUBLE")],
                ("track_id", "category", "label"),
            )  # fmt: skip
            con.execute(f"DELETE FROM {LABELS_TABLE} WHERE track_id = ?", [track_id])
            self.insert_rows(
                con, LABELS_TABLE, rows, types=["VARCHAR", "VARCHAR", "VARCHAR", "DOUBLE"]
            )
            con.commit()
        return len(rows)

    # -- DuckDB copies, for SQL that only DuckDB speaks --------------------------------

    def copy_into(
        self, target: duckdb.DuckDBPyConnection, tables: list[str] | None = None
    ) -> list[str]:
        """Copy tables of this store (all by default; those that exist) into the DuckDB
        connection `target`, with their column types and comments; returns the names copied."""
        copied = []
        wanted = self.tables() if tables is None else tables
        with self.connect(read_only=True) as con:
            for table in wanted:
                columns = self.columns(con, table)
                if not columns:
                    continue
                comments = self._comments(con, table)
                names = list(columns)
                cur = con.execute(
                    f"SELECT {', '.join(_ident(c) for c in names)} FROM {_ident(table)}"
                )
                rows = [list(_portable(v) for v in row) for row in cur.fetchall()]
                defs = ", ".join(f"{_ident(c)} {t}" for c, t in columns.items())
                target.execute(f"CREATE OR REPLACE TABLE {_ident(table)} ({defs})")
                _duckdb_insert(target, table, rows, names=names, types=list(columns.values()))
                for column, text in comments.items():
                    if text:
                        target.execute(
                            f"COMMENT ON COLUMN {_ident(table)}.{_ident(column)} IS {_quote(text)}"
                        )
                copied.append(table)
        return copied

    @contextmanager
    def analytics(self, tables: list[str]) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection in which `tables` can be queried with DuckDB's SQL (the
        statistics' UNPIVOT and quantiles): the store's own file here; a copy of those
        tables in memory for another backend."""
        with self.connect() as con:
            yield con

    def snapshot(self, target: str | os.PathLike) -> list[str]:
        """Write every table to a new DuckDB file `target` (replaced whole when the copy
        is complete), for the README's queries and any tool that reads DuckDB."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        con = duckdb.connect(str(partial))
        try:
            copied = self.copy_into(con)
        finally:
            con.close()
        os.replace(partial, target)
        return copied


ARRAYS_TABLE = "timeseries"
_ARRAY_COLUMNS = {
    "track_id": "VARCHAR",
    "crop_index": "INTEGER",
    "field": "VARCHAR",
    "shape": "INTEGER[]",
    "data": "BLOB",
}
_ARRAY_KEY = ("track_id", "crop_index", "field")
LABELS_TABLE = "labels"


def _array_rows(track_id: str, crop_index: int, arrays: dict[str, np.ndarray]) -> list[list]:
    return [
        [track_id, crop_index, field, list(a.shape), np.ascontiguousarray(a, dtype="<f4").tobytes()]
        for field, a in arrays.items()
    ]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _absolute(path: str | os.PathLike | None) -> Path | None:
    # absolute without resolving links: a mount reached through a symlink keeps its name
    return None if path is None else Path(os.path.abspath(os.path.expanduser(path)))


def _portable(value: Any) -> Any:
    # a driver's buffer type (psycopg2's memoryview for BYTEA) as bytes
    return bytes(value) if isinstance(value, memoryview) else value


def _duckdb_insert(
    con,
    table: str,
    rows: list[list],
    *,
    replace: bool = False,
    names: list[str] | None = None,
    types: list[str] | None = None,
) -> None:
    """DuckDB: insert many rows in one statement, each column passed as one list and
    the lists unnested together (cast to `types`, when given)."""
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    casts = [f"::{t}[]" for t in types] if types else [""] * len(columns)
    select = ", ".join(f"unnest(${i + 1}{cast})" for i, cast in enumerate(casts))
    into = _ident(table) + (f" ({', '.join(_ident(n) for n in names)})" if names else "")
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    con.execute(f"{verb} INTO {into} SELECT {select}", [list(c) for c in columns])


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def open_tables(config: MasterConfig) -> FeatureTables:
    """The feature store `config` names: `feature_store.backend` (DuckDB at `paths.duckdb`,
    or PostgreSQL at `feature_store.postgres_url`), its registry's paths relative to
    `paths.inbox`."""
    store = config.feature_store
    if store.backend == "postgres":
        from resources.postgres_tables import PostgresTables

        return PostgresTables(store.postgres_url, inbox=config.paths.inbox)
    return FeatureTables(config.paths.duckdb, inbox=config.paths.inbox)


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
