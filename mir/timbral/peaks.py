"""Peak picking of the timbral models (`timbral_util.detect_peaks` of timbral_models
0.4.0, the MIR toolbox's `mirpeaks`), for many rows of spectra at once.
"""

from __future__ import annotations

import numpy as np


def detect_peaks(array: np.ndarray, unprocessed: np.ndarray, freq: np.ndarray, cthr: float):
    """`detect_peaks` (the MIR toolbox's `mirpeaks` with contrast `cthr`) of each row of
    `array`: flat arrays (row, value, position, index) of every peak, by row and within a
    row strongest first; the value is `unprocessed`'s and the position `freq`'s, both
    parabolically interpolated.

    The candidates of all rows go through the package's left-to-right scan together,
    one candidate rank at a time."""
    rows, width = array.shape
    app = np.full((rows, width + 2), -2.0)
    app[:, 1:-1] = array
    un = np.full((rows, width + 2), -2.0)
    un[:, 1:-1] = unprocessed
    fa = np.concatenate([[-1.0], freq, [-1.0]])
    diff = np.diff(app, axis=1)
    is_max = (array >= cthr) & (diff[:, :-1] > 0) & (diff[:, 1:] <= 0)
    r, c = np.nonzero(is_max)
    c = c + 1  # positions in the appended rows
    counts = np.bincount(r, minlength=rows)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(r.size) - starts[r]
    # the minimum of the appended row between consecutive candidates
    # (the package's slice [mx[jj-1] : mx[jj]-1])
    flat = app.ravel()
    base = r * (width + 2)
    valley = np.full(r.size, 2.0)
    pairs = np.flatnonzero(rank > 0)
    if pairs.size:
        lo = base[pairs - 1] + c[pairs - 1]
        hi = base[pairs] + c[pairs] - 1
        valley[pairs] = np.minimum.reduceat(flat, np.stack([lo, hi], axis=1).ravel())[::2]
    level = app[r, c]
    max_rank = int(counts.max()) if r.size else 0
    accepted = np.zeros(r.size, dtype=bool)
    has = counts > 0
    rows_with = np.flatnonzero(has)
    j = starts.copy()  # index (into the candidate list) of the current peak of each row
    bufmax = np.zeros(rows)
    bufmax[rows_with] = level[starts[rows_with]]
    bufmin = np.full(rows, 2.0)
    oldbufmin = np.full(rows, -2.0)  # min(app[:mx0 - 1]) always meets the -2 in front
    for rk in range(1, max_rank):
        live = rows_with[counts[rows_with] > rk]
        cand = starts[live] + rk
        bmin = np.minimum(bufmin[live], valley[cand])
        bmax, omin, jj = bufmax[live], oldbufmin[live], j[live]
        lev = level[cand]
        notch = bmax - bmin >= cthr
        # no contrastive notch: a higher candidate takes over, a lower one is merged
        higher = ~notch & (lev > bmax)
        lower = ~notch & ~higher & (lev - bmax <= 0)
        # contrastive notch: the current peak is kept if it stands out
        keep_prev = notch & (bmax - omin >= cthr)
        accepted[jj[keep_prev]] = True
        new_omin = np.where(
            notch,
            np.where(keep_prev, bmin, np.minimum(omin, bmin)),
            np.where(higher | lower, np.minimum(omin, bmin), omin),
        )
        new_bmax = np.where(notch | higher, lev, np.where(lower, np.maximum(bmax, lev), bmax))
        new_j = np.where(notch | higher, cand, jj)
        new_bmin = np.where(notch | higher, 2.0, bmin)
        bufmax[live], oldbufmin[live], j[live], bufmin[live] = new_bmax, new_omin, new_j, new_bmin
    last_ok = has & (bufmax - oldbufmin >= cthr)  # min(app[mx[j]+1:]) is the -2 at the end
    accepted[j[last_ok]] = True
    sel = np.flatnonzero(accepted)
    row, mx = r[sel], c[sel]
    order = np.lexsort((-app[row, mx], row))  # by row, strongest first
    row, mx = row[order], mx[order]
    y0 = un[row, mx]
    ym = un[row, mx - 1]
    yp = un[row, np.minimum(mx + 1, width + 1)]
    inner = (mx > 1) & (mx < width)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (yp - ym) / (2 * (2 * y0 - yp - ym))
    value = np.where(inner, y0 - 0.25 * (ym - yp) * p, y0)
    f0, fp, fm = fa[mx], fa[np.minimum(mx + 1, width + 1)], fa[mx - 1]
    pos = np.where(inner, np.where(p >= 0, (1 - p) * f0 + p * fp, (1 + p) * f0 - p * fm), f0)
    return row, value, pos, mx - 1
