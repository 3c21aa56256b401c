"""`mir run`: the whole pipeline over the inbox, through the Dagster definitions.

The original pipeline's `master_pipeline.py`: register the inbox (probing new files),
add the partitions, plan which assets each track needs, run them (one Dagster run per
track, on worker processes side by side: :mod:`mir_assets.local_run`) and print a
summary. `mir_cli` sets `MIR_CONFIG` from `--config` before the code location is built.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from mir.config import PROJECT_ROOT, MasterConfig
from mir.demo import DEMO_TRUTH
from mir.progress import Progress, fmt_s
from mir.tracks import find_audio_files
from store import open_tables


def ensure_dagster_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    instance_yaml = home / "dagster.yaml"
    if not instance_yaml.exists():
        instance_yaml.write_text((PROJECT_ROOT / "config" / "dagster.yaml").read_text())
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def readers_behind(
    instance, names: list[str], parents: dict[str, set[str]], track_ids: list[str]
) -> dict[str, set[str]]:
    """`{reader: track ids}` where a track asset that reads other assets' values
    (:data:`mir_assets.definitions.CONSUMER_ASSETS`) has a materialization older than one
    of an asset it depends on, for the same track."""
    from dagster import AssetKey, DagsterEventType

    from mir_assets.definitions import CONSUMER_ASSETS

    readers = [n for n in names if any(n in group for group in CONSUMER_ASSETS.values())]
    wanted = set(track_ids)
    latest: dict[str, dict[str, int]] = {}

    def latest_of(name: str) -> dict[str, int]:
        if name not in latest:
            latest[name] = dict(
                instance.get_latest_storage_id_by_partition(
                    AssetKey(name), DagsterEventType.ASSET_MATERIALIZATION
                )
            )
        return latest[name]

    behind: dict[str, set[str]] = {}
    for name in readers:
        own = latest_of(name)
        behind[name] = {
            track
            for track, storage_id in own.items()
            if track in wanted
            and any(latest_of(p).get(track, -1) > storage_id for p in parents[name])
        }
    return behind


def audio_length(path: Path) -> float:
    """A file's duration in seconds from its header (no decoding), or, where the header
    does not say, its size in bytes / 16000 (128 kbit/s): what orders the tracks of a run."""
    import soundfile as sf

    try:
        return float(sf.info(str(path)).duration)
    except Exception:  # a format libsndfile does not read (m4a, aac): its size will do
        return path.stat().st_size / 16000.0


def longest_first(plan: dict[str, list[str]], lengths: dict[str, float]) -> dict[str, list[str]]:
    """The plan with its longest tracks first (`lengths` in seconds; ties keep their
    order): the run then ends on short tracks, and no worker idles while another finishes
    a long one."""
    return dict(sorted(plan.items(), key=lambda item: -lengths.get(item[0], 0.0)))


def run_pipeline(args: argparse.Namespace, cfg: MasterConfig) -> int:
    """`mir run` with the configuration `mir_cli` loaded (and exported as MIR_CONFIG)."""
    home = ensure_dagster_home()
    print(f"config:         {cfg.source}")
    print(f"inbox:          {cfg.paths.inbox}")
    print(f"library:        {cfg.paths.library}")
    print(f"feature store:  {open_tables(cfg).location}")
    print(f"dagster home:   {home}")
    if cfg.rocm:
        print(
            "rocm:           "
            + " ".join(f"{k}={os.environ.get(k, v)}" for k, v in cfg.rocm.items())
        )
    if getattr(args, "dry_run", False):
        from mir_assets.definitions import all_assets
        from mir_assets.selection import runnable_track_assets

        files = find_audio_files(cfg.paths.inbox, cfg.processing.audio_extensions)
        runnable = [k.path[-1] for k in runnable_track_assets(cfg, all_assets)]
        print(f"would run:      {', '.join(runnable)}")
        print(f"dry run: {len(files)} audio file(s) in the inbox; nothing registered or run")
        return 0

    from mir_assets.local_run import (
        QUIET_RUN_CONFIG,
        TrackResult,
        WorkerPool,
        run_tracks,
        worker_count,
    )

    config_path = os.environ.get("MIR_CONFIG", "")
    files = find_audio_files(cfg.paths.inbox, cfg.processing.audio_extensions)
    # the workers import the definitions and set up while this process registers the
    # files and plans the runs
    early = worker_count(cfg.processing.workers, len(files))
    pool = WorkerPool(config_path, early) if early > 1 else None

    from dagster import AssetKey, DagsterInstance, materialize

    from mir.stems import find_stems
    from mir_assets.definitions import all_assets, make_resources
    from mir_assets.partitions import add_track_partitions
    from mir_assets.selection import left_out_track_assets
    from mir_assets.track_failures import code_version_behind, stored_partitions
    from store.registry import admit_files

    instance = DagsterInstance.get()
    tables = open_tables(cfg)
    if not files:
        print(f"no audio files in {cfg.paths.inbox}")
        return 0
    print(f"registering {len(files)} file(s) from {cfg.paths.inbox} ...", flush=True)
    # files seen before with the same size and mtime are not probed or hashed again
    admission = admit_files(tables, files)
    rejected = admission.rejected
    track_ids = admission.track_ids()
    chosen = {track_id for track_id, _ in admission.known}
    for track_id, path, is_new in admission.tracks:
        if not is_new and track_id in chosen:
            print(f"  {path.name}: same content as {track_id!r}, skipped")
        chosen.add(track_id)
    for path, reason in rejected:
        print(f"  rejected {path}: {reason}")
    if not track_ids:
        print("no track to run: every file was rejected")
        if pool is not None:
            pool.close()
        return 1
    add_track_partitions(instance, track_ids)

    order = [a.key.path[-1] for a in all_assets if a.partitions_def is not None]
    parents = {
        a.key.path[-1]: {dep.asset_key.path[-1] for spec in a.specs for dep in spec.deps}
        for a in all_assets
    }
    library_wide = [a.key.path[-1] for a in all_assets if a.partitions_def is None]
    enabled = [name for name in order if cfg.features.enabled(name)]
    # the assets a run may cover: the sensor's selection, and why it leaves the others out
    # (reported per track, not run)
    left_out = left_out_track_assets(cfg, all_assets)
    selection = {name for name in enabled if name not in left_out}
    done_before = {
        name: (set() if args.force else stored_partitions(instance, AssetKey(name)))
        for name in enabled
    }
    # a reader (captions, crops, dataset) is out of date for a track when an asset it
    # reads was materialized for that track after it (a model placed later and run from
    # the UI): the UI marks it stale, and it runs again
    for name, tracks in readers_behind(instance, enabled, parents, track_ids).items():
        done_before[name] -= tracks
    # an asset whose family's code version moved since a track's materialization (an
    # update that changes how it computes): the UI marks it stale, and it runs again
    versions = {a.key.path[-1]: a.code_versions_by_key.get(a.key) for a in all_assets}
    for name in enabled:
        if done_before[name] and versions.get(name):
            done_before[name] -= code_version_behind(
                instance, AssetKey(name), versions[name], list(done_before[name])
            )
    # per-stem features left out for want of new stems still run for a track whose stems
    # are already in its folder (made before, elsewhere, or placed there by hand)
    stem_bound = {name for name, why in left_out.items() if why.for_stems}
    outcome: dict[str, dict[str, str]] = {name: {} for name in enabled}
    errors: dict[tuple[str, str], str] = {}
    seconds: dict[str, float] = {name: 0.0 for name in enabled}
    plan: dict[str, list[str]] = {}
    for track_id in track_ids:
        todo = [n for n in enabled if track_id not in done_before[n]]
        for name in enabled:
            if name not in todo:
                outcome[name][track_id] = "up to date"
            elif name in left_out:
                outcome[name][track_id] = left_out[name].outcome
        runnable = {n for n in todo if n in selection}
        on_disk = stem_bound.intersection(todo)
        if on_disk and find_stems(cfg.paths.library / track_id):
            runnable |= on_disk
        # an asset whose upstream runs again for this track is stale: it runs after it
        # (a feature added later reaches the statistics, the crops and the dataset)
        grew = True
        while grew:
            grew = False
            for name in selection - runnable:
                if parents[name] & runnable:
                    runnable.add(name)
                    grew = True
        for name in runnable:
            outcome[name].pop(track_id, None)
        plan[track_id] = [n for n in enabled if n in runnable]
    plan = longest_first(plan, {t: audio_length(path) for t, path, _ in admission.tracks})

    progress = Progress(len(track_ids), unit="track", desc="mir run")
    for todo in plan.values():
        if not todo:
            progress.done()
    workers = worker_count(cfg.processing.workers, sum(1 for todo in plan.values() if todo))

    def on_result(result: TrackResult) -> None:
        for name, state in result.states.items():
            outcome[name][result.track_id] = state
            seconds[name] += result.seconds.get(name, 0.0)
        for name, message in result.errors.items():
            errors[(name, result.track_id)] = message
        progress.done()

    try:
        if any(plan.values()):
            print(
                f"running {sum(1 for t in plan.values() if t)} track(s) on {workers} worker(s)",
                flush=True,
            )
        run_tracks(
            plan,
            config_path=config_path,
            workers=workers,
            on_progress=progress.update,
            on_result=on_result,
            pool=pool,
        )
        resources = make_resources(config_path)
        names = [name for name in library_wide if cfg.features.enabled(name)]
        if names:  # once, over every track, in one run
            progress.update(", ".join(names), "all tracks")
            result = materialize(
                all_assets,
                selection=names,
                instance=instance,
                resources=resources,
                raise_on_error=False,
                run_config=QUIET_RUN_CONFIG,
            )
            for name in names:
                outcome[name] = {"(library)": "failed"}
                errors[(name, "(library)")] = "see the run in the UI"
            for event in result.all_events:
                if event.step_key in names and event.is_step_success:
                    seconds[event.step_key] = event.step_success_data.duration_ms / 1000.0
                    outcome[event.step_key] = {"(library)": "ok"}
                    errors.pop((event.step_key, "(library)"), None)
    finally:
        progress.finish()

    _print_summary(cfg, tables, track_ids, outcome, errors, home, progress, seconds)
    if rejected:
        print(
            f"\n{len(rejected)} file(s) rejected (they do not decode; recorded in the "
            "`rejected_files` table and tried again when they change):"
        )
        for path, reason in rejected:
            print(f"  {path}: {reason}")
    if "stems" in left_out:
        print(
            f"\nstems and the per-stem features were skipped: {left_out['stems'].error}"
            "; fetch it: mir models fetch --for stems"
        )
    for name, why in left_out.items():
        if why.outcome == "no model" and name != "stems" and not why.for_stems:
            print(f"\n{name} was skipped: {why.error}; fetch it: mir models fetch --for {name}")
        elif why.outcome == "skipped":
            print(f"\n{name} was skipped: {why.error}")
    return 1 if errors or rejected else 0


def _print_summary(cfg, tables, track_ids, outcome, errors, home, progress, seconds) -> None:
    from mir.key import PITCH_CLASSES

    truth = {}
    truth_file = cfg.paths.inbox / DEMO_TRUTH
    if truth_file.exists():
        truth = json.loads(truth_file.read_text())
    loud = tables.read("loudness", track_ids) if "loudness" in outcome else {}
    beats = tables.read("beat_grid", track_ids) if "beat_grid" in outcome else {}
    src = tables.read("source_audio", track_ids)
    harm = tables.read("harmonic_features", track_ids) if "harmonic_features" in outcome else {}
    print()
    header = f"{'track':<28} {'dur s':>6} {'bpm':>7} {'meter':>5} {'key':>9} {'lufs':>7} {'lra':>5}"
    if truth:
        header += f"  {'expected':<22}"
    print(header)
    print("-" * len(header))
    for tid in track_ids:
        s, b, lo, h = src.get(tid, {}), beats.get(tid, {}), loud.get(tid, {}), harm.get(tid, {})
        meter = f"{b['beats_per_bar']}/4" if b.get("beats_per_bar") else "-"
        key = f"{PITCH_CLASSES[h['tonic']]} {h['tonic_scale']}" if "tonic" in h else "-"
        row = (
            f"{tid[:28]:<28} {s.get('duration_s', float('nan')):>6.1f} {b.get('bpm', float('nan')):>7.2f} "
            f"{meter:>5} {key:>9} {lo.get('lufs', float('nan')):>7.2f} {lo.get('lra', float('nan')):>5.2f}"
        )
        if truth:
            t = truth.get(tid)
            row += f"  {t['bpm']:.0f} BPM {t['meter']} {t['key']}" if t else ""
        print(row)
    print()
    states = ("ok", "up_to_date", "failed", "skipped", "no_stems", "no_model")
    durations = {tid: float(s.get("duration_s") or 0.0) for tid, s in src.items()}
    print(
        f"{'asset':<20} "
        + " ".join(f"{s:>10}" for s in states)
        + f" {'time s':>9} {'x realtime':>10}"
    )
    for name, per_track in outcome.items():
        counts = [sum(1 for v in per_track.values() if v == k.replace("_", " ")) for k in states]
        audio = (
            sum(durations.values())
            if "(library)" in per_track
            else sum(durations.get(t, 0.0) for t, v in per_track.items() if v == "ok")
        )
        took = seconds.get(name, 0.0)
        pace = f"{audio / took:10.1f}" if took > 0 and audio > 0 else f"{'-':>10}"
        print(f"{name:<20} " + " ".join(f"{c:>10}" for c in counts) + f" {took:9.1f} {pace}")
    if any("no stems" in per_track.values() for per_track in outcome.values()):
        print("  no_stems: per-stem features wait for drums/bass/other/vocals in the track folder")
    for (asset, tid), msg in errors.items():
        print(f"  FAILED {asset} for {tid!r}: {msg}")
    print()
    wall = time.monotonic() - progress.started
    audio = sum(durations.get(t, 0.0) for t in track_ids)
    busy = sum(seconds.values())
    print(
        f"{len(track_ids)} track(s), {fmt_s(audio)} of audio, in {fmt_s(wall)}"
        + (f" ({audio / wall:.1f}x realtime)" if wall > 0 and busy > 0 else "")
        + (f"; the assets computed for {fmt_s(busy)}" if busy > 0 else "")
    )
    print(f"library:        {cfg.paths.library}")
    print(f"feature store:  {tables.location}")
    print(f"dagster home:   {home}  (open the UI: make ui)")
