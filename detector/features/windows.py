"""Compiled inner loops of the scan statistic: the best window of each stream (numba).

Both kernels walk the windows in the order the scan defines (widths in order, then starts in
order) and keep the first window whose log-likelihood ratio beats the best so far, so they
return exactly what the vectorised reference (first ``argmax`` per width, then strict ``>``
across widths) returned. A window scores only when its count ``n`` is above its expectation
``e``; its score is ``table[n] - slope * n - offset`` in the same floating-point operations as
before (the logarithms stay in numpy, precomputed per window by ``scan._llr_terms``).

``best_dense`` reads cumulative counts (one row per stream, every bin); ``best_sparse`` reads
each stream's sorted event bins and visits only the windows that hold an event, so its cost
follows the number of events, not the length of the period.

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


def sparse_cost(total: int, widths: np.ndarray, sizes: np.ndarray) -> int:
    """Windows :func:`best_sparse` visits at most for a stream of ``total`` events."""
    return int(np.minimum(sizes, total * widths).sum()) + total * len(widths)
