"""Tempo and key by consensus: the rules of `choose_tempo` and `combine_key_opinions`, the
metrical level of fast music and half-time grooves, modal minor songs, and the key CNN
against madmom's own processor."""

import mir_eval
import numpy as np
import pytest

from mir import analysis
from mir.audio import Audio
from mir.config import MasterConfig
from mir.key import (
    PITCH_CLASSES,
    combine_key_opinions,
    key_cnn_probabilities,
    key_index,
    key_label,
    pitch_class,
)
from mir.rhythm import choose_tempo
from mir.synth import render_song

SR = 44100


# -- consensus tempo ------------------------------------------------------------------


def test_two_agreeing_estimators_outvote_a_grid_that_lost_beats():
    choice = choose_tempo({"grid": 134.0, "madmom": 139.5, "essentia": 139.9})
    assert choice.bpm == pytest.approx(139.7, abs=0.01)
    assert choice.source == "madmom+essentia"
    assert choice.confidence == pytest.approx(2 / 3, abs=0.01)


def test_the_grid_tempo_wins_when_it_agrees_and_confidence_is_one():
    choice = choose_tempo({"grid": 128.2, "madmom": 128.0, "essentia": 127.9})
    assert choice.bpm == pytest.approx(128.2)
    assert choice.source == "grid+madmom+essentia"
    assert choice.confidence == 1.0


def test_no_estimate_is_no_tempo():
    choice = choose_tempo({"grid": 0.0, "madmom": 0.0, "essentia": 0.0})
    assert (choice.bpm, choice.source, choice.confidence) == (0.0, "none", 0.0)


def test_a_backbeat_on_the_half_beats_doubles_a_halved_tempo():
    # every estimator says 87: kick and snare alternate on its half-beats (drum and bass)
    ratios = {87.0: 1.0, 43.5: 0.3}
    choice = choose_tempo({"grid": 87.0, "madmom": 87.1, "essentia": 86.9}, half_beats=ratios.get)
    assert choice.bpm == pytest.approx(174.0)
    assert choice.confidence == 1.0  # the octave is confirmed by the onsets


def test_a_fast_tempo_whose_every_other_beat_is_weak_is_halved():
    # 180 from hats in eighths over a half-time groove at 90: the half-beats of 90 are weak
    ratios = {180.0: 0.4, 90.0: 0.3}
    choice = choose_tempo(
        {"grid": 180.0, "madmom": 180.0, "essentia": 179.8}, half_beats=ratios.get
    )
    assert choice.bpm == pytest.approx(90.0)


def test_a_half_time_groove_is_not_doubled():
    # snare on 3 only: the half-beats of 76 are weaker than its beats
    ratios = {76.0: 0.5, 38.0: 0.9}
    choice = choose_tempo({"grid": 76.0, "madmom": 76.2, "essentia": 75.9}, half_beats=ratios.get)
    assert choice.bpm == pytest.approx(76.0)


# -- the metrical level of rendered songs ----------------------------------------------

TEMPO_SONGS = [  # groove, bpm, tonic, scale, modal progression
    ("dnb", 174, "C", "minor", "mixture"),
    ("punk", 192, "A", "major", None),
    ("thrash", 184, "D", "minor", "mixture"),
    ("halftime", 76, "A#", "major", None),
    ("halftime", 90, "C#", "minor", "dorian"),
]


@pytest.mark.parametrize(("groove", "bpm", "tonic", "scale", "progression"), TEMPO_SONGS)
def test_fast_music_is_not_halved_and_half_time_is_not_doubled(
    groove, bpm, tonic, scale, progression
):
    bars = max(8, round(24.0 / (4 * 60.0 / bpm)))
    song = render_song(
        bpm=bpm, tonic=tonic, scale=scale, bars=bars, groove=groove, progression=progression
    )
    values, grid = analysis.beat_grid_of(Audio(song.mix, SR), MasterConfig().beats)
    assert values["bpm"] == pytest.approx(bpm, rel=0.02), values
    assert 0.0 <= values["bpm_confidence"] <= 1.0
    assert values["bpm_source"] != "none"
    # the grid is at the chosen tempo, not the estimators' number over another grid
    beat_f = mir_eval.beat.f_measure(mir_eval.beat.trim_beats(song.beats, 0), grid.beats)
    assert beat_f >= 0.9, beat_f


# -- key ------------------------------------------------------------------------------


def test_key_consensus_is_the_best_weighted_score_against_the_opinions():
    c_minor, bb_major, eb_major = (
        key_index(0, "minor"),
        key_index(10, "major"),
        key_index(3, "major"),
    )
    # edmm says B-flat major, edma and the network C minor: C minor
    estimate = combine_key_opinions(
        {"edmm": np.eye(24)[bb_major], "edma": np.eye(24)[c_minor], "cnn": np.eye(24)[c_minor]}
    )
    assert key_label(estimate.index) == "C minor"
    assert estimate.source == "edma+cnn"
    assert estimate.confidence == pytest.approx(2 / 3, abs=1e-3)  # (0 + 1 + 1) / 3
    # all say E-flat major, the relative major of C minor; its tonic chord sounds most
    chords = np.zeros(24)
    chords[c_minor], chords[eb_major] = 0.5, 0.2
    estimate = combine_key_opinions({"edmm": np.eye(24)[eb_major]}, chords)
    assert key_label(estimate.index) == "C minor"
    assert estimate.source == "tonic_chord"


def test_a_tonic_chord_outside_the_close_keys_does_not_move_the_key():
    chords = np.zeros(24)
    chords[key_index(6, "major")] = 0.6  # F# major against C major: not a close key
    estimate = combine_key_opinions({"edmm": np.eye(24)[key_index(0, "major")]}, chords)
    assert key_label(estimate.index) == "C major"


KEY_SONGS = [  # tonic, modal progression (all minor)
    ("C", "mixture"),
    ("F#", "relative"),
    ("E", "dorian"),
    ("G", "relative"),
]


@pytest.mark.parametrize(("tonic", "progression"), KEY_SONGS)
def test_minor_songs_with_modal_mixture_get_their_minor_key(tonic, progression):
    song = render_song(
        bpm=110, tonic=tonic, scale="minor", bars=12, progression=progression, seed=3
    )
    values = analysis.harmonic_of(Audio(song.mix, SR))
    assert f"{PITCH_CLASSES[values['tonic']]} {values['tonic_scale']}" == f"{tonic} minor", values
    assert 0.0 <= values["key_confidence"] <= 1.0
    assert values["key_source"]


def test_key_cnn_equals_madmoms_processor():
    from madmom.audio.signal import Signal
    from madmom.features.key import KEY_LABELS, CNNKeyRecognitionProcessor

    song = render_song(bpm=100, tonic="D", scale="major", bars=12, seed=1)
    y = song.mix.mean(axis=1) if song.mix.ndim == 2 else song.mix
    y = np.ascontiguousarray(y, dtype=np.float32)
    ours = key_cnn_probabilities(y)
    theirs = CNNKeyRecognitionProcessor()(Signal(y, sample_rate=SR))[0]
    order = [key_index(pitch_class(label.split()[0]), label.split()[1]) for label in KEY_LABELS]
    np.testing.assert_allclose(ours[order], theirs, rtol=1e-3, atol=1e-5)
    assert key_label(int(np.argmax(ours))) == "D major"
