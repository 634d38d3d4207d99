"""Temporal scan statistic for bursts of notices, with a Monte Carlo p-value.

Kulldorff's (1997) Poisson scan statistic in one dimension (time): every window of every
scanned width is compared with what the stream's own baseline (see :mod:`.baseline`) expects
there, by the log-likelihood ratio

    LLR(n, e) = n log(n/e) + (N - n) log((N - n)/(N - e))     for n > e, else 0

where ``N`` is the stream's total, ``n`` the window's count and ``e = N * share`` its expected
count. The statistic is the largest LLR over all windows. Its null distribution comes from
Monte Carlo: ``N`` events are redrawn over the hourly bins with the baseline's probabilities
(a multinomial, i.e. conditional on ``N``; drawn event by event when that is cheaper, see
:func:`draws_positions`), and the maximum is taken again, so the p-value is
corrected for every window scanned (Kulldorff 1997; Naus 1965). Replicates that tie with the
observed statistic (common when a stream has few notices) count with a random weight, so the
p-value is close to uniform under the null instead of conservative; the calibration benchmark
checks this on simulated cases with no campaign.

References
----------
Kulldorff M. (1997) A spatial scan statistic. Communications in Statistics 26:1481-1496.
Kulldorff M. et al. (1998) Evaluating cluster alarms: a space-time scan statistic. AJPH 88.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial

import numpy as np

from detector.features.draws import multinomial_rows, multinomial_terms
from detector.features.windows import (
    best_bounded,
    best_dense,
    best_sparse,
    block_bounds,
    choice_cdf,
    cumulative_counts,
    inverse_cdf,
    pack_terms,
    sparse_cost,
)
from detector.params import DEFAULTS

# Widths scanned, in hours: from one hour to one week.
WIDTHS_HOURS = DEFAULTS.scan_widths_h     # declared, with its meaning, in detector.params


@dataclass(frozen=True)
class ScanResult:
    """The most unusual window of a stream and its corrected p-value."""

    statistic: float          # max LLR
    start_bin: int            # first bin of the best window
    width: int                # bins
    observed: int
    expected: float
    total: int
    p_value: float            # Monte Carlo, corrected for all windows scanned
    p_floor: float            # smallest p-value attainable with these replicates
    windows: int              # windows scanned
    replicates: int
    null_max: np.ndarray      # the Monte Carlo maxima (for scoring other windows of this stream)

    @property
    def rate_ratio(self) -> float:
        return self.observed / self.expected if self.expected > 0 else float("inf")


def _llr(n: np.ndarray, e: np.ndarray, total: int) -> np.ndarray:
    """Kulldorff's Poisson LLR, zero where the window is not above expectation."""
    n = n.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = np.where(n > 0, n * np.log(n / e), 0.0)
        rest = total - n
        outside = np.where(rest > 0, rest * np.log(rest / (total - e)), 0.0)
        out = inside + outside
    return np.where((n > e) & (e > 0), out, 0.0)


def _starts(length: int, w: int, start_range: tuple[int, int] | None) -> slice:
    """Start bins of width-``w`` windows, limited to ``start_range`` when given."""
    last = length - w + 1
    if start_range is None:
        return slice(0, last)
    return slice(max(0, start_range[0]), max(max(0, start_range[0]), min(last, start_range[1])))


def _llr_terms(shape: np.ndarray, total: int, widths, start_range: tuple[int, int] | None = None):
    """Precomputed pieces of the LLR for every window of a stream of ``total`` events.

    LLR(n, e) = T[n] - n (log e - log(N - e)) - N log(N - e), with T[n] = n log n + (N - n) log(N - n):
    one table lookup and a multiply-add per window instead of two logarithms.
    """
    s = np.concatenate([[0.0], np.cumsum(shape)]) * total
    length = len(shape)
    n_all = np.arange(total + 1, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = (np.where(n_all > 0, n_all * np.log(n_all), 0.0)
                 + np.where(total - n_all > 0, (total - n_all) * np.log(total - n_all), 0.0))
    terms = []
    for w in widths:
        if w > length:
            break
        sl = _starts(length, w, start_range)
        if sl.stop <= sl.start:
            continue
        e = (s[w:] - s[:-w])[sl]
        e = np.clip(e, 1e-300, total * (1 - 1e-12))
        log_rest = np.log(total - e)
        terms.append((w, sl, np.log(e) - log_rest, total * log_rest, e))
    return table, terms


def _rows_max(c: np.ndarray, table: np.ndarray, terms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best window per row of cumulative counts ``c`` (k x (L + 1)): (max LLR, start bin, width)."""
    return best_dense(c, table, *pack_terms(terms))


def _use_sparse(total: int, packed) -> bool:
    """Visit only the windows holding events when that is clearly fewer than every window.

    Either kernel gives the same result; this only picks the cheaper. Under the baseline a window
    whose expectation is ``e`` holds an event with probability about ``1 - exp(-e)``, so a draw is
    expected to visit ``sum(1 - exp(-e))`` windows (plus one step per event and width): on a long
    case whose events gather in a few months that is far below the bound ``total * width``.
    """
    widths, sizes, expect = packed[0], packed[2], packed[6]
    windows = int(sizes.sum())
    if 2 * sparse_cost(total, widths, sizes) < windows:
        return True
    return 2 * (float(-np.expm1(-expect).sum()) + total * len(widths)) < windows


#: Streams of up to this many events score all windows with :func:`~.windows.best_bounded`
#: (3x faster than scoring every window at a few hundred events); above it the counts of
#: neighbouring windows are too alike for the blocks' bounds to skip much.
_BOUNDED_MAX_TOTAL = 2_000


def _blocks(packed, total: int) -> tuple[np.ndarray, ...] | None:
    """The blocks :func:`_dense_best` bounds for a stream of ``total`` events, or None when it
    scores every window (made once per stream: the Monte Carlo scores it chunk after chunk)."""
    return block_bounds(packed, total) if total <= _BOUNDED_MAX_TOTAL else None


def _dense_best(c: np.ndarray, table: np.ndarray, packed, blocks: tuple[np.ndarray, ...] | None
                ) -> tuple[np.ndarray, ...]:
    """Best window per row of cumulative counts ``c``: every window scored, or bounded ``blocks``
    (:func:`_blocks`) skipped (:func:`~.windows.best_bounded`, the same result) when that is cheaper."""
    if blocks is not None:
        return best_bounded(c, table, *packed, *blocks)
    return best_dense(c, table, *packed)


def _best_of_events(pos: np.ndarray, length: int, table: np.ndarray, packed, sparse: bool | None = None
                    ) -> tuple[np.ndarray, ...]:
    """Best window per row of sorted event bins ``pos`` (k x N), sparse or dense by cost (``sparse``,
    when the caller has already chosen, as :func:`_use_sparse` would)."""
    if _use_sparse(pos.shape[1], packed) if sparse is None else sparse:
        return best_sparse(pos, table, *packed)
    return _dense_best(cumulative_counts(pos, length), table, packed, _blocks(packed, pos.shape[1]))


#: Bins of Monte Carlo draws held at once per chunk (replicates x bins): bounds memory on long cases.
_CHUNK_BINS = 1_000_000


def _null_jobs(shape: np.ndarray, total: int, widths, replicates: int, rng: np.random.Generator,
               start_range: tuple[int, int] | None = None):
    """The Monte Carlo replicates as jobs, one per chunk: the draws are made here, in order (the
    random stream is sequential), and each job scores its chunk (which may run in another thread).

    Chunks of any size take the same draws: each replicate reads the next numbers of the stream.
    """
    length = len(shape)
    table, terms = _llr_terms(shape, total, widths, start_range)
    packed = pack_terms(terms)
    sparse = _use_sparse(total, packed)
    blocks = None if sparse else _blocks(packed, total)
    positions = draws_positions(total, length)
    if positions:
        cdf = choice_cdf(shape)
    else:
        by_bin = multinomial_terms(shape)
    chunk = int(min(200, max(1, _CHUNK_BINS // max(length, total if positions else 1, 1))))
    done = 0
    while done < replicates:
        k = min(chunk, replicates - done)
        if positions:
            # ``rng.choice(length, size=(k, total), p=shape)``'s own uniforms, turned into bins by the
            # job: the same draws, but the search (most of choice's cost) leaves the drawing thread.
            yield partial(_score_uniforms, rng.random((k, total)), cdf, length, table, packed, sparse, blocks)
        else:
            # ``rng.multinomial(total, shape, size=k)``, compiled (the same counts, see .draws).
            yield partial(_score_draws, multinomial_rows(rng, total, k, length, *by_bin), total, sparse, table, packed,
                          blocks)
        done += k


#: A multinomial row costs one binomial per bin (~17 ns); drawing an event's bin costs a uniform,
#: a search of the cumulative shape and its share of a sort (~130 ns). Positions are drawn when
#: they are clearly cheaper, so a stream's cost follows its events, not the length of the period.
_POSITION_COST_BINS = 8


def draws_positions(total: int, length: int) -> bool:
    """Whether the Monte Carlo null of a stream of ``total`` events over ``length`` bins draws event
    positions (one inverse-CDF draw per event) rather than a multinomial row per replicate.

    Both are exact draws of the same null (a multinomial given ``N`` is ``N`` independent draws of
    a bin with the baseline's probabilities); only the random numbers used differ. The choice
    depends on the sizes alone, so the same seed still gives the same p-values.
    """
    return total <= 64 or total * _POSITION_COST_BINS <= length


def _score_uniforms(u: np.ndarray, cdf: tuple[np.ndarray, np.ndarray], length: int, table: np.ndarray, packed,
                    sparse: bool, blocks) -> np.ndarray:
    """Best LLR of each row of events drawn by the uniforms ``u`` (k x N) through ``cdf``
    (:func:`~.windows.choice_cdf`); only the sparse kernel needs each row's bins sorted."""
    pos = inverse_cdf(*cdf, u)
    if sparse:
        return best_sparse(np.sort(pos, axis=1), table, *packed)[0]
    return _dense_best(cumulative_counts(pos, length), table, packed, blocks)[0]


def _score_draws(draws: np.ndarray, total: int, sparse: bool, table: np.ndarray, packed, blocks) -> np.ndarray:
    k, length = draws.shape
    if sparse:
        pos = np.repeat(np.tile(np.arange(length), k), draws.ravel()).reshape(k, total)
        return best_sparse(pos, table, *packed)[0]
    c = np.zeros((k, length + 1), dtype=np.int32)
    np.cumsum(draws, axis=1, out=c[:, 1:])
    return _dense_best(c, table, packed, blocks)[0]


def _run_jobs(jobs, pool: Executor | None, ahead: int = 3):
    """Run ``jobs`` inline or in ``pool`` (at most ``ahead`` waiting); returns a function giving their
    results concatenated in order. The jobs are drawn from the generator here, in order."""
    if pool is None:
        out = np.concatenate([job() for job in jobs])
        return lambda: out
    futures: list = []
    waiting: deque = deque()
    for job in jobs:
        while len(waiting) >= ahead:
            waiting.popleft().result()
        fut = pool.submit(job)
        futures.append(fut)
        waiting.append(fut)
    return lambda: np.concatenate([f.result() for f in futures])


def _null_maxima(shape: np.ndarray, total: int, widths, replicates: int, rng: np.random.Generator,
                 start_range: tuple[int, int] | None = None, pool: Executor | None = None) -> np.ndarray:
    """Maximum LLR over all windows for ``replicates`` streams drawn under the baseline."""
    return _run_jobs(_null_jobs(shape, total, widths, replicates, rng, start_range), pool)()


def _windows(length: int, widths, start_range: tuple[int, int] | None = None) -> int:
    return sum(max(0, _starts(length, w, start_range).stop - _starts(length, w, start_range).start) for w in widths)


def _empty(widths, windows: int) -> ScanResult:
    return ScanResult(0.0, 0, widths[0], 0, 0.0, 0, 1.0, 1.0, windows, 0, np.zeros(0))


def scan_many(events: list[np.ndarray], shape: np.ndarray, replicates: int = 199, seed: int = 0,
              widths=WIDTHS_HOURS, pool: Executor | None = None) -> list[ScanResult]:
    """:func:`scan_events` for many streams that share one baseline ``shape`` (e.g. a subject's videos).

    Under the baseline the null distribution of the maximum depends only on the number of
    events, so streams with the same total share one Monte Carlo run: thousands of targets cost
    one null per distinct total. Each stream still gets its own tie-breaking draw.

    Parameters
    ----------
    events : per stream, the sorted hourly bins of its events (one entry per event).
    pool : threads that score the Monte Carlo chunks while the next ones are drawn (the draws
        and tie-breaks are taken in the same order as without, so the results are the same).
    """
    shape = np.asarray(shape, dtype=float)
    length = len(shape)
    widths = tuple(w for w in widths if w <= length) or (length,)
    windows = _windows(length, widths)
    totals = np.array([len(e) for e in events], dtype=np.int64)
    rng = np.random.default_rng(seed)
    results: list[ScanResult | None] = [None] * len(events)
    pending = []
    for total in np.unique(totals):
        idx = np.flatnonzero(totals == total)
        if total == 0:
            for i in idx:
                results[i] = _empty(widths, windows)
            continue
        # Draws first, then one tie-breaking number per stream above zero, as in a plain loop.
        null = _run_jobs(_null_jobs(shape, int(total), widths, replicates, rng), pool)
        table, terms = _llr_terms(shape, int(total), widths)
        pos = np.stack([np.asarray(events[i], dtype=np.int64) for i in idx])
        stat, start, width = _best_of_events(pos, length, table, pack_terms(terms))
        ties = [rng.uniform() if stat[j] > 0 else 0.0 for j in range(len(idx))]
        pending.append((total, idx, pos, stat, start, width, ties, null))
    for total, idx, pos, stat, start, width, ties, null in pending:
        null = null()
        for j, i in enumerate(idx):
            st, w = int(start[j]), int(width[j]) or widths[0]
            observed = int(np.count_nonzero((pos[j] >= st) & (pos[j] < st + w)))
            expected = float(shape[st:st + w].sum() * total)
            results[i] = ScanResult(float(stat[j]), st, w, observed, expected, int(total),
                                    tie_broken_p(float(stat[j]), null, u=ties[j]), 1.0 / (replicates + 1),
                                    windows, replicates, null)
    return results


def scan(counts: np.ndarray, shape: np.ndarray, replicates: int = 999, seed: int = 0,
         widths=WIDTHS_HOURS, start_range: tuple[int, int] | None = None, settle_zero: bool = False) -> ScanResult:
    """Scan one stream of binned counts against its baseline ``shape`` (probabilities per bin).

    Parameters
    ----------
    counts : events per hourly bin.
    shape : the baseline's probability of each bin (sums to 1), from
        :func:`detector.features.baseline.expected_shape`.
    replicates : Monte Carlo replicates; the smallest attainable p is ``1 / (replicates + 1)``.
    seed : seeds the Monte Carlo draws and the tie-breaking.
    start_range : scan only windows starting in these bins ``[a, b)`` (chosen before looking at
        the notices, e.g. the hours after a call), which the Monte Carlo null scans alike.
    settle_zero : as in :func:`scan_events`.
    """
    counts = np.asarray(counts)
    return scan_events(np.repeat(np.arange(len(counts)), counts), shape, replicates=replicates, seed=seed,
                       widths=widths, start_range=start_range, settle_zero=settle_zero)


def scan_events(events: np.ndarray, shape: np.ndarray, replicates: int = 999, seed: int = 0,
                widths=WIDTHS_HOURS, start_range: tuple[int, int] | None = None,
                pool: Executor | None = None, settle_zero: bool = False) -> ScanResult:
    """:func:`scan` of a stream given as the sorted hourly bins of its events (one per event);
    ``pool`` as in :func:`scan_many`.

    ``settle_zero``: when no scanned window is above its expectation (the statistic is 0, e.g. no
    notice after a campaign's calls), the p-value is 1 whatever the null gives
    (:func:`tie_broken_p`), so the Monte Carlo is skipped and ``null_max`` is left empty. Only for
    callers that use the p-value alone (the same seed still gives every other number the same).
    """
    events = np.asarray(events, dtype=np.int64)
    shape = np.asarray(shape, dtype=float)
    length = len(shape)
    total = len(events)
    rng = np.random.default_rng(seed)
    widths = tuple(w for w in widths if w <= length) or (length,)
    windows = _windows(length, widths, start_range)
    if total == 0:
        return _empty(widths, windows)
    # The observed stream goes through the same LLR code as the Monte Carlo replicates.
    table, terms = _llr_terms(shape, total, widths, start_range)
    best, best_start, best_width = _best_of_events(events[None, :], length, table, pack_terms(terms))
    stat, start, width = float(best[0]), int(best_start[0]), int(best_width[0]) or widths[0]
    observed = int(np.count_nonzero((events >= start) & (events < start + width)))
    expected = float(shape[start:start + width].sum() * total)
    if settle_zero and stat <= 0:
        return ScanResult(stat, start, width, observed, expected, total, 1.0, 1.0 / (replicates + 1), windows,
                          replicates, np.zeros(0))
    null = _null_maxima(shape, total, widths, replicates, rng, start_range=start_range, pool=pool)
    p = tie_broken_p(stat, null, rng)
    return ScanResult(stat, start, width, observed, expected, total, p, 1.0 / (replicates + 1), windows,
                      replicates, null)


def tie_broken_p(stat: float, null: np.ndarray, rng: np.random.Generator | None = None, rtol: float = 1e-9,
                 u: float | None = None) -> float:
    """Monte Carlo p-value ``(1 + #{null > stat} + U * #{null == stat}) / (R + 1)``.

    Replicates that tie with the observed statistic count with a uniform random weight: a
    discrete statistic (few notices) would otherwise pile its p-values up near 1 and make the
    test conservative. With no ties this is the usual ``(1 + #{null >= stat}) / (R + 1)``, and
    it is never below ``1 / (R + 1)``. A stream with no notice at all has p = 1. ``u``, when
    given, is the uniform number already drawn for this stream (instead of drawing from ``rng``).
    """
    tol = rtol * max(1.0, abs(stat))
    greater = int(np.sum(null > stat + tol))
    ties = int(np.sum(np.abs(null - stat) <= tol))
    if stat <= 0:
        return 1.0
    return float((1 + greater + (rng.uniform() if u is None else u) * ties) / (len(null) + 1))


def interval_p(events: np.ndarray, shape: np.ndarray, start_bin: int, stop_bin: int, null_max: np.ndarray
               ) -> tuple[float, int, float]:
    """Corrected p-value of a given interval (e.g. a Kleinberg burst) against a stream's null maxima.

    ``events``: the sorted hourly bins of the stream's events. Returns (p, observed, expected).
    The p-value is conservative: ties count against the interval.
    """
    total = len(events)
    n = int(np.searchsorted(events, stop_bin, side="left") - np.searchsorted(events, start_bin, side="left"))
    e = float(np.sum(shape[start_bin:stop_bin]) * total)
    llr = float(_llr(np.array([n]), np.array([e]), total)[0]) if total else 0.0
    if len(null_max) == 0:
        return 1.0, n, e
    p = (1 + int(np.sum(null_max >= llr - 1e-9 * max(1.0, llr)))) / (len(null_max) + 1)
    return float(p), n, e
