"""Our timbral models against `timbral_models` 0.4.0, the package they follow.

The package runs at about 2x realtime, so the reference signals are short: three
rendered songs of about 12 s (one at 48 kHz) and seven made-up signals of 2.5 s. Then
the edge signals (silence, DC, a click, a lone sample, ...) through the timbral family:
every rating finite or undefined with its reason, never NaN, and the package's own
rating wherever it gives one.
"""

import numpy as np
import pytest

from mir.audio import Audio
from mir.config import MasterConfig
from mir.errors import AudioError
from mir.families import TIMBRAL
from mir.family import Track, Undefined
from mir.synth import render_song
from mir.timbral import TIMBRAL_KEYS, timbral_features, timbral_of_audio
from mir.timbral.warmth import _power_law_fit
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


def test_silence_leaves_every_rating_undefined():
    ratings = timbral_features(np.zeros(SR), sr=SR)
    assert all(isinstance(v, Undefined) for v in ratings.values())
    assert {v.reason for v in ratings.values()} == {"digital silence: no sound to rate"}


def test_a_signal_below_the_loudness_gate_leaves_every_rating_undefined():
    # -100 dBFS of noise: no 400 ms block reaches -70 LUFS, nothing to normalise by
    y = 1e-5 * np.random.default_rng(1).standard_normal(SR)
    ratings = timbral_features(y, sr=SR)
    assert all(isinstance(v, Undefined) and "-70 LUFS" in v.reason for v in ratings.values())


# -- edge signals, through the family -------------------------------------------------


def _edge_signals() -> dict[str, tuple[np.ndarray, int]]:
    """The signals every extractor must take: (samples (n, channels), rate)."""
    rng = np.random.default_rng(0)
    n = 2 * SR
    t = np.arange(n) / SR
    song = render_song(bpm=120, bars=2, seed=4).mix
    start = int(0.25 * SR)  # the song's first downbeat
    click = np.zeros(n)
    click[SR] = 1.0
    t8 = np.arange(2 * 8000) / 8000
    t96 = np.arange(2 * 96000) / 96000
    six = 0.05 * rng.standard_normal((t96.size, 6)) + 0.2 * np.sin(2 * np.pi * 220 * t96)[:, None]
    # ten harmonics of 100 Hz, whole periods: a spectrum of lines, exact zeros between
    spectrum = np.zeros(n // 2 + 1)
    spectrum[200:2001:200] = 1.0  # 100 Hz .. 1 kHz at 0.5 Hz per bin
    lines = np.fft.irfft(spectrum, n)
    signals = {
        "digital silence": np.zeros((n, 2)),
        "DC": np.full(n, 0.5),
        "one click": click,
        "white noise": 0.1 * rng.standard_normal(n),
        "pure sine": 0.3 * np.sin(2 * np.pi * 440 * t),
        "1 frame": np.array([[0.5, 0.5]]),
        "100 ms": song[start : start + SR // 10],
        "1 s": song[start : start + SR],
        "full-scale clipped square": np.clip(4 * np.sin(2 * np.pi * 110 * t), -1.0, 1.0),
        "band-limited, exact spectral zeros": 0.3 * lines / np.abs(lines).max(),
    }
    out = {name: (y.reshape(y.shape[0], -1), SR) for name, y in signals.items()}
    out["8 kHz mono"] = ((0.3 * np.sin(2 * np.pi * 440 * t8))[:, None], 8000)
    out["96 kHz, six channels"] = (six, 96000)
    return {name: (y.astype(np.float32), sr) for name, (y, sr) in out.items()}


#: the ratings an edge signal has none of, with a word of the reason stored
UNDEFINED = {
    "digital silence": dict.fromkeys(TIMBRAL_KEYS, "digital silence"),
    "DC": {"warmth": "no onset segment has spectral power"},
    "100 ms": {"reverberation": "shorter than one RT60 analysis frame"},
}
#: where the package's rating is not ours: too short for one RT60 frame, the package
#: returns its shortest RT60 as if measured
NOT_THE_PACKAGES = {("100 ms", "reverberation")}
#: refused before any model runs: shorter than the shortest analysis (the door's rule)
REFUSED = {"1 frame": "too short to analyse"}
EDGE = _edge_signals()


@pytest.fixture(scope="module")
def edge_values() -> dict[str, dict]:
    """The timbral family's stored values of each edge signal (or the error refusing it)."""
    cfg = MasterConfig()
    out: dict[str, dict | AudioError] = {}
    for name, (y, sr) in EDGE.items():
        try:
            out[name] = TIMBRAL.run(Track(Audio(samples=y, sr=sr), cfg))
        except AudioError as exc:
            out[name] = exc
    return out


@pytest.mark.parametrize("name", list(EDGE))
def test_every_rating_of_an_edge_signal_is_finite_or_undefined_with_its_reason(edge_values, name):
    values = edge_values[name]
    if name in REFUSED:
        assert isinstance(values, AudioError) and REFUSED[name] in str(values), values
        return
    reasons = values.get(TIMBRAL.undefined_key, {})
    expected = UNDEFINED.get(name, {})
    assert set(reasons) == set(expected), reasons
    for key in TIMBRAL_KEYS:
        if key in expected:
            assert values[key] is None and expected[key] in reasons[key], (key, reasons)
        else:
            assert isinstance(values[key], float), (key, values[key])
            assert np.isfinite(values[key]) and 0.0 <= values[key] <= 100.0, (key, values)


def test_where_the_package_rates_an_edge_signal_ours_is_its_rating(edge_values):
    compared = 0
    for name, (y, sr) in EDGE.items():
        if name == "digital silence" or name in REFUSED:  # (the package raises; we refuse)
            continue
        ref = _package_or_none(y, sr)
        for key in TIMBRAL_KEYS:
            if ref[key] is None or (name, key) in NOT_THE_PACKAGES:
                continue
            assert edge_values[name][key] == pytest.approx(ref[key], abs=MAX_TOLERANCE), (
                name,
                key,
            )
            compared += 1
    assert compared >= 78  # all but the ratings the package cannot give


def _package_or_none(y: np.ndarray, sr: int) -> dict[str, float | None]:
    """The package's ratings, None for those it gives as NaN or fails on."""
    import warnings

    from tests._vendor import timbral_models as tm

    x = y[:, 0] if y.shape[1] == 1 else y
    out: dict[str, float | None] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key in TIMBRAL_KEYS:
            try:
                if key == "reverberation":
                    value = float(np.ravel(tm.timbral_reverb(x, fs=sr, dev_output=True)[1])[0])
                    value *= 100.0
                else:
                    value = float(getattr(tm, f"timbral_{key}")(x, fs=sr))
            except (ValueError, ZeroDivisionError, IndexError):
                value = np.nan
            out[key] = round(float(np.clip(value, 0, 100)), 4) if np.isfinite(value) else None
    return out


def test_the_package_fails_on_edge_signals_we_rate():
    # the cases the models' docstrings describe: the package's NaN or error, ours a number
    # or a reason
    y, sr = EDGE["DC"]
    assert _package_or_none(y, sr)["warmth"] is None
    y, sr = EDGE["1 frame"]
    ref = _package_or_none(y, sr)
    assert ref["brightness"] is ref["depth"] is ref["hardness"] is ref["warmth"] is None


def test_warmths_power_law_is_fitted_where_the_spectrum_has_power():
    freq = np.linspace(1000.0, 20000.0, 200)
    power_law = freq**-2.0
    assert _power_law_fit(freq, power_law) == pytest.approx(1.0)
    holes = power_law.copy()
    holes[::3] = 0.0  # exact zeros: no logarithm there (the package's fit gives NaN)
    assert _power_law_fit(freq, holes) == pytest.approx(1.0)
    assert _power_law_fit(freq, np.full(200, 0.5)) == 1.0  # flat: nothing to explain
    assert _power_law_fit(freq, np.zeros(200)) is None
