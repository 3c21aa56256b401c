"""All feature assets of a track through Dagster: keys, range checks, stems."""

import numpy as np
import pytest
import soundfile as sf

from mir.analysis import analysis_families
from mir.info import info_path, read_info, read_times
from mir.synth import render_song
from mir_assets.checks import evaluate_ranges
from mir_assets.definitions import all_assets, all_checks
from store.duckdb import DuckDBTables
from tests.helpers import register, run_track, step_failures

SR = 44100
#: the keys every analysed track has: those of the families `mir analyze` runs
AUDIO_FEATURES = {
    f.key for family in analysis_families() for f in family.keys if not (f.optional or f.pattern)
}
# every track asset but the separation itself: these tests bring their own stems
EXCLUDED = {
    "stems",
    "classification",
    "drum_transcription",  # needs ADTOF weights; tests/test_transcription.py covers both
    "pitch_transcription",
    "aesthetics",
    "training_crops",
    "sat_dataset",
    "track_timeseries",
    "latent_windows",  # reads track_timeseries; tests/test_latent_corpus.py covers both
    "latents",
    "feature_statistics",
}
FEATURES_ONLY = [a.key.path[-1] for a in all_assets if a.key.path[-1] not in EXCLUDED]


@pytest.fixture
def song_track(project, instance):
    song = render_song(bpm=120, bars=4, tonic="D", scale="major")
    path = project.add_audio("01 - Demo Song.flac", song.mix)
    (track_id,) = register(project, [path], instance)
    return track_id, song


def _write_stems(project, track_id, song):
    folder = project.library / track_id
    folder.mkdir(parents=True, exist_ok=True)
    for name, stem in song.stems.items():
        sf.write(str(folder / f"{name}.flac"), stem, SR)


def test_a_track_with_stems_gets_every_feature_key_and_green_range_checks(
    project, instance, song_track
):
    track_id, song = song_track
    _write_stems(project, track_id, song)
    result = run_track(project, instance, track_id, selection=FEATURES_ONLY)
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    expected = {k.asset_key.path[-1] for c in all_checks for k in c.check_keys} & set(FEATURES_ONLY)
    assert {e.asset_key.path[-1] for e in evaluations} == expected
    assert all(e.passed for e in evaluations), [e.description for e in evaluations if not e.passed]
    info = read_info(info_path(project.library / track_id))
    missing = sorted(set(AUDIO_FEATURES) - set(info))
    assert not missing, missing
    tables = DuckDBTables(project.duckdb)
    stored = {}
    for asset in all_assets:
        stored.update(tables.read(asset.key.path[-1], [track_id]).get(track_id, {}))
    assert set(AUDIO_FEATURES) <= set(stored)
    assert info["tonic"] == 2 and info["tonic_scale"] == "major"  # D major
    assert info["harmonic_source"] == "bass+other"
    assert read_times(project.library / track_id / f"{track_id}.ONSETS").size >= 8
    with tables.connect(read_only=True) as con:
        comment = con.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'loudness' AND column_name = 'lufs'"
        ).fetchone()[0]
    assert "BS.1770" in comment


def test_per_stem_assets_fail_clearly_without_stems_and_nothing_else_does(
    project, instance, song_track
):
    track_id, _ = song_track
    result = run_track(project, instance, track_id, selection=FEATURES_ONLY, raise_on_error=False)
    failed = step_failures(result)
    assert set(failed) == {"stem_rhythm", "stem_loudness", "stem_harmonic"}
    assert all("materialize the `stems` asset" in m for m in failed.values())
    succeeded = {e.step_key for e in result.all_events if e.is_step_success}
    assert {
        "source_audio",
        "beat_grid",
        "rhythm_features",
        "loudness",
        "spectral_features",
        "harmonic_features",
    } <= succeeded
    assert read_info(info_path(project.library / track_id))["harmonic_source"] == "full_mix"


def test_an_out_of_range_value_fails_its_check_naming_key_and_value(project, instance, song_track):
    track_id, _ = song_track
    assert run_track(project, instance, track_id, selection=["source_audio", "loudness"]).success
    tables = DuckDBTables(project.duckdb)
    assert evaluate_ranges([track_id], tables.read("loudness", [track_id])).passed
    tables.upsert("loudness", {track_id: {"lufs": 13.5, "lra": 2.0}})  # above any master
    result = evaluate_ranges([track_id], tables.read("loudness", [track_id]))
    assert not result.passed
    assert "lufs = 13.5 outside -70..12 LUFS" in result.description
    assert not evaluate_ranges(["nobody"], {}).passed


def test_timbral_ratings_are_in_range_and_tell_varied_signals_apart():
    from mir.timbral import TIMBRAL_KEYS, timbral_features

    rng = np.random.default_rng(0)
    t = np.arange(SR * 3) / SR
    signals = {
        "low sine": 0.5 * np.sin(2 * np.pi * 80 * t),
        "high sine": 0.5 * np.sin(2 * np.pi * 6000 * t),
        "white noise": 0.2 * rng.standard_normal(t.size),
        "clicks": np.where((t % 0.25) < 0.002, 0.8, 0.0) + 0.001 * rng.standard_normal(t.size),
        "song": render_song(bpm=100, bars=2).mix.mean(1)[: t.size],
    }
    results = {name: timbral_features(y, sr=SR) for name, y in signals.items()}
    for name, values in results.items():
        assert set(values) == set(TIMBRAL_KEYS)
        assert all(0 <= v <= 100 and np.isfinite(v) for v in values.values()), (name, values)
    for key in TIMBRAL_KEYS:  # no rating is stuck at one value across the signals
        assert len({values[key] for values in results.values()}) > 1, key
    assert results["high sine"]["brightness"] > results["low sine"]["brightness"]
    assert results["low sine"]["booming"] > results["high sine"]["booming"]
