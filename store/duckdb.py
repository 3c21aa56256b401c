"""The feature store's tables, in DuckDB (the embedded default) or PostgreSQL
(:mod:`store.postgres`, for many machines writing at once).

One table per feature asset, keyed by `track_id`, one row per track; columns are added
as a feature gains keys. Beside them, each in its module: the track registry
(:mod:`store.registry`), the crops' rows and the time series
(:mod:`store.crops`), the label probabilities (:mod:`store.labels`). Every
statement is written once, in the SQL both databases speak (`?` parameters,
`INSERT ... ON CONFLICT`); a backend supplies only its connection, its lock, its type
names and its catalog queries (here DuckDB's).

DuckDB admits one writing process at a time, so every access takes a cross-process file
lock first and holds a connection only for its statement: concurrent runs queue on the
lock instead of failing, and no row is lost. PostgreSQL takes a lock per table instead.

This module imports no Dagster: the IO manager, the sensor and the CLI share it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from filelock import FileLock

from store.crops import CropTables
from store.labels import LabelTables
from store.registry import RegistryTables
from store.sql import (
    absolute,
    duckdb_insert,
    ident,
    now,
    portable,
    quote,
    records,
    sql_type,
    sql_value,
)

if TYPE_CHECKING:
    from mir.config import MasterConfig


class FeatureTables(RegistryTables, CropTables, LabelTables):
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
        self.inbox = absolute(inbox)
        self.lock_timeout_s = lock_timeout_s

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

    def ddl_type(self, type_name: str) -> str:
        """The backend's name for one of the types :func:`store.sql.sql_type` gives."""
        return type_name

    def in_list(self, column: str) -> str:
        """A condition: `column` is one of the values of a list parameter `?`."""
        return f"{column} IN (SELECT unnest(?))"

    def columns(self, con, table: str) -> dict[str, str]:
        """The columns of `table` and their types (as :func:`sql_type` names them), in
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
        con.execute(f"COMMENT ON COLUMN {ident(table)}.{ident(column)} IS {quote(text)}")

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
            duckdb_insert(con, table, rows, replace=key is not None, names=names, types=types)

    def tables(self) -> list[str]:
        """Every table of the store."""
        with self.connect(read_only=True) as con:
            return [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]

    # -- shared SQL ---------------------------------------------------------------

    def create_table(
        self, con, table: str, columns: list[tuple[str, str]], key: tuple[str, ...]
    ) -> None:
        """CREATE TABLE IF NOT EXISTS, the types named as :func:`sql_type` names them."""
        defs = ", ".join(f"{ident(name)} {self.ddl_type(t)}" for name, t in columns)
        primary = ", ".join(ident(k) for k in key)
        con.execute(f"CREATE TABLE IF NOT EXISTS {ident(table)} ({defs}, PRIMARY KEY ({primary}))")

    def _add_columns(self, con, table: str, rows) -> dict[str, str]:
        """Add a column for every new key of `rows`, dicts of values (widening BIGINT to
        DOUBLE when a float arrives); returns the table's columns and their types."""
        existing = self.columns(con, table)
        wanted: dict[str, str] = {}
        for values in rows:
            for key, value in values.items():
                if value is None or key in wanted:
                    continue
                wanted[key] = sql_type(value)
        folded = {column.lower(): column for column in existing}
        for key, wanted_type in wanted.items():
            have = existing.get(key)
            if have is None and key.lower() in folded:
                raise ValueError(
                    f"table {table}: key {key!r} differs from column {folded[key.lower()]!r} "
                    "only in case (DuckDB's names ignore case): rename one"
                )
            if have is None:
                con.execute(
                    f"ALTER TABLE {ident(table)} ADD COLUMN {ident(key)} {self.ddl_type(wanted_type)}"
                )
                existing[key] = wanted_type
            elif have == "BIGINT" and wanted_type == "DOUBLE":
                con.execute(
                    f"ALTER TABLE {ident(table)} ALTER {ident(key)} TYPE {self.ddl_type('DOUBLE')}"
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
        stamp = now()
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
                    [track_id, stamp, *(sql_value(values.get(c), existing[c]) for c in columns)]
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
            sql = f"SELECT * FROM {ident(table)}"
            params: list = []
            if track_ids is not None:
                sql += " WHERE " + self.in_list("track_id")
                params = [list(track_ids)]
            found = records(con.execute(sql, params), columns)
            return {record.pop("track_id"): record for record in found}

    # -- DuckDB copies, for SQL that only DuckDB speaks --------------------------------

    def copy_into(
        self, target: duckdb.DuckDBPyConnection, tables: list[str] | None = None
    ) -> list[str]:
        """Copy tables of this store (all by default; those that exist) into the DuckDB
        connection `target`, with their column types and comments (not their keys);
        returns the names copied. Each table is read in its own transaction, in batches,
        so no lock is held past its table and no table is held in memory whole."""
        copied = []
        wanted = self.tables() if tables is None else tables
        for table in wanted:
            with self.connect(read_only=True) as con:
                columns = self.columns(con, table)
                if not columns:
                    continue
                comments = self._comments(con, table)
                names, types = list(columns), list(columns.values())
                defs = ", ".join(f"{ident(c)} {t}" for c, t in columns.items())
                target.execute(f"CREATE OR REPLACE TABLE {ident(table)} ({defs})")
                sql = f"SELECT {', '.join(ident(c) for c in names)} FROM {ident(table)}"
                for rows in self._batches(con, sql):
                    rows = [[portable(v) for v in row] for row in rows]
                    duckdb_insert(target, table, rows, names=names, types=types)
                for column, text in comments.items():
                    if text:
                        target.execute(
                            f"COMMENT ON COLUMN {ident(table)}.{ident(column)} IS {quote(text)}"
                        )
            copied.append(table)
        return copied

    def _batches(self, con, sql: str, size: int = 10_000) -> Iterator[list]:
        """The rows of a query, `size` at a time."""
        cur = con.execute(sql)
        while rows := cur.fetchmany(size):
            yield rows

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


def open_tables(config: MasterConfig) -> FeatureTables:
    """The feature store `config` names: `feature_store.backend` (DuckDB at `paths.duckdb`,
    or PostgreSQL at `feature_store.postgres_url`), its registry's paths relative to
    `paths.inbox`."""
    store = config.feature_store
    if store.backend == "postgres":
        from store.postgres import PostgresTables

        return PostgresTables(store.postgres_url, inbox=config.paths.inbox)
    return FeatureTables(config.paths.duckdb, inbox=config.paths.inbox)
