"""Library-wide statistics of every numeric feature, in DuckDB SQL.

Per feature: count, mean, std, min, max, quartiles and IQR outliers (1.5 x IQR); a
Pearson correlation for every pair, with pairs above 0.7 flagged; PNG plots (a histogram
grid and a correlation heatmap) and a Markdown report.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mir.feature_table import FEATURES

CORRELATION_FLAG = 0.7


def long_view_sql(con, tables: list[str]) -> str | None:
    """A UNION of UNPIVOTs: one (track_id, feature, value) row per numeric value."""
    parts = []
    for table in tables:
        cols = con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND data_type IN ('DOUBLE', 'BIGINT', 'INTEGER')",
            [table],
        ).fetchall()
        cols = [c for (c,) in cols if c in FEATURES]
        if cols:
            quoted = ", ".join(f'"{c}"' for c in cols)
            parts.append(
                f'SELECT track_id, feature, CAST(value AS DOUBLE) AS value FROM (UNPIVOT "{table}" '
                f"ON {quoted} INTO NAME feature VALUE value)"
            )
    return " UNION ALL ".join(parts) if parts else None


STATS_SQL = """
WITH s AS (
  SELECT feature, count(value) AS n, avg(value) AS mean, stddev_samp(value) AS std,
         min(value) AS min, quantile_cont(value, 0.25) AS q1, median(value) AS median,
         quantile_cont(value, 0.75) AS q3, max(value) AS max
  FROM long GROUP BY feature
)
SELECT s.*, (SELECT count(*) FROM long l WHERE l.feature = s.feature AND
        (l.value < s.q1 - 1.5 * (s.q3 - s.q1) OR l.value > s.q3 + 1.5 * (s.q3 - s.q1))) AS outliers
FROM s ORDER BY feature
"""

CORR_SQL = """
SELECT a.feature AS a, b.feature AS b, corr(a.value, b.value) AS r, count(*) AS n
FROM long a JOIN long b ON a.track_id = b.track_id AND a.feature < b.feature
GROUP BY a.feature, b.feature
HAVING count(*) >= 3 AND r IS NOT NULL AND NOT isnan(r)
"""


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return buf.getvalue()


def plot_histograms(con, features: list[str]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = features[:36]
    cols = 5  # 1080 px at 90 dpi: whole in the UI's Markdown dialog (1120 px wide)
    rows = max(1, -(-len(shown) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.4, rows * 1.8), squeeze=False)
    for ax, feature in zip(axes.ravel(), shown, strict=False):
        values = [
            v
            for (v,) in con.execute(
                "SELECT value FROM long WHERE feature = ? AND value IS NOT NULL", [feature]
            ).fetchall()
        ]
        ax.hist(values, bins=12, color="#4c72b0")
        ax.set_title(feature, fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in axes.ravel()[len(shown) :]:
        ax.axis("off")
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


def plot_heatmap(features: list[str], pairs: list[tuple[str, str, float]]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    index = {f: i for i, f in enumerate(features)}
    matrix = np.eye(len(features))
    for a, b, r in pairs:
        if a in index and b in index:
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = r
    size = max(6.0, len(features) * 0.12)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(features)), features, rotation=90, fontsize=4)
    ax.set_yticks(range(len(features)), features, fontsize=4)
    fig.colorbar(image, ax=ax, shrink=0.6)
    data = _png(fig)
    plt.close(fig)
    return data


@dataclass
class FeatureStatistics:
    """The statistics of the numeric features stored for the library's tracks.

    Attributes
    ----------
    tracks : int
        Tracks with at least one value.
    stats : list of tuple
        Per feature, by name: (feature, n, mean, std, min, q1, median, q3, max, outliers).
    pairs : list of (a, b, r)
        Pearson's r of every pair of features with at least three tracks in common.
    histograms_png, heatmap_png : bytes
        The histogram grid and the correlation heatmap.
    """

    tracks: int
    stats: list[tuple]
    pairs: list[tuple[str, str, float]]
    histograms_png: bytes
    heatmap_png: bytes

    @property
    def features(self) -> list[str]:
        return [row[0] for row in self.stats]

    @property
    def flagged(self) -> list[tuple[str, str, float]]:
        """The pairs with |r| above :data:`CORRELATION_FLAG`, strongest first."""
        return sorted(
            ((a, b, r) for a, b, r in self.pairs if abs(r) > CORRELATION_FLAG),
            key=lambda p: -abs(p[2]),
        )


def summarize(con, tables: list[str]) -> FeatureStatistics | None:
    """The statistics of the numeric keys of the feature table in `tables` (those of them
    that exist) of the DuckDB connection `con`; None when none holds a value."""
    existing = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    view = long_view_sql(con, [t for t in tables if t in existing])
    if view is None:
        return None
    con.execute(f"CREATE OR REPLACE TEMP VIEW long AS {view}")
    return _summarize_long(con)


def summarize_values(rows: Iterable[tuple[str, str, float]]) -> FeatureStatistics | None:
    """The same statistics and plots over `(item, feature, value)` rows (the items of a
    dataset or corpus rather than the library's tracks: `tracks` counts the items), in an
    in-memory DuckDB; values that are not finite numbers are left out. None without rows."""
    import duckdb

    ids, features, values = [], [], []
    for item, feature, value in rows:
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if math.isfinite(value):
            ids.append(str(item))
            features.append(str(feature))
            values.append(float(value))
    if not values:
        return None
    with duckdb.connect() as con:
        con.execute(
            "CREATE TEMP TABLE long AS SELECT unnest(?::VARCHAR[]) AS track_id, "
            "unnest(?::VARCHAR[]) AS feature, unnest(?::DOUBLE[]) AS value",
            [ids, features, values],
        )
        return _summarize_long(con)


def _summarize_long(con) -> FeatureStatistics:
    """The statistics of the `long` view or table (track_id, feature, value) of `con`."""
    stats = con.execute(STATS_SQL).fetchall()
    pairs = [(a, b, r) for a, b, r, _ in con.execute(CORR_SQL).fetchall()]
    features = [row[0] for row in stats]
    hist_png = plot_histograms(con, features)
    tracks = con.execute("SELECT count(DISTINCT track_id) FROM long").fetchone()[0]
    return FeatureStatistics(tracks, stats, pairs, hist_png, plot_heatmap(features, pairs))


def write_plots(statistics: FeatureStatistics, folder: Path, *, prefix: str) -> tuple[Path, Path]:
    """Write the plots as `<prefix>_histograms.png` and `<prefix>_correlations.png` in
    `folder`; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    histograms = folder / f"{prefix}_histograms.png"
    correlations = folder / f"{prefix}_correlations.png"
    histograms.write_bytes(statistics.histograms_png)
    correlations.write_bytes(statistics.heatmap_png)
    return histograms, correlations


def statistics_lines(statistics: FeatureStatistics, *, heading: str) -> list[str]:
    """The Markdown table of every feature's statistics, then the correlated pairs under a
    `heading` (`##`, `###`) of their own."""
    lines = [
        "| feature | n | mean | std | min | q1 | median | q3 | max | IQR outliers |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    fmt = lambda v: "" if v is None else f"{v:.4g}"  # noqa: E731
    for feature, n, mean, std, lo, q1, med, q3, hi, outliers in statistics.stats:
        lines.append(
            f"| {feature} | {n} | {fmt(mean)} | {fmt(std)} | {fmt(lo)} | {fmt(q1)} | {fmt(med)} | {fmt(q3)} | {fmt(hi)} | {outliers} |"
        )
    lines += [
        "",
        f"{heading} Correlated pairs (|r| > {CORRELATION_FLAG})",
        "",
        "| a | b | r |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {r:.3f} |" for a, b, r in statistics.flagged]
    return lines


def plotted_statistics_lines(
    statistics: FeatureStatistics, histograms: Path, correlations: Path, *, heading: str
) -> list[str]:
    """:func:`statistics_lines`, then the histogram grid and the correlation heatmap
    (written by :func:`write_plots` beside the Markdown) as images."""
    return [
        *statistics_lines(statistics, heading=heading),
        "",
        f"![histograms]({histograms.name})",
        "",
        f"![correlations]({correlations.name})",
        "",
    ]


def write_report(statistics: FeatureStatistics, reports: Path) -> Path:
    """Write `feature_histograms.png`, `feature_correlations.png` and the Markdown report
    `feature_statistics.md` (returned) to the folder `reports`."""
    reports = Path(reports)
    histograms, correlations = write_plots(statistics, reports, prefix="feature")
    features = statistics.features
    lines = [
        "# Feature statistics",
        "",
        f"{statistics.tracks} tracks, {len(features)} numeric features.",
        "",
        *plotted_statistics_lines(statistics, histograms, correlations, heading="##"),
    ]
    report = reports / "feature_statistics.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return report
