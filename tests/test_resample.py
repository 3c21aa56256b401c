"""The resampler: each pooling rule on series with known values."""

import numpy as np
import pytest

from mir.dataset.resample import TrackSeries, field_rule, padding_mask, pool_window


def test_rules_follow_the_field_names():
    assert field_rule("rms_energy_bass_ts") == "mean"
    assert field_rule("f0_bass_ts") == "voiced_mean"
    assert field_rule("f0_bass_voiced_ts") == "mean"
    assert field_rule("chords_idx_ts") == "mode"
    assert field_rule("tonic_ts") == "slice"


def test_mean_averages_the_covered_frames_of_a_faster_field():
    ramp = np.arange(100, dtype=np.float32)  # 100 Hz, value = frame index
    out = pool_window({"x_ts": ramp}, {"x_ts": 100}, start_s=0.2, frame_s=0.1, n_frames=3)
    # frames 20-29, 30-39, 40-49
    assert out["x_ts"].tolist() == pytest.approx([24.5, 34.5, 44.5])


def test_mean_of_a_vector_field_pools_each_bin():
    hpcp = np.zeros((40, 12), np.float32)
    hpcp[:20, 0] = 1.0
    hpcp[20:, 7] = 1.0
    out = pool_window({"hpcp_ts": hpcp}, {"hpcp_ts": 40}, start_s=0, frame_s=0.5, n_frames=2)
    assert out["hpcp_ts"].shape == (2, 12)
    assert out["hpcp_ts"][0, 0] == 1.0 and out["hpcp_ts"][1, 7] == 1.0
    assert out["hpcp_ts"][0, 7] == 0.0


def test_voiced_mean_ignores_unvoiced_frames_and_gives_the_voiced_share():
    f0 = np.array([110, 0, 0, 0, 220, 220, 0, 0], np.float32)  # 4 Hz
    voiced = (f0 > 0).astype(np.float32)
    out = pool_window(
        {"f0_bass_ts": f0, "f0_bass_voiced_ts": voiced},
        {"f0_bass_ts": 4, "f0_bass_voiced_ts": 4},
        start_s=0,
        frame_s=1.0,
        n_frames=2,
    )
    assert out["f0_bass_ts"].tolist() == [110.0, 220.0]  # not 27.5 and 110: zeros left out
    assert out["f0_bass_voiced_ts"].tolist() == [0.25, 0.5]


def test_voiced_mean_of_a_silent_frame_is_zero():
    out = pool_window(
        {"f0_other_ts": np.zeros(10), "f0_other_voiced_ts": np.zeros(10)},
        {"f0_other_ts": 10, "f0_other_voiced_ts": 10},
        start_s=0,
        frame_s=0.5,
        n_frames=2,
    )
    assert out["f0_other_ts"].tolist() == [0.0, 0.0]


def test_mode_takes_the_most_common_chord_and_the_smaller_on_a_tie():
    chords = np.array([3, 3, 5, 5, 5, 7, 7, 2, 2, 9], np.float32)  # 10 Hz
    out = pool_window(
        {"chords_idx_ts": chords}, {"chords_idx_ts": 10}, start_s=0, frame_s=0.5, n_frames=2
    )
    assert out["chords_idx_ts"].tolist() == [5.0, 2.0]  # 5 of [3,3,5,5,5]; 2 ties 7 in [7,7,2,2,9]


def test_a_chord_slower_than_the_latents_is_held():
    chords = np.array([1, 4], np.float32)  # 2 Hz
    out = pool_window(
        {"chords_idx_ts": chords}, {"chords_idx_ts": 2}, start_s=0, frame_s=0.1, n_frames=10
    )
    assert out["chords_idx_ts"].tolist() == [1.0] * 5 + [4.0] * 5


def test_slice_takes_the_slow_frame_under_each_centre():
    tonic = np.array([0, 7, 9], np.float32)  # 1 Hz
    out = pool_window({"tonic_ts": tonic}, {"tonic_ts": 1}, start_s=0.5, frame_s=0.5, n_frames=4)
    # centres 0.75, 1.25, 1.75, 2.25 s
    assert out["tonic_ts"].tolist() == [0.0, 7.0, 7.0, 9.0]


def test_frames_past_the_end_are_zero_and_masked():
    x = np.ones(20, np.float32)  # 2 s at 10 Hz
    out = pool_window({"x_ts": x}, {"x_ts": 10}, start_s=1.0, frame_s=0.5, n_frames=4)
    assert out["x_ts"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert padding_mask(1.0, 0.5, 4, 2.0).tolist() == [1, 1, 0, 0]


def test_fields_at_different_rates_meet_on_the_same_frames():
    series = TrackSeries(
        {"a_ts": np.arange(100.0), "b_ts": np.arange(10.0)}, {"a_ts": 100, "b_ts": 10}
    )
    out = series.pool(0.0, 0.5, 2)
    assert out["a_ts"].tolist() == [24.5, 74.5]
    assert out["b_ts"].tolist() == [2.0, 7.0]


def test_an_f0_without_its_voiced_series_is_refused():
    with pytest.raises(ValueError, match="f0_bass_voiced_ts"):
        TrackSeries({"f0_bass_ts": np.zeros(4)}, {"f0_bass_ts": 4})
