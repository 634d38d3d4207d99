"""``Generator.multinomial`` for many rows of one baseline, compiled: the same numbers, faster.

The scan's Monte Carlo draws a multinomial row (the notices of a stream spread over every hourly
bin) per replicate. NumPy draws a row bin by bin, one binomial per bin of the notices not yet
placed, with probability ``p[j] / (1 - p[0] - ... - p[j-1])``; each binomial recomputes a
logarithm from that probability. Those probabilities are the same for every row of a baseline,
so here they and their logarithms are computed once, and the rows are drawn with NumPy's own
algorithms (inversion, or BTPE for large means, as numba ports them) from the generator's own
bit stream: the same counts, and the generator left in the same state, as
``rng.multinomial(total, shape, size=k)``. It also runs without the GIL.

NumPy's ``random_multinomial`` and ``random_binomial`` (numpy/random/src/distributions), whose
operations this follows one for one: ``tests/test_scan_fast_paths.py`` checks the counts against
NumPy's on many baselines and totals.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.np.random.distributions import random_binomial_btpe
from numba.np.random.generator_core import next_double


def multinomial_terms(shape: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per bin (the last left out, as NumPy does): the conditional probability ``p``, the
    probability the binomial is drawn with (``p`` or ``1 - p``, whichever is at most 1/2) and
    ``log(1 - that)``, in NumPy's floating-point operations (the logarithm as the C library
    computes it, as NumPy's binomial does, not NumPy's vectorised one)."""
    return _terms(np.ascontiguousarray(shape, dtype=np.float64))


@njit(cache=True, nogil=True)
def _terms(pix):  # pragma: no cover - compiled
    m = max(pix.size - 1, 0)
    p, small, log_q = np.empty(m), np.empty(m), np.empty(m)
    remaining = 1.0
    for j in range(m):
        p[j] = pix[j] / remaining
        remaining -= pix[j]
        small[j] = p[j] if p[j] <= 0.5 else 1.0 - p[j]
        log_q[j] = np.log(1.0 - small[j])
    return p, small, log_q


@njit(cache=True, nogil=True)
def _inversion(bitgen, n, p, q, log_q):  # pragma: no cover - compiled
    """NumPy's ``random_binomial_inversion`` with ``q = 1 - p`` and ``log(q)`` given."""
    qn = np.exp(n * log_q)
    mean = n * p
    bound = -1.0
    x = 0
    px = qn
    u = next_double(bitgen)
    while u > px:
        x = x + 1
        if bound < 0.0:        # only read past the first step; the same value as NumPy's
            bound = min(n, mean + 10.0 * np.sqrt(mean * q + 1))
        if x > bound:
            x = 0
            px = qn
            u = next_double(bitgen)
        else:
            u -= px
            px = ((n - x + 1) * p * px) / (x * q)
    return x


@njit(cache=True, nogil=True)
def multinomial_rows(rng, total, k, length, p, small, log_q):  # pragma: no cover - compiled
    """``rng.multinomial(total, shape, size=k)`` (k x length int64), from
    :func:`multinomial_terms` of ``shape``."""
    bitgen = rng.bit_generator
    out = np.zeros((k, length), dtype=np.int64)
    for r in range(k):
        dn = total
        for j in range(length - 1):
            pj = p[j]
            if dn == 0 or pj == 0.0:
                x = 0
            else:
                s = small[j]
                if s * dn <= 30.0:
                    x = _inversion(bitgen, dn, s, 1.0 - s, log_q[j])
                else:
                    x = random_binomial_btpe(bitgen, dn, s)
                if pj > 0.5:
                    x = dn - x
            out[r, j] = x
            dn = dn - x
            if dn <= 0:
                break
        if dn > 0:
            out[r, length - 1] = dn
    return out
