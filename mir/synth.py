"""Synthesised music with known answers, for the demo library, tests and benchmarks.

Every song is rendered from numpy alone: drums, bass, chords and a melody at a known
tempo, meter and key, returned with its true beats, downbeats and stems.

Besides the default groove (kick on 1 and 3, snare on 2 and 4, hats in eighths) and the
default progressions, :func:`render_song` renders the cases that decide a tempo octave
or a key: drum and bass (two-step at 170-176 BPM), punk and thrash backbeats at
180-200 BPM, half-time grooves (snare on 3) at 70-90 BPM, and minor songs whose chords
mix modes (♭VI, ♭VII, a major IV) with the relative major's chords prominent.
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
_MAJOR_TRIAD, _MINOR_TRIAD = (0, 4, 7), (0, 3, 7)
#: minor progressions with modal mixture, one chord per bar as (root in semitones above
#: the tonic, triad): no leading tone anywhere, the major IV of Dorian, and the relative
#: major's I, IV and V (♭III, ♭VI, ♭VII) for half or more of the other bars; the tonic
#: chord opens and closes each 8-bar cycle and is the most frequent chord, as in most
#: songs (3 or 4 bars of 8)
MODAL_PROGRESSIONS = {
    # i ♭VII ♭VI i | i IV ♭VII i  (Aeolian rock with a Dorian IV)
    "mixture": (
        (0, _MINOR_TRIAD), (10, _MAJOR_TRIAD), (8, _MAJOR_TRIAD), (0, _MINOR_TRIAD),
        (0, _MINOR_TRIAD), (5, _MAJOR_TRIAD), (10, _MAJOR_TRIAD), (0, _MINOR_TRIAD),
    ),
    # i ♭VI ♭III ♭VII | i ♭VI ♭VII i  (the relative major's I, IV and V around the tonic)
    "relative": (
        (0, _MINOR_TRIAD), (8, _MAJOR_TRIAD), (3, _MAJOR_TRIAD), (10, _MAJOR_TRIAD),
        (0, _MINOR_TRIAD), (8, _MAJOR_TRIAD), (10, _MAJOR_TRIAD), (0, _MINOR_TRIAD),
    ),
    # i IV i ♭VII | i IV ♭VII i  (Dorian vamp: the major IV against the minor tonic)
    "dorian": (
        (0, _MINOR_TRIAD), (5, _MAJOR_TRIAD), (0, _MINOR_TRIAD), (10, _MAJOR_TRIAD),
        (0, _MINOR_TRIAD), (5, _MAJOR_TRIAD), (10, _MAJOR_TRIAD), (0, _MINOR_TRIAD),
    ),
}  # fmt: skip
#: drum patterns on a 16-step (sixteenth-note) grid of a 4/4 bar: instrument -> steps
#: with their gains. Every groove's quarter note is the beat.
GROOVES = {
    # two-step: kick on 1 and the "and" of 3, snare on 2 and 4, ghost snares
    "dnb": {
        "kick": {0: 0.9, 10: 0.8},
        "snare": {4: 0.75, 12: 0.75, 7: 0.15, 15: 0.15},
        "hat": {k: (0.7 if k % 4 == 2 else 0.45) for k in range(0, 16, 2)},
    },
    # punk: kick on 1 and 3, snare on 2 and 4, ride in eighths
    "punk": {
        "kick": {0: 0.9, 8: 0.9},
        "snare": {4: 0.7, 12: 0.7},
        "hat": {k: (0.8 if k % 4 == 0 else 0.5) for k in range(0, 16, 2)},
    },
    # thrash: double kick in eighths, snare on 2 and 4, crash-like hat on each beat
    "thrash": {
        "kick": {k: (0.8 if k % 4 == 0 else 0.55) for k in range(0, 16, 2)},
        "snare": {4: 0.8, 12: 0.8},
        "hat": {0: 1.0, 4: 0.8, 8: 1.0, 12: 0.8},
    },
    # half time: kick on 1 and the "and" of 2, snare on 3 only, hats in eighths
    "halftime": {
        "kick": {0: 0.9, 6: 0.6},
        "snare": {8: 0.8},
        "hat": {k: (0.6 if k % 4 == 0 else 0.4) for k in range(0, 16, 2)},
    },
}


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
    groove: str = "rock",
    progression: str | None = None,
) -> Song:
    """Render drums, bass, chords and melody at a known tempo, meter and key.

    Parameters
    ----------
    bpm : float
        Tempo in beats per minute (the quarter note of every groove).
    tonic, scale : str
        Key, e.g. "A", "minor". One chord per bar from a common progression.
    bars, beats_per_bar : int
        Length and meter (4 or 3; the grooves other than "rock" are in 4).
    offset_s : float
        Silence before the first downbeat, in seconds.
    groove : str
        "rock" (kick on 1 and 3, snare on 2 and 4, hats in eighths), or one of
        :data:`GROOVES`: "dnb" (two-step, for 170-176 BPM), "punk" and "thrash" (backbeat
        at 180-200 BPM, bass in eighths, chords struck on every beat), "halftime" (snare
        on 3 only, for 70-90 BPM).
    progression : str, optional
        A minor song's chords from :data:`MODAL_PROGRESSIONS` ("mixture", "relative",
        "dorian") instead of i-iv-V-i.
    """
    if tonic not in NOTE_NAMES:
        raise ValueError(f"tonic must be one of {NOTE_NAMES}")
    if groove != "rock" and (groove not in GROOVES or beats_per_bar != 4):
        raise ValueError(f"groove must be 'rock' or one of {tuple(GROOVES)} in 4/4")
    if progression is not None and (progression not in MODAL_PROGRESSIONS or scale != "minor"):
        raise ValueError(f"progression must be one of {tuple(MODAL_PROGRESSIONS)} (minor keys)")
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

    if groove == "rock":
        for i, b in enumerate(beats):
            pos = i % beats_per_bar
            s = int(round(b * sr))
            if pos == 0 or (beats_per_bar == 4 and pos == 2):
                _add(drums, s, 0.9 * kick)
            else:
                _add(drums, s, (0.6 if beats_per_bar == 4 else 0.35) * snare)
            _add(drums, s, hat)
            _add(drums, int(round((b + beat_s / 2) * sr)), 0.6 * hat)
    else:
        sounds = {"kick": kick, "snare": snare, "hat": 1.6 * hat}
        for bar_start in downbeats:
            for name, hits in GROOVES[groove].items():
                for step, gain in hits.items():
                    _add(
                        drums, int(round((bar_start + step * beat_s / 4) * sr)), gain * sounds[name]
                    )

    for bar in range(bars):
        start = int(round(downbeats[bar] * sr))
        bar_len = int(beats_per_bar * beat_s * sr)
        if progression is None:
            degree = _PROGRESSIONS[scale][bar % 4]
            chord_root = root + steps[degree]
            # the dominant of a minor key takes the leading tone
            chord_steps = _HARMONIC_MINOR if scale == "minor" and degree == 4 else steps
            triad = [
                root + chord_steps[deg % 7] + 12 * (deg // 7)
                for deg in (degree, degree + 2, degree + 4)
            ]
        else:
            # a modal song ends on its tonic chord
            offset, intervals = MODAL_PROGRESSIONS[progression][bar % 8 if bar < bars - 1 else 0]
            chord_root = root + offset
            # voiced around the tonic: roots above the fifth sit below it
            low = offset - (12 if offset > 7 else 0)
            triad = [root + low + iv for iv in intervals]
        _render_bass(bass, start, chord_root, beat_s, sr, beats_per_bar, groove)
        _render_chord(other, start, triad, bar_len, beat_s, sr, beats_per_bar, groove)
        # melody: on the beats, stepping through the chord tones an octave up
        for offset, length, pitch in _melody(triad, root, bar, bars, beats_per_bar, progression):
            _add(
                vocals,
                start + int(offset * beat_s * sr),
                0.18
                * _tone(
                    _midi_hz(pitch),
                    int(length * beat_s * sr),
                    sr,
                    partials=3,
                    attack_s=0.01,
                    decay_s=0.3 * max(length / 0.9, 1.0),
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


#: the minor pentatonic above the tonic, where a modal song's melody lives
_MINOR_PENTATONIC = (0, 3, 5, 7, 10)


def _melody(
    triad: list[int], root: int, bar: int, bars: int, beats_per_bar: int, progression: str | None
) -> list[tuple[float, float, int]]:
    """One bar of melody as (start in beats, length in beats, MIDI note): the chord tones
    an octave up, one per beat. In a modal song the notes move to the nearest note of the
    tonic's minor pentatonic (the scale of most rock and pop lines in minor), and each
    4-bar phrase (and the song) ends on the tonic, reached from its fifth and third and
    held, as a singer would."""
    if progression is None:
        return [(k, 0.9, 72 + triad[(0, 1, 2, 1)[k % 4]]) for k in range(beats_per_bar)]
    if bar % 4 == 3 or bar == bars - 1:
        return [(0, 0.9, 84 + root - 5), (1, 0.9, 84 + root - 9), (2, 1.9, 72 + root)]
    notes = []
    for k in range(beats_per_bar):
        pitch = 72 + triad[(0, 1, 2, 1)[k % 4]]
        down = min((pitch - root - p) % 12 for p in _MINOR_PENTATONIC)
        up = min((root + p - pitch) % 12 for p in _MINOR_PENTATONIC)
        notes.append((k, 0.9, pitch - down if down <= up else pitch + up))
    return notes


def _render_bass(
    bass: np.ndarray,
    start: int,
    chord_root: int,
    beat_s: float,
    sr: int,
    beats_per_bar: int,
    groove: str,
) -> None:
    """One bar of bass on the chord root, two octaves below middle C: on every beat
    ("rock"), in eighths (punk, thrash), or long notes with the kick (dnb, half time)."""
    hz = _midi_hz(36 + chord_root % 12)
    if groove == "rock":
        for k in range(beats_per_bar):
            _add(
                bass,
                start + int(k * beat_s * sr),
                0.5 * _tone(hz, int(beat_s * sr), sr, partials=6, attack_s=0.005, decay_s=0.25),
            )
        return
    if groove in ("punk", "thrash"):
        decay = 0.12 if groove == "punk" else 0.06
        notes = [(k, 2, 0.5 if k % 4 == 0 else 0.35, 8, decay) for k in range(0, 16, 2)]
    else:
        kicks = sorted(GROOVES[groove]["kick"])
        ends = [*kicks[1:], 16]
        notes = [
            (a, b - a, 0.55, 3, 0.1 * (b - a) * beat_s) for a, b in zip(kicks, ends, strict=True)
        ]
    sixteenth = beat_s / 4
    for step, length, gain, partials, decay in notes:
        tone = _tone(
            hz, int(length * sixteenth * sr), sr, partials=partials, attack_s=0.005, decay_s=decay
        )
        _add(bass, start + int(step * sixteenth * sr), gain * tone)


def _render_chord(
    other: np.ndarray,
    start: int,
    triad: list[int],
    bar_len: int,
    beat_s: float,
    sr: int,
    beats_per_bar: int,
    groove: str,
) -> None:
    """A triad (semitones above middle C) held for the bar, or struck on every beat with
    more partials (a distorted guitar's stand-in) for punk and thrash."""
    for pitch in triad:
        if groove in ("punk", "thrash"):
            for k in range(beats_per_bar):
                _add(
                    other,
                    start + int(k * beat_s * sr),
                    0.1
                    * _tone(
                        _midi_hz(60 + pitch),
                        int(beat_s * sr),
                        sr,
                        partials=9,
                        attack_s=0.005,
                        decay_s=0.4 * beat_s,
                    ),
                )
            continue
        _add(
            other,
            start,
            0.12
            * _tone(
                _midi_hz(60 + pitch),
                bar_len,
                sr,
                partials=5,
                attack_s=0.03 if groove == "rock" else 0.15,
                decay_s=1.5 * bar_len / sr,
            ),
        )
