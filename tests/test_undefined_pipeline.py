"""An undefined value goes through every consumer as absent, end to end through Dagster: a
pad without a beat (no tempo) and a song beside it, from the source to the captions, the
crops, the Stable Audio Tools dataset and its conditioning, the statistics and the latent
corpus. Nothing is made up for the pad's tempo, and it still reaches the dataset."""

import json

import numpy as np
import pytest
import soundfile as sf
from dagster import AssetKey, materialize

from mir.info import info_path, read_info
from mir.synth import render_pad, render_song
from mir_assets.definitions import all_assets, all_checks
from store.duckdb import DuckDBTables
from tests.conftest import write_config
from tests.helpers import register, run_track
from tests.latent_models import write_tiny_autoencoder

SR = 44100
PIPELINE = [
    "source_audio",
    "beat_grid",
    "loudness",
    "spectral_features",
    "harmonic_features",
    "chords",
    "captions",
    "track_timeseries",
    "training_crops",
    "sat_dataset",
    "latent_windows",
    "latents",
]


@pytest.fixture
def pipeline(project, instance, tmp_path):
    write_tiny_autoencoder("same-s", tmp_path / "same-s")
    root = project.root
    write_config(
        root,
        crops={"length_samples": 4 * SR, "include_stems": False},
        classification={"model_dir": str(tmp_path / "no-models")},
        latents={"preset": "sa3-small", "window_frames": 256, "same_s_dir": str(tmp_path / "same-s")},
        paths={
            "inbox": str(project.inbox), "library": str(project.library),
            "duckdb": str(project.duckdb), "crops": str(root / "crops"),
            "dataset": str(root / "dataset"), "reports": str(root / "reports"),
            "latents": str(root / "latents"),
        },
    )  # fmt: skip
    pad = project.add_audio("Pad.wav", render_pad(seconds=24.0))
    song = project.add_audio("Song.wav", render_song(bpm=120, bars=10, tonic="E").mix)
    ids = register(project, [pad, song], instance)
    for track_id in ids:
        assert run_track(project, instance, track_id, selection=PIPELINE).success, track_id
    result = materialize(
        [*all_assets, *all_checks],
        selection=[AssetKey("feature_statistics"), AssetKey("sat_dataset_card")],
        instance=instance,
        resources=project.resources(),
    )
    assert result.success
    return ids


def test_a_track_without_tempo_reaches_the_dataset_with_its_tempo_absent(project, pipeline):
    pad_id, song_id = pipeline
    tables = DuckDBTables(project.duckdb)
    # stored as null, with its reason
    grid = tables.read("beat_grid", [pad_id])[pad_id]
    assert "bpm" not in grid and grid["beat_count"] == 0
    assert "no beat" in grid["beat_grid_undefined"]["bpm"]
    info = read_info(info_path(project.library / pad_id))
    assert info["bpm"] is None and info["lufs"] < 0 and info["tonic_scale"] == "major"
    # the caption says nothing of a tempo, and the rest of what is known
    assert "BPM" not in info["caption_template"] and "C major" in info["caption_template"]
    assert "at 120 BPM" in read_info(info_path(project.library / song_id))["caption_template"]

    # the crops: each holds its features, no tempo
    crops = tables.read_crop_rows("crops", [pad_id])[pad_id]
    assert len(crops) >= 4
    for row in crops:
        crop = read_info(project.root / "crops" / pad_id / f"{pad_id}_{row['crop_index']}.INFO")
        assert crop["bpm"] is None and "BPM" not in crop["caption"]
        # a 4 s crop holds one or two of the pad's chords: a key (vi alone reads minor)
        assert np.isfinite(crop["lufs"]) and crop["tonic_scale"] in ("major", "minor")

    # the dataset: a sidecar per crop, the tempo left out, the other conditioning there
    sidecars = [
        json.loads(p.read_text())
        for p in sorted((project.root / "dataset" / pad_id).glob("*.json"))
    ]
    assert len(sidecars) == len(crops)
    for meta in sidecars:
        assert "bpm" not in meta and meta["prompt"] and isinstance(meta["lufs"], float)
    song_sidecars = (project.root / "dataset" / song_id).glob("*.json")
    assert all("bpm" in json.loads(p.read_text()) for p in song_sidecars)
    fragment = json.loads((project.root / "dataset" / "model_config_conditioning.json").read_text())
    ids = [c["id"] for c in fragment["model"]["conditioning"]["configs"]]
    assert "bpm" not in ids and "lufs" in ids  # not every crop has a tempo to train on

    # statistics count the tempo of the song only
    report = (project.root / "reports" / "feature_statistics.md").read_text()
    assert "| bpm | 1 |" in report and "| lufs | 2 |" in report

    # the latent corpus: the pad's items, no tempo in their json, a caption without one
    corpus = project.root / "latents" / "sa3-small" / "mix"
    items = [json.loads(p.read_text()) for p in sorted(corpus.glob("0*.json"))]
    pad_items = [item for item in items if item["track_id"] == pad_id]
    assert pad_items and all("bpm" not in item for item in pad_items)
    assert all("BPM" not in item["prompt"] for item in pad_items)
    assert any("bpm" in item for item in items if item["track_id"] == song_id)
    assert all(sf.info(str(project.root / "dataset" / pad_id / r["file"])).frames for r in crops)
