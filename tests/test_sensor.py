"""The inbox sensor through Dagster's build_sensor_context."""

import os
import shutil
import time

import numpy as np
import soundfile as sf
from dagster import SensorResult, SkipReason, build_sensor_context

from mir.synth import click_track
from mir_assets.definitions import inbox_sensor
from store.duckdb import DuckDBTables
from tests.conftest import write_config


def _tick(project, instance, cursor=None):
    """One evaluation; applies its partition requests as the daemon would."""
    context = build_sensor_context(
        instance=instance, cursor=cursor, resources={"settings": project.settings()}
    )
    result = inbox_sensor(context)
    if isinstance(result, SensorResult):
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
        return result, result.cursor
    assert isinstance(result, SkipReason)
    return result, context.cursor


def _wav(project, name, seconds=2.0):
    y, _ = click_track(120, duration_s=seconds)
    return project.add_audio(name, np.stack([y, y], axis=1))


def test_a_new_file_becomes_a_partition_and_a_run_once_it_has_settled(project, instance):
    _wav(project, "01 - First.wav")
    first, cursor = _tick(project, instance)
    assert isinstance(first, SkipReason)  # seen once: not yet known to be complete
    second, cursor = _tick(project, instance, cursor)
    assert [r.partition_key for r in second.run_requests] == ["First"]
    assert instance.get_dynamic_partitions("tracks") == ["First"]
    third, _ = _tick(project, instance, cursor)
    assert isinstance(third, SkipReason) and "1 known" in third.skip_message


def test_a_file_still_growing_is_not_picked_up(project, instance):
    path = _wav(project, "growing.wav")
    _, cursor = _tick(project, instance)
    with open(path, "ab") as f:  # the copy is still in progress
        f.write(b"\0" * 4096)
    result, cursor = _tick(project, instance, cursor)
    assert isinstance(result, SkipReason)
    result, _ = _tick(project, instance, cursor)
    assert [r.partition_key for r in result.run_requests] == ["growing"]


def test_a_file_younger_than_stable_seconds_waits(project, instance):
    write_config(project.root, sensor={"stable_seconds": 3600.0})
    _wav(project, "fresh.wav")
    _, cursor = _tick(project, instance)
    result, _ = _tick(project, instance, cursor)
    assert isinstance(result, SkipReason)


def test_the_same_content_twice_is_one_track(project, instance):
    a = _wav(project, "Song.wav")
    (project.inbox / "b").mkdir()
    shutil.copy(a, project.inbox / "b" / "Song (copy).wav")
    _, cursor = _tick(project, instance)
    result, cursor = _tick(project, instance, cursor)
    assert [r.partition_key for r in result.run_requests] == ["Song"]
    again, _ = _tick(project, instance, cursor)
    assert isinstance(again, SkipReason)
    assert DuckDBTables(project.duckdb).track_ids() == ["Song"]


def test_at_most_max_new_tracks_per_tick(project, instance):
    write_config(project.root, sensor={"stable_seconds": 0.0, "max_new_tracks_per_tick": 2})
    for i in range(3):
        _wav(project, f"t{i}.wav", seconds=1.0 + i * 0.1)
    _, cursor = _tick(project, instance)
    result, cursor = _tick(project, instance, cursor)
    (batch,) = result.run_requests  # two new tracks: one run over both
    assert (batch.partition_key_range.start, batch.partition_key_range.end) == ("t0", "t1")
    result, _ = _tick(project, instance, cursor)
    assert [r.partition_key for r in result.run_requests] == ["t2"]


def test_new_tracks_go_out_as_runs_of_tracks_per_run_each_a_partition_range(project, instance):
    from mir_assets.partitions import TRACKS

    write_config(project.root, processing={"tracks_per_run": 3})
    for i in range(7):
        _wav(project, f"b{i}.wav", seconds=1.0 + i * 0.1)
    _, cursor = _tick(project, instance)
    result, _ = _tick(project, instance, cursor)
    assert len(result.run_requests) == 3  # ceil(7 / 3)
    keys = instance.get_dynamic_partitions(TRACKS)
    covered = []
    for request in result.run_requests:
        if request.partition_key_range is None:
            covered.append([request.partition_key])
            continue
        r = request.partition_key_range  # Dagster resolves a range in partition order
        span = keys[keys.index(r.start) : keys.index(r.end) + 1]
        covered.append(span)
        assert request.run_key == f"tracks:{span[0]}..{span[-1]}"
    assert [len(c) for c in covered] == [3, 3, 1]
    assert sorted(k for c in covered for k in c) == sorted(keys) == [f"b{i}" for i in range(7)]


def test_a_tick_over_ten_thousand_known_files_hashes_nothing_and_stays_fast(project, instance):
    tables = DuckDBTables(project.duckdb)
    files = []
    for i in range(10_000):
        folder = project.inbox / f"album{i // 500:02d}"
        folder.mkdir(exist_ok=True)
        path = folder / f"{i:05d} track.wav"
        path.write_bytes(b"RIFF")
        files.append(path)
    # registered with made-up hashes: a tick that hashed them would register nothing new
    # but a tick that does not look them up at all would request 10,000 runs
    tables.register([(p, f"{i:064x}", f"track {i}") for i, p in enumerate(files)])
    instance.add_dynamic_partitions("tracks", tables.track_ids())
    started = time.perf_counter()
    result, cursor = _tick(project, instance)
    elapsed = time.perf_counter() - started
    assert isinstance(result, SkipReason)
    assert "10000 known" in result.skip_message
    assert cursor is None or len(cursor) < 100  # nothing pending: the cursor stays small
    assert elapsed < 10.0, f"tick took {elapsed:.1f} s"
    os.utime(files[0], (time.time(), time.time() + 5))  # touched: looked at again
    result, _ = _tick(project, instance, cursor)
    assert "9999 known" in result.skip_message


def test_a_corrupt_file_is_rejected_with_its_reason_and_tried_again_once_it_changes(
    project, instance
):
    from mir_assets.partitions import TRACKS

    good = _wav(project, "good.wav")
    broken = project.inbox / "broken.flac"
    broken.write_bytes(b"fLaC" + bytes(4000))
    cut = project.inbox / "cut.flac"
    y, _ = click_track(120, duration_s=3.0)
    sf.write(str(cut), np.stack([y, y], axis=1), 44100)
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])  # a truncated copy
    _, cursor = _tick(project, instance)
    result, cursor = _tick(project, instance, cursor)
    assert [r.partition_key for r in result.run_requests] == ["good"]
    assert instance.get_dynamic_partitions(TRACKS) == ["good"]
    rejected = DuckDBTables(project.duckdb, inbox=project.inbox).rejected()
    assert set(rejected) == {str(broken), str(cut)}
    assert "not a readable audio file" in rejected[str(broken)][2]
    assert "lost sync" in rejected[str(cut)][2]  # its end does not decode
    assert good.exists() and broken.read_bytes().startswith(b"fLaC")  # originals untouched
    # unchanged, a rejected file is not probed again: the next tick has nothing to do
    result, cursor = _tick(project, instance, cursor)
    assert isinstance(result, SkipReason) and "3 known" in result.skip_message
    # the user replaces it with a good copy: it settles and becomes a track
    time.sleep(0.01)
    sf.write(str(cut), np.stack([y, y], axis=1), 44100)
    _, cursor = _tick(project, instance, cursor)
    result, _ = _tick(project, instance, cursor)
    assert [r.partition_key for r in result.run_requests] == ["cut"]
    assert set(DuckDBTables(project.duckdb, inbox=project.inbox).rejected()) == {str(broken)}
