"""Time series of a track and of its crops: linear-cost paths give the numbers of the
direct definitions (a mask per step over every frame, librosa's onset strength on the
signal, the whole STFT at once), which cost time quadratic in the duration."""

import numpy as np
import pytest
import scipy.signal

import mir.dataset.timeseries as timeseries
import mir.intermediates as intermediates
import mir.spectral as spectral
from mir.audio import Audio
from mir.harmonic import hpcp_frames, to_c_based
from mir.synth import render_song

SR = 44100


def per_step_by_masks(values, n_steps, reduce=np.median):
    """The definition: bin i of n items is (i * n_steps) // n; empty bins repeat the last."""
    idx = np.minimum((np.arange(values.shape[0]) * n_steps) // values.shape[0], n_steps - 1)
    out = np.zeros((n_steps, *values.shape[1:]), dtype=np.float32)
    last = np.zeros(values.shape[1:], dtype=np.float32)
    for step in range(n_steps):
        chunk = values[idx == step]
        if chunk.shape[0]:
            last = reduce(chunk, axis=0)
        out[step] = last
    return out


def band_rms_by_masks(y, n_steps):
    out = {}
    for name, (lo, hi) in spectral.FREQUENCY_BANDS.items():
        filtered = scipy.signal.sosfilt(spectral.band_sos(lo, hi, sr=SR), y.astype(np.float64))
        ms = per_step_by_masks(filtered[:, None] ** 2, n_steps, reduce=np.mean)[:, 0]
        db = 10 * np.log10(np.maximum(ms, 1e-12))
        out[f"rms_energy_{name}_ts"] = np.maximum(db, spectral.RMS_FLOOR_DB)
    return out


@pytest.fixture(scope="module")
def song():
    return render_song(bpm=126.0, bars=8, seed=11)  # 15 s


@pytest.mark.parametrize("n_items, n_steps", [(1000, 256), (255, 256), (40, 256), (44100, 4410)])
def test_per_step_by_slices_equals_the_mask_definition(n_items, n_steps):
    rng = np.random.default_rng(n_items)
    values = rng.normal(size=(n_items, 3))
    for reduce in (np.median, np.mean):
        np.testing.assert_allclose(
            timeseries._per_step(values, n_steps, reduce=reduce),
            per_step_by_masks(values, n_steps, reduce=reduce),
            rtol=1e-6,
            atol=1e-7,
        )


@pytest.mark.parametrize("n_steps", [256, 1501])
def test_band_rms_in_blocks_equals_the_whole_signal_filtered_at_once(song, monkeypatch, n_steps):
    y = song.mix.mean(axis=1).astype(np.float32)
    monkeypatch.setattr(spectral, "BLOCK_SAMPLES", 65536)  # many block edges
    ours = timeseries.band_rms_series(y, sr=SR, n_steps=n_steps)
    for key, expected in band_rms_by_masks(y, n_steps).items():
        np.testing.assert_allclose(ours[key], expected, atol=1e-4, err_msg=key)


def test_track_series_equal_their_direct_definitions(song, monkeypatch):
    import librosa

    y = song.mix.mean(axis=1).astype(np.float32)
    monkeypatch.setattr(intermediates, "STFT_BLOCK_FRAMES", 300)  # 5 blocks of 3 s
    act = np.linspace(0.0, 1.0, 1200).astype(np.float32)
    ours = timeseries.track_timeseries(y, beat_activation=act, downbeat_activation=act / 2)
    hop = 441
    n = int(np.ceil(y.size / hop))
    assert all(v.shape[0] == n for v in ours.values())
    np.testing.assert_array_equal(ours["beat_activation_ts"][:1200], act)
    assert not ours["beat_activation_ts"][1200:].any()  # zero-padded to the track
    onset = librosa.onset.onset_strength(y=y, sr=SR, hop_length=hop)[:n]
    np.testing.assert_allclose(ours["onset_envelope_ts"], onset, rtol=1e-3, atol=1e-3)
    whole = spectral.spectral_shape(intermediates.magnitude_spectrogram(y, hop=hop))
    for key, series in whole.items():
        np.testing.assert_allclose(
            ours[f"spectral_{key}_ts"], series[:n].astype(np.float32), rtol=1e-5, atol=1e-6
        )
    for key, expected in band_rms_by_masks(y, n).items():
        np.testing.assert_allclose(ours[key], expected, atol=1e-4, err_msg=key)
    hpcp = to_c_based(hpcp_frames(y, frame_size=4096, hop_size=hop))
    np.testing.assert_allclose(ours["hpcp_ts"][: hpcp.shape[0]], hpcp, atol=1e-6)


def test_crop_onset_series_from_the_shared_stft_equals_librosa_on_the_signal(song):
    import librosa

    y = song.mix[: 12 * SR].mean(axis=1).astype(np.float32)
    crop = Audio(y[:, None], SR)
    series = timeseries.crop_timeseries(crop, n_steps=256)
    env = librosa.onset.onset_strength(y=y, sr=SR, hop_length=512)
    expected = per_step_by_masks(env[:, None], 256)[:, 0]
    expected = expected / expected.max()
    np.testing.assert_allclose(series["onsets_activations_ts"], expected, atol=1e-4)
    assert {k: v.shape for k, v in series.items()} == {
        k: (256, 12) if k == "hpcp_ts" else (256,) for k in series
    }


def test_band_levels_and_the_track_series_share_one_band_pass(song):
    y = song.mix.mean(axis=1).astype(np.float32)
    audio = Audio(y[:, None], SR)
    levels = spectral.multiband_rms(audio)
    for name, (lo, hi) in spectral.FREQUENCY_BANDS.items():
        direct = spectral.band_rms_db(y, sr=SR, low=lo, high=hi)  # the whole signal at once
        assert levels[f"rms_energy_{name}"] == pytest.approx(direct, abs=1e-3)
    cached = audio.cached(("band_energies", spectral.series_steps(y.size)), lambda: None)
    assert cached is not None  # the 100 Hz series will read these sums, not filter again
    series = timeseries.track_timeseries(y, energies=spectral.band_energies_of(audio))
    for key, expected in band_rms_by_masks(y, spectral.series_steps(y.size)).items():
        np.testing.assert_allclose(series[key], expected, atol=1e-4, err_msg=key)
