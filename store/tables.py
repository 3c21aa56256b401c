"""The feature store's tables, whatever the database: :class:`FeatureTables`, whose
backends are :class:`store.duckdb.DuckDBTables` (the embedded default) and
:class:`store.postgres.PostgresTables` (for many machines writing at once).

One table per feature asset, keyed by `track_id`, one row per track; columns are added
as a feature gains keys. Beside them, each in its module: the track registry
(:mod:`store.registry`), the crops' rows and the time series (:mod:`store.crops`), the
label probabilities (:mod:`store.labels`). Every statement is written once, here and in
those modules, in the SQL both databases speak (`?` parameters, `INSERT ... ON
CONFLICT`); a backend supplies only its connection and its lock, its type names, its
catalog queries, its bulk insert and its batched reads.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar

import duckdb

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


class FeatureTables(RegistryTables, CropTables, LabelTables, ABC):
    """The feature store's tables: what every backend does the same way, through the
    primitives each backend supplies.

    Parameters
    ----------
    inbox : path-like, optional
        This machine's inbox: the registry stores the paths of files under it relative to
        it, and gives them back under it, so machines that mount one inbox at different
        places agree on every file (:meth:`stored_path`, :meth:`source_file`).
    lock_timeout_s : float
        How long a writer waits for the lock before giving up.
    """

    #: the name `feature_store.backend` gives the backend
    backend: ClassVar[str]

    def __init__(
        self, *, inbox: str | os.PathLike | None = None, lock_timeout_s: float = 600.0
    ) -> None:
        self.inbox = absolute(inbox)
        self.lock_timeout_s = lock_timeout_s

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"

    # -- what differs between backends ------------------------------------------

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the tables live, for logs and the UI (no password)."""

    @abstractmethod
    def connect(self, *, read_only: bool = False, lock: str = "") -> AbstractContextManager[Any]:
        """A connection (with the calls of a DuckDB connection the shared SQL makes:
        `execute` with `?` parameters, `begin`, `commit`) held under the store's lock,
        closed on exit.

        A writer names what it writes in `lock` (a table, or
        :data:`store.registry.REGISTRY_LOCK`): writers of one name queue one after
        another, so no column is added twice and no row is lost.
        """

    @abstractmethod
    def ddl_type(self, type_name: str) -> str:
        """The backend's name for one of the types :func:`store.sql.sql_type` gives."""

    @abstractmethod
    def in_list(self, column: str) -> str:
        """A condition: `column` is one of the values of a list parameter `?`."""

    @abstractmethod
    def columns(self, con, table: str) -> dict[str, str]:
        """The columns of `table` and their types (as :func:`store.sql.sql_type` names
        them), in table order; {} when there is no such table."""

    @abstractmethod
    def _comments(self, con, table: str) -> dict[str, str | None]:
        """The comment of each column of `table` (None for a column without one)."""

    @abstractmethod
    def _set_comment(self, con, table: str, column: str, text: str) -> None:
        """Set the comment of one column."""

    @abstractmethod
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
        SQL types, as :func:`store.sql.sql_type` names them.
        """

    @abstractmethod
    def tables(self) -> list[str]:
        """Every table of the store."""

    @abstractmethod
    def _batches(self, con, sql: str, size: int = 10_000) -> Iterator[list]:
        """The rows of a query, `size` at a time."""

    @abstractmethod
    def analytics(self, tables: list[str]) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A DuckDB connection in which `tables` can be queried with DuckDB's SQL (the
        statistics' UNPIVOT and quantiles)."""

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

    def snapshot(self, target: str | os.PathLike) -> list[str]:
        """Write every table to a new DuckDB file `target` (replaced whole when the copy
        is complete), for the documentation's queries and any tool that reads DuckDB."""
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
