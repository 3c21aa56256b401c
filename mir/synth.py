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
    # i ♭III ♭III ♭III | ♭VI ♭III ♭VII i  (the relative major's chord half of the time,
    # the tonic chord only where each cycle opens and closes)
    "relative-heavy": (
        (0, _MINOR_TRIAD), (3, _MAJOR_TRIAD), (3, _MAJOR_TRIAD), (3, _MAJOR_TRIAD),
        (8, _MAJOR_TRIAD), (3, _MAJOR_TRIAD), (10, _MAJOR_TRIAD), (0, _MINOR_TRIAD),
    ),
    # i ♭VI ♭III ♭VI | ♭III ♭VI ♭VII i  (♭VI and ♭III five bars of eight; the tonic
    # chord only where each cycle opens and closes)
    "submediant-heavy": (
        (0, _MINOR_TRIAD), (8, _MAJOR_TRIAD), (3, _MAJOR_TRIAD), (8, _MAJOR_TRIAD),
        (3, _MAJOR_TRIAD), (8, _MAJOR_TRIAD), (10, _MAJOR_TRIAD), (0, _MINOR_TRIAD),
    ),
    # i ♭II i ♭II | i ♭vii ♭II i  (Phrygian: the minor tonic with the major chord a
    # semitone above it; its notes are those of the major key a major third below)
    "phrygian": (
        (0, _MINOR_TRIAD), (1, _MAJOR_TRIAD), (0, _MINOR_TRIAD), (1, _MAJOR_TRIAD),
        (0, _MINOR_TRIAD), (10, _MINOR_TRIAD), (1, _MAJOR_TRIAD), (0, _MINOR_TRIAD),
    ),
    # I ♭VII IV I | I v ♭VII I  (Mixolydian: the major tonic with ♭VII and a minor v; its
    # notes are those of the major key a fourth above)
    "mixolydian": (
        (0, _MAJOR_TRIAD), (10, _MAJOR_TRIAD), (5, _MAJOR_TRIAD), (0, _MAJOR_TRIAD),
        (0, _MAJOR_TRIAD), (7, _MINOR_TRIAD), (10, _MAJOR_TRIAD), (0, _MAJOR_TRIAD),
    ),
    # I II I II | I II vii I  (Lydian: the major tonic with the major II; its notes are
    # those of the major key a fifth above)
    "lydian": (
        (0, _MAJOR_TRIAD), (2, _MAJOR_TRIAD), (0, _MAJOR_TRIAD), (2, _MAJOR_TRIAD),
        (0, _MAJOR_TRIAD), (2, _MAJOR_TRIAD), (11, _MINOR_TRIAD), (0, _MAJOR_TRIAD),
    ),
}  # fmt: skip
#: the scale each of :data:`MODAL_PROGRESSIONS` is written in, by the usual (MIREX)
#: convention for modes: Dorian and Phrygian on D are "D minor", Mixolydian and Lydian on
#: G are "G major" (a mode is named by its tonic and the third above it)
PROGRESSION_SCALES = {
    "mixture": "minor",
    "relative": "minor",
    "dorian": "minor",
    "relative-heavy": "minor",
    "submediant-heavy": "minor",
    "phrygian": "minor",
    "mixolydian": "major",
    "lydian": "major",
}
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
        The chords of :data:`MODAL_PROGRESSIONS` instead of i-iv-V-i or I-V-vi-IV, in the
        scale :data:`PROGRESSION_SCALES` gives it: "mixture", "relative", "dorian",
        "relative-heavy", "submediant-heavy", "phrygian" (minor); "mixolydian", "lydian"
        (major).
    """
    if tonic not in NOTE_NAMES:
        raise ValueError(f"tonic must be one of {NOTE_NAMES}")
    if groove != "rock" and (groove not in GROOVES or beats_per_bar != 4):
        raise ValueError(f"groove must be 'rock' or one of {tuple(GROOVES)} in 4/4")
    if progression is not None and PROGRESSION_SCALES.get(progression) != scale:
        raise ValueError(
            f"progression must be one of {tuple(MODAL_PROGRESSIONS)} in its scale "
            f"({PROGRESSION_SCALES})"
        )
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
        for offset, length, pitch in _melody(
            triad, root, bar, bars, beats_per_bar, progression, scale
        ):
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
    stereo = _stereo(stems)
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


def _stereo(stems: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The mono stems as float32 stereo, the mix peaking at 0.8, with a touch of stereo:
    chords left, melody right."""
    gain = 0.8 / max(np.abs(sum(stems.values())).max(), 1e-9)
    pans = {"drums": (1.0, 1.0), "bass": (1.0, 1.0), "other": (1.0, 0.8), "vocals": (0.8, 1.0)}
    return {
        k: (np.stack([v * pans[k][0], v * pans[k][1]], axis=1) * gain).astype(np.float32)
        for k, v in stems.items()
    }


#: the pentatonic above the tonic where a modal song's melody lives (the scale of most
#: rock and pop lines), by the song's scale
_PENTATONIC = {"minor": (0, 3, 5, 7, 10), "major": (0, 2, 4, 7, 9)}


def _melody(
    triad: list[int],
    root: int,
    bar: int,
    bars: int,
    beats_per_bar: int,
    progression: str | None,
    scale: str = "minor",
) -> list[tuple[float, float, int]]:
    """One bar of melody as (start in beats, length in beats, MIDI note): the chord tones
    an octave up, one per beat. In a modal song the notes move to the nearest note of the
    tonic's pentatonic (minor or major, as the song's `scale`), and each 4-bar phrase (and
    the song) ends on the tonic, reached from its fifth and third and held, as a singer
    would."""
    if progression is None:
        return [(k, 0.9, 72 + triad[(0, 1, 2, 1)[k % 4]]) for k in range(beats_per_bar)]
    if bar % 4 == 3 or bar == bars - 1:
        third = 84 + root - (8 if scale == "major" else 9)
        return [(0, 0.9, 84 + root - 5), (1, 0.9, third), (2, 1.9, 72 + root)]
    pentatonic = _PENTATONIC[scale]
    notes = []
    for k in range(beats_per_bar):
        pitch = 72 + triad[(0, 1, 2, 1)[k % 4]]
        down = min((pitch - root - p) % 12 for p in pentatonic)
        up = min((root + p - pitch) % 12 for p in pentatonic)
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


# -- songs whose tempo octave is in question: busy eighth notes, half-time grooves ------

#: drum patterns of :func:`render_groove_song` on a 16-step bar (as :data:`GROOVES`); the
#: quarter note is the beat of each
SONG_GROOVES = {
    # backbeat: kick on 1, 3 and the "and" of 3, snare on 2 and 4, hats in eighths
    "backbeat": {
        "kick": {0: 0.9, 8: 0.85, 10: 0.5},
        "snare": {4: 0.75, 12: 0.75},
        "hat": {k: 0.5 for k in range(0, 16, 2)},
    },
    # the same with sixteenth-note hats, the off-beats accented
    "backbeat16": {
        "kick": {0: 0.9, 6: 0.45, 8: 0.85},
        "snare": {4: 0.75, 12: 0.75},
        "hat": {k: (0.55 if k % 4 == 2 else 0.3) for k in range(16)},
    },
    # half time with eighth-note hats: kick on 1 and the "a" of 2, snare on 3 only
    "halftime8": {
        "kick": {0: 0.9, 7: 0.55, 10: 0.4},
        "snare": {8: 0.85},
        "hat": {k: 0.5 for k in range(0, 16, 2)},
    },
    # half time with sixteenth-note hats (trap): kick on 1, the "e" of 2 and the "and" of
    # 3, snare on 3 only
    "halftime16": {
        "kick": {0: 0.9, 5: 0.5, 10: 0.6},
        "snare": {8: 0.85},
        "hat": {k: (0.5 if k % 2 == 0 else 0.3) for k in range(16)},
    },
}
#: the busy parts of :func:`render_groove_song`
SONG_PARTS = ("guitar", "percussion", "piano", "pad")


def _conga(freq: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A hand drum: a pitched tone that falls a little and dies fast, with a slap of noise."""
    n = int(0.18 * sr)
    t = np.arange(n) / sr
    tone = np.sin(2 * np.pi * np.cumsum(freq * (1 + 0.15 * np.exp(-t / 0.01))) / sr)
    slap = rng.standard_normal(n) * np.exp(-t / 0.004)
    return (0.8 * tone * np.exp(-t / 0.07) + 0.2 * slap).astype(np.float64)


def _shaker(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.06 * sr)
    t = np.arange(n) / sr
    noise = np.diff(rng.standard_normal(n + 1))
    return 0.12 * noise * np.sin(np.pi * np.minimum(t / 0.06, 1.0)) ** 2


def render_groove_song(
    *,
    bpm: float = 96.0,
    tonic: str = "A",
    scale: str = "minor",
    bars: int = 8,
    groove: str = "backbeat",
    part: str = "guitar",
    sr: int = 44100,
    seed: int = 0,
    offset_s: float = 0.25,
) -> Song:
    """A 4/4 song whose tempo octave is in question: drums of :data:`SONG_GROOVES` under a
    busy part, bass, chords and melody, at a known tempo and key.

    Parameters
    ----------
    bpm : float
        The tempo (the quarter note) in BPM.
    groove : str
        "backbeat" or "backbeat16" (snare on 2 and 4: for 85-110 BPM under a busy part,
        which must not read as twice the tempo), "halftime8" or "halftime16" (snare on 3
        only: for 65-90 BPM, which must not read as twice the tempo either).
    part : str
        What plays the eighth notes: "guitar" (the chord strummed on every eighth, the
        up-strokes as loud as the down-strokes), "percussion" (hand drums on every eighth
        with the open tones on the off-beats, a shaker in sixteenths), "piano" (chords
        pumped in even eighths), or "pad" (chords held, an arpeggio in eighths).
    tonic, scale, bars, sr, seed, offset_s
        As :func:`render_song` (its chord progressions; the melody on the beats).
    """
    if tonic not in NOTE_NAMES:
        raise ValueError(f"tonic must be one of {NOTE_NAMES}")
    if groove not in SONG_GROOVES:
        raise ValueError(f"groove must be one of {tuple(SONG_GROOVES)}")
    if part not in SONG_PARTS:
        raise ValueError(f"part must be one of {SONG_PARTS}")
    rng = np.random.default_rng(seed)
    beat_s = 60.0 / bpm
    step_s = beat_s / 4
    beats_per_bar = 4
    n_beats = bars * beats_per_bar
    n = int((offset_s + n_beats * beat_s + 1.0) * sr)
    beats = offset_s + np.arange(n_beats) * beat_s
    downbeats = beats[::beats_per_bar]
    drums, bass, other, vocals = (np.zeros(n) for _ in range(4))
    root = NOTE_NAMES.index(tonic)
    steps = _SCALES[scale]
    sounds = {"kick": _kick(sr), "snare": _snare(sr, rng), "hat": 1.6 * _hat(sr, rng)}
    halftime = groove.startswith("halftime")
    for bar_start in downbeats:
        for name, hits in SONG_GROOVES[groove].items():
            for step, gain in hits.items():
                at = int(round((bar_start + step * step_s) * sr))
                _add(drums, at, gain * rng.uniform(0.92, 1.0) * sounds[name])
    congas = (_conga(_midi_hz(57), sr, rng), _conga(_midi_hz(52), sr, rng))
    shaker = _shaker(sr, rng)
    for bar in range(bars):
        start = int(round(downbeats[bar] * sr))
        degree = _PROGRESSIONS[scale][bar % 4]
        chord_steps = _HARMONIC_MINOR if scale == "minor" and degree == 4 else steps
        triad = [
            root + chord_steps[deg % 7] + 12 * (deg // 7)
            for deg in (degree, degree + 2, degree + 4)
        ]
        chord_root = root + steps[degree]
        hz = _midi_hz(36 + chord_root % 12)
        # bass: eighths on the root under a busy part; long notes with the kick in half time
        if halftime:
            kicks = sorted(SONG_GROOVES[groove]["kick"])
            for a, b in zip(kicks, [*kicks[1:], 16], strict=True):
                tone = _tone(
                    hz, int((b - a) * step_s * sr), sr, partials=3, attack_s=0.005,
                    decay_s=0.1 * (b - a) * beat_s,
                )  # fmt: skip
                _add(bass, start + int(a * step_s * sr), 0.55 * tone)
        else:
            for k in range(0, 16, 2):
                tone = _tone(hz, int(2 * step_s * sr), sr, partials=6, attack_s=0.005, decay_s=0.12)
                _add(bass, start + int(k * step_s * sr), (0.45 if k % 4 == 0 else 0.4) * tone)
        _busy_part(other, start, triad, step_s, sr, part, rng, congas, shaker)
        for offset, length, pitch in _melody(triad, root, bar, bars, beats_per_bar, None):
            tone = _tone(
                _midi_hz(pitch), int(length * beat_s * sr), sr, partials=3, attack_s=0.01,
                decay_s=0.3 * max(length / 0.9, 1.0),
            )  # fmt: skip
            _add(vocals, start + int(offset * beat_s * sr), 0.16 * tone)
    stems = {"drums": drums, "bass": bass, "other": other, "vocals": vocals}
    stereo = _stereo(stems)
    return Song(
        mix=sum(stereo.values()).astype(np.float32),
        sr=sr,
        bpm=float(bpm),
        tonic=tonic,
        scale=scale,
        beats_per_bar=beats_per_bar,
        beats=beats,
        downbeats=downbeats,
        stems=stereo,
    )


def _busy_part(
    other: np.ndarray,
    start: int,
    triad: list[int],
    step_s: float,
    sr: int,
    part: str,
    rng: np.random.Generator,
    congas: tuple[np.ndarray, np.ndarray],
    shaker: np.ndarray,
) -> None:
    """One bar of the busy part of :func:`render_groove_song` into `other`."""
    eighth = int(2 * step_s * sr)
    if part == "guitar":
        for k in range(0, 16, 2):
            for i, pitch in enumerate(triad):
                # a strum: the strings a few ms apart, down on the beat, up off it
                order = i if k % 4 == 0 else len(triad) - 1 - i
                at = start + int(k * step_s * sr) + int(0.004 * order * sr)
                tone = _tone(
                    _midi_hz(60 + pitch), eighth, sr, partials=9, attack_s=0.002,
                    decay_s=0.5 * 2 * step_s,
                )  # fmt: skip
                _add(other, at, (0.1 if k % 4 == 0 else 0.095) * rng.uniform(0.9, 1.0) * tone)
    elif part == "percussion":
        for k in range(0, 16, 2):
            # the low drum on the beats, the louder open tone on the off-beats (a tumbao)
            drum = congas[1] if k % 4 == 0 else congas[0]
            _add(other, start + int(k * step_s * sr), (0.3 if k % 4 == 0 else 0.4) * drum)
        for k in range(16):
            at = start + int(k * step_s * sr)
            _add(other, at, (1.0 if k % 2 else 0.7) * rng.uniform(0.8, 1.0) * shaker)
        for pitch in triad:  # the chord held under it
            _add(
                other,
                start,
                0.06 * _tone(_midi_hz(60 + pitch), 16 * int(step_s * sr), sr, partials=4,
                             attack_s=0.05, decay_s=2.0),
            )  # fmt: skip
    elif part == "piano":
        for k in range(0, 16, 2):
            for pitch in triad:
                tone = _tone(
                    _midi_hz(60 + pitch), eighth, sr, partials=5, attack_s=0.003, decay_s=0.25
                )
                _add(other, start + int(k * step_s * sr), 0.09 * tone)
    else:  # pad: the chord held, an arpeggio in eighths above it
        for pitch in triad:
            _add(
                other,
                start,
                0.07 * _tone(_midi_hz(60 + pitch), 16 * int(step_s * sr), sr, partials=4,
                             attack_s=0.2, decay_s=4.0),
            )  # fmt: skip
        notes = [*triad, triad[0] + 12, triad[2], triad[1], triad[0] + 12, triad[1]]
        for j, k in enumerate(range(0, 16, 2)):
            tone = _tone(
                _midi_hz(72 + notes[j]), eighth, sr, partials=3, attack_s=0.003, decay_s=0.15
            )
            _add(other, start + int(k * step_s * sr), 0.08 * tone)


def render_pad(
    *,
    seconds: float = 30.0,
    chord_s: float = 4.0,
    tonic: str = "C",
    sr: int = 44100,
) -> np.ndarray:
    """An ambient pad: the major key's I-vi-IV-V (triads around middle C), one chord every
    `chord_s` seconds, each swelling in and out over 1.5 s: music with a key and no beat
    (no onset a beat tracker could follow). Returns stereo float32 of shape (n, 2)."""
    if tonic not in NOTE_NAMES:
        raise ValueError(f"tonic must be one of {NOTE_NAMES}")
    root = 60 + NOTE_NAMES.index(tonic)
    chords = ((0, 4, 7), (-3, 0, 4), (-7, -3, 0), (-5, -1, 2))  # I vi IV V
    t = np.arange(int(chord_s * sr)) / sr
    swell = np.minimum(1.0, t / 1.5) * np.minimum(1.0, (chord_s - t) / 1.5)
    parts = [
        swell * sum(0.15 * np.sin(2 * np.pi * _midi_hz(root + n) * t) for n in chords[i % 4])
        for i in range(int(round(seconds / chord_s)))
    ]
    y = np.concatenate(parts)
    return np.stack([y, 0.9 * y], axis=1).astype(np.float32)


# -- song forms: sections that differ in chords, density and instrumentation -------------


@dataclass(frozen=True)
class SectionStyle:
    """How a section sounds.

    Attributes
    ----------
    drums : str
        "none"; "hats" (eighth hats alone); "light" (kick on 1, rim on 3, quarter hats);
        "full" (the rock groove); "busy" (kick on 1, the "and" of 2 and 3, snare on 2 and
        4, sixteenth hats, a crash on the first bar); "halftime" (snare on 3 only).
    bass : str
        "none", "whole" (one note per bar), "quarter", "eighth".
    harmony : str
        "pad" (soft attack, held), "stab" (short chords on the off-beats), "strum" (bright,
        struck on every beat).
    melody : str
        "none", "low" (two notes a bar around middle C), "high" (four to six notes a bar an
        octave up).
    level : float
        Gain of the section, 0-1 (the chorus is the loudest).
    """

    drums: str
    bass: str
    harmony: str
    melody: str
    level: float


#: each functional name's default sound; :func:`render_form` varies them per song
SECTION_STYLES = {
    "intro": SectionStyle("hats", "whole", "pad", "none", 0.55),
    "verse": SectionStyle("light", "quarter", "stab", "low", 0.75),
    "chorus": SectionStyle("busy", "eighth", "strum", "high", 1.0),
    "bridge": SectionStyle("halftime", "whole", "pad", "high", 0.8),
    "break": SectionStyle("none", "none", "pad", "none", 0.45),
    "outro": SectionStyle("light", "whole", "pad", "none", 0.6),
}
#: 4-bar progressions as scale degrees (0 = the tonic chord); a song's verse, chorus and
#: bridge take different ones
FORM_PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (5, 3, 0, 4), (1, 4, 0, 0), (3, 4, 2, 5), (0, 5, 3, 4), (3, 0, 4, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (5, 6, 0, 0), (3, 4, 0, 5), (0, 6, 5, 4), (5, 2, 6, 4)),
}
#: the forms of :func:`render_form`: (functional name, bars) per section
SONG_FORMS = {
    "pop": "intro:4 verse:8 chorus:8 verse:8 chorus:8 bridge:8 chorus:8 outro:4",
    "long-intro": "intro:8 verse:8 chorus:8 verse:8 chorus:8 outro:2",
    "breakdown": "intro:2 verse:8 chorus:8 verse:8 chorus:8 break:8 chorus:8 outro:8",
    "double-chorus": "intro:4 verse:16 chorus:8 verse:8 chorus:8 chorus:8 outro:4",
    "no-intro": "verse:8 chorus:8 verse:8 chorus:8 bridge:4 chorus:8 outro:4",
    "verse-verse": "intro:4 verse:8 verse:8 chorus:8 verse:8 chorus:8 break:4 chorus:8",
    "ballad": "intro:8 verse:8 chorus:8 verse:8 chorus:8 bridge:8 break:4 chorus:8 outro:8",
    "short": "intro:4 verse:8 chorus:8 bridge:8 chorus:8 outro:4",
}


def parse_form(form: str) -> list[tuple[str, int]]:
    """ "intro:4 verse:8 ..." -> [("intro", 4), ("verse", 8), ...]; every name must be one
    of :data:`SECTION_STYLES` and every length a positive number of bars."""
    sections = []
    for item in form.split():
        name, _, bars = item.partition(":")
        if name not in SECTION_STYLES or not bars.isdigit() or int(bars) < 1:
            raise ValueError(
                f"form item {item!r}: expected name:bars with a name of {tuple(SECTION_STYLES)}"
            )
        sections.append((name, int(bars)))
    if not sections:
        raise ValueError("a form needs at least one section")
    return sections


@dataclass
class FormSong(Song):
    """A rendered song with its sections: `sections` holds (start s, end s, label, name)
    per section, the first starting at 0 and the last ending at the end of the audio;
    sections of the same label share their chords and sound."""

    sections: list[tuple[float, float, str, str]] = field(default_factory=list)

    @property
    def boundaries(self) -> np.ndarray:
        """The section starts after the first (s): the downbeats where a section begins."""
        return np.array([s for s, _, _, _ in self.sections[1:]], dtype=float)


def render_form(
    form: str = SONG_FORMS["pop"],
    *,
    bpm: float = 116.0,
    tonic: str = "E",
    scale: str = "major",
    beats_per_bar: int = 4,
    sr: int = 44100,
    seed: int = 0,
    offset_s: float = 0.25,
) -> FormSong:
    """Render a song in sections with a known form.

    Sections of different functional names differ in chords (a 4-bar progression of
    :data:`FORM_PROGRESSIONS` each: the verse, chorus and bridge never share one), in
    density (drum pattern, bass rhythm) and in instrumentation (pad, off-beat stabs or
    strummed chords, a low or high melody, or none), as :data:`SECTION_STYLES` describes;
    the seed varies them per song (a verse with full drums, a bridge with the chorus's
    groove). Repeated sections share their chords and sound but not their details: the
    melody's rhythm and the drums' velocities change, and a section that hands over to
    another ends with a drum fill. The intro fades in, the outro fades out.

    Parameters
    ----------
    form : str
        "name:bars ..." (see :func:`parse_form`, :data:`SONG_FORMS`).
    bpm, tonic, scale, beats_per_bar, sr, seed, offset_s
        As :func:`render_song`.

    Returns
    -------
    FormSong
        The mix, stems, beats, downbeats and `sections` (start, end, label, name), where
        the label is the functional name: sections of one name repeat the same material.
    """
    if tonic not in NOTE_NAMES:
        raise ValueError(f"tonic must be one of {NOTE_NAMES}")
    if scale not in _SCALES or beats_per_bar not in (3, 4):
        raise ValueError("scale must be major or minor, beats_per_bar 3 or 4")
    plan = parse_form(form)
    rng = np.random.default_rng(seed)
    styles = dict(SECTION_STYLES)
    # per song: the verse sometimes as dense as the chorus, the bridge on the chorus's groove
    if rng.random() < 0.3:
        styles["verse"] = SectionStyle("full", "quarter", "stab", "low", 0.8)
    if rng.random() < 0.3:
        styles["bridge"] = SectionStyle("busy", "whole", "pad", "high", 0.85)
    if rng.random() < 0.5:
        styles["intro"] = SectionStyle("none", "none", "pad", "low", 0.5)
    pool = FORM_PROGRESSIONS[scale]
    order = rng.permutation(len(pool))
    chords_of = {"verse": pool[order[0]], "chorus": pool[order[1]], "bridge": pool[order[2]]}
    chords_of["intro"] = pool[order[3]] if rng.random() < 0.5 else chords_of["verse"]
    chords_of["break"] = chords_of["chorus"]
    chords_of["outro"] = chords_of["chorus"]

    beat_s = 60.0 / bpm
    n_bars = sum(bars for _, bars in plan)
    n_beats = n_bars * beats_per_bar
    duration_s = offset_s + n_beats * beat_s + 1.0
    n = int(duration_s * sr)
    beats = offset_s + np.arange(n_beats) * beat_s
    downbeats = beats[::beats_per_bar]
    stems = {k: np.zeros(n) for k in ("drums", "bass", "other", "vocals")}
    root = NOTE_NAMES.index(tonic)
    sounds = {"kick": _kick(sr), "snare": _snare(sr, rng), "hat": _hat(sr, rng)}
    sounds["crash"] = _crash(sr, rng)
    sections: list[tuple[float, float, str, str]] = []
    bar = 0
    for index, (name, bars) in enumerate(plan):
        style = styles[name]
        following = plan[index + 1][0] if index + 1 < len(plan) else None
        part = {k: np.zeros(n) for k in stems}
        for k in range(bars):
            start = int(round(downbeats[bar + k] * sr))
            degree = chords_of[name][k % 4]
            triad = _scale_triad(root, scale, degree)
            velocity = rng.uniform(0.85, 1.0)  # the details of each repetition differ
            fill = k == bars - 1 and following is not None and style.drums != "none"
            _form_drums(
                part["drums"], start, beat_s, sr, beats_per_bar, style.drums, sounds,
                gain=velocity, crash=k == 0 and style.drums == "busy", fill=fill,
            )  # fmt: skip
            _form_bass(part["bass"], start, triad[0] - 12, beat_s, sr, beats_per_bar, style.bass)
            _form_harmony(part["other"], start, triad, beat_s, sr, beats_per_bar, style.harmony)
            _form_melody(part["vocals"], start, triad, beat_s, sr, beats_per_bar, style.melody, rng)
        lo = int(round(downbeats[bar] * sr))
        hi = int(round((offset_s + (bar + bars) * beats_per_bar * beat_s) * sr))
        envelope = np.full(n, style.level)
        if name == "intro" and index == 0:  # fade in over the first bars
            envelope[lo:hi] *= np.linspace(0.6, 1.0, hi - lo)
        if name == "outro" and following is None:  # fade out to the end
            envelope[lo:] *= np.linspace(1.0, 0.1, n - lo)
        for key in stems:
            stems[key] += part[key] * envelope
        sections.append((float(downbeats[bar]), 0.0, name, name))
        bar += bars
    # sections tile the audio: the first from 0, each to the next one's start, the last to the end
    sections = [
        (0.0 if i == 0 else s, sections[i + 1][0] if i + 1 < len(sections) else n / sr, lab, nm)
        for i, (s, _, lab, nm) in enumerate(sections)
    ]
    stereo = _stereo(stems)
    return FormSong(
        mix=sum(stereo.values()).astype(np.float32),
        sr=sr,
        bpm=float(bpm),
        tonic=tonic,
        scale=scale,
        beats_per_bar=beats_per_bar,
        beats=beats,
        downbeats=downbeats,
        stems=stereo,
        sections=sections,
    )


def _crash(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(1.2 * sr)
    t = np.arange(n) / sr
    return 0.25 * np.diff(rng.standard_normal(n + 1)) * np.exp(-t / 0.35)


def _scale_triad(root: int, scale: str, degree: int) -> list[int]:
    """The triad on a scale degree, semitones above middle C (the dominant of a minor key
    with the leading tone)."""
    steps = _HARMONIC_MINOR if scale == "minor" and degree == 4 else _SCALES[scale]
    return [root + steps[d % 7] + 12 * (d // 7) for d in (degree, degree + 2, degree + 4)]


def _form_drums(
    drums: np.ndarray,
    start: int,
    beat_s: float,
    sr: int,
    beats_per_bar: int,
    pattern: str,
    sounds: dict[str, np.ndarray],
    *,
    gain: float,
    crash: bool,
    fill: bool,
) -> None:
    """One bar of a :class:`SectionStyle` drum pattern, on a sixteenth grid."""
    if pattern == "none":
        return
    steps = 4 * beats_per_bar
    last = 2 * beats_per_bar  # the eighth where a half bar starts (beat 3 in 4/4)
    hits: dict[str, dict[int, float]] = {"kick": {}, "snare": {}, "hat": {}}
    if pattern == "hats":
        hits["hat"] = {k: 0.5 for k in range(0, steps, 2)}
    elif pattern == "light":
        hits["kick"] = {0: 0.7}
        hits["snare"] = {last: 0.35}
        hits["hat"] = {k: 0.45 for k in range(0, steps, 4)}
    elif pattern == "full":
        hits["kick"] = {k: 0.9 for k in range(0, steps, 8)}
        hits["snare"] = {k: 0.6 for k in range(4, steps, 8)}
        hits["hat"] = {k: 0.6 if k % 4 == 0 else 0.4 for k in range(0, steps, 2)}
    elif pattern == "busy":
        hits["kick"] = {0: 0.95, 6: 0.7, last: 0.9}
        hits["snare"] = {k: 0.7 for k in range(4, steps, 8)}
        hits["hat"] = {k: 0.55 if k % 2 == 0 else 0.35 for k in range(steps)}
    elif pattern == "halftime":
        hits["kick"] = {0: 0.9, 10 % steps: 0.6}
        hits["snare"] = {last: 0.8}
        hits["hat"] = {k: 0.4 for k in range(0, steps, 4)}
    else:
        raise ValueError(f"unknown drum pattern {pattern!r}")
    if fill:  # the last half bar: snare sixteenths, rising
        hits["hat"] = {k: v for k, v in hits["hat"].items() if k < last}
        hits["snare"] = {k: 0.3 + 0.5 * (k - last) / (steps - last) for k in range(last, steps)}
    sixteenth = beat_s / 4
    for name, pattern_hits in hits.items():
        for step, level in pattern_hits.items():
            _add(drums, start + int(step * sixteenth * sr), gain * level * sounds[name])
    if crash:
        _add(drums, start, gain * sounds["crash"])


def _form_bass(
    bass: np.ndarray,
    start: int,
    pitch: int,
    beat_s: float,
    sr: int,
    beats_per_bar: int,
    rhythm: str,
) -> None:
    """One bar of bass on the chord root (`pitch` semitones above middle C)."""
    if rhythm == "none":
        return
    hz = _midi_hz(48 + pitch % 12)
    length_beats = {"whole": beats_per_bar, "quarter": 1.0, "eighth": 0.5}[rhythm]
    count = int(round(beats_per_bar / length_beats))
    for k in range(count):
        note = _tone(
            hz,
            int(length_beats * beat_s * sr),
            sr,
            partials=6,
            attack_s=0.005,
            decay_s=0.3 * length_beats * beat_s + 0.1,
        )
        _add(bass, start + int(k * length_beats * beat_s * sr), 0.5 * note)


def _form_harmony(
    other: np.ndarray,
    start: int,
    triad: list[int],
    beat_s: float,
    sr: int,
    beats_per_bar: int,
    kind: str,
) -> None:
    """One bar of chords: a held pad, off-beat stabs, or strummed on every beat."""
    bar_len = int(beats_per_bar * beat_s * sr)
    for pitch in triad:
        hz = _midi_hz(60 + pitch)
        if kind == "pad":
            _add(
                other,
                start,
                0.11
                * _tone(hz, bar_len, sr, partials=3, attack_s=0.25, decay_s=3.0 * bar_len / sr),
            )
        elif kind == "stab":
            for k in range(beats_per_bar):
                stab = _tone(
                    hz, int(0.3 * beat_s * sr), sr, partials=5, attack_s=0.003, decay_s=0.08
                )
                _add(other, start + int((k + 0.5) * beat_s * sr), 0.12 * stab)
        elif kind == "strum":
            for k in range(beats_per_bar):
                strum = _tone(
                    hz, int(beat_s * sr), sr, partials=9, attack_s=0.004, decay_s=0.5 * beat_s
                )
                _add(other, start + int((k * beat_s + 0.008 * pitch % 3) * sr), 0.1 * strum)
        else:
            raise ValueError(f"unknown harmony {kind!r}")


#: melody rhythms as (start, length) in beats, per register; a bar draws one of them
_MELODY_RHYTHMS = {
    "low": (((0, 1.9), (2, 1.9)), ((0, 2.9), (3, 0.9)), ((0, 0.9), (1, 2.9))),
    "high": (
        ((0, 0.9), (1, 0.9), (2, 0.9), (3, 0.9)),
        ((0, 0.45), (0.5, 0.45), (1, 0.9), (2, 0.45), (2.5, 0.45), (3, 0.9)),
        ((0, 1.4), (1.5, 0.45), (2, 0.9), (3, 0.9)),
    ),
}


def _form_melody(
    vocals: np.ndarray,
    start: int,
    triad: list[int],
    beat_s: float,
    sr: int,
    beats_per_bar: int,
    register: str,
    rng: np.random.Generator,
) -> None:
    """One bar of melody on the chord tones, its rhythm drawn per bar."""
    if register == "none":
        return
    rhythms = _MELODY_RHYTHMS[register]
    rhythm = rhythms[int(rng.integers(len(rhythms)))]
    octave = 72 if register == "high" else 60
    for k, (at, length) in enumerate(rhythm):
        if at >= beats_per_bar:
            continue
        pitch = octave + triad[(0, 1, 2, 1, 0, 2)[k % 6]]
        tone = _tone(
            _midi_hz(pitch),
            int(min(length, beats_per_bar - at) * beat_s * sr),
            sr,
            partials=3,
            attack_s=0.015,
            decay_s=0.4 * max(length, 0.5),
        )
        _add(vocals, start + int(at * beat_s * sr), 0.2 * tone)
