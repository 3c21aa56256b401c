"""The sample-and-hold envelope (`timbral_util.sample_and_hold_envelope_calculation` of
timbral_models 0.4.0), a per-sample recursion there, computed exactly from running maxima
and a pointer-doubled chain of hold points.
"""

from __future__ import annotations

import numpy as np


def _first_at_least(
    table: list[np.ndarray], start: np.ndarray, threshold: np.ndarray
) -> np.ndarray:
    """For each query, the first index i >= start with values[i] >= threshold (len if
    none), by binary lifting over a sparse table of maxima (table[l][i] = max of
    values[i : i + 2**l])."""
    size = table[0].size
    idx = start.copy()
    for level in range(len(table) - 1, -1, -1):
        step = 1 << level
        ok = idx + step <= size
        cand = idx[ok]
        skip = table[level][np.minimum(cand, size - step)] < threshold[ok]
        idx[np.flatnonzero(ok)[skip]] += step
    found = idx < size
    found[found] = table[0][idx[found]] >= threshold[found]
    return np.where(found, idx, size)


def _max_table(values: np.ndarray) -> list[np.ndarray]:
    table = [values]
    step = 1
    while 2 * step <= values.size:
        prev = table[-1]
        table.append(np.maximum(prev[: prev.size - step], prev[step:]))
        step *= 2
    return table


class HoldEnvelope:
    """`sample_and_hold_envelope_calculation` of a signal pushed block by block, into a
    float32 array (with `front` leading zeros: the envelope of a zero-padded signal).

    The package's recursion, per sample: a sample at or above the previous envelope value
    starts a new hold (the envelope takes its value and keeps it `hold_time` seconds);
    after the hold the envelope falls by `peak / (decay_time * sr)` per sample, or follows
    the signal if that is higher (without a new hold). So the envelope is the maximum of
    the lines each sample starts - flat then falling for the "hold" samples, falling for
    the others - and the hold samples are a chain: after one at m, the next is the first
    sample that reaches m's line. Here: the no-hold lines by one running maximum, the
    samples that can reach them as candidates, the chain's next link for every candidate
    by binary search over sparse tables of maxima, the chain itself by pointer doubling.
    Exact, O(n log n) in the candidates; the state (last value, hold counter) carries
    the recursion from block to block."""

    def __init__(self, n: int, sr: int, *, peak: float, decay_time: float, front: int = 0):
        self.decay = peak / (decay_time * sr)
        self.hold = int(np.ceil(0.01 * sr))  # the package counts `counter < hold_time * sr`
        self.buffer = np.zeros(front + n, dtype=np.float32)
        self.values = self.buffer[front:]
        self.at = 0
        self.last, self.counter = 0.0, 0

    def push(self, y: np.ndarray) -> None:
        env, self.last, self.counter = self._block(np.abs(y), self.last, self.counter)
        self.values[self.at : self.at + y.size] = env
        self.at += y.size

    def _block(self, a: np.ndarray, p: float, c: int) -> tuple[np.ndarray, float, int]:
        size, d, hold = a.size, self.decay, self.hold
        dj = d * np.arange(size, dtype=np.float64)
        hold_left = max(hold - c, 0)  # samples the carried-in value is still held
        # the envelope without new holds, max over m <= j of a[m] - d (j - m) and the
        # carried-in line (p for hold_left samples, then falling): a running maximum of
        # a[m] + d m, the carried-in line entering as p + d min(j, hold_left - 1)
        rise = a + dj
        if hold_left:
            np.maximum(rise[:hold_left], p + dj[:hold_left], out=rise[:hold_left])
        else:
            rise[0] = max(rise[0], p - d)
        free = np.maximum.accumulate(rise) - dj
        candidate = np.empty(size, dtype=bool)
        candidate[0] = a[0] >= p
        np.greater_equal(a[1:], free[:-1], out=candidate[1:])
        pos = np.flatnonzero(candidate)
        k = pos.size
        # the next hold after one at pos[i] (value v, held up to sample e): the first
        # candidate j > pos[i] with a[j] >= v while j <= e, or a[j] >= v - d (j - e)
        value = a[pos]
        tables = (_max_table(value), _max_table(value + d * pos)) if k else None

        def following(start, v, e):
            plateau_end = np.searchsorted(pos, e, side="right")
            first = _first_at_least(tables[0], start, v)
            first = np.where(first < plateau_end, first, k)
            later = _first_at_least(tables[1], plateau_end, v + d * e)
            return np.minimum(first, later)

        if k:
            nxt = np.append(following(np.arange(1, k + 1), value, pos + hold + 1), k)
            chain = following(np.zeros(1, dtype=np.int64), np.array([p]), np.array([hold_left]))
            jump = nxt
            while True:  # the chain from the carried-in state, by pointer doubling
                chain = np.union1d(chain, jump[chain])
                if (jump[:k] == k).all():
                    break
                jump = jump[jump]
            holds = pos[chain[chain < k]]
        else:
            holds = pos
        env = free
        if holds.size:  # the line of the last hold: a[m] until m + hold, then falling
            first = int(holds[0])
            spans = np.diff(np.append(holds, size))
            level = np.repeat(a[holds], spans)
            falling = np.repeat(a[holds] + d * (holds + hold), spans) - dj[first:]
            np.maximum(env[first:], np.minimum(level, falling), out=env[first:])
        if holds.size:
            counter = min(size - 1 - int(holds[-1]), hold)
        else:
            counter = min(c + size, hold)
        return env, float(env[-1]), counter
