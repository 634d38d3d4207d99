"""Compiled inner loops of the scan statistic: the best window of each stream (numba).

Both kernels walk the windows in the order the scan defines (widths in order, then starts in
order) and keep the first window whose log-likelihood ratio beats the best so far, so they
return exactly what the vectorised reference (first ``argmax`` per width, then strict ``>``
across widths) returned. A window scores only when its count ``n`` is above its expectation
``e``; its score is ``table[n] - slope * n - offset`` in the same floating-point operations as
before (the logarithms stay in numpy, precomputed per window by ``scan._llr_terms``).

``best_dense`` reads cumulative counts (one row per stream, every bin); ``best_sparse`` reads
each stream's sorted event bins and visits only the windows that hold an event, so its cost
follows the number of events, not the length of the period. ``best_bounded`` returns what
``best_dense`` returns but skips blocks of windows that cannot reach the best value found (see
:func:`block_bounds`); ``inverse_cdf`` turns uniform numbers into bins as ``Generator.choice``
does, so the Monte Carlo's draws can be taken as plain uniforms and placed in a scoring thread.

Terms layout (``pack_terms``): per width ``j``, ``widths[j]``, first start ``starts[j]``,
number of starts ``sizes[j]``, and the offset ``base[j]`` of its starts in the flat arrays
``slope``, ``offset`` and ``expect``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def pack_terms(terms) -> tuple[np.ndarray, ...]:
    """``scan._llr_terms``' per-width list as flat arrays for the kernels."""
    widths = np.array([t[0] for t in terms], dtype=np.int64)
    starts = np.array([t[1].start for t in terms], dtype=np.int64)
    sizes = np.array([len(t[2]) for t in terms], dtype=np.int64)
    base = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if len(terms) else np.zeros(0, np.int64)
    flat = [np.concatenate([t[i] for t in terms]) if len(terms) else np.zeros(0) for i in (2, 3, 4)]
    return widths, starts, sizes, base, *flat


@njit(cache=True, nogil=True)
def best_dense(c, table, widths, starts, sizes, base, slope, offset, expect):  # pragma: no cover - compiled
    """Best window per row of cumulative counts ``c`` (k x (L + 1)): (max LLR, start bin, width)."""
    k = c.shape[0]
    best = np.zeros(k)
    best_start = np.zeros(k, dtype=np.int64)
    best_width = np.zeros(k, dtype=np.int64)
    for r in range(k):
        value, start, width = 0.0, 0, 0
        for j in range(widths.size):
            w, s0, o = widths[j], starts[j], base[j]
            for i in range(sizes[j]):
                n = c[r, s0 + i + w] - c[r, s0 + i]
                if n > expect[o + i]:
                    v = table[n] - slope[o + i] * n - offset[o + i]
                    if v > value:
                        value, start, width = v, s0 + i, w
        best[r], best_start[r], best_width[r] = value, start, width
    return best, best_start, best_width


@njit(cache=True, nogil=True)
def best_sparse(pos, table, widths, starts, sizes, base, slope, offset, expect):  # pragma: no cover - compiled
    """Best window per row of sorted event bins ``pos`` (k x N): (max LLR, start bin, width).

    Only starts ``s`` whose window ``[s, s + w)`` holds an event are visited (a window with no
    event cannot be above its expectation), in increasing order.
    """
    k, total = pos.shape
    best = np.zeros(k)
    best_start = np.zeros(k, dtype=np.int64)
    best_width = np.zeros(k, dtype=np.int64)
    for r in range(k):
        p = pos[r]
        value, start, width = 0.0, 0, 0
        for j in range(widths.size):
            w, s0, o = widths[j], starts[j], base[j]
            stop = s0 + sizes[j]
            next_s, lo, hi = s0, 0, 0
            for q in range(total):
                a = max(p[q] - w + 1, next_s)
                z = min(p[q] + 1, stop)
                for s in range(a, z):
                    while lo < total and p[lo] < s:
                        lo += 1
                    while hi < total and p[hi] < s + w:
                        hi += 1
                    n = hi - lo
                    i = o + s - s0
                    if n > expect[i]:
                        v = table[n] - slope[i] * n - offset[i]
                        if v > value:
                            value, start, width = v, s, w
                if z > next_s:
                    next_s = z
        best[r], best_start[r], best_width[r] = value, start, width
    return best, best_start, best_width


#: Starts per block of :func:`best_bounded` for narrow widths (a block of a wider width has as
#: many starts as the width): a block's bound reads the count over its starts' union of bins, so
#: blocks must be narrow enough for that count to stay close to one window's.
_BLOCK_STARTS = 8


def block_bounds(packed, total: int) -> tuple[np.ndarray, ...]:
    """Blocks of consecutive windows of one width for :func:`best_bounded`, in scan order.

    Per block: its width's index, first and last start, and the LLR terms of its smallest
    expectation ``e_min``. A window's LLR ``LLR(n, e)`` (for ``n > e``) rises with ``n`` and
    falls with ``e``, so no window of the block beats ``LLR(M, e_min)``, where ``M`` (the events
    in the union of its windows) bounds every window's count from above.
    """
    widths, starts, sizes, base, _slope, _offset, expect = packed
    parts = []
    for j in range(len(widths)):
        step = max(int(widths[j]), _BLOCK_STARTS)
        first = np.arange(0, int(sizes[j]), step)
        last = np.minimum(first + step, int(sizes[j])) - 1
        e_min = np.minimum.reduceat(expect[base[j]:base[j] + sizes[j]], first) if len(first) else np.zeros(0)
        parts.append((np.full(len(first), j, dtype=np.int64), first + starts[j], last + starts[j], e_min))
    if not parts:
        return tuple(np.zeros(0, dtype=t) for t in (np.int64, np.int64, np.int64, float, float, float))
    width_index, first, last, e_min = (np.concatenate([p[i] for p in parts]) for i in range(4))
    log_rest = np.log(total - e_min)
    return width_index, first, last, e_min, np.log(e_min) - log_rest, total * log_rest


@njit(cache=True, nogil=True)
def best_bounded(c, table, widths, starts, sizes, base, slope, offset, expect,
                 block_width, block_first, block_last, block_e, block_slope, block_offset
                 ):  # pragma: no cover - compiled
    """:func:`best_dense`'s result, scoring only the blocks whose bound can reach the best so far.

    The block with the highest bound is scored first (its best is usually the row's); then every
    block in scan order whose bound is not below the best found. Among windows of equal value the
    first in scan order wins, as in :func:`best_dense`. The bound carries a margin far above the
    rounding of either side, so a block is skipped only when it truly cannot tie or win.
    """
    k = c.shape[0]
    blocks = block_width.size
    best = np.zeros(k)
    best_start = np.zeros(k, dtype=np.int64)
    best_width = np.zeros(k, dtype=np.int64)
    bound = np.empty(blocks)
    for r in range(k):
        row = c[r]
        top, top_bound = -1, -np.inf
        for b in range(blocks):
            w = widths[block_width[b]]
            m = row[block_last[b] + w] - row[block_first[b]]
            if m > block_e[b]:
                u = table[m] - block_slope[b] * m - block_offset[b]
                bound[b] = u + 1e-9 * (abs(table[m]) + abs(block_slope[b] * m) + abs(block_offset[b]) + 1.0)
            else:
                bound[b] = -np.inf
            if bound[b] > top_bound:
                top, top_bound = b, bound[b]
        value, found, bj, bs = 0.0, False, 0, 0
        for step in range(blocks + 1):
            b = top if step == 0 else step - 1
            if b < 0 or (step > 0 and b == top) or bound[b] < value or bound[b] == -np.inf:
                continue
            j = block_width[b]
            w, s0, o = widths[j], starts[j], base[j]
            for s in range(block_first[b], block_last[b] + 1):
                n = row[s + w] - row[s]
                i = o + s - s0
                if n > expect[i]:
                    v = table[n] - slope[i] * n - offset[i]
                    if v > value or (found and v == value and (j < bj or (j == bj and s < bs))):
                        value, found, bj, bs = v, True, j, s
        best[r] = value
        if found:
            best_start[r], best_width[r] = bs, widths[bj]
    return best, best_start, best_width


@njit(cache=True, nogil=True)
def cumulative_counts(pos, length):  # pragma: no cover - compiled
    """Cumulative counts per row (k x (length + 1), int32) of the event bins ``pos`` (k x N)."""
    k, total = pos.shape
    c = np.zeros((k, length + 1), dtype=np.int32)
    for r in range(k):
        for q in range(total):
            c[r, pos[r, q] + 1] += 1
        for i in range(length):
            c[r, i + 1] += c[r, i]
    return c


@njit(cache=True, nogil=True)
def inverse_cdf(cdf, guide, u):  # pragma: no cover - compiled
    """``cdf.searchsorted(u, side="right")``: the number of entries of the non-decreasing ``cdf``
    at or below each uniform ``u``, which is how ``Generator.choice(p=...)`` turns its uniforms
    into bins. ``guide[b]`` (:func:`choice_cdf`) is where the search for ``u`` in bucket ``b``
    starts; the two walks end on the exact count whatever the guide says."""
    out = np.empty(u.shape, dtype=np.int64)
    flat_u, flat = u.ravel(), out.ravel()
    length, buckets = cdf.size, guide.size
    for q in range(flat_u.size):
        x = flat_u[q]
        b = min(int(x * buckets), buckets - 1)
        i = guide[max(b, 0)]
        while i > 0 and cdf[i - 1] > x:
            i -= 1
        while i < length and cdf[i] <= x:
            i += 1
        flat[q] = i
    return out


def choice_cdf(shape: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cumulative shape as ``Generator.choice`` computes it, and a guide of one bucket per bin."""
    cdf = np.asarray(shape, dtype=np.float64).cumsum()
    cdf /= cdf[-1]
    guide = cdf.searchsorted(np.arange(len(cdf)) / len(cdf), side="right").astype(np.int64)
    return cdf, guide


def sparse_cost(total: int, widths: np.ndarray, sizes: np.ndarray) -> int:
    """Windows :func:`best_sparse` visits at most for a stream of ``total`` events."""
    return int(np.minimum(sizes, total * widths).sum()) + total * len(widths)
