"""What every track asset shares: the per-track loop, decoded audio, progress, policy.

Assets are thin: they name their data and call :func:`for_each_track` with a function
of one track id. The loop covers every partition of the run (one track, or a batch of
a backfill), logs progress and timing, keeps the other tracks going when one fails,
and still stores the good results before it reports the failures.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, BackfillPolicy, Failure, MetadataValue

from mir.audio import Audio, load_audio
from mir.config import MasterConfig
from mir.errors import ModelNotFound
from mir.family import Family
from mir.feature_table import comments, family_named
from mir.info import require_writable
from mir_assets.partitions import tracks_partitions
from resources.settings import PipelineSettings


def batch_backfill_policy(cfg: MasterConfig) -> BackfillPolicy:
    """One run per batch of `processing.tracks_per_run` tracks (models load once per run)."""
    return BackfillPolicy.multi_run(max_partitions_per_run=cfg.processing.tracks_per_run)


# -- decoded audio, shared by the assets of one run (in-process executor) ----------

_AUDIO_CACHE: OrderedDict[tuple, Audio] = OrderedDict()
AUDIO_CACHE_BYTES = 2 * 1024**3


_AUDIO_LOCK = threading.Lock()


def _audio_key(path: Path) -> tuple:
    """The decoded audio's cache key: the file and its size and modification time."""
    st = path.stat()
    return (str(path), st.st_size, st.st_mtime_ns)


def decoded(path: Path) -> Audio:
    """Decode `path` once per process; later assets of the run reuse the same `Audio`
    (and the views and intermediates cached on it). Bounded by :data:`AUDIO_CACHE_BYTES`."""
    key = _audio_key(path)
    with _AUDIO_LOCK:
        if key in _AUDIO_CACHE:
            _AUDIO_CACHE.move_to_end(key)
            return _AUDIO_CACHE[key]
    return share_decoded(path, load_audio(path))


def share_decoded(path: Path, audio: Audio) -> Audio:
    """Keep `audio` as the decoded `path` (a byte-exact copy of the file it was decoded
    from: the library's copy of an original), so later assets do not decode it again."""
    key = _audio_key(path)
    with _AUDIO_LOCK:
        _AUDIO_CACHE[key] = audio
        while (
            len(_AUDIO_CACHE) > 1
            and sum(a.samples.nbytes for a in _AUDIO_CACHE.values()) > AUDIO_CACHE_BYTES
        ):
            _AUDIO_CACHE.popitem(last=False)
    return audio


def full_mix_path(settings: PipelineSettings, track_id: str, source: dict[str, Any]) -> Path:
    return settings.track_dir(track_id) / source["full_mix"]


NEEDS_STEMS_TAG = "mir/needs_stems"

#: Op tags of an asset that holds the shared GPU pool: it goes first among the steps of
#: its run that are ready, so a run claims the pool as early as it can, and a run that
#: finds the pool held does its CPU features meanwhile instead of idling after them.
GPU_POOL_OP_TAGS = {"dagster/priority": "1"}


#: the metadata entry of a track asset that lists its consumers
CONSUMERS_METADATA = "consumers"


def family_asset_args(family: Family, cfg: MasterConfig, **extra) -> dict[str, Any]:
    """The @asset arguments of a family's asset, all from its declaration: name, group,
    code version, description, partitions and batch backfills, the feature store, its
    keys' descriptions and DuckDB column comments, its consumers, the stems it needs
    (a dependency on `stems`) and the GPU pool when it runs a model on the GPU."""
    metadata: dict[str, Any] = {CONSUMERS_METADATA: ", ".join(sorted(family.consumers))}
    if family.keys:
        metadata["column_comments"] = comments(family.key_names)
        metadata["keys"] = MetadataValue.md(
            "\n".join(f"- `{f.key}`: {f.comment()}" for f in family.keys)
        )
    args: dict[str, Any] = dict(
        name=family.name,
        group_name=family.group,
        code_version=family.version,
        description=family.description or None,
        kinds=set(family.kinds),
        metadata=metadata,
    )
    if family.partitioned:
        args.update(
            partitions_def=tracks_partitions,
            io_manager_key="feature_store",
            backfill_policy=batch_backfill_policy(cfg),
        )
    if family.needs_stems:
        args["tags"] = {NEEDS_STEMS_TAG: "true"}
        args["deps"] = ["stems"]
    if family.uses_gpu(cfg):
        args["pool"] = cfg.processing.gpu_pool
        args["op_tags"] = GPU_POOL_OP_TAGS
    if "deps" in extra and "deps" in args:
        extra = {**extra, "deps": [*args["deps"], *extra["deps"]]}
    args.update(extra)
    return args


def input_cursors(context: AssetExecutionContext) -> dict[str, str]:
    """The input event pointers of a reader's materialization for the inputs that had never
    been materialized: `{dagster/input_event_pointer/<dep>: the event log's last id}`.

    Call it first in the asset, and return `Output(value, tags=input_cursors(...))`.
    Dagster records the pointer of an input that has never been materialized (in any
    partition) as NULL, and its stale-status resolver then compares that input's first
    materialization with itself: a model asset materialized after the crops never marked
    them stale (Dagster 1.13, `CachingStaleStatusResolver._is_dep_updated`;
    dagster-io/dagster#9374). For such an input, any event id up to now says what NULL
    meant (none of its records precedes it) and lets the resolver find the first one
    after it; the asset reads these inputs (other assets' values, from the feature store)
    after this call. The pointers of inputs that have records stay Dagster's own (taken
    when the step started, before its argument inputs were loaded).
    """
    from dagster._core.definitions.data_version import get_input_event_pointer_tag

    deps = list(context.assets_def.asset_deps[context.asset_key])
    records = {
        r.asset_entry.asset_key: r.asset_entry for r in context.instance.get_asset_records(deps)
    }
    never = [
        key
        for key in deps
        if key not in records
        or (
            records[key].last_materialization_record is None
            and records[key].last_observation_record is None
        )
    ]
    if not never:
        return {}
    try:
        position = context.instance.event_log_storage.get_maximum_record_id()
    except NotImplementedError:  # a storage without one id sequence: Dagster's pointers
        return {}
    if not position:
        return {}
    return {get_input_event_pointer_tag(key): str(position) for key in never}


def model_failure(exc: ModelNotFound) -> Failure:
    """The Dagster failure for a missing model: its message, the file and the config key."""
    return Failure(
        description=str(exc),
        metadata={"expected_file": MetadataValue.path(exc.expected), "config_key": exc.config_key},
    )


# -- progress -----------------------------------------------------------------------


#: seconds of audio of each track read so far in this process, by (store, track id): a
#: track id names one file's content, so its duration never changes
_seconds_of_tracks: dict[tuple[str, str], float] = {}


def _durations(settings: PipelineSettings, track_ids: list[str]) -> dict[str, float]:
    """Seconds of audio of each track (from `source_audio`), for the x realtime in logs;
    read from the store once per track and process."""
    store = settings.tables.location
    missing = [t for t in track_ids if (store, t) not in _seconds_of_tracks]
    if missing:
        try:
            rows = settings.tables.read("source_audio", missing)
        except Exception:  # no table yet: the logs go without it
            rows = {}
        for t, r in rows.items():
            if r.get("duration_s"):
                _seconds_of_tracks[store, t] = float(r["duration_s"])
    return {t: _seconds_of_tracks[store, t] for t in track_ids if (store, t) in _seconds_of_tracks}


#: `mir run` installs a callback here to show the current asset and track.
progress_callback: Callable[[str, str], None] | None = None


def for_each_track(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    compute: Callable[[str], dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Run `compute(track_id)` for every partition of the run, each track on its own.

    A track that fails (any exception) is logged with its error and left out of the
    result; so is a track for which an upstream asset failed earlier in this run (it is
    not computed from a missing input). The other tracks are stored and go on to the
    downstream assets. The tracks left out are listed, with why, in the output metadata
    `failed_tracks`, from which this asset's check marks their partitions failed and fails
    the run (see :mod:`mir_assets.track_failures`).

    Returns
    -------
    dict
        `{track id: values}` of the tracks that succeeded, for the feature store.

    Raises
    ------
    dagster.Failure
        When no track of the run succeeded, naming each and why (a run of one track that
        fails is therefore a plain step failure).
    """
    from mir_assets.track_failures import FAILED_TRACKS, upstream_failures

    asset = context.asset_key.path[-1]
    keys = list(context.partition_keys)
    results: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    durations = _durations(settings, keys) if asset != "source_audio" else {}
    blocked = upstream_failures(context, keys) if len(keys) > 1 else {}
    for i, track_id in enumerate(keys, 1):
        if track_id in blocked:
            failures[track_id] = blocked[track_id]
            context.log.warning(
                f"[{i}/{len(keys)}] {asset} not run for {track_id!r}: {blocked[track_id]}"
            )
            continue
        if progress_callback is not None:
            progress_callback(asset, track_id)
        t0 = time.perf_counter()
        try:
            # every value ends in the track's .INFO: a read-only folder fails the track
            # before its work, and alone (the batch's other tracks are still stored)
            require_writable(settings.track_dir(track_id))
            results[track_id] = compute(track_id)
        except KeyError as exc:
            if exc.args != (track_id,):
                failures[track_id] = f"KeyError: {exc}"
            else:  # an input mapping without this track: its upstream was never stored
                failures[track_id] = "an upstream asset has no stored values for this track"
            context.log.error(
                f"[{i}/{len(keys)}] {asset} failed for {track_id!r}: {failures[track_id]}"
            )
            continue
        except Exception as exc:  # one bad track must not sink the batch
            failures[track_id] = f"{type(exc).__name__}: {exc}"
            context.log.error(
                f"[{i}/{len(keys)}] {asset} failed for {track_id!r}: {exc}\n{traceback.format_exc()}"
            )
            continue
        seconds[track_id] = took = time.perf_counter() - t0
        value = results[track_id]
        audio_s = durations.get(track_id) or (
            value.get("duration_s") if isinstance(value, dict) else None
        )
        pace = f" ({audio_s / took:.1f}x realtime)" if audio_s and took > 0 else ""
        context.log.info(f"[{i}/{len(keys)}] {asset} for {track_id!r} in {took:.2f} s{pace}")
    # a compute may hand back a Future (work finishing in the background, such as
    # writing files while the next track computes): settle them, per track
    for track_id, value in list(results.items()):
        if isinstance(value, Future):
            try:
                results[track_id] = value.result()
            except Exception as exc:
                del results[track_id]
                failures[track_id] = f"{type(exc).__name__}: {exc}"
                context.log.error(f"{asset} failed for {track_id!r}: {exc}")
    # undefined values (and any non-finite number) stored as null, with their reasons
    family = family_named(asset)
    if family is not None:
        results = {t: family.finish(v) if isinstance(v, dict) else v for t, v in results.items()}
    total = time.perf_counter() - started
    metadata: dict[str, Any] = {
        "tracks": MetadataValue.int(len(results)),
        "compute_seconds": MetadataValue.float(round(total, 3)),
    }
    if len(keys) == 1 and results:
        (values,) = results.values()
        metadata["track_dir"] = MetadataValue.path(str(settings.track_dir(keys[0])))
        for key, value in values.items():
            if isinstance(value, bool):
                continue
            if isinstance(value, int | float):
                metadata[key] = (
                    MetadataValue.float(float(value))
                    if isinstance(value, float)
                    else MetadataValue.int(value)
                )
            elif isinstance(value, str) and len(value) < 200:
                metadata[key] = MetadataValue.text(value)
    elif seconds:
        metadata["seconds_per_track"] = MetadataValue.float(
            round(sum(seconds.values()) / len(seconds), 3)
        )
    if failures and not results:
        if len(keys) == 1:
            ((tid, why),) = failures.items()
            description = f"{asset} failed for {tid!r}: {why}"
        else:
            lines = "\n".join(f"- {tid}: {why}" for tid, why in failures.items())
            description = f"{asset} failed for all {len(keys)} tracks of the run:\n{lines}"
        raise Failure(
            description=description,
            metadata={"failed_tracks": MetadataValue.json(failures), **metadata},
        )
    if failures:
        metadata[FAILED_TRACKS] = MetadataValue.json(failures)
        context.log.warning(
            f"{asset}: {len(results)} of {len(keys)} tracks stored; left out, and marked "
            f"failed by the asset's check: {', '.join(failures)}"
        )
    context.add_output_metadata(metadata)
    return results
