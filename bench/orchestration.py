"""Orchestration overhead: 100 short tracks in one backfill under `dagster dev`.

Measures the runs' durations against the sum of the assets' own compute times (the
`compute_seconds` each asset reports per run), reports the backfill's wall time (runs go
two at a time), and counts runs and model loads (the
separation asset uses a tiny random-weight HTDemucs, so loading is real and cheap).

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracks", type=int, default=100)
    parser.add_argument("--per-run", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()

    from dagster import AssetKey, DagsterInstance

    from mir.synth import render_song
    from resources.duckdb_tables import FeatureTables, register_files

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
        ids = [t for t, _, _ in register_files(FeatureTables(tmp / "f.duckdb"), paths)]
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
        print(f"sum of the assets' own compute {compute:.1f} s")
        overhead = 100 * (run_seconds - compute) / run_seconds
        print(
            f"orchestration overhead: {overhead:.1f} % of the run time (process start, code loading, events, IO manager; target < 10 %)"
        )
        print(f"model loads: {loads} (one per run)")


if __name__ == "__main__":
    main()
