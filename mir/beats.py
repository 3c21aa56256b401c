"""Beat and downbeat tracking, and the statistics of a beat grid.

madmom: one network per track. The downbeat RNN's two activation columns (beat,
downbeat) are decoded jointly by a bar-pointer DBN over the configured bar lengths
(3/4 and 4/4), which yields the beats *and* their position in the bar; the sum of
the two columns is the beat activation the rest of the pipeline (tempo, time series)
reuses. The original ran a second, beat-only network for the same beats.

Memory does not grow faster than the track: the network's input features are computed
in blocks of :data:`FEATURE_BLOCK_S` (the same numbers as in one piece), and a track
longer than :data:`DBN_BLOCK_S` + 2 x :data:`DBN_OVERLAP_S` is decoded in overlapping
blocks, because the DBN keeps a back-pointer per frame and state (about 6 MB per
second of audio with 3/4 and 4/4).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import numpy as np

from mir.errors import AudioError

#: madmom's networks are trained on 44.1 kHz input
MADMOM_SR = 44100
#: seconds of audio whose network features are computed at once (the result is the same)
FEATURE_BLOCK_S = 60.0
#: seconds of activation decoded at once by the DBN beyond its overlaps; a shorter
#: track is decoded in one piece
DBN_BLOCK_S = 240.0
#: seconds decoded on each side of a block and then dropped, so a block's edges do not
#: show in its beats
DBN_OVERLAP_S = 30.0

_processors: dict = {}
_processors_lock = threading.Lock()


@dataclass
class BeatGrid:
    """Beats and downbeats of a track.

    Attributes
    ----------
    beats : np.ndarray
        Beat times in seconds, ascending.
    downbeats : np.ndarray
        Bar starts in seconds (a subset of `beats`); empty if the tracker has none.
    positions : np.ndarray
        Position of each beat in its bar (1 = downbeat); zeros if unknown.
    activation : np.ndarray
        Beat activation at `fps` frames per second (empty for librosa).
    tracker : str
        "madmom" or "librosa".
    """

    beats: np.ndarray
    downbeats: np.ndarray
    positions: np.ndarray
    activation: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fps: int = 100
    tracker: str = "madmom"
    #: downbeat activation at `fps` (madmom only)
    downbeat_activation: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def beats_per_bar(self) -> int:
        """The longest bar in beats that the tracker chose (0 if unknown)."""
        if self.positions.size == 0:
            return 0
        return int(self.positions.max())


_viterbi_kernel = None
_viterbi_lock = threading.Lock()


def _viterbi_pass():
    """The compiled forward pass of madmom's `HiddenMarkovModel.viterbi` (compiled once,
    cached on disk; it runs without the GIL)."""
    global _viterbi_kernel
    with _viterbi_lock:
        if _viterbi_kernel is None:
            import numba

            @numba.njit(nogil=True, cache=True, fastmath=False)
            def forward(
                tm_states, tm_pointers, tm_log_probs, om_pointers, densities, log_init
            ):  # pragma: no cover - compiled
                n_states = tm_pointers.size - 1
                previous = log_init.copy()
                current = np.empty(n_states)
                back = np.empty((densities.shape[0], n_states), dtype=np.uint32)
                for frame in range(densities.shape[0]):
                    for state in range(n_states):
                        best = -np.inf
                        density = densities[frame, om_pointers[state]]
                        for p in range(tm_pointers[state], tm_pointers[state + 1]):
                            # madmom's order of additions, and its strict comparison
                            value = previous[tm_states[p]] + tm_log_probs[p] + density
                            if value > best:
                                best = value
                                back[frame, state] = tm_states[p]
                        current[state] = best
                    previous, current = current, previous
                return previous, back

            _viterbi_kernel = forward
    return _viterbi_kernel


def viterbi(hmm, observations: np.ndarray) -> tuple[np.ndarray, float]:
    """madmom's `HiddenMarkovModel.viterbi(observations)`: the best state path and its log
    probability, the same numbers (its loop over the transition model's sparse rows, its
    order of additions and tie-breaking), compiled with numba: about 1.75x less CPU than
    madmom's Cython (bench/dbn.py), and without the GIL, so the DBN's bar lengths decode
    on two cores at once (madmom's own holds it). An impossible sequence (-inf) gives an
    empty path, with madmom's warning."""
    import warnings

    tm, om = hmm.transition_model, hmm.observation_model
    densities = np.ascontiguousarray(om.log_densities(observations), dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_init = np.log(np.asarray(hmm.initial_distribution, dtype=np.float64))
    last, back = _viterbi_pass()(
        np.ascontiguousarray(tm.states, dtype=np.uint32),
        np.ascontiguousarray(tm.pointers, dtype=np.uint32),
        np.ascontiguousarray(tm.log_probabilities, dtype=np.float64),
        np.ascontiguousarray(om.pointers, dtype=np.uint32),
        densities,
        log_init,
    )
    state = int(np.argmax(last))
    log_probability = float(last[state])
    if np.isinf(log_probability):
        warnings.warn(
            "-inf log probability during Viterbi decoding cannot find a valid path",
            RuntimeWarning,
            stacklevel=2,
        )
        return np.empty(0, dtype=np.uint32), log_probability
    path = np.empty(len(densities), dtype=np.uint32)
    for frame in range(len(densities) - 1, -1, -1):
        path[frame] = state
        state = back[frame, state]
    return path, log_probability


def compiled_dbn(dbn):
    """`dbn` (madmom's DBNDownBeatTrackingProcessor) with each HMM decoded by
    :func:`viterbi`."""
    from functools import partial

    for hmm in dbn.hmms:
        hmm.viterbi = partial(viterbi, hmm)
    return dbn


def _parallel_dbn(dbn):
    """The DBN with its bar lengths' HMMs decoded at once, on threads (:func:`viterbi`
    releases the GIL); madmom's own map would decode them one after the other."""
    from concurrent.futures import ThreadPoolExecutor

    compiled_dbn(dbn)
    # MIR_THREADS: the cores this process may use (`mir run` gives each worker its share)
    threads = int(os.environ.get("MIR_THREADS") or os.cpu_count() or 1)
    if len(dbn.hmms) > 1 and threads > 1:
        pool = ThreadPoolExecutor(min(len(dbn.hmms), threads), thread_name_prefix="dbn")
        dbn.map = pool.map
    return dbn


def _processor(name: str, factory):
    with _processors_lock:
        if name not in _processors:
            _processors[name] = factory()
        return _processors[name]


def track_beats(
    y: np.ndarray,
    *,
    sr: int,
    tracker: str = "madmom",
    beats_per_bar: tuple[int, ...] = (3, 4),
    min_bpm: float = 55.0,
    max_bpm: float = 215.0,
    fps: int = 100,
) -> BeatGrid:
    """Track beats and downbeats of a mono signal.

    Parameters
    ----------
    y : np.ndarray, 1-d
        Mono audio. madmom needs 44.1 kHz (resample first); librosa takes any rate.
    sr : int
        Sample rate of `y` in Hz.
    tracker : {"madmom", "librosa"}
        librosa finds no downbeats.
    beats_per_bar : tuple of int
        Bar lengths the DBN may choose between.
    min_bpm, max_bpm : float
        Tempo range searched, in BPM.

    Returns
    -------
    BeatGrid
    """
    if y.ndim != 1:
        raise ValueError("track_beats expects mono audio (1-d)")
    if y.size < sr // 2:
        raise AudioError("<signal>", "too short for beat tracking (< 0.5 s)")
    if tracker == "librosa":
        return _track_librosa(y, sr=sr, min_bpm=min_bpm, max_bpm=max_bpm)
    if tracker != "madmom":
        raise ValueError(f"unknown beat tracker {tracker!r}")
    if sr != MADMOM_SR:
        raise ValueError(f"madmom needs {MADMOM_SR} Hz input, got {sr}")
    from mir._madmom import import_madmom

    madmom = import_madmom()
    rnn = _processor("rnn_downbeat", madmom.features.downbeats.RNNDownBeatProcessor)
    dbn = _processor(
        ("dbn", tuple(beats_per_bar), min_bpm, max_bpm, fps),
        lambda: _parallel_dbn(
            madmom.features.downbeats.DBNDownBeatTrackingProcessor(
                beats_per_bar=list(beats_per_bar), min_bpm=min_bpm, max_bpm=max_bpm, fps=fps
            )
        ),
    )
    act = _downbeat_activation(rnn, np.asarray(y, dtype=np.float32), sr=sr)
    if np.max(act) < 1e-3:  # silence: the DBN would invent a grid
        empty = np.zeros(0)
        return BeatGrid(empty, empty, empty, act.sum(axis=1), fps, "madmom")
    # the DBN is not thread-safe (it keeps state between calls)
    with _processors_lock:
        result = _decode_downbeats(dbn, act)
    result = np.asarray(result, dtype=float).reshape(-1, 2)
    beats, positions = result[:, 0], result[:, 1].astype(int)
    return BeatGrid(
        beats=beats,
        downbeats=beats[positions == 1],
        positions=positions,
        activation=act.sum(axis=1),
        fps=fps,
        tracker="madmom",
        downbeat_activation=act[:, 1],
    )


def _downbeat_activation(rnn, y: np.ndarray, *, sr: int) -> np.ndarray:
    """madmom's RNNDownBeatProcessor on `y`: (frames, 2) beat and downbeat activations.

    Its feature chain and its ensemble of 8 networks run through :mod:`mir.rnn` (every
    frame of a block at once, the networks in parallel), with the weights and settings
    of the loaded processor; the numbers are madmom's to float32 rounding. Features are
    computed in blocks of :data:`FEATURE_BLOCK_S` (each with the frames before it that its
    differences need), then the network reads them all at once (it is bidirectional).
    """
    from mir import rnn as runner

    def build():
        features_of, network, beat_and_downbeat = rnn.processors
        return (
            runner.spectral_features_of(features_of),
            runner.ensemble_of(network),
            beat_and_downbeat,
        )

    features, ensemble, beat_and_downbeat = _processor(("downbeat_runner", id(rnn)), build)
    if sr != features.sample_rate:
        raise ValueError(f"the network needs {features.sample_rate} Hz input, got {sr}")
    n_frames = features.n_frames(y.size)
    block = int(FEATURE_BLOCK_S * sr / features.hop)

    def all_features() -> np.ndarray:  # no name keeps them once the network has read them
        starts = range(0, n_frames, block)
        return np.concatenate([features(y, f0, min(f0 + block, n_frames)) for f0 in starts])

    return beat_and_downbeat(runner.activate(ensemble, all_features()))


def _beats_of_path(hmm, path: np.ndarray, act: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Beat frames and their numbers in the bar along a decoded path (madmom's rule:
    the strongest activation inside each beat range of the observation model)."""
    positions = hmm.transition_model.state_space.state_positions[path]
    numbers = positions.astype(int) + 1
    in_range = hmm.observation_model.pointers[path] >= 1
    edges = np.flatnonzero(np.diff(in_range.astype(int))) + 1
    if in_range[0]:
        edges = np.r_[0, edges]
    if in_range[-1]:
        edges = np.r_[edges, in_range.size]
    frames = np.array([np.argmax(act[a:b]) // 2 + a for a, b in edges.reshape(-1, 2)], dtype=int)
    return frames, numbers[frames]


def _decode_downbeats(dbn, act: np.ndarray) -> np.ndarray:
    """`dbn(act)` (beat times in s and numbers in the bar) in bounded memory.

    A long activation is decoded in blocks of DBN_BLOCK_S with DBN_OVERLAP_S on each
    side; the bar length (HMM) is the one with the highest log probability summed over
    the blocks, as madmom chooses it over the whole track. Neighbouring blocks are
    joined at a beat both found in their overlap.
    """
    fps = dbn.fps
    block, overlap = int(DBN_BLOCK_S * fps), int(DBN_OVERLAP_S * fps)
    if act.shape[0] <= block + 2 * overlap or not dbn.correct:
        return dbn(act)
    from madmom.features.beats import threshold_activations

    first = 0
    if dbn.threshold:
        act, first = threshold_activations(act, dbn.threshold)
    if not act.any():
        return np.empty((0, 2))
    n = act.shape[0]
    spans = [(max(0, c0 - overlap), min(n, c0 + block + overlap)) for c0 in range(0, n, block)]
    decoded = list(dbn.map(lambda hmm: [hmm.viterbi(act[a:b]) for a, b in spans], dbn.hmms))
    best = int(np.argmax([sum(logp for _, logp in paths) for paths in decoded]))
    hmm = dbn.hmms[best]
    tolerance = 2  # frames: the same beat found by two blocks
    frames, numbers = np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    for (a, b), (path, _) in zip(spans, decoded[best], strict=True):
        f, k = _beats_of_path(hmm, path, act[a:b])
        f = f + a
        if frames.size:
            # the seam: the beat of the previous block nearest the middle of the overlap
            # that this block found too; without one, the middle of the overlap
            middle = a + overlap
            ours = frames[frames >= a]
            seam, skip = middle, middle
            if ours.size and f.size:
                gaps = np.abs(ours[:, None] - f[None, :])
                matched = np.flatnonzero(gaps.min(axis=1) <= tolerance)
                if matched.size:
                    pick = ours[matched[np.argmin(np.abs(ours[matched] - middle))]]
                    seam, skip = pick + 1, pick + tolerance + 1
            keep = frames < seam
            frames, numbers = frames[keep], numbers[keep]
            k, f = k[f >= skip], f[f >= skip]
        frames, numbers = np.r_[frames, f], np.r_[numbers, k]
    return np.vstack(((frames + first) / float(fps), numbers)).T


def _track_librosa(y: np.ndarray, *, sr: int, min_bpm: float, max_bpm: float) -> BeatGrid:
    import librosa

    _, beats = librosa.beat.beat_track(y=y, sr=sr, units="time", start_bpm=120.0)
    beats = np.asarray(beats, dtype=float)
    beats = beats[(beats >= 0)]
    return BeatGrid(
        beats=beats,
        downbeats=np.zeros(0),
        positions=np.zeros(beats.size, dtype=int),
        tracker="librosa",
    )


def _stable_segments(ibis: np.ndarray) -> list[np.ndarray]:
    """Runs of inter-beat intervals whose consecutive differences are <= 50 ms."""
    segments, start = [], 0
    for i in range(1, ibis.size + 1):
        if i == ibis.size or abs(ibis[i] - ibis[i - 1]) > 0.05:
            segments.append(ibis[start:i])
            start = i
    return segments


def beat_statistics(beats: np.ndarray, *, duration_s: float | None = None) -> dict[str, float]:
    """Tempo statistics of a beat grid, as the original pipeline defines them.

    Returns
    -------
    dict
        `bpm` (60 / mean inter-beat interval when the tempo is defined, else 120),
        `beat_count`, `beat_regularity` (std of inter-beat intervals in s, 1.0 when
        undefined, clamped to [0, 1]) and `bpm_is_defined` (0 or 1): at least 15 beats,
        a tempo of 40-300 BPM and an IBI std <= 0.15 s; or stable segments (>= 4 beats,
        consecutive IBIs within 50 ms, std <= 0.15 s) covering >= 10 % of the track
        (a >= 30-beat segment when the duration is unknown).
    """
    beats = np.asarray(beats, dtype=float)
    count = int(beats.size)
    if count < 2:
        return {"bpm": 120.0, "beat_count": count, "beat_regularity": 1.0, "bpm_is_defined": 0}
    ibis = np.diff(beats)
    mean_ibi = float(ibis.mean())
    bpm = 60.0 / mean_ibi if mean_ibi > 0 else 0.0
    std = float(ibis.std())
    defined = count >= 15 and 40.0 <= bpm <= 300.0 and std <= 0.15
    if not defined:
        for seg in _stable_segments(ibis):
            if seg.size + 1 < 4 or seg.std() > 0.15:
                continue
            if duration_s:
                if seg.sum() >= 0.1 * duration_s:
                    defined = True
            elif seg.size + 1 >= 30:
                defined = True
            if defined:
                break
    return {
        "bpm": round(bpm, 2) if defined else 120.0,
        "beat_count": count,
        "beat_regularity": round(min(max(std, 0.0), 1.0), 4),
        "bpm_is_defined": int(defined),
    }
