"""Beat tracking on synthesised audio with known beats."""

import numpy as np
import pytest

from mir.beats import beat_statistics, track_beats
from mir.synth import click_track, render_song

SR = 44100


def _errors(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.array([np.min(np.abs(found - t)) for t in truth])


def test_beats_of_a_128_bpm_click_track_are_within_20_ms():
    y, truth = click_track(128, duration_s=20, sr=SR)
    grid = track_beats(y, sr=SR)
    assert _errors(grid.beats, truth).max() < 0.020
    stats = beat_statistics(grid.beats, duration_s=20)
    assert stats["bpm"] == pytest.approx(128, rel=0.01)
    assert stats["bpm_is_defined"] == 1


def test_downbeats_of_a_click_track_fall_every_fourth_beat():
    y, _ = click_track(128, duration_s=20, sr=SR)
    grid = track_beats(y, sr=SR)
    assert grid.downbeats.size >= 8
    index = np.searchsorted(grid.beats, grid.downbeats)
    assert set(np.diff(index)) == {4}


def test_waltz_is_tracked_in_three_four_with_bar_starts_on_the_true_downbeats():
    song = render_song(bpm=84, beats_per_bar=3, tonic="F", scale="major", bars=10)
    grid = track_beats(song.mix.mean(axis=1), sr=SR)
    assert grid.beats_per_bar == 3
    assert _errors(grid.beats, song.beats).max() < 0.03
    assert _errors(grid.downbeats, song.downbeats).max() < 0.03


def test_librosa_fallback_finds_the_tempo_without_downbeats():
    y, truth = click_track(120, duration_s=15, sr=SR)
    grid = track_beats(y, sr=SR, tracker="librosa")
    assert grid.downbeats.size == 0
    assert beat_statistics(grid.beats)["bpm"] == pytest.approx(120, rel=0.02)


def test_beat_statistics_of_an_irregular_grid_leave_the_tempo_undefined():
    beats = np.cumsum(np.random.default_rng(0).uniform(0.2, 1.2, 12))
    stats = beat_statistics(beats, duration_s=float(beats[-1]))
    assert stats["bpm_is_defined"] == 0
    assert stats["bpm"] == 120.0
    assert 0 < stats["beat_regularity"] <= 1
