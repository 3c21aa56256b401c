"""Rows beyond one per track: the crops (`crops`, keyed by track and crop index) and the
time series (`timeseries`: named float32 arrays of a track, crop index -1, or of one of
its crops), in the feature store's SQL."""

from __future__ import annotations

from typing import Any

import numpy as np

from store.sql import ident, now, records, sql_value

ARRAYS_TABLE = "timeseries"
_ARRAY_COLUMNS = {
    "track_id": "VARCHAR",
    "crop_index": "INTEGER",
    "field": "VARCHAR",
    "shape": "INTEGER[]",
    "data": "BLOB",
}
_ARRAY_KEY = ("track_id", "crop_index", "field")


class CropTables:
    """The crops' and time series' part of a feature store
    (:class:`store.tables.FeatureTables`)."""

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
            con.execute(f"DELETE FROM {ident(table)} WHERE track_id = ?", [track_id])
            columns = [
                c for c in existing if c not in ("track_id", "crop_index", "materialized_at")
            ]
            stamp = now()
            self.insert_rows(
                con,
                table,
                [
                    [
                        track_id,
                        r["crop_index"],
                        stamp,
                        *(sql_value(r.get(c), existing[c]) for c in columns),
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
                f"SELECT * FROM {ident(table)} WHERE {self.in_list('track_id')} "
                "ORDER BY track_id, crop_index",
                [list(track_ids)],
            )
            out: dict[str, list[dict[str, Any]]] = {}
            for record in records(cur, columns):
                out.setdefault(record["track_id"], []).append(record)
            return out

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


def _array_rows(track_id: str, crop_index: int, arrays: dict[str, np.ndarray]) -> list[list]:
    return [
        [track_id, crop_index, field, list(a.shape), np.ascontiguousarray(a, dtype="<f4").tobytes()]
        for field, a in arrays.items()
    ]
