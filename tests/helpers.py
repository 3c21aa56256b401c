"""Helpers for tests that run assets through Dagster."""

from __future__ import annotations

from pathlib import Path

from dagster import DagsterInstance, materialize

from mir_assets.definitions import all_assets, all_checks
from mir_assets.partitions import add_track_partitions
from store.duckdb import DuckDBTables
from store.registry import register_files
from store.tables import FeatureTables


def register(
    project, paths: list[Path], instance: DagsterInstance, tables: FeatureTables | None = None
) -> list[str]:
    """Register files as tracks (in the project's DuckDB file unless `tables` is given) and
    add their partitions; returns the track ids. The files are not probed (as the sensor
    and `mir run` do, :func:`~store.registry.admit_files`): the tests of bad input
    register files that do not decode, to see the assets fail on them."""
    tables = tables or DuckDBTables(project.duckdb, inbox=project.inbox)
    ids = list(dict.fromkeys(track_id for track_id, _, _ in register_files(tables, list(paths))))
    add_track_partitions(instance, ids)
    return ids


def run_track(project, instance, track_id: str, selection=None, raise_on_error=True):
    return materialize(
        [*all_assets, *all_checks],
        selection=selection,
        partition_key=track_id,
        instance=instance,
        resources=project.resources(),
        raise_on_error=raise_on_error,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )


def step_failures(result) -> dict[str, str]:
    """`{step key: error message}` for every step of `result` that failed."""
    return {
        e.step_key: e.step_failure_data.error.message
        for e in result.all_events
        if e.is_step_failure
    }


def failures_of_one_song(project, instance, selection: list[str], name="Plain.wav") -> dict:
    """Render a two-bar song into the inbox, register it, materialize `selection` for it
    without raising, and return :func:`step_failures` of that run."""
    from mir.synth import render_song

    path = project.add_audio(name, render_song(bpm=100, bars=2).mix)
    (track_id,) = register(project, [path], instance)
    result = run_track(project, instance, track_id, selection=selection, raise_on_error=False)
    return step_failures(result)
