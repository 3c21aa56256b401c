"""Bad input fails its own track clearly; nothing else is lost or touched."""

import numpy as np
import soundfile as sf
from dagster import materialize
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from mir.info import info_path, read_info, safe_update
from mir.synth import click_track
from mir_assets.definitions import all_assets, all_checks
from store.duckdb import DuckDBTables
from tests.helpers import register, run_track

MIX_FEATURES = ["source_audio", "beat_grid", "loudness", "spectral_features"]


def _bad_files(project):
    empty = project.inbox / "empty.wav"
    empty.write_bytes(b"")
    text = project.inbox / "notes.mp3"
    text.write_text("not audio at all\n" * 100)
    cut = project.inbox / "cut.flac"
    y, _ = click_track(120, duration_s=4)
    sf.write(str(cut), np.stack([y, y], 1), 44100)
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    return {
        "empty": (empty, "file is empty"),
        "notes": (text, "not a readable audio file"),
        "cut": (cut, "truncated|not a readable"),
    }


def test_bad_files_fail_alone_with_a_clear_error_and_keep_existing_data(project, instance):
    y, _ = click_track(120, duration_s=6)
    good = project.add_audio("good.wav", np.stack([y, y], 1))
    bad = _bad_files(project)
    originals = {p: p.read_bytes() for p in [good, *(f for f, _ in bad.values())]}
    ids = register(project, [good, *(f for f, _ in bad.values())], instance)
    assert set(ids) == {"good", "empty", "notes", "cut"}

    assert run_track(project, instance, "good", selection=MIX_FEATURES).success
    tables = DuckDBTables(project.duckdb)
    before_rows = {t: tables.read(t) for t in MIX_FEATURES}
    good_info = info_path(project.library / "good").read_text()
    # an earlier, successful analysis of "cut" left an .INFO behind: it must survive
    safe_update(info_path(project.library / "cut"), {"lufs": -12.5, "note": "from an earlier run"})
    cut_info = info_path(project.library / "cut").read_text()

    import re

    for track_id, (path, reason) in bad.items():
        result = run_track(
            project, instance, track_id, selection=MIX_FEATURES, raise_on_error=False
        )
        assert not result.success
        (failure,) = [e for e in result.all_events if e.is_step_failure]
        assert failure.step_key == "source_audio"
        message = failure.step_failure_data.error.message
        assert path.name in message and re.search(reason, message), message
        ran = {e.step_key for e in result.all_events if e.is_step_success}
        assert ran == set()  # the features downstream of a broken file do not run

    assert {t: tables.read(t) for t in before_rows} == before_rows
    assert info_path(project.library / "good").read_text() == good_info
    assert info_path(project.library / "cut").read_text() == cut_info
    assert read_info(info_path(project.library / "cut"))["note"] == "from an earlier run"
    assert all(p.read_bytes() == data for p, data in originals.items())


def test_a_batch_run_stores_its_good_tracks_and_names_the_bad_one(project, instance):
    files = []
    for i, bpm in enumerate((100, 120)):
        y, _ = click_track(bpm, duration_s=4)
        files.append(project.add_audio(f"good{i}.wav", np.stack([y, y], 1)))
    empty = project.inbox / "hole.wav"
    empty.write_bytes(b"")
    ids = register(project, [files[0], empty, files[1]], instance)
    assert ids == ["good0", "hole", "good1"]
    result = materialize(
        [*all_assets, *all_checks],
        selection=["source_audio"],
        instance=instance,
        resources=project.resources(),
        raise_on_error=False,
        tags={ASSET_PARTITION_RANGE_START_TAG: "good0", ASSET_PARTITION_RANGE_END_TAG: "good1"},
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "source_audio_values_in_range"  # the asset step stored the rest
    message = failure.step_failure_data.error.message + str(
        failure.step_failure_data.user_failure_data
    )
    assert "hole" in message and "file is empty" in message
    rows = DuckDBTables(project.duckdb).read("source_audio")
    assert set(rows) == {"good0", "good1"}
    assert read_info(info_path(project.library / "good1"))["duration_s"] > 3.9


def test_a_missing_beat_grid_file_fails_rhythm_features_naming_it_and_writes_nothing(
    project, instance
):
    y, _ = click_track(120, duration_s=6)
    path = project.add_audio("grid.wav", np.stack([y, y], 1))
    (track_id,) = register(project, [path], instance)
    assert run_track(project, instance, track_id, selection=["source_audio", "beat_grid"]).success
    grid = project.library / track_id / f"{track_id}.BEATS_GRID"
    grid.unlink()
    result = run_track(
        project, instance, track_id, selection=["rhythm_features"], raise_on_error=False
    )
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message
    assert str(grid) in message and "`beat_grid` asset" in message, message
    assert DuckDBTables(project.duckdb).read("rhythm_features") == {}
    assert "syncopation" not in read_info(info_path(project.library / track_id))
    # a grid that no longer holds the beats beat_grid recorded is refused the same way
    grid.write_text("0.500000\n")
    result = run_track(
        project, instance, track_id, selection=["rhythm_features"], raise_on_error=False
    )
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "stale" in failure.step_failure_data.error.message


def test_an_undefined_tempo_is_not_stated_as_fact():
    from mir.captions.template import template_caption
    from mir.dataset.sat_export import sidecar

    undefined = {
        "bpm": 120.0,
        "bpm_is_defined": 0,
        "lufs": -14.0,
        "tonic": 0,
        "tonic_scale": "major",
    }
    assert "BPM" not in template_caption(undefined)
    keys = ("bpm", "lufs")
    assert "bpm" not in sidecar(undefined, prompt="x", seconds_total=10.0, keys=keys)
    measured = {**undefined, "bpm": 97.0, "bpm_is_defined": 1}
    assert "at 97 BPM" in template_caption(measured)
    assert sidecar(measured, prompt="x", seconds_total=10.0, keys=keys)["bpm"] == 97.0
