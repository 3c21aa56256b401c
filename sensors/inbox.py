"""inbox_sensor: new audio files in the inbox become track partitions and runs.

Runs cover the enabled track assets (`features:`), without the model assets whose model is
missing. A file is taken once its size and mtime are unchanged between two ticks and its mtime
is at least `sensor.stable_seconds` old (so a file still being copied is left alone).
Files already registered are recognised by path, size and mtime from the registry, so
a tick over 10,000 known files stats them and hashes none. A new file is probed (header,
and a read at its start, middle and end) before it is hashed: one that does not decode is
logged and recorded in `rejected_files`, never becomes a partition, and is tried again
once its size or mtime changes. The cursor holds only the
files still waiting to settle. The same content under a second name is not a second
track. At most `sensor.max_new_tracks_per_tick` tracks are registered per tick; they go out
as runs of `processing.tracks_per_run` tracks each (a partition range per run).
"""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dagster import (
    AddDynamicPartitionsRequest,
    AssetsDefinition,
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from mir.config import MasterConfig
from mir.tracks import find_audio_files
from mir_assets.jobs import track_job
from mir_assets.partitions import TRACKS, new_partitions
from mir_assets.selection import runnable_track_assets
from resources.settings import PipelineSettings
from store.registry import Admission, admit_files

#: the run tags that make a run cover a range of partitions (what backfills set)
ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass
class InboxScan:
    """What one look at the inbox found."""

    stable: list[Path] = field(default_factory=list)
    pending: dict[str, list[int]] = field(default_factory=dict)
    known: int = 0


def scan_inbox(
    inbox: Path,
    *,
    extensions,
    known: dict[str, tuple],
    pending: dict[str, list[int]],
    stable_seconds: float,
    now: float | None = None,
) -> InboxScan:
    """Split the inbox's audio files into known, stable-and-new and still-settling.

    `known` is the registry's :meth:`~store.registry.RegistryTables.sources`: a file
    is known when its size and mtime are those recorded."""
    now = time.time() if now is None else now
    scan = InboxScan()
    for path in find_audio_files(inbox, extensions):
        try:
            st = path.stat()
        except OSError:
            continue  # vanished or a dangling link
        key = str(path)
        state = [st.st_size, st.st_mtime_ns]
        if known.get(key, (None, None))[:2] == (st.st_size, st.st_mtime_ns):
            scan.known += 1
            continue
        settled = pending.get(key) == state and now - st.st_mtime_ns / 1e9 >= stable_seconds
        if settled and st.st_size > 0:
            scan.stable.append(path)
        else:
            scan.pending[key] = state
    return scan


def build_inbox_sensor(assets: Sequence[AssetsDefinition], cfg: MasterConfig) -> SensorDefinition:
    """The inbox sensor of a code location whose assets are `assets` (as the definitions
    load and wire them), ticking every `sensor.interval_seconds` of `cfg`: its runs
    select the runnable track assets among them
    (:func:`~mir_assets.selection.runnable_track_assets`)."""

    @sensor(
        name="inbox_sensor",
        job=track_job,
        minimum_interval_seconds=cfg.sensor.interval_seconds,
        default_status=DefaultSensorStatus.STOPPED,
        description="Registers new, settled audio files of the inbox as tracks and runs them.",
    )
    def inbox_sensor(context: SensorEvaluationContext, settings: PipelineSettings):
        return inbox_tick(context, settings, assets)

    return inbox_sensor


def inbox_tick(
    context: SensorEvaluationContext, settings: PipelineSettings, assets: Sequence[AssetsDefinition]
) -> SensorResult | SkipReason:
    """One evaluation of the inbox sensor over the code location's `assets`."""
    cfg = settings.config
    cursor = json.loads(context.cursor) if context.cursor else {}
    tables = settings.tables
    sources = tables.sources()
    scan = scan_inbox(
        cfg.paths.inbox,
        extensions=cfg.processing.audio_extensions,
        known=sources,
        pending=cursor.get("pending", {}),
        stable_seconds=cfg.sensor.stable_seconds,
    )
    limit = cfg.sensor.max_new_tracks_per_tick
    take, later = scan.stable[:limit], scan.stable[limit:]
    for path in later:  # stay stable-and-waiting for the next tick
        st = path.stat()
        scan.pending[str(path)] = [st.st_size, st.st_mtime_ns]
    admission = admit_files(tables, take, seen=sources) if take else Admission()
    for track_id, path, is_new in admission.tracks:
        if not is_new:
            context.log.info(f"{path}: same content as track {track_id!r}; not a new track")
    for path, reason in admission.rejected:
        context.log.warning(
            f"rejected {path}: {reason} (recorded in `rejected_files`; tried again when it changes)"
        )
    # every registered track needs a partition; repairs a tick that died half-way too
    new_ids = new_partitions(context.instance, tables.track_ids())
    new_cursor = json.dumps({"pending": scan.pending}, separators=(",", ":"))
    if not new_ids:
        context.update_cursor(new_cursor)
        rejected = f", {len(admission.rejected)} rejected" if admission.rejected else ""
        return SkipReason(
            f"{scan.known} known file(s), {len(scan.pending)} settling{rejected}, no new track"
        )
    context.log.info(f"new tracks: {new_ids}")
    selection = runnable_track_assets(cfg, assets)
    return SensorResult(
        run_requests=batch_run_requests(new_ids, cfg.processing.tracks_per_run, selection),
        dynamic_partitions_requests=[AddDynamicPartitionsRequest(TRACKS, new_ids)],
        cursor=new_cursor,
    )


def batch_run_requests(track_ids: list[str], per_run: int, selection) -> list[RunRequest]:
    """One run per `per_run` consecutive new tracks, as a partition range (the way a
    backfill batches), so models load once per batch. The tracks are added as partitions
    in this order by the same tick, so each batch is a contiguous range."""
    requests = []
    for a in range(0, len(track_ids), per_run):
        batch = track_ids[a : a + per_run]
        first, last = batch[0], batch[-1]
        if len(batch) == 1:
            requests.append(
                RunRequest(partition_key=first, run_key=f"track:{first}", asset_selection=selection)
            )
            continue
        requests.append(
            RunRequest(
                run_key=f"tracks:{first}..{last}",
                asset_selection=selection,
                tags={
                    ASSET_PARTITION_RANGE_START_TAG: first,
                    ASSET_PARTITION_RANGE_END_TAG: last,
                    "mir/tracks": str(len(batch)),
                },
            )
        )
    return requests
