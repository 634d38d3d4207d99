"""The scan's faster Monte Carlo paths give exactly what the plain ones gave.

- the draws are ``Generator.choice``'s own uniforms, turned into bins by a compiled exact search
  (:func:`~detector.features.windows.inverse_cdf`), so the same seed gives the same bins;
- multinomial rows are drawn by a compiled copy of NumPy's algorithm
  (:func:`~detector.features.draws.multinomial_rows`): the same counts, the generator left alike;
- rows of cumulative counts are built in one compiled pass instead of ``bincount`` and ``cumsum``;
- :func:`~detector.features.windows.best_bounded` skips blocks of windows that cannot reach the
  best value and returns :func:`~detector.features.windows.best_dense`'s window, ties included;
- the null maxima of a stream equal those of the plain path (``choice`` or ``multinomial``, every
  window scored).
"""

from __future__ import annotations

import numpy as np
import pytest

from detector.features.draws import multinomial_rows, multinomial_terms
from detector.features.scan import _llr_terms, _null_maxima, _use_sparse, draws_positions
from detector.features.windows import (
    best_bounded,
    best_dense,
    best_sparse,
    block_bounds,
    choice_cdf,
    cumulative_counts,
    inverse_cdf,
    pack_terms,
)
from detector.params import DEFAULTS

WIDTHS = DEFAULTS.scan_widths_h


def _shapes(rng, length: int) -> dict[str, np.ndarray]:
    """Baselines of several kinds: smooth, flat (many equal windows: ties), zero before a
    publication bin, and few distinct values (equal expectations far apart)."""
    zeroed = np.ones(length)
    zeroed[: length // 3] = 0.0
    shapes = {"cycle": 1 + 0.6 * np.sin(np.arange(length) * 2 * np.pi / 24) * rng.uniform(0.5, 1.5, length),
              "flat": np.ones(length), "published late": zeroed, "steps": np.round(rng.uniform(1, 3, length))}
    return {name: s / s.sum() for name, s in shapes.items()}


@pytest.mark.parametrize("total", [1, 7, 150, 600])
def test_inverse_cdf_gives_the_bins_generator_choice_draws_from_the_same_uniforms(total):
    rng = np.random.default_rng(total)
    for name, shape in _shapes(rng, 24 * 40).items():
        plain = np.random.default_rng(5)
        expected = plain.choice(len(shape), size=(30, total), p=shape)
        ours = np.random.default_rng(5)
        got = inverse_cdf(*choice_cdf(shape), ours.random((30, total)))
        np.testing.assert_array_equal(got, expected, err_msg=name)
        # and the generator is left where choice leaves it
        np.testing.assert_array_equal(ours.random(4), plain.random(4))


def test_inverse_cdf_finds_the_exact_count_whatever_the_guide_says():
    cdf = np.array([0.0, 0.25, 0.25, 0.5, 0.75, 1.0])
    u = np.array([0.0, 0.1, 0.25, 0.2500001, 0.5, 0.99, 0.75])
    expected = cdf.searchsorted(u, side="right")
    for guide in (np.zeros(6, dtype=np.int64), np.full(6, 6, dtype=np.int64), choice_cdf(np.diff(cdf, prepend=0))[1]):
        np.testing.assert_array_equal(inverse_cdf(cdf, guide, u), expected)


@pytest.mark.parametrize("total", [1, 70, 600, 3000, 25_000, 400_000])
def test_compiled_multinomial_rows_are_numpys_and_leave_the_generator_alike(total):
    """Totals small and large enough for both of NumPy's binomial algorithms (inversion, BTPE),
    and baselines whose conditional probabilities pass 1/2 (a heavy last stretch)."""
    rng = np.random.default_rng(total)
    length = 24 * 60
    shapes = _shapes(rng, length)
    heavy_end = np.ones(length)
    heavy_end[-30:] = 200.0
    shapes["heavy end"] = heavy_end / heavy_end.sum()
    for name, shape in shapes.items():
        plain = np.random.default_rng(9)
        expected = plain.multinomial(total, shape, size=25)
        ours = np.random.default_rng(9)
        got = multinomial_rows(ours, total, 25, length, *multinomial_terms(shape))
        np.testing.assert_array_equal(got, expected, err_msg=name)
        np.testing.assert_array_equal(ours.random(4), plain.random(4), err_msg=name)


def test_cumulative_counts_equal_bincount_then_cumsum():
    rng = np.random.default_rng(1)
    pos = rng.integers(0, 500, size=(12, 90))
    expected = np.zeros((12, 501), dtype=np.int32)
    expected[:, 1:] = np.cumsum([np.bincount(p, minlength=500) for p in pos], axis=1)
    got = cumulative_counts(pos, 500)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("total", [1, 3, 20, 150, 600, 2000])
@pytest.mark.parametrize("start_range", [None, (100, 500)])
def test_bounded_blocks_give_the_window_of_scoring_every_window(total, start_range):
    rng = np.random.default_rng(total)
    length = 24 * 30
    for name, shape in _shapes(rng, length).items():
        table, terms = _llr_terms(shape, total, WIDTHS, start_range)
        packed = pack_terms(terms)
        pos = rng.choice(length, size=(40, total), p=shape)
        pos[::4, : max(1, total // 3)] = pos[::4, :1]       # planted bursts in a quarter of the rows
        c = cumulative_counts(pos, length)
        expected = best_dense(c, table, *packed)
        got = best_bounded(c, table, *packed, *block_bounds(packed, total))
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_equal_windows_keep_the_first_in_scan_order_when_blocks_are_skipped():
    # A flat baseline and two identical clumps: equal best values at two starts; the first wins.
    length, total = 24 * 20, 12
    shape = np.ones(length) / length
    table, terms = _llr_terms(shape, total, WIDTHS)
    packed = pack_terms(terms)
    pos = np.array([[30] * 6 + [400] * 6, [400] * 6 + [30] * 6, [7] * 12])
    c = cumulative_counts(np.sort(pos, axis=1), length)
    expected = best_dense(c, table, *packed)
    got = best_bounded(c, table, *packed, *block_bounds(packed, total))
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    assert list(got[1][:2]) == [30, 30]


def _plain_null_maxima(shape, total, widths, replicates, seed):
    """The null maxima as drawn and scored before the fast paths: ``choice`` (or ``multinomial``)
    in chunks, every window scored by ``best_dense`` (or ``best_sparse``)."""
    rng = np.random.default_rng(seed)
    length = len(shape)
    table, terms = _llr_terms(shape, total, widths)
    packed = pack_terms(terms)
    sparse = _use_sparse(total, packed)
    positions = draws_positions(total, length)
    chunk = int(min(200, max(1, 1_000_000 // max(length, total if positions else 1, 1))))
    out, done = [], 0
    while done < replicates:
        k = min(chunk, replicates - done)
        if positions:
            pos = np.sort(rng.choice(length, size=(k, total), p=shape), axis=1)
            if sparse:
                out.append(best_sparse(pos, table, *packed)[0])
            else:
                counts = np.bincount((pos + (np.arange(k) * length)[:, None]).ravel(), minlength=k * length)
                c = np.zeros((k, length + 1), dtype=np.int32)
                np.cumsum(counts.reshape(k, length), axis=1, out=c[:, 1:])
                out.append(best_dense(c, table, *packed)[0])
        else:
            draws = rng.multinomial(total, shape, size=k)
            c = np.zeros((k, length + 1), dtype=np.int32)
            np.cumsum(draws, axis=1, out=c[:, 1:])
            out.append(best_dense(c, table, *packed)[0])
        done += k
    return np.concatenate(out)


@pytest.mark.parametrize("total", [2, 40, 150, 300, 1500, 2600])
def test_null_maxima_equal_those_of_choice_or_multinomial_draws_scored_in_full(total):
    rng = np.random.default_rng(total)
    length = 24 * 90
    for name, shape in _shapes(rng, length).items():
        expected = _plain_null_maxima(shape, total, WIDTHS, 199, seed=17)
        got = _null_maxima(shape, total, WIDTHS, 199, np.random.default_rng(17))
        np.testing.assert_array_equal(got, expected, err_msg=name)
