"""The latent corpora through Dagster: two rendered songs (one shorter than a window) with
their stems, windows over every second, a tiny SAME-S of the real shape, a corpus per
source (the mix, drums and vocals; the short song has no vocals) and its checks and card,
stable-audio-tools' pre-encoded reader over each, a re-run that encodes nothing, and a
missing autoencoder that leaves the asset out."""

import json

import numpy as np
import pytest
import soundfile as sf

from mir.dataset.corpus import check_corpus
from mir.dataset.timeseries import read_npz
from mir.synth import render_song
from tests.conftest import write_config
from tests.helpers import register, run_track
from tests.latent_models import write_tiny_autoencoder

SELECTION = [
    "source_audio",
    "beat_grid",
    "chords",
    "track_timeseries",
    "latent_windows",
    "latents",
]
FRAMES = 256  # 23.8 s windows of SAME latents
SOURCES = ["mix", "drums", "vocals"]


@pytest.fixture
def corpus_project(project, tmp_path):
    write_tiny_autoencoder("same-s", tmp_path / "same-s")
    write_config(
        project.root,
        latents={
            "preset": "sa3-small",
            "window_frames": FRAMES,
            "same_s_dir": str(tmp_path / "same-s"),
            "sources": SOURCES,
        },
        paths={"latents": str(project.root / "latents")},
    )
    return project


def _songs(project, instance):
    long = render_song(bpm=120, bars=16, seed=1)  # 33.25 s: two windows
    short = render_song(bpm=120, bars=4, seed=2, tonic="C", scale="major")  # 9.25 s: one
    ids = []
    for name, song in (("Long Song.wav", long), ("Short Song.wav", short)):
        (track_id,) = register(project, [project.add_audio(name, song.mix)], instance)
        ids.append((track_id, song))
    return ids


def _run(project, instance, track_id, song, selection=SELECTION, without=()):
    # the stems beside the mix, as the stems asset leaves them (the separation model is
    # not what this test is about)
    result = run_track(project, instance, track_id, selection=["source_audio"])
    folder = project.library / track_id
    for name, stem in song.stems.items():
        if name not in without:
            sf.write(str(folder / f"{name}.wav"), stem, song.sr)
    return run_track(project, instance, track_id, selection=selection) if result else None


def test_two_songs_make_a_checked_corpus_both_readers_accept(corpus_project, instance):
    project = corpus_project
    (long_id, long), (short_id, short) = _songs(project, instance)
    for track_id, song, without in ((long_id, long, ()), (short_id, short, ("vocals",))):
        result = _run(project, instance, track_id, song, without=without)
        (check,) = [
            c for c in result.get_asset_check_evaluations() if c.check_name == "latent_corpus_check"
        ]
        assert check.passed, check.metadata
    root = project.root / "latents" / "sa3-small"
    corpus = root / "mix"
    assert check_corpus(corpus) == []

    # the whole-track series: every field at its rate, the stems' and f0's among them
    series, meta = read_npz(project.library / long_id / f"{long_id}.TIMESERIES.npz")
    rates = meta["field_rates"]
    assert set(rates) == set(series) == set(meta["fields"])
    assert meta["stems_present"] == ["bass", "drums", "other"] or "vocals" in meta["stems_present"]
    for name in ("rms_bass_ts", "onset_envelope_drums_ts", "f0_bass_ts", "f0_bass_voiced_ts",
                 "chords_idx_ts", "tonic_ts"):  # fmt: skip
        assert name in series, name
    assert rates["f0_bass_ts"] == 50 and rates["chords_idx_ts"] == 10 and rates["tonic_ts"] == 1

    # windows: every second of each song
    from mir.dataset.windows import read_manifest

    for track_id, song in ((long_id, long), (short_id, short)):
        rows = read_manifest(project.library / track_id / f"{track_id}.LATENT_WINDOWS.csv")
        covered = max(float(r["end_s"]) for r in rows) - min(float(r["start_s"]) for r in rows)
        assert covered == pytest.approx(len(song.mix) / song.sr, abs=1e-5)
    details = json.loads((corpus / "details.json").read_text())
    assert details["latent_channels"] == 256 and details["frames"] == FRAMES
    assert details["dtype"] == "float16"
    names = [line.strip()[:-4] for line in (corpus / "filelist.txt").read_text().splitlines()]
    assert names == ["000000", "000001", "000002"]  # two windows of the long song, one short
    items = {n: json.loads((corpus / f"{n}.json").read_text()) for n in names}
    assert [items[n]["track_id"] for n in names] == [long_id, long_id, short_id]
    latents = np.load(corpus / "000000.npy")
    assert latents.shape == (256, FRAMES) and latents.dtype == np.float16
    assert np.load(corpus / "silence.npy").shape == (1, 256, FRAMES)
    # the short song: one padded window, its mask the frames that hold audio
    short_item = items["000002"]
    valid = int(np.ceil(len(short.mix) / 4096))
    assert short_item["padding_mask"] == [1] * valid + [0] * (FRAMES - valid)
    assert short_item["seconds_total"] == pytest.approx(len(short.mix) / 44100, abs=1e-5)
    assert short_item["seconds_start"] == 0
    # the long song's second window: on a downbeat, or anchored at the end
    second = items["000001"]
    end = len(long.mix)
    assert second["end_sample"] == end and second["start_sample"] == end - FRAMES * 4096
    assert 0 < second["position"] < 1
    # each item's series and controls have T rows / columns
    arrays, _ = read_npz(corpus / "000000.TIMESERIES.npz")
    assert all(v.shape[0] == FRAMES for v in arrays.values())
    for name in ("beat_activations_ts", "downbeat_activations_ts", "onsets_activations_ts"):
        assert name in arrays, name  # the crops' series too
    ctrl = np.load(root / "mix_ctrl" / "000000.npy")
    norm = json.loads((root / "mix_ctrl" / "normalisation.json").read_text())
    assert ctrl.shape == (len(norm["channels"]), FRAMES) and ctrl.dtype == np.float16
    assert "rms_bass_ts" in norm["channels"] and "position_ts" in norm["channels"]
    captions = json.loads((root / "captions.json").read_text())
    assert set(captions) == set(names) and all("template" in c for c in captions.values())

    # the card: counts, hours, statistics plots beside it, the model and licence of each key
    card = (corpus / "README.md").read_text()
    assert card.startswith("# Latent corpus `sa3-small/mix`")
    assert "- items: 3" in card and "- tracks: 2" in card
    hours = sum(items[n]["window_seconds"] for n in names) / 3600  # windows overlap
    assert f"- hours: {round(hours, 4)} " in card
    track_hours = (len(long.mix) + len(short.mix)) / 44100 / 3600
    assert f"- track hours: {round(track_hours, 4)} (" in card and track_hours < hours
    for png in ("card_histograms.png", "card_correlations.png"):
        assert (corpus / png).read_bytes()[:4] == b"\x89PNG" and f"]({png})" in card
    assert "| seconds_total | 3 |" in card  # its row of the statistics table
    latents_row = next(line for line in card.splitlines() if line.startswith("| `NNNNNN.npy`"))
    assert "same-s" in latents_row and "Stability AI Community License" in latents_row
    bpm_row = next(line for line in card.splitlines() if "`bpm`" in line and "beat_grid" in line)
    assert "madmom" in bpm_row and "CC BY-NC-SA 4.0" in bpm_row
    assert (
        "- **Stability AI Community License (https://huggingface.co/stabilityai/SAME-S)**" in card
    )
    assert "- **CC BY-NC-SA 4.0**: madmom" in card

    # stable-audio-tools' pre_encoded reader, as each corpus's dataset config asks for it
    from tests._vendor.stable_audio_tools_data.dataset import (
        LocalDatasetConfig,
        PreEncodedDataset,
    )

    def read_all(source, expected):
        config = json.loads((root / f"{source}_sat_pre_encoded.json").read_text())
        assert config["dataset_type"] == "pre_encoded" and config["latent_crop_length"] == FRAMES
        dataset = PreEncodedDataset(
            [LocalDatasetConfig(d["id"], d["path"]) for d in config["datasets"]],
            latent_crop_length=config["latent_crop_length"],
            random_crop=config["random_crop"],
            min_length_sec=config["min_length_sec"],
            max_length_sec=config["max_length_sec"],
        )
        assert len(dataset) == len(expected)  # filelist.txt: silence.npy is not an item
        for i, name in enumerate(expected):
            latent, info = dataset[i]
            # the item itself, never a random substitute
            assert info["latent_filename"].endswith(f"{source}/{name}.npy")
            assert tuple(latent.shape) == (256, FRAMES)
            assert info["padding_mask"][0].shape == (FRAMES,)
            assert info["latent_crop_start"] == 0 and info["prompt"]

    read_all("mix", names)

    # one flat corpus per source, ids shared with the mix; no vocals in the short song
    assert [n.strip()[:-4] for n in (root / "drums" / "filelist.txt").read_text().split()] == names
    assert [n.strip()[:-4] for n in (root / "vocals" / "filelist.txt").read_text().split()] == [
        "000000",
        "000001",
    ]
    for source in ("drums", "vocals"):
        assert check_corpus(root / source) == []
        read_all(source, names if source == "drums" else names[:2])
    assert np.load(root / "drums_ctrl" / "000000.npy").shape == ctrl.shape
    # the vocals corpus holds the long song only, whose series have vocals: two more channels
    vocals_norm = json.loads((root / "vocals_ctrl" / "normalisation.json").read_text())
    assert set(vocals_norm["channels"]) - set(norm["channels"]) == {
        "rms_vocals_ts",
        "onset_envelope_vocals_ts",
    }
    drums = json.loads((root / "drums" / "000002.json").read_text())
    assert drums["source"] == "drums" and drums["path"].endswith(f"{short_id}/drums.wav")
    assert drums["padding_mask"] == short_item["padding_mask"]
    assert drums["seconds_start"] == short_item["seconds_start"]
    mix_latents = np.load(corpus / "000000.npy").astype(np.float32)
    drum_latents = np.load(root / "drums" / "000000.npy").astype(np.float32)
    assert np.abs(mix_latents - drum_latents).max() > 1e-3  # the drums, not the mix again
    drums_card = (root / "drums" / "README.md").read_text()
    latents_row = next(
        line for line in drums_card.splitlines() if line.startswith("| `NNNNNN.npy`")
    )
    assert "latents, stems" in latents_row  # the stem's separator is behind them too
    assert "htdemucs" in drums_card and "**MIT**" in drums_card

    # a re-run encodes nothing, keeps the ids and the normalisation, and writes the controls
    # of its own track only
    short_ctrl = (root / "mix_ctrl" / "000002.npy").stat().st_mtime_ns
    result = _run(project, instance, long_id, long, selection=["latent_windows", "latents"])
    assert (
        result.asset_materializations_for_node("latents")[0]
        .metadata["items_encoded_this_run"]
        .value
        == 0
    )
    assert [line[:6] for line in (corpus / "filelist.txt").read_text().splitlines()] == names
    assert json.loads((root / "mix_ctrl" / "normalisation.json").read_text()) == norm
    assert (root / "mix_ctrl" / "000002.npy").stat().st_mtime_ns == short_ctrl

    # a stem that is gone takes its items out of its corpus, not out of the others
    (project.library / short_id / "drums.wav").unlink()
    result = run_track(project, instance, short_id, selection=["latents"])
    assert result.success
    assert not (root / "drums" / "000002.npy").exists()
    assert (root / "drums" / "filelist.txt").read_text().split() == ["000000.npy", "000001.npy"]
    assert check_corpus(root / "drums") == [] and (corpus / "000002.npy").is_file()


def test_a_broken_corpus_fails_its_check(tmp_path):
    corpus = tmp_path / "mix"
    corpus.mkdir()
    np.save(corpus / "000000.npy", np.zeros((256, 8), np.float16))
    (corpus / "stray.txt").write_text("x")
    problems = check_corpus(corpus)
    assert "000000.npy has no 000000.json" in problems
    assert "stray.txt: not an item or a corpus file" in problems
    assert "no filelist.txt" in problems


def test_without_its_autoencoder_the_asset_is_left_out_and_names_the_file(project, instance):
    from mir.config import load_config
    from mir_assets.definitions import all_assets
    from mir_assets.selection import left_out_track_assets

    write_config(project.root, latents={"preset": "sa3-medium", "same_l_dir": "nowhere"})
    cfg = load_config(project.config_path)
    left = left_out_track_assets(cfg, all_assets)
    assert left["latents"].outcome == "no model"
    assert "model.safetensors" in str(left["latents"].error)
    assert "latents.same_l_dir" in str(left["latents"].error)
    assert "latent_windows" not in left  # the model-free part still runs
