"""The feature store in PostgreSQL: :class:`PostgresTables`, the same tables, upserts and
column additions as the DuckDB file (the shared SQL of :class:`store.tables.FeatureTables`
runs on both), for a library that several machines process at once.

Each write is one transaction that first takes a transaction-level advisory lock named
after what it writes (the table, or the registry): writers of one table queue there, as
DuckDB's writers queue on its file lock, so no column is added twice and no row is lost,
while writers of different tables go on side by side. A reader takes no lock.

Choose it in the configuration (`feature_store.backend: postgres` and
`feature_store.postgres_url`, or `$MIR_FEATURE_STORE` and `$MIR_FEATURE_STORE_URL`). SQL
that only DuckDB speaks (the statistics, the documentation's queries) runs on a DuckDB copy:
:meth:`PostgresTables.analytics` in memory, `mir snapshot FILE` on disk.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import duckdb
import psycopg2
import psycopg2.extensions
import psycopg2.extras

from store.sql import ident
from store.tables import FeatureTables

#: DuckDB's type names (as the shared SQL writes them) in PostgreSQL
_TO_PG = {"DOUBLE": "DOUBLE PRECISION", "JSON": "JSONB", "BLOB": "BYTEA", "VARCHAR": "TEXT"}
#: PostgreSQL's catalog names back to DuckDB's
_FROM_PG = {
    "double precision": "DOUBLE",
    "real": "DOUBLE",
    "jsonb": "JSON",
    "json": "JSON",
    "bytea": "BLOB",
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "INTEGER",
    "boolean": "BOOLEAN",
    "timestamp without time zone": "TIMESTAMP",
}
_ARRAYS = {"_int4": "INTEGER[]", "_int8": "BIGINT[]", "_float8": "DOUBLE[]", "_text": "VARCHAR[]"}


def _pyformat(sql: str) -> str:
    """`?` parameters as psycopg2's `%s` (a `?` inside a quoted literal or identifier
    stays), and every other `%` doubled."""
    out, quote = [], ""
    for char in sql:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append("%%" if char == "%" else char)
    return "".join(out)


class _Session:
    """A psycopg2 connection with the calls the shared SQL makes of a DuckDB connection:
    `execute` (`?` parameters) returning a cursor, `executemany`, `begin`, `commit`."""

    def __init__(self, conn):
        self.conn = conn
        self.cursor = conn.cursor()

    def execute(self, sql: str, params: list | tuple = ()):
        self.cursor.execute(_pyformat(sql), list(params))
        return self.cursor

    def executemany(self, sql: str, rows: list) -> None:
        psycopg2.extras.execute_batch(self.cursor, _pyformat(sql), rows, page_size=500)

    def begin(self) -> None:
        """psycopg2 opens a transaction with the first statement."""

    def commit(self) -> None:
        self.conn.commit()


class PostgresTables(FeatureTables):
    """The feature store's tables in a PostgreSQL database.

    Parameters
    ----------
    url : str
        A libpq connection URL or keyword string (`postgresql://user@host:5432/mir`); the
        password may come from libpq's environment ($PGPASSWORD) or `~/.pgpass`.
    inbox : path-like, optional
        As for :class:`FeatureTables`: the registry's paths are relative to it.
    lock_timeout_s : float
        How long a writer waits for another writer of the same table.
    """

    backend = "postgres"

    def __init__(
        self, url: str, *, inbox: str | os.PathLike | None = None, lock_timeout_s: float = 600.0
    ):
        super().__init__(inbox=inbox, lock_timeout_s=lock_timeout_s)
        self.url = url

    @property
    def location(self) -> str:
        """The URL without its password (in a URL's user part, its query or a keyword
        string alike), for logs and the UI."""
        try:
            params = psycopg2.extensions.parse_dsn(self.url)
        except psycopg2.ProgrammingError:
            return "(an invalid PostgreSQL URL)"
        if "password" not in params:
            return self.url
        parts = urlsplit(self.url)
        if parts.scheme and parts.password is not None and "password" not in parts.query:
            netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
        return psycopg2.extensions.make_dsn(**{**params, "password": "***"})

    @contextmanager
    def connect(self, *, read_only: bool = False, lock: str = "") -> Iterator[_Session]:
        """A session in one transaction, committed on a clean exit and rolled back on an
        error; a writer first takes the advisory lock named `lock`."""
        conn = psycopg2.connect(self.url)
        try:
            # JSONB as its text: the shared code decodes JSON columns itself
            psycopg2.extras.register_default_jsonb(conn, loads=lambda text: text)
            psycopg2.extras.register_default_json(conn, loads=lambda text: text)
            session = _Session(conn)
            if read_only:
                conn.set_session(readonly=True)
            else:
                session.execute(f"SET LOCAL lock_timeout = '{int(self.lock_timeout_s * 1000)}ms'")
                session.execute("SELECT pg_advisory_xact_lock(hashtext(?))", ["mir:" + lock])
            yield session
            conn.commit()
        except BaseException:
            # a connection that broke cannot roll back: the error that broke it is the news
            with contextlib.suppress(psycopg2.Error):
                conn.rollback()
            raise
        finally:
            conn.close()

    def ddl_type(self, type_name: str) -> str:
        return _TO_PG.get(type_name, type_name)

    def in_list(self, column: str) -> str:
        return f"{column} = ANY(?)"

    def columns(self, con, table: str) -> dict[str, str]:
        rows = con.execute(
            "SELECT column_name, data_type, udt_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return {
            name: _ARRAYS.get(udt, "VARCHAR") if dtype == "ARRAY" else _FROM_PG.get(dtype, dtype)
            for name, dtype, udt in rows
        }

    def _comments(self, con, table: str) -> dict[str, str | None]:
        return dict(
            con.execute(
                "SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a "
                "WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped",
                [ident(table)],
            ).fetchall()
        )

    def _set_comment(self, con, table: str, column: str, text: str) -> None:
        # psycopg2 quotes the literal (COMMENT ON takes no server-side parameter)
        con.cursor.execute(f"COMMENT ON COLUMN {ident(table)}.{ident(column)} IS %s", [text])

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
        if not rows:
            return
        names = names or list(self.columns(con, table))
        sql = f"INSERT INTO {ident(table)} ({', '.join(ident(n) for n in names)}) VALUES %s"
        if key:
            update = [n for n in names if n not in key]
            sql += f" ON CONFLICT ({', '.join(ident(k) for k in key)}) " + (
                "DO UPDATE SET " + ", ".join(f"{ident(n)} = EXCLUDED.{ident(n)}" for n in update)
                if update
                else "DO NOTHING"
            )
        psycopg2.extras.execute_values(con.cursor, sql, rows, page_size=1000)

    def _batches(self, con, sql: str, size: int = 10_000) -> Iterator[list]:
        # a server-side cursor: psycopg2's own would fetch the whole result first
        with con.conn.cursor(name="mir_batches") as cur:
            cur.itersize = size
            cur.execute(sql)
            while rows := cur.fetchmany(size):
                yield rows

    def tables(self) -> list[str]:
        with self.connect(read_only=True) as con:
            return [
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema() ORDER BY table_name"
                ).fetchall()
            ]

    @contextmanager
    def analytics(self, tables: list[str]) -> Iterator[duckdb.DuckDBPyConnection]:
        """A copy of `tables` in an in-memory DuckDB database."""
        con = duckdb.connect(":memory:")
        try:
            self.copy_into(con, tables)
            yield con
        finally:
            con.close()
