"""feature_statistics: library-wide statistics of every numeric feature, in DuckDB SQL
(:mod:`mir.statistics`).

Per feature: count, mean, std, min, max, quartiles and IQR outliers (1.5 x IQR); a
Pearson correlation for every pair, with pairs above 0.7 flagged. PNG plots (a histogram
grid and a correlation heatmap) are attached to the materialization, so the UI shows
them, and written with a Markdown report to `paths.reports`.
"""

import base64

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue

from mir.statistics import CORRELATION_FLAG, summarize, write_report
from mir_assets.runtime import input_cursors
from resources.settings import PipelineSettings


# its deps, the tables it reads, are every family declared with the `statistics` consumer
# (wired in mir_assets/definitions.py)
def feature_statistics(
    context: AssetExecutionContext, settings: PipelineSettings
) -> MaterializeResult:
    """Statistics, outliers and correlations of every numeric feature over the whole library:
    the numeric keys of the feature table in the tables of the assets it depends on.
    A feature materialized for the first time after it marks it stale (`input_cursors`)."""
    cursors = input_cursors(context)
    tables = sorted(key.path[-1] for key in context.assets_def.asset_deps[context.asset_key])
    reports = settings.config.paths.reports
    reports.mkdir(parents=True, exist_ok=True)
    with settings.tables.analytics(tables) as con:
        statistics = summarize(con, tables)
    if statistics is None:
        return MaterializeResult(
            metadata={"features": 0, "note": "no features stored yet"}, tags=cursors
        )
    report = write_report(statistics, reports)
    features, flagged, tracks = statistics.features, statistics.flagged, statistics.tracks
    context.log.info(
        f"{len(features)} features over {tracks} tracks; {len(flagged)} pairs with |r| > {CORRELATION_FLAG}"
    )
    embed = lambda png: "data:image/png;base64," + base64.b64encode(png).decode()  # noqa: E731
    hist_png, heat_png = statistics.histograms_png, statistics.heatmap_png
    return MaterializeResult(
        tags=cursors,
        metadata={
            "tracks": MetadataValue.int(tracks),
            "features": MetadataValue.int(len(features)),
            "correlated_pairs": MetadataValue.int(len(flagged)),
            "report": MetadataValue.path(str(report)),
            "histograms": MetadataValue.md(f"![histograms]({embed(hist_png)})"),
            "correlations": MetadataValue.md(f"![correlations]({embed(heat_png)})"),
            "top_correlations": MetadataValue.md(
                "\n".join(f"- `{a}` ~ `{b}`: r = {r:.3f}" for a, b, r in flagged[:15]) or "none"
            ),
        },
    )
