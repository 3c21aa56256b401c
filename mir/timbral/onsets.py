"""Onsets of the timbral models (`timbral_util.calculate_onsets` and `return_loop` of
timbral_models 0.4.0): librosa's onsets walked back to the start of their attack on the
sample-and-hold envelope and pruned, in time linear in the signal (the package's
pruning is quadratic in the onsets and its walks can cross the same passage again).
"""

from __future__ import annotations

import numpy as np


def _walk_back(
    env: np.ndarray,
    onset: int,
    look_back: int,
    hyst_samples: int,
    hyst_thr: float,
    nperseg: int,
    memo: dict[int, int],
) -> int:
    """`return_loop`: from a detected onset, walk back along the envelope to where the
    attack starts (through dips within 20 ms, and through rises smaller than the
    hysteresis threshold within 300 ms); 0 if that comes within `nperseg` of the start.

    The walk depends only on where it is, so every position it passes is remembered with
    its end: a later onset whose walk reaches one stops there. Each position is walked
    from at most once over all onsets, which bounds the work by the signal's length
    (the package's walks can each cross the same long quiet passage again)."""
    path = []
    loc = onset
    result = None
    while result is None:
        if loc in memo:
            result = memo[loc]
            break
        path.append(loc)
        current = env[loc]
        lo = loc - look_back - 1
        window = env[lo:loc] if loc - look_back > 0 else env[: loc - 1]
        if window.size and window.min() <= current:
            new = int(np.argmin(window)) + lo
            if new > nperseg:
                loc = new
            else:
                result = 0
            continue
        lo = loc - hyst_samples - 1
        hyst = env[lo:loc] if lo > 0 else env[:loc]
        lower = np.flatnonzero(hyst < env[loc])
        if lower.size == 0:
            result = loc
            break
        last = int(lower[-1])
        rest = hyst[last:]
        if float(rest.max()) - float(rest.min()) >= hyst_thr:
            result = loc
        elif loc - hyst.size + last >= nperseg:
            loc = loc - hyst.size + last
        else:
            result = 0
    for p in path:
        memo[p] = result
    return result


class _Range:
    """Max, first argmax and the minimum before it of a growing range env[lo:hi]."""

    __slots__ = ("lo", "hi", "top", "at", "before")

    def __init__(self, lo: int, hi: int):
        self.lo, self.hi, self.top, self.at, self.before = lo, hi, -np.inf, hi, np.inf

    def extend_left(self, env: np.ndarray, lo: int) -> None:
        piece = env[lo : self.lo]
        if piece.size:
            at = int(np.argmax(piece))
            top = float(piece[at])
            if top >= self.top:  # the first maximum is in the new piece
                self.top, self.at = top, lo + at
                self.before = float(piece[:at].min()) if at else np.inf
            else:
                self.before = min(float(piece.min()), self.before)
        self.lo = lo


def calculate_onsets(
    strength: np.ndarray, env: np.ndarray, sr: int, *, nperseg: int = 512
) -> list[int]:
    """`calculate_onsets`: librosa's onsets (backtracked, in samples), each walked back to
    the start of its attack on the envelope, then pruned: duplicates; onsets whose
    segment (to the next kept onset) rises by less than 10 % of the envelope's range;
    onsets within 100 ms of the previous one; onsets whose segment's onset strength
    stays below 3. [0] if none remain.

    The package prunes with deletions inside loops over the onsets and re-reads each
    segment up to the next kept onset, quadratic in the onsets; here the kept onsets are
    found in one backward pass that grows each segment from the previous one."""
    import librosa

    detected = librosa.onset.onset_detect(
        onset_envelope=strength, sr=sr, hop_length=512, backtrack=True, units="samples"
    )
    if not np.size(detected):
        return [0]
    look_back = int(20 * 0.001 * sr)
    hyst_samples = int(300 * sr * 0.001)
    dyn_range = float(env.max()) - float(env.min())
    hyst_thr = dyn_range * 10 * 0.01
    memo: dict[int, int] = {}
    walked: list[int] = []
    for onset in detected:
        if onset > 0:
            if not walked or onset + 511 < env.size:
                walked.append(
                    _walk_back(env, int(onset), look_back, hyst_samples, hyst_thr, nperseg, memo)
                )
        else:
            walked.append(0)
    onsets = np.array(walked, dtype=np.int64)
    zeros = np.flatnonzero(onsets == 0)
    if zeros.size and zeros[0] == 0:
        zeros = zeros[1:]
    onsets = np.delete(onsets, zeros)
    _, first = np.unique(onsets, return_index=True)
    onsets = onsets[np.sort(first)]

    if onsets.size > 1:  # the rise of each segment against 10 % of the range
        threshold = 10 * dyn_range * 0.01
        keep = np.ones(onsets.size, dtype=bool)
        seg = _Range(env.size, env.size)
        for i in range(onsets.size - 1, -1, -1):
            o = int(onsets[i])
            if o <= seg.lo:
                seg.extend_left(env, o)
                top, at, before = seg.top, seg.at, seg.before
            elif o < seg.hi:  # an onset out of order: its segment read anew
                part = env[o : seg.hi]
                at = o + int(np.argmax(part))
                top, before = float(part.max()), float(part[: at - o].min()) if at > o else 0
            else:
                top, at = 0.0, o
            length = seg.hi - o
            if length > 1 and at > o and top - before >= threshold:
                seg = _Range(o, o)
            else:
                keep[i] = False
        onsets = onsets[keep]

    if onsets.size > 1:  # onsets within 100 ms of the previous one go
        separation = sr * 0.001 * 100
        while onsets.size > 1 and np.diff(onsets).min() < separation:
            close = np.abs(np.diff(onsets)) < separation
            if not close.any():  # out of order by more than 100 ms: the package loops forever
                break
            onsets = onsets[np.r_[True, ~close]]

    frames = (onsets / 512).astype(np.int64)  # the onset strength must reach 3
    keep = np.zeros(onsets.size, dtype=bool)
    end, top, lo = strength.size, -np.inf, strength.size
    for i in range(onsets.size - 1, -1, -1):
        f = int(frames[i])
        if f <= lo:
            if lo > f:
                top = max(top, float(strength[f:lo].max()))
            lo = f
            seg_top = top
        else:
            seg_top = float(strength[f:end].max()) if f < end else -np.inf
        if seg_top >= 3:
            keep[i] = True
            end, top, lo = f, -np.inf, f
    kept = sorted(int(o) for o in onsets[keep])
    return kept or [0]


def onset_list(strength: np.ndarray, env: np.ndarray, sr: int) -> list[int]:
    """Warmth's and hardness's onsets: `calculate_onsets` with nperseg 4096, and [0] (the
    whole signal) instead of a single onset."""
    onsets = calculate_onsets(strength, env, sr, nperseg=4096)
    return [0] if len(onsets) <= 1 else onsets
