"""One bad track never costs the others: per-track failure inside a run over many tracks.

A run over a batch of tracks (a backfill's or a sensor tick's partition range) computes
each asset for every track of the batch in one step, so that models load once. Dagster
(1.13) gives such a step one outcome: if it fails, every downstream step of the run is
skipped for every track; if it succeeds, every partition of the range is recorded as
materialized. Per track, we want neither. So:

1. An asset step whose track fails does not fail: it stores the other tracks, leaves
   the failed one out of its output, and lists it with its error in the output metadata
   `failed_tracks` (:func:`mir_assets.runtime.for_each_track`).
2. Downstream steps of the same run read that list from the run's event log
   (:func:`upstream_failures`) and do not run the track (it is not computed from a
   missing input); they list it in their own `failed_tracks`.
3. Each track asset's check (which runs after its asset) marks those partitions failed:
   it records a new "planned" event for each of them in this run, after the range's
   materialization, and fails (:func:`mark_failed`). A partition whose latest planned
   materialization has none after it, in a failed run, is what Dagster reports as
   failed (its partition status, the UI's red partitions, "failed" in a backfill of
   failed and missing partitions); the good tracks stay materialized.

A run of one track needs none of this: its step simply fails.
"""

from __future__ import annotations

from collections.abc import Iterable

from dagster import AssetKey, Failure, MetadataValue

#: output metadata key: {track id: why it was left out}
FAILED_TRACKS = "failed_tracks"


def failures_in_run(instance, run_id: str, asset_keys: Iterable[AssetKey]) -> dict[str, dict]:
    """`{asset name: {track: reason}}` from this run's materializations of `asset_keys`."""
    from dagster import DagsterEventType

    wanted = set(asset_keys)
    out: dict[str, dict] = {}
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
        materialization = entry.dagster_event.event_specific_data.materialization
        if materialization.asset_key not in wanted:
            continue
        value = materialization.metadata.get(FAILED_TRACKS)
        if value is not None:
            out.setdefault(materialization.asset_key.path[-1], {}).update(value.value)
    return out


def upstream_failures(context, track_ids: list[str]) -> dict[str, str]:
    """Tracks of `track_ids` that an upstream asset of this step left out earlier in this
    run: `{track: "upstream <asset> failed: <reason>"}`."""
    assets_def = context.assets_def
    upstream = set()
    for key in assets_def.keys:
        upstream |= set(assets_def.asset_deps.get(key, ()))
    if not upstream:
        return {}
    out: dict[str, str] = {}
    for asset, tracks in failures_in_run(context.instance, context.run.run_id, upstream).items():
        for track, reason in tracks.items():
            if track in track_ids and track not in out:
                out[track] = (
                    reason
                    if reason.startswith("upstream ")
                    else f"upstream {asset} failed: {reason}"
                )
    return out


def mark_failed(context, asset_key: AssetKey) -> None:
    """In an asset check: if this run left tracks of `asset_key` out, mark their partitions
    failed and fail (see the module docstring). Nothing happens when every track was stored."""
    from dagster._core.events import AssetMaterializationPlannedData, DagsterEvent

    failed = failures_in_run(context.instance, context.run.run_id, [asset_key]).get(
        asset_key.path[-1], {}
    )
    if not failed:
        return
    job_name = context.run.job_name
    for track in failed:
        # a planned materialization after the range's one: the partition's latest attempt
        # has no materialization, and the run fails, so Dagster shows the partition failed
        event = DagsterEvent.build_asset_materialization_planned_event(
            job_name,
            asset_key.to_python_identifier(),
            AssetMaterializationPlannedData(asset_key, partition=track),
        )
        context.instance.report_dagster_event(event, run_id=context.run.run_id)
    lines = "\n".join(f"- {track}: {reason}" for track, reason in failed.items())
    raise Failure(
        description=(
            f"{asset_key.to_user_string()} was not stored for {len(failed)} track(s) of this run; "
            f"their partitions are marked failed (the other tracks are stored):\n{lines}"
        ),
        metadata={FAILED_TRACKS: MetadataValue.json(failed)},
    )


def stored_partitions(instance, asset_key: AssetKey) -> set[str]:
    """The partitions of a track asset that are materialized and not failed since: what
    the UI shows as materialized (a partition a batch left out has a materialization in
    its history, but its latest attempt failed)."""
    from dagster._core.storage.partition_status_cache import (
        get_and_update_asset_status_cache_value,
    )

    from mir_assets.partitions import tracks_partitions

    value = get_and_update_asset_status_cache_value(instance, asset_key, tracks_partitions)
    if value is None:
        return set()
    done = value.deserialize_materialized_partition_subsets(tracks_partitions)
    failed = value.deserialize_failed_partition_subsets(tracks_partitions)
    return set(done.get_partition_keys()) - set(failed.get_partition_keys())


def code_version_behind(instance, asset_key: AssetKey, code_version: str, track_ids) -> set[str]:
    """The tracks among `track_ids` whose latest materialization of the asset was made by
    another code version than `code_version` (the family's version moved since): what
    the UI marks stale with "code version changed"."""
    from dagster import AssetRecordsFilter, DagsterEventType

    latest = instance.get_latest_storage_id_by_partition(
        asset_key, DagsterEventType.ASSET_MATERIALIZATION
    )
    ids = [latest[t] for t in track_ids if t in latest]
    behind: set[str] = set()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        records = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=asset_key, storage_ids=chunk), limit=len(chunk)
        ).records
        for record in records:
            materialization = record.asset_materialization
            if (materialization.tags or {}).get("dagster/code_version") != code_version:
                behind.add(materialization.partition)
    return behind
