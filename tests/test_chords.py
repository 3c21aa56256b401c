"""Chords: madmom's recogniser on rendered progressions (scored with mir_eval), the chord
statistics, the `.CHORDS` file, the per-crop values, the caption and the asset."""

import mir_eval
import numpy as np
import pytest

from mir.audio import Audio
from mir.captions.template import template_caption
from mir.chords import (
    Chord,
    chord_features,
    crop_chords,
    read_chords,
    recognize_chords,
    write_chords,
)
from mir.errors import MissingInput

SR = 44100
NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
POP = ["C:maj", "A:min", "F:maj", "G:maj"]  # I-vi-IV-V
MINOR = ["A:min", "F:maj", "D:min", "E:maj"]  # i-VI-iv-V


def _tone(midi: int, n: int, partials: int) -> np.ndarray:
    """A harmonic tone (partials at 1/k), as a sawtooth without the aliasing."""
    hz = 440.0 * 2 ** ((midi - 69) / 12)
    t = np.arange(n) / SR
    ks = [k for k in range(1, partials + 1) if hz * k < SR / 2.5]
    return sum(np.sin(2 * np.pi * hz * k * t) / k for k in ks)


def render_progression(
    chords: list[str],
    *,
    chord_s: float,
    seconds: float,
    triad_midi: int = 60,
    bass_midi: int = 48,
    seed: int = 0,
):
    """A band playing `chords` in a loop: the root-position triad (from `triad_midi` + the
    root, C4 by default) struck twice per chord, the root in the bass (from `bass_midi`),
    a chord tone an octave up as melody, and noise hi-hats on every half beat.
    Returns (mono float32 at 44.1 kHz, reference segments)."""
    rng = np.random.default_rng(seed)
    n = int(round(chord_s * SR))
    beat = n // 2
    out, reference = [], []
    for i in range(int(seconds // chord_s)):
        label = chords[i % len(chords)]
        root_name, quality = label.split(":")
        root = NAMES.index(root_name)
        third = 4 if quality == "maj" else 3
        triad = [triad_midi + root, triad_midi + root + third, triad_midi + root + 7]
        y = np.zeros(n)
        for strike in (0, beat):
            decay = np.exp(-np.arange(n - strike) / SR / 0.6)
            y[strike:] += sum(_tone(m, n - strike, 6) for m in triad) * decay
        y += 1.2 * _tone(bass_midi + root, n, 5) * np.exp(-np.arange(n) / SR / 1.0)
        y += 0.5 * _tone(triad[rng.integers(3)] + 12, n, 3) * np.exp(-np.arange(n) / SR / 0.8)
        for hit in range(0, n - 4000, beat // 2):
            y[hit : hit + 3528] += 0.4 * rng.standard_normal(3528) * np.exp(-np.arange(3528) / 441)
        out.append(y)
        reference.append((i * chord_s, (i + 1) * chord_s, label))
    mix = np.concatenate(out)
    return (0.5 * mix / np.abs(mix).max()).astype(np.float32), reference


def _audio(y: np.ndarray) -> Audio:
    return Audio(y[:, None], SR)


def weighted_accuracy(reference, estimated) -> tuple[float, float]:
    """mir_eval's duration-weighted root and major/minor accuracy of `estimated`."""
    ref_iv = np.array([(s, e) for s, e, _ in reference])
    ref_labels = [label for *_, label in reference]
    est_iv, est_labels = mir_eval.util.adjust_intervals(
        np.array([(s, e) for s, e, _ in estimated]),
        [label for *_, label in estimated],
        ref_iv.min(),
        ref_iv.max(),
        mir_eval.chord.NO_CHORD,
        mir_eval.chord.NO_CHORD,
    )
    intervals, ref_l, est_l = mir_eval.util.merge_labeled_intervals(
        ref_iv, ref_labels, est_iv, est_labels
    )
    durations = mir_eval.util.intervals_to_durations(intervals)
    root = mir_eval.chord.weighted_accuracy(mir_eval.chord.root(ref_l, est_l), durations)
    majmin = mir_eval.chord.weighted_accuracy(mir_eval.chord.majmin(ref_l, est_l), durations)
    return root, majmin


# -- recognition ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("progression", "chord_s"),
    [(POP, 2.0), (MINOR, 1.6)],
    ids=["major-I-vi-IV-V", "minor-i-VI-iv-V"],
)
def test_a_rendered_progression_is_recognised_with_its_roots_and_qualities(progression, chord_s):
    y, reference = render_progression(progression, chord_s=chord_s, seconds=32)
    chords = recognize_chords(_audio(y))
    root, majmin = weighted_accuracy(reference, chords)
    print(f"{progression}: weighted root accuracy {root:.3f}, majmin {majmin:.3f}")
    assert root >= 0.8
    assert majmin >= 0.8
    assert chord_features(chords, y.size / SR)["chord_progression"] == "-".join(progression)


def test_the_fast_deep_chroma_model_recognises_a_low_voicing():
    # deep chroma is right with the triads around C3 and the bass around C2; with the
    # default voicing above it hears A minor as F major (root accuracy about 0.72)
    y, reference = render_progression(MINOR, chord_s=1.6, seconds=24, triad_midi=48, bass_midi=36)
    root, majmin = weighted_accuracy(reference, recognize_chords(_audio(y), model="deepchroma"))
    print(f"deepchroma on {MINOR}, low voicing: root {root:.3f}, majmin {majmin:.3f}")
    assert root >= 0.8 and majmin >= 0.8


@pytest.mark.parametrize("model", ["cnn", "deepchroma"])
def test_segments_cover_the_track_and_equal_madmoms_own_chain_across_blocks(model, monkeypatch):
    from mir import chords as chords_module

    monkeypatch.setattr(chords_module, "BLOCK_S", 4.0)  # 12.33 s: four blocks
    y, _ = render_progression(POP, chord_s=1.9, seconds=14)
    y = y[: int(12.33 * SR)]
    chords = recognize_chords(_audio(y), model=model)
    assert chords[0].start_s == 0.0 and chords[-1].end_s == pytest.approx(12.33, abs=1e-6)
    assert all(a.end_s == b.start_s for a, b in zip(chords, chords[1:], strict=False))
    assert all(a.label != b.label for a, b in zip(chords, chords[1:], strict=False))
    features, decoder = chords_module._models(model)  # imports madmom (mir._madmom)
    from madmom.audio.signal import Signal

    theirs = decoder(features(Signal(y, sample_rate=SR, num_channels=1)))  # in one piece
    assert [(round(float(s), 6), str(label)) for s, _, label in theirs] == [
        (c.start_s, c.label) for c in chords
    ]


def test_the_torch_cnn_equals_madmoms_layers_and_decodes_the_same_labels(monkeypatch):
    from mir import chords as chords_module
    from mir._madmom import TorchNetwork

    monkeypatch.setattr(chords_module, "BLOCK_S", 8.0)  # 20 s: three blocks
    y, _ = render_progression(MINOR, chord_s=1.6, seconds=20, seed=3)
    features, decoder = chords_module._models("cnn")
    spec = chords_module._spectrogram(features, y)
    madmoms = features.processors[4:]
    ours = chords_module._stages("cnn", features)
    assert any(isinstance(stage, TorchNetwork) for stage in ours)
    # the feature maps of the network itself (10 s, padded as madmom pads)
    pad, network = madmoms[0], madmoms[1]
    maps = TorchNetwork(network.layers)(pad(spec[:100]))
    assert maps.dtype == np.float32
    np.testing.assert_allclose(maps, network(pad(spec[:100])), rtol=1e-4, atol=1e-5)
    # the features of the whole chain, block by block, and the chords they decode to
    expected = chords_module._network(spec, madmoms)
    actual = chords_module._network(spec, ours)
    assert actual.shape == expected.shape == (len(spec), 128)
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)
    assert [(s, e, str(label)) for s, e, label in decoder(actual)] == [
        (s, e, str(label)) for s, e, label in decoder(expected)
    ]


def test_silence_has_no_chords():
    chords = recognize_chords(_audio(np.zeros(5 * SR, dtype=np.float32)))
    assert {c.label for c in chords} == {"N"}
    values = chord_features(chords, 5.0)
    assert values == {
        "chord_count": 0,
        "chord_change_rate": 0.0,
        "chord_top": "",
        "chord_progression": "",
    }


def test_an_unknown_model_is_refused():
    with pytest.raises(ValueError, match="unknown chord model"):
        recognize_chords(_audio(np.zeros(SR, dtype=np.float32)), model="nope")


# -- statistics, crops, file, caption ------------------------------------------------


def test_chord_features_count_rate_top_chords_and_most_common_progression():
    loop = ["C:maj", "G:maj", "A:min", "F:maj"]
    segments = [Chord(0.0, 1.0, "N")]
    t = 1.0
    for i in range(9):  # C G Am F twice, then C
        held = 3.0 if loop[i % 4] == "A:min" else 2.0
        segments.append(Chord(t, t + held, loop[i % 4]))
        t += held
    segments.append(Chord(t, t + 1.0, "N"))
    segments.append(Chord(t + 1.0, t + 2.0, "C:maj"))  # the same chord after a gap: no change
    duration = t + 2.0  # 23 s
    values = chord_features(segments, duration)
    assert values["chord_count"] == 10
    assert values["chord_change_rate"] == pytest.approx(round(8 * 60 / duration, 3))
    assert values["chord_top"] == "C:maj, A:min, G:maj"  # 7 s, 6 s, 4 s (F: 4 s, later)
    assert values["chord_progression"] == "C:maj-G:maj-A:min-F:maj"


def test_the_most_common_progression_beats_the_first_one_heard():
    intro = ["D:min", "E:min"]
    loop = ["A:min", "F:maj", "C:maj", "G:maj"] * 3
    segments = [Chord(float(i), float(i + 1), c) for i, c in enumerate(intro + loop)]
    assert chord_features(segments, 14.0)["chord_progression"] == "A:min-F:maj-C:maj-G:maj"


def test_a_sequence_shorter_than_four_chords_is_its_own_progression():
    segments = [Chord(0.0, 2.0, "E:min"), Chord(2.0, 4.0, "N"), Chord(4.0, 6.0, "B:maj")]
    values = chord_features(segments, 6.0)
    assert values["chord_progression"] == "E:min-B:maj"
    assert values["chord_change_rate"] == 10.0


def test_crop_chords_clips_the_segments_to_the_crop():
    segments = [Chord(float(2 * i), float(2 * i + 2), c) for i, c in enumerate(POP * 3)]
    values = crop_chords(segments, 3.0, 13.0)  # half of Am, F G C Am, half of F
    assert values["chord_count"] == 6
    assert values["chord_change_rate"] == pytest.approx(5 * 60 / 10.0)
    assert values["chord_progression"] == "A:min-F:maj-G:maj-C:maj"
    assert values["chord_top"].startswith("A:min")  # 1 + 2 s
    assert crop_chords(segments, 30.0, 40.0)["chord_count"] == 0


def test_the_chords_file_round_trips_with_six_decimals(tmp_path):
    segments = [
        Chord(0.0, 0.4, "N"),
        Chord(0.4, 2.1234567, "C#:maj"),
        Chord(2.1234567, 5.0, "A:min"),
    ]
    path = write_chords(tmp_path / "Song" / "Song.CHORDS", segments)
    assert path.read_text().splitlines()[1] == "0.400000\t2.123457\tC#:maj"
    assert read_chords(path) == [
        Chord(0.0, 0.4, "N"),
        Chord(0.4, 2.123457, "C#:maj"),
        Chord(2.123457, 5.0, "A:min"),
    ]
    (tmp_path / "spaced.CHORDS").write_text("0.0 1.5 G:maj\n\n1.5 3.0  E:min\n")
    assert [c.label for c in read_chords(tmp_path / "spaced.CHORDS")] == ["G:maj", "E:min"]


def test_a_missing_chords_file_names_the_asset_that_writes_it(tmp_path):
    assert read_chords(tmp_path / "none.CHORDS") == []
    with pytest.raises(MissingInput, match="chords"):
        read_chords(tmp_path / "none.CHORDS", written_by="chords")
    (tmp_path / "bad.CHORDS").write_text("0.0 1.0\n")
    with pytest.raises(ValueError, match="line 1"):
        read_chords(tmp_path / "bad.CHORDS")


def test_the_template_caption_names_the_progression():
    values = {"bpm": 100.0, "beats_per_bar": 4, "chord_progression": "A:min-F:maj-C:maj-G#:maj"}
    assert template_caption(values) == "Music at 100 BPM, 4/4 time, chords Am-F-C-G#."
    assert template_caption({"bpm": 100.0, "chord_progression": ""}) == "Music at 100 BPM."


# -- the asset ---------------------------------------------------------------------------


def test_chords_asset_writes_the_file_the_info_keys_the_row_and_per_crop_chords(project, instance):
    from mir.info import info_path, read_info
    from store.duckdb import DuckDBTables
    from tests.conftest import write_config
    from tests.helpers import register, run_track

    write_config(project.root, crops={"length_samples": 8 * SR}, paths={
        "inbox": str(project.inbox), "library": str(project.library), "duckdb": str(project.duckdb),
        "crops": str(project.root / "crops"), "dataset": str(project.root / "dataset"),
        "reports": str(project.root / "reports"),
    })  # fmt: skip
    y, _ = render_progression(POP, chord_s=2.0, seconds=32)
    path = project.add_audio("01 - Four Chords.wav", y)
    (track_id,) = register(project, [path], instance)
    result = run_track(
        project,
        instance,
        track_id,
        selection=["source_audio", "beat_grid", "chords", "training_crops"],
    )
    assert result.success
    track_dir = project.library / track_id
    segments = read_chords(track_dir / f"{track_id}.CHORDS")
    assert segments[-1].end_s == pytest.approx(32.0, abs=1e-6)
    info = read_info(info_path(track_dir))
    assert info["chord_progression"] == "C:maj-A:min-F:maj-G:maj"
    assert info["chord_count"] == sum(1 for c in segments if c.label != "N") >= 16
    assert 28 <= info["chord_change_rate"] <= 32  # one change per 2 s
    assert set(info["chord_top"].split(", ")) <= set(POP)
    row = DuckDBTables(project.duckdb).read("chords")[track_id]
    assert {k: row[k] for k in info if k.startswith("chord_")} == {
        k: v for k, v in info.items() if k.startswith("chord_")
    }
    evaluations = result.get_asset_check_evaluations()
    assert all(e.passed for e in evaluations if e.asset_key.path[-1] == "chords")
    crops = sorted((project.root / "crops" / track_id).glob("*.INFO"))
    assert len(crops) >= 2
    for crop_info in map(read_info, crops):
        expected = crop_chords(segments, crop_info["start_time"], crop_info["end_time"])
        assert {k: crop_info[k] for k in expected} == expected
        assert crop_info["chord_count"] < info["chord_count"]
