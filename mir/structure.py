"""Song structure: sections with boundaries on downbeats, repetition labels and names.

The default needs no model. Each bar of the beat grid is described by its harmony (the
HPCP of each quarter of the bar, in order) and its timbre (MFCC means and spreads, RMS
level, onset activity), from the intermediates the other features share
(:mod:`mir.intermediates`, :func:`mir.harmonic.hpcp_of`); two bar self-similarity matrices
(harmony, timbre) follow. From them:

1. Boundaries (:func:`segment_bars`): the segmentation of the bars into the most
   homogeneous sections, by dynamic programming over all segmentations (kernel
   change-point detection, Arlot, Celisse & Harchaoui 2019). Its cost is the criterion
   that Foote's checkerboard kernel (Foote 2000) measures locally, similarity within
   minus similarity across, summed over whole sections instead of peak-picked, with a
   cost per section and a phrase prior (sections inside the song run whole 4-bar
   phrases). Boundaries are downbeats by construction. Foote's novelty curve
   (:func:`checkerboard_novelty`) is kept for the picture.
2. Labels (:func:`section_similarity`, :func:`cluster_sections`): each pair of sections
   compared bar by bar at their best alignment, on the product of the two similarities
   (the same chords in the same order and the same sound), then clustered by average
   linkage; A, B, ... in order of appearance.
3. Names (:func:`name_sections`): intro, verse, chorus, bridge, break or outro, from
   position, repetition and energy, each with a confidence.

Everything after the bar features works on bars (about 30 a minute): the matrices of an
hour of music are 1800 x 1800. Their cost grows with the square of the bars, but it is
small beside the features, whose cost is linear in the audio (``bench/structure.py``
measures both at 4 and 60 minutes).

The helpers at the end (:func:`section_series`, :func:`section_boundaries`,
:func:`section_of_span`, :func:`section_windows`, :func:`span_values`) are what the crops,
the whole-track series and the latent windows use.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mir.audio import Audio
from mir.config import StructureConfig

#: the sidecar file of a track's sections
SECTIONS = ".SECTIONS"
#: the functional names a section may take
NAMES = ("intro", "verse", "chorus", "bridge", "break", "outro")
#: the grid without downbeats or beats: a "bar" of this many seconds
FALLBACK_BAR_S = 2.0
#: sub-bar blocks whose chroma is kept in order (the harmony within a bar)
HARMONY_BLOCKS = 4
N_MFCC = 13


@dataclass(frozen=True)
class Section:
    """One section of a track.

    Attributes
    ----------
    start, end : float
        Seconds; every start but the first (0) is a downbeat of the grid.
    label : str
        Repetition label: sections of one label repeat the same material ("A", "B", ...).
    name : str
        Functional name, one of :data:`NAMES`.
    label_confidence, name_confidence : float
        0-1.
    lufs : float
        Integrated loudness of the section (ITU-R BS.1770-4), LUFS, floor -70.
    energy : float
        0-1: the mean of the section's RMS level and onset activity, each relative to the
        track's most intense section (1).
    """

    start: float
    end: float
    label: str
    name: str
    label_confidence: float
    name_confidence: float
    lufs: float
    energy: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Structure:
    """The sections of a track and what found them.

    Attributes
    ----------
    sections : list of Section
        Contiguous, from 0 to the end of the track.
    bar_edges : np.ndarray
        The bar grid (s): bar i spans bar_edges[i] to bar_edges[i + 1].
    novelty : np.ndarray
        The combined boundary novelty at each bar edge (0-1), for plots.
    grid : str
        "downbeats", "beats" (every 4th beat) or "seconds" (:data:`FALLBACK_BAR_S`).
    loudness_times, loudness_lufs : np.ndarray
        The short-term loudness curve (:func:`loudness_curve`), for the picture.
    """

    sections: list[Section]
    bar_edges: np.ndarray
    novelty: np.ndarray
    grid: str = "downbeats"
    loudness_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    loudness_lufs: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def form(self) -> str:
        return form_of(self.sections)

    def values(self) -> dict:
        """The `.INFO` keys: `section_count`, `form`, `section_mean_seconds`."""
        return {
            "section_count": len(self.sections),
            "form": self.form,
            "section_mean_seconds": round(
                float(np.mean([s.duration for s in self.sections])) if self.sections else 0.0, 3
            ),
        }


def form_of(sections: Sequence[Section]) -> str:
    """The form as a line: intros and outros by name, the rest by label
    ("intro A B A B C B outro")."""
    return " ".join(s.name if s.name in ("intro", "outro") else s.label for s in sections)


# -- the bar grid ------------------------------------------------------------------------


def bar_grid(
    beats: np.ndarray, downbeats: np.ndarray, *, duration_s: float
) -> tuple[np.ndarray, str]:
    """The bar edges (s) a track's sections snap to, and which grid they come from.

    Downbeats when there are at least two; else every 4th beat; else bars of
    :data:`FALLBACK_BAR_S`. The last bar ends one median bar after the last downbeat (or
    at the end of the track, if sooner).
    """
    downbeats = np.asarray(downbeats, dtype=float)
    beats = np.asarray(beats, dtype=float)
    if downbeats.size >= 2:
        grid, kind = downbeats, "downbeats"
    elif beats.size >= 8:
        grid, kind = beats[::4], "beats"
    else:
        grid = np.arange(0.0, max(duration_s - 0.5 * FALLBACK_BAR_S, 0.0), FALLBACK_BAR_S)
        kind = "seconds"
    grid = np.sort(grid[(grid >= 0) & (grid < duration_s)])
    if grid.size < 2:
        return np.array([0.0, duration_s]), "seconds"
    bar_s = float(np.median(np.diff(grid)))
    end = min(grid[-1] + bar_s, duration_s)
    edges = np.append(grid, end) if end > grid[-1] + 0.25 * bar_s else grid
    return edges, kind


def _frame_bars(n_frames: int, hop_s: float, edges: np.ndarray) -> np.ndarray:
    """The bar of each frame (centred at f * hop_s), -1 outside the grid."""
    t = np.arange(n_frames) * hop_s
    bars = np.searchsorted(edges, t, side="right") - 1
    bars[(bars < 0) | (bars >= edges.size - 1)] = -1
    return bars


def _bar_mean(values: np.ndarray, bars: np.ndarray, n_bars: int) -> np.ndarray:
    """Mean of `values` (frames, dims) over each bar's frames; a bar without frames takes
    its predecessor's (linear in the frames)."""
    keep = bars >= 0
    idx = bars[keep]
    counts = np.bincount(idx, minlength=n_bars).astype(float)
    out = np.zeros((n_bars, values.shape[1]))
    for d in range(values.shape[1]):
        out[:, d] = np.bincount(idx, weights=values[keep, d], minlength=n_bars)
    filled = counts > 0
    out[filled] /= counts[filled, None]
    for i in np.flatnonzero(~filled):
        out[i] = out[i - 1] if i > 0 else 0.0
    return out


# -- bar features ------------------------------------------------------------------------


@dataclass
class BarFeatures:
    """What describes each bar.

    Attributes
    ----------
    harmony : (bars, 12 * HARMONY_BLOCKS)
        The HPCP of each quarter of the bar, in order, each quarter scaled to max 1.
    timbre : (bars, 2 * (N_MFCC - 1))
        MFCC 1..12: mean and standard deviation over the bar.
    level_db : (bars,)
        RMS level of the bar (dBFS, floor -100).
    activity : (bars,)
        Mean onset strength (librosa's spectral flux) over the bar.
    """

    harmony: np.ndarray
    timbre: np.ndarray
    level_db: np.ndarray
    activity: np.ndarray

    @property
    def n_bars(self) -> int:
        return self.level_db.size


def bar_features(audio: Audio, edges: np.ndarray) -> BarFeatures:
    """:class:`BarFeatures` of the bars between `edges` (s), from the intermediates cached
    on `audio` (HPCP, STFT magnitude, onset envelope): a feature asset that ran before
    on the same decoded audio already paid for them."""
    from mir.harmonic import hpcp_of
    from mir.intermediates import HOP, SR, mono44, onset_envelope

    n_bars = edges.size - 1
    # harmony: HPCP frames (hop 2048) of each quarter bar, in order
    hpcp = hpcp_of(audio)
    hpcp_hop_s = 2048 / SR
    sub_edges = np.concatenate(
        [
            edges[:-1, None]
            + (np.diff(edges)[:, None] * np.arange(HARMONY_BLOCKS) / HARMONY_BLOCKS),
        ],
        axis=1,
    ).ravel()
    sub_edges = np.append(sub_edges, edges[-1])
    # HPCP frames start at sample 0 (not centred): a frame's centre is half a frame later
    blocks = _frame_bars(hpcp.shape[0], hpcp_hop_s, sub_edges - 2048 / SR)
    chroma = _bar_mean(hpcp, blocks, n_bars * HARMONY_BLOCKS)
    chroma /= np.maximum(chroma.max(axis=1, keepdims=True), 1e-6)
    harmony = chroma.reshape(n_bars, HARMONY_BLOCKS * 12)

    # timbre: MFCC from the shared STFT, block by block
    mfcc = _mfcc_frames(audio)
    bars = _frame_bars(mfcc.shape[0], HOP / SR, edges)
    mean = _bar_mean(mfcc[:, 1:], bars, n_bars)
    square = _bar_mean(mfcc[:, 1:] ** 2, bars, n_bars)
    spread = np.sqrt(np.maximum(square - mean**2, 0.0))
    timbre = np.concatenate([mean, spread], axis=1)

    env = onset_envelope(audio)
    activity = _bar_mean(env[:, None], _frame_bars(env.size, HOP / SR, edges), n_bars)[:, 0]

    y = mono44(audio)
    lo = np.clip(np.round(edges[:-1] * SR).astype(np.int64), 0, y.size)
    hi = np.clip(np.round(edges[1:] * SR).astype(np.int64), 0, y.size)
    # bar by bar in float64: a running sum over the whole track would allocate two arrays
    # of 8 bytes a sample (2.5 GB at 60 minutes) for 1500 numbers
    energy = np.array([_square_sum(y[a:b]) for a, b in zip(lo, hi, strict=True)])
    power = energy / np.maximum(hi - lo, 1)
    level_db = 10 * np.log10(np.maximum(power, 1e-10))
    return BarFeatures(harmony, timbre, level_db, activity)


def _square_sum(x: np.ndarray) -> float:
    """The sum of the squares of `x`, accumulated in float64."""
    x = x.astype(np.float64)
    return float(np.dot(x, x))


def _mfcc_frames(audio: Audio) -> np.ndarray:
    """MFCC 0..12 of every frame of the shared STFT (hop 512), (frames, 13), cached."""

    def compute() -> np.ndarray:
        import scipy.fft

        from mir.intermediates import STFT_BLOCK_FRAMES, mel_power, stft_magnitude

        mag = stft_magnitude(audio)
        out = np.empty((mag.shape[1], N_MFCC), dtype=np.float32)
        for a in range(0, mag.shape[1], STFT_BLOCK_FRAMES):
            mel = mel_power(mag[:, a : a + STFT_BLOCK_FRAMES])
            # librosa's power_to_db with a fixed reference: blocks agree with each other
            db = 10.0 * np.log10(np.maximum(mel, 1e-10))
            out[a : a + mel.shape[1]] = scipy.fft.dct(db, axis=0, type=2, norm="ortho")[:N_MFCC].T
        return out

    return audio.cached("mfcc_frames", compute)


# -- similarity and novelty --------------------------------------------------------------


def _zscore(x: np.ndarray) -> np.ndarray:
    std = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(std > 1e-9, std, 1.0)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def bar_similarities(features: BarFeatures) -> tuple[np.ndarray, np.ndarray]:
    """The harmony and the timbre self-similarity of the bars, each (bars, bars) in 0..1.

    Harmony: the cosine of the bars' ordered quarter-bar chroma, each quarter centred on
    its mean (two bars of the same chords in the same order: near 1). Timbre: a Gaussian
    of the distance between the bars' standardised MFCC statistics, level and onset
    activity, its width the median distance (the same sound: near 1)."""
    h = features.harmony.reshape(features.n_bars, HARMONY_BLOCKS, 12)
    h = _unit_rows((h - h.mean(axis=2, keepdims=True)).reshape(features.n_bars, -1))
    harmony = _gaussian_similarity(h)
    t = np.concatenate(
        [
            _zscore(features.timbre) / np.sqrt(features.timbre.shape[1]),
            # level and activity weigh as much as the whole MFCC block
            _zscore(features.level_db[:, None]),
            _zscore(np.log1p(features.activity[:, None])),
        ],
        axis=1,
    )
    return harmony, _gaussian_similarity(t)


def phrase_harmony_similarity(features: BarFeatures, *, phrase_bars: int = 4) -> np.ndarray:
    """The harmony self-similarity of phrases: each bar's chroma averaged over the
    `phrase_bars` bars around it (from one bar before), so that a section cycling
    through a progression is homogeneous, and two sections of different progressions
    differ. Gaussian of the distance as in :func:`bar_similarities`; (bars, bars)."""
    chroma = features.harmony.reshape(features.n_bars, HARMONY_BLOCKS, 12).mean(axis=1)
    n = chroma.shape[0]
    csum = np.vstack([np.zeros((1, 12)), np.cumsum(chroma, axis=0)])
    # bars i-1 .. i+phrase_bars-2, the window kept whole at either end of the track
    hi = np.clip(np.arange(n) - 1 + phrase_bars, min(phrase_bars, n), n)
    lo = np.maximum(hi - phrase_bars, 0)
    phrase = (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)[:, None]
    phrase = _unit_rows(phrase - phrase.mean(axis=1, keepdims=True))
    return _gaussian_similarity(phrase)


def _gaussian_similarity(x: np.ndarray) -> np.ndarray:
    """exp(-d^2 / median d^2) of the rows' Euclidean distances d: the same material near
    1, a typical pair of bars of the track at 1/e."""
    sq = np.sum(x**2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0)
    scale = float(np.median(d2[np.triu_indices_from(d2, k=1)])) if d2.shape[0] > 1 else 1.0
    return np.exp(-d2 / max(scale, 1e-9))


def checkerboard_novelty(similarity: np.ndarray, half_width: int) -> np.ndarray:
    """Foote's novelty at each bar edge: the mean similarity within the `half_width` bars
    before and within the `half_width` bars after, minus twice their mean
    cross-similarity (a box checkerboard kernel; near the ends of the track the kernel
    is cut to the bars that exist). Returns (bars + 1,), 0 at both ends.

    Block sums come from the summed-area table of `similarity`, so the cost is one pass
    over the matrix whatever the width."""
    n = similarity.shape[0]
    table = np.zeros((n + 1, n + 1))
    table[1:, 1:] = similarity.cumsum(axis=0).cumsum(axis=1)

    def block(r0, r1, c0, c1):
        return table[r1, c1] - table[r0, c1] - table[r1, c0] + table[r0, c0]

    b = np.arange(1, n)
    lo = np.maximum(b - half_width, 0)
    hi = np.minimum(b + half_width, n)
    before, after = b - lo, hi - b
    within_before = block(lo, b, lo, b) / (before * before)
    within_after = block(b, hi, b, hi) / (after * after)
    across = block(lo, b, b, hi) / (before * after)
    out = np.zeros(n + 1)
    out[1:n] = np.maximum(within_before + within_after - 2.0 * across, 0.0)
    return out


def _normalised(curve: np.ndarray) -> np.ndarray:
    top = np.percentile(curve[curve > 0], 95) if np.any(curve > 0) else 0.0
    return np.clip(curve / top, 0.0, 1.5) if top > 0 else curve


# -- boundaries and labels ---------------------------------------------------------------


def segment_bars(
    similarities: Sequence[np.ndarray],
    *,
    penalty: float,
    phrase_bars: int,
    phrase_penalty: float,
    min_bars: int,
    min_edge_bars: int,
) -> list[int]:
    """The bar edges where sections start: the segmentation of the bars into runs that
    are each as homogeneous as possible, found by dynamic programming over every
    segmentation (kernel change-point detection, Arlot, Celisse & Harchaoui 2019).

    A section [a, b) costs its scatter in each similarity S (which is 1 on the
    diagonal): (b - a) - sum(S[a:b, a:b]) / (b - a), the kernel form of a cluster's
    sum of squares; what Foote's checkerboard kernel measures locally (within minus
    across), here summed over whole sections. Each section adds `penalty`, and
    `phrase_penalty` unless it lasts a whole number of `phrase_bars` (songs are built
    of 4-bar phrases; the first and last sections are exempt: intros and outros run
    any length). Sections are at least `min_bars` long (`min_edge_bars` at either end).

    Block sums come from summed-area tables, so the search costs O(bars^2) additions
    and the memory O(bars^2) (an hour of music: 1800 bars, 26 MB per table).

    Returns
    -------
    list of int
        Sorted edge indices in 1..bars-1.
    """
    n = similarities[0].shape[0]
    tables = []
    for matrix in similarities:
        table = np.zeros((n + 1, n + 1))
        table[1:, 1:] = matrix.cumsum(axis=0).cumsum(axis=1)
        tables.append(table)
    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    previous = np.zeros(n + 1, dtype=np.int64)
    for b in range(1, n + 1):
        a = np.arange(b)
        length = b - a
        allowed = (length >= min_bars) | (((a == 0) | (b == n)) & (length >= min_edge_bars))
        allowed |= (a == 0) & (b == n)  # a track shorter than any section: one section
        cost = best[a] + penalty
        for table in tables:
            inside = table[b, b] - table[a, b] - table[b, a] + table[a, a]
            cost = cost + length - inside / length
        inner = (a > 0) & (b < n) & (length % phrase_bars != 0)
        cost = cost + np.where(inner, phrase_penalty, 0.0)
        cost[~allowed] = np.inf
        j = int(np.argmin(cost))
        best[b], previous[b] = cost[j], j
    bounds = []
    b = n
    while b > 0:
        b = int(previous[b])
        if b > 0:
            bounds.append(b)
    return sorted(bounds)


def _diagonal_sums(similarity: np.ndarray) -> np.ndarray:
    """C[i, j] = sum of similarity[i - t, j - t] for t = 1..min(i, j): any stretch of a
    diagonal sums in O(1)."""
    n = similarity.shape[0]
    table = np.zeros((n + 1, n + 1))
    for d in range(-(n - 1), n):  # one cumulative sum per diagonal
        diag = np.diagonal(similarity, offset=d)
        i0, j0 = (0, d) if d >= 0 else (-d, 0)
        rows = np.arange(diag.size) + i0 + 1
        table[rows, rows - i0 + j0] = np.cumsum(diag)
    return table


def section_similarity(
    similarity: np.ndarray, spans: Sequence[tuple[int, int]], *, slack: int = 2
) -> np.ndarray:
    """How alike two sections are (0-1): the mean bar similarity along the best
    alignment of the shorter section within the longer one (bar steps, up to `slack`
    bars past either end), so a repeated chorus matches itself bar by bar, and an
    8-bar verse matches half of a 16-bar one. (sections, sections), 1 on the diagonal."""
    table = _diagonal_sums(similarity)
    m = len(spans)
    out = np.eye(m)
    for p in range(m):
        for q in range(p + 1, m):
            (a0, a1), (b0, b1) = spans[p], spans[q]
            if a1 - a0 > b1 - b0:
                (a0, a1), (b0, b1) = (b0, b1), (a0, a1)
            short, long_ = a1 - a0, b1 - b0
            offsets = np.arange(-min(slack, short - 1), long_ - short + min(slack, short - 1) + 1)
            k0 = np.maximum(0, -offsets)  # the first bar of the short section compared
            k1 = np.minimum(short, long_ - offsets)
            length = k1 - k0
            sums = (
                table[a0 + k1, b0 + offsets + k1] - table[a0 + k0, b0 + offsets + k0]
            ) / np.maximum(length, 1)
            # a partial overlap counts for its share of the short section
            out[p, q] = out[q, p] = float(np.max(sums * length / short))
    return out


def cluster_sections(similarity: np.ndarray, threshold: float) -> tuple[list[int], list[float]]:
    """Labels of the sections (0, 1, ... in order of appearance) by average-linkage
    clustering of `similarity` cut at `threshold`, and each label's confidence (0-1):
    how much closer the section is to its own label's other sections than to the
    nearest other label's (for a section alone in its label: how far its most similar
    section stays below the threshold)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    m = similarity.shape[0]
    if m == 1:
        return [0], [1.0]
    distance = np.clip(1.0 - similarity, 0.0, None)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    raw = fcluster(tree, t=1.0 - threshold, criterion="distance")
    order: dict[int, int] = {}
    labels = [order.setdefault(int(c), len(order)) for c in raw]
    confidences = []
    for i in range(m):
        own = [j for j in range(m) if j != i and labels[j] == labels[i]]
        others = {labels[j] for j in range(m) if labels[j] != labels[i]}
        within = float(np.mean(similarity[i, own])) if own else threshold
        nearest = max(
            (
                float(np.mean([similarity[i, j] for j in range(m) if labels[j] == c]))
                for c in others
            ),
            default=0.0,
        )
        confidences.append(float(np.clip(0.5 + 2.5 * (within - nearest), 0.0, 1.0)))
    return labels, confidences


# -- functional names ----------------------------------------------------------------------


def name_sections(
    labels: Sequence[int], energy: Sequence[float], bars: Sequence[int]
) -> tuple[list[str], list[float]]:
    """Functional names (:data:`NAMES`) of the sections, with a confidence each (0-1),
    from their labels (repetition), energies (0-1, the track's most intense section 1)
    and lengths in bars.

    The rules, in order:

    - chorus: of the labels that repeat, the one with the most energy (repeating more
      often and later in the song count in its favour); its confidence is its lead over
      the runner-up;
    - verse: the other repeating label heard most (the more energetic of equals), and any
      further repeating label, unless it has less than half the chorus's energy;
    - intro / outro: the first / last section when its material is not the verse's or
      the chorus's (or it is a quiet, short opening or ending);
    - break: a section inside the song at less than half the chorus's energy and less
      than 80 % of the verse's;
    - bridge: a section inside the song heard once, after the first chorus.

    What is left takes the name of its nearest rule (a section heard once before any
    chorus is a verse), with a low confidence.
    """
    m = len(labels)
    energy = np.asarray(energy, dtype=float)
    bars = np.asarray(bars, dtype=float)
    if m == 1:
        return ["verse"], [0.0]
    counts: dict[int, int] = {}
    for lab in labels:
        counts[lab] = counts.get(lab, 0) + 1
    positions = np.arange(m) / max(m - 1, 1)

    def members(lab: int) -> np.ndarray:
        return np.array([i for i in range(m) if labels[i] == lab])

    repeated = [lab for lab, c in counts.items() if c >= 2]
    # material heard only at the very start and end is an intro/outro, not a refrain
    inner_repeated = [lab for lab in repeated if set(members(lab)) - {0, m - 1}]
    score = {
        lab: float(np.mean(energy[members(lab)]))
        + 0.05 * min(counts[lab] - 2, 3)
        + 0.05 * float(np.mean(positions[members(lab)]))
        for lab in inner_repeated
    }
    ranked = sorted(score, key=lambda lab: -score[lab])
    chorus = ranked[0] if ranked else None
    chorus_energy = float(np.mean(energy[members(chorus)])) if chorus is not None else 1.0
    names: list[str | None] = [None] * m
    conf = [0.0] * m
    if chorus is not None:
        lead = score[chorus] - (score[ranked[1]] if len(ranked) > 1 else score[chorus] - 0.3)
        for i in members(chorus):
            names[i], conf[i] = "chorus", float(np.clip(0.5 + 2.0 * lead, 0.0, 1.0))
    # a verse carries the song: quiet repeated material (an intro heard again as a
    # break) is left to the intro, outro and break rules
    others = sorted(
        (lab for lab in ranked[1:] if np.mean(energy[members(lab)]) >= 0.5 * chorus_energy),
        key=lambda lab: (-counts[lab], -float(np.mean(energy[members(lab)]))),
    )
    for rank, lab in enumerate(others):
        for i in members(lab):
            names[i] = "verse"
            conf[i] = 0.8 if rank == 0 else 0.4
    first_chorus = min(members(chorus)) if chorus is not None else m
    median_bars = float(np.median(bars))
    for edge, name in ((0, "intro"), (m - 1, "outro")):
        quiet = energy[edge] < 0.8 * chorus_energy
        short = bars[edge] <= 0.75 * median_bars
        if names[edge] is None:
            names[edge] = name
            conf[edge] = float(np.clip(0.5 + 0.25 * quiet + 0.25 * short, 0.0, 1.0))
        elif quiet and short and names[edge] != "chorus":
            names[edge], conf[edge] = name, 0.5
    verse_labels = [lab for lab in others[:1]]
    verse_energy = (
        float(np.mean(energy[members(verse_labels[0])])) if verse_labels else chorus_energy
    )
    low = min(0.5 * chorus_energy, 0.8 * verse_energy)
    for i in range(1, m - 1):
        if names[i] in (None, "verse") and energy[i] < low:
            names[i] = "break"
            conf[i] = float(np.clip(0.5 + (low - energy[i]) / max(low, 1e-9), 0.0, 1.0))
    for i in range(1, m - 1):
        if names[i] is None:
            if i > first_chorus:
                names[i] = "bridge"
                conf[i] = 0.7 if counts[labels[i]] == 1 else 0.4
            else:
                names[i], conf[i] = "verse", 0.3
    return [str(n) for n in names], [round(float(c), 3) for c in conf]


def letters(labels: Sequence[int], names: Sequence[str]) -> list[str]:
    """Repetition labels as letters: "A", "B", ... in order of first appearance outside
    intros and outros, then the material heard only there ("Z" is followed by "AA")."""
    order: dict[int, int] = {}
    for lab, name in zip(labels, names, strict=True):
        if name not in ("intro", "outro"):
            order.setdefault(lab, len(order))
    for lab in labels:
        order.setdefault(lab, len(order))

    def letter(k: int) -> str:
        text = ""
        k += 1
        while k:
            k, r = divmod(k - 1, 26)
            text = chr(ord("A") + r) + text
        return text

    return [letter(order[lab]) for lab in labels]


# -- the analysis ------------------------------------------------------------------------


def analyze_structure(
    audio: Audio,
    beats: np.ndarray,
    downbeats: np.ndarray,
    config: StructureConfig | None = None,
) -> Structure:
    """The sections of a track.

    Parameters
    ----------
    audio : Audio
        The decoded track (its cached HPCP, STFT and onset envelope are reused).
    beats, downbeats : np.ndarray
        The beat grid (s): boundaries snap to its downbeats (every 4th beat without
        them; a 2 s grid without beats).
    config : StructureConfig, optional

    Returns
    -------
    Structure
        Sections from 0 to the end of the track, with labels, names, confidences,
        loudness and energy.
    """
    config = config or StructureConfig()
    duration = audio.duration_s
    edges, grid = bar_grid(beats, downbeats, duration_s=duration)
    n = edges.size - 1
    features = bar_features(audio, edges)
    if n < 2 * config.min_section_bars:
        bounds: list[int] = []
        novelty = np.zeros(n + 1)
        labels, label_conf = [0], [1.0]
    else:
        harmony, timbre = bar_similarities(features)
        combined = harmony * timbre
        novelty = np.mean(
            [_normalised(checkerboard_novelty(m, config.kernel_bars)) for m in (harmony, timbre)],
            axis=0,
        )
        bounds = segment_bars(
            [phrase_harmony_similarity(features, phrase_bars=config.phrase_bars), timbre],
            penalty=config.penalty,
            phrase_bars=config.phrase_bars,
            phrase_penalty=config.phrase_penalty,
            min_bars=config.min_section_bars,
            min_edge_bars=config.min_edge_bars,
        )
        spans = list(zip([0, *bounds], [*bounds, n], strict=True))
        labels, label_conf = cluster_sections(
            section_similarity(combined, spans), config.label_threshold
        )
    starts = [0, *bounds]
    ends = [*bounds, n]
    times = [0.0, *(float(edges[b]) for b in bounds), duration]
    energy = section_energy(features, list(zip(starts, ends, strict=True)))
    curve_times, curve_lufs, integrated = loudness_curve(audio)
    names, name_conf = name_sections(
        labels, energy, [e - s for s, e in zip(starts, ends, strict=True)]
    )
    marks = letters(labels, names)
    sections = []
    for i in range(len(starts)):
        t0, t1 = times[i], times[i + 1]
        sections.append(
            Section(
                start=round(t0, 6),
                end=round(t1, 6),
                label=marks[i],
                name=names[i],
                label_confidence=round(float(label_conf[i]), 3),
                name_confidence=round(float(name_conf[i]), 3),
                lufs=integrated(t0, t1),
                energy=round(float(energy[i]), 3),
            )
        )
    return Structure(sections, edges, novelty, grid, curve_times, curve_lufs)


def section_energy(features: BarFeatures, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Each section's energy (0-1): the mean of its RMS level (power) and its onset
    activity, each relative to the track's highest section."""
    # below -90 dBFS a bar is digital silence: no energy, not the floor's tiny share
    power = np.where(features.level_db > -90.0, 10 ** (features.level_db / 10), 0.0)
    level = np.array([np.sqrt(np.mean(power[a:b])) for a, b in spans])
    activity = np.array([np.mean(features.activity[a:b]) for a, b in spans])
    parts = [v / v.max() if v.max() > 0 else np.zeros_like(v) for v in (level, activity)]
    return np.clip(0.5 * (parts[0] + parts[1]), 0.0, 1.0)


def loudness_curve(audio: Audio, *, hop_s: float = 0.5, window_s: float = 3.0):
    """Short-term loudness (EBU Tech 3341: K-weighted, `window_s` windows, ungated) every
    `hop_s` seconds, and the K-weighted cumulative power it came from, for the sections'
    integrated loudness. One filtering pass over the track, in blocks.

    Returns
    -------
    times : np.ndarray
        Window centres (s).
    lufs : np.ndarray
        Short-term loudness (LUFS, floor -70) at `times`.
    power_at : callable
        `power_at(t0, t1)`: the gated integrated loudness (LUFS) between two times.
    """
    from mir.loudness import (
        LOUDNESS_FLOOR_LUFS,
        _cumulative_power_at,
        _gated_loudness,
        _to_lufs,
        _weighted_power,
    )

    sr, n = audio.sr, audio.n_samples
    step = 0.1  # the BS.1770 block hop: integrated loudness reads 400 ms blocks from it
    grid = np.minimum(np.round(np.arange(0.0, n / sr + step, step) * sr).astype(np.int64), n)
    grid = np.unique(grid)
    csum = _cumulative_power_at(audio.samples, sr=sr, at=grid)

    def power(lo: np.ndarray, hi: np.ndarray, seconds: float) -> np.ndarray:
        return _weighted_power(csum[hi] - csum[lo], sr=sr, block_s=seconds)

    per = int(round(window_s / step))
    hop = max(int(round(hop_s / step)), 1)
    lo = np.arange(0, max(grid.size - per, 1), hop)
    hi = np.minimum(lo + per, grid.size - 1)
    with np.errstate(divide="ignore"):
        short = np.maximum(_to_lufs(power(lo, hi, window_s)), LOUDNESS_FLOOR_LUFS)
    times = (grid[lo] + grid[hi]) / 2 / sr

    def integrated(t0: float, t1: float) -> float:
        a = int(np.searchsorted(grid, round(t0 * sr)))
        b = int(np.searchsorted(grid, round(t1 * sr), side="right")) - 1
        starts = np.arange(a, b - 3)  # 400 ms blocks that fit in the span
        if starts.size == 0:
            return LOUDNESS_FLOOR_LUFS
        return round(float(_gated_loudness(power(starts, starts + 4, 0.4))), 2)

    return times, short, integrated


# -- the .SECTIONS file ------------------------------------------------------------------

#: the columns of a `.SECTIONS` line, tab-separated
SECTIONS_COLUMNS = (
    "start", "end", "label", "name", "label_confidence", "name_confidence", "lufs", "energy",
)  # fmt: skip


def write_sections(path: str | os.PathLike, sections: Sequence[Section]) -> Path:
    """Write a `.SECTIONS` file atomically: one section per line, tab-separated
    :data:`SECTIONS_COLUMNS` (times in seconds with six decimals)."""
    from mir.info import _atomic_write_text

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(
        f"{s.start:.6f}\t{s.end:.6f}\t{s.label}\t{s.name}\t{s.label_confidence:.3f}\t"
        f"{s.name_confidence:.3f}\t{s.lufs:.2f}\t{s.energy:.3f}\n"
        for s in sections
    )
    _atomic_write_text(path, lines)
    return path


def read_sections(path: str | os.PathLike, *, written_by: str | None = None) -> list[Section]:
    """Read a `.SECTIONS` file (at least `start end label name` per line; the
    confidences, loudness and energy when present, else 0 / -70).

    Raises
    ------
    MissingInput
        If the file does not exist and `written_by` names the asset that writes it;
        without `written_by`, a missing file reads as no sections.
    ValueError
        A line with fewer than four fields, or one whose name is not in :data:`NAMES`.
    """
    from mir.info import read_sidecar_text

    path = Path(path)
    text = read_sidecar_text(path, written_by=written_by)
    if text is None:
        return []
    sections = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) < 4 or fields[3] not in NAMES:
            raise ValueError(
                f"{path}, line {number}: expected 'start end label name ...' with a name of "
                f"{NAMES}, got {line!r}"
            )
        extra = [float(v) for v in fields[4:8]] + [0.0, 0.0, -70.0, 0.0][len(fields) - 4 :]
        sections.append(
            Section(float(fields[0]), float(fields[1]), fields[2], fields[3], *extra[:4])
        )
    return sections


# -- sections for the series, the windows and the crops ------------------------------------


def section_series(
    sections: Sequence[Section], *, frame_rate: float, n_frames: int, offset_s: float = 0.0
) -> dict[str, np.ndarray]:
    """Per-frame section series, for the whole-track series (or a crop's, from its start).

    Frame k covers [offset_s + k / frame_rate, offset_s + (k + 1) / frame_rate) in the
    track and takes the section at its middle.

    Returns
    -------
    dict
        `section_idx_ts`: the section's index (0, 1, ...; float32, as every series);
        `section_position_ts`: where the frame lies within its section, 0 at its start
        to 1 at its end. Frames past the last section hold its index and 1. Indices are
        the track's, also in a crop's series (its place in the form).
    """
    if not sections:
        raise ValueError("no sections: the structure asset has not run for this track")
    t = offset_s + (np.arange(n_frames) + 0.5) / frame_rate
    starts = np.array([s.start for s in sections])
    ends = np.array([s.end for s in sections])
    idx = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(sections) - 1)
    span = np.maximum(ends[idx] - starts[idx], 1e-9)
    position = np.clip((t - starts[idx]) / span, 0.0, 1.0)
    return {
        "section_idx_ts": idx.astype(np.float32),
        "section_position_ts": position.astype(np.float32),
    }


def section_boundaries(sections: Sequence[Section]) -> np.ndarray:
    """The times (s) where sections start, 0 first: where a window or crop may start so
    that it begins with a section (all but 0 are downbeats)."""
    return np.array([s.start for s in sections], dtype=float)


def section_of_span(sections: Sequence[Section], start_s: float, end_s: float) -> int:
    """The index of the section that holds most of [start_s, end_s) (the earlier of two
    equal shares)."""
    if not sections:
        raise ValueError("no sections")
    overlap = [max(0.0, min(end_s, s.end) - max(start_s, s.start)) for s in sections]
    if max(overlap) <= 0:  # a span outside the track: the nearest section
        return 0 if end_s <= sections[0].start else len(sections) - 1
    return int(np.argmax(overlap))


def section_windows(
    sections: Sequence[Section],
    *,
    length_s: float,
    hop_s: float,
    starts: np.ndarray | None = None,
    min_s: float | None = None,
) -> list[tuple[float, float, int]]:
    """Windows that start where a section starts and never straddle a boundary.

    In each section, the first window starts at the section's start; each next one
    `hop_s` later, moved to the first of `starts` (say, the downbeats) at or after that
    time when given. A window that would cross the section's end is cut there, and kept
    when it lasts at least `min_s` (default `length_s`: whole windows only).

    Returns
    -------
    list of (start s, end s, section index)
    """
    if length_s <= 0 or hop_s <= 0:
        raise ValueError("length_s and hop_s must be positive")
    min_s = length_s if min_s is None else min_s
    grid = None if starts is None else np.sort(np.asarray(starts, dtype=float))
    out = []
    for i, section in enumerate(sections):
        t = section.start
        while t < section.end:
            end = min(t + length_s, section.end)
            if end - t >= min_s - 1e-9:
                out.append((t, end, i))
            if end >= section.end:
                break
            t = t + hop_s
            if grid is not None:
                k = int(np.searchsorted(grid, t - 1e-6))
                if k >= grid.size:
                    break
                t = float(grid[k])
    return out


def span_values(sections: Sequence[Section], start_s: float, end_s: float) -> dict:
    """What a crop or window of [start_s, end_s) carries about its section: its
    `section_index` (0-based), `section_label`, `section_name`, `section_occurrence` (1
    for the first section of that name, 2 for the second ...), `section_name_confidence`,
    `section_energy`, `section_start_time` and `section_end_time` (s), and
    `section_position` (0-1: where the span starts within the section)."""
    i = section_of_span(sections, start_s, end_s)
    s = sections[i]
    return {
        "section_index": i,
        "section_label": s.label,
        "section_name": s.name,
        "section_occurrence": sum(1 for other in sections[: i + 1] if other.name == s.name),
        "section_name_confidence": s.name_confidence,
        "section_energy": s.energy,
        "section_start_time": round(s.start, 6),
        "section_end_time": round(s.end, 6),
        "section_position": round(
            float(np.clip((start_s - s.start) / max(s.duration, 1e-9), 0.0, 1.0)), 4
        ),
    }


# -- the picture -------------------------------------------------------------------------

_COLOURS = {
    "intro": "#8ecae6",
    "verse": "#90be6d",
    "chorus": "#f9844a",
    "bridge": "#b5838d",
    "break": "#cdb4db",
    "outro": "#8ecae6",
}


def sections_png(structure: Structure, *, title: str = "") -> bytes:
    """A PNG of the sections (coloured by name, marked with label and name) over the
    short-term loudness curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 2.6))
    low = float(np.min(structure.loudness_lufs)) if structure.loudness_lufs.size else -40.0
    high = float(np.max(structure.loudness_lufs)) if structure.loudness_lufs.size else 0.0
    low, high = max(low, -70.0) - 2.0, high + 4.0
    for s in structure.sections:
        ax.axvspan(s.start, s.end, color=_COLOURS.get(s.name, "#dddddd"), alpha=0.55, lw=0)
        ax.axvline(s.start, color="#333333", lw=0.6)
        ax.text(
            (s.start + s.end) / 2, high - 0.5, f"{s.label}\n{s.name}", ha="center", va="top",
            fontsize=7,
        )  # fmt: skip
    ax.plot(structure.loudness_times, structure.loudness_lufs, color="#1d3557", lw=1.0)
    ax.set_ylim(low, high)
    ax.set_xlim(0, structure.sections[-1].end if structure.sections else 1.0)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("short-term LUFS")
    ax.set_title(title or structure.form, fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
