"""Our timbral models against `timbral_models` 0.4.0, the package they follow.

The package runs at about 2x realtime, so the reference signals are short: three
rendered songs of about 12 s (one at 48 kHz) and seven made-up signals of 2.5 s.
"""

import numpy as np
import pytest

from mir.audio import Audio
from mir.errors import AudioError
from mir.synth import render_song
from mir.timbral import TIMBRAL_KEYS, timbral_features, timbral_of_audio
from tests.timbral_reference import reference_features

SR = 44100
#: per feature, on the 0-100 scale, over all reference signals
MEAN_TOLERANCE = 1.0
MAX_TOLERANCE = 3.0


def _made_up_signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    n = int(2.5 * SR)
    t = np.arange(n) / SR
    white = rng.standard_normal(n)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[1:] /= np.sqrt(np.arange(1, spectrum.size))
    pink = np.fft.irfft(spectrum, n)
    clicks = np.zeros(n)
    clicks[:: SR // 2] = 1.0
    tail = rng.standard_normal(SR) * np.exp(-np.arange(SR) / (0.3 * SR))
    bursts = np.zeros(n)
    for start in range(0, n, int(0.4 * SR)):
        burst = np.diff(rng.standard_normal(int(0.05 * SR) + 1))  # tilted to the highs
        bursts[start : start + burst.size] = burst[: n - start]
    return {
        "sine 440 Hz": 0.3 * np.sin(2 * np.pi * 440 * t),
        "sine 3 kHz": 0.2 * np.sin(2 * np.pi * 3000 * t),
        "white noise": 0.1 * white,
        "pink noise": 0.3 * pink / pink.std(),
        "clicks in a reverberant tail": 0.05 * np.convolve(clicks, tail)[:n],
        "booming 50 Hz": 0.5 * np.sin(2 * np.pi * 50 * t) * (0.7 + 0.3 * np.sin(np.pi * t)),
        "bright noise bursts": 0.3 * bursts,
    }


def _reference_signals() -> dict[str, tuple[np.ndarray, int]]:
    songs = {
        "song 120 BPM A minor": render_song(bpm=120, tonic="A", bars=5, seed=1),
        "song 90 BPM D major": render_song(bpm=90, tonic="D", scale="major", bars=4, seed=2),
        "song 140 BPM E minor, 48 kHz": render_song(bpm=140, tonic="E", bars=6, sr=48000, seed=3),
    }
    signals = {name: (song.mix.astype(np.float32), song.sr) for name, song in songs.items()}
    signals.update({name: (y, SR) for name, y in _made_up_signals().items()})
    return signals


@pytest.fixture(scope="module")
def differences() -> dict[str, np.ndarray]:
    """|ours - package| per feature, one value per reference signal."""
    diffs = {key: [] for key in TIMBRAL_KEYS}
    for samples, sr in _reference_signals().values():
        ours = timbral_features(samples, sr=sr)
        ref = reference_features(samples, sr=sr)
        for key in TIMBRAL_KEYS:
            diffs[key].append(abs(ours[key] - ref[key]))
    return {key: np.array(v) for key, v in diffs.items()}


@pytest.mark.parametrize("key", TIMBRAL_KEYS)
def test_each_rating_matches_timbral_models_on_songs_and_made_up_signals(differences, key):
    diff = differences[key]
    assert diff.mean() <= MEAN_TOLERANCE, (key, diff.round(4))
    assert diff.max() <= MAX_TOLERANCE, (key, diff.round(4))


def test_ratings_tell_the_made_up_signals_apart():
    signals = _made_up_signals()
    ratings = {name: timbral_features(y, sr=SR) for name, y in signals.items()}
    for values in ratings.values():
        assert set(values) == set(TIMBRAL_KEYS)
        assert all(0 <= v <= 100 and np.isfinite(v) for v in values.values())
    assert ratings["sine 3 kHz"]["brightness"] > ratings["sine 440 Hz"]["brightness"]
    assert ratings["booming 50 Hz"]["booming"] > ratings["white noise"]["booming"]
    assert ratings["white noise"]["sharpness"] > ratings["booming 50 Hz"]["sharpness"]
    assert (
        ratings["clicks in a reverberant tail"]["reverberation"]
        > ratings["white noise"]["reverberation"]
    )


def test_a_four_times_longer_signal_gives_finite_ratings_in_range():
    song = render_song(bpm=110, tonic="G", bars=4, seed=5).mix
    rng = np.random.default_rng(0)
    longer = np.concatenate([song * (0.6 + 0.1 * k) for k in range(4)])
    longer = longer + 1e-4 * rng.standard_normal(longer.shape)
    short_ratings = timbral_features(song, sr=SR)
    long_ratings = timbral_features(longer, sr=SR)
    assert set(long_ratings) == set(short_ratings) == set(TIMBRAL_KEYS)
    assert all(0 <= v <= 100 and np.isfinite(v) for v in long_ratings.values())


def test_timbral_of_audio_reads_the_track_as_the_package_would_and_caches_on_it():
    song = render_song(bpm=100, tonic="C", bars=3, seed=6)
    audio = Audio(samples=song.mix.astype(np.float32), sr=song.sr)
    first = timbral_of_audio(audio)
    assert first == timbral_features(audio.samples, sr=audio.sr)
    keys = [k for k in audio._cache if isinstance(k, str)]
    assert keys and all(k.startswith("timbral_") for k in keys)
    audio._cache["timbral_loudness_windows"] = None  # would break a second computation
    assert timbral_of_audio(audio) == first  # kept on the track: not computed again


def test_a_track_below_44_1_khz_is_resampled_as_the_package_does():
    song = render_song(bpm=95, tonic="F", bars=1, sr=22050, seed=8)
    mono = song.mix.mean(axis=1)
    ours = timbral_features(mono, sr=22050)
    ref = reference_features(mono, sr=22050)
    assert max(abs(ours[k] - ref[k]) for k in TIMBRAL_KEYS) <= MAX_TOLERANCE


def test_one_channel_columns_and_plain_arrays_give_the_same_ratings():
    y = render_song(bpm=120, bars=2, seed=9).mix[:, 0]
    assert timbral_features(y[:, None], sr=SR) == timbral_features(y, sr=SR)


def test_silence_is_an_audio_error():
    with pytest.raises(AudioError, match="silent"):
        timbral_features(np.zeros(SR), sr=SR)
