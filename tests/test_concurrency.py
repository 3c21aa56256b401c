"""Concurrent runs share the DuckDB feature store: they queue on its lock, none fails."""

import multiprocessing as mp

import numpy as np

from mir.info import info_path, read_info
from mir.synth import click_track
from store.duckdb import DuckDBTables
from tests.helpers import register


def _run_tracks(config_path: str, track_ids: list[str], worker: int) -> None:
    from dagster import DagsterInstance, materialize

    from mir_assets.definitions import all_assets, make_resources
    from resources.settings import PipelineSettings
    from store.duckdb import DuckDBTables

    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("tracks", track_ids)
    for track_id in track_ids:
        result = materialize(
            all_assets,
            selection=["source_audio", "loudness"],
            partition_key=track_id,
            instance=instance,
            resources=make_resources(config_path),
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
        assert result.success
    tables = DuckDBTables(PipelineSettings(config_path=config_path).config.paths.duckdb)
    for i in range(25):  # and many small writes in between
        tables.upsert("stress", {f"w{worker}-{i}": {"worker": worker, "i": i}})


def test_four_concurrent_runs_lose_no_row(project, instance):
    paths = []
    for i in range(12):
        y, _ = click_track(90 + 5 * i, duration_s=2.0)
        paths.append(project.add_audio(f"track{i:02d}.wav", np.stack([y, y], 1)))
    ids = register(project, paths, instance)
    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=_run_tracks, args=(str(project.config_path), ids[w::4], w))
        for w in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    tables = DuckDBTables(project.duckdb)
    assert set(tables.read("loudness")) == set(ids)
    assert set(tables.read("source_audio")) == set(ids)
    assert len(tables.read("stress")) == 100
    for track_id in ids:
        info = read_info(info_path(project.library / track_id))
        assert {"lufs", "lra", "sha256", "duration_s"} <= set(info)
