"""The label probabilities of the classifiers, one row per (track, category, label), so
that "tracks whose genre X is above 0.5" is one WHERE clause."""

from __future__ import annotations

LABELS_TABLE = "labels"


class LabelTables:
    """The labels' part of a feature store (:class:`store.tables.FeatureTables`)."""

    def replace_labels(self, track_id: str, probabilities: dict[str, dict[str, float]]) -> int:
        """Replace a track's label probabilities by `probabilities`
        ({category: {label: probability}}), in one transaction."""
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
