"""The Stable Audio Tools dataset through Dagster: crops that carry every value, a dataset
folder equal to the crops table, the conditioning fragment, the time series beside the
audio."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from dagster import AssetSelection, materialize

from mir.dataset.timeseries import read_npz
from mir.info import info_path, read_info
from mir.synth import render_song
from mir_assets.definitions import all_assets, all_checks
from store.duckdb import DuckDBTables
from tests.conftest import write_config
from tests.dagster_dev import dagster_dev_on_instance, graphql
from tests.helpers import register, run_track
from tests.test_crops import LENGTH, PIPELINE, SR  # the same short pipeline

SIDECAR_BASE = {"prompt", "seconds_start", "seconds_total"}
#: the default conditioning keys the pipeline above gives every crop
PIPELINE_KEYS = {
    "bpm",
    "lufs",
    "lra",
    "tonic",
    "tonic_scale_minor",
    "spectral_flatness",
    "rms_energy_bass",
}


def _configure(project, models, *, length=LENGTH, **crops):
    write_config(
        project.root,
        crops={"length_samples": length, "include_stems": False, **crops},
        classification={"model_dir": str(models)},
        paths={
            "inbox": str(project.inbox), "library": str(project.library),
            "duckdb": str(project.duckdb), "crops": str(project.root / "crops"),
            "dataset": str(project.root / "dataset"), "reports": str(project.root / "reports"),
        },
    )  # fmt: skip


@pytest.fixture
def track(project, instance, tmp_path):
    _configure(project, tmp_path / "no-models")
    song = render_song(bpm=120, bars=10, tonic="E", scale="minor")
    path = project.add_audio("02 - Dataset Song.wav", song.mix)
    (track_id,) = register(project, [path], instance)
    assert run_track(project, instance, track_id, selection=PIPELINE).success
    assert write_card(project, instance).success
    return track_id


def write_card(project, instance):
    """The dataset's conditioners and card (library-wide: after the tracks' sat_dataset)."""
    from dagster import AssetKey

    return materialize(
        [*all_assets, *all_checks],
        selection=[AssetKey("sat_dataset_card")],
        instance=instance,
        resources=project.resources(),
    )


def _sidecars(project, track_id) -> dict[str, dict]:
    folder = project.root / "dataset" / track_id
    return {p.name: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def _fragment(project) -> dict:
    return json.loads((project.root / "dataset" / "model_config_conditioning.json").read_text())


def _materialized(result) -> set[str]:
    return {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}


STALE_BY_PARTITION = """query($keys: [AssetKeyInput!], $partitions: [String!]!) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    staleStatusByPartition(partitions: $partitions)
    staleCausesByPartition(partitions: $partitions) { key { path } }
  }
}"""
STALE = """query($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) { assetKey { path } staleStatus staleCauses { key { path } } }
}"""
#: the readers that are not partitioned (one per library)
LIBRARY_WIDE = {"feature_statistics"}


def _stale(url, track_id, names) -> dict[str, str | None]:
    """`{asset: the asset whose change makes it stale, None when fresh}` for `track_id` (or
    the whole asset, when it is one per library), as the UI of the `dagster dev` at `url`
    shows it."""
    keys = [{"path": [n]} for n in names if n not in LIBRARY_WIDE]
    nodes = graphql(url, STALE_BY_PARTITION, {"keys": keys, "partitions": [track_id]})
    states = [
        (node["assetKey"], status, causes)
        for node in nodes["assetNodes"]
        for status, causes in zip(
            node["staleStatusByPartition"], node["staleCausesByPartition"], strict=True
        )
    ]
    wide = [{"path": [n]} for n in names if n in LIBRARY_WIDE]
    if wide:
        nodes = graphql(url, STALE, {"keys": wide})["assetNodes"]
        states += [(node["assetKey"], node["staleStatus"], node["staleCauses"]) for node in nodes]
    return {
        key["path"][-1]: None
        if status == "FRESH"
        else ",".join(sorted({c["key"]["path"][-1] for c in causes})) or status
        for key, status, causes in states
    }


def test_crops_and_dataset_depend_on_every_asset_whose_values_they_carry():
    deps = {
        a.key.path[-1]: {d.path[-1] for d in a.asset_deps[a.key]}
        for a in all_assets
        if a.key.path[-1] in ("training_crops", "sat_dataset")
    }
    carried = {
        "classification", "aesthetics", "captions", "chords", "drum_transcription",
        "pitch_transcription", "timbral_features", "track_metadata", "stems", "stem_loudness",
    }  # fmt: skip
    assert carried <= deps["training_crops"] and carried <= deps["sat_dataset"]
    # file keys only: the crops do not inherit them, the dataset filters on them
    assert "audio_quality" not in deps["training_crops"] and "audio_quality" in deps["sat_dataset"]


def test_a_classifier_added_later_reaches_the_sidecars_without_running_anything_upstream(
    project, instance, track, tmp_path
):
    from tests.test_classification import make_tiny_essentia_models

    sidecars = _sidecars(project, track)
    assert sidecars
    for values in sidecars.values():
        # exactly what get_custom_metadata documents, plus the configured keys each crop has
        assert set(values) == SIDECAR_BASE | PIPELINE_KEYS
        assert values["tonic_scale_minor"] in (0.0, 1.0)
    fragment = _fragment(project)
    ids = [c["id"] for c in fragment["model"]["conditioning"]["configs"]]
    assert "danceability" not in ids

    # template captions and the statistics too: every reader is fresh without a model
    readers = ("captions", "training_crops", "sat_dataset", "feature_statistics")
    assert run_track(project, instance, track, selection=list(readers)).success
    home = Path(instance.root_directory)
    with dagster_dev_on_instance(home, {"MIR_CONFIG": str(project.config_path)}) as url:
        assert _stale(url, track, readers) == dict.fromkeys(readers)

        # the model arrives. Its first materialization marks what reads its values stale
        # in the UI; the upstream of the crops stays fresh
        _configure(project, make_tiny_essentia_models(tmp_path / "essentia"))
        assert run_track(project, instance, track, selection=["classification"]).success
        assert _stale(url, track, [*readers, "beat_grid"]) == {
            **dict.fromkeys(readers, "classification"),
            "beat_grid": None,
        }

        # classification and what is made of it run, nothing else; all fresh again
        result = run_track(
            project, instance, track, selection=AssetSelection.assets("classification").downstream()
        )
        assert result.success
        assert _materialized(result) == {
            "classification", "captions", "training_crops", "sat_dataset", "sat_dataset_card",
            "feature_statistics",
        }  # fmt: skip
        assert _stale(url, track, readers) == dict.fromkeys(readers)

    track_info = read_info(info_path(project.library / track))
    for name, values in _sidecars(project, track).items():
        assert set(values) == SIDECAR_BASE | PIPELINE_KEYS | {"danceability"}
        assert values["danceability"] == pytest.approx(track_info["danceability"])
        crop_info = read_info(project.root / "crops" / track / name.replace(".json", ".INFO"))
        assert crop_info["essentia_genre"] == track_info["essentia_genre"]
        # bookkeeping of the track stays out of the crops
        assert not {"crop_count", "timeseries_frames", "dataset_crops"} & set(crop_info)
    configs = {c["id"]: c for c in _fragment(project)["model"]["conditioning"]["configs"]}
    assert configs["danceability"] == {
        "id": "danceability",
        "type": "number",
        "config": {"min_val": 0, "max_val": 1},
    }


def _dataset_matches_crops_table(project, track_id) -> list[dict]:
    rows = DuckDBTables(project.duckdb).read_crop_rows("crops", [track_id])[track_id]
    stems = [row["file"].rsplit(".", 1)[0] for row in rows]
    assert [row["crop_index"] for row in rows] == list(range(len(rows)))
    expected = {f"{s}{ext}" for s in stems for ext in (".wav", ".json", ".TIMESERIES.npz")}
    assert {p.name for p in (project.root / "dataset" / track_id).iterdir()} == expected
    crops = {p.name for p in (project.root / "crops" / track_id).iterdir()}
    assert {n for n in crops if not n.endswith(".lock")} == {
        f"{s}{ext}" for s in stems for ext in (".wav", ".INFO", ".TIMESERIES.npz")
    }
    return rows


def test_recropping_replaces_the_crops_in_the_folder_and_the_dataset(project, instance, track):
    first = _dataset_matches_crops_table(project, track)
    counts = [len(first)]
    # a run killed while writing left a partial file behind: never a sample, then removed
    leftover = project.root / "dataset" / track / f".{track}_0.wav.999.partial"
    leftover.write_bytes(b"RIFF")
    for seconds in (2, 8):  # shorter crops, then longer ones: fewer than before
        _configure(project, project.root / "no-models", length=seconds * SR)
        result = run_track(project, instance, track, selection=["training_crops", "sat_dataset"])
        assert _materialized(result) == {"training_crops", "sat_dataset"}
        rows = _dataset_matches_crops_table(project, track)
        # a start snapped back to a zero crossing may add up to 50 ms
        assert all(r["samples"] <= (seconds + 0.05) * SR for r in rows)
        counts.append(len(rows))
    assert counts[1] > counts[0] > counts[2] >= 1
    assert not leftover.exists()


def test_time_series_beside_the_audio_equal_the_feature_store(project, track):
    tables = DuckDBTables(project.duckdb)
    rows = tables.read_crop_rows("crops", [track])[track]
    dataset = project.root / "dataset" / track
    for row in rows:
        stem = row["file"].rsplit(".", 1)[0]
        arrays, meta = read_npz(dataset / f"{stem}.TIMESERIES.npz")
        stored = tables.read_arrays(track, row["crop_index"])
        assert set(arrays) == set(stored) and meta["fields"] == sorted(stored)
        for field, values in stored.items():
            np.testing.assert_array_equal(arrays[field], values)
        assert arrays["hpcp_ts"].shape == (256, 12) and meta["n_steps"] == 256
        assert meta["start_time"] == pytest.approx(row["start_time"])
    # the dataset's module reads them for one sample, as a training script would
    config = json.loads((project.root / "dataset" / "dataset_config.json").read_text())
    spec = importlib.util.spec_from_file_location(
        "custom_metadata", config["datasets"][0]["custom_metadata_module"]
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sample = module.load_timeseries({"path": str(dataset / rows[0]["file"])})
    assert sample["beat_activations_ts"].shape == (256,) and sample["__meta__"]["n_steps"] == 256

    whole, meta = read_npz(project.library / track / f"{track}.TIMESERIES.npz")
    stored = tables.read_arrays(track, -1)
    assert set(whole) == set(stored)
    for field, values in stored.items():
        np.testing.assert_array_equal(whole[field], values)
    n = whole["onset_envelope_ts"].shape[0]
    assert meta["frame_rate"] == 100 and meta["n_frames"] == n and meta["hop"] == 441
    assert meta["duration"] == pytest.approx(n / 100, abs=0.011)


def test_the_dataset_card_counts_the_crops_and_names_the_model_behind_each_key(project, track):
    import soundfile as sf

    root = project.root / "dataset"
    card = (root / "README.md").read_text()
    sidecars = sorted((root / track).glob("*.json"))
    seconds = sum(sf.info(str(p.with_suffix(".wav"))).duration for p in sidecars)
    assert card.startswith("# Stable Audio Tools dataset `dataset`")
    assert f"- items: {len(sidecars)}\n- tracks: 1\n- hours: {round(seconds / 3600, 4)}\n" in card
    # the statistics of the sidecars' values, and the plots beside the card
    assert f"| duration | {len(sidecars)} |" in card and f"| bpm | {len(sidecars)} |" in card
    for png in ("card_histograms.png", "card_correlations.png"):
        assert (root / png).read_bytes()[:4] == b"\x89PNG" and f"]({png})" in card
    rows = {
        line.split(" | ")[0][3:-1]: line for line in card.splitlines() if line.startswith("| `")
    }
    assert "beat_grid" in rows["bpm"] and "CC BY-NC-SA 4.0" in rows["bpm"]
    assert "loudness" in rows["lra`, `lufs"] and "| no model | - |" in rows["lra`, `lufs"]
    assert "captions | no model" in rows["prompt"]  # template captions: no model configured
    assert "harmonic_features" in rows["tonic`, `tonic_scale_minor"]
    beat_series = next(v for k, v in rows.items() if k.startswith("beat_activations_ts"))
    assert "madmom" in beat_series
    assert "- **CC BY-NC-SA 4.0**: madmom" in card and '"conditioning_keys"' in card
    # the card is no sample: stable-audio-tools' module and the conditioners ignore it
    assert _fragment(project)["model"]["conditioning"]["configs"][0]["id"] == "prompt"


def test_model_values_per_crop_and_stems_cut_at_their_own_rate(project, instance, tmp_path):
    import soundfile as sf

    from mir.audio import load_audio
    from mir.classification import SR as SR16
    from mir.classification import classify, load_classifier
    from tests.test_classification import make_tiny_essentia_models

    models = make_tiny_essentia_models(tmp_path / "essentia")
    _configure(project, models, include_stems=True, model_values=True)
    song = render_song(bpm=120, bars=6)
    (track_id,) = register(project, [project.add_audio("Per Crop.wav", song.mix)], instance)
    assert run_track(project, instance, track_id, selection=["source_audio", "beat_grid"]).success
    # a drums stem at 48 kHz beside the 44.1 kHz mix
    n48 = int(round(song.mix.shape[0] * 48000 / SR))
    sf.write(project.library / track_id / "drums.flac", np.zeros((n48, 2)) + 0.1, 48000)
    assert run_track(project, instance, track_id, selection=["training_crops"]).success

    classifier = load_classifier(models)
    folder = project.root / "crops" / track_id
    rows = DuckDBTables(project.duckdb).read_crop_rows("crops", [track_id])[track_id]
    assert len(rows) >= 2
    track_info = read_info(info_path(project.library / track_id))
    assert "danceability" not in track_info  # the track was never classified
    for row in rows:
        stem = row["file"].rsplit(".", 1)[0]
        info = read_info(folder / f"{stem}.INFO")
        crop_audio = load_audio(folder / row["file"])
        expected, _ = classify(classifier, crop_audio.mono(SR16))
        assert info["danceability"] == pytest.approx(expected["danceability"], abs=1e-3)
        assert info["essentia_genre"].keys() == expected["essentia_genre"].keys()
        drums = sf.info(str(folder / f"{stem}_drums.wav"))
        assert drums.samplerate == 48000 and info["stem_names"] == ["drums"]
        assert drums.frames == pytest.approx(row["samples"] * 48000 / SR, abs=1)
