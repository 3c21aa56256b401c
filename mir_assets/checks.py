"""Asset checks: every track of the run was stored, and every stored feature value lies
in the range the feature table declares.

One partitioned check per track asset: `values_in_range` for the feature assets (it reads
the track's row back from the feature store, what `.INFO` and DuckDB really hold, so a
failed check in the UI names the key, the value and the declared range), `tracks_stored`
for the others. Either first marks the tracks this run left out of the asset as failed
(:mod:`mir_assets.track_failures`).
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetsDefinition,
    MetadataValue,
    asset_check,
)

from mir.feature_table import FEATURES
from mir_assets.partitions import tracks_partitions
from mir_assets.track_failures import mark_failed
from resources.settings import PipelineSettings


def _partition_keys(context: AssetCheckExecutionContext) -> list[str]:
    op_context = context.op_execution_context
    if op_context.has_partition_key_range:
        return list(op_context.partition_keys)
    return [op_context.partition_key]


def evaluate_ranges(track_ids: list[str], rows: dict[str, dict]) -> AssetCheckResult:
    """Check stored rows against the feature table; the description names every violation."""
    violations = []
    checked = 0
    for track_id in track_ids:
        row = rows.get(track_id)
        if row is None:
            violations.append(f"{track_id}: no stored row")
            continue
        for key, value in row.items():
            feature = FEATURES.get(key)
            if feature is None or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            checked += 1
            if not feature.min <= value <= feature.max:
                violations.append(
                    f"{track_id}: {key} = {value:g} outside {feature.min:g}..{feature.max:g} {feature.unit}".rstrip()
                )
    return AssetCheckResult(
        passed=not violations,
        description="; ".join(violations[:20]) if violations else f"{checked} values in range",
        metadata={
            "values_checked": MetadataValue.int(checked),
            "violations": MetadataValue.json(violations),
        },
    )


def range_check(asset_def: AssetsDefinition) -> AssetChecksDefinition:
    """A `values_in_range` check of `asset_def`'s numeric keys against the feature table."""
    table = asset_def.key.path[-1]

    @asset_check(
        asset=asset_def.key,
        name="values_in_range",
        partitions_def=tracks_partitions,
        description=f"Every track of the run was stored, and every numeric value of `{table}` "
        "lies in its declared range (mir/feature_table.py).",
    )
    def _check(context: AssetCheckExecutionContext, settings: PipelineSettings) -> AssetCheckResult:
        mark_failed(context, asset_def.key)
        keys = _partition_keys(context)
        return evaluate_ranges(keys, settings.tables.read(table, keys))

    return _check


def stored_check(asset_def: AssetsDefinition) -> AssetChecksDefinition:
    """A `tracks_stored` check: every track of the run was stored (an asset without keys
    in the feature table: files, crops, the dataset)."""

    @asset_check(
        asset=asset_def.key,
        name="tracks_stored",
        partitions_def=tracks_partitions,
        description="Every track of the run was stored; a track left out is marked failed.",
    )
    def _check(context: AssetCheckExecutionContext) -> AssetCheckResult:
        mark_failed(context, asset_def.key)
        return AssetCheckResult(passed=True, description="every track of the run was stored")

    return _check


def range_checks(assets: list[AssetsDefinition]) -> list[AssetChecksDefinition]:
    """One check for each track asset: the range check where the asset has keys in the
    feature table, else the stored check."""
    out = []
    for asset_def in assets:
        if asset_def.partitions_def is None:
            continue
        comments = (asset_def.metadata_by_key.get(asset_def.key) or {}).get("column_comments") or {}
        out.append(range_check(asset_def) if comments else stored_check(asset_def))
    return out
