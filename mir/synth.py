"""Synthesised music with known answers, for the demo library, tests and benchmarks.

Every song is rendered from numpy alone: drums, bass, chords and a melody at a known
tempo, meter and key, returned with its true beats, downbeats and stems.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
# chord roots as scale degrees: minor i-iv-V-i (V with the raised leading tone of
# harmonic minor, which is what tells A minor from C major), major I-V-vi-IV
_PROGRESSIONS = {"minor": (0, 3, 4, 0), "major": (0, 4, 5, 3)}
_HARMONIC_MINOR = (0, 2, 3, 5, 7, 8, 11)


@dataclass
class Song:
    """A rendered song and its ground truth.

    `mix` and each stem have shape (n_samples, 2); `mix` is the sum of the stems.
    """

    mix: np.ndarray
    sr: int
    bpm: float
    tonic: str
    scale: str
    beats_per_bar: int
    beats: np.ndarray
    downbeats: np.ndarray
    stems: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.tonic} {self.scale}"


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def _env(n: int, sr: int, attack_s: float, decay_s: float) -> np.ndarray:
    t = np.arange(n) / sr
    a = np.minimum(1.0, t / max(attack_s, 1e-4))
    return a * np.exp(-t / max(decay_s, 1e-4))


def _add(buf: np.ndarray, start: int, sig: np.ndarray) -> None:
    end = min(buf.size, start + sig.size)
    if start < end:
        buf[start:end] += sig[: end - start]


def _kick(sr: int) -> np.ndarray:
    n = int(0.3 * sr)
    t = np.arange(n) / sr
    freq = 45 + 90 * np.exp(-t / 0.03)
    return np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.12)


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.2 * sr)
    t = np.arange(n) / sr
    noise = rng.standard_normal(n) * np.exp(-t / 0.06)
    noise = np.diff(noise, prepend=0.0)  # tilt towards the highs
    return 0.35 * noise + 0.5 * np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.05)


def _hat(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.05 * sr)
    t = np.arange(n) / sr
    noise = np.diff(rng.standard_normal(n + 2), n=2)
    return 0.15 * noise * np.exp(-t / 0.012)


def _tone(
    freq: float, n: int, sr: int, *, partials: int, attack_s: float, decay_s: float
) -> np.ndarray:
    t = np.arange(n) / sr
    sig = np.zeros(n)
    for k in range(1, partials + 1):
        if freq * k > sr / 2.2:
            break
        sig += np.sin(2 * np.pi * freq * k * t) / k
    return sig * _env(n, sr, attack_s, decay_s)


def click_track(
    bpm: float, *, duration_s: float, sr: int = 44100, beats_per_bar: int = 4, offset_s: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """A metronome: a 20 ms click per beat, the first of each bar higher and louder.

    Returns
    -------
    y : np.ndarray, mono float32
    beats : np.ndarray
        The click times in seconds.
    """
    n = int(duration_s * sr)
    y = np.zeros(n)
    beats = np.arange(offset_s, duration_s - 0.05, 60.0 / bpm)
    for i, b in enumerate(beats):
        accent = i % beats_per_bar == 0
        click = _tone(
            2000.0 if accent else 1000.0,
            int(0.02 * sr),
            sr,
            partials=1,
            attack_s=0.0005,
            decay_s=0.005,
        )
        _add(y, int(round(b * sr)), (0.9 if accent else 0.5) * click)
    return y.astype(np.float32), beats


def render_song(
    *,
    bpm: float = 120.0,
    tonic: str = "A",
    scale: str = "minor",
    bars: int = 8,
    beats_per_bar: int = 4,
    sr: int = 44100,
    seed: int = 0,
    offset_s: float = 0.25,
) -> Song:
    """Render drums, bass, chords and melody at a known tempo, meter and key.

    Parameters
    ----------
    bpm : float
        Tempo in beats per minute.
    tonic, scale : str
        Key, e.g. "A", "minor". One chord per bar from a common progression.
    bars, beats_per_bar : int
        Length and meter (4 or 3).
    offset_s : float
        Silence before the first downbeat, in seconds.
    """
    if tonic not in NOTE_NAMES:
        raise ValueError(f"tonic must be one of {NOTE_NAMES}")
    rng = np.random.default_rng(seed)
    beat_s = 60.0 / bpm
    n_beats = bars * beats_per_bar
    duration_s = offset_s + n_beats * beat_s + 1.0
    n = int(duration_s * sr)
    beats = offset_s + np.arange(n_beats) * beat_s
    downbeats = beats[::beats_per_bar]
    drums, bass, other, vocals = (np.zeros(n) for _ in range(4))
    root = NOTE_NAMES.index(tonic)
    steps = _SCALES[scale]
    kick, snare, hat = _kick(sr), _snare(sr, rng), _hat(sr, rng)

    for i, b in enumerate(beats):
        pos = i % beats_per_bar
        s = int(round(b * sr))
        if pos == 0 or (beats_per_bar == 4 and pos == 2):
            _add(drums, s, 0.9 * kick)
        else:
            _add(drums, s, (0.6 if beats_per_bar == 4 else 0.35) * snare)
        _add(drums, s, hat)
        _add(drums, int(round((b + beat_s / 2) * sr)), 0.6 * hat)

    for bar in range(bars):
        degree = _PROGRESSIONS[scale][bar % 4]
        chord_root = root + steps[degree]
        # the dominant of a minor key takes the leading tone
        chord_steps = _HARMONIC_MINOR if scale == "minor" and degree == 4 else steps
        start = int(round(downbeats[bar] * sr))
        bar_len = int(beats_per_bar * beat_s * sr)
        # bass: chord root on every beat, two octaves down
        for k in range(beats_per_bar):
            note = 36 + chord_root % 12
            _add(
                bass,
                start + int(k * beat_s * sr),
                0.5
                * _tone(
                    _midi_hz(note), int(beat_s * sr), sr, partials=6, attack_s=0.005, decay_s=0.25
                ),
            )
        # chords: a triad of the scale, held for the bar
        for third in (0, 2, 4):
            deg = degree + third
            pitch = 60 + root + chord_steps[deg % 7] + 12 * (deg // 7)
            _add(
                other,
                start,
                0.12
                * _tone(
                    _midi_hz(pitch),
                    bar_len,
                    sr,
                    partials=5,
                    attack_s=0.03,
                    decay_s=1.5 * bar_len / sr,
                ),
            )
        # melody: scale notes on beats, stepping through the chord tones
        for k in range(beats_per_bar):
            deg = degree + (0, 2, 4, 2)[k % 4] + 7
            pitch = 60 + root + chord_steps[deg % 7] + 12 * (deg // 7)
            _add(
                vocals,
                start + int(k * beat_s * sr),
                0.18
                * _tone(
                    _midi_hz(pitch),
                    int(0.9 * beat_s * sr),
                    sr,
                    partials=3,
                    attack_s=0.01,
                    decay_s=0.3,
                ),
            )

    stems = {"drums": drums, "bass": bass, "other": other, "vocals": vocals}
    peak = max(np.abs(sum(stems.values())).max(), 1e-9)
    gain = 0.8 / peak
    # a touch of stereo: chords left, melody right
    pans = {"drums": (1.0, 1.0), "bass": (1.0, 1.0), "other": (1.0, 0.8), "vocals": (0.8, 1.0)}
    stereo = {
        k: (np.stack([v * pans[k][0], v * pans[k][1]], axis=1) * gain).astype(np.float32)
        for k, v in stems.items()
    }
    mix = sum(stereo.values()).astype(np.float32)
    return Song(
        mix=mix,
        sr=sr,
        bpm=float(bpm),
        tonic=tonic,
        scale=scale,
        beats_per_bar=beats_per_bar,
        beats=beats,
        downbeats=downbeats,
        stems=stereo,
    )
