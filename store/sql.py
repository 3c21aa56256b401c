"""The SQL both feature-store backends speak: identifiers, the type of a value, values
as a column stores them, rows back as dicts, DuckDB's bulk insert. No Dagster, no
connection: the shared tables (:mod:`store.tables`) and both backends (:mod:`store.duckdb`,
:mod:`store.postgres`) use it."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


#: PostgreSQL's identifier limit (it would cut a longer name short, silently)
MAX_IDENT_BYTES = 63


def ident(name: str) -> str:
    """`name` quoted as a table or column name: letters, digits and `_`, at most
    :data:`MAX_IDENT_BYTES` long, the same rule on both backends."""
    if not _IDENT.match(name) or len(name) > MAX_IDENT_BYTES:
        raise ValueError(
            f"not a valid table or column name: {name!r} (letters, digits and _, "
            f"at most {MAX_IDENT_BYTES} characters)"
        )
    return f'"{name}"'


def sql_type(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "BOOLEAN"
    if isinstance(value, int | np.integer):
        return "BIGINT"
    if isinstance(value, float | np.floating):
        return "DOUBLE"
    if isinstance(value, Mapping | list | tuple | np.ndarray):
        return "JSON"
    return "VARCHAR"


def sql_value(value: Any, column_type: str) -> Any:
    """`value` as a column of `column_type` (:func:`sql_type`'s names) stores it, the same
    on both backends: a non-finite float is NULL (JSON's null inside a JSON value, which
    has no NaN), and a NUL character is dropped from text (PostgreSQL's text holds none)."""
    if value is None:  # SQL NULL, not JSON's null: a missing key reads back missing
        return None
    if column_type == "JSON":
        return json.dumps(_json_safe(value), ensure_ascii=False, allow_nan=False)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str):
        return value.replace("\x00", "")
    return value


def _json_safe(value: Any) -> Any:
    """`value` with numpy types as Python's, non-finite floats as None and NUL characters
    dropped from strings (keys included), at any depth."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, Mapping):
        return {_json_safe(str(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def records(cur, columns: dict[str, str]) -> list[dict[str, Any]]:
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


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def absolute(path: str | os.PathLike | None) -> Path | None:
    # absolute without resolving links: a mount reached through a symlink keeps its name
    return None if path is None else Path(os.path.abspath(os.path.expanduser(path)))


def portable(value: Any) -> Any:
    # a driver's buffer type (psycopg2's memoryview for BYTEA) as bytes
    return bytes(value) if isinstance(value, memoryview) else value


def duckdb_insert(
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
    into = ident(table) + (f" ({', '.join(ident(n) for n in names)})" if names else "")
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    con.execute(f"{verb} INTO {into} SELECT {select}", [list(c) for c in columns])


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
