"""Transcription: basic-pitch's bundled ONNX model on rendered notes, and ADTOF's Frame_RNN
through the real loader with a random-weight checkpoint of the real architecture, saved in
the released weights' format."""

import numpy as np
import pretty_midi
import pytest
import soundfile as sf
import torch

from mir import adtof
from mir.errors import MirError, ModelNotFound
from mir.info import info_path, read_info
from mir.synth import render_song
from mir.transcription import (
    ADTOF_FILE,
    DRUM_KEYS,
    DRUM_PITCHES,
    DRUMS_MIDI,
    PITCH_KEYS,
    check_adtof_model,
    drum_values,
    load_adtof,
    load_basic_pitch,
    note_values,
    pitched_midi,
    transcribe_drums,
    transcribe_notes,
)
from store.duckdb import DuckDBTables
from tests.conftest import write_config
from tests.helpers import register, run_track, step_failures

SR = 44100
#: (onset in seconds, MIDI note) of the rendered bass line: E2 G2 A2 C3 D3 E2
BASS_LINE = [(0.25, 40), (0.75, 43), (1.25, 45), (1.75, 48), (2.25, 50), (2.75, 40)]


def render_bass_line(notes=BASS_LINE, sr=SR, note_s=0.45) -> np.ndarray:
    """Plucked-bass tones: five harmonics falling as 1/k^2, 5 ms attack, 0.6 s decay, 30 ms
    release."""
    y = np.zeros(int((notes[-1][0] + 1.0) * sr))
    t = np.arange(int(note_s * sr)) / sr
    envelope = np.minimum(1.0, t / 0.005) * np.exp(-t / 0.6) * np.minimum(1.0, (t[-1] - t) / 0.03)
    for onset, note in notes:
        f0 = 440.0 * 2 ** ((note - 69) / 12)
        tone = sum(np.sin(2 * np.pi * f0 * k * t) / k**2 for k in range(1, 6)) * envelope
        start = int(onset * sr)
        y[start : start + t.size] += 0.3 * tone
    return y.astype(np.float32)


@pytest.fixture(scope="module")
def adtof_dir(tmp_path_factory):
    """A random-weight Frame_RNN of the released architecture, saved as the released file."""
    torch.manual_seed(0)
    model = adtof.FrameRNN(n_bins=adtof.n_bins())
    with torch.no_grad():  # a livelier output layer, so that activations have peaks to pick
        model.output_layer.weight.mul_(30.0)
    folder = tmp_path_factory.mktemp("models") / "adtof"
    adtof.save(model, folder / ADTOF_FILE)
    return folder


def test_basic_pitch_on_a_rendered_bass_line_finds_its_notes():
    result = transcribe_notes(load_basic_pitch(), render_bass_line(), sr=SR, name="bass")
    found = [(round(float(n.start), 3), int(n.pitch)) for n in result.notes]
    assert [p for _, p in found] == [p for _, p in BASS_LINE], found
    for (onset, _), (start, _) in zip(BASS_LINE, found, strict=True):
        assert abs(start - onset) < 0.05, found
    assert note_values(result, "bass") == {
        "transcription_bass_notes": 6,
        "transcription_bass_pitch_min": 40,
        "transcription_bass_pitch_max": 50,
    }


def test_the_saved_checkpoint_has_the_released_weights_names_and_shapes(adtof_dir):
    checkpoint = torch.load(adtof_dir / ADTOF_FILE, weights_only=True)
    weights, info = checkpoint["model_weights"], checkpoint["model_info"]
    expected = {"output_layer.weight": (5, 120), "output_layer.bias": (5,)}
    for block, (c_in, c_out) in enumerate([(1, 32), (32, 64)]):
        for conv, c in ((0, c_in), (3, c_out)):
            expected[f"cnn_blocks.{block}.{conv}.weight"] = (c_out, c, 3, 3)
            expected[f"cnn_blocks.{block}.{conv}.bias"] = (c_out,)
        for norm in (2, 5):
            for name in ("weight", "bias", "running_mean", "running_var"):
                expected[f"cnn_blocks.{block}.{norm}.{name}"] = (c_out,)
    for layer, size_in in enumerate([10 * 64, 120, 120]):  # 84 bands pooled twice -> 10
        for suffix in ("", "_reverse"):
            expected[f"gru_layers.{layer}.weight_ih_l0{suffix}"] = (180, size_in)
            expected[f"gru_layers.{layer}.weight_hh_l0{suffix}"] = (180, 60)
            expected[f"gru_layers.{layer}.bias_ih_l0{suffix}"] = (180,)
            expected[f"gru_layers.{layer}.bias_hh_l0{suffix}"] = (180,)
    assert {k: tuple(v.shape) for k, v in weights.items()} == expected
    assert all(v.dtype == torch.float64 for v in weights.values())
    assert info["n_bins"] == 84 and info["architecture"] == "Frame_RNN"


def test_a_random_frame_rnn_loads_through_the_real_loader_and_writes_a_drum_midi(
    adtof_dir, tmp_path
):
    model = load_adtof(adtof_dir)
    drums = render_song(bpm=120, bars=2).stems["drums"].mean(axis=1)
    spec = adtof.spectrogram(drums)
    assert spec.shape == (int(np.ceil(drums.size / 441)), 84)
    activation = adtof.activations(model, spec)
    assert activation.shape == (spec.shape[0], 5)
    assert ((activation >= 0) & (activation <= 1)).all()

    result = transcribe_drums(model, drums, sr=SR, thresholds=(0.01,) * 5)
    path = result.write(tmp_path / DRUMS_MIDI)
    midi = pretty_midi.PrettyMIDI(str(path))
    (instrument,) = midi.instruments
    assert instrument.is_drum
    values = drum_values(result)
    assert len(instrument.notes) == values["transcription_drums_notes"] > 0
    assert {n.pitch for n in instrument.notes} <= set(DRUM_PITCHES)
    assert all(0 <= n.start <= drums.size / SR for n in instrument.notes)
    assert sum(values[k] for k in DRUM_KEYS[1:]) == values["transcription_drums_notes"]


def test_a_long_input_goes_through_the_cnn_in_chunks_with_the_same_result(adtof_dir):
    model = load_adtof(adtof_dir)
    spec = torch.from_numpy(np.random.default_rng(0).random((1, 300, 84), dtype=np.float32))
    with torch.inference_mode():
        assert torch.allclose(model.cnn(spec), model.cnn(spec, chunk_frames=97), atol=1e-6)


def test_same_padding_of_the_pool_never_wins_a_maximum():
    x = -torch.ones(1, 1, 2, 28)  # 28 bands pool to 10 with one padded band each side
    out = adtof.SamePadMaxPool(3)(x)
    assert out.shape == (1, 1, 2, 10) and (out == -1).all()


def test_peak_picking_gives_each_class_its_own_onsets():
    activation = np.zeros((200, 5), dtype=np.float32)
    for cls, frame in enumerate([20, 50, 80, 110, 140]):
        activation[frame, cls] = 0.9
    onsets = adtof.pick_onsets(activation)
    assert [list(np.round(o, 2)) for o in onsets] == [[0.2], [0.5], [0.8], [1.1], [1.4]]


def test_a_checkpoint_that_does_not_fit_the_network_is_refused(adtof_dir, tmp_path):
    checkpoint = torch.load(adtof_dir / ADTOF_FILE, weights_only=True)
    weights = checkpoint["model_weights"]
    assert adtof.weights_problems(adtof_dir / ADTOF_FILE) == []
    weights["output_layer.kernel"] = weights.pop("output_layer.weight")
    torch.save(checkpoint, tmp_path / ADTOF_FILE)
    with pytest.raises(MirError, match="output_layer"):
        load_adtof(tmp_path)
    assert adtof.weights_problems(tmp_path / ADTOF_FILE) == [
        "1 key(s) missing from the file: output_layer.weight",
        "1 key(s) in the file but not in the network: output_layer.kernel",
    ]
    with pytest.raises(ModelNotFound) as missing:
        check_adtof_model(tmp_path / "none")
    assert ADTOF_FILE in str(missing.value) and "transcription.model_dir" in str(missing.value)


def _track_with_stems(project, instance, name):
    song = render_song(bpm=120, bars=2)
    (track_id,) = register(project, [project.add_audio(name, song.mix)], instance)
    folder = project.library / track_id
    folder.mkdir(parents=True, exist_ok=True)
    for stem, samples in song.stems.items():
        sf.write(str(folder / f"{stem}.flac"), samples, SR)
    return track_id


def test_transcription_assets_write_midi_files_info_keys_and_columns(project, instance, adtof_dir):
    write_config(
        project.root, transcription={"model_dir": str(adtof_dir), "drum_thresholds": [0.01] * 5}
    )
    track_id = _track_with_stems(project, instance, "Transcribed.wav")
    result = run_track(
        project,
        instance,
        track_id,
        selection=["source_audio", "drum_transcription", "pitch_transcription"],
    )
    assert result.success
    checks = result.get_asset_check_evaluations()
    ranged = {e.asset_key.path[-1] for e in checks if e.check_name == "values_in_range"}
    assert ranged == {"source_audio", "drum_transcription", "pitch_transcription"}
    assert all(e.passed for e in checks), [e.description for e in checks]

    folder = project.library / track_id
    info = read_info(info_path(folder))
    assert set(DRUM_KEYS + PITCH_KEYS) <= set(info)
    drums = pretty_midi.PrettyMIDI(str(folder / DRUMS_MIDI))
    assert len(drums.instruments[0].notes) == info["transcription_drums_notes"] > 0
    for stem in ("bass", "other"):
        midi = pretty_midi.PrettyMIDI(str(folder / pitched_midi(stem)))
        notes = [n for inst in midi.instruments for n in inst.notes]
        assert len(notes) == info[f"transcription_{stem}_notes"] > 0
        assert min(n.pitch for n in notes) == info[f"transcription_{stem}_pitch_min"]
        assert info[f"transcription_{stem}_midi"] == pitched_midi(stem)
    # A minor, i-iv: the bass plays A2 (45) and D2 (38) roots
    assert info["transcription_bass_pitch_min"] == 38

    tables = DuckDBTables(project.duckdb)
    stored = {
        **tables.read("drum_transcription", [track_id])[track_id],
        **tables.read("pitch_transcription", [track_id])[track_id],
    }
    assert {k: stored[k] for k in DRUM_KEYS + PITCH_KEYS} == {
        k: info[k] for k in DRUM_KEYS + PITCH_KEYS
    }


def test_missing_adtof_weights_fail_the_drum_asset_alone(project, instance, tmp_path):
    from mir.config import load_config
    from mir_assets.selection import missing_model

    write_config(project.root, transcription={"model_dir": str(tmp_path / "none")})
    track_id = _track_with_stems(project, instance, "Untranscribed.wav")
    result = run_track(
        project,
        instance,
        track_id,
        selection=["source_audio", "drum_transcription", "pitch_transcription"],
        raise_on_error=False,
    )
    failed = step_failures(result)
    assert set(failed) == {"drum_transcription"}
    assert ADTOF_FILE in failed["drum_transcription"]
    assert "transcription.model_dir" in failed["drum_transcription"]
    folder = project.library / track_id
    assert not (folder / DRUMS_MIDI).exists()
    assert (folder / pitched_midi("bass")).exists()
    assert read_info(info_path(folder))["transcription_bass_notes"] > 0
    missing = missing_model(load_config(project.config_path), "drum_transcription")
    assert isinstance(missing, ModelNotFound) and missing.expected.endswith(ADTOF_FILE)
