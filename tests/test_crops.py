"""Training crops, time series, the Stable Audio Tools export and the statistics."""

import importlib.util
import json

import numpy as np
import pytest
import soundfile as sf
from dagster import AssetKey, materialize

from mir.dataset.crops import cut, is_silent, plan_crops
from mir.info import read_info
from mir.synth import render_song
from mir_assets.definitions import all_assets, all_checks
from store.duckdb import DuckDBTables
from tests.conftest import write_config
from tests.helpers import register, run_track

SR = 44100
LENGTH = 4 * SR  # short crops keep the tests quick
PIPELINE = [
    "source_audio",
    "beat_grid",
    "loudness",
    "harmonic_features",
    "track_timeseries",
    "training_crops",
    "sat_dataset",
]


def test_beat_aligned_crops_start_and_end_on_downbeats_and_keep_three_quarters():
    song = render_song(bpm=120, bars=24)  # bars of 2 s
    y = song.mix.mean(1)
    crops = plan_crops(
        y, sr=SR, length=int(9.5 * SR), beats=song.beats, downbeats=song.downbeats, div4=True
    )
    assert len(crops) >= 4
    for crop in crops:
        assert crop.samples >= 0.75 * 9.5 * SR
        assert np.min(np.abs(song.downbeats - crop.start_time)) < 0.051
    for crop in crops[:-1]:  # the last one may run to the end of the track
        assert np.min(np.abs(song.downbeats - crop.end_time)) < 0.051
        # div4: 4 bars of 2 s
        assert crop.end_time - crop.start_time == pytest.approx(8.0, abs=0.06)
    starts = [c.start for c in crops]
    assert all(b.start == a.end for a, b in zip(crops, crops[1:], strict=False))  # contiguous
    assert starts[0] == pytest.approx(song.downbeats[0] * SR, abs=1)


def test_overlap_mode_starts_the_next_crop_half_a_crop_later():
    song = render_song(bpm=120, bars=16)
    crops = plan_crops(
        song.mix.mean(1),
        sr=SR,
        length=8 * SR,
        beats=song.beats,
        downbeats=song.downbeats,
        overlap=True,
    )
    assert crops[1].start_time - crops[0].start_time == pytest.approx(4.0, abs=0.06)


def test_sequential_mode_without_beats_skips_leading_silence():
    y = np.concatenate([np.zeros(2 * SR), 0.3 * np.random.default_rng(0).standard_normal(20 * SR)])
    crops = plan_crops(y, sr=SR, length=5 * SR, beats=np.zeros(0), downbeats=np.zeros(0))
    assert crops[0].start == 2 * SR and all(c.samples == 5 * SR for c in crops)


def test_fades_and_silence():
    from mir.dataset.crops import Crop

    x = np.ones((SR, 2), np.float32)
    out = cut(x, Crop(0, 0, SR, SR, 0))
    assert out[0, 0] == 0.0 and out[-1, 0] == 0.0 and out[SR // 2, 0] == 1.0
    assert is_silent(np.zeros((SR, 2))) and not is_silent(0.1 * x)


@pytest.fixture
def cropped(project, instance):
    write_config(project.root, crops={"length_samples": LENGTH}, paths={
        "inbox": str(project.inbox), "library": str(project.library), "duckdb": str(project.duckdb),
        "crops": str(project.root / "crops"), "dataset": str(project.root / "dataset"),
        "reports": str(project.root / "reports"),
    })  # fmt: skip
    song = render_song(bpm=120, bars=10, tonic="E", scale="minor")
    silent_tail = np.zeros((10 * SR, 2), np.float32)
    path = project.add_audio("01 - Crop Song.wav", np.concatenate([song.mix, silent_tail]))
    (track_id,) = register(project, [path], instance)
    assert run_track(project, instance, track_id, selection=PIPELINE).success
    return track_id, song


def test_crops_are_files_rows_and_infos_with_transferred_and_own_features(project, cropped):
    track_id, _ = cropped
    rows = DuckDBTables(project.duckdb).read_crop_rows("crops", [track_id])[track_id]
    assert len(rows) >= 3
    folder = project.root / "crops" / track_id
    for row in rows:
        info = read_info(folder / f"{track_id}_{row['crop_index']}.INFO")
        assert sf.info(str(folder / row["file"])).frames == row["samples"]
        assert info["bpm"] == pytest.approx(120, abs=1.5)
        assert info["samples"] >= 0.75 * LENGTH
        assert "lufs" in info and "spectral_flux" in info and "hpcp_0" in info  # its own features
        assert info["bpm_madmom"] > 0 and "duration_s" in info  # transferred from the track
    track_info = read_info(project.library / track_id / f"{track_id}.INFO")
    assert track_info["crops_rejected_silent"] >= 1  # the silent tail


def test_time_series_read_back_as_arrays_by_track_and_crop(project, cropped):
    track_id, _ = cropped
    tables = DuckDBTables(project.duckdb)
    crop = tables.read_arrays(track_id, 0)
    assert crop["hpcp_ts"].shape == (256, 12)
    assert crop["beat_activations_ts"].shape == (256,) and crop[
        "beat_activations_ts"
    ].max() == pytest.approx(1.0)
    whole = tables.read_arrays(track_id, -1)
    n = whole["onset_envelope_ts"].shape[0]
    assert n == pytest.approx(30 * 100, abs=200)
    assert whole["beat_activation_ts"].shape == (n,) and whole["hpcp_ts"].shape == (n, 12)


def test_the_stable_audio_tools_module_answers_like_stable_audio_tools_asks(project, cropped):
    track_id, _ = cropped
    root = project.root / "dataset"
    config = json.loads((root / "dataset_config.json").read_text())
    assert config["dataset_type"] == "audio_dir"
    module_path = config["datasets"][0]["custom_metadata_module"]
    spec = importlib.util.spec_from_file_location("custom_metadata", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    audio = root / track_id / f"{track_id}_1.wav"
    info = {
        "path": str(audio),
        "relpath": f"{track_id}/{audio.name}",
        "seconds_start": 0.0,
        "seconds_total": 4.0,
    }
    meta = module.get_custom_metadata(info, None)
    assert meta[
        "prompt"
    ] == "Music at 120 BPM in E minor, 4/4 time, moderately loud, bright." or meta[
        "prompt"
    ].startswith("Music at 120 BPM in E minor")
    sidecar = read_info(audio.with_suffix(".INFO")) if audio.with_suffix(".INFO").exists() else None
    assert sidecar is None  # sidecars are .json, next to the audio
    assert meta["seconds_total"] == pytest.approx(
        31.25, abs=0.01
    )  # 21.25 s of song + 10 s of silence
    assert meta["seconds_start"] > 3.0 and isinstance(meta["lufs"], float)
    # read once: a second call does not touch the files again
    (root / track_id / f"{track_id}_1.json").unlink()
    assert module.get_custom_metadata(info, None)["prompt"] == meta["prompt"]


def test_feature_statistics_report_with_plots(project, instance, cropped):
    result = materialize(
        [*all_assets, *all_checks],
        selection=[AssetKey("feature_statistics")],
        instance=instance,
        resources=project.resources(),
    )
    assert result.success
    (mat,) = result.get_asset_materialization_events()
    metadata = mat.materialization.metadata
    assert metadata["tracks"].value == 1 and metadata["features"].value > 40
    assert metadata["histograms"].value.startswith("![histograms](data:image/png;base64,")
    report = (project.root / "reports" / "feature_statistics.md").read_text()
    assert "| bpm | 1 |" in report
    assert (project.root / "reports" / "feature_correlations.png").read_bytes()[:4] == b"\x89PNG"


def test_a_crops_key_is_read_from_slices_of_its_tracks_analysis(monkeypatch):
    """The crop's HPCP frames and key network map are the track's (one network pass per
    track, none per crop), and its values match those computed on the crop alone: the
    same key, every other value equal but the HPCP bins, their TIV, the key's strength
    and confidence, which move by what a frame offset of at most 23 ms (and 1.6 s rows) can move them."""
    from mir import key as key_module
    from mir.audio import Audio
    from mir.dataset.crops import crop_features, crop_key_inputs

    sr = 48000  # a source at another rate than the analysis's
    song = render_song(bpm=120, bars=24, tonic="E", scale="minor", sr=sr, seed=3)
    track = Audio(song.mix.astype(np.float32), sr)
    plan = plan_crops(track.mono(), sr=sr, length=int(8.5 * sr), beats=song.beats,
                      downbeats=song.downbeats, div4=True)  # fmt: skip
    assert len(plan) >= 5
    calls = []
    rows = key_module.key_cnn_rows

    def counted(y, **kwargs):
        calls.append(y.size)
        return rows(y, **kwargs)

    monkeypatch.setattr("mir.harmonic.key_cnn_rows", counted)
    for crop in plan:
        mix = Audio(cut(track.samples, crop), sr)
        sliced = crop_key_inputs(track, crop)
        assert sliced is not None and sliced.cnn is not None
        assert sliced.hpcp.shape == (
            int(np.ceil((crop.samples * SR / sr - 4096) / 2048)) + 1,
            12,
        )
        ours = crop_features(mix, {}, n_steps=256, key=sliced)
        own = crop_features(Audio(mix.samples, sr), {}, n_steps=256)
        assert (
            (ours["tonic"], ours["tonic_scale"])
            == (own["tonic"], own["tonic_scale"])
            == (4, "minor")
        )
        for k, v in own.items():
            if k.startswith(("hpcp_", "tiv_")):
                assert ours[k] == pytest.approx(v, abs=0.04), k
            elif k in ("key_confidence", "tonic_strength"):
                assert ours[k] == pytest.approx(v, abs=0.1), k
            elif k != "key_source":
                assert ours[k] == v, k
    # the key network ran once, on the whole track (44.1 kHz), and never on a crop
    assert calls == [track.mono(SR).size]
