"""FeatureStore: the IO manager that writes every feature to DuckDB and to `.INFO`.

An asset's output is `{track id: {key: value}}` (one entry per partition of the run,
so a batch run of many tracks writes them all). Each track's values are merged into
`<library>/<track>/<track>.INFO` with `safe_update`, then upserted into the DuckDB
table named after the asset. Downstream assets load the same mapping back from DuckDB.
"""

from typing import Any

from dagster import (
    ConfigurableIOManager,
    InputContext,
    MetadataValue,
    OutputContext,
)

from mir.errors import MirError
from resources.settings import PipelineSettings


class MissingUpstream(MirError):
    """An upstream asset has no stored row for a track."""


class FeatureStore(ConfigurableIOManager):
    """Feature store IO manager (DuckDB table per asset + `.INFO` per track)."""

    settings: PipelineSettings

    @staticmethod
    def _table(context: OutputContext | InputContext) -> str:
        return context.asset_key.path[-1]

    def handle_output(self, context: OutputContext, obj: dict[str, dict[str, Any]]) -> None:
        if obj is None:
            return
        if not isinstance(obj, dict) or not all(isinstance(v, dict) for v in obj.values()):
            raise TypeError(
                f"{context.asset_key.to_user_string()}: the feature store takes "
                "{track id: {key: value}}, got " + type(obj).__name__
            )
        table = self._table(context)
        comments = (context.definition_metadata or {}).get("column_comments")
        comments = comments.value if hasattr(comments, "value") else comments
        written = self.settings.write_features(table, obj, comments=comments)
        context.add_output_metadata(
            {
                "table": MetadataValue.text(table),
                "rows_written": MetadataValue.int(written),
                "feature_store": MetadataValue.text(self.settings.tables.location),
            }
        )

    def load_input(self, context: InputContext) -> dict[str, dict[str, Any]]:
        table = self._table(context)
        keys = list(context.asset_partition_keys) if context.has_asset_partitions else None
        rows = self.settings.tables.read(table, keys)
        missing = [k for k in (keys or []) if k not in rows]
        if missing and not rows:
            raise MissingUpstream(
                f"asset `{table}` has no stored values for track(s) {missing}: materialize "
                f"`{table}` for them first"
            )
        if missing:  # a batch goes on without them (for_each_track does not run them)
            context.log.warning(
                f"asset `{table}` has no stored values for {len(missing)} track(s) of this "
                f"run: {missing}"
            )
        return rows
