"""The complete whole-track series: per-stem RMS and onsets, f0 with voicing, chord index,
tonic, each at its own rate."""

import numpy as np
import pytest

from mir.dataset import timeseries

SR = 44100


def tone(freq, seconds, amp=0.5, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_chord_index_numbers_majors_then_minors_from_c():
    assert timeseries.chord_index("N") == 0
    assert timeseries.chord_index("C:maj") == 1
    assert timeseries.chord_index("A:min") == 22
    assert timeseries.chord_index("F#:maj") == 7


def test_chord_series_at_ten_frames_per_second():
    series = timeseries.chord_series([(0.0, 0.5, "C:maj"), (0.5, 1.2, "A:min")], 1.2)
    assert series.shape == (12,)
    assert series.tolist() == [1.0] * 5 + [22.0] * 7


def test_f0_of_a_bass_tone_with_a_silent_gap_is_voiced_only_where_it_sounds():
    y = np.concatenate([tone(110.0, 1.0), np.zeros(SR, np.float32), tone(82.41, 1.0)])
    out = timeseries.f0_series(y, name="bass")
    f0, voiced = out["f0_bass_ts"], out["f0_bass_voiced_ts"]
    assert f0.shape == voiced.shape == (150,)  # 3 s at 50 Hz
    assert np.median(f0[10:40][voiced[10:40] > 0]) == pytest.approx(110.0, rel=0.01)
    assert np.median(f0[110:140][voiced[110:140] > 0]) == pytest.approx(82.41, rel=0.01)
    assert voiced[60:90].sum() == 0 and f0[60:90].max() == 0
    assert voiced[10:40].mean() > 0.9


def test_stem_rms_is_the_level_of_each_hundredth_of_a_second():
    y = np.concatenate([tone(440.0, 1.0, amp=0.5), np.zeros(SR, np.float32)])
    out = timeseries.stem_series(y, name="other", n_frames=200)
    rms = out["rms_other_ts"]
    assert rms.shape == (200,)
    assert np.median(rms[10:90]) == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.1)
    assert rms[120:].max() == -60.0  # the floor
    assert out["onset_envelope_other_ts"].shape == (200,)


def test_tonic_of_a_c_major_hpcp_is_c():
    hpcp = np.zeros((300, 12), np.float32)  # 3 s at 100 Hz, C-based
    hpcp[:, [0, 4, 7]] = [1.0, 0.6, 0.8]
    out = timeseries.tonic_series(hpcp)
    assert out["tonic_ts"].shape == (3,)
    assert out["tonic_ts"].tolist() == [0.0, 0.0, 0.0]
    assert (out["tonic_strength_ts"] > 0.5).all()


def test_complete_series_has_every_field_at_its_rate():
    y = np.concatenate([tone(220.0, 2.0), tone(330.0, 2.0)])
    stems = {"bass": tone(55.0, 4.0), "drums": tone(100.0, 4.0, amp=0.1)}
    series, rates = timeseries.complete_track_series(
        y, stems=stems, chords=[(0.0, 2.0, "A:maj"), (2.0, 4.0, "E:min")]
    )
    assert set(series) == set(rates)
    assert rates["onset_envelope_ts"] == 100 and rates["hpcp_ts"] == 100
    assert rates["tonic_ts"] == 1 and rates["chords_idx_ts"] == 10 and rates["f0_bass_ts"] == 50
    for name in (
        "rms_bass_ts",
        "onset_envelope_bass_ts",
        "rms_drums_ts",
        "onset_envelope_drums_ts",
    ):
        assert rates[name] == 100 and series[name].shape == (400,)
    assert "f0_drums_ts" not in series  # f0 of the bass and other stems only
    assert series["f0_bass_voiced_ts"].mean() > 0.9
    assert series["chords_idx_ts"][5] == 10 and series["chords_idx_ts"][25] == 17
    for name, values in series.items():  # each covers the 4 s at its rate
        assert values.shape[0] == pytest.approx(4 * rates[name], abs=1), name
        assert np.isfinite(values).all(), name


def test_without_stems_or_chords_their_fields_are_absent():
    series, rates = timeseries.complete_track_series(tone(220.0, 1.0))
    assert not [k for k in series if k.startswith(("rms_bass", "f0_", "chords"))]
    assert "tonic_ts" in series and "spectral_flux_ts" in series


def test_the_whole_track_holds_every_series_the_crops_know():
    from mir.audio import Audio
    from mir.synth import render_song

    song = render_song(bpm=120, bars=4, seed=3)
    crop = timeseries.crop_timeseries(
        Audio(song.mix, song.sr), n_steps=64, beats=song.beats, downbeats=song.downbeats
    )
    series, rates = timeseries.complete_track_series(
        song.mix.mean(axis=1), beats=song.beats, downbeats=song.downbeats
    )
    assert set(crop) - set(series) == set()
    for name in crop:  # the same shape per frame (HPCP's 12 bins)
        assert series[name].shape[1:] == crop[name].shape[1:], name
    assert rates["beat_activations_ts"] == rates["onsets_activations_ts"] == 100


def test_beat_bumps_peak_on_the_beats_with_the_crops_width():
    beats = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0])
    out = timeseries.grid_activations(beats, np.array([0.5, 2.5]), n_frames=500)
    b, d = out["beat_activations_ts"], out["downbeat_activations_ts"]
    assert b.shape == d.shape == (500,)
    peaks = [i for i in range(1, 499) if b[i] > b[i - 1] and b[i] >= b[i + 1]]
    assert peaks == [50, 100, 150, 200, 250, 300, 350, 400]
    assert b.max() == pytest.approx(1.0)
    # a Gaussian of 0.0697 s: at one sigma (7 frames) from a beat, exp(-1/2) of its peak
    assert b[57] / b[50] == pytest.approx(np.exp(-0.5 * (0.07 / timeseries.BEAT_SIGMA_S) ** 2))
    assert [i for i in range(1, 499) if d[i] > d[i - 1] and d[i] >= d[i + 1]] == [50, 250]
    assert d[150] < 1e-3  # a beat that is not a downbeat
    # without downbeats, every 4th beat stands in (as in the crops)
    fallback = timeseries.grid_activations(beats, None, n_frames=500)["downbeat_activations_ts"]
    assert np.argmax(fallback[:200]) == 50 and np.argmax(fallback[200:]) + 200 == 250
    # no beats: nothing to mark, zeros rather than a made-up grid
    assert not timeseries.grid_activations(np.zeros(0), None, n_frames=10)[
        "beat_activations_ts"
    ].any()


def test_onsets_activations_are_the_onset_envelope_scaled_to_one():
    series, _ = timeseries.complete_track_series(np.concatenate([tone(220, 1.0), tone(440, 1.0)]))
    env, act = series["onset_envelope_ts"], series["onsets_activations_ts"]
    assert act.max() == pytest.approx(1.0)
    np.testing.assert_allclose(act * env.max(), env, rtol=1e-5, atol=1e-6)
    assert "beat_activations_ts" not in series  # no grid given: nothing made up


def test_each_series_names_the_family_it_comes_from():
    assert timeseries.series_family("beat_activation_ts") == "beat_grid"
    assert timeseries.series_family("downbeat_activations_ts") == "beat_grid"
    assert timeseries.series_family("chords_idx_ts") == "chords"
    assert timeseries.series_family("rms_drums_ts") == "stems"
    assert timeseries.series_family("f0_bass_voiced_ts") == "stems"
    assert timeseries.series_family("rms_energy_bass_ts") is None  # a band of the mix
    assert timeseries.series_family("hpcp_ts") is None
