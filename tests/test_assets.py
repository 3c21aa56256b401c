"""Assets through Dagster: a synthesised track materialized as a partition."""

import numpy as np
import pyloudnorm
import pytest
from dagster import AssetKey

from mir.info import info_path, read_info, read_times
from mir.synth import click_track
from store.duckdb import DuckDBTables
from tests.helpers import register, run_track

SR = 44100


@pytest.fixture
def click_partition(project, instance):
    y, truth = click_track(128, duration_s=20, sr=SR)
    path = project.add_audio("01 - Click 128.wav", np.stack([y, y], axis=1))
    (track_id,) = register(project, [path], instance)
    result = run_track(
        project, instance, track_id, selection=["source_audio", "beat_grid", "loudness"]
    )
    assert result.success
    return track_id, truth, path


def test_materialized_click_track_has_beats_within_20_ms_and_bpm_within_1_percent(
    project, click_partition
):
    track_id, truth, _ = click_partition
    assert track_id == "Click 128"
    track_dir = project.library / track_id
    beats = read_times(track_dir / f"{track_id}.BEATS_GRID")
    assert max(np.min(np.abs(beats - t)) for t in truth) < 0.020
    downbeats = read_times(track_dir / f"{track_id}.DOWNBEATS")
    assert set(np.diff(np.searchsorted(beats, downbeats))) == {4}
    info = read_info(info_path(track_dir))
    assert info["bpm"] == pytest.approx(128, rel=0.01)
    assert info["beats_per_bar"] == 4


def test_full_mix_is_a_byte_exact_copy_and_the_original_stays(project, click_partition):
    track_id, _, original = click_partition
    copy = project.library / track_id / "full_mix.wav"
    assert copy.read_bytes() == original.read_bytes()
    assert original.exists()
    info = read_info(info_path(project.library / track_id))
    assert info["duration_s"] == pytest.approx(20.0, abs=1e-3)
    assert info["sample_rate"] == SR and info["channels"] == 2
    # relative to the inbox, where machines mounting it elsewhere agree
    assert info["source_path"] == original.relative_to(project.inbox).as_posix()


def test_duckdb_rows_and_info_keys_agree(project, click_partition):
    track_id, _, _ = click_partition
    info = read_info(info_path(project.library / track_id))
    tables = DuckDBTables(project.duckdb)
    for table in ("source_audio", "beat_grid", "loudness"):
        row = tables.read(table, [track_id])[track_id]
        assert row, table
        for key, value in row.items():
            assert (
                info[key] == pytest.approx(value)
                if isinstance(value, float)
                else info[key] == value
            )


def test_lufs_of_a_calibrated_track_matches_pyloudnorm(project, instance):
    t = np.arange(SR * 6) / SR
    y = 10 ** (-18 / 20) * np.sin(2 * np.pi * 997 * t)
    stereo = np.stack([y, y], axis=1)
    path = project.add_audio("sine.flac", stereo)
    (track_id,) = register(project, [path], instance)
    assert run_track(project, instance, track_id, selection=["source_audio", "loudness"]).success
    row = DuckDBTables(project.duckdb).read("loudness", [track_id])[track_id]
    assert row["lufs"] == pytest.approx(pyloudnorm.Meter(SR).integrated_loudness(stereo), abs=0.1)


def test_rematerializing_upserts_one_row_and_adds_no_duplicate(project, instance, click_partition):
    track_id, _, _ = click_partition
    assert run_track(project, instance, track_id, selection=["loudness"]).success
    with DuckDBTables(project.duckdb).connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM loudness").fetchone()[0] == 1
    mats = instance.get_latest_materialization_event(AssetKey("loudness"))
    assert mats.asset_materialization.partition == track_id


def test_new_keys_become_new_columns(project):
    tables = DuckDBTables(project.duckdb)
    tables.upsert("spectral", {"a": {"x": 1.0}})
    tables.upsert("spectral", {"b": {"x": 2.0, "y": {"rock": 0.7}}})
    rows = tables.read("spectral")
    assert rows == {"a": {"x": 1.0}, "b": {"x": 2.0, "y": {"rock": 0.7}}}


def test_a_batch_upsert_casts_each_value_to_its_column_and_replaces_whole_rows(project):
    tables = DuckDBTables(project.duckdb)
    tables.upsert("mixed", {"a": {"count": 3, "name": "x", "ok": True}})
    # a float widens the BIGINT column; ints, NaN and missing keys share the batch
    tables.upsert(
        "mixed",
        {
            "a": {"count": 2.5, "name": "y", "ok": False},
            "b": {"count": 4, "name": None},
            "c": {"count": float("nan"), "name": 7},
        },
    )
    assert tables.read("mixed") == {
        "a": {"count": 2.5, "name": "y", "ok": False},
        "b": {"count": 4.0},
        "c": {"name": "7"},
    }
