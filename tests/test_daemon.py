"""Driving the code location as users do: `dagster dev` with its daemon, on loopback."""

import json
import time

import numpy as np
import pytest
import soundfile as sf
from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter, materialize

from mir.info import info_path, read_info
from mir.synth import render_song
from store.duckdb import DuckDBTables
from tests.conftest import write_config
from tests.dagster_dev import dagster_dev, graphql, wait_until
from tests.helpers import register

SR = 44100
LIGHT_FEATURES = {  # a fast pipeline: no timbral models, crops or export
    "timbral_features": False, "training_crops": False, "sat_dataset": False, "track_timeseries": False,
    "feature_statistics": False, "stems": False, "rhythm_features": False, "harmonic_features": False,
    "spectral_features": False, "track_metadata": False,
}  # fmt: skip

START_SENSOR = """
mutation($selector: SensorSelector!) { startSensor(sensorSelector: $selector) {
  __typename ... on Sensor { sensorState { status } } ... on PythonError { message } } }
"""
LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }
"""


def _song(seed: int) -> np.ndarray:
    return render_song(bpm=96 + 8 * seed, bars=3, seed=seed).mix


@pytest.fixture
def light_project(project, tmp_path):
    write_config(
        project.root,
        features=LIGHT_FEATURES,
        sensor={"stable_seconds": 2.0, "interval_seconds": 3, "max_new_tracks_per_tick": 10},
    )
    return project


def test_files_dropped_into_the_inbox_are_materialized_by_the_sensor_in_batches(
    light_project, tmp_path
):
    project = light_project
    write_config(
        project.root,
        features=LIGHT_FEATURES,
        sensor={"stable_seconds": 2.0, "interval_seconds": 3, "max_new_tracks_per_tick": 10},
        processing={"tracks_per_run": 2},
    )
    home = tmp_path / "home"
    staging = tmp_path / "staging"
    staging.mkdir()
    for i in range(5):  # more than one run holds: 5 tracks, 2 per run
        sf.write(str(staging / f"0{i} - Dropped {i}.flac"), _song(i), SR)
    for path in sorted(staging.iterdir()):  # dropped at once, so one tick takes them all
        path.rename(project.inbox / path.name)
    with dagster_dev(home, project.config_path) as url:
        selector = {
            "repositoryLocationName": "mir",
            "repositoryName": "__repository__",
            "sensorName": "inbox_sensor",
        }
        started = graphql(url, START_SENSOR, {"selector": selector})["startSensor"]
        assert started["__typename"] == "Sensor", started
        # a file still being copied: written in pieces, slower than the sensor's ticks
        growing = project.inbox / "Slow Copy.wav"
        data = _song(7)
        with sf.SoundFile(str(growing), "w", SR, 2) as f:
            for part in np.array_split(data, 6):
                f.write(part)
                f.flush()
                time.sleep(1.5)
                assert "Slow Copy" not in DuckDBTables(project.duckdb).track_ids()
        instance = DagsterInstance.from_config(str(home))

        def all_done():
            runs = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.SUCCESS]))
            return len(runs) >= 4 and runs

        runs = wait_until(all_done, timeout_s=300)
        assert runs, (home / "dagster_dev.log").read_text()[-3000:]
    assert len(instance.get_runs()) == 4  # ceil(5 / 2) batches + the slow copy alone
    batches = sorted(
        (r.tags.get("dagster/asset_partition_range_start"), r.tags.get("dagster/asset_partition_range_end"))
        if r.tags.get("dagster/asset_partition_range_start") else (r.tags["dagster/partition"],) * 2
        for r in runs
    )  # fmt: skip
    assert batches == [
        ("Dropped 0", "Dropped 1"), ("Dropped 2", "Dropped 3"), ("Dropped 4", "Dropped 4"),
        ("Slow Copy", "Slow Copy"),
    ]  # fmt: skip
    tracks = [f"Dropped {i}" for i in range(5)] + ["Slow Copy"]
    assert instance.get_materialized_partitions(AssetKey("loudness")) == set(tracks)
    for track_id in tracks:
        info = read_info(info_path(project.library / track_id))
        assert "lufs" in info and "bpm" in info
        assert "brightness" not in info  # disabled features are not run


def test_a_backfill_of_a_new_feature_runs_only_that_asset_in_batches(
    light_project, tmp_path, monkeypatch
):
    project = light_project
    write_config(project.root, features=LIGHT_FEATURES, processing={"tracks_per_run": 2})
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("MIR_CONFIG", str(project.config_path))
    from tests.dagster_dev import ROOT

    (home / "dagster.yaml").write_text((ROOT / "config" / "dagster.yaml").read_text())
    instance = DagsterInstance.get()
    paths = [project.add_audio(f"t{i}.wav", _song(i)) for i in range(4)]
    ids = register(project, paths, instance)
    from mir_assets.definitions import all_assets

    for track_id in ids:  # the library as it was processed before the new feature existed
        assert materialize(all_assets, selection=["source_audio", "beat_grid", "loudness"], partition_key=track_id,
                           instance=instance, resources=project.resources()).success  # fmt: skip
    before = {
        name: len(instance.fetch_materializations(AssetKey(name), limit=100).records)
        for name in ("beat_grid", "loudness")
    }
    runs_before = len(instance.get_runs())
    with dagster_dev(home, project.config_path, module="tests.fixtures.extended_location") as url:
        params = {
            "partitionNames": ids,
            "assetSelection": [{"path": ["loudness_class"]}],
            "fromFailure": False,
        }
        launched = graphql(url, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]

        def finished():
            backfill = instance.get_backfill(backfill_id)
            return (
                backfill.status.value
                in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED")
                and backfill
            )

        backfill = wait_until(finished, timeout_s=300)
        assert backfill, (home / "dagster_dev.log").read_text()[-3000:]
    runs = [r for r in instance.get_runs() if r.tags.get("dagster/backfill") == backfill_id]
    assert len(runs) == 2  # 4 tracks, 2 per run
    assert all(r.status == DagsterRunStatus.SUCCESS for r in runs)
    assert all(r.asset_selection == {AssetKey("loudness_class")} for r in runs)
    assert len(instance.get_runs()) == runs_before + 2
    after = {
        name: len(instance.fetch_materializations(AssetKey(name), limit=100).records)
        for name in ("beat_grid", "loudness")
    }
    assert after == before  # nothing upstream was recomputed
    rows = DuckDBTables(project.duckdb).read("loudness_class")
    assert set(rows) == set(ids)
    for track_id in ids:
        assert read_info(info_path(project.library / track_id))["loudness_class"] in (
            "loud",
            "soft",
        )


PARTITION_STATUS = """
query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) { ... on AssetNode {
  assetPartitionStatuses { ... on DefaultPartitionStatuses {
    materializedPartitions failedPartitions unmaterializedPartitions } } } } }
"""
ISOLATION_ASSETS = ["source_audio", "beat_grid", "loudness", "rhythm_features", "training_crops", "sat_dataset"]  # fmt: skip


def test_a_backfill_in_batches_carries_every_good_track_to_the_dataset(light_project, tmp_path):
    """6 tracks in runs of 3, launched as the UI launches a backfill: one file is corrupt
    (it passed the door and broke later), one is too short for the beat tracker and for a
    crop (it goes through with its tempo undefined, and has no crop to give the dataset).
    The 4 good tracks reach sat_dataset; the UI shows the corrupt track's partitions failed
    and the others materialized; a backfill of the failed partitions, once the file is
    restored, runs only them."""
    project = light_project
    write_config(
        project.root,
        features=LIGHT_FEATURES,
        processing={"tracks_per_run": 3},
        crops={"length_samples": 88200, "timeseries": False, "features": False},
    )
    home = tmp_path / "home"
    paths = [project.add_audio(f"t{i}.wav", _song(i)) for i in range(6)]
    corrupt, short = paths[1], paths[4]
    corrupt_bytes = corrupt.read_bytes()
    home.mkdir()
    from tests.dagster_dev import ROOT

    (home / "dagster.yaml").write_text((ROOT / "config" / "dagster.yaml").read_text())
    instance = DagsterInstance.from_config(str(home))
    ids = register(project, paths, instance)
    corrupt.write_bytes(b"RIFF" + bytes(300))  # broken after it was registered
    sf.write(str(short), _song(4)[: SR // 4], SR)  # 0.25 s: too short to track beats or crop
    with dagster_dev(home, project.config_path) as url:

        def backfill(partitions):
            params = {
                "partitionNames": partitions,
                "assetSelection": [{"path": [a]} for a in ISOLATION_ASSETS],
                "fromFailure": False,
            }
            launched = graphql(url, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
            assert launched["__typename"] == "LaunchBackfillSuccess", launched
            backfill_id = launched["backfillId"]

            def finished():
                b = instance.get_backfill(backfill_id)
                done = ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED")
                return b.status.value in done and b

            assert wait_until(finished, timeout_s=400), (home / "dagster_dev.log").read_text()[
                -3000:
            ]
            return [r for r in instance.get_runs() if r.tags.get("dagster/backfill") == backfill_id]

        def statuses():
            out = {}
            for asset in ISOLATION_ASSETS:
                node = graphql(url, PARTITION_STATUS, {"key": {"path": [asset]}})[
                    "assetNodeOrError"
                ]
                s = node["assetPartitionStatuses"]
                out[asset] = (set(s["materializedPartitions"]), set(s["failedPartitions"]))
            return out

        runs = backfill(ids)
        assert len(runs) == 2  # 6 tracks, 3 per run
        good = {"t0", "t2", "t3", "t5"}
        shown = statuses()
        (project.root / "partition_status.json").write_text(
            json.dumps({a: {"materialized": sorted(m), "failed": sorted(f)} for a, (m, f) in shown.items()}, indent=1)
        )  # fmt: skip
        for asset, (materialized, failed) in shown.items():
            expected_failed = {"t1"}
            assert failed == expected_failed, (asset, shown)
            assert materialized == set(ids) - expected_failed, (asset, shown)
        dataset = project.root / "data" / "sat_dataset"
        assert {p.name for p in dataset.iterdir() if p.is_dir()} == good
        assert read_info(info_path(project.library / "t4"))["bpm"] is None  # undefined, stored null
        touched = {t: info_path(project.library / t).stat().st_mtime_ns for t in good}

        # the file restored: a backfill of the failed partitions completes them alone
        corrupt.write_bytes(corrupt_bytes)
        failed = sorted(shown["beat_grid"][1])
        runs = backfill(failed)
        assert all(r.status == DagsterRunStatus.SUCCESS for r in runs), runs
        covered = set()
        for r in runs:
            start = r.tags.get("dagster/asset_partition_range_start")
            covered |= (
                {start, r.tags.get("dagster/asset_partition_range_end")}
                if start
                else {r.tags["dagster/partition"]}
            )
        assert covered == {"t1"}
        for asset, (materialized, failed_now) in statuses().items():
            assert failed_now == set() and materialized == set(ids), asset
        assert {p.name for p in dataset.iterdir() if p.is_dir()} == good | {"t1"}
        for track in good:  # the good tracks were not touched
            assert info_path(project.library / track).stat().st_mtime_ns == touched[track]
