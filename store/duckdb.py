"""The feature store in a DuckDB file, the embedded default: :class:`DuckDBTables`.

DuckDB admits one writing process at a time, so every access takes a cross-process file
lock first and holds the file only for its statement: concurrent runs queue on the lock
instead of failing, and no row is lost. The file is attached to one in-memory DuckDB
instance per process and detached again after each access (which writes its changes
into the file and releases DuckDB's own lock): about 2 ms an access, where opening a
DuckDB instance for each costs about 11 ms of CPU (a track's run makes about 90).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from filelock import FileLock

from store.sql import duckdb_insert, ident, quote
from store.tables import FeatureTables

_instance_lock = threading.Lock()
_instance: tuple[int, duckdb.DuckDBPyConnection] | None = None
_aliases = itertools.count()


def _process_instance() -> duckdb.DuckDBPyConnection:
    """This process's in-memory DuckDB instance the store's file is attached to (a new one
    in a forked child: an instance is not shared across processes)."""
    global _instance
    with _instance_lock:
        if _instance is None or _instance[0] != os.getpid():
            _instance = (os.getpid(), duckdb.connect(":memory:"))
        return _instance[1]


class DuckDBTables(FeatureTables):
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

    backend = "duckdb"

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        inbox: str | os.PathLike | None = None,
        lock_timeout_s: float = 600.0,
    ):
        super().__init__(inbox=inbox, lock_timeout_s=lock_timeout_s)
        self.path = Path(path)

    @property
    def location(self) -> str:
        return str(self.path)

    @contextmanager
    def connect(self, *, read_only: bool = False, lock: str = "") -> Iterator[Any]:
        """A connection held under the file's lock, closed on exit.

        A DuckDB file admits one writer at a time whatever it writes, so every access
        takes the file's one lock, whatever `lock` names. The connection is a cursor of
        this process's DuckDB instance with the file attached (read-only when asked) as
        its default database; on exit the file is detached, its changes written.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock", timeout=self.lock_timeout_s):
            con = _process_instance().cursor()
            try:
                if read_only and not self.path.exists():
                    yield con
                    return
                alias = f"mir_store_{next(_aliases)}"
                mode = " (READ_ONLY)" if read_only else ""
                con.execute(f"ATTACH {quote(str(self.path))} AS {alias}{mode}")
                try:
                    con.execute(f"USE {alias}")
                    yield con
                finally:
                    # what the caller left open is not kept (as closing a connection
                    # would not): a statement that failed inside a transaction leaves it
                    # aborted, and the file could not be detached from it
                    try:
                        con.rollback()
                    except duckdb.TransactionException:
                        pass  # no transaction open
                    con.execute("USE memory")
                    con.execute(f"DETACH {alias}")
            finally:
                con.close()

    def ddl_type(self, type_name: str) -> str:
        return type_name

    def in_list(self, column: str) -> str:
        return f"{column} IN (SELECT unnest(?))"

    def columns(self, con, table: str) -> dict[str, str]:
        rows = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
            "AND database_name = current_database() ORDER BY column_index",
            [table],
        ).fetchall()
        return {name: dtype for name, dtype in rows}

    def _comments(self, con, table: str) -> dict[str, str | None]:
        return dict(
            con.execute(
                "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ? "
                "AND database_name = current_database()",
                [table],
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
        # each column passed as one list, unnested, cast to its type as a row-by-row
        # insert would cast each value
        if rows:
            duckdb_insert(con, table, rows, replace=key is not None, names=names, types=types)

    def tables(self) -> list[str]:
        with self.connect(read_only=True) as con:
            return [
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
                ).fetchall()
            ]

    def _batches(self, con, sql: str, size: int = 10_000) -> Iterator[list]:
        cur = con.execute(sql)
        while rows := cur.fetchmany(size):
            yield rows

    @contextmanager
    def analytics(self, tables: list[str]) -> Iterator[duckdb.DuckDBPyConnection]:
        """The store's own file: DuckDB's SQL runs on it as it is."""
        with self.connect() as con:
            yield con
