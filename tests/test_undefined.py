"""Finite or undefined, never NaN: every family with a computation (what `mir analyze` runs,
the per-stem ones with stems) and `mir analyze` itself, fed signals that break naive code:
digital silence, DC, one click, white noise, a pure sine, one frame, 100 ms and 1 s of
audio, a full-scale clipped square wave, a spectrum with exact zeros, 8 kHz mono and 96 kHz
with six channels.

Each key a family declares is a finite number in its declared range, or a
:class:`~mir.family.Undefined` with its reason, *before* :meth:`~mir.family.Family.finish`
(the extractor itself gives no NaN); a file too short for any analysis is refused at the
door with a clear error naming it. What does not exist for a signal must be undefined, not
made up: silence, noise, a tone or a single click have no tempo and no key.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile as sf

from mir.analysis import analysis_families
from mir.audio import SHORTEST_ANALYSIS_S, Audio, load_audio, probe_audio, resample
from mir.config import MasterConfig
from mir.errors import AudioError, MirError
from mir.family import Track, Undefined, resolve
from mir.synth import render_song

SR = 44100
SECONDS = 6.0
#: the families `mir analyze` runs, in its order (beat_grid first: the others read its beats)
FAMILIES = analysis_families()
TEMPO = ("bpm", "bpm_madmom", "bpm_essentia", "bpm_confidence")
KEY = ("tonic", "tonic_scale", "key_confidence")


def _song(sr: int = SR) -> np.ndarray:
    """Eight bars of a 120 BPM song (16.25 s, stereo), at `sr`."""
    mix = render_song(bpm=120, bars=8, tonic="D", scale="major", seed=4).mix
    if sr == SR:
        return mix
    return np.stack([resample(mix[:, c], orig_sr=SR, target_sr=sr) for c in range(2)], axis=1)


def _stereo(y: np.ndarray) -> np.ndarray:
    return np.stack([y, y], axis=1).astype(np.float32)


def _t(seconds: float, sr: int = SR) -> np.ndarray:
    return np.arange(int(round(seconds * sr))) / sr


def _band_limited() -> np.ndarray:
    """A chord of sines at exact bins of the shared STFT (2048 points at 44.1 kHz): every
    other bin of the spectrum is zero (to rounding), as in a brick-wall filtered master."""
    bins = (12, 15, 18)  # 258, 323, 388 Hz: about C4, E4, G4
    y = sum(0.25 * np.sin(2 * np.pi * k * SR / 2048 * _t(SECONDS)) for k in bins)
    return _stereo(y)


def _six_channels() -> np.ndarray:
    """The song at 96 kHz in 5.1: the mix in front, its channels' mean in the centre,
    nothing in the LFE, the mix again (quieter) behind."""
    mix = _song(96000)
    centre = mix.mean(axis=1, keepdims=True)
    return np.concatenate([mix, centre, np.zeros_like(centre), 0.5 * mix], axis=1, dtype=np.float32)


#: name -> (samples (n, channels), sample rate)
SIGNALS = {
    "digital silence": lambda: (np.zeros((int(SECONDS * SR), 2), np.float32), SR),
    "DC": lambda: (np.full((int(SECONDS * SR), 2), 0.5, np.float32), SR),
    "one click": lambda: (_click(), SR),
    "white noise": lambda: (
        _stereo(np.clip(0.3 * np.random.default_rng(0).standard_normal(int(SECONDS * SR)), -1, 1)),
        SR,
    ),
    "pure sine": lambda: (_stereo(0.5 * np.sin(2 * np.pi * 440 * _t(SECONDS))), SR),
    "one frame": lambda: (_song()[SR : SR + 1], SR),
    "100 ms": lambda: (_song()[SR : SR + SR // 10], SR),
    "1 s": lambda: (_song()[SR : 2 * SR], SR),
    "clipped square": lambda: (_stereo(np.sign(np.sin(2 * np.pi * 110 * _t(SECONDS) + 0.1))), SR),
    "exact spectral zeros": lambda: (_band_limited(), SR),
    "8 kHz mono": lambda: (_song(8000).mean(axis=1, keepdims=True).astype(np.float32), 8000),
    "96 kHz six channels": lambda: (_six_channels(), 96000),
}


def _click() -> np.ndarray:
    y = np.zeros((int(SECONDS * SR), 2), np.float32)
    y[int(SECONDS * SR) // 2] = 1.0
    return y


#: keys that must be undefined for a signal (what does not exist for it), and a word the
#: reason must hold
UNDEFINED = {
    "digital silence": {
        **{k: "digital silence" for k in TEMPO + KEY},
        "spectral_flatness": "digital silence",
        "lra": "digital silence",
        "chroma_0": "",
        "syncopation": "no onsets",
    },
    "DC": {k: "" for k in TEMPO + KEY},
    "one click": {k: "" for k in TEMPO + KEY},
    "white noise": {**{k: "no beat" for k in TEMPO}, **{k: "noise" for k in KEY}},
    "pure sine": {**{k: "no beat" for k in TEMPO}, **{k: "triad" for k in KEY}},
    "100 ms": {**{k: "" for k in TEMPO + KEY}, "lufs": "400 ms", "lra": ""},
    "1 s": {**{k: "2 s" for k in TEMPO + KEY}, "lra": "3 s window"},
    "clipped square": {k: "" for k in TEMPO + KEY},
    "exact spectral zeros": {k: "" for k in TEMPO},
}
#: signals whose tempo is known: it must be found
TEMPO_OF = {"8 kHz mono": 120.0, "96 kHz six channels": 120.0}

_RESULTS: dict[str, dict[str, dict | Exception]] = {}


def _results(name: str) -> dict[str, dict | Exception]:
    """{family: its raw values (before `finish`), or the exception it raised} of one
    signal: every family on one track, stems given as the signal itself, in `mir
    analyze`'s order (so the rhythm families read the beat grid's beats)."""
    if name not in _RESULTS:
        samples, sr = SIGNALS[name]()
        path = f"/signals/{name}.wav"
        audio = Audio(samples, sr, path=path)
        stems = {s: Audio(samples, sr, path=path) for s in ("drums", "bass", "other", "vocals")}
        track = Track(audio, MasterConfig(), stems=stems)
        out: dict[str, dict | Exception] = {}
        for family in FAMILIES:
            try:
                out[family.name] = resolve(family.compute)(track)
            except Exception as exc:  # the test says which are allowed
                out[family.name] = exc
        _RESULTS[name] = out
    return _RESULTS[name]


CASES = [
    pytest.param(name, family.name, id=f"{name}-{family.name}")
    for name in SIGNALS
    for family in FAMILIES
]


@pytest.mark.parametrize(("signal", "family_name"), CASES)
def test_every_key_is_finite_in_range_or_undefined(signal, family_name):
    family = next(f for f in FAMILIES if f.name == family_name)
    result = _results(signal)[family_name]
    if signal == "one frame":
        # shorter than any analysis: a clear error naming the file, never a library's
        assert isinstance(result, AudioError), result
        assert f"/signals/{signal}.wav" in str(result) and "too short" in str(result)
        return
    assert not isinstance(result, Exception), f"{type(result).__name__}: {result}"
    assert family.missing(result) == [] and family.undeclared(result) == []
    for key, value in result.items():
        feature = family.feature(key)
        if isinstance(value, Undefined):
            assert value.reason.strip(), key
        elif feature.numeric:
            assert isinstance(value, int | float | np.number) and not isinstance(value, bool), key
            assert math.isfinite(value), f"{key} = {value}"
            assert feature.min <= value <= feature.max, f"{key} = {value} outside its range"
        elif feature.kind == "text":
            assert isinstance(value, str), key


@pytest.mark.parametrize("signal", [s for s in SIGNALS if s in UNDEFINED or s in TEMPO_OF])
def test_what_the_signal_does_not_hold_is_undefined_and_what_it_holds_is_found(signal):
    values = {}
    for result in _results(signal).values():
        if isinstance(result, dict):
            values.update(result)
    for key, word in UNDEFINED.get(signal, {}).items():
        assert isinstance(values.get(key), Undefined), f"{key} = {values.get(key)!r}"
        assert word in values[key].reason, f"{key}: {values[key].reason}"
    if signal in TEMPO_OF:
        assert values["bpm"] == pytest.approx(TEMPO_OF[signal], rel=0.04), values["bpm"]
        assert values["beat_count"] >= 20


def test_a_master_above_0_lufs_is_in_range():
    lufs = _results("clipped square")["loudness"]["lufs"]
    assert (
        lufs > 0 and lufs <= next(f for f in FAMILIES if f.name == "loudness").feature("lufs").max
    )


def test_silence_is_flagged_and_kept_out_of_the_dataset():
    from mir.quality import assess, exclusion_reason

    quality = {}
    for name in ("digital silence", "clipped square", "white noise"):
        samples, sr = SIGNALS[name]()
        quality[name] = assess(Audio(samples, sr), lossless=True, min_seconds=1.0).values()
    assert quality["digital silence"]["silent"] and quality["digital silence"]["silence_ratio"] == 1
    assert "digital silence" in exclusion_reason(quality["digital silence"], ["silent"])
    assert quality["clipped square"]["clipped"] and not quality["clipped square"]["silent"]
    assert not any(quality["white noise"][k] for k in ("silent", "clipped"))


# -- the door ---------------------------------------------------------------------------


def test_a_file_shorter_than_any_analysis_is_refused_naming_it(tmp_path):
    short = tmp_path / "One Frame.wav"
    sf.write(str(short), np.zeros((1, 2), np.float32), SR)
    for check in (probe_audio, load_audio):
        with pytest.raises(AudioError, match="One Frame.wav: too short to analyse: 1 samples"):
            check(short)
    # just long enough: one frame of the shared STFT
    ok = tmp_path / "Long Enough.wav"
    sf.write(str(ok), np.zeros((int(np.ceil(SHORTEST_ANALYSIS_S * 48000)), 1)), 48000)
    assert probe_audio(ok) >= SHORTEST_ANALYSIS_S


def test_the_registry_rejects_a_too_short_file_with_its_reason(project):
    from store.duckdb import DuckDBTables
    from store.registry import admit_files

    short = project.add_audio("Blip.wav", np.full((40, 2), 0.1, np.float32))
    good = project.add_audio("Song.wav", _song()[: 3 * SR])
    tables = DuckDBTables(project.duckdb, inbox=project.inbox)
    admission = admit_files(tables, [short, good])
    assert [p.name for _, p, _ in admission.tracks] == ["Song.wav"]
    ((path, reason),) = admission.rejected
    assert path == short and "too short to analyse" in reason
    assert "too short to analyse" in tables.rejected()[str(short.resolve())][2]
    # seen again, unchanged: rejected with the same reason, without being read
    (again,) = admit_files(tables, [short]).rejected
    assert "too short to analyse" in again[1]


# -- mir analyze --------------------------------------------------------------------------

ANALYZE = list(SIGNALS)


@pytest.mark.parametrize("signal", ANALYZE)
def test_mir_analyze_stores_finite_values_or_null_with_a_reason(signal, tmp_path, capsys):
    from mir.feature_table import FEATURES
    from mir_cli import main

    samples, sr = SIGNALS[signal]()
    path = tmp_path / f"{signal}.wav"
    sf.write(str(path), samples, sr, subtype="FLOAT")
    code = main(["analyze", str(path), "--json"])
    out, err = capsys.readouterr()
    if signal == "one frame":
        assert code == 2 and str(path) in err and "too short to analyse" in err
        return
    assert code == 0, err
    values = json.loads(out)
    reasons = {}
    for family in FAMILIES:
        reasons.update(values.get(family.undefined_key, {}))
    for family in FAMILIES:
        if family.needs_stems:
            continue
        for feature in family.keys:
            value = values[feature.key]
            if value is None:
                assert reasons.get(feature.key), f"{feature.key} is null without a reason"
            elif feature.key in FEATURES:
                assert math.isfinite(value) and feature.min <= value <= feature.max, feature.key
    for key in UNDEFINED.get(signal, {}):
        assert values[key] is None, key


def test_analyze_refuses_an_in_memory_signal_shorter_than_any_analysis():
    from mir.analysis import analyze_track

    with pytest.raises(MirError, match="too short to analyse"):
        analyze_track(Audio(np.zeros((10, 2), np.float32), SR, path="tiny.wav"), MasterConfig())
