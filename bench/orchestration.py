"""Orchestration overhead: 100 short tracks in one backfill under `dagster dev`.

Measures the runs' durations against the sum of the assets' own compute times (the
`compute_seconds` each asset reports per run), reports the backfill's wall time (runs go
two at a time), and counts runs and model loads (the
separation asset uses a tiny random-weight HTDemucs, so loading is real and cheap).
From the event log it then splits the run time by where it went (see `breakdown`). A
run's duration runs from RUN_START, once its process has started and loaded the code.

    python bench/orchestration.py [--tracks 100] [--per-run 25] [--seconds 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.dagster_dev import dagster_dev, graphql, wait_until  # noqa: E402
from tests.test_stems import make_tiny_demucs  # noqa: E402

ASSETS = ["source_audio", "stems", "beat_grid", "loudness", "spectral_features"]
LAUNCH = """
mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }
"""


def breakdown(instance, run_id: str) -> dict[str, float]:
    """Where one run's time went, in seconds, from its event log.

    An asset step splits into `compute` (its `compute_seconds`), `load inputs`
    (step start to its inputs), `asset body outside the loop` (model loading, say),
    `store` (the IO manager: first output to first materialization event) and
    `materialization events`; check steps are `asset checks`. Time inside no step is
    `waiting for the GPU pool` while a step of the run is blocked on its pool, else
    `between steps` (run start, the executor).
    """
    from dagster import DagsterEventType

    stamps: dict = {}
    blocked: dict[str, float] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        stamps.setdefault(record.step_key, {}).setdefault(event.event_type, []).append(record)
        if event.event_type == DagsterEventType.ENGINE_EVENT and (
            record.user_message or ""
        ).startswith("Step blocked by limit for pool"):
            blocked.setdefault(record.step_key, record.timestamp)
    run = stamps[None]
    start = run[DagsterEventType.RUN_START][0].timestamp
    end = run[DagsterEventType.RUN_SUCCESS][0].timestamp
    out = dict.fromkeys(
        ["compute", "load inputs", "asset body outside the loop", "store",
         "materialization events", "asset checks", "waiting for the GPU pool",
         "between steps"], 0.0)  # fmt: skip
    spans, waits = [], []
    for step, events in stamps.items():
        if step is None or DagsterEventType.STEP_START not in events:
            continue
        t0 = events[DagsterEventType.STEP_START][0].timestamp
        done = events.get(DagsterEventType.STEP_SUCCESS) or events[DagsterEventType.STEP_FAILURE]
        t1 = done[0].timestamp
        spans.append((t0, t1))
        if step in blocked:
            waits.append((blocked[step], t0))
        mats = events.get(DagsterEventType.ASSET_MATERIALIZATION)
        if not mats:
            out["asset checks"] += t1 - t0
            continue
        inputs = events.get(DagsterEventType.STEP_INPUT, [None])[-1]
        inputs = inputs.timestamp if inputs else t0
        output = events[DagsterEventType.STEP_OUTPUT][0].timestamp
        compute = mats[0].asset_materialization.metadata["compute_seconds"].value
        out["compute"] += compute
        out["load inputs"] += inputs - t0
        out["asset body outside the loop"] += output - inputs - compute
        out["store"] += mats[0].timestamp - output
        out["materialization events"] += t1 - mats[0].timestamp
    # the gaps between step spans, split by whether a step was waiting for its pool
    reach = start
    for t0, t1 in sorted(spans) + [(end, end)]:
        if t0 > reach:
            waited = sum(max(0.0, min(t0, w1) - max(reach, w0)) for w0, w1 in waits)
            out["waiting for the GPU pool"] += waited
            out["between steps"] += t0 - reach - waited
        reach = max(reach, t1)
    return out


def print_breakdown(instance, run_ids: list[str]) -> None:
    total: dict[str, float] = {}
    for run_id in run_ids:
        for part, seconds in breakdown(instance, run_id).items():
            total[part] = total.get(part, 0.0) + seconds
    print(f"where the run time went (sum over {len(run_ids)} runs):")
    for part, seconds in total.items():
        print(f"  {part:30s} {seconds:7.1f} s")
    print(
        f"before the runs started (process start, code loading; not in their durations): "
        f"{sum(launch_seconds(instance, r) for r in run_ids):.1f} s"
    )


def launch_seconds(instance, run_id: str) -> float:
    """RUN_STARTING (the launcher) to RUN_START (the run worker has loaded the code)."""
    from dagster import DagsterEventType

    stamps = {
        r.dagster_event.event_type: r.timestamp
        for r in instance.all_logs(run_id)
        if r.dagster_event is not None and r.step_key is None
    }
    return stamps[DagsterEventType.RUN_START] - stamps[DagsterEventType.RUN_STARTING]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracks", type=int, default=100)
    parser.add_argument("--per-run", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()

    from dagster import AssetKey, DagsterEventType, DagsterInstance

    from mir.synth import render_song
    from store.duckdb import DuckDBTables
    from store.registry import register_files

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        repo = make_tiny_demucs(tmp / "models" / "demucs")
        features = {name: False for name in (
            "track_metadata", "rhythm_features", "harmonic_features", "timbral_features", "stem_loudness", "stem_rhythm",
            "stem_harmonic", "track_timeseries", "training_crops", "sat_dataset", "feature_statistics")}  # fmt: skip
        config = {
            "paths": {
                "inbox": str(tmp / "inbox"),
                "library": str(tmp / "library"),
                "duckdb": str(tmp / "f.duckdb"),
            },
            "features": features,
            "processing": {"tracks_per_run": args.per_run},
            "separation": {"demucs": {"model": "tiny", "repo": str(repo)}, "block_seconds": 30.0},
        }
        config_path = tmp / "config" / "master_pipeline.yaml"
        config_path.parent.mkdir()
        config_path.write_text(yaml.safe_dump(config))
        (tmp / "inbox").mkdir()
        paths = []
        for i in range(args.tracks):
            mix = render_song(bpm=90 + (i % 60), bars=3, seed=i).mix[: int(args.seconds * 44100)]
            path = tmp / "inbox" / f"track{i:03d}.flac"
            sf.write(str(path), mix, 44100)
            paths.append(path)
        ids = [t for t, _, _ in register_files(DuckDBTables(tmp / "f.duckdb"), paths)]
        home = tmp / "home"
        with dagster_dev(home, config_path) as url:
            instance = DagsterInstance.from_config(str(home))
            instance.add_dynamic_partitions("tracks", ids)
            params = {
                "partitionNames": ids,
                "assetSelection": [{"path": [a]} for a in ASSETS],
                "fromFailure": False,
            }
            t0 = time.monotonic()
            answer = graphql(url, LAUNCH, {"params": params})["launchPartitionBackfill"]
            assert answer["__typename"] == "LaunchBackfillSuccess", answer
            backfill_id = answer["backfillId"]

            def done():
                b = instance.get_backfill(backfill_id)
                return b.status.value.startswith(("COMPLETED", "FAILED", "CANCELED")) and b

            backfill = wait_until(done, timeout_s=3600, interval_s=1.0)
            wall = time.monotonic() - t0
        runs = [r for r in instance.get_runs() if r.tags.get("dagster/backfill") == backfill_id]
        compute = 0.0
        loads = 0
        for run in runs:
            for asset in ASSETS:
                records = instance.fetch_materializations(AssetKey(asset), limit=10_000).records
                mine = [r for r in records if r.run_id == run.run_id]
                if not mine:
                    continue
                meta = mine[0].asset_materialization.metadata
                compute += meta["compute_seconds"].value if "compute_seconds" in meta else 0.0
                if asset == "stems" and "model_loads" in meta:
                    loads += meta["model_loads"].value
        statuses = sorted({r.status.value for r in runs})
        run_seconds = 0.0
        for run in runs:
            stats = instance.get_run_stats(run.run_id)
            run_seconds += (stats.end_time or 0) - (stats.start_time or 0)
        print(
            f"{args.tracks} tracks of {args.seconds:.0f} s, {args.per_run} per run, assets: {', '.join(ASSETS)}"
        )
        print(
            f"backfill status: {backfill.status.value}; runs: {len(runs)} ({', '.join(statuses)})"
        )
        print(
            f"backfill wall time {wall:.1f} s (runs go 2 at a time); sum of run durations {run_seconds:.1f} s"
        )
        queued = min(
            r.timestamp
            for run in runs
            for r in instance.all_logs(run.run_id)
            if r.dagster_event is not None
            and r.dagster_event.event_type == DagsterEventType.RUN_ENQUEUED
        )
        last_end = max(instance.get_run_stats(run.run_id).end_time or 0 for run in runs)
        launched = backfill.backfill_timestamp
        print(
            f"runs queued {queued - launched:.1f} s after the launch (the backfill daemon looks "
            f"every 30 s); the last run ended {last_end - launched:.1f} s after it"
        )
        print(f"sum of the assets' own compute {compute:.1f} s")
        overhead = 100 * (run_seconds - compute) / run_seconds
        print(
            f"orchestration overhead: {overhead:.1f} % of the run time (events, IO manager, checks, model loading, GPU pool waits; target < 10 %)"
        )
        print(f"model loads: {loads} (one per run)")
        print_breakdown(instance, [r.run_id for r in runs])


if __name__ == "__main__":
    from _report import run  # --write-docs: the printed table into docs/benchmarks/

    raise SystemExit(run(main))
