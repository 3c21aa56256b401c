"""Key estimation: the key of a track from several opinions, and the names of keys.

A key is one of 24 (:func:`key_index`: 0-11 major, 12-23 minor, by tonic pitch class,
C = 0). Its estimate is a combination of opinions (:func:`combine_key_opinions`):
Essentia's `Key` with the `edmm` and `edma` profiles on the mean HPCP, madmom's key CNN
on the signal (:func:`key_cnn_probabilities`), and the tonic chord read from the HPCP
frames (:func:`chord_shares`). The HPCP itself is :mod:`mir.harmonic`'s.

Key and note names are mapped to pitch classes with every enharmonic spelling
(:func:`pitch_class`); keys are written with :data:`PITCH_CLASSES` ("C#", "A#").
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import numpy as np
import scipy.ndimage

from mir._essentia import algorithm
from mir.intermediates import SR

#: the names of the 12 pitch classes, C = 0
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_NATURAL = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def pitch_class(name: str) -> int:
    """Pitch class (C = 0) of a note name with any accidentals: "Bb", "A#", "Cb", "E#", "F##"."""
    name = name.strip()
    if not name or name[0].upper() not in _NATURAL:
        raise ValueError(f"not a note name: {name!r}")
    pc = _NATURAL[name[0].upper()]
    for ch in name[1:]:
        if ch in "#♯":
            pc += 1
        elif ch in "b♭":
            pc -= 1
        else:
            raise ValueError(f"not a note name: {name!r}")
    return pc % 12


#: Essentia `Key` profiles read on the mean HPCP, each one opinion
KEY_PROFILES = ("edmm", "edma")
#: the tonic chord names the key among its close relatives when it sounds at least this
#: share of the time ...
TONIC_CHORD_SHARE = 0.35
#: ... and this many times as long as any other triad
TONIC_CHORD_LEAD = 1.3
#: HPCP frames (hop 2048 at 44.1 kHz: about 1 s) averaged before each frame's triad is read
CHORD_SMOOTHING_FRAMES = 21
#: the chord that opens the music and the one that closes it each count as if they
#: sounded this share of the time more (songs start and, above all, end on the tonic)
OPENING_CHORD_CREDIT = 0.1
CLOSING_CHORD_CREDIT = 0.1
#: the opening (closing) chord is the triad read most often in the first (last) sounding
#: HPCP frames over this many seconds
OPENING_CLOSING_SECONDS = 2.0
#: input frames of the key CNN (5 per second) run at once beyond the context on each side;
#: a longer track is run in blocks, so memory does not grow with it (the same numbers)
KEY_CNN_BLOCK_FRAMES = 4096
KEY_CNN_CONTEXT_FRAMES = 64


def key_index(tonic: int, scale: str) -> int:
    """Index of a key among the 24: 0-11 major (tonic pitch class), 12-23 minor."""
    return tonic % 12 + (12 if scale == "minor" else 0)


def key_label(index: int) -> str:
    """ "C major", "A minor", ... of a :func:`key_index`."""
    return f"{PITCH_CLASSES[index % 12]} {'minor' if index >= 12 else 'major'}"


def _relation(a: int, b: int) -> float:
    """mir_eval's weighted-score credit between two keys, made symmetric: 1 the same, 0.5
    a fifth apart (either way), 0.3 relative, 0.2 parallel, 0 otherwise."""
    if a == b:
        return 1.0
    ta, tb, minor_a, minor_b = a % 12, b % 12, a >= 12, b >= 12
    if minor_a == minor_b and (ta - tb) % 12 in (5, 7):
        return 0.5
    if minor_a != minor_b:
        major, minor = (ta, tb) if minor_b else (tb, ta)
        if minor == (major + 9) % 12:
            return 0.3
        if ta == tb:
            return 0.2
    return 0.0


@functools.cache
def _relations() -> np.ndarray:
    return np.array([[_relation(a, b) for b in range(24)] for a in range(24)])


#: the modes a key's songs use: major (Ionian, and Mixolydian's flat seventh) and minor
#: (Aeolian, and Dorian's major sixth: the major IV), as semitones above the tonic
_MODES = {
    "major": ((0, 2, 4, 5, 7, 9, 11), (0, 2, 4, 5, 7, 9, 10)),
    "minor": ((0, 2, 3, 5, 7, 8, 10), (0, 2, 3, 5, 7, 9, 10)),
}


def _scales(index: int) -> list[frozenset[int]]:
    modes = _MODES["minor" if index >= 12 else "major"]
    return [frozenset((index % 12 + s) % 12 for s in steps) for steps in modes]


@functools.cache
def _close_keys() -> np.ndarray:
    """Keys with a mode each (major or Mixolydian; natural minor or Dorian) whose scales
    differ in at most one note: the same or a neighbouring key signature (relative, a
    fifth either way, their relatives), and a Dorian minor with the major key a fourth
    above its tonic (E Dorian's IV is A major)."""
    return np.array(
        [
            [any(len(x ^ y) <= 2 for x in _scales(a) for y in _scales(b)) for b in range(24)]
            for a in range(24)
        ]
    )


@functools.cache
def _triads() -> np.ndarray:
    """Unit-norm templates of the 24 triads over C-based pitch classes (key_index order)."""
    t = np.zeros((24, 12))
    for r in range(12):
        t[r, [r, (r + 4) % 12, (r + 7) % 12]] = 1.0
        t[12 + r, [r, (r + 3) % 12, (r + 7) % 12]] = 1.0
    return t / np.linalg.norm(t, axis=1, keepdims=True)


def triad_sequence(frames_c: np.ndarray) -> np.ndarray:
    """The closest of the 24 triads (:func:`key_index` order) to each HPCP frame after a
    moving average of about 1 s, -1 where nothing sounds. `frames_c`: C-based HPCP
    frames, shape (frames, 12)."""
    best = np.full(frames_c.shape[0], -1)
    if frames_c.shape[0] == 0:
        return best
    smooth = scipy.ndimage.uniform_filter1d(
        np.asarray(frames_c, dtype=float), min(CHORD_SMOOTHING_FRAMES, frames_c.shape[0]), axis=0
    )
    norms = np.linalg.norm(smooth, axis=1)
    sounding = norms > 1e-6
    if sounding.any():
        best[sounding] = np.argmax((smooth[sounding] / norms[sounding, None]) @ _triads().T, axis=1)
    return best


def chord_shares(frames_c: np.ndarray) -> np.ndarray:
    """Share of the time each of the 24 triads (:func:`key_index` order) is the closest
    to the HPCP (:func:`triad_sequence`); silent frames count for none. `frames_c`:
    C-based HPCP frames, shape (frames, 12)."""
    return _shares(triad_sequence(frames_c))


def _shares(triads: np.ndarray) -> np.ndarray:
    if triads.size == 0:
        return np.zeros(24)
    return np.bincount(triads[triads >= 0], minlength=24) / triads.size


def opening_closing_chords(frames_c: np.ndarray, *, hop_s: float = 2048 / SR) -> tuple[int, int]:
    """The triads (:func:`key_index` order) that open and close the music: the one read
    most often (:func:`triad_sequence`) over the first and over the last
    :data:`OPENING_CLOSING_SECONDS` of sounding frames; (-1, -1) where nothing sounds."""
    return _opening_closing(triad_sequence(frames_c), hop_s)


def _opening_closing(triads: np.ndarray, hop_s: float) -> tuple[int, int]:
    sounding = triads[triads >= 0]
    if sounding.size == 0:
        return -1, -1
    n = max(1, round(OPENING_CLOSING_SECONDS / hop_s))
    first = int(np.bincount(sounding[:n], minlength=24).argmax())
    last = int(np.bincount(sounding[-n:], minlength=24).argmax())
    return first, last


def tonic_evidence(chords: np.ndarray, opening: int = -1, closing: int = -1) -> np.ndarray:
    """How much each of the 24 keys' tonic triad sounds like the tonic: the share of the
    time it sounds (`chords`, :func:`chord_shares`), plus :data:`OPENING_CHORD_CREDIT` if
    it opens the music and :data:`CLOSING_CHORD_CREDIT` if it closes it (`opening`,
    `closing`: triad indices, -1 for none)."""
    evidence = np.asarray(chords, dtype=float).copy()
    if opening >= 0:
        evidence[opening] += OPENING_CHORD_CREDIT
    if closing >= 0:
        evidence[closing] += CLOSING_CHORD_CREDIT
    return evidence


#: madmom's chord labels ("C:maj", "F#:min") as :func:`key_index` triads
_CHORD_QUALITY = {"maj": "major", "min": "minor"}


def chord_triad(label: str) -> int:
    """The :func:`key_index` of a chord label ("A:min" -> 21), -1 for no chord ("N") or
    another quality."""
    root, _, quality = str(label).partition(":")
    if quality not in _CHORD_QUALITY:
        return -1
    return key_index(pitch_class(root), _CHORD_QUALITY[quality])


def chord_evidence(segments) -> tuple[np.ndarray, tuple[int, int]]:
    """What recognised chords say of the tonic: the share of the time each of the 24
    triads sounds (:func:`key_index` order; stretches without a chord count for none),
    and the triads that open and close the music (the one held longest over the first
    and over the last :data:`OPENING_CLOSING_SECONDS` of chords, between equals the one
    nearest the start or the end; -1 where none sounds).

    Parameters
    ----------
    segments : sequence of (start_s, end_s, label)
        Chord segments in time order (:func:`mir.chords.recognize_chords`), labels
        "C:maj", "A:min" or "N".

    Returns
    -------
    shares : np.ndarray
        Shape (24,), each 0 .. 1, summing to at most 1.
    opening_closing : tuple of int
        The opening and closing triads, :func:`key_index` or -1.
    """
    shares = np.zeros(24)
    spans = []
    total = 0.0
    for start, end, label in segments:
        length = max(float(end) - float(start), 0.0)
        total += length
        triad = chord_triad(label)
        if triad >= 0 and length > 0:
            shares[triad] += length
            spans.append((triad, length))
    if total <= 0 or not spans:
        return np.zeros(24), (-1, -1)

    def held_longest(ordered) -> int:  # ties: the chord nearest the edge
        held: dict[int, float] = {}
        left = OPENING_CLOSING_SECONDS
        for triad, length in ordered:
            held[triad] = held.get(triad, 0.0) + min(length, left)
            left -= length
            if left <= 0:
                break
        return max(held, key=held.__getitem__)

    return shares / total, (held_longest(spans), held_longest(reversed(spans)))


@dataclass(frozen=True)
class KeyEstimate:
    """The key of a track.

    Attributes
    ----------
    index : int
        :func:`key_index` of the key.
    confidence : float
        0-1: the mir_eval weighted score of the key against each opinion, averaged.
    source : str
        The opinions that name this very key, joined by "+" ("edmm+cnn", "tonic_chord").
    """

    index: int
    confidence: float
    source: str

    @property
    def tonic(self) -> int:
        return self.index % 12

    @property
    def scale(self) -> str:
        return "minor" if self.index >= 12 else "major"


#: the recognised chords outside the consensus key's chords must sound at least this
#: share of the chord time, and a close key's chords cover that much more of it, for
#: the close key to be taken (:func:`combine_key_opinions`, rule 2)
CHORD_COVERAGE_GAP = 0.2
#: recognised chords that open and close the music with the same triad name it the tonic
#: chord when it sounds at least this share of the time, whatever sounds longer
BOOKEND_CHORD_SHARE = 0.2
#: a tonic chord is taken only where each of its three notes sounds at least this much
#: in the mean pitch profile (max 1): chords a recogniser reads into a solo line or a
#: drone are not the music's
TONIC_CHORD_SUPPORT = 0.2


@dataclass(frozen=True)
class ChordEvidence:
    """The chords of a track as the tonic-chord rule reads them.

    Attributes
    ----------
    shares : np.ndarray
        Shape (24,): the share of the time each triad (:func:`key_index` order) sounds,
        0 .. 1 (:func:`chord_evidence`, :func:`chord_shares`).
    opening_closing : tuple of int
        The triads that open and close the music, :func:`key_index` or -1.
    recognised : bool
        True for a chord recogniser's segments (:func:`chord_evidence`), which also decide
        between close keys by the chords they cover; False for the triads nearest the
        HPCP frames (:func:`triad_sequence`).
    """

    shares: np.ndarray
    opening_closing: tuple[int, int] = (-1, -1)
    recognised: bool = False


@functools.cache
def _key_chords() -> np.ndarray:
    """(24 keys, 24 triads): the triads in each key's modes (:func:`_scales`: Ionian and
    Mixolydian; Aeolian and Dorian), and a minor key's major V (its harmonic minor)."""
    out = np.zeros((24, 24), dtype=bool)
    triads = [frozenset(np.flatnonzero(template).tolist()) for template in _triads()]
    for k in range(24):
        for t, notes in enumerate(triads):
            out[k, t] = any(notes <= scale for scale in _scales(k))
        if k >= 12:
            out[k, (k + 7) % 12] = True
    return out


def _covering_key(best: int, named: list[int], total: np.ndarray, shares: np.ndarray) -> int:
    """Rule 2 of :func:`combine_key_opinions`: among the close keys of `best` that an
    opinion names (`named`), the one whose chords cover the recognised chords at least
    :data:`CHORD_COVERAGE_GAP` better than `best`'s, or `best`."""
    held = float(shares.sum())
    if held <= 0:
        return best
    covered = (_key_chords() @ shares) / held
    close = [k for k in dict.fromkeys(named) if k != best and _close_keys()[best, k]]
    if not close or 1.0 - covered[best] < CHORD_COVERAGE_GAP:
        return best
    pick = max(close, key=lambda k: (round(float(covered[k]), 9), total[k]))
    return pick if covered[pick] - covered[best] >= CHORD_COVERAGE_GAP else best


def combine_key_opinions(
    opinions: dict[str, np.ndarray],
    chords: np.ndarray | None = None,
    opening_closing: tuple[int, int] = (-1, -1),
    *,
    evidence: tuple[ChordEvidence, ...] = (),
    pitch_profile: np.ndarray | None = None,
) -> KeyEstimate:
    """One key from several opinions, by a stated rule.

    1. **Consensus.** Each opinion is a distribution over the 24 keys (a profile's best
       key as all of it; the CNN's softmax). The consensus key is the one with the highest
       mir_eval weighted score against the opinions, each opinion weighing 1: the same
       key scores 1, a fifth either way 0.5, the relative key 0.3, the parallel key 0.2.
       Ties go to the opinion listed first.
    2. **Chord coverage.** A key's chords are the triads of its modes (Ionian and
       Mixolydian; Aeolian, Dorian and the harmonic minor's V). Where recognised chords
       (`evidence` with `recognised`) outside the consensus key's chords sound at least
       :data:`CHORD_COVERAGE_GAP` of the chord time, and a close key (a mode of each
       differing in one note at most: :func:`_close_keys`) that an opinion names covers
       that much more, the one covering the most is taken: I-V-vi-IV in G (G D Em C,
       each a quarter of the time) whose profiles read C major and the network G major
       has a D major chord C major lacks.
    3. **Tonic chord.** Profiles and networks read the scale well and its tonic less well:
       a minor song whose chords include the relative major's (♭III, ♭VI, ♭VII) and a
       major IV reads as the relative major or as the major key a tone below; a
       Mixolydian song as the major key a fourth above; a Phrygian one as the major key
       a major third below. The tonic is where the music stays, starts and comes to
       rest: each triad's evidence (:func:`tonic_evidence`) is the share of the time it
       sounds, plus a credit if it opens and one if it closes the music. The sources of
       chords are read in order (`chords` with `opening_closing` first, then
       `evidence`): the first that names a tonic chord decides. A source names the triad
       whose evidence is at least :data:`TONIC_CHORD_SHARE` and :data:`TONIC_CHORD_LEAD`
       times any other's; recognised chords that open and close the music with the same
       triad name it when it sounds at least :data:`BOOKEND_CHORD_SHARE` of the time,
       whatever sounds longer (a minor song whose ♭III or ♭VI sounds most and whose
       tonic chord opens and closes each cycle). The triad's three notes must each sound
       at least :data:`TONIC_CHORD_SUPPORT` in `pitch_profile` (C-based, max 1; not
       checked without one). When its key is a close relative of the key, it is the
       key.

    `confidence` is the mean weighted score of the key against the opinions (the tonic
    chord, when it is that dominant, counting as one more).
    """
    names = list(opinions)
    if not names:
        raise ValueError("no key opinions")
    dists = np.array([np.asarray(opinions[n], dtype=float) for n in names])
    dists = dists / np.maximum(dists.sum(axis=1, keepdims=True), 1e-12)
    scores = _relations() @ dists.T  # (candidate, opinion): expected credit
    total = scores.sum(axis=1)
    ranked = [int(np.argmax(d)) for d in dists]
    # among equal totals, the first opinion's key, then the second's, ...
    best = max(range(24), key=lambda k: (round(total[k], 9), -_first_naming(ranked, k)))
    sources = list(evidence)
    if chords is not None and chords.size == 24:
        sources.insert(0, ChordEvidence(np.asarray(chords, dtype=float), opening_closing))
    for source in sources:
        if source.recognised:
            covering = _covering_key(best, ranked, total, source.shares)
            if covering != best:
                best = covering
                ranked.append(best)
                names = [*names, "chord_coverage"]
            break
    key, votes = best, list(scores[best])
    for source in sources:
        top = _tonic_chord(source, pitch_profile)
        if top is None:
            continue
        if _close_keys()[best, top]:
            key = top
        votes = list(scores[key]) + [_relation(key, top)]
        ranked.append(top)
        names = [*names, "tonic_chord"]
        break
    source = "+".join(n for n, k in zip(names, ranked, strict=True) if k == key) or "consensus"
    return KeyEstimate(index=key, confidence=round(float(np.mean(votes)), 3), source=source)


def _tonic_chord(source: ChordEvidence, pitch_profile: np.ndarray | None) -> int | None:
    """The triad whose evidence is decisive in `source` (rule 3 of
    :func:`combine_key_opinions`), or None."""
    if source.shares.size != 24:
        return None
    evidence = tonic_evidence(source.shares, *source.opening_closing)
    order = np.argsort(-evidence)
    top, second = int(order[0]), float(evidence[order[1]])
    opening, closing = source.opening_closing
    if (
        source.recognised
        and opening >= 0
        and opening == closing
        and source.shares[opening] >= BOOKEND_CHORD_SHARE
    ):
        top = opening  # the music opens and comes to rest on it
    elif evidence[top] < TONIC_CHORD_SHARE or evidence[top] < TONIC_CHORD_LEAD * second:
        return None
    if pitch_profile is not None:
        notes = np.flatnonzero(_triads()[top])
        if float(np.min(pitch_profile[notes])) < TONIC_CHORD_SUPPORT:
            return None
    return top


def _first_naming(ranked: list[int], key: int) -> int:
    return ranked.index(key) if key in ranked else len(ranked)


_cnn_lock = threading.Lock()


@functools.cache
def _key_cnn():
    """madmom's key CNN (Korzeniowski & Widmer 2018), loaded once: its spectrogram chain
    and each network's layers up to its last feature map, run in torch
    (:class:`mir._madmom.TorchNetwork`); the caller averages the map over blocks."""
    from mir._madmom import TorchNetwork, import_madmom

    madmom = import_madmom()
    from madmom.features.key import KEY_LABELS, CNNKeyRecognitionProcessor
    from madmom.ml.nn.layers import AverageLayer

    processor = CNNKeyRecognitionProcessor()
    sig, frames, stft, spec, ensemble = processor.processors[:5]
    networks = []
    for network in ensemble.processors[0].processors:
        *layers, last = network.layers
        if not isinstance(last, AverageLayer):
            raise TypeError(f"unexpected last layer in madmom's key CNN: {last!r}")
        networks.append(TorchNetwork(layers))
    order = [key_index(pitch_class(label.split()[0]), label.split()[1]) for label in KEY_LABELS]
    return madmom, (sig, frames, stft, spec), networks, np.array(order)


#: seconds of audio per row of the key network's last feature map (8 frames at 5 per second)
KEY_CNN_ROW_S = 8 / 5


@dataclass(frozen=True)
class KeyCnnRows:
    """The key network's last feature map of a signal, summed over frequency per row
    (:data:`KEY_CNN_ROW_S` s each): what :func:`key_cnn_probabilities` averages, kept per
    row so that an excerpt's probabilities are those of the rows inside it.

    Attributes
    ----------
    sums : np.ndarray
        Shape (networks, rows, 24): each network's map summed over its frequency cells.
    cells : np.ndarray
        Shape (networks, rows): the cells summed in each row.
    """

    sums: np.ndarray
    cells: np.ndarray

    @property
    def rows(self) -> int:
        return int(self.cells.shape[1])

    def probabilities(self, first: int = 0, stop: int | None = None) -> np.ndarray | None:
        """The probability of each of the 24 keys (:func:`key_index` order) from rows
        `first` to `stop` (exclusive; default: all), or None when that holds no row."""
        stop = self.rows if stop is None else min(stop, self.rows)
        if stop <= first:
            return None
        count = self.cells[:, first:stop].sum(axis=1, keepdims=True)
        logits = (self.sums[:, first:stop].sum(axis=1) / count).mean(axis=0)
        p = np.exp(logits - logits.max())
        out = np.zeros(24)
        out[_key_cnn()[3]] = p / p.sum()
        return out

    def rows_within(self, start_s: float, end_s: float) -> tuple[int, int]:
        """The rows that lie wholly within [start_s, end_s) s of the signal."""
        first = int(np.ceil(start_s / KEY_CNN_ROW_S - 1e-9))
        stop = int(np.floor(end_s / KEY_CNN_ROW_S + 1e-9))
        return first, max(first, min(stop, self.rows))


def key_cnn_rows(y: np.ndarray, *, sr: int = SR) -> KeyCnnRows | None:
    """madmom's `CNNKeyRecognitionProcessor` on a mono 44.1 kHz signal up to its last
    feature map, per row (:class:`KeyCnnRows`), or None for under 2 s of audio.

    The same spectrogram (frames of 8192 at 5 per second, 24 bands per octave from 65 Hz
    to 2.1 kHz) and network weights as madmom's, to float32 rounding; the network runs in
    torch (about 30 times faster than madmom's loops over channel pairs) on blocks of
    :data:`KEY_CNN_BLOCK_FRAMES` frames, each with :data:`KEY_CNN_CONTEXT_FRAMES` on either
    side (more than the network's reach)."""
    if sr != SR or y.size < 2 * sr:
        return None
    with _cnn_lock:
        madmom, chain, networks, order = _key_cnn()
    sig, frames, stft, spec = chain
    signal = madmom.audio.signal.Signal(np.ascontiguousarray(y, dtype=np.float32), sample_rate=sr)
    x = np.asarray(spec(stft(frames(sig(signal)))), dtype=np.float32)
    rows, ctx = x.shape[0] // 8, KEY_CNN_CONTEXT_FRAMES
    block = KEY_CNN_BLOCK_FRAMES // 8
    sums = np.zeros((len(networks), rows, 24))
    cells = np.zeros((len(networks), rows))
    for n, network in enumerate(networks):
        for r0 in range(0, rows, block):
            r1 = min(r0 + block, rows)
            a, b = max(0, 8 * r0 - ctx), min(x.shape[0], 8 * r1 + ctx)
            fmap = network(x[a:b])[r0 - a // 8 : r1 - a // 8]
            sums[n, r0 : r0 + fmap.shape[0]] = fmap.sum(axis=1)
            cells[n, r0 : r0 + fmap.shape[0]] = fmap.shape[1]
    return KeyCnnRows(sums, cells)


def key_cnn_probabilities(y: np.ndarray, *, sr: int = SR) -> np.ndarray | None:
    """madmom's `CNNKeyRecognitionProcessor` on a mono 44.1 kHz signal: the probability of
    each of the 24 keys (:func:`key_index` order), or None for under 2 s of audio: the
    network's map averaged over all rows of :func:`key_cnn_rows`."""
    rows = key_cnn_rows(y, sr=sr)
    return None if rows is None else rows.probabilities()


def estimate_key(
    mean_a: np.ndarray,
    frames_c: np.ndarray,
    y: np.ndarray | None = None,
    *,
    sr: int = SR,
    cnn: np.ndarray | None = None,
    chords=None,
) -> tuple[KeyEstimate, float]:
    """The key (:func:`combine_key_opinions` of edmm, edma, the CNN on `y` and the tonic
    chord) and the edmm profile's strength.

    `mean_a`: the mean HPCP (A-based, as Essentia's profiles read it; max 1);
    `frames_c`: the HPCP frames, C-based (:func:`mir.harmonic.to_c_based`); `cnn`: the
    CNN's probabilities when already computed (an excerpt's, from its track's
    :class:`KeyCnnRows`), in place of running it on `y`; `chords`: the recognised chord
    segments (:func:`chord_evidence`), from which the tonic chord is read; without them
    it is read from the triads nearest the HPCP frames (:func:`triad_sequence`)."""
    opinions: dict[str, np.ndarray] = {}
    strength = 0.0
    for profile in KEY_PROFILES:
        key_of = algorithm("Key", profileType=profile, pcpSize=12, numHarmonics=4, slope=0.6)
        name, scale, s, _ = key_of(mean_a.astype(np.float32))
        opinions[profile] = np.eye(24)[key_index(pitch_class(name), str(scale))]
        if profile == "edmm":
            strength = float(s)
    if cnn is None and y is not None:
        cnn = key_cnn_probabilities(y, sr=sr)
    if cnn is not None:
        opinions["cnn"] = cnn
    triads = triad_sequence(frames_c)
    sources = [ChordEvidence(_shares(triads), _opening_closing(triads, 2048 / sr))]
    if chords is not None:
        sources.insert(0, ChordEvidence(*chord_evidence(chords), recognised=True))
    mean_c = frames_c.mean(axis=0)  # the mean HPCP, C-based as the triads
    profile = mean_c / mean_c.max()  # mean_a's maximum is 1: the frames hold a pitch
    estimate = combine_key_opinions(opinions, evidence=tuple(sources), pitch_profile=profile)
    return estimate, strength
