"""One bad track never costs the others in a run over many tracks (a partition range)."""

import numpy as np
from dagster import AssetKey, materialize

from mir.info import info_path, read_info
from mir.synth import click_track
from mir_assets.definitions import all_assets, all_checks
from mir_assets.partitions import tracks_partitions
from mir_assets.track_failures import stored_partitions
from store.duckdb import DuckDBTables
from tests.helpers import register

SELECTION = ["source_audio", "beat_grid", "loudness", "rhythm_features"]
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def _status(instance, asset: str) -> tuple[set[str], set[str]]:
    """(materialized, failed) partitions of an asset, as the UI's GraphQL reports them."""
    from dagster._core.storage.partition_status_cache import (
        get_and_update_asset_status_cache_value,
    )

    value = get_and_update_asset_status_cache_value(instance, AssetKey(asset), tracks_partitions)
    failed = set(value.deserialize_failed_partition_subsets(tracks_partitions).get_partition_keys())
    done = set(
        value.deserialize_materialized_partition_subsets(tracks_partitions).get_partition_keys()
    )
    assert stored_partitions(instance, AssetKey(asset)) == done - failed  # what mir run reads
    return done - failed, failed


def _run(project, instance, first, last):
    return materialize(
        [*all_assets, *all_checks],
        selection=SELECTION,
        instance=instance,
        resources=project.resources(),
        raise_on_error=False,
        tags={RANGE_START: first, RANGE_END: last},
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
    )


def test_a_track_failing_in_a_batch_leaves_the_others_to_finish_and_shows_failed(project, instance):
    paths = []
    for i, name in enumerate(["one", "short", "three", "broken"]):
        y, _ = click_track(100 + 10 * i, duration_s=0.3 if name == "short" else 6)
        paths.append(project.add_audio(f"{name}.wav", np.stack([y, y], 1)))
    broken = paths[3]
    original = broken.read_bytes()
    broken.write_bytes(b"RIFF" + bytes(200))  # passed the door, then was overwritten
    ids = register(project, paths, instance)
    assert ids == ["one", "short", "three", "broken"]

    result = _run(project, instance, "one", "broken")
    assert not result.success  # the run reports its failures
    tables = DuckDBTables(project.duckdb)
    # the good tracks went through every asset of the run; "short" too, with its tempo
    # undefined (0.3 s is too short for the beat tracker: stored as null with its reason)
    assert set(tables.read("rhythm_features")) == {"one", "short", "three"}
    assert "syncopation" in read_info(info_path(project.library / "three"))
    short = read_info(info_path(project.library / "short"))
    assert short["bpm"] is None and short["beat_grid_undefined"]["bpm"]
    # "broken" failed at the door of the pipeline, source_audio, and everything after it
    expected_failed = dict.fromkeys(("source_audio", "loudness", "beat_grid", "rhythm_features"),
                                    {"broken"})  # fmt: skip
    for asset, failed in expected_failed.items():
        done, shown_failed = _status(instance, asset)
        assert shown_failed == failed, asset
        assert done == {"one", "short", "three", "broken"} - failed, asset
    assert set(tables.read("loudness")) == {"one", "short", "three"}
    failures = {e.step_key for e in result.all_events if e.is_step_failure}
    assert failures == {
        "source_audio_values_in_range", "beat_grid_values_in_range",
        "loudness_values_in_range", "rhythm_features_values_in_range",
    }  # fmt: skip

    # the user restores the file: a run of the failed partition completes it alone
    counts = {
        a: len(instance.fetch_materializations(AssetKey(a), limit=100).records) for a in SELECTION
    }
    broken.write_bytes(original)
    assert _run(project, instance, "broken", "broken").success
    for asset in SELECTION:
        done, failed = _status(instance, asset)
        assert "broken" in done and "broken" not in failed, asset
        after = len(instance.fetch_materializations(AssetKey(asset), limit=100).records)
        assert after == counts[asset] + 1, asset  # only the re-run partition
    assert set(tables.read("rhythm_features")) == {"one", "short", "three", "broken"}
